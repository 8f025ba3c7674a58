"""`bizenv status`: what the dashboard currently shows — snapshot, loads, rows, quarantine."""

from __future__ import annotations

import argparse

from kpi import store
from kpi.schema import SOURCE_LABELS

HELP = "查看当前数据快照、导入记录、各来源各季度的记录数和隔离原因统计。"
EXAMPLE = "  bizenv status\n  bizenv status --data-dir data/其他城市"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", metavar="目录", help="数据目录（默认 data/warehouse/）")
    parser.add_argument(
        "--runs", type=int, default=10, metavar="次数", help="显示最近几次导入（默认 10）"
    )


def run(args: argparse.Namespace) -> int:
    path = store.current_snapshot_path(args.data_dir)
    if path is None:
        print(
            "尚未发布任何数据快照：请先运行 bizenv load 导入数据（或 bizenv sample --load 生成并导入演示数据）。"
        )
        return 0
    con = store.connect_snapshot(path)
    try:
        print(f"当前快照：{path.name}（{_snapshot_time(con, path)}）")
        _unpublished(args.data_dir, con)
        _demo(con)
        _runs(con, args.runs)
        _rows(con)
        _quarantine(con)
    finally:
        con.close()
    return 0


def _unpublished(data_dir, snapshot_con) -> None:
    """Loads the warehouse holds that the live snapshot does not (a --no-build load, or a
    publish that failed): the dashboard does not show them until `bizenv build`."""
    import duckdb

    if not _has(snapshot_con, "etl_runs"):
        return
    try:
        wh = store.connect_warehouse_readonly(data_dir)
    except duckdb.Error:
        print("数据仓库正在被写入（导入或计算进行中），完成后会发布新快照。")
        return
    try:
        if not _has(wh, "etl_runs"):
            return
        published = {r for (r,) in snapshot_con.execute("SELECT load_id FROM etl_runs").fetchall()}
        pending = [
            (lid, name)
            for lid, name in wh.execute(
                "SELECT load_id, file_name FROM etl_runs WHERE status <> 'failed' ORDER BY started_at"
            ).fetchall()
            if lid not in published
        ]
    finally:
        wh.close()
    if pending:
        names = "、".join(name for _, name in pending[:5]) + ("等" if len(pending) > 5 else "")
        print(
            f"注意：数据仓库中有 {len(pending)} 次导入尚未发布到看板（{names}）。"
            "运行 bizenv build 计算评分并发布新快照。"
        )


def _snapshot_time(con, path) -> str:
    rows = (
        con.execute("SELECT value FROM snapshot_meta WHERE key = 'built_at'").fetchall()
        if _has(con, "snapshot_meta")
        else []
    )
    if rows:
        return f"构建于 {rows[0][0]}"
    import datetime as dt

    return f"发布于 {dt.datetime.fromtimestamp(path.stat().st_mtime):%Y-%m-%d %H:%M:%S}"


def _demo(con) -> None:
    from kpi import demo

    meta = (
        dict(con.execute("SELECT key, value FROM snapshot_meta").fetchall())
        if _has(con, "snapshot_meta")
        else {}
    )
    found = demo.from_meta(meta)
    if found:
        records, other = found
        counts = "、".join(f"{SOURCE_LABELS[s]} {n:,} 条" for s, n in records.items() if n)
        print(
            f"注意：快照中有演示数据（{counts}；其他数据 {other:,} 条）。运行 bizenv reset --demo 删除演示数据。"
        )


def _has(con, table: str) -> bool:
    return bool(
        con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [table]
        ).fetchall()[0][0]
    )


def _runs(con, limit: int) -> None:
    if not _has(con, "etl_runs"):
        return
    total = con.execute("SELECT count(*) FROM etl_runs").fetchall()[0][0]
    print(f"\n导入记录（共 {total} 次，最近 {min(limit, total)} 次）：")
    for row in con.execute(
        "SELECT finished_at, file_name, source, status, rows_read, rows_loaded, rows_quarantined, rows_skipped, "
        "rows_inserted, rows_updated FROM etl_runs ORDER BY finished_at DESC, load_id DESC LIMIT ?",
        [limit],
    ).fetchall():
        at, name, source, status, read, loaded, quarantined, skipped, inserted, updated = row
        flag = {"ok": "", "duplicate_file": "（重复文件，未变化）", "undone": "（已撤销）"}.get(
            status, f"（{status}）"
        )
        print(
            f"  {at:%Y-%m-%d %H:%M}  {name}  [{source}] 读取 {read:,} 导入 {loaded:,} 隔离 {quarantined:,} "
            f"跳过 {skipped:,}；新增 {inserted:,} 更新 {updated:,}{flag}"
        )


def _rows(con) -> None:
    print("\n各来源各季度记录数：")
    for table, label in SOURCE_LABELS.items():
        if not _has(con, table):
            continue
        rows = con.execute(
            f'SELECT period, count(*) FROM "{table}" GROUP BY 1 ORDER BY 1'
        ).fetchall()
        if not rows:
            print(f"  {label}：无数据")
            continue
        total = sum(n for _, n in rows)
        print(f"  {label}（共 {total:,}）：" + "  ".join(f"{p} {n:,}" for p, n in rows))
    if _has(con, "approvals"):
        unknown = con.execute("SELECT count(*) FROM approvals WHERE NOT calendar_known").fetchall()[
            0
        ][0]
        if unknown:
            print(
                f"  注意：{unknown:,} 条办件的日期超出已知节假日日历，工作日按周一至周五计算；"
                "请在 data/catalog/holidays.yaml 中补充该年份的放假安排。"
            )


def _quarantine(con) -> None:
    if not _has(con, "quarantine"):
        return
    from kpi.schema import QUARANTINE_RULE_SQL

    rows = con.execute(
        f"SELECT source, {QUARANTINE_RULE_SQL}, count(*) FROM quarantine GROUP BY 1, 2 ORDER BY 1, 3 DESC, 2"
    ).fetchall()
    print("\n隔离的行（按原因）：" + ("无" if not rows else ""))
    for source, reason, n in rows:
        print(f"  [{source}] {reason}：{n:,} 行")
