"""LED screen logic (kpi.led.rotation) and its HTML pieces: rotation by wall clock, staleness, options,
the period due, the data of each view on the hand-made fixture, last-good data on a broken snapshot.

Expected numbers come from tests/fixtures/led_fixture.py's hand-written tables, worked out here.
"""

from __future__ import annotations

import datetime as dt
import logging

import pandas as pd
import pytest

from kpi import logs, settings, store
from kpi.led import board as led_board
from kpi.led import rotation as led
from kpi.led import views as led_views
from tests.fixtures.led_fixture import RED, build_led_snapshot, make_thin
from ui.led import widgets

NOW = dt.datetime(2026, 11, 24, 9, 30)  # in 2026Q4 → the latest complete quarter is 2026Q3


# ── rotation by wall clock ─────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize(
    ("epoch", "dwell", "n", "expected"),
    [
        (0, 20, 4, 0),
        (19.999, 20, 4, 0),
        (20, 20, 4, 1),
        (79.9, 20, 4, 3),
        (80, 20, 4, 0),  # wraps round
        (1_700_000_000, 20, 22, 8),  # 85,000,000 mod 22 = 85,000,000 − 22·3,863,636 = 8
        (1_700_000_019, 20, 22, 8),
        (1_700_000_020, 20, 22, 9),
        (7.5, 2.5, 3, 0),  # 7.5 / 2.5 = 3 → 3 mod 3 = 0
    ],
)
def test_view_index_is_floor_of_epoch_over_dwell_mod_n(epoch, dwell, n, expected):
    assert led.view_index(epoch, dwell, n) == expected


def test_two_screens_and_a_reload_agree():
    """Nothing but the clock decides: any screen, any reload, same instant → same view."""
    t = 1_764_000_123.4  # floor(t / 20) = 88_200_006 (slot 1_764_000_120–140 s); mod 22 = 4
    assert led.view_index(t, 20, 22) == 4
    assert led.view_index(t + 3.0, 20, 22) == 4  # a reload 3 s later resumes the same view
    assert led.seconds_left(t, 20) == pytest.approx(20 - 3.4)
    assert led.view_index(t + 16.6, 20, 22) == 5  # …and the next view starts at …140 s


def test_view_keys_order_and_selection():
    domains = ["starting_business", "credit", "taxes"]
    assert led.view_keys(domains) == [
        "overview",
        "map",
        "hotline",
        "ratings",
        "approvals",
        "domain:starting_business",
        "domain:credit",
        "domain:taxes",
    ]
    assert led.view_keys(domains, ("hotline", "overview")) == ["hotline", "overview"]
    assert led.view_keys(domains, ("overview", "domains")) == [
        "overview",
        "domain:starting_business",
        "domain:credit",
        "domain:taxes",
    ]
    assert led.view_keys(domains, ("credit", "domain:taxes", "nonsense")) == [
        "domain:credit",
        "domain:taxes",
    ]
    # nothing valid selected → every view rather than a blank screen
    assert led.view_keys(domains, ("nonsense",)) == led.view_keys(domains)


# ── staleness, options, reload schedule ────────────────────────────────────────────────────────


@pytest.mark.parametrize(
    ("built", "now", "hours", "stale"),
    [
        (
            dt.datetime(2026, 11, 20, 8, 0),
            dt.datetime(2026, 11, 22, 8, 0),
            48,
            False,
        ),  # exactly 48 h
        (dt.datetime(2026, 11, 20, 8, 0), dt.datetime(2026, 11, 22, 8, 1), 48, True),
        (dt.datetime(2026, 11, 24, 8, 0), dt.datetime(2026, 11, 24, 9, 0), 0.5, True),
        (dt.datetime(2026, 11, 24, 8, 0), dt.datetime(2026, 11, 24, 8, 20), 0.5, False),
        (None, dt.datetime(2026, 11, 24, 8, 0), 48, True),
    ],
)
def test_stale_rule(built, now, hours, stale):
    assert led.is_stale(built, now, hours) is stale


def test_stale_note_names_the_age():
    built = dt.datetime(2026, 11, 20, 8, 0)
    assert (
        led.stale_note(built, dt.datetime(2026, 11, 23, 9, 0))
        == "数据已 3 天未更新，请检查数据导入"
    )
    assert (
        led.stale_note(built, dt.datetime(2026, 11, 21, 13, 0))
        == "数据已 29 小时未更新，请检查数据导入"
    )
    assert (
        led.stale_note(built, dt.datetime(2026, 11, 20, 8, 40))
        == "数据已 40 分钟未更新，请检查数据导入"
    )


