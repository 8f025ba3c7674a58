"""The one door to DuckDB: every connection in bizenv is opened here.

Layout of a data dir (see DESIGN.md, "snapshot pattern"):

    warehouse.duckdb          written by the ETL process only
    snapshots/<name>.duckdb   immutable copies the app reads
    CURRENT                   one line: the file name of the live snapshot

DuckDB allows one read-write process or many read-only ones on a file, never both, so the ETL
writes the warehouse, copies it to a new snapshot file and switches CURRENT with os.replace;
the app opens whatever CURRENT names, read-only, and notices a new name on its next run.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import shutil
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path

import duckdb

from kpi import settings

log = logging.getLogger(__name__)

KEEP_SNAPSHOTS = 5
# What publish_snapshot names its files; CURRENT may name nothing else (no path, no "..").
SNAPSHOT_NAME = re.compile(r"snapshot-[0-9A-Za-z_-]+\.duckdb")
DataDirLike = settings.DataDir | Path | str | None


class SnapshotMissing(RuntimeError):
    """No snapshot has been published yet in this data dir (运行 bizenv load 或 bizenv sample --load)."""


def warehouse_path(data_dir: DataDirLike = None) -> Path:
    return settings.DataDir.of(data_dir).warehouse


def connect_warehouse(data_dir: DataDirLike = None) -> duckdb.DuckDBPyConnection:
    """Read-write connection to the warehouse; only the ETL (and `bizenv build`) call this."""
    path = warehouse_path(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    return duckdb.connect(str(path))


def connect_warehouse_readonly(data_dir: DataDirLike = None) -> duckdb.DuckDBPyConnection:
    """Read-only look into the warehouse (bizenv status: loads not published yet). Fails with
    duckdb.IOException while a writer holds it."""
    return duckdb.connect(str(warehouse_path(data_dir)), read_only=True)


def connect_memory() -> duckdb.DuckDBPyConnection:
    """An in-memory database, for tests, validation (EXPLAIN) and scratch work."""
    return duckdb.connect(":memory:")


def current_snapshot_path(data_dir: DataDirLike = None) -> Path | None:
    """The snapshot file CURRENT points at, or None when nothing has been published.

    CURRENT can only name a snapshot file inside snapshots/: garbage, a path or a missing file
    counts as no pointer (readable_snapshot then falls back to the newest readable snapshot)."""
    dd = settings.DataDir.of(data_dir)
    name = _pointer_name(dd)
    if name is None:
        return None
    path = dd.snapshots / name
    return path if path.is_file() else None


def _pointer_name(dd: settings.DataDir) -> str | None:
    try:
        raw = dd.pointer.read_bytes()[:200]
    except OSError:
        return None
    name = raw.decode("utf-8", errors="replace").strip()
    return name if SNAPSHOT_NAME.fullmatch(name) else None


@dataclass(frozen=True)
class LiveSnapshot:
    """The snapshot the app should read, and — when it is not the one CURRENT names — why."""

    path: Path | None
    problem: str | None = None  # Chinese, for the page; never a server path


def readable_snapshot(data_dir: DataDirLike = None) -> LiveSnapshot:
    """CURRENT's snapshot if it opens; else the newest snapshot that does, with the reason.

    A deleted, truncated or garbled file, or a CURRENT that holds garbage, must never take the
    pages down (nor send the app into the first-run demo): the last good data stays on screen."""
    dd = settings.DataDir.of(data_dir)
    current = current_snapshot_path(dd)
    if current is not None and _opens(current):
        return LiveSnapshot(current)
    if not dd.pointer.exists() and not _snapshot_files(dd):
        return LiveSnapshot(None)  # nothing published yet: the first run, not a fault
    if current is not None:
        problem = f"当前数据快照 {current.name} 无法读取（文件已损坏）"
    elif _pointer_name(dd) is not None:
        problem = f"当前数据快照 {_pointer_name(dd)} 已不存在"
    else:
        problem = "快照指针文件 CURRENT 缺失或内容无效"
    for candidate in reversed(_snapshot_files(dd)):
        if candidate != current and _opens(candidate):
            return LiveSnapshot(
                candidate,
                f"{problem}，暂时显示上一个可用快照 {candidate.name}。"
                "请在服务器上运行 bizenv build 重新计算并发布数据快照。",
            )
    return LiveSnapshot(
        None, f"{problem}，也没有其他可读的数据快照。请在服务器上运行 bizenv build 重新发布。"
    )


def _snapshot_files(dd: settings.DataDir) -> list[Path]:
    """Published snapshot files, oldest first: by the time written into the name (to the
    second), then by modification time for two published within the same second."""

    def order(p: Path) -> tuple[str, int]:
        try:
            return p.name[:24], p.stat().st_mtime_ns
        except OSError:
            return p.name[:24], 0

    try:
        files = [p for p in dd.snapshots.iterdir() if SNAPSHOT_NAME.fullmatch(p.name)]
    except OSError:
        return []
    return sorted(files, key=order)


_OPENS: dict[tuple[str, int, int], bool] = {}
_OPENS_LOCK = threading.Lock()


def _opens(path: Path) -> bool:
    """Whether DuckDB can open the file read-only and list its tables (memoised per file
    version: a snapshot never changes once published, so the check runs once per file)."""
    try:
        st = path.stat()
    except OSError:
        return False
    key = (str(path), st.st_mtime_ns, st.st_size)
    with _OPENS_LOCK:
        if key in _OPENS:
            return _OPENS[key]
    try:
        con = duckdb.connect(str(path), read_only=True)
        try:
            con.execute("SELECT count(*) FROM duckdb_tables()").fetchone()
            ok = True
        finally:
            con.close()
    except (duckdb.Error, OSError) as err:
        ok = False
        # Once per file version (memoised below): enough to diagnose a kiosk that fell back.
        log.warning("snapshot %s could not be opened: %s: %s", path.name, type(err).__name__, err)
    with _OPENS_LOCK:
        if len(_OPENS) > 256:
            _OPENS.clear()
        _OPENS[key] = ok
    return ok


def needs_first_run(data_dir: DataDirLike = None) -> bool:
    """True only for a data dir with no warehouse and no snapshot at all: the one case in which
    the app may generate the demo. A warehouse without a readable snapshot is real data to
    rebuild (bizenv build), never a place to load the demo into."""
    dd = settings.DataDir.of(data_dir)
    return not dd.warehouse.exists() and not dd.pointer.exists() and not _snapshot_files(dd)


def connect_snapshot(
    path: Path | None = None, data_dir: DataDirLike = None
) -> duckdb.DuckDBPyConnection:
    """Read-only connection to a snapshot (the current one unless `path` is given)."""
    path = path or readable_snapshot(data_dir).path
    if path is None:
        raise SnapshotMissing(
            "尚未发布任何数据快照：请先运行 bizenv load（或 bizenv sample --load 生成并导入演示数据）。"
        )
    return duckdb.connect(str(path), read_only=True)


def publish_snapshot(data_dir: DataDirLike = None) -> Path:
    """Copy the (closed, checkpointed) warehouse to a new snapshot and switch CURRENT atomically.

    The caller must have closed its warehouse connection: the copy is of the file on disk.
    A failure before os.replace leaves the previous snapshot live.
    """
    dd = settings.DataDir.of(data_dir)
    snap_dir = dd.snapshots
    snap_dir.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%dT%H%M%S")
    name = f"snapshot-{stamp}-{uuid.uuid4().hex[:6]}.duckdb"
    tmp = snap_dir / (name + ".tmp")
    # Copies left by a publish that was killed mid-copy (the one writer is us now): never read,
    # never pruned otherwise, and as large as the warehouse.
    for stale in snap_dir.glob("snapshot-*.duckdb.tmp"):
        stale.unlink(missing_ok=True)
    shutil.copyfile(dd.warehouse, tmp)
    os.replace(tmp, snap_dir / name)
    pointer_tmp = dd.pointer.with_name(dd.pointer.name + ".tmp")
    pointer_tmp.write_text(name + "\n", encoding="utf-8")
    os.replace(pointer_tmp, dd.pointer)
    prune_snapshots(dd)
    return snap_dir / name


def prune_snapshots(data_dir: DataDirLike, keep: int = KEEP_SNAPSHOTS) -> None:
    """Delete all but the newest `keep` snapshots; never the live one.

    On POSIX a reader that still holds a pruned file open keeps reading it (the inode lives on).
    """
    dd = settings.DataDir.of(data_dir)
    live = current_snapshot_path(dd)
    snaps = _snapshot_files(dd)
    for old in snaps[:-keep]:
        if live is None or old != live:
            old.unlink(missing_ok=True)
