"""演示数据 in real headless Chromium: the banner on top of a dashboard page and the badge in the LED
title bar, which must still fit (no clipping, no overlap) at 1920×1080, 3840×2160 and 1280×720."""

from __future__ import annotations

import json

import pytest

from kpi import store
from tests.browser.test_led_browser import _assert_clean, _open
from tests.fixtures.led_fixture import build_led_snapshot
from tests.fixtures.snapshot_fixture import build_fixture_snapshot

pytestmark = pytest.mark.browser

DEMO_META = {
    "demo": "true",
    "demo_records": json.dumps({"approvals": 1250, "hotline": 800, "ratings": 600, "reports": 36}),
    "other_records": "0",
}


def _mark_demo(data_dir) -> None:
    """Republish the fixture warehouse with the snapshot_meta a build over demo loads writes."""
    con = store.connect_warehouse(data_dir)
    try:
        con.executemany(
            "INSERT OR REPLACE INTO snapshot_meta VALUES (?, ?)", list(DEMO_META.items())
        )
    finally:
        con.close()
    store.publish_snapshot(data_dir)


@pytest.fixture(scope="module")
def demo_led(start_app, tmp_path_factory):
    data = tmp_path_factory.mktemp("demo-led") / "warehouse"
    build_led_snapshot(data)
    _mark_demo(data)
    return start_app(data)


@pytest.fixture(scope="module")
def demo_pages(start_app, tmp_path_factory):
    data = tmp_path_factory.mktemp("demo-pages")
    build_fixture_snapshot(data)
    _mark_demo(data)
    return start_app(data)


@pytest.mark.parametrize(("width", "height"), [(1920, 1080), (3840, 2160), (1280, 720)])
def test_the_led_title_says_demo_and_still_fits(browser, demo_led, artifacts, width, height):
    page = _open(browser, f"{demo_led.url}/led?views=overview", width, height)
    try:
        _assert_clean(page)
        badge = page.locator('[data-testid="led-demo"]')
        assert badge.inner_text() == "演示数据"
        b, title = badge.bounding_box(), page.locator(".led-title h1").bounding_box()
        clock = page.locator(".led-clock").bounding_box()
        assert (
            title["x"] <= b["x"] and b["x"] + b["width"] <= clock["x"]
        )  # in the title, left of the clock
        assert b["height"] >= 30 * height / 1080  # readable from across the lobby
        page.screenshot(path=str(artifacts / f"led_demo_{width}.png"))
    finally:
        page.close()


def test_a_dashboard_page_opens_with_the_demo_banner(browser, demo_pages, artifacts):
    page = browser.new_page(viewport={"width": 1440, "height": 900}, locale="zh-CN")
    try:
        page.goto(f"{demo_pages.url}/district?district=330803&period=2026Q2")
        page.get_by_text("对标提升清单").first.wait_for(timeout=60_000)
        banner = page.locator('[data-testid="stAlert"]', has_text="演示数据").first
        banner.wait_for(timeout=30_000)
        assert "2,686 条自动生成的演示记录" in banner.inner_text()
        assert "bizenv reset --demo" in banner.inner_text()
        # above the page's own title
        assert banner.bounding_box()["y"] < page.locator("h1").first.bounding_box()["y"]
        page.wait_for_function(
            "!document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=60_000
        )
        page.wait_for_timeout(800)
        page.screenshot(path=str(artifacts / "demo_banner_district.png"))
    finally:
        page.close()
