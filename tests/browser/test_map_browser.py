"""The district map in real headless Chromium: on 总览 the right district under the right score
(the figure's data against overall_scores read by a query of its own), a district's tooltip under
the mouse, a click that opens its 区县画像; the LED's 挂图作战 at 1920×1080 and 3840×2160; and a
catalogue without boundaries: a Chinese note, no map. Screenshots in tests/artifacts/."""

from __future__ import annotations

import shutil

import pytest

from kpi import settings, store
from tests.browser.conftest import REPO
from tests.browser.test_led_browser import _assert_clean, _open
from tests.fixtures.led_fixture import build_led_snapshot

pytestmark = pytest.mark.browser

# the fill traces' meta ([district_code, score]) and the plot's own pixel mapping
FIGURE_JS = """() => {
  const gd = Array.from(document.querySelectorAll('.js-plotly-plot'))
    .find(g => (g.data || []).some(t => t.fill === 'toself' && Array.isArray(t.meta)));
  if (!gd) return null;
  const fills = gd.data.filter(t => t.fill === 'toself').map(t => [t.meta[0], t.meta[1], t.name]);
  return {fills};
}"""

# page coordinates of a lon/lat point on that plot
PIXEL_JS = """([lon, lat]) => {
  const gd = Array.from(document.querySelectorAll('.js-plotly-plot'))
    .find(g => (g.data || []).some(t => t.fill === 'toself'));
  const fl = gd._fullLayout, box = gd.getBoundingClientRect();
  return [box.left + fl._size.l + fl.xaxis.l2p(lon), box.top + fl._size.t + fl.yaxis.l2p(lat)];
}"""


@pytest.fixture(scope="module")
def map_app(start_app, tmp_path_factory):
    data = tmp_path_factory.mktemp("map") / "warehouse"
    build_led_snapshot(data)
    return start_app(data)


def _scores(data_dir) -> dict[str, float]:
    con = store.connect_snapshot(store.current_snapshot_path(settings.DataDir.of(data_dir)))
    try:
        period = con.execute(
            "SELECT value FROM snapshot_meta WHERE key = 'latest_complete_period'"
        ).fetchone()[0]
        rows = con.execute(
            "SELECT district_code, score FROM overall_scores WHERE period = ? AND NOT is_city",
            [period],
        ).fetchall()
    finally:
        con.close()
    return {code: score for code, score in rows}


def _settle(page, text: str) -> None:
    page.get_by_text(text, exact=False).first.wait_for(timeout=60_000)
    page.wait_for_function(
        "!document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=60_000
    )
    page.wait_for_timeout(800)


def test_overview_map_right_district_under_right_score_and_click(browser, map_app, artifacts):
    want = _scores(map_app.data_dir)
    ctx = browser.new_context(viewport={"width": 1600, "height": 1000}, locale="zh-CN")
    page = ctx.new_page()
    try:
        page.goto(map_app.url + "/")
        _settle(page, "区县地图")
        page.wait_for_function(f"({FIGURE_JS})() !== null", timeout=30_000)
        fig = page.evaluate(FIGURE_JS)
        got = {code: score for code, score, _ in fig["fills"]}
        assert set(got) == set(want)
        for code, score in want.items():
            assert got[code] == pytest.approx(score), code
        names = {code: name for code, _, name in fig["fills"]}
        assert names["330824"] == "开化县"
        # the drawn shapes: one filled path per district
        plot = page.locator(".js-plotly-plot").filter(has=page.locator(".scatterlayer")).last
        plot.scroll_into_view_if_needed()
        page.wait_for_timeout(500)
        page.screenshot(path=str(artifacts / "overview_map.png"))
        # hover over 开化县 (a point well inside it: its label point, from kpi.geo)
        from kpi import geo

        b = geo.load(
            [{"district_code": c, "district_name": n} for c, n in names.items()],
            city_code="330800",
        ).boundaries
        lon, lat = b.centroids["330824"]
        x, y = page.evaluate(PIXEL_JS, [lon, lat + 0.05])
        page.mouse.move(x, y)
        tip = page.locator(".hoverlayer .hovertext").first
        tip.wait_for(timeout=10_000)
        text = tip.text_content() or ""
        assert "开化县" in text and f"综合指数 {want['330824']:.1f}" in text, text
        page.screenshot(path=str(artifacts / "overview_map_hover.png"))
        page.mouse.click(x, y)
        page.wait_for_url("**/district?*district=330824*", timeout=30_000)
        _settle(page, "区县画像")
        assert page.locator("h1").first.text_content().strip() == "区县画像"
        # the profile is 开化县's (its own subheader), not the picker's default first district
        page.get_by_text("开化县 · 各领域得分").first.wait_for(timeout=30_000)
        page.screenshot(path=str(artifacts / "overview_map_click_district.png"))
    finally:
        ctx.close()


@pytest.mark.parametrize(("width", "height"), [(1920, 1080), (3840, 2160)])
def test_led_map_view_clean_at_full_hd_and_4k(browser, map_app, artifacts, width, height):
    page = _open(browser, f"{map_app.url}/led?views=map", width, height)
    try:
        assert page.get_attribute("[data-view]", "data-view") == "map"
        _assert_clean(page)
        img = page.locator('img[alt="区县地图"]')
        box = img.bounding_box()
        # the map fills most of its panel: not a thumbnail (design px × the screen's scale)
        scale = width / 1920
        assert box["height"] > 500 * scale and box["width"] > 700 * scale, box
        rows = page.locator(".led-mapt .r[data-code]")
        assert rows.count() == 6
        page.screenshot(path=str(artifacts / f"led_map_{width}.png"))
    finally:
        page.close()


def test_no_boundaries_note_on_overview(browser, start_app, tmp_path_factory, artifacts):
    data = tmp_path_factory.mktemp("map-none") / "warehouse"
    build_led_snapshot(data)
    empty = tmp_path_factory.mktemp("catalog-without-geojson")  # the demo's, minus the map
    for f in (REPO / "data" / "catalog").iterdir():
        if not f.name.startswith("330800_full"):
            shutil.copy(f, empty / f.name)
    app = start_app(data, BIZENV_CATALOG_DIR=str(empty))
    ctx = browser.new_context(viewport={"width": 1600, "height": 1000}, locale="zh-CN")
    page = ctx.new_page()
    try:
        page.goto(app.url + "/")
        _settle(page, "区县地图")
        note = page.get_by_text("没有区县边界文件", exact=False).first
        note.wait_for(timeout=30_000)
        assert "不显示区县地图" in (note.text_content() or "")
        assert page.evaluate(FIGURE_JS) is None
        text = page.inner_text("body")
        assert "Traceback" not in text and "Error" not in text
    finally:
        ctx.close()
