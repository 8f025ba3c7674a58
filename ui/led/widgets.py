"""HTML pieces of the LED screen: title bar, flip counters, ranking, heat grid, trend, honour
boards, red-indicator list. Plain functions from `kpi.led.rotation` data to HTML strings (escaped).

st.html sanitises with DOMPurify's HTML profile, which drops inline <svg>; the trend chart is
therefore an SVG *image* (data: URI), which DOMPurify keeps and which uses the system CJK font.
"""

from __future__ import annotations

import base64
import datetime as dt
import math
from html import escape

from kpi import numbers
from kpi.led import rotation as led
from kpi.led import views
from ui.led.style import ACCENT, FONT, MUTED, RAG_BG

WEEKDAYS = "一二三四五六日"


def fmt_number(value: float | None, decimals: int = 1) -> str:
    """96.2 / 10,074 / 12.3万 — kpi.numbers.number, the desk's rule (万 from 10万 up, so the tiles fit)."""
    return numbers.number(value, decimals)


def fmt_value(value: float | None, unit: str, decimals: int) -> str:
    text = fmt_number(value, decimals)
    if text == "—" or not unit:
        return text
    return f"{text}{unit}"


def shows_flat(delta: float | None, decimals: int, good: bool | None = True) -> bool:
    """The change reads 持平 (kpi.numbers.is_flat, the desk's rule): the marts judged it unchanged
    (`good` None beside a known change) or it rounds to zero at the shown decimals."""
    return numbers.is_flat(delta, decimals, "unchanged" if good is None else None)


def fmt_delta(
    delta: float | None, unit: str, decimals: int, compact: bool = False, good: bool | None = True
) -> str:
    """▲2.4 / ▼0.5个百分点 / 持平 (compact: no unit, for narrow lists)."""
    if delta is None:
        return "—"
    if shows_flat(delta, decimals, good):
        return numbers.FLAT
    arrow = "▲" if delta > 0 else "▼"
    suffix = "个百分点" if unit == "%" else ("" if unit in ("", "分") else unit)
    if compact:
        suffix = ""
    return f"{arrow}{fmt_number(abs(delta), decimals)}{suffix}"


def tone(good: bool | None) -> str:
    return "flat" if good is None else ("good" if good else "bad")


# ── title bar and view strip ──────────────────────────────────────────────────────────────────


def title_bar(city: str, now: dt.datetime, stamp: str, stale: bool, demo: bool = False) -> str:
    day = f"{now.year}年{now.month}月{now.day}日 星期{WEEKDAYS[now.weekday()]}"
    cls = "led-stamp stale" if stale else "led-stamp"
    # 演示数据: a lobby screen must never pass generated figures off as the city's own
    mark = '<span class="led-demo" data-testid="led-demo">演示数据</span>' if demo else ""
    return (
        '<div class="led-title">'
        f"<h1>{escape(city)}<small>营商环境监测一屏通览</small>{mark}</h1>"
        f'<div class="led-clock"><div class="t"><span>{day}</span>{now:%H:%M}</div>'
        f'<div class="{cls}" data-testid="led-stamp">{stamp}</div></div></div>'
    )


def stamp_text(
    data_as_of: dt.datetime | None, built_at: dt.datetime | None, note: str | None
) -> str:
    """数据截至 2026-09-30 · 更新于 2026-10-08 08:10 [· ⚠ note] (HTML, escaped)."""
    asof = f"{data_as_of:%Y-%m-%d}" if data_as_of else "—"
    built = f"{built_at:%Y-%m-%d %H:%M}" if built_at else "—"
    text = f"数据截至 <b>{asof}</b> · 更新于 <b>{built}</b>"
    if note:
        text += f" · ⚠ {escape(note)}"
    return text


def view_strip(
    title: str,
    period: str | None,
    index: int,
    total: int,
    notice: str | None,
    partial: bool = False,
) -> str:
    """The strip under the title: view name, 统计期 (marked when still in progress), dots."""
    dots = "".join('<i class="on"></i>' if i == index else "<i></i>" for i in range(total))
    period_text = f"统计期 {led.quarter_label(period)}" if period else ""
    if period and partial:
        period_text += "（进行中，数据不完整）"
    note = (
        f'<span class="note" data-testid="led-notice">⚠ {escape(notice)}</span>' if notice else ""
    )
    return (
        f'<div class="led-strip"><span class="name">{escape(title)}</span>'
        f'<span class="period{" partial" if partial else ""}">{period_text}</span>{note}'
        f'<span class="dots">{dots}<em>{index + 1}/{total}</em></span></div>'
    )


