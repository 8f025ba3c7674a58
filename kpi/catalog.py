"""The catalogue folder (data/catalog/ or BIZENV_CATALOG_DIR) read in one place: districts,
domains, items, hotline topics — for the ETL (etl.catalog), the scoring engine, the 填报 template
and the spec checks alike. Small UTF-8 CSV files (with or without BOM); blank cells read as None.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from kpi import settings
from kpi.errors import UserInputError


def path(file: str, catalog_dir: Path | str | None = None) -> Path:
    return settings.catalog_dir(catalog_dir) / file


def read_table(
    file: Path, required: tuple[str, ...] = (), optional: bool = False
) -> dict[str, list[str | None]] | None:
    """A catalogue CSV as columns of text (header → values, blank → None); None when the file is
    absent and `optional`. Raises UserInputError (Chinese, with the fix) for a missing file or
    column, or a file that is not UTF-8."""
    if not file.exists():
        if optional:
            return None
        raise UserInputError(
            f"目录 {file.parent} 缺少 {file.name}。请用 --catalog 指向完整的目录（参考 data/catalog/）。"
        )
    try:
        text = file.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as err:
        raise UserInputError(f"{file}：无法读取（{err}）。请保存为 UTF-8 编码的 CSV。") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [h.strip() for h in next(reader, [])]
    missing = [c for c in required if c not in header]
    if missing:
        raise UserInputError(
            f"{file}：缺少列 {'、'.join(missing)}（现有列：{'、'.join(header)}）。"
        )
    columns: dict[str, list[str | None]] = {h: [] for h in header}
    for row in reader:
        if not any(cell.strip() for cell in row):
            continue
        for i, h in enumerate(header):
            cell = row[i].strip() if i < len(row) else ""
            columns[h].append(cell or None)
    return columns


def rows(columns: dict[str, list]) -> list[dict[str, str | None]]:
    names = list(columns)
    return [dict(zip(names, values, strict=True)) for values in zip(*columns.values(), strict=True)]


def districts(catalog_dir: Path | str | None = None) -> list[dict[str, Any]]:
    """districts.csv rows (district_code, district_name, short_name, level, sort_order as int),
    in catalogue order."""
    table = read_table(path("districts.csv", catalog_dir), ("district_code", "district_name"))
    assert table is not None  # a required file: read_table raised if it was missing
    out = [
        {
            "district_code": r["district_code"],
            "district_name": r["district_name"],
            "short_name": r.get("short_name"),
            "level": r.get("level"),
            "sort_order": int(float(r["sort_order"] or 0)),
        }
        for r in rows(table)
    ]
    return sorted(out, key=lambda r: r["sort_order"])


def vocabulary(file: str, column: str, catalog_dir: Path | str | None = None) -> frozenset | None:
    """The values of one column of a catalogue file; None when the file or column is absent
    (another city's catalogue without it: nothing to check against)."""
    try:
        table = read_table(path(file, catalog_dir), optional=True)
    except UserInputError:
        return None
    if table is None or column not in table:
        return None
    return frozenset(v for v in table[column] if v)
