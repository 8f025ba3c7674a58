"""Draws 一屏通览's 督办 views (kpi.led.loop): reads the application database through
office.tracking once per refresh (module cache: the screen's fragment runs every second)."""

from __future__ import annotations

import datetime as dt
import logging
import time

from kpi.led import loop
from kpi.settings import DataDir
from office.tracking import items, rules, views
from ui.led import style, widgets
from ui.led.widgets import escape

log = logging.getLogger(__name__)
_CACHE: dict[str, tuple[float, loop.LoopData | None]] = {}

_CSS = style._compile("""
.led-loop { position: absolute; left: 32U; top: 362U; width: 1856U; height: 700U;
  display: grid; grid-template-columns: 1fr 1fr 1fr; gap: 20U; }
.led-loop.wide { grid-template-columns: 1fr; }
.led-loop.two { grid-template-columns: 1.25fr 1fr 0.75fr; }
.led-bars { flex: 1; display: flex; flex-direction: column; min-height: 0; }
.led-bars .bar { flex: 1 1 0; min-height: 0; display: grid; grid-template-columns: 150U 1fr 150U;
  gap: 12U; align-items: center; font-size: 26U; font-weight: 700; white-space: nowrap; }
.led-bars .bar .nm { overflow: hidden; text-overflow: ellipsis; }
.led-bars .bar .tr { height: 26U; background: #1a2c4d; border-radius: 13U; overflow: hidden; }
.led-bars .bar .fl { height: 100%; border-radius: 13U; }
.led-bars .bar .fl.good { background: GOOD; } .led-bars .bar .fl.amber { background: AMBER; }
.led-bars .bar .fl.bad { background: BAD; }
.led-bars .bar .tx { text-align: right; font-size: 24U; }
.led-bars.wide-text .bar { grid-template-columns: 130U 1fr 230U; }
.led-cards { flex: 1; display: grid; grid-template-columns: repeat(6, 1fr); grid-template-rows: repeat(4, 1fr);
  gap: 10U; min-height: 0; }
.led-card { border-radius: 8U; padding: 8U 12U; display: flex; flex-direction: column;
  justify-content: space-between; min-width: 0; overflow: hidden; border-left: 10U solid; }
.led-card.green { background: rgba(15,122,69,.35); border-color: GOOD; }
.led-card.amber { background: rgba(168,106,0,.35); border-color: AMBER; }
.led-card.red { background: rgba(179,38,30,.35); border-color: BAD; }
.led-card .pn { font-size: 25U; font-weight: 800; color: #fff; line-height: 1.2;
  overflow: hidden; display: -webkit-box; -webkit-line-clamp: 2; -webkit-box-orient: vertical; }
.led-card .pu { font-size: 19U; color: #cfe3ff; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.led-card .pp { font-size: 22U; font-weight: 700; display: flex; justify-content: space-between; }
.led-lg { display: flex; gap: 28U; font-size: 22U; color: MUTED; margin-top: 8U; justify-content: flex-end; }
.led-lg i { display: inline-block; width: 18U; height: 18U; border-radius: 3U; margin-right: 6U; vertical-align: middle; }
.led-list { list-style: none; margin: 0; padding: 0; flex: 1; display: flex; flex-direction: column; min-height: 0; }
.led-list li { flex: 0 0 auto; height: 56U; display: flex; align-items: center; gap: 12U; font-size: 25U;
  border-bottom: 1U solid rgba(255,93,93,.18); white-space: nowrap; overflow: hidden; }
.led-list li b { font-weight: 800; flex: 0 0 auto; }
.led-list li span { flex: 1 1 auto; overflow: hidden; text-overflow: ellipsis; color: #dbe7fb; }
.led-list li em { font-style: normal; font-weight: 800; color: BAD; flex: 0 0 auto; }
.led-list.plain li { border-bottom-color: rgba(63,208,255,.12); }
.led-list.plain li em { color: ACCENT; }
.led-award { display: flex; flex-direction: column; gap: 12U; flex: 1; justify-content: center; }
.led-award div { font-size: 30U; font-weight: 800; line-height: 1.3; }
.led-award div small { display: block; font-size: 22U; font-weight: 700; color: MUTED; }
.led-award .snail { color: AMBER; } .led-award .steed { color: GOOD; }
.led-kpi .delta.loop { color: MUTED; }
""")


def load(data_dir: DataDir, today: dt.date, refresh: float) -> loop.LoopData | None:
    """The 督办 data, re-read at most every `refresh` seconds; None when it cannot be read (the
    screen then shows only the score views)."""
    key = str(data_dir.root)
    now = time.monotonic()
    hit = _CACHE.get(key)
    if hit and now - hit[0] < refresh:
        return hit[1]
    value: loop.LoopData | None
    try:
        value = _read(data_dir, today)
    except Exception:  # noqa: BLE001 — the lobby screen never shows an error; the log has it
        log.exception("LED: 督办 data could not be read")
        value = hit[1] if hit else None
    _CACHE[key] = (now, value)
    return value


