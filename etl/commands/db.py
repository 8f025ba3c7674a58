"""`bizenv db upgrade`: bring the application database to the newest schema."""

from __future__ import annotations

import argparse

HELP = "应用数据库（账号、登录、审计日志）：升级到最新结构。看板启动时也会自动升级。"
EXAMPLE = (
    "  bizenv db upgrade\n"
    "  BIZENV_APP_DB=postgresql://bizenv:密码@db.example.gov.cn:5432/bizenv bizenv db upgrade\n"
    "默认使用数据目录中的 app.db（SQLite）；环境变量 BIZENV_APP_DB 可指定 PostgreSQL。\n"
    "升级只增加表和列，不删除任何数据；SQLite 文件在升级前另存一份 app.db.before-<版本>-<时间>.bak。"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="操作", required=True)
    p = sub.add_parser("upgrade", help="升级到最新结构", description="升级到最新结构")
    p.add_argument(
        "--data-dir", metavar="目录", help="数据目录（默认：data/warehouse 或 BIZENV_DATA_DIR）"
    )


def run(args: argparse.Namespace) -> int:
    from office import audit, store

    dd = args.data_dir
    url = store.url_for(dd)
    applied = store.upgrade(dd)
    head = store.head_revision()
    if not applied:
        print(f"应用数据库 {store.shown(url)} 已是最新结构（版本 {head}）。")
        return 0
    audit.record(
        dd, "db_upgrade", audit.Actor.cli(), store.shown(url), {"升级": " → ".join(applied)}
    )
    print(f"应用数据库 {store.shown(url)} 已升级到版本 {head}（执行了 {'、'.join(applied)}）。")
    return 0
