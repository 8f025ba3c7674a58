"""一屏通览 (lobby LED screen): options, wall-clock view rotation, staleness, the period due.

Pure logic, no Streamlit: `ui/led/` draws; `kpi.led.board` reads snapshots into boards and
`kpi.led.views` slices each view from a board.

- The view on screen is a function of wall-clock time only — view index =
  floor(epoch_seconds / dwell) mod n_views — so a reload or a reconnect resumes in place and two
  screens side by side show the same view.
- The period shown is the latest complete quarter as of *now* (worked out at every refresh, never
  once at page load), so the screen moves on by itself when a quarter ends.
"""

from __future__ import annotations

import datetime as dt
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import pandas as pd

from kpi import periods as quarters

TZ = ZoneInfo("Asia/Shanghai")
N_TREND_QUARTERS = 8
MAX_GRID_INDICATORS = 6  # columns of a view's district × indicator grid (readable from 5 m)
MAX_COUNTERS = 6

# Source views: (view key, title, indicator source, the indicator the districts are ranked by).
SOURCE_VIEWS: dict[str, tuple[str, str, str]] = {
    "hotline": ("12345 企业诉求", "hotline", "hotline_resolution_rate"),
    "ratings": ("政务服务好差评", "ratings", "ratings_good_rate"),
    "approvals": ("审批效率", "approvals", "approval_avg_workdays"),
}
MAP_VIEW = "map"  # 挂图作战 (kpi.led.mapview)
BASE_VIEWS = ("overview", MAP_VIEW, *SOURCE_VIEWS)
DOMAIN_PREFIX = "domain:"


# ── options ───────────────────────────────────────────────────────────────────────────────────


# Accepted range of each numeric option; anything else falls back to the default.
_NUMERIC_RANGES = {
    "dwell": (2.0, 3600.0),
    "refresh": (1.0, 86400.0),
    "stale_hours": (0.01, 24 * 365.0),
    "stale_data_hours": (0.01, 24 * 365.0),
    "reload_hours": (0.0, 24 * 30.0),
    "tick": (0.25, 60.0),
    "watchdog": (1.0, 3600.0),
}


@dataclass(frozen=True)
class LedOptions:
    """Screen options: query parameters override BIZENV_LED_* environment variables and defaults."""

    dwell: float = 20.0  # seconds each view stays on screen
    refresh: float = 60.0  # seconds between data refreshes (new snapshot, current quarter, stamp)
    stale_hours: float = 72.0  # 更新于 older than this → amber stamp with a note
    stale_data_hours: float = 168.0  # 数据截至 older than this → amber too (a rebuild of old data)
    views: tuple[
        str, ...
    ] = ()  # () = every view; else keys among BASE_VIEWS, "domains", domain keys
    reload_at: str = "03:00"  # full page reload every night at this local time ("" = off)
    reload_hours: float = 0.0  # > 0: full page reload every N hours instead of nightly
    tick: float = 1.0  # seconds between fragment runs (view switch latency)
    watchdog: float = 15.0  # seconds between the browser's checks that the server still answers

    @classmethod
    def from_params(
        cls, params: Mapping[str, str], env: Mapping[str, str] | None = None
    ) -> LedOptions:
        """Build options; a malformed or out-of-range value falls back to the default (never raises)."""
        env = os.environ if env is None else env
        values: dict = {}
        for name, (lo, hi) in _NUMERIC_RANGES.items():
            raw = params.get(name) or env.get(f"BIZENV_LED_{name.upper()}")
            try:
                number = float(raw) if raw not in (None, "") else None
            except (TypeError, ValueError):
                number = None
            if number is not None and math.isfinite(number) and lo <= number <= hi:
                values[name] = number
        raw_views = params.get("views") or env.get("BIZENV_LED_VIEWS") or ""
        values["views"] = tuple(v.strip() for v in str(raw_views).split(",") if v.strip())
        raw_reload = params.get("reload_at", env.get("BIZENV_LED_RELOAD_AT"))
        if raw_reload is not None:
            values["reload_at"] = (
                raw_reload if _parse_hhmm(raw_reload) or raw_reload == "" else "03:00"
            )
        return cls(**values)


def _parse_hhmm(text: str) -> tuple[int, int] | None:
    try:
        hh, mm = (int(part) for part in str(text).split(":"))
    except ValueError:
        return None
    return (hh, mm) if 0 <= hh < 24 and 0 <= mm < 60 else None


