"""Scoring rules on a two-domain, reports-only spec, every expected number worked out by hand.

Domain A (weight 0.6): a1 higher-better, dtf 0→100, w 0.5, warn 60, advanced 90
                       a2 lower-better,  dtf 10→0,  w 0.3, warn 5,  advanced 2
                       a3 higher-better, dtf 50→100, w 0.2
Domain B (weight 0.4): b1 higher-better, dtf 0→10, w 1.0
DTF score = (worst − v)/(worst − best)·100, clamped. Neutral band 0.5 score points, so the value
band of a1 is 0.5·100/100 = 0.5 and of b1 0.5·10/100 = 0.05.

2025Q3  d1: a1 90 a2 5 a3 90 b1 5 | d2: a1 60 a2 2 a3 90 b1 5 | d3: a1 50 a2 5 a3 90 b1 5
        scores d1: 90, 50, 80 → A = 45+15+16 = 76; B = 50; overall = .6·76+.4·50 = 65.6
               d2: 60, 80, 80 → A = 30+24+16 = 70;          overall = 42+20 = 62
               d3: 50, 50, 80 → A = 25+15+16 = 56;          overall = 33.6+20 = 53.6
2025Q4  d1 = d2: a1 80 a2 4 a3 90 b1 5 → 80, 60, 80 → A = 40+18+16 = 74; overall 44.4+20 = 64.4
        d3: a1 120 (→100) a2 12 (→0) a3 — b1 0 → A = (50+0)/0.8 = 62.5; B = 0; overall 37.5
        d4: a1 30 only → scorable weight 0.5 (not < half) → A = 30; b1 10 → 100; overall 18+40 = 58
        d5: a3 90 only → scorable 0.2 < 0.5 → A NULL; b1 10 → B 100; overall renormalised = 100
        city: no own filing for a1 → no value (never the mean of the districts' rates; a1 is not
              filed in 分子/分母 parts, so there is nothing to add up); own filing b1 = 7 → 7
The filings here are never due (report_deadline_days 500): a missing one is unscored and its
weight renormalised away, which is what these rules are about (应报未报 scoring 0 is tested in
tests/test_issue13_states.py)
2026Q3  d1: a1 95 (YoY vs 2025Q3 90: +5, improved)
2026Q4  d1: a1 70 — partial quarter (now = 2026-11-24): QoQ vs 2026Q3 and YoY vs 2025Q4 are NULL
"""

from __future__ import annotations

import pytest

from tests.fixtures.scoring import build, write_catalog

SPEC = """
version: test-1
city: {code: "330800", name: 测试市}
defaults:
  min_sample: 1
  rank_tie_rule: %(tie)s
  rank_precision: 2
  neutral_band: 0.5
  min_scored_weight: 0.5
  score_bands: {red_below: 60, green_from: 85}
  report_deadline_days: 500
domains:
  - id: A
    key: dom_a
    label_zh: 领域甲
    weight: 0.6
    indicators:
      - {id: A1, key: a1, label_zh: 甲一, description: 测试, unit: "%%", source: reports,
         direction: higher_is_better, weight: 0.5, dtf: {best: 100, worst: 0}, warn: 60, advanced: 90}
      - {id: A2, key: a2, label_zh: 甲二, description: 测试, unit: 天, source: reports,
         direction: lower_is_better, weight: 0.3, dtf: {best: 0, worst: 10}, warn: 5, advanced: 2}
      - {id: A3, key: a3, label_zh: 甲三, description: 测试, unit: "%%", source: reports,
         direction: higher_is_better, weight: 0.2, dtf: {best: 100, worst: 50}}
  - id: B
    key: dom_b
    label_zh: 领域乙
    weight: 0.4
    indicators:
      - {id: B1, key: b1, label_zh: 乙一, description: 测试, unit: 分, source: reports,
         direction: higher_is_better, weight: 1.0, dtf: {best: 10, worst: 0}}
"""

