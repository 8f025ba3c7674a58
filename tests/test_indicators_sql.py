"""Every indicator of the shipped metrics.yaml against an independent, hand-written query.

Small canonical tables (seeded pseudo-random rows over two districts, the city's own 市本级
records and two quarters, with NULLs where exports leave cells empty) go through the real build;
each indicator's value and n are then recomputed here with plain SQL written from the indicator's
description — not from the compiler — per district, and for 全市 over all records.
"""

from __future__ import annotations

import csv
import datetime as dt
import random

import pytest

from kpi import settings
from kpi.spec.load import load_spec
from tests.fixtures.scoring import build

CITY, DISTRICTS, PERIODS = "330800", ("330802", "330803"), ("2026Q2", "2026Q3")
PERIOD_DAY = {"2026Q2": dt.datetime(2026, 5, 10, 9), "2026Q3": dt.datetime(2026, 8, 10, 9)}

# Hand-written value and n per indicator pattern (settings in metrics.yaml: 基本满意 counts as
# satisfied and as a good rating; zero_visit_max = 0).
AVG_DAYS = ("avg(workdays_used)", "count(workdays_used)")
ON_TIME = (
    "100.0 * count_if(on_time) / count_if(on_time IS NOT NULL)",
    "count_if(on_time IS NOT NULL)",
)
ONLINE = ("100.0 * count_if(channel = '全程网办') / count(*)", "count(*)")
ZERO_VISIT = (
    "100.0 * count_if(visits = 0) / count_if(visits IS NOT NULL)",
    "count_if(visits IS NOT NULL)",
)
COMPRESSION = (
    "100.0 * (sum(legal_limit_days) - sum(promised_limit_days)) / sum(legal_limit_days)",
    "count(*)",
)
RESOLVED = (
    "100.0 * count_if(resolved) / count_if(resolved IS NOT NULL)",
    "count_if(resolved IS NOT NULL)",
)
SATISFIED = (
    "100.0 * count_if(satisfaction IN ('满意', '基本满意')) / count_if(satisfaction IS NOT NULL)",
    "count_if(satisfaction IS NOT NULL)",
)
GOOD = ("100.0 * count_if(level IN (1, 2, 3)) / count(*)", "count(*)")
RECTIFIED = ("100.0 * count_if(is_bad AND rectified) / count_if(is_bad)", "count_if(is_bad)")

DONE = "status = '已办结'"
BOTH_LIMITS = "legal_limit_days IS NOT NULL AND promised_limit_days IS NOT NULL"


def _a(domain):
    return f"domain_key = '{domain}' AND {DONE}"


