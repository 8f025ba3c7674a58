"""Every indicator of the shipped metrics.yaml against an independent, hand-written query.

Small canonical tables (seeded pseudo-random rows over two districts, the city's own 市本级
records and two quarters, with NULLs where exports leave cells empty) go through the real build;
each indicator's value and n are then recomputed here with plain SQL written from the indicator's
description — not from the compiler — per district, and for 全市 over all records.

The rows carry what the definitions of issue 13 turn on: 办件 and tickets still open after their
due day (on_time false, in the quarter they fell due: due_period), open ones not yet due, re-ratings
(评价次数 2) that must not count, 咨询 tickets left out of 解决率 / 满意率, 差评 voided on 申诉复核,
five satisfaction levels, 即办件, 紧急 tickets with their own signing limit, 差评 whose
rectification deadline (15 working days, worked out here with chinese-calendar) falls in the next
quarter, and 办件 with and without a first rating.
"""

from __future__ import annotations

import csv
import datetime as dt
import random

import chinese_calendar
import pytest

from kpi import periods, settings
from kpi.spec.load import load_spec
from tests.fixtures.scoring import build

CITY, DISTRICTS, PERIODS = "330800", ("330802", "330803"), ("2026Q2", "2026Q3")
PERIOD_DAY = {"2026Q2": dt.datetime(2026, 5, 10, 9), "2026Q3": dt.datetime(2026, 8, 10, 9)}
# rating days: two a quarter, one late enough that a 差评's deadline falls in the next quarter
RATING_DAYS = {
    "2026Q2": (dt.datetime(2026, 5, 10, 9), dt.datetime(2026, 6, 22, 10)),
    "2026Q3": (dt.datetime(2026, 8, 10, 9), dt.datetime(2026, 9, 18, 15)),
}
RECTIFY_DAYS = 15  # metrics.yaml settings.rectify_limit_days
SIGN_HOURS, SIGN_HOURS_URGENT = 24, 2  # settings.hotline_sign_limit_hours(_urgent)


def _deadline_quarter(day: dt.date) -> str:
    """The quarter of the RECTIFY_DAYS-th working day after `day` (chinese-calendar, not the build's
    calendar table)."""
    n = 0
    while n < RECTIFY_DAYS:
        day += dt.timedelta(days=1)
        n += chinese_calendar.is_workday(day)
    return periods.period_of(day)


DEADLINE_QUARTER = (
    "CASE CAST(rated_at AS DATE) "
    + " ".join(
        f"WHEN DATE '{d.date()}' THEN '{_deadline_quarter(d.date())}'"
        for days in RATING_DAYS.values()
        for d in days
    )
    + " END"
)