VALUES = {
    "2025Q3": {
        "d1": {"a1": 90, "a2": 5, "a3": 90, "b1": 5},
        "d2": {"a1": 60, "a2": 2, "a3": 90, "b1": 5},
        "d3": {"a1": 50, "a2": 5, "a3": 90, "b1": 5},
    },
    "2025Q4": {
        "d1": {"a1": 80, "a2": 4, "a3": 90, "b1": 5},
        "d2": {"a1": 80, "a2": 4, "a3": 90, "b1": 5},
        "d3": {"a1": 120, "a2": 12, "b1": 0},
        "d4": {"a1": 30, "b1": 10},
        "d5": {"a3": 90, "b1": 10},
        "city": {"b1": 7},
    },
    "2026Q3": {"d1": {"a1": 95}},
    "2026Q4": {"d1": {"a1": 70}},
}
CODES = {
    "city": "330800",
    "d1": "330801",
    "d2": "330802",
    "d3": "330803",
    "d4": "330804",
    "d5": "330805",
}


@pytest.fixture(scope="module")
def marts(tmp_path_factory):
    return _build(tmp_path_factory.mktemp("rules"), "min")


def _build(tmp, tie):
    catalog = write_catalog(
        tmp / "catalog",
        [("330800", "测试市", "city", 0)]
        + [
            (CODES[d], f"{d}区", "district", n)
            for n, d in enumerate(["d1", "d2", "d3", "d4", "d5"], 1)
        ],
    )
    rows = [
        {"district_code": CODES[d], "report_period": p, "indicator_key": k, "value": float(v)}
        for p, ds in VALUES.items()
        for d, kv in ds.items()
        for k, v in kv.items()
    ]
    return build(tmp, SPEC % {"tie": tie}, catalog, {"reports": rows})


def one(con, sql, *params):
    return con.execute(sql, list(params)).fetchone()


def ind(con, period, d, key, cols):
    return one(
        con,
        f"SELECT {cols} FROM indicator_scores WHERE period = ? AND district_code = ? AND indicator_key = ?",
        period,
        CODES[d],
        key,
    )


@pytest.mark.parametrize(
    "period,d,key,score",
    [
        ("2025Q3", "d1", "a1", 90.0),
        ("2025Q3", "d1", "a2", 50.0),
        ("2025Q3", "d1", "a3", 80.0),
        ("2025Q3", "d2", "a2", 80.0),
        ("2025Q4", "d1", "b1", 50.0),
        ("2025Q4", "d3", "a1", 100.0),  # 120 is beyond best: clamped to 100
        ("2025Q4", "d3", "a2", 0.0),  # 12 days is beyond worst: clamped to 0
        ("2025Q4", "d3", "b1", 0.0),
    ],
)
def test_dtf_score(marts, period, d, key, score):
    assert ind(marts, period, d, key, "score")[0] == pytest.approx(score)


@pytest.mark.parametrize(
    "period,d,domain,score,scored_weight,reason",
    [
        ("2025Q3", "d1", "dom_a", 76.0, 1.0, None),
        ("2025Q4", "d1", "dom_a", 74.0, 1.0, None),
        ("2025Q4", "d3", "dom_a", 62.5, 0.8, None),  # a3 missing: renormalised over 0.8
        ("2025Q4", "d4", "dom_a", 30.0, 0.5, None),  # exactly half is enough
        ("2025Q4", "d5", "dom_a", None, 0.2, "可评分指标权重仅 20%，不足 50%"),
        ("2025Q4", "d5", "dom_b", 100.0, 1.0, None),
    ],
)
def test_domain_weighting_and_renormalisation(
    marts, period, d, domain, score, scored_weight, reason
):
    got = one(
        marts,
        "SELECT score, scored_weight, suppressed_reason FROM domain_scores "
        "WHERE period = ? AND district_code = ? AND domain_key = ?",
        period,
        CODES[d],
        domain,
    )
    assert got[0] == (None if score is None else pytest.approx(score))
    assert got[1] == pytest.approx(scored_weight)
    assert got[2] == reason


@pytest.mark.parametrize(
    "period,d,score,n_domains",
    [
        ("2025Q3", "d1", 65.6, 2),
        ("2025Q3", "d2", 62.0, 2),
        ("2025Q3", "d3", 53.6, 2),
        ("2025Q4", "d1", 64.4, 2),
        ("2025Q4", "d3", 37.5, 2),
        ("2025Q4", "d4", 58.0, 2),
        ("2025Q4", "d5", 100.0, 1),  # domain A suppressed: overall renormalised over B alone
    ],
)
def test_overall_index(marts, period, d, score, n_domains):
    got = one(
        marts,
        "SELECT score, n_domains_scored FROM overall_scores WHERE period = ? AND district_code = ?",
        period,
        CODES[d],
    )
    assert got[0] == pytest.approx(score)
    assert got[1] == n_domains