EXPECTED = {
    "sb_avg_workdays": ("approvals", _a("starting_business"), AVG_DAYS),
    "sb_on_time_rate": ("approvals", _a("starting_business"), ON_TIME),
    "sb_online_rate": ("approvals", _a("starting_business"), ONLINE),
    "sb_zero_visit_rate": ("approvals", _a("starting_business"), ZERO_VISIT),
    "sb_good_rating_rate": ("ratings", "domain_key = 'starting_business'", GOOD),
    "lm_wage_arrears_resolution_rate": ("hotline", "topic = '拖欠工资'", RESOLVED),
    "lm_wage_arrears_on_time_rate": ("hotline", "topic = '拖欠工资'", ON_TIME),
    "lm_approval_on_time_rate": ("approvals", _a("labor_market"), ON_TIME),
    "cp_avg_workdays": ("approvals", _a("construction_permits"), AVG_DAYS),
    "cp_limit_compression_rate": (
        "approvals",
        f"{_a('construction_permits')} AND {BOTH_LIMITS}",
        COMPRESSION,
    ),
    "cp_on_time_rate": ("approvals", _a("construction_permits"), ON_TIME),
    "bid_complaint_resolution_rate": ("hotline", "topic = '招投标投诉'", RESOLVED),
    "el_avg_workdays": ("approvals", _a("electricity"), AVG_DAYS),
    "el_on_time_rate": ("approvals", _a("electricity"), ON_TIME),
    "el_hotline_resolution_rate": ("hotline", "topic IN ('停电报修', '供电服务')", RESOLVED),
    "wg_avg_workdays": ("approvals", _a("water_gas"), AVG_DAYS),
    "wg_online_rate": ("approvals", _a("water_gas"), ONLINE),
    "wg_hotline_resolution_rate": ("hotline", "domain_key = 'water_gas'", RESOLVED),
    "pr_avg_workdays": ("approvals", _a("property_registration"), AVG_DAYS),
    "pr_online_rate": ("approvals", _a("property_registration"), ONLINE),
    "pr_good_rating_rate": ("ratings", "domain_key = 'property_registration'", GOOD),
    "ip_on_time_rate": ("approvals", _a("intellectual_property"), ON_TIME),
    "ip_infringement_resolution_rate": ("hotline", "topic = '知识产权侵权'", RESOLVED),
    "tx_avg_workdays": ("approvals", _a("taxes"), AVG_DAYS),
    "tx_online_rate": ("approvals", _a("taxes"), ONLINE),
    "tx_good_rating_rate": ("ratings", "domain_key = 'taxes'", GOOD),
    "mr_on_time_rate": ("approvals", _a("market_regulation"), ON_TIME),
    "mr_complaint_resolution_rate": (
        "hotline",
        "domain_key = 'market_regulation' AND category IN ('投诉', '举报')",
        RESOLVED,
    ),
    "approval_avg_workdays": ("approvals", DONE, AVG_DAYS),
    "approval_online_rate": ("approvals", DONE, ONLINE),
    "approval_on_time_rate": ("approvals", DONE, ON_TIME),
    "approval_zero_visit_rate": ("approvals", DONE, ZERO_VISIT),
    "approval_limit_compression_rate": ("approvals", f"{DONE} AND {BOTH_LIMITS}", COMPRESSION),
    "hotline_resolution_rate": ("hotline", "is_enterprise", RESOLVED),
    "hotline_satisfaction_rate": ("hotline", "is_enterprise", SATISFIED),
    "hotline_on_time_rate": ("hotline", "is_enterprise", ON_TIME),
    "ratings_good_rate": ("ratings", "TRUE", GOOD),
    "ratings_bad_rectified_rate": ("ratings", "TRUE", RECTIFIED),
    "ii_policy_resolution_rate": ("hotline", "topic = '惠企政策兑现'", RESOLVED),
}


