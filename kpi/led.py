"""一屏通览 (lobby LED screen): options, wall-clock view rotation, staleness, and the data of each view.

Pure logic, no Streamlit: `ui/led/` draws what this module returns.

- The view on screen is a function of wall-clock time only — view index =
  floor(epoch_seconds / dwell) mod n_views — so a reload or a reconnect resumes in place and two
  screens side by side show the same view.
- The period shown is the latest complete quarter as of *now* (worked out at every refresh, never
  once at page load), so the screen moves on by itself when a quarter ends.
- A snapshot is read once into small frames (`Board`); every view is sliced from those, so a
  snapshot that disappears or breaks later does not take the screen down: the caller keeps the
  last good board and shows a notice.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd

from kpi import periods as quarters
from kpi import settings, store

TZ = ZoneInfo("Asia/Shanghai")
N_TREND_QUARTERS = 8
MAX_GRID_INDICATORS = 6  # columns of a view's district × indicator grid (readable from 5 m)
MAX_COUNTERS = 6

# The headline indicators (metrics.yaml `headline:` overrides this order when present).
DEFAULT_HEADLINE = (
    "hotline_resolution_rate",
    "hotline_satisfaction_rate",
    "ratings_good_rate",
    "approval_avg_workdays",
    "approval_online_rate",
)

# Source views: (view key, title, indicator source, the indicator the districts are ranked by).
SOURCE_VIEWS: dict[str, tuple[str, str, str]] = {
    "hotline": ("12345 企业诉求", "hotline", "hotline_resolution_rate"),
    "ratings": ("政务服务好差评", "ratings", "ratings_good_rate"),
    "approvals": ("审批效率", "approvals", "approval_avg_workdays"),
}
BASE_VIEWS = ("overview", *SOURCE_VIEWS)
DOMAIN_PREFIX = "domain:"


# ── options ───────────────────────────────────────────────────────────────────────────────────


# Accepted range of each numeric option; anything else falls back to the default.
_NUMERIC_RANGES = {"dwell": (2.0, 3600.0), "refresh": (1.0, 86400.0), "stale_hours": (0.01, 24 * 365.0),
                   "reload_hours": (0.0, 24 * 30.0), "tick": (0.25, 60.0)}


@dataclass(frozen=True)
class LedOptions:
    """Screen options: query parameters override BIZENV_LED_* environment variables and defaults."""

    dwell: float = 20.0  # seconds each view stays on screen
    refresh: float = 60.0  # seconds between data refreshes (new snapshot, current quarter, stamp)
    stale_hours: float = 72.0  # 更新于 older than this → amber stamp with a note
    views: tuple[str, ...] = ()  # () = every view; else keys among BASE_VIEWS, "domains", domain keys
    reload_at: str = "03:00"  # full page reload every night at this local time ("" = off)
    reload_hours: float = 0.0  # > 0: full page reload every N hours instead of nightly
    tick: float = 1.0  # seconds between fragment runs (view switch latency)

    @classmethod
    def from_params(cls, params: Mapping[str, str], env: Mapping[str, str] | None = None) -> LedOptions:
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
            values["reload_at"] = raw_reload if _parse_hhmm(raw_reload) or raw_reload == "" else "03:00"
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
    """The rotation: 总览 → 12345 → 好差评 → 审批效率 → each domain; `selected` filters, in its order."""
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
    hours = (now - updated_at).total_seconds() / 3600.0
    if hours >= 48:
        age = f"{int(hours // 24)} 天"
    elif hours >= 1:
        age = f"{int(hours)} 小时"
    else:
        age = f"{max(int(hours * 60), 1)} 分钟"
    return f"数据已 {age}未更新，请检查数据导入"


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


# ── data ──────────────────────────────────────────────────────────────────────────────────────


@dataclass
class Counter:
    """One 翻牌器: label, formatted by ui (value + unit), QoQ delta and whether it is good news."""

    label: str
    value: float | None
    unit: str = ""
    decimals: int = 1
    delta: float | None = None
    good: bool | None = None  # True improvement, False worse, None unchanged/unknown


@dataclass
class RankRow:
    name: str
    value: float | None
    unit: str
    decimals: int
    rank: int | None
    rank_change: int | None
    delta: float | None
    good: bool | None
    rag: str | None


@dataclass
class Alert:
    district: str
    label: str
    value: float | None
    unit: str
    decimals: int
    warn: float | None


@dataclass
class ViewData:
    key: str
    title: str
    counters: list[Counter]
    ranking_title: str
    ranking: list[RankRow]
    grid_title: str
    grid_columns: list[str]  # column labels (domains or indicators)
    grid_rows: list[tuple[str, list[tuple[float | None, str | None]]]]  # district, [(value, rag)]
    grid_decimals: list[int]
    trend_title: str
    trend: list[tuple[str, float | None]]  # (period, value), oldest first
    trend_unit: str
    horses: list[RankRow]  # 骏马榜: improved most
    snails: list[RankRow]  # 蜗牛榜: fell most
    alerts: list[Alert]


@dataclass
class Board:
    """Everything the screen needs from one snapshot, already in memory."""

    snapshot: str
    period: str | None
    city_name: str
    built_at: dt.datetime | None
    data_as_of: dt.datetime | None
    domains: pd.DataFrame  # domain_key, label_zh, sort_order
    districts: pd.DataFrame  # district_code, district_name, sort_order (districts only)
    indicators: pd.DataFrame  # indicator_scores, trend window
    domain_scores: pd.DataFrame
    overall: pd.DataFrame
    approvals_count: dict[str, int]
    headline: tuple[str, ...]
    loaded_at: dt.datetime = field(default_factory=now_local)
    _views: dict = field(default_factory=dict, repr=False)

    @property
    def domain_keys(self) -> list[str]:
        return list(self.domains["domain_key"])

    def view(self, key: str) -> ViewData:
        """view_data(self, key), computed once per board (a board never changes)."""
        if key not in self._views:
            self._views[key] = view_data(self, key)
        return self._views[key]


def _parse_time(text) -> dt.datetime | None:
    if text in (None, ""):
        return None
    try:
        value = dt.datetime.fromisoformat(str(text))
    except ValueError:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(TZ).replace(tzinfo=None)
    return value


def headline_keys(metrics_file: Path | None = None) -> tuple[str, ...]:
    """metrics.yaml `headline:` when the file has one, else the five contract keys."""
    path = metrics_file or settings.metrics_path()
    import yaml

    try:
        with open(path, encoding="utf-8") as fh:
            doc = yaml.safe_load(fh) or {}
        keys = tuple(str(k) for k in (doc.get("headline") or ()))
    except (OSError, ValueError, AttributeError, TypeError, yaml.YAMLError):
        return DEFAULT_HEADLINE  # a broken metrics.yaml must not blank the lobby screen
    return keys or DEFAULT_HEADLINE


def load_board(snapshot: Path, now: dt.datetime) -> Board:
    """Read what the screen needs from one snapshot (read-only), for the period due at `now`."""
    con = store.connect_snapshot(snapshot)
    try:
        meta = dict(con.execute("SELECT key, value FROM snapshot_meta").fetchall())
        periods = con.execute("SELECT period, is_partial FROM periods ORDER BY period").df()
        period = display_period(periods, now)
        window = _trend_window(period)
        in_window = "period IN (SELECT unnest(?::VARCHAR[]))"
        indicators = con.execute(
            f"""SELECT period, is_partial, district_code, district_name, is_city, domain_key,
                       indicator_key, label_zh, unit, direction, source, value, value_qoq, scored,
                       score, rank, rank_change, score_qoq, trend_qoq, rag, warn
                FROM indicator_scores WHERE {in_window}""",
            [window],
        ).df()
        domain_scores = con.execute(
            f"""SELECT period, district_code, district_name, is_city, domain_key, label_zh, score,
                       rank, rank_change, score_qoq, trend_qoq, rag
                FROM domain_scores WHERE {in_window}""",
            [window],
        ).df()
        overall = con.execute(
            f"""SELECT period, is_partial, district_code, district_name, is_city, score, rank,
                       rank_change, score_qoq, trend_qoq, rag, n_red
                FROM overall_scores WHERE {in_window}""",
            [window],
        ).df()
        counts = dict(
            con.execute(
                f"SELECT period, count(*) FROM approvals WHERE {in_window} GROUP BY period", [window]
            ).fetchall()
        )
        districts = con.execute(
            """SELECT district_code, coalesce(short_name, district_name) AS name, district_name,
                      level, sort_order FROM districts ORDER BY sort_order, district_code"""
        ).df()
    finally:
        con.close()
    domains = _domain_catalog(domain_scores)
    city_rows = districts[districts["level"] == "city"]
    city_name = meta.get("city_name") or (
        str(city_rows["district_name"].iloc[0]) if not city_rows.empty else "本市"
    )
    return Board(
        snapshot=snapshot.name,
        period=period,
        city_name=city_name,
        built_at=_parse_time(meta.get("built_at")),
        data_as_of=_parse_time(meta.get("data_as_of")),
        domains=domains,
        districts=districts[districts["level"] != "city"].reset_index(drop=True),
        indicators=indicators,
        domain_scores=domain_scores,
        overall=overall,
        approvals_count={str(k): int(v) for k, v in counts.items()},
        headline=headline_keys(),
    )


def _trend_window(period: str | None) -> list[str]:
    """The displayed period and the 8 before it (QoQ of the oldest trend point needs one more)."""
    if period is None:
        return []
    out = [period]
    for _ in range(N_TREND_QUARTERS):
        out.append(previous_quarter(out[-1]))
    return out


def _domain_catalog(domain_scores: pd.DataFrame) -> pd.DataFrame:
    """Domains in catalogue order (data/catalog/domains.csv), limited to those the marts hold."""
    try:
        catalog = pd.read_csv(settings.catalog_dir() / "domains.csv", dtype=str)
        order = {k: i for i, k in enumerate(catalog["domain_key"])}
    except (OSError, KeyError, ValueError):
        order = {}
    present = domain_scores[["domain_key", "label_zh"]].drop_duplicates("domain_key")
    present = present.assign(sort_order=present["domain_key"].map(lambda k: order.get(k, 999)))
    return present.sort_values(["sort_order", "domain_key"]).reset_index(drop=True)


class BoardCache:
    """The last good board per data dir: reread only when CURRENT or the due quarter changes.

    CURRENT is looked at no more often than every `refresh` seconds (and at once when the quarter
    due at `now` changes); a missing or unreadable snapshot leaves the last good board in place.
    """

    def __init__(self) -> None:
        self._boards: dict[str, tuple[tuple, Board]] = {}
        self._checked: dict[str, tuple[float, str, str | None]] = {}  # root → (monotonic, quarter, problem)
        self._lock = threading.Lock()  # several screens (sessions) share one cache

    def get(self, now: dt.datetime, data_dir: Path | None = None,
            refresh: float = 0.0) -> tuple[Board | None, str | None]:
        """(board, problem): the current board, or the last good one with a Chinese notice."""
        root = str(settings.data_dir(data_dir))
        with self._lock:
            held = self._boards.get(root)
            checked = self._checked.get(root)
            quarter = quarter_of(now.date())
            clock = time.monotonic()
            if checked and clock - checked[0] < refresh and checked[1] == quarter:
                return (held[1] if held else None), checked[2]
            board, problem = self._load(root, held, now, data_dir)
            self._checked[root] = (clock, quarter, problem)
            return board, problem

    def _load(self, root: str, held, now: dt.datetime,
              data_dir: Path | None) -> tuple[Board | None, str | None]:
        try:
            snapshot = store.current_snapshot_path(data_dir)
            if snapshot is None:
                raise store.SnapshotMissing("尚未发布数据快照")
            key = (str(snapshot), snapshot.stat().st_mtime_ns, quarter_of(now.date()))
            if held is not None and held[0] == key:
                return held[1], None
            board = load_board(snapshot, now)
        except Exception as exc:  # noqa: BLE001 — any failure keeps the last good data on screen
            if held is None:
                return None, _problem_text(exc)
            return held[1], _problem_text(exc)
        self._boards[root] = (key, board)
        return board, None


def _problem_text(exc: Exception) -> str:
    if isinstance(exc, store.SnapshotMissing):
        return "未找到数据快照"
    return "数据快照读取失败"


# ── views ─────────────────────────────────────────────────────────────────────────────────────


def _good(trend: str | None) -> bool | None:
    return {"improved": True, "worsened": False}.get(trend or "")


def _num(value) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def _int(value) -> int | None:
    return None if value is None or pd.isna(value) else int(value)


def _decimals(unit: str | None, values=()) -> int:
    """One decimal, none for large magnitudes (1,702 元, 164 天 reads better than 163.7)."""
    big = [abs(v) for v in values if v is not None and not pd.isna(v)]
    return 0 if big and max(big) >= 100 and unit not in ("%",) else 1


def view_title(board: Board, key: str) -> str:
    if key == "overview":
        return "营商环境总览"
    if key in SOURCE_VIEWS:
        return SOURCE_VIEWS[key][0]
    dk = key.removeprefix(DOMAIN_PREFIX)
    match = board.domains[board.domains["domain_key"] == dk]
    return str(match["label_zh"].iloc[0]) if not match.empty else dk


def view_data(board: Board, key: str) -> ViewData:
    """The content of one view for the board's period."""
    if key == "overview":
        return _overview(board)
    if key in SOURCE_VIEWS:
        title, source, rank_key = SOURCE_VIEWS[key]
        ind = board.indicators[board.indicators["source"] == source]
        return _indicator_view(board, key, title, ind, rank_key=rank_key)
    dk = key.removeprefix(DOMAIN_PREFIX)
    ind = board.indicators[board.indicators["domain_key"] == dk]
    return _indicator_view(board, key, view_title(board, key), ind, domain_key=dk)


