"""Every page, every choice a user can make in its pickers, on snapshots built by the real engine.

Unlike tests/test_pages.py (hand-made fixture marts), both snapshots here come out of the real ETL
and scoring engine (`etl.load.load_files`, which builds and publishes):
- a small demo city (`etl.demo.generate`, 6 districts, 5 quarters up to today's, the last one
  进行中; scale 0.1, so some indicators fall below min_sample), and
- a sparse real one: the NYC 311 sample from ../shared/realdata through the shipped profile
  tests/fixtures/profiles/nyc311.yaml (hotline only, nothing reaches min_sample: no score, no rank).

Each snapshot is built once per session. Each page gets one AppTest session, and the sweep drives
its pickers through every combination it offers (the oldest quarter has no previous one to compare
with; the partial quarter has no QoQ): 总览 by quarter, 指标领域 by quarter × domain, 区县画像 by
quarter × district, 趋势分析 by level × domain / indicator × 环比/同比, 明细 by quarter × district ×
source (and every domain on one quarter), 数据 once, and every view of the LED screen. A run
"renders" when it raised nothing: no exception element and no 页面出错了 message from the shell.
"""

from __future__ import annotations

import csv
import itertools
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from etl import demo
from etl.load import load_files
from kpi import settings, store

REPO = Path(__file__).resolve().parents[1]
DASHBOARD = str(REPO / "dashboard.py")
REALDATA = REPO.parent / "shared" / "realdata"
FIXTURES = Path(__file__).parent / "fixtures"
SHELL_ERROR = "页面出错了"


@pytest.fixture(scope="session")
def demo_snapshot(tmp_path_factory) -> Path:
    """A small demo city loaded and scored by the real ETL (5 quarters, the last one in progress)."""
    root = tmp_path_factory.mktemp("sweep_demo")
    written = demo.generate(root / "exports", scale=0.1, quarters=5)
    load_files([p for s in demo.SOURCES for p in written.get(s, [])], data_dir=root / "data")
    return root / "data"


@pytest.fixture(scope="session")
def nyc_snapshot(tmp_path_factory) -> Path:
    """NYC 311 (../shared/realdata) through the shipped profile and catalogue: sparse, unscored."""
    path = REALDATA / "nyc311_sample" / "311_Service_Requests.csv"
    assert path.exists(), f"真实数据不存在：{path}（应位于仓库旁的 ../shared/realdata）"
    root = tmp_path_factory.mktemp("sweep_nyc")
    load_files(
        [path],
        profile=FIXTURES / "profiles" / "nyc311.yaml",
        catalog_dir=FIXTURES / "catalogs" / "nyc",
        data_dir=root / "data",
    )
    return root / "data"


SNAPSHOTS = ["demo_snapshot", "nyc_snapshot"]


class Sweep:
    """One AppTest session on one page; `check(label)` runs it and records what went wrong."""

    def __init__(self, page: str, snapshot: dict):
        self.snapshot = snapshot["name"]
        self.at = AppTest.from_file(DASHBOARD, default_timeout=60)
        self.at.run()
        self.at.switch_page(page)
        self.failures: list[str] = []
        self.runs = 0
        self.check(f"{page} 首次打开")

    def check(self, label: str) -> None:
        self.at.run()
        self.runs += 1
        for e in self.at.exception:
            self.failures.append(f"{label}: {e.message}")
        for e in self.at.error:
            if SHELL_ERROR in e.value:
                self.failures.append(f"{label}: {e.value}")

    def pick(self, **choices) -> None:
        """Set selectboxes by value (AppTest's select_index hands the *label* to format_func)."""
        for key, value in choices.items():
            self.at.selectbox(key=key).set_value(value)

    def sweep(self, choices: dict[str, list]) -> None:
        """Every combination of the given values of the selectboxes (key → every value offered)."""
        for key, values in choices.items():  # the picker offers exactly these
            assert len(self.at.selectbox(key=key).options) == len(values), key
        for combo in itertools.product(*choices.values()):
            picked = dict(zip(choices, combo, strict=True))
            self.pick(**picked)
            self.check(", ".join(f"{k}={v}" for k, v in picked.items()))

    def done(self) -> None:
        print(f"{self.snapshot}: {self.runs} runs")  # the sweep's size, shown by pytest -rP
        assert not self.failures, "\n".join(self.failures[:20])