def test_city_rows_from_all_filings_and_unranked(marts):
    # a1: no city filing → no city value (not the mean of the districts' rates: issue 13);
    # b1: the city's own filing.
    assert ind(marts, "2025Q4", "city", "a1", "value, n, rank, is_city, data_state") == (
        None,
        0,
        None,
        True,
        "not_due",
    )
    assert ind(marts, "2025Q4", "city", "b1", "value, n, rank") == (pytest.approx(7.0), 1, None)
    assert one(marts, "SELECT rank FROM overall_scores WHERE is_city AND period = '2025Q4'") == (
        None,
    )


@pytest.mark.parametrize(
    "tie,expected",
    [
        # overall 2025Q4: d5 100, d1 64.4, d2 64.4, d4 58, d3 37.5
        ("min", {"d5": 1, "d1": 2, "d2": 2, "d4": 4, "d3": 5}),
        ("dense", {"d5": 1, "d1": 2, "d2": 2, "d4": 3, "d3": 4}),
        ("ordinal", {"d5": 1, "d1": 2, "d2": 3, "d4": 4, "d3": 5}),  # ties by catalogue order
    ],
)
def test_tie_rules(tmp_path, marts, tie, expected):
    con = marts if tie == "min" else _build(tmp_path, tie)
    got = dict(
        con.execute(
            "SELECT district_code, rank FROM overall_scores WHERE period = '2025Q4' AND NOT is_city"
        ).fetchall()
    )
    assert got == {CODES[d]: r for d, r in expected.items()}


@pytest.mark.parametrize(
    "table,key,d,rank,rank_change",
    [
        # a1 scores 2025Q3: d1 90, d2 60, d3 50 → 1, 2, 3; 2025Q4: d3 100, d1 80, d2 80, d4 30 → 1, 2, 2, 4
        ("indicator_scores", "a1", "d1", 2, -1),
        ("indicator_scores", "a1", "d2", 2, 0),
        ("indicator_scores", "a1", "d3", 1, 2),
        ("indicator_scores", "a1", "d4", 4, None),
        # overall: 2025Q3 d1 1, d2 2, d3 3 → 2025Q4 d1 2, d2 2, d3 5
        ("overall_scores", None, "d1", 2, -1),
        ("overall_scores", None, "d2", 2, 0),
        ("overall_scores", None, "d3", 5, -2),
    ],
)
def test_rank_change(marts, table, key, d, rank, rank_change):
    where = " AND indicator_key = ?" if key else ""
    params = ["2025Q4", CODES[d]] + ([key] if key else [])
    got = one(
        marts,
        f"SELECT rank, rank_change FROM {table} WHERE period = ? AND district_code = ?{where}",
        *params,
    )
    assert got == (rank, rank_change)


@pytest.mark.parametrize(
    "period,d,key,value_qoq,score_qoq,trend",
    [
        ("2025Q4", "d1", "a1", -10.0, -10.0, "worsened"),  # 90 → 80, higher is better
        ("2025Q4", "d2", "a1", 20.0, 20.0, "improved"),  # 60 → 80
        (
            "2025Q4",
            "d1",
            "a2",
            -1.0,
            10.0,
            "improved",
        ),  # 5 → 4 days, lower is better: a fall is better
        ("2025Q4", "d1", "b1", 0.0, 0.0, "unchanged"),
        ("2025Q4", "d3", "a3", None, None, None),  # no value this quarter
        ("2026Q3", "d1", "a1", None, None, None),  # 2026Q2 has no data
    ],
)
def test_qoq_and_trend(marts, period, d, key, value_qoq, score_qoq, trend):
    got = ind(marts, period, d, key, "value_qoq, score_qoq, trend_qoq")
    assert got[0] == (None if value_qoq is None else pytest.approx(value_qoq))
    assert got[1] == (None if score_qoq is None else pytest.approx(score_qoq))
    assert got[2] == trend