def _read(data_dir: DataDir, today: dt.date) -> loop.LoopData:
    from ui import data

    problems = views.problem_list(data_dir, today, names=data.district_names())
    figures = (
        views.problem_figures(problems, [], today) if not problems.empty else problems.iloc[0:0]
    )
    by_district = (
        views.problem_figures(problems, ["区县"], today) if not problems.empty else problems
    )
    colours = rules.ProjectColours.from_env()
    awards = items.awards(data_dir)
    period = max(awards["period"]) if not awards.empty else None
    if period:
        awards = awards[awards["period"] == period]
    return loop.build(
        problems,
        figures,
        by_district,
        views.project_board(data_dir, today),
        colours.meaning,
        views.task_list(data_dir, today),
        awards,
        period,
    )


def _counter(label: str, value: float | None, unit: str, decimals: int) -> str:
    html = widgets.flip_counter(widgets.views.Counter(label, value, unit, decimals))
    # no quarter-on-quarter change for an item count: the line under it says 截至今日
    head, _, _ = html.rpartition('<div class="delta">')
    return head + '<div class="delta loop">截至今日</div></div>'


def _bars(rows: list[loop.Bar], extra: str = "") -> str:
    if not rows:
        return widgets._empty()
    return (
        f'<div class="led-bars {extra}" style="--rows:{len(rows)}">'
        + "".join(
            f'<div class="bar"><span class="nm">{escape(b.label)}</span>'
            f'<span class="tr"><span class="fl {b.tone}" style="display:block;width:{max(0.0, min(100.0, b.value or 0)):.1f}%"></span></span>'
            f'<span class="tx">{escape(b.text)}</span></div>'
            for b in rows[:8]
        )
        + "</div>"
    )


def body(key: str, data: loop.LoopData) -> str:
    """The view's HTML below the view strip."""
    css = f"<style>{_CSS}</style>"
    counters = (
        '<div class="led-kpis">'
        + "".join(_counter(*c) for c in data.counters.get(key, []))
        + "</div>"
    )
    if key == "problems":
        batches = "".join(
            f"<li><b>{escape(b)}</b><span></span><em>{n} 个</em></li>" for b, n in data.batches[:9]
        )
        main = (
            '<div class="led-loop">'
            + widgets._panel("各区县问题解决率", _bars(data.district_bars), sub="已解决/问题总数")
            + widgets._panel("问题类别", _bars(data.category_bars), sub="问题数")
            + widgets._panel(
                "逐批销号",
                f'<ul class="led-list plain">{batches}</ul>' if batches else widgets._empty(),
                sub="最近批次",
            )
            + "</div>"
        )
        return css + counters + main
    if key == "projects":
        counts = (
            '<div class="led-kpis">'
            + "".join(
                _counter(f"{rules.COLOUR_ZH[c]} · {w}", float(n), "个", 0)
                for c, w, n in data.legend
            )
            + _counter("项目总数", float(len(data.cards)), "个", 0)
            + "</div>"
        )
        cards = "".join(
            f'<div class="led-card {c.colour}"><div class="pn">{escape(c.name)}</div>'
            f'<div class="pu">{escape(c.unit)}</div>'
            f'<div class="pp"><span>{escape(c.state)}</span><span>{"—" if c.progress is None else f"{c.progress:.0f}%"}</span></div></div>'
            for c in data.cards[:24]
        )
        legend = (
            '<div class="led-lg">'
            + "".join(
                f'<span><i style="background:{style.RAG_BG[c]}"></i>{rules.COLOUR_ZH[c]} {escape(w)}</span>'
                for c, w, _ in data.legend
            )
            + "</div>"
        )
        main = (
            '<div class="led-loop wide">'
            + widgets._panel(
                "为企办实事项目",
                f'<div class="led-cards">{cards}</div>{legend}',
                sub="红黄绿按进度与节点计划比较",
            )
            + "</div>"
        )
        return css + counts + main
    rows = "".join(
        f"<li><b>{escape(d)}</b><span>{escape(i)} · {escape(u)}</span><em>逾期 {n} 天</em></li>"
        for d, i, u, n in data.overdue
    )
    overdue = (
        f'<ul class="led-list">{rows}</ul>'
        if rows
        else '<div class="led-ok">没有逾期的督办任务</div>'
    )
    won = "".join(
        f'<div class="{"snail" if k.startswith("蜗牛") else "steed"}"><small>{escape(k)}</small>{escape(u)}</div>'
        for k, u in data.awards
    )
    award = f'<div class="led-award">{won}</div>' if won else widgets._empty("本季度尚未评议")
    main = (
        '<div class="led-loop two">'
        + widgets._panel("逾期督办任务", overdue, sub=_late_note(data))
        + widgets._panel("各区县在办督办任务", _bars(data.task_bars, "wide-text"))
        + widgets._panel(
            "蜗牛奖 · 骏马奖", award, sub=f"{data.award_period} 评议" if data.award_period else ""
        )
        + "</div>"
    )
    return css + counters + main


def _late_note(data: loop.LoopData) -> str:
    n = next(
        (int(v or 0) for label, v, _, _ in data.counters.get("tasks", []) if label == "逾期"), 0
    )
    if not n:
        return ""
    return f"共 {n} 项" + (
        f"，显示逾期最久的 {loop.MAX_OVERDUE_ROWS} 项" if n > loop.MAX_OVERDUE_ROWS else ""
    )