# ── flip counters ─────────────────────────────────────────────────────────────────────────────


def flip_counter(c: views.Counter) -> str:
    text = fmt_number(c.value, c.decimals)
    if text == "—":
        digits = '<span class="na">—</span>'
    else:
        parts = []
        for ch in text:
            if ch.isdigit():
                parts.append(f'<span class="fd">{ch}</span>')
            elif ch == "万":
                parts.append(f'<span class="unit">{ch}</span>')
            else:
                parts.append(f'<span class="fs">{escape(ch)}</span>')
        digits = "".join(parts)
    unit = f'<span class="unit">{escape(c.unit)}</span>' if c.unit else ""
    delta = fmt_delta(c.delta, c.unit, c.decimals, good=c.good)
    # One rule with the desk: within the neutral band, or too small to show → 持平, never red or green.
    good = None if shows_flat(c.delta, c.decimals, c.good) else c.good
    size = (" long" if len(c.label) > 8 else "") + (" wide" if len(text) >= 6 else "")
    recent = ""
    if c.recent is not None:  # 近30天 (issue 17): the dynamic figure under the quarter's
        from ui.led import maps

        size += " live"
        recent = maps.recent_line(c.recent)
    return (
        f'<div class="led-kpi{size}" data-label="{escape(c.label)}" data-value="{escape(text)}">'
        f'<div class="lab">{escape(c.label)}</div>'
        f'<div class="num">{digits}{unit}</div>'
        f'<div class="delta">较上季 <span class="{tone(good)}">{escape(delta)}</span></div>'
        f"{recent}</div>"
    )


def counters(items: list[views.Counter]) -> str:
    return '<div class="led-kpis">' + "".join(flip_counter(c) for c in items[:7]) + "</div>"


# ── panels ────────────────────────────────────────────────────────────────────────────────────


def _panel(title: str, body: str, extra: str = "", sub: str = "", warn: bool = False) -> str:
    cls = ' class="warn"' if warn else ""
    small = f"<small{cls}>{escape(sub)}</small>" if sub else ""
    return f'<div class="led-panel {extra}"><h2>{escape(title)}{small}</h2>{body}</div>'


def _empty(text: str = "暂无数据") -> str:
    return f'<div class="led-empty">{escape(text)}</div>'


def rank_change(change: int | None) -> str:
    if change is None:
        return '<span class="flat">新</span>'
    if change == 0:
        return '<span class="flat">—</span>'
    return (
        f'<span class="good">▲{change}</span>'
        if change > 0
        else f'<span class="bad">▼{-change}</span>'
    )


def ranking(
    title: str, rows: list[views.RankRow], note: str | None = None, partial: bool = False
) -> str:
    """Districts by rank; an unranked row says why (无数据 / 样本不足 / 权重不足). note: what
    the ranking rests on when that is less than usual (依据 16/18 个领域), in amber."""
    if not rows:
        return _panel(title, _empty(), "rankp")
    body = []
    for r in rows:
        lamp = RAG_BG.get(r.rag, RAG_BG[None]) if r.rag else "transparent"
        # an unranked row says why in place of its rank change
        change = (
            f'<span class="why">{escape(r.reason)}</span>'
            if r.rank is None and r.reason
            else '<span class="flat">—</span>'  # in progress: never compared, not 新
            if partial
            else rank_change(r.rank_change)
        )
        body.append(
            '<div class="row">'
            f'<span class="no">{r.rank if r.rank is not None else "—"}</span>'
            f'<span class="nm"><i class="lamp" style="background:{lamp}"></i>{escape(r.name)}</span>'
            f'<span class="val">{escape(fmt_value(r.value, r.unit if r.unit == "%" else "", r.decimals))}</span>'
            f'<span class="chg">{change}</span></div>'
        )
    sub = note or ("名次变化" if len(title) <= 8 else "")
    rank = f'<div class="led-rank" style="--rows:{max(len(rows), 6)}">{"".join(body)}</div>'
    return _panel(title, rank, "rankp", sub, warn=bool(note))