def test_yoy_between_full_quarters(marts):
    assert ind(marts, "2026Q3", "d1", "a1", "value_yoy, score_yoy, trend_yoy") == (
        pytest.approx(5.0),
        pytest.approx(5.0),
        "improved",
    )


def test_partial_quarter_is_never_compared_with_a_full_one(marts):
    got = ind(
        marts,
        "2026Q4",
        "d1",
        "a1",
        "is_partial, value, value_prev, value_qoq, value_yoy, score_qoq, rank_change, trend_qoq",
    )
    assert got == (True, 70.0, 95.0, None, None, None, None, None)
    assert one(marts, "SELECT is_partial FROM periods WHERE period = '2025Q4'") == (False,)
    assert one(
        marts,
        "SELECT is_partial, period_start::VARCHAR, period_end::VARCHAR FROM periods WHERE period = '2026Q4'",
    ) == (True, "2026-10-01", "2026-12-31")


@pytest.mark.parametrize(
    "period,d,key,rag",
    [
        ("2025Q3", "d1", "a1", "green"),  # 90 = advanced → green
        ("2025Q3", "d2", "a1", "amber"),  # 60 = warn → not worse than warn → amber
        ("2025Q3", "d3", "a1", "red"),  # 50 < 60
        ("2025Q3", "d1", "a2", "amber"),  # 5 days = warn (lower better) → amber
        ("2025Q3", "d2", "a2", "green"),  # 2 days = advanced → green
        ("2025Q4", "d3", "a2", "red"),  # 12 > 5
        ("2025Q4", "d1", "a3", None),  # no thresholds set
        ("2025Q4", "d4", "a2", None),  # no value: suppressed
    ],
)
def test_indicator_rag(marts, period, d, key, rag):
    assert ind(marts, period, d, key, "rag")[0] == rag


@pytest.mark.parametrize(
    "table,where,rag",
    [
        ("domain_scores", "domain_key = 'dom_a' AND district_code = '330801'", "amber"),  # 74
        ("domain_scores", "domain_key = 'dom_a' AND district_code = '330804'", "red"),  # 30
        ("domain_scores", "domain_key = 'dom_b' AND district_code = '330805'", "green"),  # 100
        ("domain_scores", "domain_key = 'dom_a' AND district_code = '330805'", None),  # suppressed
        ("overall_scores", "district_code = '330803'", "red"),  # 37.5
        ("overall_scores", "district_code = '330801'", "amber"),  # 64.4
    ],
)
def test_score_band_rag(marts, table, where, rag):
    assert one(marts, f"SELECT rag FROM {table} WHERE period = '2025Q4' AND {where}") == (rag,)


def test_counts_on_domain_rows(marts):
    # d3 2025Q4 domain A: a1 green (120 ≥ 90), a2 red (12 > 5), a3 no value.
    got = one(
        marts,
        "SELECT n_indicators, n_scored, n_red, n_green FROM domain_scores "
        "WHERE period = '2025Q4' AND district_code = '330803' AND domain_key = 'dom_a'",
    )
    assert got == (3, 2, 1, 1)
    assert one(
        marts,
        "SELECT n_red FROM overall_scores WHERE period = '2025Q4' AND district_code = '330803'",
    ) == (1,)


def test_grid_shows_unscored_indicators(marts):
    got = ind(
        marts, "2025Q4", "d4", "a2", "value, n, scored, data_state, suppressed_reason, score, rank"
    )
    # not filed, and not yet due (the deadline is 500 days after the quarter): shown, unscored
    assert got == (None, 0, False, "not_due", "未到报送期限（2027-05-15）", None, None)


def test_snapshot_meta(marts):
    meta = dict(marts.execute("SELECT key, value FROM snapshot_meta").fetchall())
    assert (
        meta["city_code"],
        meta["city_name"],
        meta["current_period"],
        meta["latest_complete_period"],
        meta["metrics_version"],
    ) == ("330800", "测试市", "2026Q4", "2026Q3", "test-1")


