"""`bizenv kiosk`: long-lived links for the lobby LED screens (/led?kiosk=…)."""

from __future__ import annotations

import argparse

from kpi.errors import UserInputError

HELP = "管理大厅 LED 屏的长期链接：新建（只打开 /led、不会超时）、列出、撤销。"
EXAMPLE = (
    "  bizenv kiosk add --label 政务服务大厅一号屏 --url http://bizenv.example.gov.cn:8501\n"
    "  bizenv kiosk list\n"
    "  bizenv kiosk revoke 3\n"
    "链接只在新建时显示一次（数据库里只保存它的哈希），请直接配置到大厅电脑的浏览器 kiosk 启动参数里。"
)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--data-dir", metavar="目录", help="数据目录（默认：data/warehouse 或 BIZENV_DATA_DIR）"
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="操作", required=True)
    p = sub.add_parser("add", help="新建大屏链接", description="新建大屏链接")
    p.add_argument("--label", required=True, metavar="名称", help="如“政务服务大厅一号屏”")
    p.add_argument(
        "--url",
        metavar="地址",
        default="http://localhost:8501",
        help="看板的地址（默认 http://localhost:8501）",
    )
    _common(p)
    p = sub.add_parser("list", help="列出大屏链接", description="列出大屏链接")
    _common(p)
    p = sub.add_parser("revoke", help="撤销大屏链接（立即失效）", description="撤销大屏链接")
    p.add_argument("id", metavar="编号", type=int, help="bizenv kiosk list 中的编号")
    _common(p)


def run(args: argparse.Namespace) -> int:
    from office import accounts
    from office.audit import Actor

    dd, by = args.data_dir, Actor.cli()
    if args.action == "add":
        link_id, token = accounts.create_kiosk_link(dd, args.label, by)
        print(f"已新建大屏链接 {link_id}（{args.label}）。只显示这一次：")
        print(f"{args.url.rstrip('/')}/led?kiosk={token}")
        return 0
    if args.action == "list":
        links = accounts.kiosk_links(dd)
        if not links:
            print("还没有大屏链接。新建：bizenv kiosk add --label 名称")
            return 0
        print("编号\t名称\t创建人\t创建时间（UTC）\t最近打开（UTC）\t状态")
        for k in links:
            print(
                f"{k.id}\t{k.label}\t{k.created_by or ''}\t{k.created_at:%Y-%m-%d %H:%M}\t"
                f"{k.last_seen_at:%Y-%m-%d %H:%M}\t{'已撤销' if k.revoked_at else '有效'}"
            )
        return 0
    if args.action == "revoke":
        link = accounts.revoke_kiosk_link(dd, args.id, by)
        print(f"大屏链接 {link.id}（{link.label}）已撤销，使用它的屏幕将在一分钟内停止显示。")
        return 0
    raise UserInputError(f"没有操作 {args.action}。")
