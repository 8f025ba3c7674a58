"""撤销导入: take one load (or a job's loads) out of the warehouse, exactly.

What a load changed is all recorded: a row it inserted carries first_load_id = load_id = it; a
row it updated carries load_id = it, and the version it replaced was copied, at load time, into
`<source>_history` with replaced_by = it (etl.load.upsert). Undoing load L, per source table:

1. the rows whose current version L wrote are deleted;
2. the versions L replaced are put back from the history (and leave it);
3. L's quarantine rows, lineage rows and etl_runs row go (the run is kept as status 'undone');
4. the quarters touched are marked changed, so the next build rescans them; then the build
   publishes a new snapshot.

Nothing else changes. A load whose rows a later load changed again is not undone (the later one
first): else the later load's versions would be lost or resurrected.
"""

from __future__ import annotations

import logging

from kpi import settings, store
from kpi.errors import UserInputError
from kpi.schema import NATURAL_KEYS

log = logging.getLogger(__name__)
HISTORY_SUFFIX = "_history"


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _columns(con, table: str) -> list[str]:
    return [
        r[0]
        for r in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_catalog = current_database() "
            "AND table_name = ? AND table_schema = 'main' ORDER BY ordinal_position",
            [table],
        ).fetchall()
    ]


def ensure_history(con, source: str) -> str:
    """The history table of `source` (created, or given the columns the source gained)."""
    name = source + HISTORY_SUFFIX
    have = _columns(con, name)
    if not have:
        con.execute(
            f"CREATE TABLE {_q(name)} AS SELECT *, CAST(NULL AS VARCHAR) AS replaced_by "
            f"FROM {_q(source)} LIMIT 0"
        )
        return name
    types = dict(
        con.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_catalog = current_database() AND table_schema = 'main' AND table_name = ?",
            [source],
        ).fetchall()
    )
    for col, typ in types.items():
        if col not in have:
            con.execute(f"ALTER TABLE {_q(name)} ADD COLUMN {_q(col)} {typ}")
    return name


def has_history(con, source: str) -> bool:
    return source + HISTORY_SUFFIX in _tables(con)


def _tables(con) -> set[str]:
    return {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}


def blockers(con, load_ids: list[str]) -> list[str]:
    """Later loads that changed rows these loads wrote (they must be undone first)."""
    tables = _tables(con)
    later: set[str] = set()
    for source in NATURAL_KEYS:
        history = source + HISTORY_SUFFIX
        if history not in tables:
            continue
        later.update(
            r[0]
            for r in con.execute(
                f"SELECT DISTINCT replaced_by FROM {_q(history)} "
                "WHERE list_contains($ids, load_id) AND NOT list_contains($ids, replaced_by)",
                {"ids": load_ids},
            ).fetchall()
        )
    return sorted(later)


