"""`bizenv template`: write the 指标填报 workbook for the departments that report figures."""

from __future__ import annotations

import argparse
from pathlib import Path

from kpi import periods, settings

HELP = "生成部门指标填报模板（xlsx）：每个填报指标每个区县一行，附指标定义；填好后用 bizenv load 导入。"
EXAMPLE = "  bizenv template --period 2026Q3 --out 指标填报_2026Q3.xlsx"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--period", metavar="季度", help="统计期，例如 2026Q3（默认：最近一个完整季度）"
    )
    parser.add_argument("--out", metavar="文件.xlsx", help="输出文件（默认：指标填报_<季度>.xlsx）")
    parser.add_argument(
        "--metrics", metavar="文件", help="指标规格文件（默认：仓库根目录的 metrics.yaml）"
    )
    parser.add_argument(
        "--catalog", metavar="目录", help="区县目录所在文件夹（默认：data/catalog）"
    )
    parser.add_argument(
        "--with-city",
        action="store_true",
        help="每个指标另加一行全市数（不填时全市值取各区县填报值的平均）",
    )
    parser.add_argument(
        "--ledger",
        choices=("problems", "projects", "tasks", "benchmarks", "measures", "awards"),
        help="改为生成督办台账的空白模板：problems 清障问题 | projects 为企办实事 | tasks 督办任务 | "
        "benchmarks 对标标杆 | measures 提升举措 | awards 蜗牛骏马评议",
    )


def run(args: argparse.Namespace) -> int:
    # Imported here, not at the top: every bizenv command's start-up imports all command modules.
    from kpi.read.template import write_template
    from kpi.spec.load import load_spec

    if args.ledger:
        from office.tracking import ledgers

        name = ledgers.KIND_NAMES[args.ledger]
        path = Path(args.out or f"{name}.xlsx")
        path.write_bytes(ledgers.template_bytes(args.ledger))
        print(
            f"已生成 {path}：{name}空白模板。填好后运行 bizenv load {path.name}（写入应用数据库）。"
        )
        return 0
    period = args.period or periods.latest_complete_period()
    periods.parse(period)
    out = Path(args.out or f"指标填报_{period}.xlsx")
    spec = load_spec(settings.metrics_path(args.metrics), catalog_dir=args.catalog)
    rows = write_template(
        spec,
        period,
        out,
        settings.catalog_dir(args.catalog) if args.catalog else None,
        with_city=args.with_city,
    )
    print(
        f"已生成 {out}：{rows} 行待填报（{periods.label_zh(period)}）。填好“指标值”列后运行 bizenv load {out.name}。"
    )
    return 0
