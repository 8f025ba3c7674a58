"""`bizenv build`: recompute the score marts in the warehouse and publish a new snapshot.

Order matters for the snapshot pattern: compute inside the warehouse, write snapshot_meta,
commit with a checkpoint and close, and only then copy the file (kpi.store.publish_snapshot) — a copy of an
open, un-checkpointed database could miss the WAL.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from pathlib import Path

import duckdb

from kpi import demo, matching, periods, settings, store
from kpi.engine.scoring import compute_marts
from kpi.led import live
from kpi.spec.load import load_spec
from kpi.spec.models import DEFAULT_HEADLINE


def build_marts(
    data_dir: store.DataDirLike = None,
    metrics_path: Path | None = None,
    *,
    now: dt.datetime | None = None,
    catalog_dir: Path | None = None,
    full: bool = False,
) -> dict:
    """Recompute the marts and snapshot_meta in the warehouse (no publish); returns the meta.

    Only quarters whose rows changed are rescanned unless `full` (see kpi.engine.partials)."""
    # Structure and rules are checked up front (SpecError before touching the warehouse); the
    # per-indicator EXPLAIN layer is skipped because the build runs the same SQL anyway — if it
    # fails, the full validation below turns the DuckDB error into the usual spec message.
    spec = load_spec(metrics_path, check_sql=False, catalog_dir=catalog_dir)
    now = now or periods.now_local()
    con = store.connect_warehouse(settings.DataDir.of(data_dir))
    try:
        con.execute("BEGIN TRANSACTION")
        # 事项 → 领域 again with the current catalogue: an edit of items.csv / item_rules.csv
        # needs a build, not a reload (kpi.matching; nothing to do when it has not changed)
        matching.rematch(con, catalog_dir)
        try:
            facts = compute_marts(con, spec, now=now, catalog=catalog_dir, full=full)
        except duckdb.Error:
            load_spec(
                metrics_path, catalog_dir=catalog_dir
            )  # raises SpecError naming the indicator, if the spec is at fault
            raise
        meta = {
            "built_at": now.replace(microsecond=0).isoformat(),
            "data_as_of": facts["data_as_of"].isoformat(sep=" ") if facts["data_as_of"] else "",
            "city_code": facts["city_code"],
            "city_name": facts["city_name"],
            "metrics_version": spec.version,
            "current_period": facts["current_period"],
            "latest_complete_period": facts["latest_complete_period"],
            # What the pages and the LED show first, as this spec said: read from the snapshot,
            # so a later edit of metrics.yaml never mixes with data scored under the old one.
            "headline": json.dumps(list(spec.headline or DEFAULT_HEADLINE), ensure_ascii=False),
            "domain_order": json.dumps([d.key for d in spec.domains], ensure_ascii=False),
            **demo.meta_entries(con),  # 演示数据 left in the warehouse (kpi.demo)
            **live.meta_entries(
                con, spec
            ),  # the LED's 近30天 strip, same definitions (kpi.led.live)
        }
        # One statement (executemany is a round trip per row: ~7 ms for these ten).
        con.execute(
            "INSERT OR REPLACE INTO snapshot_meta SELECT unnest($k), unnest($v)",
            {"k": list(meta), "v": list(meta.values())},
        )
        # A zero threshold makes the COMMIT checkpoint straight into the file instead of first
        # writing the marts to the WAL and then again at a CHECKPOINT (one write, not two).
        con.execute("SET checkpoint_threshold = '0b'")
        con.execute("COMMIT")
    except BaseException:
        with contextlib.suppress(duckdb.Error):  # no transaction open: the original error matters
            con.execute("ROLLBACK")
        raise
    finally:
        con.close()
    return {**meta, "scans": facts["scans"]}


def build_and_publish(
    data_dir: store.DataDirLike = None,
    metrics_path: Path | None = None,
    *,
    now: dt.datetime | None = None,
    catalog_dir: Path | None = None,
) -> Path:
    """Rebuild marts from the warehouse with metrics.yaml, then publish a snapshot; returns its path.

    `catalog_dir`: the catalogue the records were loaded with (bizenv load --catalog); the
    warehouse's own copy of it (districts) comes first, this is the fallback before any load."""
    dd = settings.DataDir.of(data_dir)  # resolved once: the build and its publish use one folder
    build_marts(dd, metrics_path, now=now, catalog_dir=catalog_dir)
    return store.publish_snapshot(dd)
