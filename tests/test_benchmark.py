"""对标提升清单 and the best district of the 区县画像 (kpi.read.queries.benchmark / district_domains)
on a few hand-written mart rows: the district itself is never its own 最优区县, and districts sharing
the first rank are resolved by the smallest 行政区划代码 (BEST_TIE_RULE)."""

from __future__ import annotations

import math

import duckdb
import pytest

from kpi import schema
from kpi.read import queries

ME = "330822"  # 常山县, the district whose list is asked for
P = "2026Q3"


def _row(key, code, name, value, rank, rag, *, direction="higher_is_better", scored=True):
    return {
        "period": P,
        "is_partial": False,
        "district_code": code,
        "district_name": name,
        "is_city": code == "330800",
        "domain_id": "D17",
        "domain_key": "government_services",
        "indicator_id": f"I_{key}",
        "indicator_key": key,
        "label_zh": key,
        "unit": "%",
        "direction": direction,
        "value": value,
        "scored": scored,
        "score": None if value is None else value,  # only the ranks decide here
        "rank": rank,
        "rag": rag,
        "advanced": 1.0 if direction == "lower_is_better" else 95.0,
    }


ROWS = [
    # x: 衢江区 330803 and 柯城区 330802 share rank 1 (330803 written first); the city has a higher
    # value but is never a district to learn from; 常山县 is third, red.
    _row("x", "330800", "衢州市", 99.0, None, "green"),
    _row("x", "330803", "衢江区", 90.0, 1, "amber"),
    _row("x", "330802", "柯城区", 90.0, 1, "amber"),
    _row("x", ME, "常山县", 70.0, 3, "red"),
    # y: 常山县 ties for first with 柯城区: it is (one of) the best
    _row("y", "330802", "柯城区", 90.0, 1, "amber"),
    _row("y", ME, "常山县", 90.0, 1, "amber"),
    _row("y", "330803", "衢江区", 80.0, 3, "red"),
    # z (lower is better): 常山县 alone first, still short of 先进值 1.0
    _row("z", ME, "常山县", 2.0, 1, "amber", direction="lower_is_better"),
    _row("z", "330802", "柯城区", 3.0, 2, "amber", direction="lower_is_better"),
    _row("z", "330803", "衢江区", 4.0, 3, "red", direction="lower_is_better"),
    # w: a district with a better value but too few records (not scored, no rank) is not the best
    _row("w", "330803", "衢江区", 99.0, None, None, scored=False),
    _row("w", "330802", "柯城区", 88.0, 1, "amber"),
    _row("w", ME, "常山县", 80.0, 2, "red"),
    # g: 常山县 already green: not on its list
    _row("g", ME, "常山县", 96.0, 2, "green"),
    _row("g", "330802", "柯城区", 97.0, 1, "green"),
]


@pytest.fixture
def con():
    c = duckdb.connect()
    c.execute(schema.MART_DDL["indicator_scores"])
    c.execute(schema.MART_DDL["domain_scores"])
    for r in ROWS:
        cols = ", ".join(r)
        c.execute(
            f"INSERT INTO indicator_scores ({cols}) VALUES ({', '.join('?' for _ in r)})",
            list(r.values()),
        )
    yield c
    c.close()


def _by_key(con) -> dict:
    bm = queries.benchmark(con, P, ME)
    return {r["indicator_key"]: r for r in bm.to_dict("records")}


def _nan(v) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))  # pandas gives NaN for NULL


def test_tie_for_first_goes_to_the_smallest_code(con):
    r = _by_key(con)["x"]
    # 330802 < 330803; gap 90 − 70 = 20; to 先进值 95 − 70 = 25
    assert (r["is_best"], r["best_district"], r["best_value"], r["gap"], r["to_advanced"]) == (
        False,
        "柯城区",
        90.0,
        20.0,
        25.0,
    )


def test_the_district_itself_is_never_its_best(con):
    got = _by_key(con)
    for key, to_advanced in (("y", 5.0), ("z", 1.0)):  # 95 − 90; 2.0 − 1.0 (lower is better)
        r = got[key]
        assert r["is_best"], key
        assert _nan(r["best_district"]) and _nan(r["best_value"]) and _nan(r["gap"]), key
        assert r["to_advanced"] == to_advanced, key


def test_unscored_districts_and_green_indicators(con):
    got = _by_key(con)
    # 88 − 80 to 柯城区, not to 衢江区's unscored 99
    assert (got["w"]["best_district"], got["w"]["gap"]) == ("柯城区", 8.0)
    assert "g" not in got
    assert set(got) == {"x", "y", "z", "w"}


def test_district_domains_best_district_tie_rule(con):
    con.execute("DELETE FROM indicator_scores")
    for code, name, score, rank in (
        ("330800", "衢州市", 90.0, None),
        ("330803", "衢江区", 80.0, 1),  # written first, larger code
        ("330802", "柯城区", 80.0, 1),
        (ME, "常山县", 60.0, 3),
    ):
        con.execute(
            "INSERT INTO domain_scores (period, is_partial, district_code, district_name, is_city, "
            "domain_id, domain_key, label_zh, score, rank) VALUES (?, false, ?, ?, ?, 'D17', "
            "'government_services', '政务服务', ?, ?)",
            [P, code, name, code == "330800", score, rank],
        )
    d = queries.district_domains(con, P, ME).iloc[0]
    assert (d["best_district"], d["best_score"], d["city_score"]) == ("柯城区", 80.0, 90.0)