def test_options_from_query_and_env():
    env = {"BIZENV_LED_DWELL": "30", "BIZENV_LED_STALE_HOURS": "24"}
    o = led.LedOptions.from_params({"refresh": "5", "views": "overview, hotline"}, env)
    assert (o.dwell, o.refresh, o.stale_hours, o.views) == (
        30.0,
        5.0,
        24.0,
        ("overview", "hotline"),
    )
    o = led.LedOptions.from_params({"dwell": "3"}, env)  # the URL wins over the environment
    assert o.dwell == 3.0
    # malformed / out-of-range values fall back to the defaults, never an error on the screen
    o = led.LedOptions.from_params(
        {"dwell": "abc", "refresh": "-1", "tick": "nan", "reload_at": "25:00"}, {}
    )
    assert (o.dwell, o.refresh, o.tick, o.reload_at) == (20.0, 60.0, 1.0, "03:00")


@pytest.mark.parametrize(
    ("now", "params", "seconds"),
    [
        (dt.datetime(2026, 11, 24, 2, 0), {}, 3600.0),  # 02:00 → 03:00 tonight
        (dt.datetime(2026, 11, 24, 3, 0), {}, 86400.0),  # at 03:00 → tomorrow's 03:00
        (dt.datetime(2026, 11, 24, 23, 30), {"reload_at": "00:15"}, 45 * 60.0),
        (dt.datetime(2026, 11, 24, 23, 30), {"reload_hours": "6"}, 6 * 3600.0),
        (dt.datetime(2026, 11, 24, 23, 30), {"reload_at": ""}, None),
    ],
)
def test_reload_schedule(now, params, seconds):
    assert led.reload_delay_seconds(now, led.LedOptions.from_params(params, {})) == seconds


def test_period_due_is_worked_out_from_now():
    periods = pd.DataFrame(
        {"period": ["2026Q2", "2026Q3", "2026Q4"], "is_partial": [False, False, True]}
    )
    assert led.display_period(periods, dt.datetime(2026, 11, 24)) == "2026Q3"
    assert led.display_period(periods, dt.datetime(2026, 9, 15)) == "2026Q2"  # Q3 still running
    assert (
        led.display_period(periods, dt.datetime(2027, 1, 2)) == "2026Q3"
    )  # Q4 not complete in data
    periods.loc[2, "is_partial"] = False
    assert led.display_period(periods, dt.datetime(2027, 1, 2)) == "2026Q4"


# ── view data on the fixture ───────────────────────────────────────────────────────────────────


@pytest.fixture
def board(isolated_data_dir) -> led_board.Board:
    return led_board.load_board(build_led_snapshot(isolated_data_dir), NOW)


def test_board_meta(board):
    assert board.period == "2026Q3"
    assert board.city_name == "衢州市"
    assert board.data_as_of == dt.datetime(2026, 9, 30, 17, 45)
    assert len(board.domain_keys) == 18 and board.domain_keys[0] == "starting_business"
    keys = led.view_keys(board.domain_keys)
    assert len(keys) == 5 + 18


def test_overview_counters(board):
    v = board.view("overview")
    got = [
        (c.label, c.value, None if c.delta is None else round(c.delta, 1), c.good)
        for c in v.counters
    ]
    assert got == [
        ("综合指数", 78.6, 2.4, True),  # 78.6 − 76.2
        ("企业诉求解决率", 96.2, 1.1, True),  # 96.2 − 95.1
        ("满意率", 93.5, -0.5, False),  # fell: bad news
        ("好评率", 99.1, 0.1, True),
        ("平均办理用时", 3.4, -0.5, True),  # fewer working days is better
        ("全程网办率", 87.5, 5.5, True),
        ("季度办件量", 1250.0, 150.0, True),  # 1250 approvals in 2026Q3, 1100 in 2026Q2
    ]