SMALL = """
version: t-small
city: {code: "330800", name: 测试市}
defaults: {min_sample: 1, rank_tie_rule: min, rank_precision: %(prec)s, neutral_band: 0.5}
domains:
  - id: S
    key: dom_s
    label_zh: 单领域
    weight: 1
    indicators:
      - {id: S1, key: s1, label_zh: 一, description: 测试, unit: 分, source: reports,
         direction: higher_is_better, weight: 0.5, dtf: {best: 10, worst: 0}, neutral_band: 2, warn: 7, advanced: 9}
      - {id: S2, key: s2, label_zh: 二, description: 测试, unit: 天, source: reports,
         direction: lower_is_better, weight: 0.5, dtf: {best: 0, worst: 10}, neutral_band: 2}
"""


def _small(tmp, prec, values):
    catalog = write_catalog(
        tmp / "catalog",
        [
            ("330800", "测试市", "city", 0),
            ("330801", "甲区", "district", 1),
            ("330802", "乙区", "district", 2),
        ],
    )
    rows = [
        {"district_code": d, "report_period": p, "indicator_key": k, "value": v}
        for (p, d, k), v in values.items()
    ]
    return build(tmp, SMALL % {"prec": prec}, catalog, {"reports": rows})


@pytest.mark.parametrize(
    "prec,ranks",
    [
        # s1 5.0004 vs 5.0 → scores 50.004 and 50.0: equal at 2 decimals (并列), apart at 3
        (2, (1, 1)),
        (3, (1, 2)),
    ],
)
def test_rank_precision(tmp_path, prec, ranks):
    con = _small(
        tmp_path, prec, {("2025Q1", "330801", "s1"): 5.0004, ("2025Q1", "330802", "s1"): 5.0}
    )
    got = con.execute(
        "SELECT rank FROM indicator_scores WHERE indicator_key = 's1' AND NOT is_city "
        "ORDER BY district_code"
    ).fetchall()
    assert tuple(r[0] for r in got) == ranks


@pytest.mark.parametrize(
    "key,before,after,trend",
    [
        ("s1", 5.0, 6.5, "unchanged"),  # +1.5 within the indicator's band of 2
        ("s1", 5.0, 7.5, "improved"),  # +2.5
        ("s1", 5.0, 3.0, "unchanged"),  # −2 exactly on the band edge
        ("s2", 5.0, 2.5, "improved"),  # −2.5 days, lower is better
        ("s2", 5.0, 7.5, "worsened"),
    ],
)
def test_indicator_neutral_band(tmp_path, key, before, after, trend):
    con = _small(tmp_path, 2, {("2025Q1", "330801", key): before, ("2025Q2", "330801", key): after})
    got = con.execute(
        "SELECT trend_qoq FROM indicator_scores WHERE indicator_key = ? AND period = '2025Q2' "
        "AND district_code = '330801'",
        [key],
    ).fetchone()
    assert got == (trend,)


@pytest.mark.parametrize(
    "delta,band,expected",
    [
        (0.6, 0.5, "improved"),
        (0.5, 0.5, "unchanged"),
        (-0.5, 0.5, "unchanged"),
        (-0.51, 0.5, "worsened"),
        (0.0, 0.0, "unchanged"),
        (0.01, 0.0, "improved"),
        (None, 0.5, None),
    ],
)
def test_trend_rule(delta, band, expected):
    from kpi import store
    from kpi.engine.scoring import _trend

    con = store.connect_memory()
    assert con.execute(
        f"SELECT {_trend('d', 'b')} FROM (SELECT ?::DOUBLE AS d, ?::DOUBLE AS b)", [delta, band]
    ).fetchone() == (expected,)


@pytest.mark.parametrize(
    "value,rag",
    [
        (0.07 * 100, "amber"),  # 7.000000000000001: the 7.0 a user sees is not worse than warn 7
        (6.9999999999999, "amber"),  # float noise below the threshold still counts as 7
        (6.99, "red"),
        (8.9999999999999, "green"),  # = advanced 9 up to float noise
    ],
)
def test_rag_thresholds_ignore_float_noise(tmp_path, value, rag):
    con = _small(tmp_path, 2, {("2025Q1", "330801", "s1"): value})
    got = con.execute(
        "SELECT rag FROM indicator_scores WHERE indicator_key = 's1' AND district_code = '330801'"
    ).fetchone()
    assert got == (rag,)
