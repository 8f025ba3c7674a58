"""Numbers and changes written the way Chinese reports write them, with direction-aware colours.

Colours say better (green) / worse (red) / unchanged (grey) — judged by the indicator's direction,
never by the sign of the change — and every coloured change also carries an arrow (▲▼) and a sign,
so a colour-blind reader loses nothing. Pure functions: no Streamlit here, easy to test.
"""

from __future__ import annotations

import math

import pandas as pd

from kpi import numbers
from kpi.read.exports import RAG_TEXT as RAG_LABEL  # one vocabulary for screens and files
from kpi.read.exports import TREND_TEXT as TREND_LABEL

GREEN, RED, GREY, AMBER = "#1a7f37", "#cf222e", "#6e7781", "#9a6700"
RAG_BG = {"green": "#d3f0da", "amber": "#fcecbf", "red": "#fbd3d3"}
RAG_FG = {"green": GREEN, "amber": AMBER, "red": RED}
TREND_COLOUR = {"improved": GREEN, "worsened": RED, "unchanged": GREY}
DIRECTION_LABEL = {"higher_is_better": "越高越好", "lower_is_better": "越低越好"}
__all__ = ["RAG_LABEL", "TREND_LABEL"]  # re-exported for ui.tables and the pages


def missing(v) -> bool:
    """None, NaN, NaT and pd.NA are all 'no value'."""
    if v is None:
        return True
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def num(v, digits: int = 1) -> str:
    """1 decimal by default; 万 / 亿 for large magnitudes (kpi.numbers, as on the LED); '—' for missing."""
    return "—" if missing(v) else numbers.number(v, digits)


def count(v) -> str:
    """Whole counts: 23456 → '23,456'; 234567 → '23.5万'."""
    return "—" if missing(v) else numbers.number(int(v), 0)


def whole(v) -> int:
    """A count that may be missing (pd.NA, NaN, None) as an int, 0 when missing."""
    return 0 if missing(v) else int(v)


def value(v, unit: str | None, digits: int = 1) -> str:
    """An indicator value with its unit: 96.0%, 2.0 个工作日, 73.8 分."""
    if missing(v):
        return "—"
    if unit == "%":
        return f"{float(v):.{digits}f}%"
    if unit == "工作日":
        return f"{num(v, digits)} 个工作日"
    if unit in (None, "", "分", "指数"):
        return num(v, digits)
    return f"{num(v, digits)} {unit}"


def delta_unit(unit: str | None) -> str:
    """The unit of a change: percentages change by 个百分点."""
    return {"%": "个百分点", "工作日": "个工作日"}.get(unit or "", unit or "")


def trend_of(delta, direction: str | None = "higher_is_better", band: float = 0.0) -> str | None:
    """improved / worsened / unchanged for a raw change, judged by direction (band: neutral width)."""
    if missing(delta):
        return None
    d = float(delta)
    if abs(d) <= band:
        return "unchanged"
    better = d > 0 if direction != "lower_is_better" else d < 0
    return "improved" if better else "worsened"


def signed(delta, digits: int = 1) -> str:
    """'+1.2' / '-0.3' / '0.0'."""
    if missing(delta):
        return "—"
    d = round(float(delta), digits)
    if d == 0:
        return f"{0:.{digits}f}"
    return f"{d:+.{digits}f}"


def arrow(delta) -> str:
    """▲ for a rise, ▼ for a fall, – for none (the arrow shows the direction of the number)."""
    if missing(delta):
        return ""
    d = float(delta)
    return "▲" if d > 0 else "▼" if d < 0 else "–"


def delta_text(delta, unit: str | None = None, digits: int = 1, trend: str | None = None) -> str:
    """'▲ +1.2 个百分点' — arrow, sign and unit, so colour is never the only signal; '持平' for a
    change the marts judged unchanged or that rounds to zero at `digits` (kpi.numbers.is_flat,
    the LED's rule too)."""
    if missing(delta):
        return "—"
    if numbers.is_flat(delta, digits, trend if isinstance(trend, str) else None):
        return numbers.FLAT
    u = delta_unit(unit)
    d = round(float(delta), digits)
    return f"{arrow(d)} {signed(d, digits)}{(' ' + u) if u else ''}".strip()


def delta_colour(
    delta=None,
    direction: str | None = "higher_is_better",
    trend: str | None = None,
    digits: int = 1,
) -> str:
    """Colour of a change: from the marts' trend when given, else from delta and direction;
    grey whenever the change reads 持平 (kpi.numbers.is_flat)."""
    t = trend if isinstance(trend, str) and trend else None
    if numbers.is_flat(delta, digits, t):
        return GREY
    t = t or trend_of(delta, direction, 0.0)
    return TREND_COLOUR.get(t or "", GREY)


def rank_change_text(rc) -> str:
    """rank_change is previous rank − this rank: ▲2 moved up two places, ▼1 fell one, – held."""
    if missing(rc):
        return "—"
    rc = int(rc)
    return f"▲{rc}" if rc > 0 else f"▼{-rc}" if rc < 0 else "–"


def rank_change_colour(rc) -> str:
    if missing(rc):
        return GREY
    rc = int(rc)
    return GREEN if rc > 0 else RED if rc < 0 else GREY


def rank_text(rank, of: int | None = None) -> str:
    if missing(rank):
        return "—"
    return f"第{int(rank)}名" + (f"/{of}" if of else "")


def rag_text(rag) -> str:
    return {"green": "● 绿", "amber": "● 黄", "red": "● 红"}.get(rag or "", "—")


def period_label(period: str, is_partial: bool = False) -> str:
    """'2026Q3' or '2026Q4（进行中）'."""
    return f"{period}（进行中）" if is_partial else period


def timestamp(ts) -> str:
    """'2026-11-19 17:45' from an ISO string or datetime; '—' when unknown."""
    if ts is None or (isinstance(ts, float) and math.isnan(ts)):
        return "—"
    text = str(ts).replace("T", " ")
    return text[:16]