def undo_loads(data_dir, load_ids: list[str], progress=None) -> dict[str, dict[str, int]]:
    """Undo `load_ids` (one job's loads) in one warehouse transaction and publish a snapshot.
    Returns per source {"removed": …, "restored": …}. Takes the writer lock."""
    from etl import locks
    from kpi.engine import partials
    from kpi.engine.build import build_and_publish
    from kpi.engine.compile import TRANSACTION_SOURCES

    progress = progress or (lambda f, t: None)
    root = settings.DataDir.of(data_dir)
    if not load_ids:
        raise UserInputError("这个任务没有写入任何数据，无需撤销。")
    result: dict[str, dict[str, int]] = {}
    with locks.writer(root):
        con = store.connect_memory()
        try:
            path = str(store.warehouse_path(root)).replace("'", "''")
            con.execute(f"ATTACH '{path}' AS wh")
            con.execute("USE wh")
            known = {
                r[0]
                for r in con.execute(
                    "SELECT load_id FROM etl_runs WHERE list_contains($ids, load_id) "
                    "AND status <> 'undone'",
                    {"ids": load_ids},
                ).fetchall()
            }
            if not known:
                raise UserInputError("这次导入已经撤销过了（或数据仓库中没有它的记录）。")
            later = blockers(con, load_ids)
            if later:
                files = [
                    r[0]
                    for r in con.execute(
                        "SELECT file_name FROM etl_runs WHERE list_contains($ids, load_id) ORDER BY started_at",
                        {"ids": later},
                    ).fetchall()
                ]
                raise UserInputError(
                    "这次导入写入的部分记录后来又被其他导入更新了（"
                    + "、".join(files or later)
                    + "）。请先撤销那些较晚的导入，再撤销这一次。"
                )
            tables = _tables(con)
            progress(0.1, "撤销写入的记录")
            con.execute("BEGIN TRANSACTION")
            try:
                for source, keys in NATURAL_KEYS.items():
                    if source not in tables:
                        continue
                    history = source + HISTORY_SUFFIX
                    has_history = history in tables
                    ids = {"ids": load_ids}
                    touched = f"SELECT period FROM {_q(source)} WHERE list_contains($ids, load_id)"
                    if "due_period" in _columns(con, source):
                        touched += f" UNION ALL SELECT due_period FROM {_q(source)} WHERE list_contains($ids, load_id)"
                    if has_history:
                        touched += f" UNION ALL SELECT period FROM {_q(history)} WHERE list_contains($ids, replaced_by)"
                    [(removed,)] = con.execute(
                        f"SELECT count(*) FROM {_q(source)} WHERE list_contains($ids, load_id)", ids
                    ).fetchall()
                    restored = 0
                    if has_history:
                        [(restored,)] = con.execute(
                            f"SELECT count(*) FROM {_q(history)} WHERE list_contains($ids, replaced_by) "
                            "AND NOT list_contains($ids, load_id)",
                            ids,
                        ).fetchall()
                    if not removed and not restored:
                        continue
                    if source in TRANSACTION_SOURCES:
                        # the quarters before the change: the rows are still there to be read
                        partials.mark_changed(
                            con,
                            source,
                            touched,
                            ids,
                            inserted=restored,
                            removed=removed,
                        )
                    if restored:
                        # the version before these loads, back in place by key (an UPDATE, not
                        # a delete and re-insert of the same key in one transaction)
                        content = [c for c in _columns(con, source) if c not in keys]
                        on = " AND ".join(f"t.{_q(k)} = h.{_q(k)}" for k in keys)
                        sets = ", ".join(f"{_q(c)} = h.{_q(c)}" for c in content)
                        con.execute(
                            f"""UPDATE {_q(source)} AS t SET {sets}
                                FROM (SELECT * FROM {_q(history)} WHERE list_contains($ids, replaced_by)
                                      AND NOT list_contains($ids, load_id)) h
                                WHERE {on}""",
                            ids,
                        )
                        con.execute(
                            f"DELETE FROM {_q(history)} WHERE list_contains($ids, replaced_by)", ids
                        )
                    # what is left with these loads' id: the rows they inserted
                    con.execute(f"DELETE FROM {_q(source)} WHERE list_contains($ids, load_id)", ids)
                    result[source] = {"removed": int(removed), "restored": int(restored)}
                for table in ("quarantine", "lineage"):
                    if table in tables:
                        con.execute(
                            f"DELETE FROM {table} WHERE list_contains($ids, load_id)",
                            {"ids": load_ids},
                        )
                con.execute(
                    "UPDATE etl_runs SET status = 'undone' WHERE list_contains($ids, load_id)",
                    {"ids": load_ids},
                )
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("USE memory")
            con.execute("DETACH wh")
        finally:
            con.close()
        progress(0.6, "计算评分并发布快照")
        build_and_publish(root)
        from office.tracking.tasks import after_build

        after_build(root)  # the undone figures may close tasks, or raise new ones
    progress(1.0, "完成")
    return result