@pytest.fixture(params=SNAPSHOTS)
def snapshot(request, monkeypatch) -> dict[str, list[str]]:
    """Point the app at one snapshot; returns what its pickers must offer, read from the marts."""
    data_dir = request.getfixturevalue(request.param)
    monkeypatch.setenv("BIZENV_DATA_DIR", str(data_dir))
    con = store.connect_snapshot(store.current_snapshot_path(settings.DataDir.of(data_dir)))

    def distinct(sql: str) -> list[str]:
        return sorted(r[0] for r in con.execute(sql).fetchall())

    try:
        return {
            "name": request.param,
            "period": distinct("SELECT DISTINCT period FROM overall_scores"),
            "district": distinct(
                "SELECT DISTINCT district_code FROM overall_scores WHERE NOT is_city"
            ),
            "domain": distinct("SELECT DISTINCT domain_key FROM domain_scores"),
            "indicator": distinct("SELECT DISTINCT indicator_key FROM indicator_scores"),
        }
    finally:
        con.close()


def test_overview_every_quarter(snapshot):
    s = Sweep("pages/overview.py", snapshot)
    s.sweep({"period": snapshot["period"]})
    s.done()


def test_domains_every_quarter_and_domain(snapshot):
    assert len(snapshot["domain"]) == 18
    s = Sweep("pages/domains.py", snapshot)
    s.sweep({"period": snapshot["period"], "domain": snapshot["domain"]})
    s.done()


def test_district_every_quarter_and_district(snapshot):
    s = Sweep("pages/district.py", snapshot)
    s.sweep({"period": snapshot["period"], "district": snapshot["district"]})
    s.done()


def test_trends_every_level_domain_indicator_and_mode(snapshot):
    s = Sweep("pages/trends.py", snapshot)
    for level, inner in (("overall", None), ("domain", "domain"), ("indicator", "indicator")):
        s.pick(level=level)
        s.check(f"level={level}")
        for value in snapshot[inner] if inner else [None]:
            if inner:
                s.pick(**{inner: value})
            for mode in ("环比", "同比"):
                s.at.segmented_control(key="mode").set_value(mode)
                s.check(f"level={level}, {inner}={value}, mode={mode}")
    s.done()


def test_records_every_quarter_district_source_and_domain(snapshot):
    s = Sweep("pages/records.py", snapshot)
    sources = ["approvals", "hotline", "ratings"]
    s.sweep(
        {
            "period": snapshot["period"],
            "district": ["all", *snapshot["district"]],
            "source": sources,
        }
    )
    s.pick(period=snapshot["period"][-1], district="all")
    s.sweep({"source": sources, "domain": ["all", *snapshot["domain"]]})
    s.done()


def test_data_status_renders(snapshot):
    s = Sweep("pages/data_status.py", snapshot)
    s.done()


@pytest.mark.parametrize(
    ("page", "quarter_key"),
    [
        ("pages/tracking_tasks.py", "tasks_period"),
        ("pages/tracking_problems.py", None),
        ("pages/tracking_projects.py", None),
        ("pages/tracking_benchmarks.py", "bench_period"),
        ("pages/tracking_awards.py", "awards_period"),
        ("pages/filing_review.py", None),  # pages/filing.py is a 部门's: tests/test_filing_pages.py
    ],
)
def test_loop_and_filing_pages_render_for_every_quarter(snapshot, page, quarter_key):
    """The 督办 and 填报 pages on both snapshots (the demo's tasks come from its red cells; NYC has
    none): each quarter its picker offers, oldest and in-progress included."""
    s = Sweep(page, snapshot)
    offered = {w.key for w in s.at.selectbox}
    if quarter_key and quarter_key not in offered:  # no 督办 tasks at all: the empty state instead
        assert snapshot["name"] == "nyc_snapshot", (page, offered)
    elif quarter_key:
        options = s.at.selectbox(key=quarter_key).options
        assert options, page
        for label in options:
            s.at.selectbox(key=quarter_key).select(label)
            s.check(f"{quarter_key}={label}")
    s.done()


def test_led_every_view_renders(snapshot):
    """Every view of the rotation renders (the screen itself would hide an error behind
    "正在恢复显示", so its render function is called directly)."""
    from kpi.led import board as led_board
    from kpi.led import rotation as led
    from ui.led import screen

    board, problem = led_board.BoardCache().get(led.now_local())
    assert board is not None, problem
    keys = led.view_keys(board.domain_keys)
    assert len(keys) == 5 + 18
    shown = set(board.view_keys())  # views with data this period (empty ones leave the rotation)
    for key in keys:
        top, body = screen._render(led.LedOptions(views=(key,)))
        if key in shown:
            assert f'data-view="{key}"' in body, key
        else:  # nothing to show for this view: the screen says so, calmly
            assert 'data-view="none"' in body and "暂无可显示的数据" in body, key


