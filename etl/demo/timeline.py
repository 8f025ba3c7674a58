"""Quarters, the cut-off instant and a working-day calendar for the demo generator.

Everything here works on numpy arrays of day indexes (days since the calendar's first day) so the
generators can place a million events without a Python loop per row. The calendar is built from
chinese-calendar (holidays and 调休 make-up days) plus the catalogue's holidays.yaml; a year neither
knows falls back to weekdays only, exactly as the loader does.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import yaml

from kpi.errors import UserInputError

TZ = ZoneInfo("Asia/Shanghai")
_QUARTER_ZH = {1: "第一季度", 2: "第二季度", 3: "第三季度", 4: "第四季度"}
_PERIOD_RE = re.compile(r"^\s*(\d{4})\s*[Qq]\s*([1-4])\s*$")


@dataclass(frozen=True, order=True)
class Quarter:
    """A calendar quarter, written 2026Q3."""

    year: int
    q: int

    @property
    def label(self) -> str:
        return f"{self.year}Q{self.q}"

    @property
    def label_zh(self) -> str:
        return f"{self.year}年{_QUARTER_ZH[self.q]}"

    @property
    def start(self) -> dt.date:
        return dt.date(self.year, 3 * self.q - 2, 1)

    @property
    def end(self) -> dt.date:
        """First day of the next quarter (exclusive end)."""
        return self.shift(1).start

    def shift(self, n: int) -> Quarter:
        k = self.year * 4 + self.q - 1 + n
        return Quarter(k // 4, k % 4 + 1)


def parse_period(text: str) -> Quarter:
    """'2026Q4' → Quarter(2026, 4); a clear Chinese error otherwise."""
    m = _PERIOD_RE.match(str(text))
    if not m:
        raise UserInputError(f"统计期“{text}”无法识别：请写成 年份+Q+季度，例如 2026Q4。")
    return Quarter(int(m.group(1)), int(m.group(2)))


def today_shanghai() -> dt.date:
    return dt.datetime.now(TZ).date()


def quarter_of(day: dt.date) -> Quarter:
    return Quarter(day.year, (day.month - 1) // 3 + 1)


def quarter_window(end: Quarter, n: int) -> list[Quarter]:
    """The n quarters ending with `end`, oldest first."""
    return [end.shift(i - n + 1) for i in range(n)]


def _yaml_overrides(catalog_dir: Path | None) -> tuple[set[int], dict, dict]:
    path = catalog_dir / "holidays.yaml" if catalog_dir else None
    if not path or not path.exists():
        return set(), {}, {}
    spec = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    years = {int(y) for y in spec.get("years") or []}
    holidays = {
        dt.date.fromisoformat(str(k)): str(v) for k, v in (spec.get("holidays") or {}).items()
    }
    workdays = {
        dt.date.fromisoformat(str(k)): str(v) for k, v in (spec.get("workdays") or {}).items()
    }
    return years, holidays, workdays


class WorkCalendar:
    """Day-indexed working-day calendar over [first, last].

    `seq[i]` counts working days up to and including day i, so the working day k days after day i
    (the day itself not counted, as the loader counts) is the first index whose seq reaches
    seq[i] + k — one np.searchsorted for a whole array of cases.
    """

    def __init__(self, first: dt.date, last: dt.date, catalog_dir: Path | None = None):
        import chinese_calendar

        years, extra_holidays, extra_workdays = _yaml_overrides(catalog_dir)
        self.first = np.datetime64(first, "D")
        n = (last - first).days + 1
        self.days = self.first + np.arange(n)
        weekday = (self.days.astype("int64") + 3) % 7  # 1970-01-01 was a Thursday → 0 = Monday
        is_work = weekday < 5
        festival = np.zeros(n, dtype=bool)
        # ~1,000 days, not rows: a per-day loop over the library is fine here.
        for i in range(n):
            day = first + dt.timedelta(days=i)
            if day in extra_holidays:
                is_work[i] = False
                festival[i] = "春节" in extra_holidays[day]
            elif day in extra_workdays:
                is_work[i] = True
            elif day.year not in years:
                try:
                    is_work[i] = chinese_calendar.is_workday(day)
                    on_holiday, name = chinese_calendar.get_holiday_detail(day)
                    festival[i] = bool(on_holiday and name == "Spring Festival")
                except NotImplementedError:
                    pass  # unknown year: weekdays only
        self.weekday = weekday
        self.is_work = is_work
        self.seq = np.cumsum(is_work)
        self.festival = festival

    def index(self, day: dt.date) -> int:
        return int((np.datetime64(day, "D") - self.first).astype("int64"))

    def add_workdays(self, day_idx: np.ndarray, k: np.ndarray) -> np.ndarray:
        """Index of the k-th working day after each day (k = 0 → the same day)."""
        target = self.seq[day_idx] + k
        out = np.searchsorted(self.seq, target, side="left")
        return np.where(k <= 0, day_idx, np.minimum(out, len(self.seq) - 1))

    def near_festival(self, day_idx: np.ndarray, before: int = 10, after: int = 20) -> np.ndarray:
        """True for days from `before` days ahead of 春节 to `after` days after it (the backlog)."""
        fest = np.flatnonzero(self.festival)
        if fest.size == 0:
            return np.zeros(len(day_idx), dtype=bool)
        pos = np.searchsorted(fest, day_idx)
        nxt = fest[np.minimum(pos, fest.size - 1)]
        prv = fest[np.maximum(pos - 1, 0)]
        return ((nxt - day_idx >= 0) & (nxt - day_idx <= before)) | (
            (day_idx - prv >= 0) & (day_idx - prv <= after)
        )

    def to_datetime(self, day_idx: np.ndarray, seconds: np.ndarray) -> np.ndarray:
        """datetime64[s] from day indexes and seconds after midnight."""
        return self.days[day_idx].astype("datetime64[s]") + seconds.astype("timedelta64[s]")


def sample_days(
    rng: np.random.Generator, n: int, weights: np.ndarray, lo: int, hi: int
) -> np.ndarray:
    """n day indexes in [lo, hi), drawn with the given per-day weights, sorted."""
    w = weights[lo:hi].astype(float)
    if n <= 0 or w.sum() <= 0:
        return np.zeros(0, dtype=np.int64)
    return np.sort(lo + rng.choice(hi - lo, size=n, p=w / w.sum()))


def office_seconds(rng: np.random.Generator, n: int) -> np.ndarray:
    """Seconds after midnight for hall work: morning peak ~10:00, afternoon peak ~15:00."""
    morning = rng.random(n) < 0.58
    centre = np.where(morning, 10 * 3600, 15 * 3600)
    lo = np.where(morning, 8 * 3600 + 1800, 14 * 3600)
    hi = np.where(morning, 11 * 3600 + 50 * 60, 17 * 3600 + 20 * 60)
    s = centre + rng.normal(0, 3600, n)
    # outside the session: redraw uniformly inside it (clipping would pile cases up at 8:30 sharp)
    s = np.where((s < lo) | (s > hi), lo + rng.random(n) * (hi - lo), s)
    return (s // 60 * 60 + rng.integers(0, 60, n)).astype(np.int64)


def hotline_seconds(rng: np.random.Generator, n: int) -> np.ndarray:
    """Seconds after midnight for calls: 7×24 but mostly 8:00–21:00, peaks mid-morning and afternoon."""
    kind = rng.random(n)
    s = np.where(
        kind < 0.45,
        rng.normal(10 * 3600, 5400, n),
        np.where(kind < 0.85, rng.normal(15 * 3600 + 1800, 6000, n), rng.uniform(0, 86400, n)),
    )
    s = np.mod(s, 86400)
    return (s // 60 * 60).astype(np.int64)  # hotline systems keep minutes only
