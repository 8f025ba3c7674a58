"""The 督办 pages (AppTest through dashboard.py) for each role, with items and empty; the LED's
督办 views as data and HTML; figures checked against tests/fixtures/tracking_fixture.py."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from kpi import store as warehouse
from kpi.led import loop
from kpi.settings import DataDir
from office.tracking import views
from tests.fixtures import tracking_fixture

DASHBOARD = str(Path(__file__).resolve().parents[1] / "dashboard.py")
PAGES = {
    "pages/tracking_tasks.py": "督办任务",
    "pages/tracking_problems.py": "清障问题",
    "pages/tracking_projects.py": "为企办实事",
    "pages/tracking_benchmarks.py": "双对标",
    "pages/tracking_awards.py": "蜗牛奖 · 骏马奖",
}
TODAY = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).date()


@pytest.fixture
def snapshot(fixture_snapshot_dir, isolated_data_dir) -> DataDir:
    isolated_data_dir.mkdir(parents=True)
    shutil.copy(fixture_snapshot_dir / "CURRENT", isolated_data_dir / "CURRENT")
    shutil.copytree(fixture_snapshot_dir / "snapshots", isolated_data_dir / "snapshots")
    return DataDir.of(isolated_data_dir)


@pytest.fixture
def seeded(snapshot) -> DataDir:
    tracking_fixture.seed(snapshot, warehouse.current_snapshot_path(snapshot), TODAY)
    return snapshot


def open_page(page: str) -> AppTest:
    at = AppTest.from_file(DASHBOARD, default_timeout=60)
    at.run()
    at.switch_page(page)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


@pytest.mark.parametrize("page", list(PAGES))
def test_each_page_opens_for_the_office_with_items(seeded, page):
    at = open_page(page)
    assert [t.value for t in at.title] == [PAGES[page]]


def test_problem_figures_on_the_page_match_the_hand_counts(seeded):
    got = metrics(open_page("pages/tracking_problems.py"))
    assert got == {
        "问题总数": "4",
        "已解决": "2",
        "解决率": "50.0%",
        "按期销号率": "100.0%",
        "逾期未办结": "1",
    }


def test_project_board_counts_each_colour(seeded):
    got = metrics(open_page("pages/tracking_projects.py"))
    assert got["项目"] == "3"
    assert [got[k] for k in ("绿（进展顺利）", "黄（相对迟缓）", "红（受阻）")] == ["1", "1", "1"]


def test_tasks_page_counts_the_overdue_task(seeded):
    got = metrics(open_page("pages/tracking_tasks.py"))
    assert got["逾期"] == "1" and got["督办中"] == "1"


@pytest.mark.parametrize("page", list(PAGES))
def test_each_page_has_an_empty_state(snapshot, page):
    at = open_page(page)
    assert [t.value for t in at.title] == [PAGES[page]]
    if page in (
        "pages/tracking_tasks.py",
        "pages/tracking_problems.py",
        "pages/tracking_projects.py",
    ):
        assert any("还没有" in i.value for i in at.info), [i.value for i in at.info]


@pytest.mark.signed_in_as("部门", department="市人力社保局")
def test_a_department_sees_only_its_problems_and_no_import(seeded):
    at = open_page("pages/tracking_problems.py")
    assert metrics(at)["问题总数"] == "4"  # all four are 市人力社保局's
    assert not [e for e in at.expander if "导入" in e.label]
    assert any("本部门负责事项" in c.value for c in at.caption)


@pytest.mark.signed_in_as("区县", district="330803")
def test_a_district_sees_only_its_districts_problems(seeded):
    at = open_page("pages/tracking_problems.py")
    assert metrics(at)["问题总数"] == "2"  # T-3, T-4


@pytest.mark.signed_in_as("大屏")
def test_the_screen_account_cannot_open_the_pages(seeded):
    from streamlit.util import calc_hash

    at = AppTest.from_file(DASHBOARD, default_timeout=60)
    at.run()
    at._page_hash = calc_hash("tracking_tasks")  # what a browser sends for /tracking_tasks
    at.run()
    assert not at.exception
    assert "督办任务" not in [t.value for t in at.title]
    assert not at.dataframe


# ── LED ──────────────────────────────────────────────────────────────────────────────────────


def _loop_data(dd: DataDir) -> loop.LoopData:
    problems = views.problem_list(dd, TODAY)
    from office.tracking import items, rules

    return loop.build(
        problems,
        views.problem_figures(problems, [], TODAY),
        views.problem_figures(problems, ["区县"], TODAY),
        views.project_board(dd, TODAY),
        rules.ProjectColours().meaning,
        views.task_list(dd, TODAY),
        items.awards(dd),
        "2026Q3",
    )


def test_led_loop_data_matches_the_hand_counts(seeded):
    d = _loop_data(seeded)
    assert [(label, v) for label, v, _, _ in d.counters["problems"]] == [
        ("问题总数", 4.0),
        ("已解决", 2.0),
        ("解决率", 50.0),
        ("已销号", 1.0),
        ("按期销号率", 100.0),
        ("逾期未办结", 1.0),
    ]
    assert [c.colour for c in d.cards] == ["red", "amber", "green"]  # worst first
    assert d.overdue == [tracking_fixture.LATE_TASK]
    assert sorted(d.awards) == [("蜗牛奖", "常山县市场监管局"), ("骏马奖", "柯城区人力社保局")]
    assert d.batches == [("第1批", 1)]


def test_led_rotation_adds_the_loop_views_only_with_data(seeded, snapshot):
    def board(sel):
        return ["overview", "hotline"] if not sel else list(sel)

    d = _loop_data(seeded)
    assert loop.rotation(board, (), d) == ["overview", "hotline", "problems", "projects", "tasks"]
    assert loop.rotation(board, ("projects",), d) == ["projects"]
    assert loop.rotation(board, ("overview", "tasks"), d) == ["overview", "tasks"]
    assert loop.rotation(board, (), loop.LoopData()) == ["overview", "hotline"]


def test_led_loop_html_shows_the_figures(seeded):
    from ui.led import loop as led_loop

    d = _loop_data(seeded)
    html = led_loop.body("tasks", d)
    assert "逾期 12 天" in html and "常山县市场监管局" in html and "2026Q3 评议" in html
    assert 'data-value="50.0"' in led_loop.body("problems", d)
    assert "红项目" in led_loop.body("projects", d)


def test_tracking_tables_show_one_decimal_not_six():
    """The 为企办实事 board read 99.000000: a second Styler.format over every column."""
    import pandas as pd

    from ui.tracking import colour_rows

    df = pd.DataFrame(
        {
            "进度（%）": [99.0, 83.25],
            "计划完成": pd.to_datetime(["2026-01-02", None]),
            "红黄绿": ["绿", "红"],
        }
    )
    html = colour_rows(df).to_html()
    assert ">99.0<" in html and ">83.2<" in html and ">2026-01-02<" in html
    assert "99.000000" not in html