# Hand-written value and n per indicator pattern (settings in metrics.yaml: 基本满意 counts as
# satisfied and as a good rating; zero_visit_max = 0; 咨询 left out of 解决率 / 满意率).
AVG_DAYS = ("avg(workdays_used)", "count(workdays_used)")
# by due date: on_time is NULL only for what is not yet due (or has no limit); an open overdue item
# is false and stays in the denominator
ON_TIME = (
    "100.0 * count_if(on_time) / count_if(on_time IS NOT NULL)",
    "count_if(on_time IS NOT NULL)",
)
COMPLETION = (
    "100.0 * count_if(on_time IS NOT NULL AND closed_at IS NOT NULL) / count_if(on_time IS NOT NULL)",
    "count_if(on_time IS NOT NULL)",
)
ONLINE = ("100.0 * count_if(channel IN ('全程网办', '移动端')) / count(*)", "count(*)")
ZERO_VISIT = (
    "100.0 * count_if(visits = 0) / count_if(visits IS NOT NULL)",
    "count_if(visits IS NOT NULL)",
)
ONE_VISIT = (
    "100.0 * count_if(visits <= 1) / count_if(visits IS NOT NULL)",
    "count_if(visits IS NOT NULL)",
)
INSTANT = ("100.0 * count_if(case_type = '即办件') / count(*)", "count(*)")
SPEEDUP = (
    "avg(workdays_used * 100.0 / promised_limit_days)",
    "count(workdays_used * 100.0 / promised_limit_days)",
)
# over the 事项: each (item, its limits) a district handled counts once, not each case
ITEMS = (
    "(SELECT 100.0 * (sum(l) - sum(p)) / sum(l) FROM (SELECT DISTINCT district_code, item_code, "
    "legal_limit_days AS l, promised_limit_days AS p FROM rows))",
    "(SELECT count(*) FROM (SELECT DISTINCT district_code, item_code, legal_limit_days, "
    "promised_limit_days FROM rows))",
)
RESOLVED = (
    "100.0 * count_if(resolved) / count_if(resolved IS NOT NULL)",
    "count_if(resolved IS NOT NULL)",
)
SATISFIED = (
    "100.0 * count_if(satisfaction IN ('非常满意', '满意', '基本满意')) / count_if(satisfaction IS NOT NULL)",
    "count_if(satisfaction IS NOT NULL)",
)
FOLLOWED = (
    "100.0 * count_if(followed_up) / count_if(closed_at IS NOT NULL)",
    "count_if(closed_at IS NOT NULL)",
)
REPEAT = (
    "100.0 * count_if(is_repeat) / count_if(is_repeat IS NOT NULL)",
    "count_if(is_repeat IS NOT NULL)",
)
SIGNED = (
    f"100.0 * count_if(response_hours <= CASE WHEN urgency = '紧急' THEN {SIGN_HOURS_URGENT} "
    f"ELSE {SIGN_HOURS} END) / count_if(response_hours IS NOT NULL OR open_hours > "
    f"CASE WHEN urgency = '紧急' THEN {SIGN_HOURS_URGENT} ELSE {SIGN_HOURS} END)",
    f"count_if(response_hours IS NOT NULL OR open_hours > CASE WHEN urgency = '紧急' "
    f"THEN {SIGN_HOURS_URGENT} ELSE {SIGN_HOURS} END)",
)
GOOD = ("100.0 * count_if(level IN (1, 2, 3)) / count(*)", "count(*)")
BAD_PER_MILLE = (
    "1000.0 * count_if(level >= 4 AND NOT coalesce(appeal_voided, false)) / count(*)",
    "count(*)",
)
VALID_BAD = "level >= 4 AND NOT coalesce(appeal_voided, false)"
RECTIFIED_ON_TIME = (
    f"100.0 * count_if({VALID_BAD} AND rectified AND rectify_workdays <= {RECTIFY_DAYS}) / count_if({VALID_BAD})",
    f"count_if({VALID_BAD})",
)
BAD_FOLLOWED = (
    f"100.0 * count_if({VALID_BAD} AND followed_up) / count_if({VALID_BAD})",
    f"count_if({VALID_BAD})",
)
# 主动评价率: closed 办件 with a first rating (ratings.case_id, 评价次数 1)
RATED = (
    "100.0 * count_if(EXISTS (SELECT 1 FROM ratings r WHERE r.case_id = rows.case_id AND r.rating_seq = 1)) / count(*)",
    "count(*)",
)

DONE = "status = '已办结'"
OPEN_OR_DONE = "status NOT IN ('不予受理', '退件')"
BOTH_LIMITS = "legal_limit_days IS NOT NULL AND promised_limit_days IS NOT NULL"
DEMAND = "category <> '咨询'"  # 解决率 / 满意率: 诉求 only
FIRST = "rating_seq = 1"
DUE = "due_period"  # the quarter an item falls due in


def _a(domain, done=DONE):
    return f"domain_key = '{domain}' AND {done}"


def _due(domain=None):
    return (_a(domain, OPEN_OR_DONE) if domain else OPEN_OR_DONE), ON_TIME, DUE


