"""进步榜 / 退步榜 (kpi.read.movers): one selection rule for the overview, the workbook and the LED."""

from __future__ import annotations

import pandas as pd

from kpi.read import movers

# Six districts and the city; trend is the marts' verdict (neutral band already applied).
FRAME = pd.DataFrame(
    [
        # code, city, rank, change, trend
        ("000", True, None, 9.0, "improved"),  # the city: never on a list
        ("001", False, 1, 0.3, "unchanged"),  # within the band: on neither list
        ("002", False, 2, 2.5, "improved"),
        ("003", False, 3, 4.0, "improved"),
        ("004", False, 4, 2.5, "improved"),  # same change as 002: the better rank first
        ("005", False, 5, -1.0, "worsened"),
        ("006", False, 6, -3.0, "worsened"),
        ("007", False, None, None, None),  # no comparable quarter
        ("008", False, 7, 1.0, "improved"),
    ],
    columns=["district_code", "is_city", "rank", "score_qoq", "trend_qoq"],
)


def test_three_each_by_magnitude_then_rank():
    up, down = movers.select(FRAME)
    assert list(up["district_code"]) == ["003", "002", "004"]
    assert list(down["district_code"]) == ["006", "005"]


def test_the_workbook_keeps_every_mover_in_the_same_order():
    up, down = movers.select(FRAME, n=None)
    assert list(up["district_code"]) == ["003", "002", "004", "008"]
    assert list(down["district_code"]) == ["006", "005"]


def test_a_lower_is_better_indicator_is_judged_by_its_trend_not_its_sign():
    # an indicator value that fell by 2 days is progress: the trend says so, the magnitude orders
    frame = pd.DataFrame(
        [("a", 1, -2.0, "improved"), ("b", 2, 0.5, "worsened"), ("c", 3, -0.5, "improved")],
        columns=["district_code", "rank", "value_qoq", "trend_qoq"],
    )
    up, down = movers.select(frame, change="value_qoq")
    assert list(up["district_code"]) == ["a", "c"] and list(down["district_code"]) == ["b"]


def test_the_rule_is_stated():
    assert "持平带宽" in movers.RULE and "前 3 名" in movers.RULE and str(movers.N) in movers.RULE
