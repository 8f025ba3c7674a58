"""The LED screen in real headless Chromium against a real streamlit server, with fast timers.

Checks what a person in the lobby would see: no Streamlit chrome, no scrollbars, nothing clipped
or overlapping at 1920×1080, 3840×2160 and 1280×720, every view without error text, the view
changing after the dwell time (the same on two screens), a newly published snapshot appearing in
place, a broken snapshot leaving the last good data up with a notice, the amber stale stamp.
"""

from __future__ import annotations

import datetime as dt
import math
import shutil
import subprocess
import sys
import time
import urllib.request

import pytest

from kpi import settings
from kpi.led import rotation as led
from tests.browser.conftest import REPO
from tests.fixtures.led_fixture import build_led_snapshot, make_thin

pytestmark = pytest.mark.browser

CHROME = [
    "stHeader",
    "stToolbar",
    "stSidebar",
    "stSidebarNav",
    "stStatusWidget",
    "stMainMenu",
    "stDecoration",
    "stExpandSidebarButton",
    "stSidebarCollapsedControl",
]
ERROR_WORDS = ("Traceback", "Error", "Exception", "错误", "Page not found")

# In the page: every Streamlit chrome element that is visible, scroll extents, clipped text and
# overlapping panels (bounding boxes compared pairwise, 1 px tolerance).
PROBE_JS = """(chrome) => {
  const visible = (el) => { const r = el.getBoundingClientRect(); const s = getComputedStyle(el);
    return s.display !== 'none' && s.visibility !== 'hidden' && r.width > 0 && r.height > 0; };
  const shownChrome = chrome.filter(id =>
    Array.from(document.querySelectorAll(`[data-testid="${id}"]`)).some(visible));
  const de = document.documentElement;
  // text wider than its box; boxes whose content spills out of them (vertical: 2 px for CJK
  // font metrics, which overhang the line box by a pixel or two without cutting any glyph)
  const clipped = Array.from(document.querySelectorAll(
      '.led-kpi, .led-kpi .lab, .led-kpi .delta, .led-title, .led-title h1, .led-clock, .led-strip, ' +
      '.led-panel, .led-panel h2, .led-rank .row, .led-grid .c, .led-grid .rh, .led-honours li'))
    .filter(el => el.scrollWidth > el.clientWidth + 1 ||
                  (/led-(kpi|panel)\b/.test(el.className) && el.scrollHeight > el.clientHeight + 2))
    .map(el => el.className + ': ' + el.textContent.trim().slice(0, 30));
  const boxes = Array.from(document.querySelectorAll('.led-panel, .led-kpi, .led-title, .led-strip'))
    .map(el => [el.className, el.getBoundingClientRect()]);
  const overlaps = [];
  for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
    const [a, ra] = boxes[i], [b, rb] = boxes[j];
    if (ra.left + 1 < rb.right && rb.left + 1 < ra.right && ra.top + 1 < rb.bottom && rb.top + 1 < ra.bottom)
      overlaps.push(a + ' × ' + b);
  }
  const outside = boxes.filter(([, r]) => r.left < -1 || r.top < -1 || r.right > innerWidth + 1
                                          || r.bottom > innerHeight + 1).map(([c]) => c);
  return {chrome: shownChrome, scroll: [de.scrollWidth, de.scrollHeight, innerWidth, innerHeight],
          clipped, overlaps, outside,
          errors: document.querySelectorAll('[data-testid="stException"], [data-testid="stAlert"]').length};
}"""


@pytest.fixture(scope="module")
def led_app(start_app, tmp_path_factory):
    """One server on a fixture snapshot built two hours ago (so ?stale_hours=1 turns it amber)."""
    data = tmp_path_factory.mktemp("led") / "warehouse"
    build_led_snapshot(data, built_at=led.now_local() - dt.timedelta(hours=2))
    return start_app(data)


def _open(browser, url: str, width: int = 1920, height: int = 1080):
    page = browser.new_page(viewport={"width": width, "height": height})
    page.goto(url)
    page.wait_for_selector(".led-kpi", timeout=30_000)
    _settle(page)
    return page