def test_overview_ranking_honours_trend_alerts(board):
    v = board.view("overview")
    assert [(r.name, r.rank, r.rank_change) for r in v.ranking] == [
        ("柯城", 1, 1),
        ("衢江", 2, -1),
        ("江山", 3, 1),
        ("龙游", 4, -1),
        ("常山", 5, 0),
        ("开化", 6, 0),
    ]
    # 进步榜: +5.3 (85.3 − 80.0), +4.4 (79.4 − 75.0), +1.2 (71.2 − 70.0)
    assert [(r.name, round(r.delta, 1)) for r in v.horses] == [
        ("柯城", 5.3),
        ("江山", 4.4),
        ("常山", 1.2),
    ]
    # 退步榜: −2.6 (63.8 − 66.4), −2.2 (76.0 − 78.2), −1.4 (80.1 − 81.5)
    assert [(r.name, round(r.delta, 1)) for r in v.snails] == [
        ("开化", -2.6),
        ("龙游", -2.2),
        ("衢江", -1.4),
    ]
    assert v.trend == list(
        zip(
            ["2024Q4", "2025Q1", "2025Q2", "2025Q3", "2025Q4", "2026Q1", "2026Q2", "2026Q3"],
            [70.1, 71.5, 72.0, 73.4, 74.8, 75.5, 76.2, 78.6],
            strict=False,
        )
    )
    assert len(v.alerts) == len(RED) == 12
    assert len(v.grid_rows) == 6 and all(len(cells) == 18 for _, cells in v.grid_rows)
    # the short_name column of data/catalog/domains.csv, at most 4 characters (one vertical line)
    assert v.grid_columns[:2] == ["开办企业", "劳动市场"] and v.grid_columns[-1] == "包容普惠"
    assert v.grid_columns[9] == "投资保护"  # 保护中小投资者
    assert max(len(c) for c in v.grid_columns) == 4


def test_source_and_domain_views(board):
    hotline = board.view("hotline")
    assert [c.label for c in hotline.counters] == ["企业诉求解决率", "满意率"]
    # red hotline indicators in 2026Q3: 开化 解决率, 常山 满意率 (fixture RED list)
    assert sorted((a.district, a.label) for a in hotline.alerts) == [
        ("常山", "满意率"),
        ("开化", "企业诉求解决率"),
    ]
    approvals = board.view("approvals")
    assert [c.label for c in approvals.counters] == ["平均办理用时", "全程网办率"]
    credit = board.view("domain:credit")
    assert credit.title == "获得信贷"
    assert [a.district for a in credit.alerts] == ["开化"]
    # domain score = district overall + the fixture's fixed offset for 获得信贷 ((8·7 mod 11) − 5 = −4)
    assert [(r.name, r.value) for r in credit.ranking][:2] == [("柯城", 81.3), ("衢江", 76.1)]
    for key in led.view_keys(board.domain_keys):
        view = board.view(key)
        assert view.counters and view.ranking and len(view.trend) == 8


def test_view_data_on_the_pages_fixture(isolated_data_dir):
    """The shared page fixture (3 districts, 3 domains) renders every view without error."""
    from tests.fixtures.snapshot_fixture import build_fixture_snapshot

    b = led_board.load_board(build_fixture_snapshot(isolated_data_dir), NOW)
    assert b.period == "2026Q3"
    for key in led.view_keys(b.domain_keys):
        view = b.view(key)
        html = widgets.view_body(view, 0.0)
        assert "led-kpi" in html and view.ranking, key
        # every district of the ranking is drawn (names are escaped text, so they appear verbatim)
        assert all(row.name in html for row in view.ranking), key


# ── last good data ─────────────────────────────────────────────────────────────────────────────


def test_cache_keeps_last_good_board_and_sees_new_snapshots(isolated_data_dir):
    cache = led_board.BoardCache()
    build_led_snapshot(isolated_data_dir)
    first, problem = cache.get(NOW)
    assert problem is None and first.view("overview").counters[0].value == 78.6
    assert cache.get(NOW)[0] is first  # same CURRENT → not reread

    build_led_snapshot(isolated_data_dir, city_overall_bump=5.0)
    second, problem = cache.get(NOW)
    assert problem is None and second.view("overview").counters[0].value == pytest.approx(83.6)

    # CURRENT now names a file that is not a DuckDB database
    root = settings.data_dir()
    (root / "snapshots" / "snapshot-broken.duckdb").write_bytes(b"not a database")
    (root / "CURRENT").write_text("snapshot-broken.duckdb\n", encoding="utf-8")
    held, problem = cache.get(NOW)
    assert held is second and problem == "数据快照读取失败"

    (root / "CURRENT").unlink()
    held, problem = cache.get(NOW)
    assert held is second and problem == "未找到数据快照"


