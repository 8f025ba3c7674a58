"""Plotly charts: trends with partial quarters marked, district profile bars, rank history.

Fonts are the system CJK fonts (no CDN); plotly's JavaScript is bundled by Streamlit.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from kpi import periods as quarters
from ui import format as fmt

FONT = "Noto Sans CJK SC, Microsoft YaHei, PingFang SC, sans-serif"
PALETTE = ["#0969da", "#bf3989", "#1a7f37", "#9a6700", "#8250df", "#cf222e", "#0a7ea4", "#6e7781"]
CITY_COLOUR = "#24292f"
CONFIG = {"displayModeBar": False, "locale": "zh-CN"}


def _layout(fig: go.Figure, height: int, **kw) -> go.Figure:
    fig.update_layout(
        height=height,
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        font={"family": FONT, "size": 13},
        legend={"orientation": "h", "y": -0.15},
        plot_bgcolor="white",
        hovermode="x unified",
        **kw,
    )
    fig.update_xaxes(showgrid=False, type="category")
    fig.update_yaxes(gridcolor="#eaeef2")
    return fig


def _quarter_axis(periods: list[str]) -> dict[str, tuple[dt.date, dt.date, dt.date]]:
    """period → (first day, middle day, day after the last): a quarter's place on a time axis."""
    out = {}
    for p in periods:
        start, end = quarters.bounds(p)
        out[p] = (start, start + (end - start) / 2, end + dt.timedelta(days=1))
    return out


