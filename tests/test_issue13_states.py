"""Missing is not the same as small (issue 13): 应报未报 scores 0 and is flagged; too small a sample,
not applicable, no such column and below a coverage floor are other states, each with its reason;
a column the exports never had is no data, never 0 %. City-level and annual indicators, reported
parts (the city value Σ 分子 ÷ Σ 分母, never a mean of rates), equal weights, rankings flagged when
coverage differs, the data-quality table and unit scorecards — every number worked out by hand
from the rows below.
"""

from __future__ import annotations

import datetime as dt

import pytest

from tests.fixtures.scoring import build, write_catalog

CITY, D1, D2, D3 = "330800", "330801", "330802", "330803"
NOW = dt.datetime(2026, 11, 24, 12, 0)  # 2026Q2 and Q3 are complete and past their deadline

SPEC = """
version: t13
defaults: {min_sample: 2, report_deadline_days: 15}
settings: {floor: 60, no_consult: true}
units: {min_sample: 3, indicators: [resolved]}
domains:
  - id: A
    key: dom_a
    label_zh: 领域甲
    indicators:
      - {id: A1, key: closing, label_zh: 结案率, description: 测试, unit: "%", source: reports,
         reported: {numerator: 审结数, denominator: 应结数}, direction: higher_is_better,
         dtf: {best: 100, worst: 50, basis: 测试}}
      - {id: A2, key: days, label_zh: 天数, description: 测试, unit: 天, source: reports,
         direction: lower_is_better, dtf: {best: 0, worst: 10, basis: 测试}, warn: 8, advanced: 2}
  - id: B
    key: dom_b
    label_zh: 领域乙
    indicators:
      - {id: B1, key: index, label_zh: 指数, description: 测试, unit: 分, source: reports,
         applies_to: city, update_cycle: annual, direction: higher_is_better,
         dtf: {best: 10, worst: 0, basis: 测试}}
  - id: C
    key: dom_c
    label_zh: 领域丙
    indicators:
      - id: C1
        key: online
        label_zh: 网办率
        description: 测试
        unit: "%"
        source: approvals
        filters: [{column: status, value: 已办结}]
        ratio:
          numerator: {agg: count_if, expr: "channel IN ('全程网办', '移动端')"}
          denominator: {agg: count, expr: case_id}
        direction: higher_is_better
        dtf: {best: 100, worst: 0, basis: 测试}
      - id: C2
        key: resolved
        label_zh: 解决率
        description: 测试
        unit: "%"
        source: hotline
        filters: [{column: category, op: not_in, value: [咨询], when: no_consult}]
        coverage: {label: 回访率, base: {agg: count_if, expr: "closed_at IS NOT NULL"}, min: $floor}
        ratio:
          numerator: {agg: count_if, expr: resolved}
          denominator: {agg: count_if, expr: "resolved IS NOT NULL"}
        direction: higher_is_better
        dtf: {best: 100, worst: 0, basis: 测试}
"""


def _rep(d, p, key, value=None, num=None, den=None, at=None):
    return {
        "district_code": d,
        "report_period": p,
        "indicator_key": key,
        "value": value,
        "numerator": num,
        "denominator": den,
        "reported_at": at,
    }


Q2_DUE = dt.datetime(2026, 7, 15, 23, 59, 59)
ON_TIME, LATE = dt.datetime(2026, 7, 10), dt.datetime(2026, 7, 20)
REPORTS = [
    # 2026Q2: every 结案率 filed in parts; 天数 missing for d2 (应报未报); the city files its own
    _rep(D1, "2026Q2", "closing", num=45, den=50, at=ON_TIME),
    _rep(D2, "2026Q2", "closing", num=30, den=40, at=ON_TIME),
    _rep(D3, "2026Q2", "closing", num=40, den=50, at=LATE),
    _rep(D1, "2026Q2", "days", value=4, at=LATE),
    _rep(D3, "2026Q2", "days", value=2, at=ON_TIME),
    _rep(CITY, "2026Q2", "days", value=5, at=ON_TIME),
    _rep(CITY, "2026Q2", "index", value=7, at=ON_TIME),
    # 2026Q3: d3 gave a value only, so the city has no Σ; 天数 missing for d3 and the city
    _rep(D1, "2026Q3", "closing", num=9, den=10),
    _rep(D2, "2026Q3", "closing", num=8, den=10),
    _rep(D3, "2026Q3", "closing", value=70),
    _rep(D1, "2026Q3", "days", value=3),
    _rep(D2, "2026Q3", "days", value=6),
    _rep(CITY, "2026Q3", "index", value=7),
    # 2026Q4 (in progress): nothing is due yet
    _rep(D1, "2026Q4", "closing", num=1, den=2),
]


