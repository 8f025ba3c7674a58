"""kpi.catalog: the one reader of the catalogue folder (etl, scoring, template, spec checks)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kpi import catalog
from kpi.errors import UserInputError

REPO = Path(__file__).resolve().parents[1]


def test_reads_utf8_with_bom_blank_cells_as_none_and_sorts_districts(tmp_path):
    (tmp_path / "districts.csv").write_bytes(
        "\ufeffdistrict_code,district_name,short_name,level,sort_order\n"
        "330803,衢江区,衢江,district,3\n"
        "\n"
        "330800,衢州市,,city,0\n"
        "330802,柯城区,柯城,district,2\n".encode()
    )
    got = catalog.districts(tmp_path)
    assert [(r["district_code"], r["short_name"], r["sort_order"]) for r in got] == [
        ("330800", None, 0),
        ("330802", "柯城", 2),
        ("330803", "衢江", 3),
    ]
    assert catalog.vocabulary("districts.csv", "level", tmp_path) == {"city", "district"}
    assert catalog.vocabulary("districts.csv", "nope", tmp_path) is None
    assert catalog.vocabulary("items.csv", "item_code", tmp_path) is None


def test_missing_file_column_or_encoding_is_a_chinese_message(tmp_path):
    with pytest.raises(UserInputError, match="缺少 districts.csv.*--catalog"):
        catalog.districts(tmp_path)
    (tmp_path / "districts.csv").write_text("code,name\n1,a\n", encoding="utf-8")
    with pytest.raises(UserInputError, match="缺少列 district_code、district_name"):
        catalog.districts(tmp_path)
    (tmp_path / "districts.csv").write_bytes(
        "district_code,district_name\n1,衢江区\n".encode("gbk")
    )
    with pytest.raises(UserInputError, match="请保存为 UTF-8 编码的 CSV"):
        catalog.districts(tmp_path)


def test_no_other_module_reads_catalogue_files_itself():
    """One reader: elsewhere the catalogue's CSV files are only named, never opened. (The demo
    generator, etl/demo, still reads its own copy; it is not the product's catalogue path.)"""
    offenders = []
    for path in [*REPO.glob("kpi/**/*.py"), *REPO.glob("etl/**/*.py"), *REPO.glob("ui/**/*.py")]:
        if path.relative_to(REPO).as_posix() in ("kpi/catalog.py",) or "demo" in path.parts:
            continue
        text = path.read_text(encoding="utf-8")
        if re.search(r"csv\.DictReader|(pd|pacsv|csv)\.read_csv\(", text) and re.search(
            r"(districts|domains|items|hotline_topics)\.csv", text
        ):
            offenders.append(str(path.relative_to(REPO)))
    assert offenders == []