def _catalog(name):
    with (settings.catalog_dir() / name).open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _rows(rng: random.Random):
    items, topics = _catalog("items.csv"), _catalog("hotline_topics.csv")
    units = [*DISTRICTS, CITY]  # the city's code = 市本级 records: in 全市, never a district

    def maybe(v, p=0.15):
        return None if rng.random() < p else v

    approvals, hotline, ratings = [], [], []
    for n in range(900):
        it, period = rng.choice(items), rng.choice(PERIODS)
        legal = int(it["legal_limit_days"])
        days = rng.randint(0, legal + 2)
        approvals.append(
            {
                "case_id": f"A{n}",
                "item_code": it["item_code"],
                "domain_key": it["domain_key"],
                "district_code": rng.choice(units),
                "accepted_at": PERIOD_DAY[period],
                "period": period,
                "channel": rng.choice(["全程网办", "全程网办", "窗口", "移动端", None]),
                "status": rng.choice(["已办结"] * 5 + ["办理中", "退件"]),
                "legal_limit_days": maybe(legal),
                "promised_limit_days": maybe(int(it["promised_limit_days"])),
                "visits": maybe(rng.choice([0, 0, 1, 2])),
                "workdays_used": maybe(days),
                "on_time": maybe(days <= int(it["promised_limit_days"])),
            }
        )
    for n in range(1500):
        tp, period = rng.choice(topics), rng.choice(PERIODS)
        hotline.append(
            {
                "ticket_id": f"H{n}",
                "received_at": PERIOD_DAY[period],
                "period": period,
                "topic": tp["topic"],
                "domain_key": tp["domain_key"] or None,
                "district_code": rng.choice(units),
                "is_enterprise": rng.random() < 0.6,
                "category": rng.choice(["咨询", "投诉", "举报", "求助"]),
                "resolved": maybe(rng.random() < 0.8, 0.25),
                "on_time": maybe(rng.random() < 0.9),
                "satisfaction": maybe(rng.choice(["满意", "基本满意", "不满意"]), 0.3),
            }
        )
    for n in range(700):
        it, period, level = (
            rng.choice(items),
            rng.choice(PERIODS),
            rng.choice([1, 1, 1, 2, 2, 3, 4, 5]),
        )
        ratings.append(
            {
                "rating_id": f"R{n}",
                "rated_at": PERIOD_DAY[period],
                "period": period,
                "level": level,
                "item_code": it["item_code"],
                "domain_key": it["domain_key"],
                "district_code": rng.choice(units),
                "is_bad": level >= 4,
                "rectified": (rng.random() < 0.7) if level >= 4 else None,
            }
        )
    return approvals, hotline, ratings


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("indicators")
    spec_text = settings.metrics_path().read_text(encoding="utf-8")
    approvals, hotline, ratings = _rows(random.Random(20260924))
    spec = load_spec()
    reported = [i.key for _, i in spec.indicators() if i.source == "reports"]
    rng = random.Random(5)
    reports = [
        {
            "district_code": d,
            "report_period": p,
            "indicator_key": k,
            "value": round(rng.uniform(0, 100), 2),
        }
        for p in PERIODS
        for d in DISTRICTS
        for k in reported
    ]
    reports.append(
        {
            "district_code": CITY,
            "report_period": "2026Q3",
            "indicator_key": reported[0],
            "value": 42.0,
        }
    )
    tables = {"approvals": approvals, "hotline": hotline, "ratings": ratings, "reports": reports}
    con = build(
        tmp, spec_text, settings.catalog_dir(), tables
    )  # canonical rows and marts in one file
    return con, spec, reported


def test_every_transaction_indicator_has_a_hand_written_check():
    spec = load_spec()
    assert {i.key for _, i in spec.indicators() if i.source != "reports"} == set(EXPECTED)


@pytest.mark.parametrize("key", sorted(EXPECTED))
def test_indicator_matches_hand_written_query(built, key):
    con, _, _ = built
    table, where, (value_sql, n_sql) = EXPECTED[key]
    for period in PERIODS:
        for unit in (*DISTRICTS, CITY):
            scope = "TRUE" if unit == CITY else "district_code = ?"  # 全市 = every record
            params = [period] + ([] if unit == CITY else [unit])
            expected = con.execute(
                f"SELECT {value_sql} AS v, {n_sql} AS n FROM {table} WHERE period = ? AND {scope} AND ({where})",
                params,
            ).fetchone()
            got = con.execute(
                "SELECT value, n FROM indicator_scores WHERE indicator_key = ? AND period = ? "
                "AND district_code = ?",
                [key, period, unit],
            ).fetchone()
            assert got[1] == expected[1], (key, period, unit)
            if expected[1]:
                assert got[0] == pytest.approx(expected[0]), (key, period, unit)
            else:
                assert got[0] is None, (key, period, unit)


def test_fixture_exercises_every_indicator(built):
    # Guard against a vacuous comparison: each transaction indicator has data in every cell.
    con, _, _ = built
    empty = con.execute(
        "SELECT indicator_key, period, district_code FROM indicator_scores "
        "WHERE source <> 'reports' AND n = 0 AND district_code IN (?, ?, ?)",
        [*DISTRICTS, CITY],
    ).fetchall()
    assert empty == []