def _case(n, d, period, status="已办结", channel=None, load="L1"):
    day = {"2026Q2": dt.datetime(2026, 5, 6, 9), "2026Q3": dt.datetime(2026, 8, 6, 9)}[period]
    return {
        "case_id": f"C{n}",
        "district_code": d,
        "accepted_at": day,
        "completed_at": day if status == "已办结" else None,
        "status": status,
        "channel": channel,
        "period": period,
        "load_id": load,
    }


APPROVALS = (
    # d1 (an export with 办理渠道): 4 closed, 2 online (one of them 移动端)
    [_case(1, D1, "2026Q2", channel="全程网办"), _case(2, D1, "2026Q2", channel="移动端")]
    + [_case(3, D1, "2026Q2", channel="窗口"), _case(4, D1, "2026Q2", channel="窗口")]
    # d2 (an export without the column): 3 closed, channel unknown — never 0 %
    + [_case(n, D2, "2026Q2", load="L2") for n in (5, 6, 7)]
    # d3: only open cases — nothing in scope this quarter
    + [_case(n, D3, "2026Q2", status="办理中") for n in (8, 9)]
)
ETL_RUNS = [
    {
        "load_id": "L1",
        "file_name": "甲.csv",
        "status": "ok",
        "fields": ["case_id", "channel", "status"],
    },
    {"load_id": "L2", "file_name": "乙.csv", "status": "ok", "fields": ["case_id", "status"]},
]


def _ticket(n, d, category="投诉", resolved=None, unit="某局"):
    return {
        "ticket_id": f"T{n}",
        "received_at": dt.datetime(2026, 5, 6, 9),
        "closed_at": dt.datetime(2026, 5, 8, 9),
        "district_code": d,
        "category": category,
        "resolved": resolved,
        "handling_unit": unit,
        "period": "2026Q2",
    }


HOTLINE = (
    # d1: 10 closed 诉求, 8 asked (回访率 80 %), 6 solved; 5 咨询 asked and solved: left out
    [_ticket(n, D1, resolved=None if n >= 8 else n < 6) for n in range(10)]
    + [_ticket(100 + n, D1, category="咨询", resolved=True) for n in range(5)]
    # d2: 10 closed, 4 asked (回访率 40 % < 60 %), 4 solved
    + [_ticket(200 + n, D2, resolved=True if n < 4 else None, unit="乙局") for n in range(10)]
    # d3: 3 closed, all asked, 2 solved
    + [_ticket(300 + n, D3, resolved=n < 2, unit="丙局") for n in range(3)]
)
QUARANTINE = [
    {
        "load_id": "L1",
        "source": "approvals",
        "file_name": "甲.csv",
        "line_no": n,
        "reason": "区县未知",
        "district_code": D1 if n < 4 else None,
        "period": "2026Q2",
    }
    for n in range(2, 7)
]


