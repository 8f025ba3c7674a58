"""一屏通览: one snapshot read into memory (`Board`), and the cache that keeps the last good one.

A snapshot is read once into small frames; every view is sliced from those (kpi.led.views), so a
snapshot that disappears or breaks later does not take the screen down: `BoardCache` keeps the
last good board and says what went wrong, for the screen to show as a notice.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from kpi import geo, settings, store
from kpi.led import live
from kpi.led.rotation import (
    TZ,
    display_period,
    now_local,
    quarter_of,
    trend_window,
    view_keys,
)
from kpi.led.views import ViewData, view_data
from kpi.read import queries

log = logging.getLogger(__name__)


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
    period_partial: bool = False  # the period shown is still in progress (no complete one yet)
    demo: bool = False  # the snapshot holds 演示数据 (snapshot_meta `demo`, kpi.demo)
    # 挂图作战 (kpi.led.mapview): the catalogue's district boundaries, or why there are none
    boundaries: geo.MapLoad = field(default_factory=lambda: geo.MapLoad(None, None))
    # per-district open 清障 problems / 督办 tasks (kpi.led.mapview.COUNT_COLUMNS); None: not shown
    map_counts: pd.DataFrame | None = None
    recent: list[live.Recent] = field(default_factory=list)  # 近30天 strip (kpi.led.live)
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

    def view_keys(self, selected: tuple[str, ...] = ()) -> list[str]:
        """The rotation (kpi.led.rotation.view_keys) without the views that have nothing to show
        for the period (e.g. a domain whose 部门填报 is not loaded yet); may be empty."""
        return [k for k in view_keys(self.domain_keys, selected) if self.view(k).has_data]


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


def load_board(snapshot: Path, now: dt.datetime) -> Board:
    """Read what the screen needs from one snapshot (read-only), for the period due at `now`."""
    con = store.connect_snapshot(snapshot)
    try:
        meta = queries.meta(con)
        headline = tuple(queries.headline_keys(con))
        order = queries.domain_order(con)
        periods = con.execute("SELECT period, is_partial FROM periods ORDER BY period").df()
        partial = dict(zip(periods["period"], periods["is_partial"].astype(bool), strict=True))
        period = display_period(periods, now)
        window = trend_window(period)
        in_window = "period IN (SELECT unnest(?::VARCHAR[]))"
        indicators = con.execute(
            f"""SELECT period, is_partial, district_code, district_name, is_city, domain_key,
                       indicator_key, label_zh, unit, direction, source, value, value_qoq, scored,
                       suppressed_reason, score, rank, rank_change, score_qoq, trend_qoq, rag, warn
                FROM indicator_scores WHERE {in_window}""",
            [window],
        ).df()
        domain_scores = con.execute(
            f"""SELECT period, district_code, district_name, is_city, domain_id, domain_key, label_zh,
                       score, suppressed_reason, rank, rank_change, score_qoq, trend_qoq, rag
                FROM domain_scores WHERE {in_window}""",
            [window],
        ).df()
        overall = con.execute(
            f"""SELECT period, is_partial, district_code, district_name, is_city, score, rank,
                       rank_change, score_qoq, trend_qoq, rag, n_red, n_domains_scored
                FROM overall_scores WHERE {in_window}""",
            [window],
        ).df()
        counts = dict(
            con.execute(
                f"SELECT period, count(*) FROM approvals WHERE {in_window} GROUP BY period",
                [window],
            ).fetchall()
        )
        districts = con.execute(
            """SELECT district_code, coalesce(short_name, district_name) AS name, district_name,
                      level, sort_order FROM districts ORDER BY sort_order, district_code"""
        ).df()
        has_domains = con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'domains'"
        ).fetchone() != (0,)
        domain_catalog = (
            con.execute(
                "SELECT domain_key, short_name FROM domains ORDER BY sort_order, domain_key"
            ).df()
            if has_domains
            else pd.DataFrame()
        )
    finally:
        con.close()
    domains = _domain_catalog(domain_scores, order, domain_catalog)
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
        headline=headline,
        period_partial=bool(partial.get(period, False)),
        demo=meta.get("demo") == "true",
        boundaries=geo.load(
            districts[districts["level"] != "city"].to_dict("records"),
            city_code=meta.get("city_code"),
        ),
        recent=live.from_meta(meta),
    )


def _domain_catalog(
    domain_scores: pd.DataFrame, order: list[str], catalog: pd.DataFrame
) -> pd.DataFrame:
    """Domains in the snapshot's order (metrics.yaml at build; an older snapshot without it: by
    domain_id, D01 … D18, as the desk pages), limited to those the marts hold, with the
    catalogue's short names (the snapshot's domains table; the label where it has none)."""
    rank = {k: i for i, k in enumerate(order)}
    shorts = (
        dict(zip(catalog["domain_key"], catalog["short_name"], strict=True))
        if not catalog.empty
        else {}
    )
    present = domain_scores[["domain_id", "domain_key", "label_zh"]].drop_duplicates("domain_key")
    present = present.assign(
        sort_order=present["domain_key"].map(lambda k: rank.get(k, 999)),
        short_name=[
            s if isinstance(s, str) and s else lab
            for s, lab in zip(present["domain_key"].map(shorts), present["label_zh"], strict=True)
        ],
    )
    present = present.sort_values(["sort_order", "domain_id", "domain_key"])
    return present[["domain_key", "label_zh", "sort_order", "short_name"]].reset_index(drop=True)


class BoardCache:
    """The last good board per data dir: reread only when CURRENT or the due quarter changes.

    CURRENT is looked at no more often than every `refresh` seconds (and at once when the quarter
    due at `now` changes); a missing or unreadable snapshot leaves the last good board in place.
    """

    def __init__(self) -> None:
        self._boards: dict[str, tuple[tuple, Board]] = {}
        self._checked: dict[
            str, tuple[float, str, str | None]
        ] = {}  # root → (monotonic, quarter, problem)
        self._lock = threading.Lock()  # several screens (sessions) share one cache
        self._logged: dict[str, str] = {}  # root → the failure last written to the log

    def get(
        self, now: dt.datetime, data_dir: settings.DataDir | None = None, refresh: float = 0.0
    ) -> tuple[Board | None, str | None]:
        """(board, problem): the current board, or the last good one with a Chinese notice."""
        data_dir = settings.DataDir.of(data_dir)
        root = str(data_dir.root)
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

    def _load(
        self, root: str, held, now: dt.datetime, data_dir: settings.DataDir
    ) -> tuple[Board | None, str | None]:
        try:
            live = store.readable_snapshot(data_dir)
            if live.path is None:
                raise store.SnapshotMissing(live.problem or "尚未发布数据快照")
            snapshot = live.path
            # Shown on screen while an older snapshot stands in for CURRENT's broken one.
            notice = _fallback_text(live.problem) if live.problem else None
            if live.problem:
                self._log(root, RuntimeError(live.problem))
            key = (str(snapshot), snapshot.stat().st_mtime_ns, quarter_of(now.date()))
            if held is not None and held[0] == key:
                return held[1], notice
            board = load_board(snapshot, now)
        except Exception as exc:  # noqa: BLE001 — any failure keeps the last good data on screen
            self._log(root, exc)
            if held is None:
                return None, _problem_text(exc)
            return held[1], _problem_text(exc)
        self._logged.pop(root, None)
        self._boards[root] = (key, board)
        return board, notice

    def _log(self, root: str, exc: Exception) -> None:
        """The failure into the data dir's log — once while it lasts, not on every refresh."""
        text = f"{type(exc).__name__}: {exc}"
        if self._logged.get(root) == text:
            return
        self._logged[root] = text
        if isinstance(exc, store.SnapshotMissing | RuntimeError):
            log.warning("LED: %s (%s)", exc, root)
        else:
            log.exception(
                "LED: the snapshot in %s could not be read; keeping the last good data", root
            )


def _fallback_text(problem: str) -> str:
    return "数据快照读取失败" if "损坏" in problem else "未找到数据快照"


def _problem_text(exc: Exception) -> str:
    if isinstance(exc, store.SnapshotMissing):
        return _fallback_text(str(exc))
    return "数据快照读取失败"