def _rank_rows(frame: pd.DataFrame, board: Board, value_col: str, unit: str, decimals: int,
               delta_col: str) -> list[RankRow]:
    names = dict(zip(board.districts["district_code"], board.districts["name"]))
    frame = frame.sort_values(["rank", "district_code"], na_position="last")
    return [
        RankRow(
            name=names.get(r.district_code, r.district_name or r.district_code),
            value=_num(getattr(r, value_col)), unit=unit, decimals=decimals,
            rank=_int(r.rank), rank_change=_int(r.rank_change), delta=_num(getattr(r, delta_col)),
            good=_good(r.trend_qoq), rag=r.rag if isinstance(r.rag, str) else None,
        )
        for r in frame.itertuples()
    ]


def _honours(rows: list[RankRow]) -> tuple[list[RankRow], list[RankRow]]:
    """骏马榜: the three that improved most; 蜗牛榜: the three that fell most (direction-aware)."""
    moved = [r for r in rows if r.delta is not None and r.good is not None]
    horses = sorted((r for r in moved if r.good), key=lambda r: -abs(r.delta))[:3]
    snails = sorted((r for r in moved if not r.good), key=lambda r: -abs(r.delta))[:3]
    return horses, snails


def _alerts(board: Board, ind: pd.DataFrame) -> list[Alert]:
    names = dict(zip(board.districts["district_code"], board.districts["name"]))
    order = {k: i for i, k in enumerate(board.domain_keys)}
    red = ind[(ind["period"] == board.period) & (~ind["is_city"]) & (ind["rag"] == "red")].copy()
    red["d_order"] = red["domain_key"].map(lambda k: order.get(k, 999))
    red["x_order"] = red["district_code"].map(
        dict(zip(board.districts["district_code"], range(len(board.districts))))
    )
    red = red.sort_values(["d_order", "indicator_key", "x_order"])
    return [
        Alert(names.get(r.district_code, r.district_name or ""), str(r.label_zh), _num(r.value),
              r.unit or "", _decimals(r.unit, [r.value]), _num(r.warn))
        for r in red.itertuples()
    ]


