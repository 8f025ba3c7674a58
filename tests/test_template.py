"""`bizenv template`: the 指标填报 workbook, and a filled-in copy loading back through etl.load."""

from __future__ import annotations

import openpyxl
import pytest

from etl.cli import main
from kpi import store
from kpi.errors import FileRefused
from kpi.spec.load import load_spec

HEADERS = [
    "所属区县",
    "统计期",
    "指标编码",
    "指标名称",
    "单位",
    "指标值",
    "分子",
    "分母",
    "填报单位",
    "填报要求",
    "备注",
]
DISTRICT_NAMES = [
    "柯城区",
    "衢江区",
    "常山县",
    "开化县",
    "龙游县",
    "江山市",
]  # data/catalog/districts.csv
CITY = "衢州市"


def expected_rows(ind, with_city=False) -> list[tuple[str, bool]]:
    """(所属区县, in parts) of the rows a department must fill for one indicator (issue 13): a
    city-level one the city only; one filed in parts each district (the city adds them up); a
    plain one each district and the city (its own figure, not a mean of district rates)."""
    if ind.applies_to == "city":
        return [(CITY, False)]
    parts = ind.reported is not None
    city = [(CITY, parts)] if with_city or not parts else []
    return city + [(d, parts) for d in DISTRICT_NAMES]


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
    assert len(rows) == sum(len(expected_rows(i)) for i in reported)
    # the indicator is named by its id and Chinese name, never by its English key
    assert {r[2] for r in rows} == {i.id for i in reported}
    assert not {r[2] for r in rows} & {i.key for i in reported}
    for ind in reported:
        mine = [r for r in rows if r[2] == ind.id]
        assert [r[0] for r in mine] == [w for w, _ in expected_rows(ind)], ind.key
        assert all(
            r[1] == "2026Q3" and r[3] == ind.label_zh and r[4] == ind.unit and r[8] for r in mine
        )
        # what to fill, in words: 分子 and 分母, or the value
        if ind.reported is not None and ind.applies_to == "district":
            assert all(
                ind.reported.numerator in r[9] and ind.reported.denominator in r[9] for r in mine
            )
        else:
            assert all(r[9].startswith("填指标值") for r in mine)
    guide = wb["指标说明"]
    head = [c.value for c in guide[1]]
    defs = {
        r[0].value: {h: c.value for h, c in zip(head, r, strict=True)}
        for r in guide.iter_rows(min_row=2)
    }
    first = reported[0]
    assert defs[first.id]["指标定义"] == first.description and len(defs) == len(reported)
    assert defs[first.id]["分子"] == first.reported.numerator
    assert all(defs[i.id]["上下界依据"] == i.dtf.basis for i in reported)


def test_bad_period(tmp_path, capsys):
    assert main(["template", "--period", "2026-3", "--out", str(tmp_path / "x.xlsx")]) == 2
    assert "2026Q3" in capsys.readouterr().err


def test_filled_template_loads_back(workbook):
    from etl import load

    key_of = {i.id: i for _, i in load_spec().indicators()}
    wb = openpyxl.load_workbook(workbook)
    ws = wb["指标填报"]
    filled = {}
    for n, row in enumerate(ws.iter_rows(min_row=3), start=1):
        ind = key_of[row[2].value]
        name = row[0].value
        if ind.reported is not None and ind.applies_to == "district":
            row[6].value, row[7].value = float(n), float(n + 1)  # 分子, 分母; 指标值 left blank
            filled[(name, ind.key)] = (None, float(n), float(n + 1))
        else:
            row[5].value = float(n)
            filled[(name, ind.key)] = (float(n), None, None)
    wb.save(workbook)
    reports = load.load_files([workbook], build=False)
    assert reports[0].status == "ok", reports[0].message
    assert reports[0].rows_loaded == len(filled)
    con = store.connect_warehouse()
    try:
        got = con.execute(
            "SELECT d.district_name, r.indicator_key, r.value, r.numerator, r.denominator, "
            "r.report_period FROM reports r JOIN districts d USING (district_code)"
        ).fetchall()
    finally:
        con.close()
    assert {(name, key): (v, a, b) for name, key, v, a, b, _ in got} == filled
    assert {p for *_, p in got} == {"2026Q3"}


def test_a_row_with_neither_a_value_nor_both_parts_is_not_filed(workbook):
    from etl import load

    wb = openpyxl.load_workbook(workbook)
    ws = wb["指标填报"]
    for row in ws.iter_rows(min_row=3):
        row[6].value = 3.0  # 分子 only
    wb.save(workbook)
    with pytest.raises(FileRefused) as info:
        load.load_files([workbook], build=False)
    assert "未填报" in str(info.value) and "“分子”“分母”两列" in str(info.value)


def test_with_city_rows_load_as_the_city_filing(tmp_path):
    from etl import load

    out = tmp_path / "t.xlsx"
    assert main(["template", "--period", "2026Q3", "--out", str(out), "--with-city"]) == 0
    wb = openpyxl.load_workbook(out)
    ws = wb["指标填报"]
    rows = list(ws.iter_rows(min_row=3))
    reported = [i for _, i in load_spec().indicators() if i.source == "reports"]
    assert len(rows) == sum(len(expected_rows(i, with_city=True)) for i in reported)
    assert rows[0][0].value == CITY
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