def _settle(page) -> None:
    """Wait until the flip animation is over (boxes measured mid-flip are squashed); the endless
    预警清单 scroll does not count."""
    page.wait_for_function(
        "document.getAnimations().every(a => a.playState !== 'running'"
        " || a.effect.getComputedTiming().iterations === Infinity)",
        timeout=15_000,
    )


def _assert_clean(page) -> None:
    probe = page.evaluate(PROBE_JS, CHROME)
    assert probe["chrome"] == [], f"Streamlit chrome visible: {probe['chrome']}"
    sw, sh, w, h = probe["scroll"]
    assert (sw, sh) == (w, h), f"document {sw}×{sh} larger than the viewport {w}×{h}"
    assert probe["clipped"] == [], probe["clipped"]
    assert probe["overlaps"] == [], probe["overlaps"]
    assert probe["outside"] == [], probe["outside"]
    assert probe["errors"] == 0
    text = page.inner_text("body")
    assert not any(word in text for word in ERROR_WORDS), text[:500]


# every view's HTML is rendered in tests/test_led.py; here one of each kind on a real screen
VIEWS_1920 = ["overview", "map", "hotline", "approvals", "domain:credit"]


@pytest.mark.parametrize("view", VIEWS_1920)
def test_views_at_1920(browser, led_app, artifacts, view):
    page = _open(browser, f"{led_app.url}/led?views={view}")
    try:
        assert page.get_attribute("[data-view]", "data-view") == view
        _assert_clean(page)
        assert "营商环境监测一屏通览" in page.inner_text(".led-title")
        assert "统计期 2026年第三季度" in page.inner_text(".led-strip")
        page.screenshot(path=str(artifacts / f"led_1920_{view.replace(':', '_')}.png"))
        if view == "overview":
            _assert_overview_numbers(page)
    finally:
        page.close()


@pytest.mark.parametrize(("width", "height"), [(3840, 2160), (1280, 720)])
def test_scales_to_4k_and_720p(browser, led_app, artifacts, width, height):
    page = _open(browser, f"{led_app.url}/led?views=overview", width, height)
    try:
        _assert_clean(page)
        # the canvas fills the screen: the title bar spans the full width
        box = page.locator(".led-title").bounding_box()
        assert box["width"] == pytest.approx(width, abs=2)
        # type scales with the screen: the 综合指数 digits are 74/1080 of the height — measured
        # once their flip-in (0.6 s, from rotateX(80deg): a sixth of the height) has finished
        page.wait_for_function(
            "() => document.getAnimations()"
            ".filter(a => a.animationName === 'led-flip')"
            ".every(a => a.playState === 'finished')"
        )
        tile = page.locator(".led-kpi .fd").first.bounding_box()
        assert tile["height"] == pytest.approx(74 * height / 1080, abs=2)
        page.screenshot(path=str(artifacts / f"led_{width}_overview.png"))
    finally:
        page.close()


@pytest.mark.parametrize(("width", "height"), [(1280, 720), (1920, 1080), (3840, 2160)])
def test_grid_headers_do_not_break_badly(browser, led_app, width, height):
    """The 18 domain headers are one vertical line of the same height each (the catalogue's
    short names); an indicator header's unit "（工作日）" stays on one line of its own."""
    page = _open(browser, f"{led_app.url}/led?views=overview", width, height)
    try:
        heads = page.evaluate(
            """() => [...document.querySelectorAll('.led-grid .hd.v')].map(e => {
                 const r = document.createRange(); r.selectNodeContents(e);
                 return [e.textContent, r.getClientRects().length,
                         Math.round(r.getBoundingClientRect().height)]; })"""
        )
        assert len(heads) == 18
        assert all(lines == 1 for _, lines, _ in heads), heads  # one vertical line each
        assert max(len(text) for text, _, _ in heads) == 4, heads  # 劳动力监管 stood out
        four = {h for text, _, h in heads if len(text) == 4}
        assert max(four) - min(four) <= 2, heads  # all of 4 characters: the same height
    finally:
        page.close()
    page = _open(browser, f"{led_app.url}/led?views=domain:government_services", width, height)
    try:
        units = page.evaluate(
            """() => [...document.querySelectorAll('.led-grid .hd .u')].map(e =>
                 [e.textContent, e.getClientRects().length])"""
        )
        assert units and all(n == 1 for _, n in units), units
        assert "（工作日）" in {u for u, _ in units}
    finally:
        page.close()


