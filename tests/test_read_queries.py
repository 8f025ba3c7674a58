"""kpi.read.queries on tiny hand-written mart and record tables (in-memory DuckDB).

Every expected value is written out by hand from the rows inserted here; the marts' own change
columns (score_qoq, score_yoy, value_qoq, value_yoy) are set by hand too, so a query that
recomputes them instead of reading them shows up as a difference.
"""

from __future__ import annotations

import datetime as dt
import math

import duckdb
import pytest

from kpi import schema
from kpi.read import coverage, queries
from tests.fixtures.scoring import insert


def _nan(v) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def _same(got: list, want: list) -> bool:
    return len(got) == len(want) and all(
        (_nan(g) and w is None) or (not _nan(g) and w is not None and g == pytest.approx(w))
        for g, w in zip(got, want, strict=True)
    )


@pytest.fixture
def marts():
    con = duckdb.connect()
    for ddl in schema.MART_DDL.values():
        con.execute(ddl)
    return con


# ── trends: series ────────────────────────────────────────────────────────────────────────────

# 柯城区 (330802) overall index by quarter; 2025Q3 is missing (nothing loaded for it), 2026Q2 is in
# progress. The change columns are what the scoring engine writes: QoQ only against the calendar
# quarter before and only when both are complete; YoY likewise against the quarter a year before.
#            period    partial  score  qoq    yoy
OVERALL = [
    ("2025Q1", False, 60.0, None, None),
    ("2025Q2", False, 62.0, 2.0, None),
    ("2025Q4", False, 66.0, None, None),  # 2025Q3 missing: no QoQ
    ("2026Q1", False, 65.0, -1.0, 5.0),  # 65 − 60 (2025Q1)
    ("2026Q2", True, 70.0, None, None),  # in progress: neither QoQ nor YoY (62 a year before)
]


def _overall_rows(code: str, name: str, is_city: bool, offset: float = 0.0) -> list[dict]:
    return [
        {
            "period": p,
            "is_partial": partial,
            "district_code": code,
            "district_name": name,
            "is_city": is_city,
            "score": score + offset,
            "score_qoq": qoq,
            "score_yoy": yoy,
        }
        for p, partial, score, qoq, yoy in OVERALL
    ]


def test_series_reads_the_marts_changes_and_fills_gaps(marts):
    insert(marts, "overall_scores", _overall_rows("330802", "柯城区", False))
    insert(marts, "overall_scores", _overall_rows("330803", "衢江区", False, offset=-10))
    insert(marts, "overall_scores", _overall_rows("330800", "衢州市", True, offset=-5))
    df = queries.series(marts, "overall", None, ["330802"])
    # the city line and the chosen district only, city first
    assert list(df.drop_duplicates("district_code")["district_code"]) == ["330800", "330802"]
    d = df[df["district_code"] == "330802"]
    # every calendar quarter from the oldest to the newest, the missing one included (a gap)
    assert list(d["period"]) == ["2025Q1", "2025Q2", "2025Q3", "2025Q4", "2026Q1", "2026Q2"]
    assert _same(list(d["value"]), [60.0, 62.0, None, 66.0, 65.0, 70.0])
    assert _same(list(d["qoq"]), [None, 2.0, None, None, -1.0, None])
    # 2026Q2 is in progress: no YoY although 2025Q2 has a value (70 − 62 would be 8.0)
    assert _same(list(d["yoy"]), [None, None, None, None, 5.0, None])
    assert list(d["is_partial"].astype(bool)) == [False, False, False, False, False, True]
    assert [t.date() for t in d["period_start"]] == [
        dt.date(2025, 1, 1),
        dt.date(2025, 4, 1),
        dt.date(2025, 7, 1),
        dt.date(2025, 10, 1),
        dt.date(2026, 1, 1),
        dt.date(2026, 4, 1),
    ]
    assert d["period_end"].iloc[2].date() == dt.date(2025, 9, 30)
    city = df[df["is_city"]]
    assert _same(list(city["value"]), [55.0, 57.0, None, 61.0, 60.0, 65.0])
    assert set(city["district_name"].dropna()) == {"衢州市"}
    assert set(d["district_name"]) == {"柯城区"}  # the gap row keeps the name (legend, table)