def honours(horses: list[views.RankRow], snails: list[views.RankRow], partial: bool = False) -> str:
    def items(rows: list[views.RankRow], good: bool) -> str:
        if not rows:
            return _empty("进行中不评选" if partial else "暂无")
        lis = "".join(
            f'<li>{escape(r.name)}<span class="{tone(good)}">'
            f"{escape(fmt_delta(r.delta, r.unit, r.decimals, compact=True, good=r.good))}</span></li>"
            for r in rows
        )
        return f"<ol>{lis}</ol>"

    return (
        '<div class="led-honours">'
        + _panel("进步榜", items(horses, True), "horse", "进步最快")
        + _panel("退步榜", items(snails, False), "snail", "退步最多")
        + "</div>"
    )


def heat_grid(title: str, columns: list[str], rows: list, decimals: list[int]) -> str:
    if not columns or not rows:
        return _panel(title, _empty())
    many = len(columns) > 8  # the 18 domains: vertical headers of the catalogue's short names
    head_cls = "hd v" if many else "hd"
    first = "92U" if many else "120U"
    head = 150 if many else (96 if max(len(c) for c in columns) <= 12 else 118)
    template = (
        f"grid-template-columns: calc({first[:-1]} * var(--u)) repeat({len(columns)}, 1fr);"
        f"grid-template-rows: calc({head} * var(--u)) repeat({len(rows)}, 1fr);"
    )
    cells = ['<div class="hd"></div>'] + [
        f'<div class="{head_cls}">{_header(lab, many)}</div>' for lab in columns
    ]
    for name, values in rows:
        cells.append(f'<div class="rh">{escape(name)}</div>')
        for (value, rag), dec in zip(values, decimals, strict=False):
            cells.append(
                f'<div class="c" style="background:{RAG_BG.get(rag, RAG_BG[None])}">'
                f"{escape(fmt_number(value, dec))}</div>"
            )
    legend = (
        '<div class="led-legend">'
        f'<span><i style="background:{RAG_BG["green"]}"></i>良好</span>'
        f'<span><i style="background:{RAG_BG["amber"]}"></i>关注</span>'
        f'<span><i style="background:{RAG_BG["red"]}"></i>预警</span>'
        f'<span><i style="background:{RAG_BG[None]}"></i>未评分</span></div>'
    )
    grid = (
        f'<div class="led-grid{"" if many else " wide"}" style="{template}">{"".join(cells)}</div>'
    )
    return _panel(title, grid + legend, "gridp")


def _header(label: str, vertical: bool) -> str:
    """A grid column header; an indicator's unit "（工作日）" goes on a line of its own that never
    breaks, so a wrapped header reads 企业开办平均办理用时 / （工作日）, not …用时（工 / 作日）."""
    name, bracket, unit = label.partition("（")
    if vertical or not bracket:
        return escape(label)
    return f'<span>{escape(name)}</span><span class="u">（{escape(unit)}</span>'