def _assert_overview_numbers(page) -> None:
    """The fixture's hand-written 2026Q3 figures, as the flip counters and ranking show them."""
    values = page.evaluate(
        "Object.fromEntries(Array.from(document.querySelectorAll('.led-kpi'))"
        ".map(e => [e.dataset.label, e.dataset.value]))"
    )
    assert values == {
        "综合指数": "78.6",
        "企业诉求解决率": "96.2",
        "满意率": "93.5",
        "好评率": "99.1",
        "平均办理用时": "3.4",
        "全程网办率": "87.5",
        "季度办件量": "1,250",
    }
    ranking = page.inner_text(".led-rank")
    assert ranking.index("柯城") < ranking.index("衢江") < ranking.index("开化")
    honours = page.inner_text(".led-honours")
    assert (
        honours.index("进步榜")
        < honours.index("柯城")
        < honours.index("退步榜")
        < honours.index("开化")
    )


def test_view_changes_after_dwell_and_two_screens_agree(browser, led_app):
    dwell = 3
    views = ["overview", "hotline", "ratings"]
    url = f"{led_app.url}/led?dwell={dwell}&views={','.join(views)}"
    a, b = _open(browser, url), _open(browser, url)
    try:
        # watch for flicker while the fragment reruns (every second) and the view changes: the
        # LED elements must never be dimmed (stale) or hidden, the running indicator never shown
        a.evaluate("""() => { window.__dim = []; setInterval(() => {
            for (const el of document.querySelectorAll('.led-frame:not(.led-offline-note)')) {
              let n = el; while (n && n !== document.body) {
                const s = getComputedStyle(n);
                if (parseFloat(s.opacity) < 1 || s.visibility === 'hidden' || s.display === 'none')
                  window.__dim.push(n.className || n.dataset.testid || n.tagName);
                n = n.parentElement; } }
            const sw = document.querySelector('[data-testid=stStatusWidget]');
            if (sw && sw.getBoundingClientRect().height > 0 && getComputedStyle(sw).display !== 'none')
              window.__dim.push('status widget');
          }, 50); }""")
        first = a.get_attribute("[data-view]", "data-view")
        a.wait_for_function(
            "v => { const e = document.querySelector('[data-view]'); return !!e && e.dataset.view !== v }",
            arg=first,
            timeout=15_000,
        )
        # sample well inside a dwell window: both screens show the view the wall clock names
        deadline = time.monotonic() + 2 * dwell
        while not 1.2 <= math.fmod(time.time(), dwell) <= 1.8 and time.monotonic() < deadline:
            time.sleep(0.05)
        expected = views[math.floor(time.time() / dwell) % len(views)]
        # Each screen redraws on its own 1 s tick, so on a busy machine one may still be a tick
        # behind at the sample: give both until the middle of the window (still the same view).
        for screen in (a, b):
            screen.wait_for_function(
                "v => document.querySelector('[data-view]')?.dataset.view === v",
                arg=expected,
                timeout=1_200,
            )
        assert a.get_attribute("[data-view]", "data-view") == expected
        assert b.get_attribute("[data-view]", "data-view") == expected
        assert a.evaluate("window.__dim.slice(0, 5)") == []
    finally:
        a.close()
        b.close()


def test_mode_query_opens_the_screen_and_dashboard_keeps_its_navigation(browser, led_app):
    page = _open(browser, f"{led_app.url}/?mode=led&views=ratings")
    try:
        assert page.url.endswith("/led?views=ratings")
        assert page.get_attribute("[data-view]", "data-view") == "ratings"
        _assert_clean(page)
        page.goto(led_app.url + "/")  # the dashboard: sidebar navigation, no LED canvas or CSS
        page.wait_for_selector("[data-testid=stSidebarNav]", timeout=30_000)
        assert page.locator(".led-frame").count() == 0
        assert page.evaluate("getComputedStyle(document.body).overflow") != "hidden"
    finally:
        page.close()


