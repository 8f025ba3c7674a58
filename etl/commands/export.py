"""`bizenv export`: the 季度评议材料 workbook, or one score table as CSV/XLSX for analysts."""

from __future__ import annotations

import argparse
from pathlib import Path

from kpi.errors import UserInputError
from kpi.schema import MART_SHORT_NAMES

HELP = "导出季度评议材料（XLSX），或把综合/领域/指标得分表导出为 CSV（UTF-8 带 BOM）或 XLSX。"
EXAMPLE = (
    "  bizenv export --period 2026Q3 --out 2026Q3季度评议材料.xlsx\n"
    "  bizenv export --period 2026Q3 --table overall --format csv --out 综合得分_2026Q3.csv\n"
    "  bizenv export --period 2026Q3 --table indicators --format xlsx --out 指标得分.xlsx\n"
    "不指定 --period 时导出最近一个完整季度。"
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
        "--format",
        choices=("csv", "xlsx"),
        help="--table 的文件格式（默认按 --out 的扩展名，否则 csv）",
    )
    parser.add_argument("--data-dir", metavar="目录", help="数据目录（默认 data/warehouse/）")


def run(args: argparse.Namespace) -> int:
    # Imported here, not at the top: every bizenv command's start-up imports all command modules.
    from kpi import store
    from kpi.read import exports, queries, review

    data_dir = args.data_dir
    try:
        con = store.connect_snapshot(data_dir=data_dir)
    except store.SnapshotMissing as err:
        raise UserInputError(str(err)) from None
    try:
        if not queries.has_marts(con):
            raise UserInputError("当前数据快照里还没有评分结果。改法：先运行 bizenv build。")
        available = queries.periods(con)
        periods = list(available["period"])
        period = args.period or queries.meta(con).get("latest_complete_period")
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
            review.write_review(con, period, out)
            print(f"已导出 {period} 季度评议材料到 {out}")
    finally:
        con.close()
    return 0
