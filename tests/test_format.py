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
        (12345, None, "12,345.0"),  # below 10万: in full (the LED's rule too)
        (123456, None, "12.3万"),
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
        (0.0, "%", "持平"),
        (0.04, "工作日", "持平"),  # would read 0.0 at one decimal: too small to show
        (-0.004, None, "持平"),
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


# (delta, decimals, the marts' trend) → reads 持平? — the one rule of kpi.numbers.is_flat
FLAT_CASES = [
    (0.3, 1, "unchanged", True),  # inside the neutral band: 持平 though it shows as 0.3
    (0.04, 1, "worsened", True),  # beyond the band, but 0.0 at one decimal: too small to show
    (0.04, 2, "worsened", False),  # shown with two decimals it is visible: ▲0.04, red
    (-1.2, 1, "improved", False),
    (0.0, 1, None, True),
    (None, 1, None, False),  # no change known: "—", not 持平
]


@pytest.mark.parametrize(("delta", "decimals", "trend", "flat"), FLAT_CASES)
def test_desk_and_led_decide_flat_by_one_rule(delta, decimals, trend, flat):
    from ui.led import widgets

    good = {"improved": True, "worsened": False, "unchanged": None}.get(trend, True)
    desk = fmt.delta_text(delta, "%", decimals, trend=trend)
    led = widgets.fmt_delta(delta, "%", decimals, good=good)
    assert (desk == "持平") == flat and (led == "持平") == flat, (desk, led)
    if flat:
        assert fmt.delta_colour(delta, "higher_is_better", trend, decimals) == fmt.GREY


def test_desk_and_led_write_numbers_alike():
    from ui.led import widgets

    for v, d in [(78.6, 1), (10074, 0), (99_999, 0), (100_000, 0), (123456.0, 1), (2.3e8, 1)]:
        assert fmt.num(v, d) == widgets.fmt_number(v, d)
    assert fmt.num(99_999, 0) == "99,999" and fmt.num(100_000, 0) == "10.0万"


def test_marts_trend_wins_over_the_sign():
    # +0.3 inside the neutral band: the marts say unchanged → grey, though the number rose
    assert fmt.delta_colour(0.3, "higher_is_better", "unchanged") == fmt.GREY


@pytest.mark.parametrize(
    ("rc", "text", "colour"), [(2, "▲2", fmt.GREEN), (-1, "▼1", fmt.RED), (0, "–", fmt.GREY)]
)
def test_rank_change(rc, text, colour):
    assert fmt.rank_change_text(rc) == text and fmt.rank_change_colour(rc) == colour


def test_count_and_period_label():
    assert fmt.count(9876) == "9,876" and fmt.count(23456) == "23,456"
    assert fmt.count(234567) == "23.5万" and fmt.count(230_000_000) == "2.3亿"
    assert fmt.period_label("2026Q4", True) == "2026Q4（进行中）"
    assert fmt.timestamp("2026-11-24T08:42:13+08:00") == "2026-11-24 08:42"


@pytest.mark.parametrize(("v", "n"), [(3.0, 3), (0, 0), (None, 0), (math.nan, 0)])
def test_whole_counts_missing_as_zero(v, n):
    import pandas as pd

    assert fmt.whole(v) == n
    assert fmt.whole(pd.NA) == 0


def test_a_column_of_days_is_shown_without_a_time():
    """评议日期 and 完成时限 read "2026-11-11 00:00": midnight everywhere means a day."""
    import pandas as pd

    from ui.tables import _dates_only

    assert _dates_only(pd.Series(pd.to_datetime(["2026-11-11", None])))
    assert not _dates_only(pd.Series(pd.to_datetime(["2026-11-11 00:00", "2026-11-12 09:10"])))
    assert not _dates_only(pd.Series(pd.to_datetime([None, None])))
