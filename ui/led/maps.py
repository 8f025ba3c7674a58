"""LED pieces of issue 17: the 挂图作战 district map view and the 近30天 dynamic strip.

The map is an SVG *image* (data: URI) like the trend chart — st.html's DOMPurify drops inline
<svg> — drawn from kpi.led.mapview's projected boundaries: each district filled with its 综合指数
红黄绿, its name and score at its label point (moved apart where districts are small and close).
"""

from __future__ import annotations

import base64
import datetime as dt
from html import escape

from kpi import geo
from kpi.led import live, mapview, views
from ui.led import style, widgets
from ui.led.style import FONT, RAG_BG

RAG_TEXT = {"green": "良好", "amber": "关注", "red": "预警", None: "未评分"}

_CSS = """
.led-main.mapv { grid-template-columns: 820fr 1016fr; }
.led-map { flex: 1; min-height: 0; display: flex; }
.led-map img { width: 100%; height: 100%; object-fit: contain; }
.led-mapt { flex: 1; min-height: 0; display: grid; align-content: stretch; }
.led-mapt .r { display: grid; align-items: center; gap: 8U; font-size: 30U;
  border-bottom: 1U solid rgba(63,208,255,.14); white-space: nowrap; }
.led-mapt .r.h { font-size: 22U; color: MUTED; font-weight: 600; }
.led-mapt .r > span { text-align: right; overflow: hidden; }
.led-mapt .r > span.nm { text-align: left; font-weight: 800; }
.led-mapt .r > span.sc { font-weight: 800; font-size: 36U; }
.led-mapt .r.h > span.sc { font-size: 22U; }
.led-mapt .red { color: BAD; font-weight: 800; }
.led-mapt .lamp { display: inline-block; width: 18U; height: 18U; border-radius: 50%;
  margin-right: 12U; vertical-align: middle; }
.led-mapnote { font-size: 20U; color: MUTED; margin-top: 8U; }

/* 近30天 line under the quarter's 翻牌器 of the same indicator */
.led-kpi.live { justify-content: space-between; padding-top: 8U; padding-bottom: 6U; }
.led-kpi.live .fd { height: 58U; line-height: 58U; font-size: 46U; width: 36U; }
.led-kpi.live .fs { line-height: 58U; font-size: 44U; width: 12U; }
.led-kpi.live .na { line-height: 58U; font-size: 44U; }
.led-kpi.live .unit { line-height: 1.3; }
.led-kpi.live .delta { font-size: 19U; line-height: 1.2; }
.led-kpi .recent { font-size: 18U; line-height: 1.2; color: ACCENT; white-space: nowrap;
  letter-spacing: -0.5U; }
.led-kpi .recent b { color: #fff; font-weight: 800; font-size: 20U; }
"""

CSS = style._compile(_CSS)


def style_tag() -> str:
    return f"<style>{CSS}</style>"


# ── the map view ──────────────────────────────────────────────────────────────────────────────

LABEL_BOX = (96.0, 72.0)  # design px of one label (name over score) for the spreading


def map_svg(m: mapview.MapData) -> str:
    """The districts as an SVG document: RAG fills, names and scores, leader lines where a
    label had to move off its district."""
    p = m.projected
    if p is None:
        return ""
    by_code = {d.code: d for d in m.districts}
    font = FONT.replace('"', "'")
    labels = geo.spread_labels(p.labels, LABEL_BOX, p.width, p.height)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {p.width:g} {p.height:g}" '
        f'font-family="{font}">'
    ]
    for code, path in p.paths.items():
        d = by_code.get(code)
        fill = RAG_BG.get(d.rag if d else None, RAG_BG[None])
        out.append(
            f'<path d="{path}" fill="{fill}" fill-rule="evenodd" stroke="#7fe3ff" '
            f'stroke-width="2.5" stroke-linejoin="round" data-code="{escape(code)}"/>'
        )
    for code, (x, y) in labels.items():
        d = by_code.get(code)
        ax, ay = p.labels[code]
        if abs(ax - x) > 2 or abs(ay - y) > 2:  # moved: a dot on the district and a leader line
            out.append(
                f'<line x1="{ax:.1f}" y1="{ay:.1f}" x2="{x:.1f}" y2="{y:.1f}" stroke="#ffffff" '
                'stroke-width="2" stroke-opacity=".8"/>'
                f'<circle cx="{ax:.1f}" cy="{ay:.1f}" r="5" fill="#ffffff"/>'
            )
        name = escape(d.name if d else code)
        score = widgets.fmt_number(d.score if d else None, 1)
        halo = 'stroke="#030b1f" stroke-width="6" paint-order="stroke" stroke-linejoin="round"'
        out.append(
            f'<text x="{x:.1f}" y="{y - 8:.1f}" font-size="30" font-weight="800" fill="#ffffff" '
            f'text-anchor="middle" {halo}>{name}</text>'
            f'<text x="{x:.1f}" y="{y + 30:.1f}" font-size="34" font-weight="800" fill="#ffe08a" '
            f'text-anchor="middle" {halo}>{escape(score)}</text>'
        )
    out.append("</svg>")
    return "".join(out)


