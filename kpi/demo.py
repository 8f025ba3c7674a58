"""演示数据 in the warehouse: the records the demo generator's files left there.

A load records in etl_runs.is_demo whether its file is one `bizenv sample` (or the first-run
bootstrap) wrote — etl.demo.is_demo_export checks the manifest.json beside it — and every record
carries the load_id of the load that wrote its current version. So "demo records" are the rows
whose load_id is a demo load: what `bizenv reset --demo` deletes, and what the build counts into
snapshot_meta (`demo`, `demo_records`, `other_records`) for the pages and the LED screen to say
演示数据 while any are left.
"""

from __future__ import annotations

import json

from kpi.schema import NATURAL_KEYS

SOURCES = tuple(NATURAL_KEYS)  # approvals, hotline, ratings, reports
DEMO_LOADS = "SELECT load_id FROM etl_runs WHERE is_demo"


def records(con) -> tuple[dict[str, int], int]:
    """(demo records per source, records of every other load) in the warehouse on `con`.

    Cheap in the usual cases: no demo load at all (nothing to count) and a warehouse of nothing
    but the demo (the table sizes); only a warehouse mixing both is scanned by load_id.
    """
    demo_runs, other_runs = con.execute(
        "SELECT count_if(is_demo), count_if(NOT coalesce(is_demo, FALSE) "
        "AND status IN ('ok', 'duplicate_file')) FROM etl_runs"
    ).fetchone()
    sizes = con.execute(
        "SELECT " + ", ".join(f'(SELECT count(*) FROM "{s}")' for s in SOURCES)
    ).fetchone()
    if not demo_runs:
        return dict.fromkeys(SOURCES, 0), sum(sizes)
    if not other_runs:
        return dict(zip(SOURCES, sizes, strict=True)), 0
    demo = con.execute(
        "SELECT "
        + ", ".join(
            f'(SELECT count(*) FROM "{s}" WHERE load_id IN ({DEMO_LOADS}))' for s in SOURCES
        )
    ).fetchone()
    return dict(zip(SOURCES, demo, strict=True)), sum(sizes) - sum(demo)


def meta_entries(con) -> dict[str, str]:
    """The snapshot_meta entries: demo (true/false), demo_records (JSON per source), other_records."""
    demo, other = records(con)
    return {
        "demo": "true" if any(demo.values()) else "false",
        "demo_records": json.dumps(demo),
        "other_records": str(other),
    }


def from_meta(meta: dict[str, str]) -> tuple[dict[str, int], int] | None:
    """(demo records per source, other records) from a snapshot's meta, or None: no demo in it."""
    if meta.get("demo") != "true":
        return None
    try:
        demo = {str(k): int(v) for k, v in json.loads(meta.get("demo_records") or "{}").items()}
        other = int(meta.get("other_records") or 0)
    except (ValueError, TypeError, AttributeError):
        demo, other = {}, 0
    return demo, other
