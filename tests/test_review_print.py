"""The 季度评议材料 workbook prints: every sheet A4 landscape, one page wide, title and header
repeated, a footer with the page number and 数据截至; the quarter in progress is marked 进行中 on
every sheet; the pack says where an index rests on fewer domains and why a score is blank (—).

The print settings are read back with openpyxl; the LibreOffice test (skipped without `soffice`)
converts the workbook to PDF and counts pages per sheet with tests/print_check.py.
"""

from __future__ import annotations

import shutil

import openpyxl
import pytest

from kpi import store
from kpi.read import review
from tests import print_check
from tests.fixtures.snapshot_fixture import build_fixture_snapshot

SHEETS = [
    "总览",
    "D01 开办企业",
    "D08 登记财产",
    "D17 政务服务",
    "红黄绿预警",
    "进步退步榜",
    "对标提升清单",
]


@pytest.fixture
def snapshot(isolated_data_dir):
    return build_fixture_snapshot(isolated_data_dir)


def workbook(snapshot, tmp_path, period: str):
    con = store.connect_snapshot(snapshot)
    try:
        path = review.write_review(con, period, tmp_path / f"{period}季度评议材料.xlsx")
    finally:
        con.close()
    return path


@pytest.mark.parametrize("period", ["2026Q3", "2026Q4"])
def test_every_sheet_has_a_page_setup_for_a4_landscape(snapshot, tmp_path, period):
    wb = openpyxl.load_workbook(workbook(snapshot, tmp_path, period))
    assert wb.sheetnames == SHEETS
    for ws in wb:
        ps = ws.page_setup
        assert ps.orientation == "landscape", ws.title
        assert int(ps.paperSize) == 9, ws.title  # 9 = A4 in OOXML
        assert ws.sheet_properties.pageSetUpPr.fitToPage, ws.title
        assert (ps.fitToWidth or 1) == 1, ws.title  # absent = the OOXML default, 1 page wide
        # long lists run over as many pages as they need; a domain sheet is one page
        assert (ps.fitToHeight if ps.fitToHeight is not None else 1) == (
            1 if ws.title.startswith("D") else 0
        ), ws.title
        assert ws.print_title_rows == "$1:$2", ws.title  # the title and the header row
        footer = ws.oddFooter
        assert footer.left.text == "&A"  # the sheet's name
        assert footer.center.text == "第 &P 页，共 &N 页"
        assert "数据截至 2026-11-19 17:45" in footer.right.text
        assert "数据截至 2026-11-19 17:45" in ws["A1"].value


def test_quarter_in_progress_is_marked_on_every_sheet(snapshot, tmp_path):
    partial = openpyxl.load_workbook(workbook(snapshot, tmp_path, "2026Q4"))
    for ws in partial:
        assert ws["A1"].value.startswith("衢州市营商环境季度评议材料 · 2026Q4（进行中） · "), (
            ws.title
        )
        assert "2026Q4（进行中）" in ws.oddFooter.right.text
    movers = partial["进步退步榜"]
    texts = [c.value for row in movers.iter_rows(min_row=3) for c in row if c.value]
    assert any("进行中的季度不与完整季度比较" in t for t in texts)
    complete = openpyxl.load_workbook(workbook(snapshot, tmp_path, "2026Q3"))
    assert all("进行中" not in ws["A1"].value for ws in complete)


def test_overview_says_when_an_index_rests_on_fewer_domains(snapshot, tmp_path):
    ws = openpyxl.load_workbook(workbook(snapshot, tmp_path, "2026Q3"))["总览"]
    head = [c.value for c in ws[2]]
    rows = {r[head.index("区县")]: r for r in ws.iter_rows(min_row=3, values_only=True) if r[1]}
    note = head.index("说明")
    # 常山县: 登记财产 has one indicator, n = 3 < min_sample 5, so the domain is not scored and
    # the index is the mean of the other two domains (fixture documentation).
    assert (
        rows["常山县"][note]
        == "只基于 2/3 个领域；本区县另有未评分：登记财产（可评分指标权重不足一半）"
    )
    assert rows["常山县"][head.index("评分领域数")] == 2
    assert rows["柯城区"][note] in (None, "")
    assert rows["全市"][note] in (None, "")


def test_domain_sheet_lists_every_blank_score_and_why(snapshot, tmp_path):
    ws = openpyxl.load_workbook(workbook(snapshot, tmp_path, "2026Q3"))["D08 登记财产"]
    head = [c.value for c in ws[2]]
    assert head[:3] == ["指标", "单位", "项目"] and head[-1] == "全市"
    # districts best first: 常山县 is not ranked on the domain, so it comes last before 全市
    assert head[3:] == ["柯城区", "衢江区", "常山县", "全市"]
    col = head.index("常山县") + 1
    labels = {ws.cell(row=r, column=3).value: r for r in range(3, 6)}
    assert ws.cell(row=labels["得分"], column=col).value == "—"  # domain score blank …
    texts = [c.value for row in ws.iter_rows(min_row=3) for c in row if isinstance(c.value, str)]
    assert "1. 领域得分：可评分指标权重不足一半，不评分、不排名（常山县）" in texts  # … and why
    (reason,) = [t for t in texts if t.startswith("2. 不动产登记平均用时：")]
    assert "样本量不足" in reason and reason.endswith("（常山县）")
    # the indicator's value is still shown (6.0 工作日), its score and rank are —
    value_row = next(
        r
        for r in range(3, ws.max_row + 1)
        if ws.cell(row=r, column=1).value == "不动产登记平均用时"
    )
    assert ws.cell(row=value_row, column=col).value == 6.0
    assert ws.cell(row=value_row + 1, column=col).value == "—"
    assert ws.cell(row=value_row + 2, column=col).value == "—"


@pytest.mark.skipif(
    not (shutil.which("soffice") and shutil.which("pdfinfo")),
    reason="没有 LibreOffice（soffice）或 poppler",
)
def test_libreoffice_prints_each_sheet_on_landscape_pages(snapshot, tmp_path):
    sheets = print_check.check_workbook(workbook(snapshot, tmp_path, "2026Q3"), tmp_path)
    for s in sheets:
        print(f"{s.sheet}: {s.pages} 页")
        assert s.width_pt > s.height_pt and round(s.width_pt) == 842, s.sheet  # A4 landscape
    # the fixture is small: every sheet fits on one page
    assert {s.sheet: s.pages for s in sheets} == dict.fromkeys(SHEETS, 1)