def reload_delay_seconds(now: dt.datetime, options: LedOptions) -> float | None:
    """Seconds from `now` (local time) until the next scheduled full reload; None = never."""
    if options.reload_hours > 0:
        return options.reload_hours * 3600.0
    hhmm = _parse_hhmm(options.reload_at)
    if hhmm is None:
        return None
    target = now.replace(hour=hhmm[0], minute=hhmm[1], second=0, microsecond=0)
    if target <= now:
        target += dt.timedelta(days=1)
    return (target - now).total_seconds()


# ── rotation and staleness ────────────────────────────────────────────────────────────────────


def view_index(epoch_seconds: float, dwell: float, n_views: int) -> int:
    """Which view is on screen at this instant: floor(epoch / dwell) mod n (same on every screen)."""
    if n_views <= 0:
        return 0
    return math.floor(epoch_seconds / dwell) % n_views


def seconds_left(epoch_seconds: float, dwell: float) -> float:
    """Seconds until the next view change."""
    return dwell - math.fmod(epoch_seconds, dwell)


def view_keys(domain_keys: list[str], selected: tuple[str, ...] = ()) -> list[str]:
    """The rotation: 总览 → 挂图作战 → 12345 → 好差评 → 审批效率 → each domain; `selected`
    filters, in its order."""
    every = [*BASE_VIEWS, *(DOMAIN_PREFIX + k for k in domain_keys)]
    if not selected:
        return every
    chosen: list[str] = []
    for key in selected:
        if key == "domains":
            expansion = [DOMAIN_PREFIX + k for k in domain_keys]
        elif key in BASE_VIEWS:
            expansion = [key]
        else:
            bare = key.removeprefix(DOMAIN_PREFIX)
            expansion = [DOMAIN_PREFIX + bare] if bare in domain_keys else []
        chosen.extend(k for k in expansion if k not in chosen)
    return chosen or every


def is_stale(updated_at: dt.datetime | None, now: dt.datetime, stale_hours: float) -> bool:
    """True when the snapshot was built more than `stale_hours` before `now` (or is undated)."""
    if updated_at is None:
        return True
    return (now - updated_at).total_seconds() > stale_hours * 3600.0


def stale_note(updated_at: dt.datetime | None, now: dt.datetime) -> str:
    """The amber note under the stamp, e.g. 数据已 3 天未更新，请检查数据导入."""
    if updated_at is None:
        return "数据更新时间未知，请检查数据导入"
    return f"数据已 {_age((now - updated_at).total_seconds() / 3600.0)}未更新，请检查数据导入"


def _age(hours: float) -> str:
    if hours >= 48:
        return f"{int(hours // 24)} 天"
    if hours >= 1:
        return f"{int(hours)} 小时"
    return f"{max(int(hours * 60), 1)} 分钟"


def staleness(
    built_at: dt.datetime | None,
    data_as_of: dt.datetime | None,
    now: dt.datetime,
    options: LedOptions,
) -> str | None:
    """The amber note of the stamp, or None when the data is fresh.

    Two clocks: 更新于 (built_at) older than stale_hours means nothing was loaded or built; 数据截至
    (data_as_of, the latest business time in the data) older than stale_data_hours means the
    builds go on but no new records arrive (a scheduled rebuild over exports that stopped).
    """
    if is_stale(built_at, now, options.stale_hours):
        return stale_note(built_at, now)
    if data_as_of is None:
        return "数据截至时间未知，请检查数据导入"
    hours = (now - data_as_of).total_seconds() / 3600.0
    if hours > options.stale_data_hours:
        return f"已 {_age(hours)}没有新数据，请检查数据导入"  # 数据截至 is on the stamp already
    return None


# ── quarters ──────────────────────────────────────────────────────────────────────────────────


def quarter_of(day: dt.date) -> str:
    """'2026-08-15' → '2026Q3' (kpi.periods)."""
    return quarters.period_of(day)


previous_quarter = quarters.previous
quarter_label = quarters.label_zh


def now_local() -> dt.datetime:
    """Wall-clock time in Asia/Shanghai as a naive datetime (the convention of the snapshot)."""
    return dt.datetime.now(TZ).replace(tzinfo=None)


def display_period(periods: pd.DataFrame, now: dt.datetime) -> str | None:
    """The latest complete quarter before the current one (as of `now`) that the snapshot holds."""
    current = quarter_of(now.date())
    done = periods[(~periods["is_partial"].astype(bool)) & (periods["period"] < current)]
    if done.empty:
        earlier = periods[periods["period"] <= current]
        return str(earlier["period"].max()) if not earlier.empty else None
    return str(done["period"].max())


def trend_window(period: str | None) -> list[str]:
    """The displayed period and the 8 before it (QoQ of the oldest trend point needs one more)."""
    if period is None:
        return []
    out = [period]
    for _ in range(N_TREND_QUARTERS):
        out.append(previous_quarter(out[-1]))
    return out
