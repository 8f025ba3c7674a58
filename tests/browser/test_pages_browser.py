"""The dashboard in real headless Chromium on the fixture snapshot: overview and district page load,
a click in the ranking opens the district profile, a click on a weak indicator opens its records,
a deep link opened first after a restart still goes through the entry point. Screenshots land in
tests/artifacts/ for a person to look at."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.fixtures.snapshot_fixture import build_fixture_snapshot

pytestmark = pytest.mark.browser

ROW_H = 35  # st.dataframe default row height (px), header row included


@pytest.fixture(scope="module")
def app(start_app, tmp_path_factory):
    data = tmp_path_factory.mktemp("browser-data")
    build_fixture_snapshot(data)
    return start_app(data)


@pytest.fixture
def page(browser):
    ctx = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
    p = ctx.new_page()
    yield p
    ctx.close()


def settle(page, text: str) -> None:
    """Wait until `text` is on screen and Streamlit has finished running the script (no status
    widget, no element left stale by a rerun — the map's selection can start one)."""
    page.get_by_text(text, exact=False).first.wait_for(timeout=60_000)
    for _ in range(2):
        page.wait_for_function(
            "!document.querySelector('[data-testid=\"stStatusWidget\"]')"
            " && !document.querySelector('[data-stale=\"true\"]')",
            timeout=60_000,
        )
        page.wait_for_timeout(800)


def settle_overview(page) -> None:
    """The overview with its six headline cards drawn."""
    settle(page, "综合排名")
    page.locator('[data-testid="stMetric"]').nth(5).wait_for(timeout=30_000)


def shoot(page, artifacts, name: str) -> None:
    height = page.evaluate("""() => { const b = document.querySelector('[data-testid="stMainBlockContainer"]');
                                      return b ? b.scrollHeight + 120 : 900 }""")
    page.set_viewport_size({"width": 1440, "height": min(int(height), 5000)})
    page.wait_for_timeout(500)
    page.screenshot(path=str(artifacts / f"{name}.png"), full_page=True)
    page.set_viewport_size({"width": 1440, "height": 900})


def grid_text(page, table_index: int = 0) -> str:
    """The cells glide renders for screen readers (the grid itself is a canvas)."""
    return page.locator('[data-testid="stDataFrame"]').nth(table_index).text_content() or ""


def click_row(page, table_index: int, row: int) -> None:
    """Click the selection checkbox of `row` (0-based) in the n-th st.dataframe on the page."""
    grid = page.locator('[data-testid="stDataFrame"]').nth(table_index)
    grid.scroll_into_view_if_needed()
    box = grid.bounding_box()
    page.mouse.click(box["x"] + 18, box["y"] + ROW_H * (row + 1) + ROW_H / 2)


def test_deep_link_goes_through_the_entry_point(app, page):
    # first in this module: the server has not run the entry point yet (Streamlit's pages/ fallback)
    page.goto(f"{app.url}/district?district=330803&period=2026Q2")
    settle(page, "对标提升清单")
    # the bare pages/ run re-runs itself through dashboard.py: wait for that run's navigation
    # (on a busy machine it can land after the first render), then check it is ours
    page.wait_for_function(
        "() => (document.querySelector('[data-testid=\"stSidebarNav\"]')?.innerText || '').includes('区县画像')",
        timeout=30_000,
    )
    settle(page, "对标提升清单")
    nav = page.inner_text('[data-testid="stSidebarNav"]')
    assert "区县画像" in nav and "district" not in nav  # our navigation, not the pages/ file list
    body = page.inner_text("body")
    assert "衢江区" in body and "第3名" in body  # 衢江区 was third in 2026Q2 (62.3)


def test_overview_loads_with_cards_ranking_and_heatmap(app, page, artifacts):
    page.goto(app.url)
    settle_overview(page)
    assert page.locator('[data-testid="stException"]').count() == 0
    body = page.inner_text("body")
    assert "衢州市营商环境指标看板" in body
    assert (
        "71.3" in body and "90.0%" in body
    )  # city overall index and 诉求解决率 (fixture, by hand)
    assert "数据截至 2026-11-19 17:45" in body
    assert page.locator('[data-testid="stMetric"]').count() == 6
    page.locator('[data-testid="stDataFrame"]').nth(1).wait_for(timeout=30_000)
    assert page.locator('[data-testid="stDataFrame"]').count() == 2  # ranking + heatmap
    shoot(page, artifacts, "browser_overview")

    # the ranking's CSV download: UTF-8 with BOM, Chinese headers, the fixture's scores
    with page.expect_download(timeout=30_000) as info:
        page.get_by_role("button", name="下载 CSV").first.click()
    data = Path(info.value.path()).read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig")
    assert text.splitlines()[0] == "排名,区县,综合指数,名次变化,环比,环比趋势,红色指标,等级,覆盖"
    assert "1,柯城区,88.1,0,2.44,进步,0,绿" in text  # numbers and words, no ▲/● display text

    with page.expect_download(timeout=60_000) as info:
        page.get_by_role("button", name="下载 2026Q3 季度评议材料（XLSX）").click()
    assert info.value.suggested_filename == "2026Q3季度评议材料.xlsx"
    assert Path(info.value.path()).read_bytes()[:2] == b"PK"  # a zip: an XLSX workbook


def test_desk_shows_no_streamlit_menu_and_no_second_csv_download(app, page):
    """.streamlit/config.toml: toolbarMode minimal (no ⋮ menu, no "Made with Streamlit") and
    disableDataExport (the table toolbar has no CSV download beside our own 下载 CSV)."""
    page.goto(app.url)
    settle_overview(page)
    assert page.locator('[data-testid="stMainMenu"]').count() == 0
    assert "Made with Streamlit" not in page.inner_text("body")
    grid = page.locator('[data-testid="stDataFrame"]').first
    grid.hover()
    toolbar = page.locator('[data-testid="stElementToolbar"]').first
    toolbar.wait_for(state="attached", timeout=10_000)
    labels = [
        (b.get_attribute("aria-label") or b.inner_text() or "")
        for b in toolbar.locator("button").all()
    ]
    assert labels, "the table toolbar did not appear on hover"
    assert not [x for x in labels if "download" in x.lower() or "下载" in x], labels
    assert page.get_by_role("button", name="下载 CSV").count() >= 1  # our own download is there


def test_ranking_click_opens_district_then_records(app, page, artifacts):
    page.goto(app.url)
    settle_overview(page)
    click_row(page, 0, 2)  # 常山县, rank 3
    page.wait_for_url(re.compile(r"/district\?.*district=330822"), timeout=30_000)
    settle(page, "对标提升清单")
    body = page.inner_text("body")
    assert "第3名" in body and "52.8" in body
    shoot(page, artifacts, "browser_district")

    # 短板 table is the 2nd dataframe (after the domain table): its first row is 全程网办率 (58.0%)
    click_row(page, 1, 0)
    page.wait_for_url(re.compile(r"/records\?.*indicator=approval_online_rate"), timeout=30_000)
    settle(page, "记录数")
    assert "全程网办率" in page.inner_text("body")
    assert page.locator('[data-testid="stException"]').count() == 0
    shoot(page, artifacts, "browser_records")


def test_records_page_shows_a_whole_page_of_rows_and_sorts_by_header(
    start_app, tmp_path_factory, page, artifacts
):
    """60 more 2026Q3 approvals for 柯城区: page 1 holds 50 rows, all on screen (not a 10-row box
    with its own scrollbar); a click on the 受理时间 header sorts every record by it."""
    from kpi import store

    data = tmp_path_factory.mktemp("records-data")
    build_fixture_snapshot(data)
    con = store.connect_warehouse(data)
    con.execute(
        """INSERT INTO approvals (case_id, district_code, domain_key, accepted_at, completed_at,
                                  workdays_used, period)
           SELECT 'BJX' || lpad(i::VARCHAR, 4, '0'), '330802', 'government_services',
                  TIMESTAMP '2026-08-01 09:00' + i * INTERVAL 1 HOUR,
                  TIMESTAMP '2026-08-20 09:00', 1, '2026Q3'
           FROM range(60) t(i)"""
    )
    con.close()
    store.publish_snapshot(data)
    app = start_app(data)
    page.set_viewport_size({"width": 1440, "height": 2600})
    page.goto(f"{app.url}/records?period=2026Q3&source=approvals&district=330802")
    settle(page, "记录数")
    assert "64" in page.inner_text('[data-testid="stMetric"]')  # 4 of the fixture + 60
    grid = page.locator('[data-testid="stDataFrame"]').first
    box = grid.bounding_box()
    assert box["height"] >= ROW_H * 51  # header + 50 rows
    shoot(page, artifacts, "browser_records_tall")
    # glide draws the grid on a canvas: click the 办件编号 header (first column, first row)
    page.mouse.click(box["x"] + 40, box["y"] + ROW_H / 2)
    page.wait_for_function(  # the URL is rewritten in place, not navigated
        "location.search.includes('sort=case_id') && location.search.includes('order=desc')",
        timeout=30_000,
    )
    settle(page, "记录数")
    # over all 64 records, not the 50 on screen: BJX0059 sorts last by 办件编号, so leads descending
    assert "BJX0059" in grid_text(page)
    page.mouse.click(box["x"] + 40, box["y"] + ROW_H / 2)  # again: reversed
    page.wait_for_function("location.search.includes('order=asc')", timeout=30_000)
    settle(page, "记录数")
    text = grid_text(page)
    assert "BJ2026070001" in text and "BJX0059" not in text  # page 1 ascending: 0001 … BJX0045


def test_kpi_cards_hold_the_longest_delta(app, page):
    """Every card's change fits: its pill holds "▲ +0.01 个百分点" (a change below 0.05 gets a
    second decimal) without "…" — at 145 px wide the demo's 好评率 read "▲ +0.01 个百分…"."""
    page.goto(app.url)
    settle_overview(page)
    overflow = page.evaluate(
        """() => [...document.querySelectorAll('[data-testid="stMetricDelta"]')].map(d => {
             const leaf = [...d.querySelectorAll('*')].find(e => e.children.length === 0 &&
                                                               e.textContent.trim()) || d;
             leaf.textContent = '▲ +0.01 个百分点';
             // the text's own width against the box that cuts it with "…" (Streamlit's
             // stMarkdownEllipsis, overflow hidden), in fractional pixels: the cut was by a hair
             const range = document.createRange(); range.selectNodeContents(leaf);
             const text = range.getBoundingClientRect().width;
             return [d, ...d.querySelectorAll('*')]
               .filter(e => getComputedStyle(e).overflow !== 'visible')
               .map(e => text - e.getBoundingClientRect().width);
           })"""
    )
    assert len(overflow) == 6 and all(boxes for boxes in overflow), overflow
    assert all(o <= 0 for boxes in overflow for o in boxes), overflow
    # six abreast at 1440 px: every card's top edge on one line
    tops = page.evaluate(
        "[...document.querySelectorAll('[data-testid=\"stMetric\"]')]"
        ".map(m => Math.round(m.getBoundingClientRect().top))"
    )
    assert len(set(tops)) == 1, tops
