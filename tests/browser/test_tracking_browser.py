"""The 督办 loop in real headless Chromium (issue 17): the LED's 清障进展, 为企办实事 and 督办任务
views at 1920×1080 and 3840×2160 — no chrome, nothing clipped or overlapping, the hand-counted
figures on screen — and each 督办 page per role, with screenshots to look at."""

from __future__ import annotations

import datetime as dt

import pytest

from kpi import settings
from kpi import store as warehouse
from kpi.led import rotation as led
from tests.browser.test_led_browser import _assert_clean, _settle
from tests.fixtures import tracking_fixture
from tests.fixtures.led_fixture import build_led_snapshot

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def loop_app(start_app, tmp_path_factory):
    """A server on the LED fixture snapshot with its own application database, seeded with the
    hand-counted 督办 items (the session's shared app database stays without them, so the other
    LED tests keep their rotation)."""
    import os

    root = tmp_path_factory.mktemp("loop")
    data = root / "warehouse"
    build_led_snapshot(data, built_at=led.now_local() - dt.timedelta(hours=1))
    url = f"sqlite:///{root / 'app.db'}"
    before = os.environ.get("BIZENV_APP_DB")
    os.environ["BIZENV_APP_DB"] = url
    try:
        dd = settings.DataDir.of(data)
        tracking_fixture.seed(dd, warehouse.current_snapshot_path(dd), led.now_local().date())
        from tests import signin

        tokens = {
            "office": signin.token_for("营商办", data_dir=dd),
            "dept": signin.token_for("部门", department="市人力社保局", data_dir=dd),
            "district": signin.token_for("区县", district="330803", data_dir=dd),
        }
    finally:
        if before is None:
            os.environ.pop("BIZENV_APP_DB", None)
        else:
            os.environ["BIZENV_APP_DB"] = before
    app = start_app(data, BIZENV_APP_DB=url)
    return app, tokens


def _page(browser, app, token, width, height):
    ctx = browser.anonymous_context(viewport={"width": width, "height": height})
    ctx.add_cookies([{"name": "bizenv_session", "value": token, "url": "http://127.0.0.1"}])
    return ctx.new_page()


@pytest.mark.parametrize(("width", "height"), [(1920, 1080), (3840, 2160)])
@pytest.mark.parametrize("view", ["problems", "projects", "tasks"])
def test_loop_views_on_the_led(browser, loop_app, artifacts, view, width, height):
    app, tokens = loop_app
    page = _page(browser, app, tokens["office"], width, height)
    try:
        page.goto(f"{app.url}/led?views={view}")
        page.wait_for_selector(f'[data-view="{view}"] .led-kpi', timeout=30_000)
        _settle(page)
        _assert_clean(page)
        page.screenshot(path=str(artifacts / f"led_{width}_loop_{view}.png"))
        counters = page.get_attribute("[data-view]", "data-counters")
        text = page.inner_text("body")
        if view == "problems":
            assert '"问题总数": "4"' in counters and '"解决率": "50.0"' in counters
            assert '"按期销号率": "100.0"' in counters and '"逾期未办结": "1"' in counters
            assert "第1批" in text
        elif view == "projects":
            assert [page.locator(f".led-card.{c}").count() for c in ("green", "amber", "red")] == [
                1,
                1,
                1,
            ]
            assert "红项目" in text and "受阻" in text
        else:
            assert "逾期 12 天" in text and "测试指标" in text
            assert "常山县市场监管局" in text and "柯城区人力社保局" in text
    finally:
        page.context.close()


PAGES = [
    "tracking_tasks",
    "tracking_problems",
    "tracking_projects",
    "tracking_benchmarks",
    "tracking_awards",
]


@pytest.mark.parametrize("who", ["office", "dept", "district"])
def test_tracking_pages_per_role(browser, loop_app, artifacts, who):
    app, tokens = loop_app
    page = _page(browser, app, tokens[who], 1600, 1100)
    try:
        for name in PAGES:
            page.goto(f"{app.url}/{name}")
            page.wait_for_selector("h1", timeout=30_000)
            page.wait_for_timeout(1500)
            assert page.locator('[data-testid="stException"]').count() == 0, name
            assert "Traceback" not in page.inner_text("body")
            page.screenshot(path=str(artifacts / f"tracking_{who}_{name}.png"), full_page=True)
        if who == "district":  # 区县 330803 sees T-3 and T-4 only
            page.goto(f"{app.url}/tracking_problems")
            page.wait_for_selector("h1", timeout=30_000)
            page.wait_for_timeout(1500)
            assert "T-1" not in page.inner_text("body")
    finally:
        page.context.close()


def test_a_department_reports_evidence_on_its_own_problem(browser, loop_app, artifacts):
    """部门 市人力社保局 picks its problem T-2 in the table, writes 佐证, saves: stored, audited with
    its name; the status choices it gets are 整改中 and 已解决 only."""
    import os

    import sqlalchemy as sa

    from office import store
    from office.models import AuditEvent
    from office.tracking import items

    app, tokens = loop_app
    page = _page(browser, app, tokens["dept"], 1600, 1100)
    try:
        page.goto(f"{app.url}/tracking_problems")
        grid = page.locator('[data-testid="stDataFrame"]').first
        grid.wait_for(timeout=30_000)
        page.wait_for_timeout(1500)
        box = grid.bounding_box()
        assert box is not None
        row_h = 35  # Glide data grid: header and rows 35 px
        page.mouse.click(box["x"] + 18, box["y"] + row_h + row_h * 1 + row_h / 2)  # second row: T-2
        page.get_by_text("T-2 · 衢州测试有限公司").wait_for(timeout=15_000)
        page.get_by_label("佐证").fill("整改报告（浏览器）")
        page.get_by_role("button", name="保存").click()
        page.wait_for_timeout(3000)
        page.screenshot(path=str(artifacts / "tracking_dept_problem_saved.png"), full_page=True)
    finally:
        page.context.close()
    before = os.environ.get("BIZENV_APP_DB")
    os.environ["BIZENV_APP_DB"] = app.env["BIZENV_APP_DB"]
    try:
        dd = settings.DataDir.of(app.data_dir)
        p = items.problems(dd)
        assert p.loc[p["number"] == "T-2", "evidence"].tolist() == ["整改报告（浏览器）"]
        with store.session(dd) as s:
            ev = s.scalars(
                sa.select(AuditEvent).where(AuditEvent.action == "tracking_change")
            ).all()
        assert [(e.actor, e.outcome) for e in ev][-1][1] == "ok"
        assert "整改报告（浏览器）" in (ev[-1].details or "") and ev[-1].actor.startswith(
            "test-department"
        )
    finally:
        if before is None:
            os.environ.pop("BIZENV_APP_DB", None)
        else:
            os.environ["BIZENV_APP_DB"] = before
        store.dispose_all()
