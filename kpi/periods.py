"""Calendar quarters in Asia/Shanghai time, written '2026Q3' — the period key of every mart.

Everyone who needs "the current quarter" (the build, the pages, the LED screen at every refresh)
asks here, so the time zone and the spelling live in one place. Naive datetimes are taken as
local (Asia/Shanghai) time, as the exports give them; aware ones are converted first.
"""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

from kpi.errors import UserInputError

TZ = ZoneInfo("Asia/Shanghai")
_PERIOD_RE = re.compile(r"^(\d{4})Q([1-4])$")


def parse(period: str) -> tuple[int, int]:
    """'2026Q3' → (2026, 3); a clear Chinese error for anything else."""
    m = _PERIOD_RE.match(str(period).strip())
    if not m:
        raise UserInputError(f"统计期“{period}”格式不对：应写成 年份+Q+季度，例如 2026Q3。")
    return int(m.group(1)), int(m.group(2))


def make(year: int, quarter: int) -> str:
    return f"{year}Q{quarter}"


def index(period: str) -> int:
    """Quarters since year 0: consecutive quarters differ by 1 (same formula as SQL `period_index`)."""
    year, q = parse(period)
    return year * 4 + q - 1


def from_index(idx: int) -> str:
    return make(idx // 4, idx % 4 + 1)


def _local(ts: dt.datetime | dt.date) -> dt.date:
    if isinstance(ts, dt.datetime):
        if ts.tzinfo is not None:
            ts = ts.astimezone(TZ)
        return ts.date()
    return ts


def period_of(ts: dt.datetime | dt.date) -> str:
    """The quarter a timestamp or date falls in: 2026-08-15 → '2026Q3'."""
    day = _local(ts)
    return make(day.year, (day.month - 1) // 3 + 1)


def now_local() -> dt.datetime:
    return dt.datetime.now(TZ)


def current_period(now: dt.datetime | dt.date | None = None) -> str:
    """The quarter containing `now` (default: the wall clock, in Asia/Shanghai)."""
    return period_of(now if now is not None else now_local())


def previous(period: str) -> str:
    return from_index(index(period) - 1)


def next_period(period: str) -> str:
    return from_index(index(period) + 1)


def same_quarter_last_year(period: str) -> str:
    return from_index(index(period) - 4)


def latest_complete_period(now: dt.datetime | dt.date | None = None) -> str:
    return previous(current_period(now))


def bounds(period: str) -> tuple[dt.date, dt.date]:
    """First and last day (inclusive) of the quarter."""
    year, q = parse(period)
    start = dt.date(year, 3 * q - 2, 1)
    end = dt.date(year + (q == 4), 1 if q == 4 else 3 * q + 1, 1) - dt.timedelta(days=1)
    return start, end


def is_partial(period: str, now: dt.datetime | dt.date | None = None) -> bool:
    """True while the quarter is still in progress (or lies in the future) at `now`."""
    return index(period) >= index(current_period(now))


def label_zh(period: str) -> str:
    """'2026Q3' → '2026年第三季度'."""
    year, q = parse(period)
    return f"{year}年第{'一二三四'[q - 1]}季度"


def sql_index(expr: str) -> str:
    """SQL for `index()` of a period column or expression (a trusted identifier, never user text)."""
    return (
        f"(CAST(substr({expr}, 1, 4) AS INTEGER) * 4 + CAST(substr({expr}, 6, 1) AS INTEGER) - 1)"
    )
