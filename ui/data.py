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


# Queries that read record-level rows: they always run with the signed-in reader's scope.
RECORD_QUERIES = frozenset({"records", "records_count"})


def record_scope(source: str):
    """The rows of `source` the signed-in reader may see (office.roles.Scope.records); none
    when nobody is signed in."""
    from kpi.read import scope as rs
    from ui import auth

    who = auth.scope()
    return who.records(spec(), source) if who is not None else rs.NOTHING


class Snapshot:
    """`Snapshot(path).overall("2026Q3")` → the cached result of `kpi.read.queries.overall(cur, "2026Q3")`.

    Record queries (RECORD_QUERIES) get the signed-in reader's scope put in by force — a page
    cannot forget it or pass a wider one."""

    def __init__(self, path: str):
        self.path = path

    def __getattr__(self, name: str):
        if name.startswith("_") or not callable(getattr(queries, name, None)):
            raise AttributeError(name)

        def call(*args, **kwargs):
            if name in RECORD_QUERIES:
                source = args[0] if args else kwargs["source"]
                kwargs["scope"] = record_scope(source)
            return _run(self.path, name, args, tuple(sorted(kwargs.items())))

        return call


def all_records(path: str, source: str, limit: int, **kwargs):
    """A callable returning every record of the filtered set (up to `limit`) for a download —
    with the reader's scope taken now, since Streamlit runs it later, outside the page's run."""
    scope = record_scope(source)

    def run():
        con = store.connect_snapshot(Path(path))
        try:
            return queries.records(con, source, limit=limit, scope=scope, **kwargs)
        finally:
            con.close()

    return run


def district_names() -> dict[str, str]:
    """district_code → name in the live snapshot ({} without one)."""
    path = snapshot_path()
    if path is None:
        return {}
    d = Snapshot(path).districts()
    return dict(zip(d["district_code"], d["district_name"], strict=True))


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