def test_series_of_an_indicator_uses_value_changes_not_score_changes(marts):
    rows = []
    #           period   value  score  value_qoq value_yoy score_qoq
    for p, v, s, vq, vy, sq in [
        ("2026Q1", 3.0, 77.8, None, None, None),
        ("2026Q2", 2.4, 84.4, -0.6, None, 6.6),
    ]:
        rows.append(
            {
                "period": p,
                "is_partial": False,
                "district_code": "330802",
                "district_name": "柯城区",
                "is_city": False,
                "domain_id": "D17",
                "domain_key": "government_services",
                "indicator_id": "I1704",
                "indicator_key": "approval_avg_workdays",
                "scored": True,
                "value": v,
                "score": s,
                "value_qoq": vq,
                "value_yoy": vy,
                "score_qoq": sq,
            }
        )
    insert(marts, "indicator_scores", rows)
    df = queries.series(marts, "indicator", "approval_avg_workdays", ["330802"])
    assert _same(list(df["value"]), [3.0, 2.4])
    assert _same(list(df["qoq"]), [None, -0.6])  # working days, not the score's +6.6


def test_series_of_a_domain_without_rows_is_empty(marts):
    insert(marts, "overall_scores", _overall_rows("330802", "柯城区", False))
    assert queries.series(marts, "domain", "credit", ["330802"]).empty


# ── 明细: records sorted in SQL, across pages ─────────────────────────────────────────────────


@pytest.fixture
def approvals():
    con = duckdb.connect()
    schema.create_canonical(con)
    #        case_id  workdays  completed (day of July 2026)
    rows = [("A1", 3, 1), ("A2", 1, 2), ("A3", 5, 3), ("A4", None, 4), ("A5", 1, 5)]
    insert(
        con,
        "approvals",
        [
            {
                "case_id": cid,
                "district_code": "330802",
                "workdays_used": wd,
                "accepted_at": dt.datetime(2026, 6, 30, 9),
                "completed_at": dt.datetime(2026, 7, day, 9),
                "period": "2026Q3",
            }
            for cid, wd, day in rows
        ],
    )
    return con


def _ids(con, **kw) -> list[str]:
    return list(queries.records(con, "approvals", period="2026Q3", **kw)["办件编号"])


def test_records_sort_runs_over_all_pages(approvals):
    # by 办理用时 ascending: A2 (1), A5 (1, tie → by case_id), A1 (3), A3 (5), A4 (none: last)
    asc = {"order_by": "workdays_used", "descending": False, "limit": 2}
    assert _ids(approvals, **asc) == ["A2", "A5"]
    assert _ids(approvals, **asc, offset=2) == ["A1", "A3"]
    assert _ids(approvals, **asc, offset=4) == ["A4"]
    # descending: A3 (5), A1 (3), A2, A5 (1, ties by case_id), A4 still last
    assert _ids(approvals, order_by="workdays_used", limit=5) == ["A3", "A1", "A2", "A5", "A4"]
    # default: newest 办结时间 first
    assert _ids(approvals, limit=5) == ["A5", "A4", "A3", "A2", "A1"]


@pytest.mark.parametrize(
    "column",
    [
        "caller_hash",  # a real column, but not one a user may see
        "workdays_used DESC; DROP TABLE approvals",
        '"workdays_used"',
        "办理用时（工作日）",  # the label, not the column
    ],
)
def test_records_sort_takes_only_whitelisted_columns(approvals, column):
    with pytest.raises(ValueError, match="明细不能按"):
        queries.records(approvals, "approvals", order_by=column)
    assert approvals.execute("SELECT count(*) FROM approvals").fetchone()[0] == 5


# ── thin quarters: how many domains a ranking rests on, why a score is — ───────────────────────

UNITS = [("330800", "衢州市", True), ("330802", "柯城区", False), ("330824", "开化县", False)]
DOMS = [("D01", "starting_business", "开办企业"), ("D09", "credit", "获得信贷"),
        ("D16", "market_regulation", "市场监管")]  # fmt: skip


