"""KPI cards (value, QoQ change coloured by direction, 8-quarter sparkline) and the 进步榜 / 退步榜
of the districts (kpi.read.movers)."""

from __future__ import annotations

from typing import Literal

import pandas as pd
import streamlit as st

from kpi.read import movers as district_movers
from ui import format as fmt

_COLOUR_NAME = {fmt.GREEN: "green", fmt.RED: "red", fmt.GREY: "gray"}
# Fixed-width cards in a wrapping row: six abreast on a 1440 px desk screen (980 px of content:
# 6 × 156 + 5 × 8 gap), three by two on a tablet — never squeezed until the numbers turn into
# "8…". 156 px leaves the delta pill 124 px: "▲ +0.01 个百分点" needs 114 (at 145 it read "个百分…").
CARD_WIDTH = 156
CARD_GAP: Literal["xsmall"] = "xsmall"


def kpi_card(
    container,
    label: str,
    value,
    unit: str | None,
    delta,
    direction: str | None,
    trend: str | None,
    spark: list[float],
    help: str | None = None,
) -> None:
    """One st.metric card: arrow + sign + unit in the delta text, colour from the direction."""
    colour = _COLOUR_NAME[fmt.delta_colour(delta, direction, trend)]
    shown = fmt.value(value, unit) if unit == "%" else fmt.num(value)
    container.metric(
        label,
        shown,
        delta=fmt.delta_text(delta, unit, trend=trend),
        delta_color=colour if not fmt.missing(delta) else "off",
        delta_arrow="off",
        chart_data=[v for v in spark if not fmt.missing(v)] or None,
        chart_type="line",
        border=True,
        help=help,
        width=CARD_WIDTH,
    )


def headline_row(
    overall_city: pd.DataFrame,
    headline: pd.DataFrame,
    keys: list[str],
    period: str,
    n_domains: int = 18,
) -> None:
    """Six cards: the city's overall index and the metrics.yaml headline indicators."""
    row = st.container(horizontal=True, gap=CARD_GAP)
    cols = [row] * (1 + len(keys))
    cur = overall_city[overall_city["period"] == period]
    # The marts hold the change and its trend (neutral band from metrics.yaml; empty across a
    # partial and a full quarter): take them, don't recompute.
    score = cur["score"].iloc[0] if len(cur) else None
    delta = cur["score_qoq"].iloc[0] if len(cur) else None
    trend = cur["trend_qoq"].iloc[0] if len(cur) else None
    kpi_card(
        cols[0],
        "综合指数",
        score,
        "分",
        delta,
        "higher_is_better",
        None if fmt.missing(trend) else trend,
        list(overall_city["score"]),
    )
    for col, key in zip(cols[1:], keys, strict=False):
        h = headline[headline["indicator_key"] == key]
        row = h[h["period"] == period]
        if row.empty:
            col.metric(key, "—", border=True, help="本季度无数据", width=CARD_WIDTH)
            continue
        r = row.iloc[0]
        kpi_card(
            col,
            f"{r['label_zh']}",
            r["value"],
            r["unit"],
            r["value_qoq"],
            r["direction"],
            r["trend_qoq"],
            list(h["value"]),
        )
    st.caption(
        f"全市数值。综合指数为 {n_domains} 个指标领域中可评分领域得分的加权平均（0–100 分，前沿距离法）；"
        "平均办理用时单位为工作日（越低越好）；变化为较上季度，绿色为改善、红色为退步；迷你图为近 8 个季度。"
    )


def movers(ov: pd.DataFrame, partial: bool) -> None:
    """This quarter's 进步榜 (improved most) and 退步榜 (fell back most) — exactly the districts
    kpi.read.movers' one rule picks, as in the workbook and on the LED (not the 骏马奖/蜗牛奖 for
    units, and no other district added to fill a list)."""
    d = ov[~ov["is_city"].astype(bool)].copy()
    up, down = district_movers.select(d)
    # Nothing to compare: an in-progress quarter is never set against a complete one; the oldest
    # quarter of the snapshot (or one after a missing quarter) has no quarter before it.
    no_compare = (
        "进行中的季度不评选（不与已结束的季度比较）。"
        if partial
        else "没有可比的上一季度（快照中最早的季度，或上一季度没有数据），本季度不评选。"
    )
    with st.container(border=True):
        st.markdown("**:material/trending_up: 进步榜** · 较上季进步最多")
        if partial or d["score_qoq"].isna().all():
            st.caption(no_compare)
        else:
            for _, r in up.iterrows():
                st.markdown(
                    f"<span style='color:{fmt.GREEN}'>▲</span> **{r['district_name']}** 综合指数 "
                    f"{fmt.num(r['score'])}，环比 {fmt.signed(r['score_qoq'])}，名次 {fmt.rank_change_text(r['rank_change'])}",
                    unsafe_allow_html=True,
                )
            if up.empty:
                st.caption("本季度没有区县明显进步。")
    with st.container(border=True):
        st.markdown("**:material/trending_down: 退步榜** · 较上季退步最多")
        if partial or d["score_qoq"].isna().all():
            st.caption(no_compare)
        else:
            for _, r in down.iterrows():
                st.markdown(
                    f"<span style='color:{fmt.RED}'>▼</span> **{r['district_name']}** 综合指数 "
                    f"{fmt.num(r['score'])}，环比 {fmt.signed(r['score_qoq'])}，名次 {fmt.rank_change_text(r['rank_change'])}，"
                    f"红色指标 {fmt.whole(r['n_red'])} 项",
                    unsafe_allow_html=True,
                )
            if down.empty:
                st.caption("本季度没有区县明显退步。")
    st.caption(district_movers.RULE)