def _city_counter(ind: pd.DataFrame, period: str, key: str) -> Counter | None:
    row = ind[(ind["period"] == period) & ind["is_city"] & (ind["indicator_key"] == key)]
    if row.empty:
        return None
    r = row.iloc[0]
    return Counter(str(r["label_zh"]), _num(r["value"]), r["unit"] or "", _decimals(r["unit"], [r["value"]]),
                   _num(r["value_qoq"]), _good(r["trend_qoq"]))


def _trend(frame: pd.DataFrame, period: str, value_col: str) -> list[tuple[str, float | None]]:
    window = list(reversed(_trend_window(period)[:N_TREND_QUARTERS]))
    values = dict(zip(frame["period"], frame[value_col]))
    return [(p, _num(values.get(p))) for p in window]


def _overview(board: Board) -> ViewData:
    p = board.period
    ov = board.overall[board.overall["period"] == p]
    city = ov[ov["is_city"]]
    counters: list[Counter] = []
    if not city.empty:
        c = city.iloc[0]
        counters.append(Counter("综合指数", _num(c["score"]), "", 1, _num(c["score_qoq"]),
                                _good(c["trend_qoq"])))
    for key in board.headline:
        counter = _city_counter(board.indicators, p, key)
        if counter:
            counters.append(counter)
    if p in board.approvals_count:
        now_n = board.approvals_count[p]
        prev_n = board.approvals_count.get(previous_quarter(p))
        delta = None if prev_n is None else float(now_n - prev_n)
        counters.append(Counter("季度办件量", float(now_n), "件", 0, delta,
                                None if not delta else delta > 0))
    ranking = _rank_rows(ov[~ov["is_city"]], board, "score", "", 1, "score_qoq")
    horses, snails = _honours(ranking)
    ds = board.domain_scores[(board.domain_scores["period"] == p) & (~board.domain_scores["is_city"])]
    cells = {(r.district_code, r.domain_key): (_num(r.score), r.rag if isinstance(r.rag, str) else None)
             for r in ds.itertuples()}
    rows = [(d.name, [cells.get((d.district_code, k), (None, None)) for k in board.domain_keys])
            for d in board.districts.itertuples()]
    city_series = board.overall[board.overall["is_city"]]
    return ViewData(
        key="overview", title=view_title(board, "overview"), counters=counters,
        ranking_title="区县综合排名", ranking=ranking,
        grid_title="区县 × 指标领域得分", grid_columns=list(board.domains["label_zh"]),
        grid_rows=rows, grid_decimals=[0] * len(board.domain_keys),
        trend_title="全市综合指数 · 近八季度", trend=_trend(city_series, p, "score"), trend_unit="",
        horses=horses, snails=snails, alerts=_alerts(board, board.indicators),
    )


