"""一屏通览: one snapshot read into memory (`Board`), and the cache that keeps the last good one.

A snapshot is read once into small frames; every view is sliced from those (kpi.led.views), so a
snapshot that disappears or breaks later does not take the screen down: `BoardCache` keeps the
last good board and says what went wrong, for the screen to show as a notice.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from kpi import settings, store
from kpi.led.rotation import (
    DEFAULT_HEADLINE,
    TZ,
    display_period,
    now_local,
    quarter_of,
    trend_window,
)
from kpi.led.views import ViewData, view_data


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
    demo: bool = False  # the snapshot holds 演示数据 (snapshot_meta `demo`, kpi.demo)
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
        window = trend_window(period)
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
                f"SELECT period, count(*) FROM approvals WHERE {in_window} GROUP BY period",
                [window],
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
        demo=meta.get("demo") == "true",
    )


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
        self._checked: dict[
            str, tuple[float, str, str | None]
        ] = {}  # root → (monotonic, quarter, problem)
        self._lock = threading.Lock()  # several screens (sessions) share one cache

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
