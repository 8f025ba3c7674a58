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
import os
import shutil
import uuid
from pathlib import Path

import duckdb

from kpi import settings

KEEP_SNAPSHOTS = 5
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


def connect_memory() -> duckdb.DuckDBPyConnection:
    """An in-memory database, for tests, validation (EXPLAIN) and scratch work."""
    return duckdb.connect(":memory:")


def current_snapshot_path(data_dir: DataDirLike = None) -> Path | None:
    """The snapshot file CURRENT points at, or None when nothing has been published."""
    dd = settings.DataDir.of(data_dir)
    try:
        name = dd.pointer.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    path = dd.snapshots / name
    return path if name and path.exists() else None


def connect_snapshot(
    path: Path | None = None, data_dir: DataDirLike = None
) -> duckdb.DuckDBPyConnection:
    """Read-only connection to a snapshot (the current one unless `path` is given)."""
    path = path or current_snapshot_path(data_dir)
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
    snaps = sorted(dd.snapshots.glob("snapshot-*.duckdb"), key=lambda p: p.name)
    for old in snaps[:-keep]:
        if live is None or old != live:
            old.unlink(missing_ok=True)
