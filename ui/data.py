"""Cached access to `kpi.read.queries` for the pages, keyed by the snapshot file and the arguments.

A snapshot file never changes once published, so a frame computed from it is valid for as long as
the file exists: the cache key is (snapshot path, query name, arguments). When the ETL publishes a
new snapshot, CURRENT names a new file, the key changes, and the next run reads fresh data.
One read-only connection per snapshot file (cached as a resource); every query gets its own cursor.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from kpi import logs, store
from kpi.read import queries
from kpi.settings import DataDir


def data_dir() -> DataDir:
    """The app's data dir (BIZENV_DATA_DIR or the default), resolved here and only here for the
    app; the log of that data dir is set up on the way."""
    dd = DataDir.of()
    logs.setup(dd)
    return dd


def live_snapshot() -> store.LiveSnapshot:
    """The snapshot to read on this run (CURRENT's, or the newest readable one) and why not
    CURRENT's when it isn't."""
    return store.readable_snapshot(data_dir())


def snapshot_path() -> str | None:
    """The live snapshot's path (read from CURRENT on every run), or None."""
    path = live_snapshot().path
    return str(path) if path else None


@st.cache_resource(max_entries=4, show_spinner=False)
def _connection(path: str):
    return store.connect_snapshot(Path(path))


@st.cache_data(max_entries=1024, show_spinner=False)
def _run(path: str, name: str, args: tuple, kwargs: tuple):
    cur = _connection(path).cursor()
    try:
        return getattr(queries, name)(cur, *args, **dict(kwargs))
    finally:
        cur.close()


class Snapshot:
    """`Snapshot(path).overall("2026Q3")` → the cached result of `kpi.read.queries.overall(cur, "2026Q3")`."""

    def __init__(self, path: str):
        self.path = path

    def __getattr__(self, name: str):
        if name.startswith("_") or not callable(getattr(queries, name, None)):
            raise AttributeError(name)

        def call(*args, **kwargs):
            return _run(self.path, name, args, tuple(sorted(kwargs.items())))

        return call


def domain_short_names() -> dict[str, str]:
    """domain_key → short name from the live snapshot (catalogue domains.csv; {} without one)."""
    path = snapshot_path()
    if path is None:
        return {}
    d = Snapshot(path).domains()
    return dict(zip(d["domain_key"], d["short_name"], strict=True))


def _metrics_file() -> tuple[str, float]:
    from kpi import settings

    path = settings.metrics_path()
    try:
        return str(path), path.stat().st_mtime
    except FileNotFoundError:
        return str(path), 0.0


@st.cache_resource(max_entries=4, show_spinner=False)
def _load_spec(path: str, mtime: float, check_sql: bool):
    """(spec or None, problems): metrics.yaml through kpi.spec; a broken spec never breaks a page."""
    try:
        from kpi.spec import load as spec_mod
    except ImportError:
        return None, ["kpi.spec 尚不可用"]
    from kpi.errors import BizenvError

    try:
        return spec_mod.load_spec(path, check_sql=check_sql), []
    except BizenvError as err:
        return None, list(getattr(err, "problems", None) or [str(err)])


def spec():
    """The metrics.yaml models (kpi.spec), reloaded when the file changes; None if invalid."""
    return _load_spec(*_metrics_file(), False)[0]


def spec_status() -> tuple[str, list[str]]:
    """(metrics.yaml path, problems) with the full validation including SQL checks."""
    path, mtime = _metrics_file()
    return path, _load_spec(path, mtime, True)[1]