def _log_text(data_dir: settings.DataDir) -> str:
    for handler in logging.getLogger("kpi").handlers:
        handler.flush()
    path = data_dir.logs / logs.LOG_FILE
    return path.read_text(encoding="utf-8") if path.exists() else ""


def test_broken_snapshot_leaves_a_trace_in_the_log(isolated_data_dir):
    data_dir = settings.DataDir.of()
    logs.setup(data_dir)
    cache = led_board.BoardCache()
    build_led_snapshot(isolated_data_dir)
    assert cache.get(NOW)[1] is None
    root = settings.data_dir()
    # CURRENT names a file that is not a database: the older snapshot stands in, and the log
    # says which file failed and how, once
    (root / "snapshots" / "snapshot-broken.duckdb").write_bytes(b"not a database")
    (root / "CURRENT").write_text("snapshot-broken.duckdb\n", encoding="utf-8")
    assert cache.get(NOW)[1] == "数据快照读取失败"
    text = _log_text(data_dir)
    assert "snapshot snapshot-broken.duckdb could not be opened" in text
    assert "snapshot-broken.duckdb 无法读取" in text
    cache.get(NOW)
    assert _log_text(data_dir).count("snapshot-broken.duckdb 无法读取") == 1
    # a snapshot that opens but lacks the marts fails while being read: its traceback is kept
    for old in (root / "snapshots").glob("snapshot-2*.duckdb"):
        old.unlink()
    scratch = isolated_data_dir.parent / "scratch"
    store.connect_warehouse(scratch).close()  # an empty database, copied in as the only snapshot
    (root / "snapshots" / "snapshot-empty.duckdb").write_bytes(
        store.warehouse_path(scratch).read_bytes()
    )
    (root / "CURRENT").write_text("snapshot-empty.duckdb\n", encoding="utf-8")
    assert cache.get(NOW)[1] == "数据快照读取失败"
    text = _log_text(data_dir)
    assert "Traceback (most recent call last)" in text and "could not be read" in text
    cache.get(NOW)  # the same failure on the next refresh is not written again
    assert _log_text(data_dir).count("Traceback") == 1


def test_led_screen_logs_a_failed_draw(isolated_data_dir, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from ui.led import screen

    data_dir = settings.DataDir.of()
    logs.setup(data_dir)

    def broken(options):
        raise RuntimeError("view could not be drawn (test)")

    monkeypatch.setattr(screen, "_render", broken)
    monkeypatch.setattr(screen, "_LOGGED", {}, raising=False)
    at = AppTest.from_string("from ui.led.screen import run\nrun()", default_timeout=30).run()
    assert not at.exception  # the lobby screen shows its placeholder, never an error
    text = _log_text(data_dir)
    assert "Traceback (most recent call last)" in text
    assert "RuntimeError: view could not be drawn (test)" in text


def test_cache_throttles_to_refresh(isolated_data_dir):
    cache = led_board.BoardCache()
    build_led_snapshot(isolated_data_dir)
    first, _ = cache.get(NOW, refresh=3600)
    build_led_snapshot(isolated_data_dir, city_overall_bump=5.0)
    assert cache.get(NOW, refresh=3600)[0] is first  # within the refresh interval: not looked at
    # a new quarter is due at once, whatever the interval
    later, _ = cache.get(dt.datetime(2027, 1, 5, 9, 0), refresh=3600)
    assert later is not first and later.view("overview").counters[0].value == pytest.approx(83.6)


def test_no_snapshot_at_all(isolated_data_dir):
    board, problem = led_board.BoardCache().get(NOW)
    assert board is None and problem == "未找到数据快照"


# ── HTML pieces ────────────────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize(
    ("value", "decimals", "text"),
    [
        (78.6, 1, "78.6"),
        (1250.0, 0, "1,250"),
        (10074.0, 0, "10,074"),
        (123456.0, 0, "12.3万"),
        (None, 1, "—"),
    ],
)
def test_fmt_number(value, decimals, text):
    assert widgets.fmt_number(value, decimals) == text


@pytest.mark.parametrize(
    ("delta", "unit", "text"),
    [
        (2.4, "", "▲2.4"),
        (-0.5, "%", "▼0.5个百分点"),
        (-0.5, "工作日", "▼0.5工作日"),
        (0.02, "%", "持平"),
        (None, "", "—"),
        (0.3, "%", "▲0.3个百分点"),  # visible, and no verdict of the marts given
    ],
)
def test_fmt_delta(delta, unit, text):
    assert widgets.fmt_delta(delta, unit, 1) == text