def test_scheduled_full_reload_comes_back(browser, led_app):
    """reload_hours=0.001 (3.6 s): the page reloads itself (after checking the server is up)."""
    page = _open(browser, f"{led_app.url}/led?views=overview&reload_hours=0.001")
    try:
        assert page.evaluate("typeof window.__bizenvLedReload") == "number"
        page.evaluate("window.__beforeReload = 1")
        page.wait_for_function("window.__beforeReload === undefined", timeout=15_000)
        page.wait_for_selector(".led-kpi", timeout=30_000)
        _assert_clean(page)
    finally:
        page.close()


def test_stale_stamp_turns_amber(browser, led_app):
    page = _open(browser, f"{led_app.url}/led?views=overview&stale_hours=1")
    try:
        stamp = page.locator("[data-testid=led-stamp]")
        assert "stale" in stamp.get_attribute("class")
        assert "数据已 2 小时未更新" in stamp.inner_text()
        color = stamp.evaluate("e => getComputedStyle(e).color")
        assert color == "rgb(255, 176, 32)"  # AMBER #ffb020
    finally:
        page.close()
    # built two hours ago, but the newest record is of 2026-09-30: by default (数据截至 older than
    # 168 h) that is stale too — a rebuild over exports that stopped arriving
    page = _open(browser, f"{led_app.url}/led?views=overview")
    try:
        stamp = page.locator("[data-testid=led-stamp]")
        assert "stale" in stamp.get_attribute("class")
        assert "数据截至 2026-09-30" in stamp.inner_text() and "没有新数据" in stamp.inner_text()
    finally:
        page.close()
    # with a year allowed for 数据截至 and the default 72 h for 更新于: fresh
    page = _open(browser, f"{led_app.url}/led?views=overview&stale_data_hours=8760")
    try:
        assert "stale" not in page.get_attribute("[data-testid=led-stamp]", "class")
        assert "数据截至 2026-09-30" in page.inner_text("[data-testid=led-stamp]")
    finally:
        page.close()


def test_new_snapshot_appears_in_place_and_broken_one_keeps_last_good(
    browser, start_app, tmp_path_factory, artifacts
):
    data = tmp_path_factory.mktemp("led-publish") / "warehouse"
    build_led_snapshot(data)
    app = start_app(data)
    page = _open(browser, f"{app.url}/led?views=overview&refresh=2")
    index = ".led-kpi[data-label='综合指数']"
    try:
        assert page.get_attribute(index, "data-value") == "78.6"
        page.evaluate("window.__sameDocument = 1")  # a full reload would lose this
        build_led_snapshot(data, city_overall_bump=5.0)  # the ETL publishes: 78.6 → 83.6
        page.wait_for_function(
            f"document.querySelector(\"{index}\").dataset.value === '83.6'", timeout=15_000
        )
        assert page.evaluate("window.__sameDocument") == 1
        assert "8\n3\n.\n6" in page.inner_text(index) or "83.6" in page.inner_text(index).replace(
            "\n", ""
        )

        # the snapshot CURRENT names is broken: last good data stays, with a notice
        snaps = settings.data_dir(data) / "snapshots"
        broken = snaps / "snapshot-99999999T000000-broken.duckdb"
        broken.write_bytes(b"this is not a duckdb file")
        (settings.data_dir(data) / "CURRENT").write_text(broken.name + "\n", encoding="utf-8")
        page.wait_for_selector("[data-testid=led-notice]", timeout=15_000)
        assert "数据快照读取失败" in page.inner_text("[data-testid=led-notice]")
        assert page.get_attribute(index, "data-value") == "83.6"
        _assert_clean(page)
        page.screenshot(path=str(artifacts / "led_1920_broken_snapshot.png"))

        # everything gone (data dir wiped): still the last good data, still no error page
        shutil.rmtree(settings.data_dir(data))
        page.wait_for_function(
            "document.querySelector('[data-testid=led-notice]').textContent.includes('未找到数据快照')",
            timeout=15_000,
        )
        assert page.get_attribute(index, "data-value") == "83.6"
    finally:
        page.close()


