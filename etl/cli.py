"""`bizenv` — the command line. Each subcommand lives in etl/commands/<name>.py and provides
HELP (one line), EXAMPLE (shown under --help), add_arguments(parser) and run(args) -> int.

User errors (kpi.errors.BizenvError) become one clear Chinese message and a non-zero exit,
never a traceback; so does anything unexpected (exit 3), with the traceback saved to a log file
for the maintainers.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import re
import sys

from kpi.errors import BizenvError, machine_problem

# name → module; order is the order `bizenv --help` lists them.
COMMANDS = {
    "sample": "etl.commands.sample",
    "load": "etl.commands.load",
    "profile": "etl.commands.profile",
    "status": "etl.commands.status",
    "validate": "etl.commands.validate",
    "build": "etl.commands.build",
    "template": "etl.commands.template",
    "export": "etl.commands.export",
    "reset": "etl.commands.reset",
    "user": "etl.commands.user",
    "kiosk": "etl.commands.kiosk",
    "db": "etl.commands.db",
    "job": "etl.commands.job",
    "scheduler": "etl.commands.scheduler",
    "filing": "etl.commands.filing",
}
# Commands whose own steps write the audit log in detail (office.accounts, etl.commands.db).
SELF_AUDITED = {"user", "kiosk", "db", "job", "scheduler", "filing"}


# argparse's own words, in Chinese. Its messages are English format strings filled in before they
# reach `error()`; these patterns (Python 3.11–3.13 wording) turn each into a Chinese sentence.
_SECTION_TITLES = {
    "positional arguments": "位置参数",
    "options": "选项",
    "optional arguments": "选项",  # Python < 3.10
}
_ERRORS: list[tuple[re.Pattern, str]] = [
    (
        re.compile(r"^argument 命令: invalid choice: (.+?) \(choose from (.+)\)$"),
        r"没有命令 \1（可用的命令：\2）",
    ),
    (re.compile(r"^the following arguments are required: (.+)$"), r"缺少必需的参数：\1"),
    (re.compile(r"^one of the arguments (.+) is required$"), r"必须给出以下参数之一：\1"),
    (re.compile(r"^unrecognized arguments: (.+)$"), r"无法识别的参数：\1（可用的参数见 --help）"),
    (
        re.compile(r"^argument (.+?): invalid choice: (.+?) \(choose from (.+)\)$"),
        r"参数 \1 的取值 \2 无效（可选：\3）",
    ),
    (re.compile(r"^argument (.+?): invalid int value: (.+)$"), r"参数 \1 应为整数，而不是 \2"),
    (re.compile(r"^argument (.+?): invalid float value: (.+)$"), r"参数 \1 应为数字，而不是 \2"),
    (re.compile(r"^argument (.+?): invalid (.+?) value: (.+)$"), r"参数 \1 的取值 \3 无效"),
    (re.compile(r"^argument (.+?): expected one argument$"), r"参数 \1 后面需要一个值"),
    (
        re.compile(r"^argument (.+?): expected at least one argument$"),
        r"参数 \1 后面至少需要一个值",
    ),
    (
        re.compile(r"^argument (.+?): expected at most one argument$"),
        r"参数 \1 后面最多只能有一个值",
    ),
    (re.compile(r"^argument (.+?): expected (\d+) arguments?$"), r"参数 \1 后面需要 \2 个值"),
    (
        re.compile(r"^argument (.+?): not allowed with argument (.+)$"),
        r"参数 \1 不能与 \2 同时使用",
    ),
    (
        re.compile(r"^argument (.+?): ignored explicit argument (.+)$"),
        r"参数 \1 不接受取值（多余的 \2）",
    ),
    (re.compile(r"^ambiguous option: (.+?) could match (.+)$"), r"选项 \1 不明确，可能是：\2"),
    (re.compile(r"^argument (.+?): (.+)$"), r"参数 \1：\2"),
]


def chinese_error(message: str) -> str:
    """argparse's English error message as a Chinese sentence (unknown ones are left as they are)."""
    for pattern, replacement in _ERRORS:
        if pattern.match(message):
            return pattern.sub(replacement, message)
    return message


class ChineseHelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Help in Chinese: 用法： and the section titles; descriptions and epilogs kept as written."""

    def add_usage(self, usage, actions, groups, prefix=None):
        super().add_usage(usage, actions, groups, "用法：" if prefix is None else prefix)

    def start_section(self, heading):
        super().start_section(_SECTION_TITLES.get(heading, heading))

    def format_help(self):
        text = super().format_help()
        for title in set(_SECTION_TITLES.values()):  # argparse ends a heading with an ASCII colon
            text = text.replace(f"{title}:\n", f"{title}：\n")
        return text


class ChineseArgumentParser(argparse.ArgumentParser):
    """An ArgumentParser whose own words (-h help, errors) are Chinese; subcommands inherit it."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", ChineseHelpFormatter)
        add_help = kwargs.pop("add_help", True)
        super().__init__(*args, add_help=False, **kwargs)
        if add_help:
            self.add_argument("-h", "--help", action="help", help="显示本帮助并退出")

    def error(self, message: str):
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}：错误：{chinese_error(message)}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = ChineseArgumentParser(
        prog="bizenv",
        description="bizenv 营商环境指标看板：导入办件、12345、好差评和指标填报数据，按 metrics.yaml 计算评分。",
        epilog="每个命令的用法：bizenv <命令> --help",
    )
    sub = parser.add_subparsers(dest="command", metavar="命令")
    for name, module_name in COMMANDS.items():
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as err:
            if err.name != module_name:
                raise
            continue  # a command not built yet is simply not offered
        p = sub.add_parser(
            name,
            help=module.HELP,
            description=module.HELP,
            epilog="示例：\n" + module.EXAMPLE,
        )
        module.add_arguments(p)
        p.set_defaults(_run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "_run", None):
        parser.print_help()
        return 0
    from kpi import logs
    from kpi.settings import DataDir

    # Resolved once, here: every step of the command (load, build, publish, logs) uses this folder.
    data_dir = DataDir.of(getattr(args, "data_dir", None))
    if hasattr(args, "data_dir"):
        args.data_dir = data_dir
    logs.setup(data_dir)
    before = _pointer(data_dir)
    code = _run(args, data_dir)
    if args.command not in SELF_AUDITED:
        _audit(args, argv, data_dir, code, before)
    return code


def _pointer(data_dir) -> str | None:
    try:
        return data_dir.pointer.read_text(encoding="utf-8").strip()
    except OSError:
        return None


def _audit(args, argv: list[str] | None, data_dir, code: int, before: str | None) -> None:
    """The command into the audit log, with the operating-system user (and, when it published
    a snapshot, a 发布快照 event). A data dir that does not exist gets no app.db: the command
    changed nothing there, and a refused first load must leave no folder behind."""
    import os

    from office.store import APP_DB_ENV

    if not data_dir.root.exists() and not os.environ.get(APP_DB_ENV):
        return
    try:
        from office import audit

        who = audit.Actor.cli()
        words = argv if argv is not None else sys.argv[1:]
        details = {"命令": "bizenv " + " ".join(words), "退出码": code}
        action = {"load": "load", "build": "build", "reset": "reset_demo"}.get(args.command)
        if args.command == "sample" and getattr(args, "load", False):
            action = "load"
        audit.record(
            data_dir,
            action or "command",
            who,
            args.command,
            details,
            outcome="ok" if code == 0 else "failed",
        )
        after = _pointer(data_dir)
        if after and after != before:
            audit.record(data_dir, "publish", who, after, {"命令": details["命令"]})
    except Exception as err:  # noqa: BLE001 — the command's result stands; say the log missed it
        logging.getLogger("etl.cli").exception("audit of bizenv %s failed", args.command)
        print(f"警告：本次操作未能写入审计日志：{err}", file=sys.stderr)


def _run(args, data_dir) -> int:
    from kpi import logs

    log = logging.getLogger("etl.cli")
    try:
        return int(args._run(args) or 0)
    except BizenvError as err:
        print(f"错误：{err}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print("已中断。", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # `bizenv status | head`: the reader left; stop quietly like other Unix tools.
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as err:  # noqa: BLE001 — a bug or a broken machine, not the user's input: still no traceback
        log.exception("bizenv %s failed", args.command)
        saved = logs.save_traceback(data_dir)
        problem = machine_problem(err, data_dir.root)
        if problem is not None:  # the machine, not a bug: say what happened and what to do
            print(
                f"错误：{problem}。正在写入的内容已回滚（之前已提交的文件保留），看板仍显示上一个快照。"
                f"改法：释放空间或改正权限后重新运行本命令。详细信息已保存到 {saved}。",
                file=sys.stderr,
            )
            return 3
        print(
            f"错误：程序内部出错（{type(err).__name__}: {err}）。正在写入的文件已整体回滚，"
            f"不会留下写了一半的数据。详细信息已保存到 {saved}，请把它发给维护人员。",
            file=sys.stderr,
        )
        return 3


if __name__ == "__main__":
    sys.exit(main())
