"""ui.format: numbers the way Chinese reports write them; colours from direction, never from sign."""

from __future__ import annotations

import math

import pytest

from ui import format as fmt


@pytest.mark.parametrize(
    ("v", "unit", "text"),
    [
        (96.04, "%", "96.0%"),
        (2.0, "工作日", "2.0 个工作日"),
        (12345, None, "1.2万"),
        (230_000_000, None, "2.3亿"),
        (None, "%", "—"),
        (math.nan, None, "—"),
    ],
)
def test_value(v, unit, text):
    assert fmt.value(v, unit) == text


@pytest.mark.parametrize(
    ("delta", "unit", "text"),
    [
        (1.23, "%", "▲ +1.2 个百分点"),
        (-0.3, "工作日", "▼ -0.3 个工作日"),
        (0.0, "%", "– 0.0 个百分点"),
        (0.04, "工作日", "▲ +0.04 个工作日"),  # would read 0.0 at one decimal
        (-0.004, None, "– 0.0"),  # one extra decimal at most
        (None, "%", "—"),
    ],
)
def test_delta_text(delta, unit, text):
    assert fmt.delta_text(delta, unit) == text


@pytest.mark.parametrize(
    ("delta", "direction", "colour"),
    [
        (1.0, "higher_is_better", fmt.GREEN),
        (1.0, "lower_is_better", fmt.RED),  # 用时 went up: worse
        (-1.0, "lower_is_better", fmt.GREEN),
        (0.0, "higher_is_better", fmt.GREY),
        (None, "higher_is_better", fmt.GREY),
    ],
)
def test_delta_colour_is_direction_aware(delta, direction, colour):
    assert fmt.delta_colour(delta, direction) == colour


def test_marts_trend_wins_over_the_sign():
    # +0.3 inside the neutral band: the marts say unchanged → grey, though the number rose
    assert fmt.delta_colour(0.3, "higher_is_better", "unchanged") == fmt.GREY


@pytest.mark.parametrize(
    ("rc", "text", "colour"), [(2, "▲2", fmt.GREEN), (-1, "▼1", fmt.RED), (0, "–", fmt.GREY)]
)
def test_rank_change(rc, text, colour):
    assert fmt.rank_change_text(rc) == text and fmt.rank_change_colour(rc) == colour


def test_count_and_period_label():
    assert fmt.count(9876) == "9,876" and fmt.count(23456) == "2.3万"
    assert fmt.period_label("2026Q4", True) == "2026Q4（进行中）"
    assert fmt.timestamp("2026-11-24T08:42:13+08:00") == "2026-11-24 08:42"


@pytest.mark.parametrize(("v", "n"), [(3.0, 3), (0, 0), (None, 0), (math.nan, 0)])
def test_whole_counts_missing_as_zero(v, n):
    import pandas as pd

    assert fmt.whole(v) == n
    assert fmt.whole(pd.NA) == 0
