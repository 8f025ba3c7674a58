"""Exports: CSV opens in Excel/WPS (UTF-8 BOM, Chinese intact); the XLSX files open with openpyxl,
hold the expected sheets, and their numbers equal the marts (checked by an independent query)."""

from __future__ import annotations

import io

import duckdb
import openpyxl
import pandas as pd
import pytest

from etl.cli import main
from kpi.read import exports
from tests.fixtures.snapshot_fixture import build_fixture_snapshot

BOM = b"\xef\xbb\xbf"


@pytest.fixture
def snapshot(isolated_data_dir):
    return build_fixture_snapshot(isolated_data_dir)


def mart(snapshot, sql: str, *params):
    con = duckdb.connect(str(snapshot), read_only=True)
    try:
        return con.execute(sql, list(params)).fetchall()
    finally:
        con.close()


def test_csv_has_bom_and_round_trips_chinese():
    df = pd.DataFrame(
        {
            "区县": ["柯城区", "衢江区"],
            "诉求内容（已脱敏）": ["窗口“一次办”", "逗号,与换行\n也行"],
            "得分": [88.1, 75.7],
        }
    )
    data = exports.csv_bytes(df)
    assert data.startswith(BOM)
    assert data.count(BOM) == 1
    back = pd.read_csv(io.BytesIO(data), encoding="utf-8-sig")
    assert list(back.columns) == list(df.columns)
    assert back.equals(df)


def test_xlsx_bytes_keeps_numbers_as_numbers():
    df = pd.DataFrame({"区县": ["柯城区"], "得分": [88.125], "排名": pd.array([1], dtype="Int64")})
    wb = openpyxl.load_workbook(io.BytesIO(exports.xlsx_bytes({"排名": df})))
    ws = wb["排名"]
    assert [c.value for c in ws[1]] == ["区县", "得分", "排名"]
    assert (
        ws["B2"].value == 88.125 and ws["B2"].data_type == "n" and ws["B2"].number_format == "0.0"
    )
    assert ws["C2"].value == 1 and ws["C2"].data_type == "n"
    assert ws.freeze_panes == "A2"


def test_cli_table_csv_equals_the_mart(snapshot, isolated_data_dir, tmp_path):
    out = tmp_path / "综合得分.csv"
    assert (
        main(
            [
                "export",
                "--data-dir",
                str(isolated_data_dir),
                "--period",
                "2026Q3",
                "--table",
                "overall",
                "--format",
                "csv",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    raw = out.read_bytes()
    assert raw.startswith(BOM)
    df = pd.read_csv(out, encoding="utf-8-sig", dtype={"区划代码": str})
    expected = dict(
        mart(snapshot, "SELECT district_name, score FROM overall_scores WHERE period = ?", "2026Q3")
    )
    assert dict(zip(df["区县"], df["得分"], strict=False)) == pytest.approx(expected)
    assert df.loc[df["区县"] == "柯城区", "排名"].item() == 1


def test_cli_table_xlsx_indicators_has_every_row(snapshot, isolated_data_dir, tmp_path):
    out = tmp_path / "指标得分.xlsx"
    assert (
        main(
            [
                "export",
                "--data-dir",
                str(isolated_data_dir),
                "--period",
                "2026Q2",
                "--table",
                "indicators",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    ws = openpyxl.load_workbook(out).active
    (n,) = mart(snapshot, "SELECT count(*) FROM indicator_scores WHERE period = ?", "2026Q2")[0]
    assert ws.max_row - 1 == n == 28  # 7 indicators × (3 districts + city)


def test_cli_review_workbook(snapshot, isolated_data_dir, tmp_path):
    out = tmp_path / "2026Q3季度评议材料.xlsx"
    assert (
        main(
            [
                "export",
                "--data-dir",
                str(isolated_data_dir),
                "--period",
                "2026Q3",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == [
        "总览",
        "D01 开办企业",
        "D08 登记财产",
        "D17 政务服务",
        "红黄绿预警",
        "进步退步榜",
        "对标提升清单",
        # the 督办 sheets (office.tracking.views.review_sheets; empty here: no 台账)
        "清障汇总",
        "为企办实事",
        "督办任务（未办结）",
        "对标清单",
        "蜗牛骏马",
    ]
    for ws in wb:
        assert "2026Q3" in ws["A1"].value and "数据截至 2026-11-19 17:45" in ws["A1"].value
        assert ws.freeze_panes is not None

    ov = wb["总览"]
    header = [c.value for c in ov[2]]
    rows = {r[header.index("区县")]: r for r in ov.iter_rows(min_row=3, values_only=True)}
    expected = dict(
        mart(
            snapshot,
            "SELECT district_name, score FROM overall_scores WHERE period = ? AND NOT is_city",
            "2026Q3",
        )
    )
    for name, score in expected.items():
        assert rows[name][header.index("综合指数")] == pytest.approx(score)
    score_cell = ov.cell(row=3, column=header.index("综合指数") + 1)
    assert score_cell.data_type == "n" and score_cell.number_format == "0.0"

    gov = wb["D17 政务服务"]  # indicators down the rows (值/得分/排名/环比), districts across
    districts = {c.value: c.column for c in gov[2]}
    row = next(
        r for r in range(3, gov.max_row + 1) if gov.cell(row=r, column=1).value == "企业诉求解决率"
    )
    assert (gov.cell(row=row, column=2).value, gov.cell(row=row, column=3).value) == ("%", "值")
    cell = gov.cell(row=row, column=districts["常山县"])
    assert cell.value == 82.0 and cell.number_format == '0.0"%"'
    assert cell.fill.fgColor.rgb.endswith("FFC7CE")  # red: 82 < 预警值 85
    assert gov.cell(row=row, column=districts["柯城区"]).fill.fgColor.rgb.endswith(
        "C6EFCE"
    )  # 96 ≥ 先进值 95

    warn = wb["红黄绿预警"]
    n_red = mart(
        snapshot,
        "SELECT count(*) FROM indicator_scores WHERE period = ? AND NOT is_city AND rag = 'red'",
        "2026Q3",
    )[0][0]
    assert sum(1 for r in warn.iter_rows(min_row=3, values_only=True) if r[0] == "红") == n_red == 5

    movers = [r for r in wb["进步退步榜"].iter_rows(min_row=3, values_only=True) if r[0]]
    assert [(r[0], r[1]) for r in movers] == [
        ("进步", "衢江区"),
        ("进步", "柯城区"),
        ("退步", "常山县"),
    ]

    bench = wb["对标提升清单"]
    head = [c.value for c in bench[2]]
    row = next(
        r
        for r in bench.iter_rows(min_row=3, values_only=True)
        if r[0] == "常山县" and r[head.index("指标")] == "全程网办率"
    )
    assert (
        row[head.index("最优值")],
        row[head.index("与最优差距")],
        row[head.index("距先进值")],
    ) == (88, 30, 27)


def test_cli_export_unknown_period_is_a_clear_error(snapshot, isolated_data_dir, tmp_path, capsys):
    code = main(
        [
            "export",
            "--data-dir",
            str(isolated_data_dir),
            "--period",
            "2030Q1",
            "--out",
            str(tmp_path / "x.xlsx"),
        ]
    )
    assert code == 2
    assert "没有季度 2030Q1" in capsys.readouterr().err


def test_cli_export_without_snapshot_is_a_clear_error(isolated_data_dir, tmp_path, capsys):
    code = main(["export", "--data-dir", str(isolated_data_dir), "--out", str(tmp_path / "x.xlsx")])
    assert code == 2
    assert "bizenv load" in capsys.readouterr().err
