"""`bizenv filing`: 在线指标填报 rounds from the server's command line (开启、列出、结束)."""

from __future__ import annotations

import argparse

HELP = "在线指标填报：为一个季度开启填报轮次（各部门在看板“指标填报”页填报），列出或结束轮次。"
EXAMPLE = (
    "  bizenv filing open --period 2026Q4 --deadline 2027-01-15\n"
    "  bizenv filing list\n"
    "  bizenv filing close 2026Q4\n"
    "截止日期不写时取季度结束后 metrics.yaml 的 report_deadline_days 天（与数据质量的填报及时率一致）。"
)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--data-dir", metavar="目录", help="数据目录（默认：data/warehouse 或 BIZENV_DATA_DIR）"
    )
    p.add_argument(
        "--metrics", metavar="文件", help="指标规格文件（默认：仓库根目录的 metrics.yaml）"
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="操作", required=True)
    p = sub.add_parser("open", help="开启填报轮次", description="开启填报轮次")
    p.add_argument("--period", required=True, metavar="季度", help="统计期，例如 2026Q4")
    p.add_argument("--deadline", metavar="日期", help="截止日期（含当天），例如 2027-01-15")
    p.add_argument("--note", metavar="说明", help="给各部门的填报说明（可选）")
    _common(p)
    p = sub.add_parser("list", help="列出填报轮次", description="列出填报轮次")
    _common(p)
    p = sub.add_parser("close", help="结束填报轮次（部门不能再修改）", description="结束填报轮次")
    p.add_argument("period", metavar="季度", help="要结束的轮次的季度，例如 2026Q4")
    _common(p)


def run(args: argparse.Namespace) -> int:
    from kpi import periods, settings
    from kpi.errors import UserInputError
    from kpi.spec.load import load_spec
    from office import filings
    from office.audit import Actor
    from office.roles import Role, Scope

    dd, by = args.data_dir, Actor.cli()
    server = Scope(Role.ADMIN)  # the person at the server's command line runs the office
    if args.action == "open":
        periods.parse(args.period)
        deadline = args.deadline
        if deadline is None:
            deadline = filings.default_deadline(
                load_spec(settings.metrics_path(args.metrics)), args.period
            )
        r = filings.open_round(dd, args.period, deadline, server, by, note=args.note)
        print(
            f"已开启{periods.label_zh(r.period)}的指标填报（截止 {r.deadline}，含当天）。"
            "各部门账号登录看板后在“指标填报”页填报；营商办在“填报审核”页审核。"
        )
        return 0
    found = filings.rounds(dd)
    if args.action == "list":
        if not found:
            print("还没有填报轮次。开启：bizenv filing open --period 2026Q4 --deadline 2027-01-15")
            return 0
        print("编号\t季度\t截止日期\t状态\t开启人")
        for r in found:
            print(
                f"{r.id}\t{r.period}\t{r.deadline}\t{filings.ROUND[r.status]}\t{r.opened_by or ''}"
            )
        return 0
    match = next((r for r in found if r.period == args.period), None)
    if match is None:
        raise UserInputError(f"没有 {args.period} 的填报轮次（bizenv filing list 列出全部轮次）。")
    filings.set_round(dd, match.id, server, by, status="closed")
    print(f"已结束{periods.label_zh(match.period)}的指标填报。")
    return 0