def _thin_marts(con) -> None:
    """2026Q3 complete, every domain scored; 2026Q4 in progress: 获得信贷 has no data anywhere
    (both its indicators 无数据), 市场监管 is short of weight in 开化县 only."""
    dom, ind, ov = [], [], []
    for period, partial in (("2026Q3", False), ("2026Q4", True)):
        for code, name, is_city in UNITS:
            n_scored = 0
            for did, dkey, label in DOMS:
                reason = None
                if partial and dkey == "credit":
                    reason = "无可评分指标"
                elif partial and dkey == "market_regulation" and code == "330824":
                    reason = "可评分指标权重仅 25%，不足 50%"
                n_scored += reason is None
                base = {"period": period, "is_partial": partial, "district_code": code,
                        "district_name": name, "is_city": is_city, "domain_id": did,
                        "domain_key": dkey}  # fmt: skip
                dom.append({**base, "label_zh": label, "score": None if reason else 70.0,
                            "suppressed_reason": reason})  # fmt: skip
                for k in (1, 2):
                    no_data = partial and dkey == "credit"
                    ind.append({**base, "indicator_id": f"{did}.{k}", "indicator_key": f"{dkey}_{k}",
                                "scored": not no_data, "value": None if no_data else 1.0,
                                "suppressed_reason": "无数据" if no_data else None})  # fmt: skip
            ov.append({"period": period, "is_partial": partial, "district_code": code,
                       "district_name": name, "is_city": is_city, "score": 70.0,
                       "n_domains_scored": n_scored})  # fmt: skip
    insert(con, "domain_scores", dom)
    insert(con, "indicator_scores", ind)
    insert(con, "overall_scores", ov)


def test_unscored_domains_and_their_reasons(marts):
    _thin_marts(marts)
    assert queries.unscored_domains(marts, "2026Q3").empty
    u = queries.unscored_domains(marts, "2026Q4")
    assert list(zip(u["label_zh"], u["district_name"], u["reason"], strict=True)) == [
        ("获得信贷", "衢州市", "无数据"),  # 无可评分指标, and both indicators 无数据
        ("获得信贷", "柯城区", "无数据"),
        ("获得信贷", "开化县", "无数据"),
        ("市场监管", "开化县", "可评分指标权重仅 25%，不足 50%"),
    ]
    assert coverage.unscored_text(u, n_units=3) == (
        "获得信贷（无数据）；市场监管：开化县（可评分指标权重仅 25%，不足 50%）"
    )


def test_domain_coverage_says_when_a_ranking_rests_on_fewer_domains(marts):
    _thin_marts(marts)
    assert coverage.coverage_text(queries.domain_coverage(marts, "2026Q3")) is None
    c = queries.domain_coverage(marts, "2026Q4")
    assert dict(zip(c["district_name"], c["n_domains_scored"], strict=True)) == {
        "衢州市": 2,
        "柯城区": 2,
        "开化县": 1,
    }
    assert set(c["usual"]) == {3}  # every domain in the complete quarter 2026Q3
    assert coverage.coverage_text(c) == (
        "本季度各区县的综合指数依据的指标领域少于以往完整季度的 3 个：柯城区 2 个；开化县 1 个"
    )


@pytest.mark.parametrize(
    ("reason", "counts", "text"),
    [
        ("无可评分指标", (2, 2, 0), "无数据"),
        ("无可评分指标", (3, 0, 3), "样本不足"),
        ("无可评分指标", (3, 1, 2), "无可评分指标（1 项无数据、2 项样本不足）"),
        ("可评分指标权重仅 20%，不足 50%", (5, 4, 0), "可评分指标权重仅 20%，不足 50%"),
        (None, (0, 0, 0), "未评分"),
    ],
)
def test_domain_reason(reason, counts, text):
    assert coverage.domain_reason(reason, *counts) == text


@pytest.mark.parametrize(
    ("reason", "short"),
    [
        ("无数据", "无数据"),
        ("样本量不足（14，至少 20）", "样本不足"),
        ("可评分指标权重仅 30%，不足 50%", "权重不足"),
        ("无可评分指标", "未评分"),
        (None, "未评分"),
    ],
)
def test_short_reason_for_the_led(reason, short):
    assert coverage.short_reason(reason) == short