def trend_svg(points: list[tuple[str, float | None]], unit: str) -> str:
    """An 8-quarter line chart as an SVG document (viewBox 460×300 design px)."""
    w, h, left, right, top, bottom = 460, 260, 26, 30, 44, 40
    vals = [v for _, v in points if v is not None]
    if not vals:
        return ""
    lo, hi = min(vals), max(vals)
    pad = max((hi - lo) * 0.25, 1.0)
    lo, hi = lo - pad, hi + pad
    n = len(points)
    step = (w - left - right) / max(n - 1, 1)

    def xy(i: int, v: float) -> tuple[float, float]:
        return left + i * step, top + (hi - v) / (hi - lo) * (h - top - bottom)

    coords = [(i, xy(i, v), v) for i, (_, v) in enumerate(points) if v is not None]
    line = " ".join(f"{x:.1f},{y:.1f}" for _, (x, y), _ in coords)
    area = f"{coords[0][1][0]:.1f},{h - bottom} " + line + f" {coords[-1][1][0]:.1f},{h - bottom}"
    font = FONT.replace('"', "'")
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" font-family="{font}">',
        (
            '<defs><linearGradient id="g" x1="0" y1="0" x2="0" y2="1">'
            f'<stop offset="0" stop-color="{ACCENT}" stop-opacity=".45"/>'
            f'<stop offset="1" stop-color="{ACCENT}" stop-opacity="0"/></linearGradient></defs>'
        ),
        f'<line x1="{left}" y1="{h - bottom}" x2="{w - right}" y2="{h - bottom}" stroke="#2a4a7a" stroke-width="2"/>',
        f'<polygon points="{area}" fill="url(#g)"/>',
        f'<polyline points="{line}" fill="none" stroke="{ACCENT}" stroke-width="4" stroke-linejoin="round"/>',
    ]
    dec = 1
    for k, (_i, (x, y), v) in enumerate(coords):
        last = k == len(coords) - 1
        r = 8 if last else 5
        parts.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r}" fill="{"#fff" if last else ACCENT}"/>'
        )
        if last or k % 2 == (len(coords) - 1) % 2:
            size = 28 if last else 21
            weight = 800 if last else 600
            anchor = "end" if last else "middle"
            parts.append(
                f'<text x="{x + (14 if last else 0):.1f}" y="{y - 14:.1f}" font-size="{size}" '
                f'font-weight="{weight}" fill="#fff" text-anchor="{anchor}">{fmt_number(v, dec)}</text>'
            )
    for i, (p, _) in enumerate(points):
        x = left + i * step
        parts.append(
            f'<text x="{x:.1f}" y="{h - 10}" font-size="20" fill="{MUTED}" '
            f'text-anchor="middle">{p[2:4]}Q{p[-1]}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def trend(title: str, points: list[tuple[str, float | None]], unit: str) -> str:
    svg = trend_svg(points, unit)
    if not svg:
        return _panel(title, _empty())
    uri = "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")
    return _panel(
        title, f'<div class="led-trend"><img alt="{escape(title)}" src="{uri}"></div>', "trendp"
    )


ALERT_ROWS_VISIBLE = 6
SECONDS_PER_ALERT = 2.5


def alerts(items: list[views.Alert], epoch: float, rated: int = 1) -> str:
    """预警清单; longer than the panel → scrolls, its phase taken from `epoch` (the wall-clock start
    of the current view, so the HTML stays identical — and is not redrawn — for the whole dwell).

    rated: how many indicators of the view have a 红黄绿 this period; the green all-clear is given
    only when some do (no data is not good news)."""
    title = "预警清单"
    if not items and not rated:
        return _panel(title, _empty("暂无可评级的指标"), "alertp")
    if not items:
        return _panel(title, '<div class="led-ok">本期无红色预警指标</div>', "alertp")
    lis = "".join(
        f"<li><i></i><b>{escape(a.district)}</b><span>{escape(a.label)}</span>"
        f"<em>{escape(fmt_value(a.value, a.unit, a.decimals))}</em></li>"
        for a in items
    )
    if len(items) <= ALERT_ROWS_VISIBLE:
        body = f'<div class="led-alerts"><ul>{lis}</ul></div>'
    else:
        period = len(items) * SECONDS_PER_ALERT
        phase = math.fmod(epoch, period)
        body = (
            f'<div class="led-alerts"><ul class="roll" style="animation-duration:{period:.1f}s;'
            f'animation-delay:-{phase:.1f}s">{lis}{lis}</ul></div>'
        )
    return _panel(title, body, "alertp", f"红色指标 {len(items)} 项")


def view_body(v: views.ViewData, epoch: float) -> str:
    if v.map is not None:  # 挂图作战 (issue 17): the map in place of the grid
        from ui.led import maps

        return maps.map_body(v)
    return (
        counters(v.counters)
        + '<div class="led-main">'
        + '<div class="led-col">'
        + ranking(v.ranking_title, v.ranking, v.ranking_note, v.partial)
        + honours(v.horses, v.snails, v.partial)
        + "</div>"
        + '<div class="led-col">'
        + heat_grid(v.grid_title, v.grid_columns, v.grid_rows, v.grid_decimals)
        + "</div>"
        + '<div class="led-col">'
        + trend(v.trend_title, v.trend, v.trend_unit)
        + alerts(v.alerts, epoch, v.n_rated)
        + "</div>"
        + "</div>"
    )


def message(big: str, small: str) -> str:
    return f'<div class="led-message"><div class="big">{escape(big)}</div><div class="small">{escape(small)}</div></div>'