def test_reported_values_and_city_rows(built):
    con, _, reported = built
    rows = con.execute(
        "SELECT district_code, report_period, indicator_key, value FROM reports"
    ).fetchall()
    filed = {(d, p, k): v for d, p, k, v in rows}
    for key in reported:
        for period in PERIODS:
            for d in DISTRICTS:
                got = con.execute(
                    "SELECT value FROM indicator_scores WHERE indicator_key = ? AND period = ? "
                    "AND district_code = ?",
                    [key, period, d],
                ).fetchone()[0]
                assert got == pytest.approx(filed[(d, period, key)])
            city = con.execute(
                "SELECT value FROM indicator_scores WHERE indicator_key = ? AND period = ? "
                "AND district_code = ?",
                [key, period, CITY],
            ).fetchone()[0]
            own = filed.get((CITY, period, key))
            mean = sum(filed[(d, period, key)] for d in DISTRICTS) / len(DISTRICTS)
            assert city == pytest.approx(own if own is not None else mean)


def test_domain_and_overall_rows_exist_for_every_unit(built):
    con, spec, _ = built
    got = con.execute("SELECT count(*) FROM domain_scores").fetchone()[0]
    assert got == len(PERIODS) * 7 * len(spec.domains)  # 6 catalogue districts + 全市, data or not
    got = con.execute(
        "SELECT period, count(*) FROM overall_scores GROUP BY period ORDER BY period"
    ).fetchall()
    assert got == [(p, 7) for p in PERIODS]


MIN_MAX_SPEC = """
version: test-minmax
city: {code: "330800", name: 测试市}
defaults: {min_sample: 1}
domains:
  - id: D
    key: government_services
    label_zh: 政务服务
    weight: 1
    indicators:
      - {id: MAX, key: slowest, label_zh: 最长用时, description: 测试, unit: 工作日, source: approvals,
         measure: {agg: max, expr: workdays_used}, direction: lower_is_better, weight: 0.5, dtf: {best: 0, worst: 30}}
      - {id: MIN, key: fastest, label_zh: 最短用时, description: 测试, unit: 工作日, source: approvals,
         measure: {agg: min, expr: workdays_used}, direction: lower_is_better, weight: 0.5, dtf: {best: 0, worst: 30}}
"""


def test_min_and_max_measures_roll_up_to_the_city_over_all_records(tmp_path):
    """The city's max is the max over every record (市本级 ones too), not a sum or mean of the
    districts' maxima; likewise min. Worked out by hand from the rows below."""
    from tests.fixtures.scoring import build, write_catalog

    catalog = write_catalog(
        tmp_path / "catalog",
        [
            ("330800", "测试市", "city", 0),
            ("330801", "甲区", "district", 1),
            ("330802", "乙区", "district", 2),
        ],
    )

    def case(n, district, days):
        return {
            "case_id": f"C{n}",
            "district_code": district,
            "accepted_at": "2026-07-01 09:00:00",
            "completed_at": "2026-08-01 09:00:00",
            "status": "已办结",
            "workdays_used": days,
            "period": "2026Q3",
        }

    rows = [
        case(1, "330801", 3),
        case(2, "330801", 9),
        case(3, "330802", 5),
        case(4, "330802", None),
        case(5, "330800", 12),
        case(6, "330800", 1),
    ]
    con = build(tmp_path, MIN_MAX_SPEC, catalog, {"approvals": rows})
    got = {
        (d, i): (v, n)
        for d, i, v, n in con.execute(
            "SELECT district_code, indicator_id, value, n FROM indicator_scores WHERE period = '2026Q3'"
        ).fetchall()
    }
    con.close()
    assert got == {
        ("330801", "MAX"): (9, 2),
        ("330801", "MIN"): (3, 2),
        ("330802", "MAX"): (5, 1),
        ("330802", "MIN"): (5, 1),
        ("330800", "MAX"): (12, 5),
        ("330800", "MIN"): (1, 5),
    }