def test_flip_counter_tiles():
    html = widgets.flip_counter(led_views.Counter("综合指数", 78.6, "", 1, 2.4, True))
    assert html.count('class="fd"') == 3 and '<span class="good">▲2.4</span>' in html
    html = widgets.flip_counter(led_views.Counter("满意率", 93.5, "%", 1, -0.5, False))
    assert '<span class="bad">▼0.5个百分点</span>' in html
    # worsened beyond the neutral band, but −0.04 h shows as 0.0 at one decimal: 持平, not red
    html = widgets.flip_counter(led_views.Counter("户均停电时间", 0.4, "小时", 1, -0.04, False))
    assert '<span class="flat">持平</span>' in html


def test_alert_list_scrolls_only_when_long():
    few = [led_views.Alert("开化", "纳税指数", 77.2, "分", 1, None)] * widgets.ALERT_ROWS_VISIBLE
    assert 'class="roll"' not in widgets.alerts(few, 0.0)
    many = few * 2
    html = widgets.alerts(many, 100.0)
    # 12 rows × 2.5 s = 30 s per cycle; at epoch 100 the list is 10 s into its cycle
    assert "animation-duration:30.0s;animation-delay:-10.0s" in html
    assert html.count("<li>") == 24  # drawn twice for a seamless loop


def test_title_escapes_and_stamp():
    stamp = widgets.stamp_text(
        dt.datetime(2026, 9, 30, 17, 45), dt.datetime(2026, 10, 8, 8, 10), None
    )
    assert stamp == "数据截至 <b>2026-09-30</b> · 更新于 <b>2026-10-08 08:10</b>"
    html = widgets.title_bar("<衢州>", dt.datetime(2026, 11, 24, 9, 5), stamp, True)
    assert (
        "&lt;衢州&gt;" in html
        and "led-stamp stale" in html
        and "星期二" in html
        and "09:05" in html
    )


def test_ranking_shrinks_for_many_districts():
    """Up to 6 districts keep full-size rows; more set --rows so type and medals shrink to fit."""

    def rows(n):
        return [
            led_views.RankRow(f"区{i}", 80.0 - i, "", 1, i + 1, 0, 0.0, None, None)
            for i in range(n)
        ]

    assert 'style="--rows:6"' in widgets.ranking("区县综合排名", rows(4))
    assert 'style="--rows:12"' in widgets.ranking("区县综合排名", rows(12))


# ── partial and thin data ──────────────────────────────────────────────────────────────────────


def test_data_as_of_counts_for_staleness_too():
    """A fresh build over old data (a rebuild, no new exports) is stale as well."""
    built = dt.datetime(2026, 11, 24, 8, 0)
    now = dt.datetime(2026, 11, 24, 9, 30)
    opts = led.LedOptions.from_params({}, {})
    assert opts.stale_data_hours == 168.0  # 7 days
    fresh = dt.datetime(2026, 11, 23, 20, 0)
    assert led.staleness(built, fresh, now, opts) is None
    old = dt.datetime(2026, 11, 14, 17, 45)  # 9 days 15¾ hours before now
    assert led.staleness(built, old, now, opts) == ("已 9 天没有新数据，请检查数据导入")
    # the build itself is old: that note wins (it explains the old data too)
    assert led.staleness(dt.datetime(2026, 11, 20, 8, 0), old, now, opts) == (
        "数据已 4 天未更新，请检查数据导入"
    )
    assert led.staleness(built, None, now, opts) == "数据截至时间未知，请检查数据导入"
    o = led.LedOptions.from_params(
        {"stale_data_hours": "240"}, {"BIZENV_LED_STALE_DATA_HOURS": "1"}
    )
    assert o.stale_data_hours == 240.0 and led.staleness(built, old, now, o) is None
    assert (
        led.LedOptions.from_params({}, {"BIZENV_LED_STALE_DATA_HOURS": "12"}).stale_data_hours == 12
    )


def _republish(data_dir, *statements: str) -> None:
    con = store.connect_warehouse(data_dir)
    for sql in statements:
        con.execute(sql)
    con.close()
    store.publish_snapshot(data_dir)


@pytest.fixture
def thin_board(isolated_data_dir) -> led_board.Board:
    """2026Q3 without 获得信贷 and 跨境贸易 (their 部门填报 not loaded yet); 开化县's 纳税 short of
    sample (tests/fixtures/led_fixture.make_thin)."""
    build_led_snapshot(isolated_data_dir)
    return led_board.load_board(make_thin(isolated_data_dir), NOW)