# ── one set of domain short names, from the catalogue, everywhere ────────────────────────────


def _catalogue_short_names() -> dict[str, str]:
    """domains.csv read with the csv module (independently of etl.catalog)."""
    with (REPO / "data" / "catalog" / "domains.csv").open(encoding="utf-8-sig", newline="") as fh:
        return {r["domain_key"]: r["short_name"] for r in csv.DictReader(fh)}


def test_domain_short_names_come_from_the_catalogue(demo_snapshot, monkeypatch):
    monkeypatch.setenv("BIZENV_DATA_DIR", str(demo_snapshot))
    short = _catalogue_short_names()
    assert short["labor_market"] == "劳动市场" and short["minority_investors"] == "投资保护"
    assert all(1 <= len(s) <= 4 for s in short.values())  # one vertical line on the LED grid
    con = store.connect_snapshot(store.current_snapshot_path(settings.DataDir.of(demo_snapshot)))
    try:
        shipped = dict(con.execute("SELECT domain_key, short_name FROM domains").fetchall())
    finally:
        con.close()
    assert shipped == short  # the load copied the catalogue into the snapshot
    in_order = list(short.values())  # domains.csv is in D01 … D18 order
    # 总览 heatmap rows, 区县画像's domain table, the LED overview grid's columns
    at = AppTest.from_file(DASHBOARD, default_timeout=60)
    at.run()
    heat = next(d.value for d in at.dataframe if d.key == "heatmap")
    assert list(heat["指标领域"]) == in_order
    at.switch_page("pages/district.py").run()
    assert list(next(d.value for d in at.dataframe if d.key == "district_domains")["领域"]) == (
        in_order
    )
    from kpi.led import board as led_board
    from kpi.led import rotation as led

    board, _ = led_board.BoardCache().get(led.now_local())
    assert board.view("overview").grid_columns == in_order


# ── issue 13: the data-quality table, unit scorecards, coverage flags, on real-engine marts ──


def _frame(at: AppTest, columns: set[str]):
    """The table with these columns (tables that are not clickable carry no key in AppTest)."""
    return next(df.value for df in at.dataframe if columns <= set(df.value.columns))


def test_data_page_shows_the_data_quality_of_every_district(demo_snapshot, monkeypatch):
    monkeypatch.setenv("BIZENV_DATA_DIR", str(demo_snapshot))
    at = AppTest.from_file(DASHBOARD, default_timeout=60)
    at.run()
    at.switch_page("pages/data_status.py")
    at.run()
    assert not at.exception
    dq = _frame(at, {"填报及时率（%）", "隔离记录"})
    assert list(dq.columns[:5]) == ["区县", "应报", "已报", "按时报送", "填报及时率（%）"]
    assert len(dq) == 7 and dq["区县"].iloc[-1] == "全市"
    assert (dq["导入记录"] > 0).all() and dq["隔离记录"].sum() > 0
    assert dq["填报及时率（%）"].between(0, 100).all()


def test_district_page_shows_its_units(demo_snapshot, monkeypatch):
    monkeypatch.setenv("BIZENV_DATA_DIR", str(demo_snapshot))
    at = AppTest.from_file(DASHBOARD, default_timeout=60)
    at.query_params["district"] = "330802"
    at.run()
    at.switch_page("pages/district.py")
    at.run()
    assert not at.exception
    units = _frame(at, {"单位", "综合得分"})
    assert {"排名", "单位", "综合得分"} <= set(units.columns)
    assert units["单位"].str.startswith("柯城区").all()  # the district's own units
    assert any("企业诉求按时签收率" in c for c in units.columns)


def test_rankings_and_the_workbook_carry_the_new_tables(demo_snapshot):
    import io

    import openpyxl

    from kpi.read import queries, review

    con = store.connect_snapshot(store.current_snapshot_path(settings.DataDir.of(demo_snapshot)))
    try:
        period = queries.meta(con)["latest_complete_period"]
        assert "coverage_note" in queries.overall(con, period).columns
        assert "coverage_note" in queries.domain_ranking(con, period, "government_services").columns
        wb = openpyxl.load_workbook(io.BytesIO(review.review_bytes(con, period)))
    finally:
        con.close()
    assert {"数据质量", "单位记分卡"} <= set(wb.sheetnames)
    head = [c.value for c in wb["单位记分卡"][2]]
    assert head[:4] == ["排名", "单位", "区县", "综合得分"]
