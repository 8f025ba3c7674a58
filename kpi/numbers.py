"""How a number and a change read, everywhere (desk pages, LED, cards, tables): one 万 rule and
one 持平 rule, no Streamlit here.

- 万 / 亿: magnitudes from 10万 (100,000) up read 12.3万, from 1亿 up 2.3亿; below that the number
  is written in full with thousands separators (10,074), so a count is exact where it fits.
- 持平: a change reads 持平, and is painted neither green nor red, when the marts judged it
  unchanged (within the indicator's neutral band, metrics.yaml) or when it rounds to zero at the
  decimals shown — a change too small to show must never look like progress or a setback.
"""

from __future__ import annotations

import math

WAN = 100_000  # from here on: 万
YI = 100_000_000  # from here on: 亿
FLAT = "持平"


def missing(v) -> bool:
    """None, NaN, NaT and pd.NA are all 'no value'."""
    if v is None:
        return True
    try:
        return bool(v != v) or (isinstance(v, float) and math.isnan(v))  # NaN, NaT
    except (TypeError, ValueError):  # pd.NA refuses comparison to bool
        return True


def number(v, decimals: int = 1) -> str:
    """78.6 / 10,074 / 12.3万 / 2.3亿; '—' for no value."""
    if missing(v):
        return "—"
    v = float(v)
    if abs(v) >= YI:
        return f"{v / YI:.1f}亿"
    if abs(v) >= WAN:
        return f"{v / 1e4:.1f}万"
    return f"{v:,.{decimals}f}"


def is_flat(delta, decimals: int = 1, trend: str | None = None) -> bool:
    """The change reads 持平: judged unchanged by the marts, or zero at the shown decimals."""
    if missing(delta):
        return False
    return trend == "unchanged" or round(float(delta), decimals) == 0
