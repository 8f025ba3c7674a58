"""Removing the demo from the warehouse (`bizenv reset --demo`).

Demo records are those whose current version a demo load wrote (kpi.demo): they are deleted from
all four canonical tables, with the demo loads' quarantine, lineage and etl_runs rows, in one
transaction; the quarters they leave are marked changed for the next build
(kpi.engine.partials.mark_changed, with the rows removed), and a clean snapshot is published.
Records of real exports stay, also a demo record a real export later updated (its content is the
real one now). A real record a demo file overwrote is gone with the demo: its earlier content
was replaced at that load and is not kept anywhere.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path

import duckdb

from etl import locks, undo
from etl.demo import mark_earlier_loads
from kpi import demo, settings, store
from kpi.engine import partials
from kpi.engine.build import build_and_publish
from kpi.engine.compile import TRANSACTION_SOURCES
from kpi.schema import create_canonical


@dataclass
class Removed:
    records: dict[str, int]  # demo records deleted, per source
    loads: int  # demo loads (etl_runs rows) deleted
    quarantined: int  # their quarantine rows deleted
    kept: int  # records of other loads left in the warehouse
    snapshot: Path  # the snapshot published afterwards


def remove_demo(data_dir: store.DataDirLike = None) -> Removed | None:
    """Delete the demo records and publish a new snapshot; None when there is no demo to remove."""
    dd = settings.DataDir.of(data_dir)
    if not dd.warehouse.exists():
        return None
    with locks.writer(dd):  # a load or a build running meanwhile: wait for it
        return _remove_demo(dd)


def _remove_demo(dd: settings.DataDir) -> Removed | None:
    con = store.connect_warehouse(dd)
    try:
        create_canonical(con)
        mark_earlier_loads(con)
        [(loads,)] = con.execute("SELECT count(*) FROM etl_runs WHERE is_demo").fetchall()
        if not loads:
            return None
        con.execute("BEGIN TRANSACTION")
        try:
            records = {}
            for source in demo.SOURCES:
                where = f'FROM "{source}" WHERE load_id IN ({demo.DEMO_LOADS})'
                [(n,)] = con.execute(f"SELECT count(*) {where}").fetchall()
                if n and source in TRANSACTION_SOURCES:
                    due = (
                        f" UNION ALL SELECT due_period {where}"
                        if source in ("approvals", "hotline")
                        else ""
                    )
                    partials.mark_changed(con, source, f"SELECT period {where}{due}", removed=n)
                con.execute(f"DELETE {where}")
                records[source] = n
                if undo.has_history(con, source):  # the undo history forgets the demo too
                    con.execute(
                        f'DELETE FROM "{source}{undo.HISTORY_SUFFIX}" WHERE load_id IN '
                        f"({demo.DEMO_LOADS}) OR replaced_by IN ({demo.DEMO_LOADS})"
                    )
            [(quarantined,)] = con.execute(
                f"SELECT count(*) FROM quarantine WHERE load_id IN ({demo.DEMO_LOADS})"
            ).fetchall()
            con.execute(f"DELETE FROM quarantine WHERE load_id IN ({demo.DEMO_LOADS})")
            con.execute(f"DELETE FROM lineage WHERE load_id IN ({demo.DEMO_LOADS})")
            con.execute("DELETE FROM etl_runs WHERE is_demo")
            _, kept = demo.records(con)
            con.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(duckdb.Error):
                con.execute("ROLLBACK")
            raise
    finally:
        con.close()
    return Removed(records, loads, quarantined, kept, build_and_publish(dd))
