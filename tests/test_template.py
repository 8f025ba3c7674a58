"""`bizenv template`: the 指标填报 workbook, and a filled-in copy loading back through etl.load."""

from __future__ import annotations

import openpyxl
import pytest

from etl.cli import main
from kpi import store
from kpi.spec.load import load_spec

HEADERS = ["所属区县", "统计期", "指标编码", "指标名称", "单位", "指标值", "填报单位", "备注"]
DISTRICT_NAMES = [
    "柯城区",
    "衢江区",
    "常山县",
    "开化县",
    "龙游县",
    "江山市",
]  # data/catalog/districts.csv


@pytest.fixture
def workbook(tmp_path):
    out = tmp_path / "指标填报_2026Q3.xlsx"
    assert main(["template", "--period", "2026Q3", "--out", str(out)]) == 0
    return out


def test_layout(workbook):
    wb = openpyxl.load_workbook(workbook)
    ws = wb["指标填报"]
    assert "2026年第三季度" in ws.cell(1, 1).value and "衢州市" in ws.cell(1, 1).value
    assert [c.value for c in ws[2]] == HEADERS
    reported = [i for _, i in load_spec().indicators() if i.source == "reports"]
    rows = [[c.value for c in r] for r in ws.iter_rows(min_row=3)]
    assert len(rows) == len(reported) * len(DISTRICT_NAMES)
    # one row per district for each reported indicator, value blank, unit and owner filled
    first = reported[0]
    # the indicator is named by its id and Chinese name, never by its English key
    assert {r[2] for r in rows} == {i.id for i in reported}
    assert not {r[2] for r in rows} & {i.key for i in reported}
    mine = [r for r in rows if r[2] == first.id]
    assert [r[0] for r in mine] == DISTRICT_NAMES
    assert all(
        r[1] == "2026Q3" and r[3] == first.label_zh and r[4] == first.unit and r[5] is None and r[6]
        for r in mine
    )
    guide = wb["指标说明"]
    defs = {r[0].value: r[5].value for r in guide.iter_rows(min_row=2)}
    assert defs[first.id] == first.description and len(defs) == len(reported)


def test_bad_period(tmp_path, capsys):
    assert main(["template", "--period", "2026-3", "--out", str(tmp_path / "x.xlsx")]) == 2
    assert "2026Q3" in capsys.readouterr().err


def test_filled_template_loads_back(workbook):
    from etl import load

    key_of = {i.id: i.key for _, i in load_spec().indicators()}
    wb = openpyxl.load_workbook(workbook)
    ws = wb["指标填报"]
    filled = {}
    for n, row in enumerate(ws.iter_rows(min_row=3), start=1):
        row[5].value = float(n)
        filled[(row[0].value, key_of[row[2].value])] = float(n)
    wb.save(workbook)
    reports = load.load_files([workbook], build=False)
    assert reports[0].status == "ok", reports[0].message
    assert reports[0].rows_loaded == len(filled)
    con = store.connect_warehouse()
    try:
        got = con.execute(
            "SELECT d.district_name, r.indicator_key, r.value, r.report_period FROM reports r "
            "JOIN districts d USING (district_code)"
        ).fetchall()
    finally:
        con.close()
    assert {(name, key): v for name, key, v, _ in got} == filled
    assert {p for *_, p in got} == {"2026Q3"}


def test_with_city_rows_load_as_the_city_filing(tmp_path):
    from etl import load

    out = tmp_path / "t.xlsx"
    assert main(["template", "--period", "2026Q3", "--out", str(out), "--with-city"]) == 0
    wb = openpyxl.load_workbook(out)
    ws = wb["指标填报"]
    rows = list(ws.iter_rows(min_row=3))
    reported = [i for _, i in load_spec().indicators() if i.source == "reports"]
    assert len(rows) == len(reported) * 7 and rows[0][0].value == "衢州市"
    for n, row in enumerate(rows, start=1):
        row[5].value = float(n)
    wb.save(out)
    assert load.load_files([out], build=False)[0].status == "ok"
    con = store.connect_warehouse()
    try:
        got = con.execute(
            "SELECT value FROM reports WHERE district_code = '330800' AND indicator_key = ?",
            [reported[0].key],
        ).fetchone()
    finally:
        con.close()
    assert got == (1.0,)
