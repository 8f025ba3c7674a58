"""`bizenv export`: the 季度评议材料 workbook, or one score table as CSV/XLSX for analysts."""

from __future__ import annotations

import argparse
from pathlib import Path

from kpi.errors import UserInputError
from kpi.schema import MART_SHORT_NAMES

HELP = (
    "导出季度评议材料（XLSX），或把综合/领域/指标得分表导出为 CSV（UTF-8 带 BOM）或 XLSX，"
    "或导出某个导入文件的全部隔离行。"
)
EXAMPLE = (
    "  bizenv export --period 2026Q3 --out 2026Q3季度评议材料.xlsx\n"
    "  bizenv export --period 2026Q3 --table overall --format csv --out 综合得分_2026Q3.csv\n"
    "  bizenv export --period 2026Q3 --table indicators --format xlsx --out 指标得分.xlsx\n"
    "  bizenv export --quarantine 办件明细_2026Q3.csv --out 办件明细_2026Q3_隔离行.xlsx\n"
    "不指定 --period 时导出最近一个完整季度。\n"
    "--quarantine 导出一个文件最近一次导入时被隔离的每一行（不是示例）：行号、问题列、隔离原因，\n"
    "以及该行的原始内容（每个原表头一列），可直接发给报送部门核改后重新导入；文件名按导入时的名称\n"
    "（bizenv status 或看板“数据”页可查）。"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--period", metavar="2026Q3", help="季度（默认：最近一个完整季度）")
    parser.add_argument("--out", metavar="文件", required=True, help="输出文件")
    parser.add_argument(
        "--table",
        choices=tuple(MART_SHORT_NAMES),
        help="只导出一张表：overall 综合得分 | domains 领域得分 | indicators 指标得分（不指定则导出季度评议材料）",
    )
    parser.add_argument(
        "--quarantine",
        metavar="文件名",
        help="导出这个导入文件的全部隔离行（CSV 或 XLSX；不与 --table 同用，不需要 --period）",
    )
    parser.add_argument(
        "--format",
        choices=("csv", "xlsx"),
        help="--table / --quarantine 的文件格式（默认按 --out 的扩展名，否则 csv）",
    )
    parser.add_argument(
        "--ledger",
        choices=("problems", "projects", "tasks", "benchmarks", "measures", "awards"),
        help="导出一种督办台账（XLSX，与模板同样的表头，可改后再 bizenv load）",
    )
    parser.add_argument("--data-dir", metavar="目录", help="数据目录（默认 data/warehouse/）")


def run(args: argparse.Namespace) -> int:
    # Imported here, not at the top: every bizenv command's start-up imports all command modules.
    from kpi import store
    from kpi.read import exports, queries, review

    data_dir = args.data_dir
    if args.ledger:
        from office.tracking import ledgers

        Path(args.out).write_bytes(ledgers.export_bytes(data_dir, args.ledger))
        print(f"已导出{ledgers.KIND_NAMES[args.ledger]}到 {args.out}")
        return 0
    try:
        con = store.connect_snapshot(data_dir=data_dir)
    except store.SnapshotMissing as err:
        raise UserInputError(str(err)) from None
    try:
        if args.quarantine:
            return _export_quarantine(con, args)
        if not queries.has_marts(con):
            raise UserInputError("当前数据快照里还没有评分结果。改法：先运行 bizenv build。")
        available = queries.periods(con)
        periods = list(available["period"])
        period = str(args.period or queries.meta(con).get("latest_complete_period") or "")
        if period not in periods:
            raise UserInputError(
                f"快照中没有季度 {period}。可选季度：{'、'.join(periods) or '（无）'}。"
                "改法：--period 写成 2026Q3 这样的形式。"
            )
        out = Path(args.out)
        if args.table:
            fmt = args.format or ("xlsx" if out.suffix.lower() == ".xlsx" else "csv")
            frame = exports.mart_frame(con, args.table, period)
            exports.write_table(frame, out, fmt, sheet=f"{args.table}_{period}")
            print(f"已导出 {len(frame)} 行到 {out}")
        else:
            if args.format == "csv":
                raise UserInputError(
                    "季度评议材料只能导出为 XLSX。改法：去掉 --format csv，或加上 --table。"
                )
            import datetime as dt

            from office.tracking import views as tracking

            today = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).date()
            review.write_review(
                con, period, out, tracking.review_sheets(con, data_dir, period, today)
            )
            print(f"已导出 {period} 季度评议材料到 {out}")
    finally:
        con.close()
    return 0


def _export_quarantine(con, args: argparse.Namespace) -> int:
    """Every quarantined row of the newest load of one file, as CSV or XLSX."""
    from kpi.read import exports, queries

    if args.table:
        raise UserInputError("--quarantine 和 --table 不能同时使用。改法：一次只导出一种。")
    name = Path(args.quarantine).name  # a path to the file works too: the load kept its name
    loads = queries.quarantine_loads(con) if queries.has_table(con, "quarantine") else None
    if loads is None or loads.empty:
        raise UserInputError("当前数据快照里没有被隔离的行，没有可导出的内容。")
    match = loads[loads["file_name"] == name]
    if match.empty:
        known = list(dict.fromkeys(loads["file_name"]))
        more = f" 等 {len(known)} 个" if len(known) > 10 else ""
        raise UserInputError(
            f"没有文件 {name} 的隔离行。有隔离行的文件：{'、'.join(known[:10])}{more}。"
            "改法：--quarantine 后写导入时的文件名（bizenv status 可查）。"
        )
    load = match.iloc[0]  # newest first
    newest = con.execute(
        "SELECT load_id, started_at, status FROM etl_runs WHERE file_name = ?"
        " ORDER BY started_at DESC NULLS LAST LIMIT 1",
        [name],
    ).fetchall()
    if newest and newest[0][0] != load["load_id"]:  # a later load of the file came out clean
        _, at, status = newest[0]
        raise UserInputError(
            f"{name} 最近一次导入（{str(at)[:16]}，状态 {status}）没有隔离行；"
            f"现有的隔离行来自更早的 {str(load['started_at'])[:16]} 那次导入（另一版内容）；"
            "需要时可在看板“数据”页按导入时间选择下载。"
        )
    frame = queries.quarantine_rows(con, load["load_id"])
    out = Path(args.out)
    fmt = args.format or ("xlsx" if out.suffix.lower() == ".xlsx" else "csv")
    exports.write_table(frame, out, fmt, sheet="隔离行")
    when = str(load["started_at"])[:16]
    print(f"已导出 {name}（{when} 导入）的全部 {len(frame)} 行隔离记录到 {out}")
    if len(match) > 1:
        print(f"该文件名共有 {len(match)} 次导入留下隔离行，导出的是最近一次。")
    return 0