# key: (table, where, (value, n), the column that puts a row in the quarter)
EXPECTED = {
    "sb_avg_workdays": ("approvals", _a("starting_business"), AVG_DAYS),
    "sb_on_time_rate": ("approvals", *_due("starting_business")),
    "sb_online_rate": ("approvals", _a("starting_business"), ONLINE),
    "sb_zero_visit_rate": ("approvals", _a("starting_business"), ZERO_VISIT),
    "sb_good_rating_rate": ("ratings", f"domain_key = 'starting_business' AND {FIRST}", GOOD),
    "lm_wage_arrears_resolution_rate": ("hotline", f"topic = '拖欠工资' AND {DEMAND}", RESOLVED),
    "lm_wage_arrears_on_time_rate": ("hotline", "topic = '拖欠工资'", ON_TIME, DUE),
    "lm_approval_on_time_rate": ("approvals", *_due("labor_market")),
    "cp_avg_workdays": ("approvals", _a("construction_permits"), AVG_DAYS),
    "cp_limit_compression_rate": (
        "approvals",
        f"{_a('construction_permits')} AND {BOTH_LIMITS}",
        ITEMS,
    ),
    "cp_on_time_rate": ("approvals", *_due("construction_permits")),
    "bid_complaint_resolution_rate": ("hotline", f"topic = '招投标投诉' AND {DEMAND}", RESOLVED),
    "el_avg_workdays": ("approvals", _a("electricity"), AVG_DAYS),
    "el_on_time_rate": ("approvals", *_due("electricity")),
    "el_hotline_resolution_rate": (
        "hotline",
        f"topic IN ('停电报修', '供电服务') AND is_enterprise AND {DEMAND}",
        RESOLVED,
    ),
    "wg_avg_workdays": ("approvals", _a("water_gas"), AVG_DAYS),
    "wg_online_rate": ("approvals", _a("water_gas"), ONLINE),
    "wg_hotline_resolution_rate": (
        "hotline",
        f"domain_key = 'water_gas' AND is_enterprise AND {DEMAND}",
        RESOLVED,
    ),
    "pr_avg_workdays": ("approvals", _a("property_registration"), AVG_DAYS),
    "pr_online_rate": ("approvals", _a("property_registration"), ONLINE),
    "pr_good_rating_rate": ("ratings", f"domain_key = 'property_registration' AND {FIRST}", GOOD),
    "ip_on_time_rate": ("approvals", *_due("intellectual_property")),
    "ip_infringement_resolution_rate": (
        "hotline",
        f"topic = '知识产权侵权' AND {DEMAND}",
        RESOLVED,
    ),
    "tx_avg_workdays": ("approvals", _a("taxes"), AVG_DAYS),
    "tx_online_rate": ("approvals", _a("taxes"), ONLINE),
    "tx_good_rating_rate": ("ratings", f"domain_key = 'taxes' AND {FIRST}", GOOD),
    "mr_on_time_rate": ("approvals", *_due("market_regulation")),
    "mr_complaint_resolution_rate": (
        "hotline",
        f"domain_key = 'market_regulation' AND category IN ('投诉', '举报') AND {DEMAND}",
        RESOLVED,
    ),
    "approval_avg_workdays": ("approvals", DONE, AVG_DAYS),
    "approval_speedup_rate": ("approvals", f"{DONE} AND promised_limit_days > 0", SPEEDUP),
    "approval_online_rate": ("approvals", DONE, ONLINE),
    "approval_on_time_rate": ("approvals", *_due()),
    "approval_zero_visit_rate": ("approvals", DONE, ZERO_VISIT),
    "approval_max_one_visit_rate": ("approvals", DONE, ONE_VISIT),
    "approval_instant_share": ("approvals", DONE, INSTANT),
    "approval_limit_compression_rate": ("approvals", f"{DONE} AND {BOTH_LIMITS}", ITEMS),
    "hotline_sign_on_time_rate": ("hotline", "is_enterprise", SIGNED),
    "hotline_completion_rate": ("hotline", "is_enterprise", COMPLETION, DUE),
    "hotline_on_time_rate": ("hotline", "is_enterprise", ON_TIME, DUE),
    "hotline_followup_rate": ("hotline", "is_enterprise", FOLLOWED),
    "hotline_resolution_rate": ("hotline", f"is_enterprise AND {DEMAND}", RESOLVED),
    "hotline_satisfaction_rate": ("hotline", f"is_enterprise AND {DEMAND}", SATISFIED),
    "hotline_repeat_rate": ("hotline", "is_enterprise", REPEAT),
    "ratings_good_rate": ("ratings", FIRST, GOOD),
    "ratings_bad_per_mille": ("ratings", FIRST, BAD_PER_MILLE),
    "ratings_bad_rectified_rate": ("ratings", FIRST, RECTIFIED_ON_TIME, DEADLINE_QUARTER),
    "ratings_bad_followup_rate": ("ratings", FIRST, BAD_FOLLOWED),
    "ratings_active_rate": ("approvals", DONE, RATED),
    "ii_policy_resolution_rate": ("hotline", f"topic = '惠企政策兑现' AND {DEMAND}", RESOLVED),
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
        status = rng.choice(["已办结"] * 5 + ["办理中", "退件"])
        # an open case: overdue (on_time false) or not yet due (NULL); a closed one by its days
        on_time = (
            rng.choice([False, False, None])
            if status == "办理中"
            else (days <= int(it["promised_limit_days"]))
        )
        instant = rng.random() < 0.2
        approvals.append(
            {
                "case_id": f"A{n}",
                "item_code": it["item_code"],
                "domain_key": it["domain_key"],
                "district_code": rng.choice(units),
                "accepted_at": PERIOD_DAY[period],
                "period": period,
                # most fall due in their own quarter, some in the other one
                "due_period": rng.choice([period] * 3 + list(PERIODS)),
                "channel": rng.choice(["全程网办", "全程网办", "窗口", "移动端", "自助终端", None]),
                "status": status,
                "case_type": "即办件" if instant else rng.choice(["承诺件", None]),
                "legal_limit_days": maybe(legal),
                "promised_limit_days": maybe(
                    0 if instant else rng.choice([1, int(it["promised_limit_days"])])
                ),
                "visits": maybe(rng.choice([0, 0, 1, 2])),
                "workdays_used": None if status == "办理中" else maybe(days),
                "on_time": maybe(on_time, 0.1),
            }
        )
    for n in range(1500):
        tp, period = rng.choice(topics), rng.choice(PERIODS)
        closed = rng.random() < 0.85
        urgent = rng.random() < 0.2
        signed = rng.random() < 0.9
        hotline.append(
            {
                "ticket_id": f"H{n}",
                "received_at": PERIOD_DAY[period],
                "period": period,
                "due_period": rng.choice([period] * 3 + list(PERIODS)),
                "topic": tp["topic"],
                "domain_key": tp["domain_key"] or None,
                "district_code": rng.choice(units),
                "is_enterprise": rng.random() < 0.6,
                "category": rng.choice(["咨询", "投诉", "举报", "求助"]),
                "urgency": rng.choice(["紧急", None]) if urgent else rng.choice(["一般", None]),
                "response_hours": rng.choice([0.5, 1.5, 3.0, 20.0, 30.0]) if signed else None,
                "open_hours": None if signed else rng.choice([1.0, 5.0, 50.0]),
                "closed_at": PERIOD_DAY[period] + dt.timedelta(days=3) if closed else None,
                "followed_up": maybe(rng.random() < 0.9) if closed else None,
                "resolved": maybe(rng.random() < 0.8, 0.25) if closed else None,
                "on_time": maybe(rng.random() < 0.9) if closed else rng.choice([False, None]),
                "satisfaction": maybe(
                    rng.choice(["非常满意", "满意", "基本满意", "不满意", "非常不满意"]), 0.3
                )
                if closed
                else None,
                "is_repeat": maybe(rng.random() < 0.1),
            }
        )
    for n in range(700):
        it, period = rng.choice(items), rng.choice(PERIODS)
        level = rng.choice([1, 1, 1, 2, 2, 3, 4, 5])
        voided = rng.random() < 0.1 if level >= 4 else None
        rectified = (rng.random() < 0.7) if level >= 4 else None
        ratings.append(
            {
                "rating_id": f"R{n}",
                "rated_at": rng.choice(RATING_DAYS[period]),
                "period": period,
                "level": level,
                "item_code": it["item_code"],
                "domain_key": it["domain_key"],
                "district_code": rng.choice(units),
                "case_id": rng.choice([f"A{rng.randrange(900)}", None]),
                "rating_seq": rng.choice([1, 1, 1, 1, 2]),  # 2: a re-rating, never counted
                "appeal_voided": voided,
                "is_bad": level >= 4 and not voided,
                "rectified": rectified,
                "rectify_workdays": rng.choice([3, 10, 15, 16, 25]) if rectified else None,
                "followed_up": (rng.random() < 0.8) if level >= 4 else None,
            }
        )
    return approvals, hotline, ratings


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("indicators")
    spec_text = settings.metrics_path().read_text(encoding="utf-8")
    approvals, hotline, ratings = _rows(random.Random(20260924))
    spec = load_spec()
    reported = [i for _, i in spec.indicators() if i.source == "reports"]
    rng = random.Random(5)
    reports = []
    for p in PERIODS:
        for i in reported:
            for d in (CITY,) if i.applies_to == "city" else DISTRICTS:
                row = {"district_code": d, "report_period": p, "indicator_key": i.key}
                if i.reported is not None:  # filed as 分子 and 分母
                    den = float(rng.randint(10, 90))
                    row |= {"numerator": round(den * rng.uniform(0.2, 0.95), 1), "denominator": den}
                else:
                    row["value"] = round(rng.uniform(0, 100), 2)
                reports.append(row)
    plain = [i.key for i in reported if i.reported is None and i.applies_to == "district"]
    reports.append(
        {"district_code": CITY, "report_period": "2026Q3", "indicator_key": plain[0], "value": 42.0}
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
    table, where, (value_sql, n_sql), *by = EXPECTED[key]
    quarter = by[0] if by else "period"
    for period in PERIODS:
        for unit in (*DISTRICTS, CITY):
            scope = "TRUE" if unit == CITY else "district_code = ?"  # 全市 = every record
            params = [period] + ([] if unit == CITY else [unit])
            expected = con.execute(
                f"WITH rows AS (SELECT * FROM {table} WHERE ({quarter}) = ? AND {scope} AND ({where})) "
                f"SELECT {value_sql} AS v, {n_sql} AS n FROM rows",
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
    # Guard against a vacuous comparison: each transaction indicator has data in every cell, and
    # the rows this issue is about are there.
    con, _, _ = built
    empty = con.execute(
        "SELECT indicator_key, period, district_code FROM indicator_scores "
        "WHERE source <> 'reports' AND n = 0 AND district_code IN (?, ?, ?)",
        [*DISTRICTS, CITY],
    ).fetchall()
    assert empty == []
    [(overdue_open, rerated, consultations, voided, next_quarter)] = con.execute(
        f"""SELECT (SELECT count(*) FROM approvals WHERE status = '办理中' AND on_time = false),
                   (SELECT count(*) FROM ratings WHERE rating_seq = 2),
                   (SELECT count(*) FROM hotline WHERE category = '咨询' AND resolved IS NOT NULL),
                   (SELECT count(*) FROM ratings WHERE appeal_voided AND level >= 4),
                   (SELECT count(*) FROM ratings WHERE ({DEADLINE_QUARTER}) <> period AND level >= 4)"""
    ).fetchall()
    assert min(overdue_open, rerated, consultations, voided, next_quarter) > 5


def test_reported_values_and_city_rows(built):
    """A filing's value as filed, or 分子 ÷ 分母 (× 100 for %); the city's value is its own filing,
    else Σ 分子 ÷ Σ 分母 over the districts' filings in parts — never the mean of district values
    (a plain indicator the city did not file has no city value: 应报未报, scoring 0)."""
    con, _, reported = built
    rows = con.execute(
        "SELECT district_code, report_period, indicator_key, value, numerator, denominator FROM reports"
    ).fetchall()
    filed = {(d, p, k): (v, a, b) for d, p, k, v, a, b in rows}
    for ind in reported:
        scale = 100.0 if ind.unit == "%" else 1.0
        for period in PERIODS:
            for d in DISTRICTS:
                got = con.execute(
                    "SELECT value, n, data_state FROM indicator_scores WHERE indicator_key = ? "
                    "AND period = ? AND district_code = ?",
                    [ind.key, period, d],
                ).fetchone()
                if ind.applies_to == "city":
                    assert got == (None, 0, "not_applicable"), (ind.key, d)
                    continue
                v, a, b = filed[(d, period, ind.key)]
                want = v if ind.reported is None else a / b * scale
                assert got[0] == pytest.approx(want), (ind.key, period, d)
                assert got[1] == (1 if ind.reported is None else round(b))
            city = con.execute(
                "SELECT value, n, data_state, score FROM indicator_scores WHERE indicator_key = ? "
                "AND period = ? AND district_code = ?",
                [ind.key, period, CITY],
            ).fetchone()
            own = filed.get((CITY, period, ind.key))
            if own is not None:
                assert city[0] == pytest.approx(own[0]), ind.key
            elif ind.reported is not None:
                parts = [filed[(d, period, ind.key)] for d in DISTRICTS]
                assert city[0] == pytest.approx(
                    sum(x[1] for x in parts) / sum(x[2] for x in parts) * scale
                ), ind.key
                assert city[1] == round(sum(x[2] for x in parts))
            else:  # the city's own figure was due and not filed: 0, flagged
                assert city[0] is None and city[2] == "not_filed" and city[3] == 0, ind.key


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
