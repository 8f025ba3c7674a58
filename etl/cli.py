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
import sys

from kpi.errors import BizenvError

# name → module; order is the order `bizenv --help` lists them.
COMMANDS = {
    "sample": "etl.commands.sample",
    "load": "etl.commands.load",
    "status": "etl.commands.status",
    "validate": "etl.commands.validate",
    "build": "etl.commands.build",
    "template": "etl.commands.template",
    "export": "etl.commands.export",
    "reset": "etl.commands.reset",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bizenv",
        description="bizenv 营商环境指标看板：导入办件、12345、好差评和指标填报数据，按 metrics.yaml 计算评分。",
        formatter_class=argparse.RawDescriptionHelpFormatter,
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
            formatter_class=argparse.RawDescriptionHelpFormatter,
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
        print(
            f"错误：程序内部出错（{type(err).__name__}: {err}）。正在写入的文件已整体回滚，"
            f"不会留下写了一半的数据。详细信息已保存到 {saved}，请把它发给维护人员。",
            file=sys.stderr,
        )
        return 3


if __name__ == "__main__":
    sys.exit(main())
