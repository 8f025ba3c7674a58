"""`bizenv reset --demo`: delete the demo records from the warehouse and publish a clean snapshot."""

from __future__ import annotations

import argparse

from kpi.errors import UserInputError

HELP = (
    "删除数据仓库中的演示数据（首次运行或 bizenv sample 生成的记录），真实数据保留，并发布新快照；"
    "登录页的演示账号一并删除。"
)
EXAMPLE = (
    "  bizenv reset --demo\n"
    "  bizenv reset --demo --data-dir /srv/bizenv\n"
    "删除演示文件导入的办件、12345 工单、好差评和指标填报记录，以及它们的隔离记录、更新记录和导入记录；\n"
    "与演示数据一起导入的真实数据不受影响。演示导出文件本身（data/inbox/demo/）不删除。"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--demo",
        action="store_true",
        help="删除演示数据（目前唯一可删除的内容，必须写明）",
    )
    parser.add_argument(
        "--data-dir", metavar="目录", help="数据目录（默认：data/warehouse 或 BIZENV_DATA_DIR）"
    )


def run(args: argparse.Namespace) -> int:
    if not args.demo:
        raise UserInputError(
            "bizenv reset 只用来删除演示数据，请写成 bizenv reset --demo（真实数据不会被删除）。"
        )
    # Imported here, not at the top: every bizenv command's start-up imports all command modules.
    from etl.reset import remove_demo
    from kpi.schema import SOURCE_LABELS

    removed = remove_demo(args.data_dir)
    gone = _remove_demo_accounts(args.data_dir)
    ledgers = _remove_demo_ledgers(args.data_dir)
    if ledgers:
        print(
            f"已删除 {ledgers} 条演示台账（清障问题、为企办实事、督办任务、对标、评议；自己录入的保留）。"
        )
    if removed is None:
        print(
            "数据仓库中没有演示数据，未做任何改动。" if not gone else f"已删除 {gone} 个演示账号。"
        )
        return 0
    counts = "、".join(f"{SOURCE_LABELS[s]} {n:,} 条" for s, n in removed.records.items() if n)
    print(
        f"已删除演示数据：{counts or '（记录已被真实数据替换，无需删除）'}；"
        f"另删除 {removed.loads} 次演示导入的记录和 {removed.quarantined:,} 行隔离记录。"
    )
    print(
        f"保留其他数据 {removed.kept:,} 条。已发布新快照 {removed.snapshot.name}，看板不再显示“演示数据”。"
    )
    if gone:
        print(f"已删除 {gone} 个演示账号（登录页不再提供演示账号）。")
    return 0


def _remove_demo_accounts(data_dir) -> int:
    """The 演示账号 go with the demo (office.accounts); none when the app database was never made."""
    import os

    from office import accounts, store
    from office.audit import Actor

    if not data_dir.app_db.exists() and not os.environ.get(store.APP_DB_ENV):
        return 0
    return accounts.remove_demo_accounts(data_dir, Actor.cli())


def _remove_demo_ledgers(data_dir) -> int:
    """The demo's 督办 台账 go with it (office.tracking.items.remove_demo)."""
    import os

    from office import store
    from office.audit import Actor
    from office.tracking import items

    if not data_dir.app_db.exists() and not os.environ.get(store.APP_DB_ENV):
        return 0
    return items.remove_demo(data_dir, Actor.cli())
