"""Quarter helpers: Asia/Shanghai quarters, neighbours, bounds, partial state — table-driven."""

from __future__ import annotations

import datetime as dt

import pytest

from kpi import periods
from kpi.errors import UserInputError

UTC = dt.UTC


@pytest.mark.parametrize(
    "ts,expected",
    [
        (dt.datetime(2026, 1, 1, 0, 0), "2026Q1"),
        (dt.datetime(2026, 3, 31, 23, 59), "2026Q1"),
        (dt.datetime(2026, 4, 1), "2026Q2"),
        (dt.date(2026, 8, 15), "2026Q3"),
        (dt.datetime(2026, 12, 31, 23, 59, 59), "2026Q4"),
        # aware times are converted: 2026-09-30 17:00 UTC is 2026-10-01 01:00 in Shanghai
        (dt.datetime(2026, 9, 30, 17, 0, tzinfo=UTC), "2026Q4"),
        (dt.datetime(2026, 9, 30, 15, 59, tzinfo=UTC), "2026Q3"),
    ],
)
def test_period_of(ts, expected):
    assert periods.period_of(ts) == expected


@pytest.mark.parametrize(
    "period,prev,nxt,last_year",
    [
        ("2026Q3", "2026Q2", "2026Q4", "2025Q3"),
        ("2026Q1", "2025Q4", "2026Q2", "2025Q1"),
        ("2025Q4", "2025Q3", "2026Q1", "2024Q4"),
    ],
)
def test_neighbours(period, prev, nxt, last_year):
    assert (
        periods.previous(period),
        periods.next_period(period),
        periods.same_quarter_last_year(period),
    ) == (prev, nxt, last_year)


@pytest.mark.parametrize(
    "period,start,end",
    [
        ("2026Q1", dt.date(2026, 1, 1), dt.date(2026, 3, 31)),
        ("2024Q1", dt.date(2024, 1, 1), dt.date(2024, 3, 31)),
        ("2026Q2", dt.date(2026, 4, 1), dt.date(2026, 6, 30)),
        ("2026Q4", dt.date(2026, 10, 1), dt.date(2026, 12, 31)),
    ],
)
def test_bounds(period, start, end):
    assert periods.bounds(period) == (start, end)


def test_current_and_partial():
    now = dt.datetime(2026, 11, 24, 8, 30)
    assert periods.current_period(now) == "2026Q4"
    assert periods.latest_complete_period(now) == "2026Q3"
    assert [periods.is_partial(p, now) for p in ("2026Q3", "2026Q4", "2027Q1")] == [
        False,
        True,
        True,
    ]
    # the wall clock in Shanghai: 2026-12-31 20:00 UTC is already 2027Q1 there
    assert periods.current_period(dt.datetime(2026, 12, 31, 20, 0, tzinfo=UTC)) == "2027Q1"


def test_sql_index_matches_python(tmp_path):
    from kpi import store

    con = store.connect_memory()
    got = con.execute(
        f"SELECT {periods.sql_index('p')} FROM (VALUES ('2026Q3'), ('2025Q4')) t(p)"
    ).fetchall()
    assert [g[0] for g in got] == [periods.index("2026Q3"), periods.index("2025Q4")]
    assert periods.index("2026Q1") - periods.index("2025Q4") == 1


@pytest.mark.parametrize("bad", ["2026-3", "2026Q5", "26Q1", ""])
def test_bad_period_is_a_clear_error(bad):
    with pytest.raises(UserInputError, match="2026Q3"):
        periods.parse(bad)


def test_label():
    assert periods.label_zh("2026Q3") == "2026年第三季度"