@pytest.fixture(scope="module")
def marts(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("states")
    catalog = write_catalog(
        tmp / "catalog",
        [
            (CITY, "测试市", "city", 0),
            (D1, "甲区", "district", 1),
            (D2, "乙区", "district", 2),
            (D3, "丙区", "district", 3),
        ],
    )
    tables = {
        "reports": REPORTS,
        "approvals": APPROVALS,
        "etl_runs": ETL_RUNS,
        "hotline": HOTLINE,
        "quarantine": QUARANTINE,
    }
    con = build(tmp, SPEC, catalog, tables, now=NOW)
    yield con
    con.close()


def ind(
    con, period, district, key, cols="value, n, data_state, suppressed_reason, score, rank, rag"
):
    return con.execute(
        f"SELECT {cols} FROM indicator_scores WHERE period = ? AND district_code = ? AND indicator_key = ?",
        [period, district, key],
    ).fetchone()


def test_a_filing_due_and_missing_scores_zero_and_is_flagged(marts):
    # d2's 天数 for 2026Q2 was due by 07-15 and never filed: 0, red, ranked last
    assert ind(marts, "2026Q2", D2, "days") == (
        None,
        0,
        "not_filed",
        "应报未报（报送期限 2026-07-15）",
        0.0,
        3,
        "red",
    )
    # d1 4 → (10 − 4) / 10 = 60; d3 2 → 80
    assert ind(marts, "2026Q2", D1, "days", "score, rank") == (pytest.approx(60.0), 2)
    assert ind(marts, "2026Q2", D3, "days", "score, rank") == (pytest.approx(80.0), 1)


def test_a_missing_filing_is_not_renormalised_away(marts):
    # d2 domain A = (结案率 (75 − 50) / 50 = 50 + 天数 0) / 2 = 25, not 50
    got = marts.execute(
        "SELECT score, n_scored FROM domain_scores WHERE period = '2026Q2' AND district_code = ? "
        "AND domain_key = 'dom_a'",
        [D2],
    ).fetchone()
    assert got == (pytest.approx(25.0), 2)


def test_not_due_is_not_missing(marts):
    # the quarter in progress: nothing is due yet
    assert ind(marts, "2026Q4", D2, "days", "value, data_state, score") == (None, "not_due", None)
    assert ind(marts, "2026Q4", D2, "days", "suppressed_reason")[0] == "未到报送期限（2027-01-15）"


def test_city_value_of_parts_is_the_sum_never_the_mean(marts):
    # Σ 审结 / Σ 应结 = (45 + 30 + 40) / (50 + 40 + 50) = 82.142…, n = 140 (the mean of the
    # three rates, 81.67, would be wrong)
    assert ind(marts, "2026Q2", CITY, "closing", "value, n") == (
        pytest.approx(115 / 140 * 100),
        140,
    )
    # 2026Q3: d3 filed a value only — the city cannot add it up and says why
    assert ind(marts, "2026Q3", CITY, "closing", "value, data_state, suppressed_reason") == (
        None,
        "no_data",
        "无数据（全市未填报，各区县的分子分母不全）",
    )
    assert ind(marts, "2026Q3", D3, "closing", "value, n") == (pytest.approx(70.0), 1)
    # a plain one: the city's own filing; missing → 应报未报 for the city too
    assert ind(marts, "2026Q2", CITY, "days", "value") == (pytest.approx(5.0),)
    assert ind(marts, "2026Q3", CITY, "days", "data_state, score") == ("not_filed", 0.0)


def test_a_city_level_indicator_is_never_a_districts(marts):
    assert ind(marts, "2026Q2", D1, "index", "value, data_state, suppressed_reason, rank") == (
        None,
        "not_applicable",
        "不适用：市级指标，不分区县",
        None,
    )
    assert ind(marts, "2026Q2", CITY, "index", "value, score") == (
        pytest.approx(7.0),
        pytest.approx(70.0),
    )
    dom = dict(
        marts.execute(
            "SELECT district_code, suppressed_reason FROM domain_scores WHERE period = '2026Q2' "
            "AND domain_key = 'dom_b'"
        ).fetchall()
    )
    assert dom[D1] == "市级领域：不分区县评分" and dom[CITY] is None
    # a district's index rests on the domains that apply to it; the city's on all three
    got = dict(
        marts.execute(
            "SELECT district_code, n_domains_scored FROM overall_scores WHERE period = '2026Q2'"
        ).fetchall()
    )
    assert got[CITY] == 3 and got[D1] == 2


def test_an_annual_indicator_is_compared_year_on_year_only(marts):
    # the same 7 in Q2 and Q3: no quarter-on-quarter change (not 持平 every quarter)
    assert ind(marts, "2026Q3", CITY, "index", "value, value_qoq, score_qoq, trend_qoq") == (
        pytest.approx(7.0),
        None,
        None,
        None,
    )
    # a quarterly one has its change
    assert ind(marts, "2026Q3", D1, "closing", "value_qoq")[0] == pytest.approx(90 - 90)


def test_a_column_the_export_never_had_is_no_data_never_zero(marts):
    assert ind(marts, "2026Q2", D2, "online", "value, n, data_state, suppressed_reason") == (
        None,
        0,
        "no_column",
        "导出中没有所需的列：办理渠道",
    )
    assert ind(marts, "2026Q2", D1, "online", "value, n") == (pytest.approx(50.0), 4)
    # the city over the records whose exports had the column: 2 / 4, not 2 / 7
    assert ind(marts, "2026Q2", CITY, "online", "value, n") == (pytest.approx(50.0), 4)


def test_no_records_of_a_kind_is_not_applicable(marts):
    assert ind(marts, "2026Q2", D3, "online", "value, data_state, suppressed_reason") == (
        None,
        "not_applicable",
        "不适用：本季度没有此类办件",
    )


def test_below_the_coverage_floor_shows_the_value_but_does_not_score(marts):
    # d1: 6 of the 8 asked 诉求 solved (咨询 left out) → 75 %, 回访率 8 / 10 = 80 % ≥ 60 %
    assert ind(marts, "2026Q2", D1, "resolved", "value, n, data_state") == (
        pytest.approx(75.0),
        8,
        "ok",
    )
    # d2: 4 / 4 solved, but only 4 of 10 asked: 回访率 40 % < 60 %
    assert ind(
        marts, "2026Q2", D2, "resolved", "value, n, data_state, suppressed_reason, score"
    ) == (
        pytest.approx(100.0),
        4,
        "low_coverage",
        "回访率 40.0%，低于 60%，不评分",
        None,
    )


def test_equal_weights_and_a_ranking_on_less_coverage_is_flagged(marts):
    # domain C 2026Q2: d1 both scored (50, 75 → 62.5); d3 only 解决率 (2 / 3 → 66.67; 网办率 not
    # applicable) — weight 0.5 of 1, enough — and flagged; d2 none scored
    rows = {
        d: (s, n, note)
        for d, s, n, note in marts.execute(
            "SELECT district_code, score, n_scored, coverage_note FROM domain_scores "
            "WHERE period = '2026Q2' AND domain_key = 'dom_c'"
        ).fetchall()
    }
    assert rows[D1] == (pytest.approx(62.5), 2, None)
    assert rows[D3] == (pytest.approx(200 / 3), 1, "依据 1 项指标（其他区县最多 2 项）")
    assert rows[D2][0] is None
    weights = {
        k: w
        for k, w in marts.execute(
            "SELECT DISTINCT domain_key, weight FROM domain_scores WHERE period = '2026Q2'"
        ).fetchall()
    }
    assert weights == {
        "dom_a": pytest.approx(1 / 3),
        "dom_b": pytest.approx(1 / 3),
        "dom_c": pytest.approx(1 / 3),
    }


def test_data_quality_per_district_and_quarter(marts):
    got = {
        r[0]: r[1:]
        for r in marts.execute(
            "SELECT district_code, reports_due, reports_filed, reports_on_time, filing_timely_rate, "
            "indicators_applicable, indicators_with_data, records_loaded, records_quarantined "
            "FROM data_quality WHERE period = '2026Q2'"
        ).fetchall()
    }
    # d1: 结案率 on time, 天数 late → 50 %; 4 applicable (index is the city's), all with data;
    # records: 4 办件 + 10 + 5 工单 + 2 填报 = 21; 2 quarantined rows name it (lines 2, 3)
    assert got[D1] == (2, 2, 1, pytest.approx(50.0), 4, 4, 21, 2)
    # d2: 天数 missing; 网办率 no column and 天数 not filed have no data
    assert got[D2] == (2, 1, 1, pytest.approx(50.0), 4, 2, 14, 0)
    # the city: its own 天数 and 指数 due and filed on time; all 5 quarantined rows
    assert got[CITY][:4] == (2, 2, 2, pytest.approx(100.0))
    assert got[CITY][-1] == 5


def test_unit_scorecards_against_a_hand_count(marts):
    got = {
        (d, u): (v, n, scored)
        for d, u, v, n, scored in marts.execute(
            "SELECT district_code, unit_name, value, n, scored FROM unit_scores WHERE period = '2026Q2'"
        ).fetchall()
    }
    # 某局 (d1): 6 / 8; 乙局 (d2): 4 / 4; 丙局 (d3): 2 / 3 — min_sample 3
    assert got[(D1, "某局")] == (pytest.approx(75.0), 8, True)
    assert got[(D2, "乙局")] == (pytest.approx(100.0), 4, True)
    assert got[(D3, "丙局")] == (pytest.approx(200 / 3), 3, True)
    ranks = dict(
        marts.execute(
            "SELECT unit_name, rank FROM unit_overall WHERE period = '2026Q2' ORDER BY rank"
        ).fetchall()
    )
    assert ranks == {"乙局": 1, "某局": 2, "丙局": 3}