def trend(
    df: pd.DataFrame,
    y: str,
    title: str,
    unit: str | None,
    key: str,
    height: int = 380,
    all_codes: list[str] | None = None,
    empty: str = "暂无数据",
) -> bool:
    """One line per district plus the city (dark, dashed); partial quarters hollow and shaded.

    The x axis is time: each quarter sits at its middle day, so quarters are evenly spaced and a
    quarter without a value (NaN in `y`, e.g. the gap rows of kpi.read.queries.series) breaks the
    line instead of being squeezed away. With no value at all it says `empty` instead of drawing
    an empty axis; returns whether a chart was drawn.

    all_codes: every district in catalogue order, so a district keeps its colour whichever
    others are selected.
    """
    if df.empty or df[y].isna().all():
        st.info(empty)
        return False
    fig = go.Figure()
    change = y != "value"  # a change (环比, 同比) is written with its sign: ▲ +0.4 个百分点

    def shown(v) -> str:
        return fmt.delta_text(v, unit) if change else fmt.value(v, unit)

    periods = sorted(df["period"].unique())
    axis = _quarter_axis(periods)
    partial = sorted(df.loc[df["is_partial"].astype(bool), "period"].unique())
    groups = list(df.groupby(["is_city", "district_code"], sort=False))
    order = list(all_codes or [c for (_, c), _ in groups])
    for (is_city, code), g in groups:
        g = g.sort_values("period")
        names = g["district_name"].dropna()
        name = "全市" if is_city else (names.iloc[0] if len(names) else code)
        i = order.index(code) if code in order else len(order)
        colour = CITY_COLOUR if is_city else PALETTE[i % len(PALETTE)]
        flags = g["is_partial"].astype(bool)
        symbols = ["circle-open" if p else "circle" for p in flags]
        text = [
            f"{p}：{shown(v) if not fmt.missing(v) else '无数据'}{'（进行中）' if f else ''}"
            for p, v, f in zip(g["period"], g[y], flags, strict=False)
        ]
        fig.add_trace(
            go.Scatter(
                x=[axis[p][1] for p in g["period"]],
                y=g[y],
                name=name,
                mode="lines+markers",
                connectgaps=False,
                line={
                    "color": colour,
                    "width": 3 if is_city else 2,
                    "dash": "dash" if is_city else "solid",
                },
                marker={"symbol": symbols, "size": 9},
                hovertext=text,
                hoverinfo="text+name",
            )
        )
    for p in partial:
        fig.add_vrect(
            x0=axis[p][0],
            x1=axis[p][2],
            fillcolor="#fff8c5",
            opacity=0.5,
            line_width=0,
            annotation_text="进行中" + ("<br>不比较" if change else ""),
            annotation_position="top left",
        )
    _layout(fig, height, title={"text": title, "font": {"size": 15}})
    every = max(1, -(-len(periods) // 12))  # at most ~12 labels, so they never overlap
    fig.update_xaxes(
        type="date",
        tickmode="array",
        tickvals=[axis[p][1] for p in periods[::every]],
        ticktext=periods[::every],
        range=[axis[periods[0]][0], axis[periods[-1]][2]],
    )
    fig.update_xaxes(hoverformat="%YQ%q")  # the unified hover's header reads 2026Q3
    if unit:
        fig.update_yaxes(title_text=unit)
    if change:  # the zero line is the reference
        fig.update_yaxes(zeroline=True, zerolinecolor="#8c959f", zerolinewidth=1)
    st.plotly_chart(fig, config=CONFIG, key=key)
    return True


VALUE_COLUMN_X = 111  # where profile_bars writes each score: right of 100, clear of every marker


def profile_bars(df: pd.DataFrame, district_name: str, key: str) -> None:
    """Domain scores of a district against the city and the best district (horizontal bars).

    The district's score is written in a column of its own right of the 0–100 axis, not at the
    bar's end: there the 全市 line and the 最优 diamond sat on the digits (79.1 read 9.1).
    """
    d = df.iloc[::-1]
    labels = list(d["label_zh"])
    fig = go.Figure()
    fig.add_trace(
        go.Bar(
            y=labels,
            x=d["score"],
            name=district_name,
            orientation="h",
            marker_color="#0969da",
            hovertemplate="%{y}：%{x:.1f}<extra>" + district_name + "</extra>",
        )
    )
    fig.add_trace(
        go.Scatter(
            y=labels,
            x=d["city_score"],
            name="全市",
            mode="markers",
            marker={"symbol": "line-ns", "size": 18, "line": {"width": 3, "color": CITY_COLOUR}},
        )
    )
    fig.add_trace(
        go.Scatter(
            y=labels,
            x=d["best_score"],
            name="最优区县",
            mode="markers",
            marker={"symbol": "diamond", "size": 10, "color": "#1a7f37"},
            hovertext=list(d["best_district"]),
            hoverinfo="text+x",
        )
    )
    fig.add_trace(
        go.Scatter(
            y=labels,
            x=[VALUE_COLUMN_X] * len(labels),
            mode="text",
            text=[fmt.num(v) for v in d["score"]],
            textfont={"color": "#0969da", "size": 13},
            hoverinfo="skip",
            showlegend=False,
        )
    )
    _layout(fig, max(300, 34 * len(labels) + 80))
    fig.update_layout(hovermode="y unified")
    fig.update_xaxes(
        range=[0, VALUE_COLUMN_X + 7],
        tickvals=[0, 20, 40, 60, 80, 100],
        title_text="得分（0–100）",
        type="linear",
    )
    fig.update_yaxes(type="category")
    st.plotly_chart(fig, config=CONFIG, key=key)


def rank_history(df: pd.DataFrame, key: str) -> None:
    """Overall rank over the quarters (1 at the top)."""
    n = int(df["n_districts"].max() or 1)
    last = len(df) - 1
    fig = go.Figure(
        go.Scatter(
            x=df["period"],
            y=df["rank"],
            mode="lines+markers+text",
            text=[
                f"第{int(r)}名" if i == last and not fmt.missing(r) else ""
                for i, r in enumerate(df["rank"])
            ],
            hovertext=[
                f"{p}：第{int(r)}名" if not fmt.missing(r) else f"{p}：未排名"
                for p, r in zip(df["period"], df["rank"], strict=False)
            ],
            hoverinfo="text",
            # right of the last point: the line only ever comes from the left ("middle left"
            # sat on the line)
            textposition="middle right",
            cliponaxis=False,
            line={"color": "#0969da", "width": 2},
            marker={
                "size": 9,
                "symbol": ["circle-open" if p else "circle" for p in df["is_partial"].astype(bool)],
            },
        )
    )
    _layout(fig, 260)
    fig.update_layout(margin={"l": 10, "r": 60, "t": 30, "b": 10})  # room for "第6名"
    fig.update_yaxes(range=[n + 0.5, 0.5], dtick=1, title_text="名次", type="linear")
    fig.update_layout(hovermode="closest")
    st.plotly_chart(fig, config=CONFIG, key=key)