def test_views_without_data_are_skipped(thin_board):
    keys = thin_board.view_keys()
    assert "domain:credit" not in keys and "domain:cross_border_trade" not in keys
    assert len(keys) == 5 + 16 and keys[:5] == [
        "overview",
        "map",
        "hotline",
        "ratings",
        "approvals",
    ]
    assert thin_board.view_keys(("credit", "hotline")) == ["hotline"]
    assert thin_board.view_keys(("credit",)) == []  # nothing to show: the screen says so
    assert not thin_board.view("domain:credit").has_data


def test_thin_ranking_and_unscored_districts_say_why(thin_board):
    v = thin_board.view("overview")
    # 16 of the usual 18 domains (开化 15): the ranking says what it rests on
    assert v.ranking_note == "依据15–16/18个领域"
    assert '<small class="warn">依据15–16/18个领域</small>' in widgets.view_body(v, 0.0)
    taxes = thin_board.view("domain:taxes")
    kaihua = next(r for r in taxes.ranking if r.name == "开化")
    assert (kaihua.value, kaihua.rank, kaihua.reason) == (None, None, "样本不足")
    assert taxes.ranking[-1] is kaihua  # unranked rows last
    html = widgets.ranking(taxes.ranking_title, taxes.ranking)
    assert "样本不足" in html
    assert thin_board.view("domain:starting_business").ranking_note is None


def test_no_green_all_clear_over_an_empty_view(thin_board):
    empty = thin_board.view("domain:credit")
    assert empty.alerts == [] and empty.n_rated == 0
    html = widgets.alerts(empty.alerts, 0.0, rated=empty.n_rated)
    assert "本期无红色预警指标" not in html and "led-ok" not in html
    assert "暂无可评级的指标" in html
    ok = thin_board.view("domain:starting_business")  # rated, no red: the all-clear is true
    assert ok.n_rated == 6 and "本期无红色预警指标" in widgets.alerts(ok.alerts, 0.0, ok.n_rated)


def test_an_in_progress_quarter_is_named_so(isolated_data_dir):
    """A city whose first quarter is still running: the screen shows it, marked 进行中."""
    build_led_snapshot(isolated_data_dir)
    _republish(
        isolated_data_dir,
        *(
            f"DELETE FROM {t} WHERE period <> '2026Q4'"
            for t in ("indicator_scores", "domain_scores", "overall_scores", "periods")
        ),
    )
    board = led_board.load_board(store.current_snapshot_path(isolated_data_dir), NOW)
    assert board.period == "2026Q4" and board.period_partial
    strip = widgets.view_strip("营商环境总览", board.period, 0, 1, None, partial=True)
    assert "统计期 2026年第四季度（进行中，数据不完整）" in strip
    assert "进行中" not in widgets.view_strip("营商环境总览", "2026Q3", 0, 1, None)
    v = board.view("overview")
    assert v.partial and not v.horses and not v.snails
    html = widgets.view_body(v, 0.0)
    assert html.count("进行中不评选") == 2 and ">新<" not in html  # nothing compared, nothing "new"


def test_grid_header_keeps_the_unit_on_its_own_line():
    """An indicator header wraps between its name and its unit, never inside the unit
    (the screenshot showed 企业开办平均办理用时（工 / 作日）)."""
    html = widgets.heat_grid(
        "区县 × 指标", ["企业开办平均办理用时（工作日）", "好评率（%）", "纳税次数"], [], [1, 1, 0]
    )
    assert html  # no rows: an empty panel
    html = widgets.heat_grid(
        "区县 × 指标",
        ["企业开办平均办理用时（工作日）", "好评率（%）", "纳税次数"],
        [("柯城", [(0.4, "green"), (97.8, "amber"), (3.0, None)])],
        [1, 1, 0],
    )
    assert '<span>企业开办平均办理用时</span><span class="u">（工作日）</span>' in html
    assert '<span>好评率</span><span class="u">（%）</span>' in html
    assert '<div class="hd">纳税次数</div>' in html
    # the 18 domains: vertical, one line each, as given (the catalogue's short names)
    vertical = widgets.heat_grid(
        "区县 × 指标领域得分",
        [f"领域{i:02d}" for i in range(18)],
        [("柯城", [(80.0, "amber")] * 18)],
        [0] * 18,
    )
    assert '<div class="hd v">领域00</div>' in vertical
