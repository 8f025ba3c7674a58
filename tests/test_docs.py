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
