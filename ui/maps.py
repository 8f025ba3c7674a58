"""The district map on 总览: a choropleth of the 综合指数 over the catalogue's boundaries
(kpi.geo), district names and scores at their label points, a 红黄绿 dot per district; a click
anywhere in a district opens its 区县画像. No tiles and no network: the shapes are filled Plotly
scatter traces on hidden axes (not a `geo` subplot: plotly.js fetches its world topojson from
cdn.plot.ly even when the base map is hidden, and draws nothing offline).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st
from plotly.colors import sample_colorscale

from kpi import geo
from ui import format as fmt
from ui.charts import CONFIG, FONT
from ui.data import Snapshot

HEIGHT = 440
CAPTION = "底色深浅为综合指数，圆点为红黄绿等级（灰色为未评分）。点击一个区县查看该区县画像。"
UNSCORED = "#d0d7de"
SCALE = [[0.0, "#deebf7"], [0.5, "#6baed6"], [1.0, "#08306b"]]  # 综合指数, light → dark
LABEL_BOX = (56.0, 38.0)  # px of one label box (name over score) at HEIGHT, for the spreading


def boundaries(snap: Snapshot) -> geo.MapLoad:
    """The catalogue's boundaries matched to the snapshot's districts (kpi.geo.load)."""
    return geo.load(snap.districts().to_dict("records"), city_code=snap.meta().get("city_code"))


def _sample(b: geo.Boundaries, code: str, step: float) -> tuple[list[float], list[float]]:
    """Points on a grid of `step` degrees inside the district: the invisible layer that makes the
    whole district hoverable and clickable (Plotly selects points, not filled areas)."""
    polys = b.polygons[code]
    pts = np.concatenate([p[0] for p in polys])
    xs = np.arange(pts[:, 0].min() + step / 2, pts[:, 0].max(), step)
    ys = np.arange(pts[:, 1].min() + step / 2, pts[:, 1].max(), step)
    lon, lat = [], []
    for x in xs:
        for y in ys:
            if any(geo.contains(p, float(x), float(y)) for p in polys):
                lon.append(float(x))
                lat.append(float(y))
    cx, cy = b.centroids[code]
    return lon + [cx], lat + [cy]


def figure(b: geo.Boundaries, ov: pd.DataFrame) -> go.Figure:
    """The map: each district a filled shape coloured by its 综合指数 (ov: overall rows of one
    quarter), on plain hidden axes with lon/lat kept in proportion — Plotly's geo subplots fetch a
    world topojson from the internet even with the base map hidden, so they cannot be used here.
    Each district's fill trace carries meta = [district_code, score] (what the tests read)."""
    rows = ov[~ov["is_city"].astype(bool)].set_index("district_code")
    codes = b.codes

    def at(code: str, col: str):
        v = rows[col].get(code) if code in rows.index else None
        return None if v is None or (not isinstance(v, str) and pd.isna(v)) else v

    scores = {c: (None if at(c, "score") is None else float(at(c, "score"))) for c in codes}
    custom = {
        c: [
            c,
            b.names[c],
            fmt.num(at(c, "score")),
            fmt.rank_text(at(c, "rank")),
            fmt.RAG_LABEL.get(at(c, "rag"), "未评分"),
            fmt.whole(at(c, "n_red")) if at(c, "n_red") is not None else "—",
        ]
        for c in codes
    }
    hover = (
        "<b>%{customdata[1]}</b><br>综合指数 %{customdata[2]}<br>排名 %{customdata[3]}"
        "<br>等级 %{customdata[4]}<br>红色指标 %{customdata[5]} 项<extra></extra>"
    )
    vals = [v for v in scores.values() if v is not None]
    lo, hi = (min(vals), max(vals)) if vals else (0.0, 100.0)
    pad = max((hi - lo) * 0.15, 2.0)
    lo, hi = lo - pad, hi + pad
    fig = go.Figure()
    for c in codes:
        xs: list[float | None] = []
        ys: list[float | None] = []
        for poly in b.polygons[c]:
            xs += [*poly[0][:, 0].tolist(), None]
            ys += [*poly[0][:, 1].tolist(), None]
        v = scores[c]
        colour = (
            UNSCORED
            if v is None
            else sample_colorscale(SCALE, [min(max((v - lo) / (hi - lo), 0.0), 1.0)])[0]
        )
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=ys,
                mode="lines",
                fill="toself",
                fillcolor=colour,
                line={"color": "white", "width": 1.5},
                hoverinfo="skip",
                name=b.names[c],
                meta=[c, v],
                showlegend=False,
            )
        )
    # the hover / click layer: invisible points filling each district
    x0, y0, x1, y1 = b.bbox()
    step = max(x1 - x0, y1 - y0) / 40
    hit_x: list[float] = []
    hit_y: list[float] = []
    hit_c: list[list] = []
    for c in codes:
        lon, lat = _sample(b, c, step)
        hit_x += lon
        hit_y += lat
        hit_c += [custom[c]] * len(lon)
    invisible = {"opacity": 0, "size": 16}
    fig.add_trace(
        go.Scatter(
            x=hit_x,
            y=hit_y,
            mode="markers",
            marker={**invisible, "color": "#000"},
            selected={"marker": {"opacity": 0}},
            unselected={"marker": {"opacity": 0}},
            customdata=hit_c,
            hovertemplate=hover,
            showlegend=False,
            name="区县",
        )
    )
    # 红黄绿 dots on the label points; names and scores in white boxes beside them, moved apart
    # where districts are small and close (an arrow then points back to the dot)
    rag_colour = {"green": fmt.GREEN, "amber": "#d4a72c", "red": fmt.RED}
    fig.add_trace(
        go.Scatter(
            x=[b.centroids[c][0] for c in codes],
            y=[b.centroids[c][1] for c in codes],
            mode="markers",
            marker={
                "size": 11,
                "color": [rag_colour.get(at(c, "rag"), fmt.GREY) for c in codes],
                "line": {"color": "white", "width": 1.5},
            },
            selected={"marker": {"opacity": 1}},
            unselected={"marker": {"opacity": 1}},
            customdata=[custom[c] for c in codes],
            hovertemplate=hover,
            showlegend=False,
            name="区县名称",
        )
    )
    proj = geo.project(b, HEIGHT * 1.1, HEIGHT)
    start = {c: (x, y + LABEL_BOX[1] / 2 + 6) for c, (x, y) in proj.labels.items()}  # below the dot
    spread = geo.spread_labels(start, LABEL_BOX, proj.width, proj.height)
    for c in codes:
        (x, y), (sx, sy) = proj.labels[c], spread[c]
        moved = abs(sx - x) > LABEL_BOX[0] / 2 or abs(sy - y) > LABEL_BOX[1] / 2 + 8
        fig.add_annotation(
            x=b.centroids[c][0],
            y=b.centroids[c][1],
            ax=sx - x,
            ay=sy - y,
            axref="pixel",
            ayref="pixel",
            text=f"<b>{b.names[c]}</b><br>{fmt.num(at(c, 'score'))}",
            showarrow=True,
            arrowhead=0,
            arrowwidth=1,
            arrowcolor="#57606a" if moved else "rgba(0,0,0,0)",
            standoff=6,
            bgcolor="rgba(255,255,255,0.88)",
            bordercolor="#d0d7de",
            borderpad=2,
            font={"family": FONT, "size": 12, "color": "#1f2328"},
            captureevents=False,
        )
    if vals:  # the colour bar, on an invisible point
        fig.add_trace(
            go.Scatter(
                x=[x0],
                y=[y0],
                mode="markers",
                marker={
                    "opacity": 0,
                    "color": [lo],
                    "cmin": lo,
                    "cmax": hi,
                    "colorscale": SCALE,
                    "showscale": True,
                    "colorbar": {"title": {"text": "综合指数"}, "thickness": 12, "len": 0.7},
                },
                hoverinfo="skip",
                showlegend=False,
            )
        )
    k = math.cos(math.radians((y0 + y1) / 2))
    fig.update_xaxes(visible=False, fixedrange=True)
    fig.update_yaxes(visible=False, fixedrange=True, scaleanchor="x", scaleratio=1 / k)
    fig.update_layout(
        height=HEIGHT,
        margin={"l": 0, "r": 0, "t": 0, "b": 0},
        font={"family": FONT, "size": 13},
        dragmode=False,
        showlegend=False,
        hovermode="closest",
        plot_bgcolor="rgba(0,0,0,0)",
        paper_bgcolor="rgba(0,0,0,0)",
        hoverlabel={"font": {"family": FONT}},
    )
    return fig


def district_map(snap: Snapshot, ov: pd.DataFrame, key: str = "district_map") -> str | None:
    """Draw the map (or the Chinese note why there is none); the district_code clicked, if any."""
    loaded = boundaries(snap)
    if loaded.boundaries is None:
        st.info(loaded.problem or "没有区县边界文件，不显示区县地图。", icon=":material/map:")
        return None
    st.caption(CAPTION)
    event = st.plotly_chart(
        figure(loaded.boundaries, ov),
        key=key,
        on_select="rerun",
        selection_mode="points",
        config={**CONFIG, "scrollZoom": False, "doubleClick": False},
        width="stretch",
    )
    selection: Any = event.get("selection") if event else None
    points: list = (selection or {}).get("points") or []
    for p in points:
        data = p.get("customdata")
        code = data[0] if isinstance(data, list | tuple) and data else None
        if code in loaded.boundaries.polygons:
            return str(code)
    return None