def _legend() -> str:
    items = "".join(
        f'<span><i style="background:{RAG_BG[k]}"></i>{RAG_TEXT[k]}</span>'
        for k in ("green", "amber", "red", None)
    )
    return f'<div class="led-legend">{items}</div>'


def map_panel(m: mapview.MapData) -> str:
    svg = map_svg(m)
    if not svg:
        return widgets._panel("区县地图", widgets._empty(m.problem or "暂无区县边界"))
    uri = "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")
    body = f'<div class="led-map"><img alt="区县地图" src="{uri}"></div>' + _legend()
    return widgets._panel("区县地图", body, "mapp", "底色为综合指数红黄绿，数字为综合指数")


def district_table(m: mapview.MapData, partial: bool = False) -> str:
    heads = ["名次", "区县", "综合指数", "名次变化", "红色指标", *m.count_headings]
    cols = "70U 1.3fr 1.2fr 1fr 1fr" + " 1.2fr" * len(m.count_headings)
    template = style._compile(f"grid-template-columns: {cols};")
    rows = [
        f'<div class="r h" style="{template}">'
        + "".join(
            f'<span class="{"nm" if h == "区县" else "sc" if h == "综合指数" else ""}">{h}</span>'
            for h in heads
        )
        + "</div>"
    ]
    for d in m.districts:
        lamp = RAG_BG.get(d.rag, RAG_BG[None]) if d.rag else "transparent"
        change = '<span class="flat">—</span>' if partial else widgets.rank_change(d.rank_change)
        red = "—" if d.n_red is None else f"{d.n_red} 项"
        cells = [
            f"<span>{d.rank if d.rank is not None else '—'}</span>",
            f'<span class="nm"><i class="lamp" style="background:{lamp}"></i>{escape(d.name)}</span>',
            f'<span class="sc">{escape(widgets.fmt_number(d.score, 1))}</span>',
            f"<span>{change}</span>",
            f'<span class="{"red" if d.n_red else ""}">{red}</span>',
            *(
                f"<span>{'—' if d.counts.get(h) is None else d.counts[h]}</span>"
                for h in m.count_headings
            ),
        ]
        rows.append(
            f'<div class="r" style="{template}" data-code="{escape(d.code)}">{"".join(cells)}</div>'
        )
    table = (
        f'<div class="led-mapt" style="grid-template-rows: auto repeat({len(m.districts)}, 1fr)">'
        + "".join(rows)
        + "</div>"
    )
    return widgets._panel("区县综合指数 · 排名", table, "mapt")


def map_body(v: views.ViewData) -> str:
    """The 挂图作战 view: the overview's 翻牌器, then the map beside the district table."""
    assert v.map is not None
    return (
        widgets.counters(v.counters)
        + '<div class="led-main mapv">'
        + '<div class="led-col">'
        + map_panel(v.map)
        + "</div>"
        + '<div class="led-col">'
        + district_table(v.map, v.partial)
        + "</div></div>"
    )


# ── 近30天 dynamic strip ─────────────────────────────────────────────────────────────────────


def recent_line(r: live.Recent) -> str:
    """近30天 87.2% 截至11-30 — the line under a 翻牌器 of the same indicator."""
    if r.value is None:
        value = "—"
    else:
        value = f"<b>{escape(widgets.fmt_value(r.value, r.unit, 1))}</b>"
    end = ""
    if r.as_of:
        day = dt.date.fromisoformat(r.as_of)
        end = f" 截至{day:%m-%d}"
    why = f"（{escape(r.reason)}）" if r.value is None and r.reason else ""
    return (
        f'<div class="recent" data-testid="led-recent" data-key="{escape(r.key)}" '
        f'data-value="{escape(widgets.fmt_number(r.value, 1))}" data-as-of="{escape(r.as_of or "")}">'
        f"近{r.days}天 {value}{why}{end}</div>"
    )
