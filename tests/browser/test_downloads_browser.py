"""Downloads clicked in real headless Chromium: the 数据 page's per-file quarantine list (every
row, original cells spread into the export's headers) as CSV and XLSX, and the snapshot named
without its server path. Screenshot: tests/artifacts/browser_data_status.png."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import openpyxl
import pytest

from tests.browser.test_pages_browser import settle, shoot
from tests.fixtures.snapshot_fixture import build_fixture_snapshot

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def app(start_app, tmp_path_factory):
    data = tmp_path_factory.mktemp("browser-downloads")
    build_fixture_snapshot(data)
    return start_app(data)


@pytest.fixture
def page(browser):
    ctx = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
    p = ctx.new_page()
    yield p
    ctx.close()


def test_data_page_downloads_every_quarantined_row_of_a_file(app, page, artifacts):
    page.goto(f"{app.url}/data_status")
    settle(page, "按文件下载全部隔离行")
    assert page.locator('[data-testid="stException"]').count() == 0
    body = page.inner_text("body")
    assert "当前快照：snapshot-" in body and str(app.data_dir) not in body
    shoot(page, artifacts, "browser_data_status")

    # the newest load is picked first: 12345工单_2026Q3.xlsx, one row
    with page.expect_download(timeout=30_000) as info:
        page.get_by_role("button", name="下载全部隔离行 CSV").click()
    assert info.value.suggested_filename == "12345工单_2026Q3_隔离行.csv"
    text = Path(info.value.path()).read_bytes().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows == [
        ["文件", "行号", "问题列", "隔离原因", "工单编号", "所属区县"],
        [
            "12345工单_2026Q3.xlsx",
            "5",
            "所属区县",
            "无法识别的区县：衢州高新区",
            "GD202607009901",
            "衢州高新区",
        ],
    ]

    # pick the approvals file: both of its rows, as XLSX
    page.get_by_label("文件", exact=True).click()  # not the 上传导出文件 uploader above
    page.get_by_role("option", name="办件_2026Q3.csv（办件，2 行，2026-11-19 18:00 导入）").click()
    settle(page, "按文件下载全部隔离行")
    with page.expect_download(timeout=30_000) as info:
        page.get_by_role("button", name="下载全部隔离行 XLSX").click()
    assert info.value.suggested_filename == "办件_2026Q3_隔离行.xlsx"
    ws = openpyxl.load_workbook(io.BytesIO(Path(info.value.path()).read_bytes())).active
    assert [[c.value for c in r] for r in ws.iter_rows(min_row=2)] == [
        [
            "办件_2026Q3.csv",
            7,
            "办结时间",
            "办结时间早于受理时间",
            "BJ2026079901",
            "2026-08-02 09:00",
            "2026-08-01 10:00",
        ],
        [
            "办件_2026Q3.csv",
            11,
            "办结时间",
            "办结时间早于受理时间",
            "BJ2026079902",
            "2026-09-10 09:00",
            "2026-09-09 12:00",
        ],
    ]