def _indicator_view(board: Board, key: str, title: str, ind: pd.DataFrame, *,
                    rank_key: str | None = None, domain_key: str | None = None) -> ViewData:
    p = board.period
    now_rows = ind[ind["period"] == p]
    catalogue = (now_rows.drop_duplicates("indicator_key")[["indicator_key", "label_zh", "unit"]]
                 if not now_rows.empty else pd.DataFrame(columns=["indicator_key", "label_zh", "unit"]))
    # headline indicators first, then the rest in key order — stable from quarter to quarter
    head = {k: i for i, k in enumerate(board.headline)}
    catalogue = catalogue.assign(o=catalogue["indicator_key"].map(lambda k: head.get(k, 99)))
    catalogue = catalogue.sort_values(["o", "indicator_key"])
    counters: list[Counter] = []
    if domain_key is not None:
        ds = board.domain_scores[(board.domain_scores["domain_key"] == domain_key)]
        city = ds[(ds["period"] == p) & ds["is_city"]]
        if not city.empty:
            c = city.iloc[0]
            counters.append(Counter("领域得分", _num(c["score"]), "", 1, _num(c["score_qoq"]),
                                    _good(c["trend_qoq"])))
    for k in catalogue["indicator_key"]:
        counter = _city_counter(ind, p, k)
        if counter and len(counters) < MAX_COUNTERS:
            counters.append(counter)
    if domain_key is not None:
        ranked = ds[(ds["period"] == p) & (~ds["is_city"])]
        ranking = _rank_rows(ranked, board, "score", "", 1, "score_qoq")
        ranking_title = "区县排名 · 领域得分"
        trend_frame, trend_col, trend_unit = ds[ds["is_city"]], "score", ""
        trend_title = "全市领域得分 · 近八季度"
    else:
        rank_key = rank_key if rank_key in set(catalogue["indicator_key"]) else (
            catalogue["indicator_key"].iloc[0] if not catalogue.empty else None)
        sel = now_rows[(now_rows["indicator_key"] == rank_key) & (~now_rows["is_city"])]
        unit = str(sel["unit"].iloc[0] or "") if not sel.empty else ""
        label = str(sel["label_zh"].iloc[0]) if not sel.empty else ""
        ranking = _rank_rows(sel, board, "value", unit, _decimals(unit, list(sel["value"])), "value_qoq")
        ranking_title = f"区县排名 · {label}"
        trend_frame = ind[ind["is_city"] & (ind["indicator_key"] == rank_key)]
        trend_col, trend_unit = "value", unit
        trend_title = f"全市{label} · 近八季度"
    horses, snails = _honours(ranking)
    cells = {(r.district_code, r.indicator_key): (_num(r.value), r.rag if isinstance(r.rag, str) else None)
             for r in now_rows[~now_rows["is_city"]].itertuples()}
    n_indicators = len(catalogue)
    keys = list(catalogue["indicator_key"])[:MAX_GRID_INDICATORS]
    catalogue = catalogue.head(MAX_GRID_INDICATORS)
    col_decimals = [_decimals(u, list(now_rows.loc[now_rows["indicator_key"] == k, "value"]))
                    for k, u in zip(keys, catalogue["unit"])]
    rows = [(d.name, [cells.get((d.district_code, k), (None, None)) for k in keys])
            for d in board.districts.itertuples()]
    columns = [f"{lab}（{u}）" if u else str(lab) for lab, u in zip(catalogue["label_zh"], catalogue["unit"])]
    return ViewData(
        key=key, title=title, counters=counters, ranking_title=ranking_title, ranking=ranking,
        grid_title="区县 × 指标" + (f"（{MAX_GRID_INDICATORS}/{n_indicators} 项）"
                                   if n_indicators > MAX_GRID_INDICATORS else ""),
        grid_columns=columns, grid_rows=rows,
        grid_decimals=col_decimals,
        trend_title=trend_title, trend=_trend(trend_frame, p, trend_col), trend_unit=trend_unit,
        horses=horses, snails=snails, alerts=_alerts(board, ind),
    )