def _restart_on_same_port(app) -> None:
    """Start the server again where the screen expects it (the session teardown stops it)."""
    env = app.env  # the same data dir and application database (the screen stays signed in)
    app.proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            str(REPO / "dashboard.py"),
            "--server.port",
            str(app.port),
            "--server.headless",
            "true",
            "--server.address",
            "127.0.0.1",
            "--browser.gatherUsageStats",
            "false",
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(app.url + "/_stcore/health", timeout=1)
            return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError("streamlit did not come back within 60 s")


VISIBLE_DIALOGS_JS = """Array.from(document.querySelectorAll(
    '[role=dialog], [data-baseweb=modal], [data-testid=stDialog]'))
  .filter(e => getComputedStyle(e).display !== 'none' && e.getBoundingClientRect().width > 0).length"""


def test_server_restart_shows_a_chinese_note_then_recovers(
    browser, start_app, tmp_path_factory, artifacts
):
    data = tmp_path_factory.mktemp("led-restart") / "warehouse"
    build_led_snapshot(data)
    app = start_app(data)
    page = _open(browser, f"{app.url}/led?views=overview,hotline&dwell=3&watchdog=1")
    try:
        assert not page.locator(".led-offline-note").is_visible()
        app.stop()
        page.wait_for_selector(".led-offline-note", state="visible", timeout=15_000)
        page.wait_for_timeout(4_000)  # long enough for Streamlit's own "Connection error" modal
        assert "连接已中断" in page.inner_text(".led-offline-note")
        assert page.evaluate(VISIBLE_DIALOGS_JS) == 0
        # nothing (no backdrop) lies over the screen: every element hit mid-screen is an ancestor of
        # the LED canvas (the canvas itself has pointer-events: none)
        assert page.evaluate("""document.elementsFromPoint(960, 600)
            .every(e => e.contains(document.querySelector('.led-frame')))""")
        assert page.locator(".led-kpi").count() > 0  # the last data stays on screen
        page.screenshot(path=str(artifacts / "led_1920_server_down.png"))

        _restart_on_same_port(app)
        page.wait_for_selector(".led-offline-note", state="hidden", timeout=30_000)
        view = page.get_attribute("[data-view]", "data-view")
        page.wait_for_function(  # the rotation runs again: the fragment timer is back
            "v => { const e = document.querySelector('[data-view]'); return !!e && e.dataset.view !== v }",
            arg=view,
            timeout=30_000,
        )
        assert page.evaluate(VISIBLE_DIALOGS_JS) == 0
    finally:
        page.close()


def test_thin_quarter_skips_empty_views_and_says_why(
    browser, start_app, tmp_path_factory, artifacts
):
    """获得信贷 and 跨境贸易 have no 2026Q3 data: their views are left out of the rotation, the
    ranking says it rests on 15–16 of 18 domains, an unranked district says why."""
    data = tmp_path_factory.mktemp("led-thin") / "warehouse"
    build_led_snapshot(data)
    make_thin(data)
    app = start_app(data)
    page = _open(browser, f"{app.url}/led?views=overview,credit,taxes,cross_border_trade")
    try:  # which of the two is up depends on the clock; the rotation has only these two
        assert page.inner_text(".led-strip .dots em").endswith("/2")
        assert page.get_attribute("[data-view]", "data-view") in ("overview", "domain:taxes")
    finally:
        page.close()
    page = _open(browser, f"{app.url}/led?views=overview")
    try:
        _assert_clean(page)
        assert page.inner_text(".rankp h2 small.warn") == "依据15–16/18个领域"
        page.screenshot(path=str(artifacts / "led_1920_thin_overview.png"))
    finally:
        page.close()
    page = _open(browser, f"{app.url}/led?views=taxes")
    try:
        _assert_clean(page)
        row = page.locator(".led-rank .row", has_text="开化")
        assert "样本不足" in row.inner_text() and "—" in row.inner_text()
        page.screenshot(path=str(artifacts / "led_1920_thin_taxes.png"))
    finally:
        page.close()
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    try:  # only empty views chosen: a message, never the green all-clear over empty panels
        page.goto(f"{app.url}/led?views=credit")
        page.wait_for_selector(".led-message", timeout=30_000)
        text = page.inner_text("body")
        assert "2026年第三季度暂无可显示的数据" in text and "本期无红色预警指标" not in text
    finally:
        page.close()
