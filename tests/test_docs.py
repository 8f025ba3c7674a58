"""The docs are part of the product: every command has help with an example, README names every
command and every public table, and README keeps the two sacred commands."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from etl.cli import COMMANDS, build_parser
from kpi import schema

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text(encoding="utf-8")


def test_readme_keeps_the_two_commands():
    assert "uv run streamlit run dashboard.py" in README
    assert "uv run pytest" in README
    assert "pip install uv" in README


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_command_is_offered_with_help_and_example(command):
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    assert command in sub.choices, f"bizenv {command} is not offered"
    text = sub.choices[command].format_help()
    assert "示例" in text and f"bizenv {command}" in text


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_readme_documents_every_command(command):
    assert re.search(rf"bizenv {command}\b", README), f"README does not mention bizenv {command}"


@pytest.mark.parametrize(
    "table", sorted({*schema.CANONICAL_DDL, *schema.SUPPORT_DDL, *schema.MART_DDL})
)
def test_readme_documents_every_public_table(table):
    assert f"`{table}`" in README, f"README does not document table {table}"


def test_cli_help_runs_without_traceback():
    out = subprocess.run(
        [sys.executable, "-m", "etl.cli", "--help"],
        check=False,
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    assert out.returncode == 0 and "Traceback" not in out.stderr


def test_cli_start_up_does_not_load_the_heavy_libraries():
    # Every command's start-up builds the whole parser (all command modules): pandas, pyarrow and
    # the spreadsheet writers are for the commands that use them, imported when they run.
    probe = (
        "import sys; from etl.cli import build_parser; build_parser(); "
        "print(','.join(m for m in ('pandas', 'pyarrow', 'streamlit', 'openpyxl', 'xlsxwriter', 'python_calamine') "
        "if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], check=True, capture_output=True, text=True, cwd=REPO
    )
    assert out.stdout.strip() == ""


# argparse's own English, which must not reach a user of `bizenv` (help and error output).
# (Option names such as --data-dir are taken out first: they are what the user types.)
_ENGLISH_WORDS = re.compile(
    r"usage|positional arguments|optional arguments|\boptions\b|show this help|\bexit\b|"
    r"\berror\b|required|invalid|choose from|unrecognized|expected|argument|ambiguous",
    re.IGNORECASE,
)
_ENGLISH_METAVARS = re.compile(r"\b(FILE|DIR|PATH|N|X)\b")


class ARGPARSE_ENGLISH:  # noqa: N801 — used like a compiled pattern
    @staticmethod
    def search(text: str):
        text = re.sub(r"--?[A-Za-z][\w-]*", "", text)
        return _ENGLISH_WORDS.search(text) or _ENGLISH_METAVARS.search(text)


@pytest.mark.parametrize("command", ["", *sorted(COMMANDS)])
def test_help_reads_in_chinese(command, capsys):
    from etl.cli import main

    with pytest.raises(SystemExit) as exit_:
        main([command, "--help"] if command else ["--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("用法：") and "显示本帮助并退出" in out
    assert "选项：" in out
    assert not ARGPARSE_ENGLISH.search(out), ARGPARSE_ENGLISH.search(out)


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["export"], "bizenv export：错误：缺少必需的参数：--out"),
        (
            ["load", "--source", "x", "a.csv"],
            "bizenv load：错误：参数 --source 的取值 'x' 无效（可选：'approvals', 'hotline', 'ratings', 'reports'）",
        ),
        (["status", "--runs", "x"], "bizenv status：错误：参数 --runs 应为整数，而不是 'x'"),
        (["sample", "--scale", "大"], "bizenv sample：错误：参数 --scale 应为数字，而不是 '大'"),
        (["status", "--runs"], "bizenv status：错误：参数 --runs 后面需要一个值"),
        (["status", "--zzz"], "bizenv：错误：无法识别的参数：--zzz（可用的参数见 --help）"),
        (["bogus"], "bizenv：错误：没有命令 'bogus'（可用的命令："),
        (["load"], "bizenv load：错误：缺少必需的参数：文件"),
    ],
)
def test_argument_errors_read_in_chinese(argv, expected, capsys):
    from etl.cli import main

    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("用法：bizenv")
    assert expected in err
    assert not ARGPARSE_ENGLISH.search(err), err


def test_docs_metrics_describes_every_indicator():
    """docs/metrics.md lists every indicator of metrics.yaml with its definition and the basis of
    its bounds (issue 13)."""
    from kpi.spec.load import load_spec

    text = (REPO / "docs" / "metrics.md").read_text(encoding="utf-8")
    for _, ind in load_spec(check_sql=False).indicators():
        row = next((line for line in text.splitlines() if f"`{ind.key}`" in line), None)
        assert row is not None, ind.key
        assert ind.dtf.basis and ind.dtf.basis in row, ind.key
