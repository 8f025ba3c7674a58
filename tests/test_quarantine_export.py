"""Quarantine staff can act on: every quarantined row of a load (not 3 examples per reason), with
line, column, reason and the original cells one column per header, as CSV and XLSX — on the 数据
page and from `bizenv export --quarantine`; the 数据 page names snapshots instead of server paths;
file names in the 导入记录 CSV are escaped like every other CSV cell.

Expected rows come from the fixture's own quarantine table (tests/fixtures/snapshot_fixture.py).
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from etl.cli import main
from kpi import store
from kpi.read import exports, queries
from tests.fixtures.snapshot_fixture import build_fixture_snapshot
from ui import tables

DASHBOARD = str(Path(__file__).resolve().parents[1] / "dashboard.py")


@pytest.fixture
def snapshot(isolated_data_dir):
    return build_fixture_snapshot(isolated_data_dir)


def read_csv(data: bytes) -> list[dict[str, str]]:
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def republish(data_dir, statements: list[tuple[str, list]]):
    con = store.connect_warehouse(data_dir)
    try:
        for sql, params in statements:
            con.execute(sql, params)
        con.execute("CHECKPOINT")
    finally:
        con.close()
    return store.publish_snapshot(data_dir)


def rows_of(path, load_id):
    con = store.connect_snapshot(path)
    try:
        return queries.quarantine_rows(con, load_id)
    finally:
        con.close()


def more_bad_rows(load_id: str, file_name: str, n: int, start: int = 20):
    """n more approvals rows of one load, all with the same reason (more than 3 examples)."""
    return [
        (
            "INSERT INTO quarantine (load_id, source, file_name, line_no, column_name, reason, raw) "
            "VALUES (?, 'approvals', ?, ?, '办结时间', '办结时间早于受理时间', ?)",
            [
                load_id,
                file_name,
                start + k,
                json.dumps(
                    {
                        "办件编号": f"BJ20260799{k:02d}",
                        "受理时间": "2026-08-02 09:00",
                        "办结时间": "2026-08-01 10:00",
                    },
                    ensure_ascii=False,
                ),
            ],
        )
        for k in range(n)
    ]


def test_rows_of_a_load_spread_into_the_export_headers(snapshot):
    frame = rows_of(snapshot, "L-APPROVALS-1")
    assert list(frame.columns) == [
        "文件",
        "行号",
        "问题列",
        "隔离原因",
        "办件编号",
        "受理时间",
        "办结时间",
    ]
    assert frame.to_dict("records") == [
        {
            "文件": "办件_2026Q3.csv",
            "行号": 7,
            "问题列": "办结时间",
            "隔离原因": "办结时间早于受理时间",
            "办件编号": "BJ2026079901",
            "受理时间": "2026-08-02 09:00",
            "办结时间": "2026-08-01 10:00",
        },
        {
            "文件": "办件_2026Q3.csv",
            "行号": 11,
            "问题列": "办结时间",
            "隔离原因": "办结时间早于受理时间",
            "办件编号": "BJ2026079902",
            "受理时间": "2026-09-10 09:00",
            "办结时间": "2026-09-09 12:00",
        },
    ]
    loads = queries.quarantine_loads(store.connect_snapshot(snapshot))
    assert dict(zip(loads["file_name"], loads["rows"], strict=True)) == {
        "办件_2026Q3.csv": 2,
        "12345工单_2026Q3.xlsx": 1,
    }


def test_every_row_is_exported_not_three_examples(snapshot, isolated_data_dir):
    path = republish(isolated_data_dir, more_bad_rows("L-APPROVALS-1", "办件_2026Q3.csv", 10))
    frame = rows_of(path, "L-APPROVALS-1")
    assert len(frame) == 12  # 2 in the fixture + 10
    assert list(frame["行号"]) == [7, 11, *range(20, 30)]
    con = store.connect_snapshot(path)
    try:
        assert len(queries.quarantine_examples(con, 3).query("file_name == '办件_2026Q3.csv'")) == 3
    finally:
        con.close()
    csv_rows = read_csv(tables.quarantine_file_bytes(str(path), "L-APPROVALS-1", "csv"))
    assert [int(r["行号"]) for r in csv_rows] == [7, 11, *range(20, 30)]
    assert csv_rows[-1]["办件编号"] == "BJ2026079909"
    ws = openpyxl.load_workbook(
        io.BytesIO(tables.quarantine_file_bytes(str(path), "L-APPROVALS-1", "xlsx"))
    ).active
    assert ws.max_row == 13 and [c.value for c in ws[1]][:4] == [
        "文件",
        "行号",
        "问题列",
        "隔离原因",
    ]
    assert ws["B2"].value == 7 and ws["B2"].data_type == "n"


def test_odd_raw_cells_headers_and_formula_text(snapshot, isolated_data_dir):
    raw = {
        "行号": "3",
        "金额/元~": "-1.5",
        "备注": '=HYPERLINK("http://x.example","看")',
        "空": None,
    }
    path = republish(
        isolated_data_dir,
        [
            (
                "INSERT INTO quarantine (load_id, source, file_name, line_no, column_name, reason, raw) "
                "VALUES ('L-X', 'reports', '填报.xlsx', 4, '金额/元~', '数值无效', ?)",
                [json.dumps(raw, ensure_ascii=False)],
            ),
            (
                "INSERT INTO quarantine (load_id, source, file_name, line_no, column_name, reason, raw) "
                "VALUES ('L-X', 'reports', '填报.xlsx', 9, NULL, '文件格式', ?)",
                ["not json, 第9行原文"],
            ),
        ],
    )
    frame = rows_of(path, "L-X")
    assert list(frame.columns) == [
        "文件",
        "行号",
        "问题列",
        "隔离原因",
        "行号（原始）",
        "金额/元~",
        "备注",
        "空",
        "原始内容",
    ]
    first, second = frame.to_dict("records")
    assert (first["行号（原始）"], first["金额/元~"], first["空"]) == ("3", "-1.5", None)
    assert pd.isna(first["原始内容"]) and second["原始内容"] == "not json, 第9行原文"
    assert pd.isna(second["备注"])
    rows = read_csv(tables.quarantine_file_bytes(str(path), "L-X", "csv"))
    assert rows[0]["备注"] == '\'=HYPERLINK("http://x.example","看")'
    assert rows[0]["金额/元~"] == "-1.5"
    ws = openpyxl.load_workbook(
        io.BytesIO(tables.quarantine_file_bytes(str(path), "L-X", "xlsx"))
    ).active
    cell = ws.cell(row=2, column=7)
    assert cell.value == '=HYPERLINK("http://x.example","看")' and cell.data_type == "s"


# ── bizenv export --quarantine ─────────────────────────────────────────────────────────────


def export(data_dir, name, out, *extra):
    return main(
        ["export", "--data-dir", str(data_dir), "--quarantine", name, "--out", str(out), *extra]
    )


def test_cli_exports_every_quarantined_row_of_a_file(snapshot, isolated_data_dir, tmp_path, capsys):
    republish(isolated_data_dir, more_bad_rows("L-APPROVALS-1", "办件_2026Q3.csv", 5))
    out = tmp_path / "隔离.csv"
    assert export(isolated_data_dir, "办件_2026Q3.csv", out) == 0
    assert "全部 7 行隔离记录" in capsys.readouterr().out
    rows = read_csv(out.read_bytes())
    assert [int(r["行号"]) for r in rows] == [7, 11, 20, 21, 22, 23, 24]
    assert {r["隔离原因"] for r in rows} == {"办结时间早于受理时间"}
    xlsx = tmp_path / "隔离.xlsx"
    assert export(isolated_data_dir, "/inbox/12345工单_2026Q3.xlsx", xlsx) == 0  # a path works too
    ws = openpyxl.load_workbook(xlsx).active
    assert [c.value for c in ws[1]] == [
        "文件",
        "行号",
        "问题列",
        "隔离原因",
        "工单编号",
        "所属区县",
    ]
    assert [c.value for c in ws[2]] == [
        "12345工单_2026Q3.xlsx",
        5,
        "所属区县",
        "无法识别的区县：衢州高新区",
        "GD202607009901",
        "衢州高新区",
    ]


def test_cli_quarantine_errors_are_clear(snapshot, isolated_data_dir, tmp_path, capsys):
    assert export(isolated_data_dir, "没有这个.csv", tmp_path / "x.csv") == 2
    err = capsys.readouterr().err
    assert "没有文件 没有这个.csv 的隔离行" in err and "办件_2026Q3.csv" in err
    assert (
        export(isolated_data_dir, "办件_2026Q3.csv", tmp_path / "x.csv", "--table", "overall") == 2
    )
    assert "不能同时使用" in capsys.readouterr().err
    # a later load of the same file name came out clean: its quarantine is empty, say so
    republish(
        isolated_data_dir,
        [
            (
                "INSERT INTO etl_runs (load_id, file_name, status, started_at) VALUES "
                "('L-APPROVALS-2', '办件_2026Q3.csv', 'ok', TIMESTAMP '2026-11-25 09:00:00')",
                [],
            )
        ],
    )
    assert export(isolated_data_dir, "办件_2026Q3.csv", tmp_path / "x.csv") == 2
    err = capsys.readouterr().err
    assert "最近一次导入（2026-11-25 09:00，状态 ok）没有隔离行" in err
    assert not (tmp_path / "x.csv").exists()


# ── 数据 page ──────────────────────────────────────────────────────────────────────────────


def open_data_page() -> AppTest:
    at = AppTest.from_file(DASHBOARD, default_timeout=30)
    at.run()
    at.switch_page("pages/data_status.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_data_page_offers_every_quarantined_row_per_file(snapshot, isolated_data_dir):
    at = open_data_page()
    pick = at.selectbox(key="quarantine_file")
    assert pick.options == [  # newest load first
        "12345工单_2026Q3.xlsx（12345 工单，1 行，2026-11-19 18:01 导入）",
        "办件_2026Q3.csv（办件，2 行，2026-11-19 18:00 导入）",
    ]
    labels = [b.label for b in at.get("download_button")]
    assert "下载全部隔离行 CSV" in labels and "下载全部隔离行 XLSX" in labels


def test_data_page_names_the_snapshot_not_its_server_path(snapshot, isolated_data_dir):
    at = open_data_page()
    captions = " ".join(c.value for c in at.caption)
    assert "当前快照：snapshot-" in captions
    assert str(isolated_data_dir) not in captions + " ".join(s.value for s in at.success)


def test_load_log_csv_escapes_file_names(snapshot, isolated_data_dir, monkeypatch):
    republish(
        isolated_data_dir,
        [
            (
                "UPDATE etl_runs SET file_name = '=HYPERLINK(\"http://x\")' WHERE load_id = 'L-APPROVALS-1'",
                [],
            )
        ],
    )
    frames = {}
    real = tables.downloads
    monkeypatch.setattr(
        tables,
        "downloads",
        lambda df, name, key: (frames.__setitem__(key, df), real(df, name, key)),
    )
    open_data_page()
    files = [r["文件"] for r in read_csv(exports.csv_bytes(frames["loads"]))]
    assert '\'=HYPERLINK("http://x")' in files
    assert not any(f.startswith("=") for f in files)
