"""The LED's 近30天 strip (kpi.led.live): 企业诉求解决率 and 满意率 over the 30 days up to the newest
record, by the indicators' own metrics.yaml definitions — checked against SQL written by hand
on a small fixture; and what the screen shows of it."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from kpi import schema
from kpi.led import live
from kpi.spec.load import load_spec

AS_OF = dt.date(2026, 11, 30)


@pytest.fixture(scope="module")
def spec():
    return load_spec(check_sql=False)


@pytest.fixture
def con():
    """A hotline table of 90 days × 8 tickets: enterprise or not, 咨询 or 投诉, resolved or not,
    five satisfaction levels, some never asked; the newest closed on AS_OF, and one newer
    *personal* ticket that must not move the window (outside the filters)."""
    c = duckdb.connect()
    schema.create_canonical(c)
    c.execute(
        """
        INSERT INTO hotline (ticket_id, received_at, closed_at, district_code, is_enterprise,
                             category, resolved, satisfaction)
        SELECT 'T' || d || '-' || k,
               TIMESTAMP '2026-11-30 09:00' - INTERVAL (d + 2) DAY,
               CASE WHEN k = 7 AND d % 2 = 0 THEN NULL
                    ELSE TIMESTAMP '2026-11-30 15:00' - INTERVAL (d) DAY END,
               '330802',
               k <> 6,
               CASE WHEN k = 5 THEN '咨询' ELSE '投诉' END,
               CASE WHEN k = 4 THEN NULL ELSE (d + k) % 5 <> 0 END,
               CASE WHEN k = 3 THEN NULL
                    ELSE ['非常满意', '满意', '基本满意', '不满意', '非常不满意'][1 + (d * 3 + k) % 5] END
        FROM range(0, 90) t(d), range(0, 8) u(k);
        INSERT INTO hotline (ticket_id, received_at, closed_at, district_code, is_enterprise,
                             category, resolved, satisfaction)
        VALUES ('P-new', TIMESTAMP '2026-12-05 09:00', TIMESTAMP '2026-12-06 10:00', '330802',
                false, '投诉', true, '满意');
        """
    )
    yield c
    c.close()


def _by_hand(con, numerator: str, denominator: str) -> tuple[int, int]:
    """Enterprise, non-咨询 tickets whose 办结 (else 来电) day is within 2026-11-01 … 2026-11-30."""
    return con.execute(
        f"""
        SELECT count(*) FILTER (WHERE {numerator}), count(*) FILTER (WHERE {denominator})
        FROM hotline
        WHERE is_enterprise AND category <> '咨询'
          AND CAST(coalesce(closed_at, received_at) AS DATE) BETWEEN DATE '2026-11-01' AND DATE '2026-11-30'
        """
    ).fetchone()


def test_thirty_days_by_the_indicators_definitions(con, spec):
    figures = {r.key: r for r in live.compute(con, spec)}
    assert set(figures) == {"hotline_resolution_rate", "hotline_satisfaction_rate"}
    res = figures["hotline_resolution_rate"]
    num, den = _by_hand(con, "resolved", "resolved IS NOT NULL")
    assert (res.numerator, res.denominator) == (num, den)
    assert res.value == pytest.approx(num / den * 100)
    assert res.as_of == "2026-11-30" and res.start == "2026-11-01" and res.days == 30
    assert res.label == "企业诉求解决率" and res.reason is None
    sat = figures["hotline_satisfaction_rate"]
    # 满意 includes 基本满意 (metrics.yaml hotline_satisfaction_includes_basic: true)
    num, den = _by_hand(
        con, "satisfaction IN ('非常满意', '满意', '基本满意')", "satisfaction IS NOT NULL"
    )
    assert (sat.numerator, sat.denominator) == (num, den)
    assert sat.value == pytest.approx(num / den * 100)
    # the fixture is what it claims: 30 days of 5 counted kinds of ticket, minus never-asked ones
    assert 100 < den < 150


def test_window_follows_the_newest_record(con, spec):
    con.execute(
        "DELETE FROM hotline WHERE CAST(coalesce(closed_at, received_at) AS DATE) > DATE '2026-11-20'"
    )
    res = {r.key: r for r in live.compute(con, spec)}["hotline_resolution_rate"]
    assert res.as_of == "2026-11-20" and res.start == "2026-10-22"
    n = con.execute(
        """SELECT count(*) FROM hotline WHERE is_enterprise AND category <> '咨询' AND resolved IS NOT NULL
           AND CAST(coalesce(closed_at, received_at) AS DATE) BETWEEN DATE '2026-10-22' AND DATE '2026-11-20'"""
    ).fetchone()[0]
    assert res.denominator == n


def test_low_followup_and_no_data_say_why(con, spec):
    # 回访率 floor (50 %): most tickets of the window never asked whether resolved
    con.execute(
        "UPDATE hotline SET resolved = NULL WHERE (hash(ticket_id) % 10) < 7 "
        "AND closed_at >= TIMESTAMP '2026-11-01'"
    )
    res = {r.key: r for r in live.compute(con, spec)}["hotline_resolution_rate"]
    assert res.value is None and res.reason.startswith("回访率 ") and "低于 50%" in res.reason
    con.execute("DELETE FROM hotline")
    empty = {r.key: r for r in live.compute(con, spec)}["hotline_resolution_rate"]
    assert empty.value is None and empty.reason == "无数据" and empty.as_of is None


def test_meta_round_trip_and_old_snapshots(con, spec):
    meta = live.meta_entries(con, spec)
    back = live.from_meta(meta)
    assert back == live.compute(con, spec)
    assert live.from_meta({}) == [] and live.from_meta({live.META_KEY: "not json"}) == []


def test_line_under_the_counter():
    from ui.led import maps

    r = live.Recent(
        "hotline_resolution_rate",
        "企业诉求解决率",
        "%",
        87.2197,
        389,
        446,
        "2026-11-30",
        "2026-11-01",
    )
    html = maps.recent_line(r)
    assert "近30天 <b>87.2%</b> 截至11-30" in html
    none = live.Recent("k", "企业诉求解决率", "%", None, 0, 0, None, None, reason="无数据")
    assert "近30天 —（无数据）" in maps.recent_line(none)
