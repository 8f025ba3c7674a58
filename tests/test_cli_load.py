"""`bizenv load DIR`: a folder stands for the export files in it, nothing else."""

from __future__ import annotations

import pytest

from etl.commands.load import expand_paths
from kpi.errors import UserInputError


def test_a_folder_expands_to_its_export_files_only(tmp_path):
    for name in ("b.xlsx", "a.csv", "c.XLS", "README.md", "manifest.json", "~$a.xlsx"):
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "sub").mkdir()
    assert expand_paths([str(tmp_path)]) == [
        str(tmp_path / n) for n in ("a.csv", "b.xlsx", "c.XLS")
    ]


def test_named_files_pass_through_even_if_not_exports(tmp_path):
    # a file named explicitly is the user's choice: the loader refuses it with a reason
    assert expand_paths(["x.md", "y.csv"]) == ["x.md", "y.csv"]


def test_an_empty_folder_is_a_clear_error(tmp_path):
    (tmp_path / "README.md").write_text("说明")
    with pytest.raises(UserInputError, match="没有 CSV/XLSX/XLS"):
        expand_paths([str(tmp_path)])
