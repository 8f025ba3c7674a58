"""`bizenv build`: recompute the score marts from the warehouse and publish a new snapshot."""

from __future__ import annotations

import argparse
import time

from kpi import settings

HELP = "按 metrics.yaml 重新计算指标得分、领域得分、综合指数和排名，并发布新的数据快照。"
EXAMPLE = (
    "  bizenv build\n  bizenv build --metrics 其他城市/metrics.yaml --data-dir /srv/bizenv\n"
    "  bizenv build --full"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--metrics", metavar="文件", help="指标规格文件（默认：仓库根目录的 metrics.yaml）"
    )
    parser.add_argument(
        "--data-dir", metavar="目录", help="数据目录（默认：data/warehouse 或 BIZENV_DATA_DIR）"
    )
    parser.add_argument(
        "--catalog",
        metavar="目录",
        help="目录表所在文件夹（默认：data/catalog 或 BIZENV_CATALOG_DIR）",
    )
    parser.add_argument(
        "--full",
        action="store_true",
        help="重新扫描全部季度的办件、12345、好差评记录（默认只重算 bizenv load 改动过的季度；"
        "在 bizenv load 之外手工改过记录后使用）",
    )


def run(args: argparse.Namespace) -> int:
    # Imported here, not at the top: every bizenv command's start-up imports all command modules.
    import duckdb

    from etl import locks
    from kpi import store
    from kpi.engine.build import build_marts
    from kpi.engine.compile import plan_label
    from kpi.errors import MachineProblem, machine_problem

    started = time.perf_counter()
    data_dir = args.data_dir  # a DataDir, resolved once by etl.cli
    with locks.writer(data_dir):  # one writer: a load or another build waits, then says so
        meta = build_marts(
            data_dir,
            settings.metrics_path(args.metrics),
            catalog_dir=settings.catalog_dir(args.catalog) if args.catalog else None,
            full=args.full,
        )
        try:
            snap = store.publish_snapshot(data_dir)
        except (OSError, duckdb.Error) as err:
            problem = machine_problem(err, data_dir.root)
            if problem is None:
                raise
            raise MachineProblem(
                f"评分已算好并保存在数据仓库，但快照未发布：{problem}。"
                "看板仍显示上一个快照；释放空间（或改正权限）后再运行 bizenv build。"
            ) from None
    from office.tracking.tasks import after_build

    line = after_build(data_dir)  # 督办 tasks from the new snapshot's red cells
    took = time.perf_counter() - started
    print(
        f"已发布快照 {snap.name}（{meta['city_name']}，当前季度 {meta['current_period']}，"
        f"数据截至 {meta['data_as_of'] or '无数据'}，用时 {took:.1f} 秒）。"
    )
    if line:
        print(line)
    if meta["scans"]:
        print(
            "记录扫描："
            + "；".join(f"{plan_label(s)} {_scan_text(done)}" for s, done in meta["scans"].items())
            + "。"
        )
    return 0


def _scan_text(done: str) -> str:
    """kpi.engine.partials.refresh's 'full' | 'quarters: …' | 'unchanged', as a user reads it."""
    if done == "full":
        return "全部季度重扫"
    if done == "unchanged":
        return "无变化，沿用上次的合计"
    return "重扫 " + done.removeprefix("quarters: ").replace(", ", "、")
