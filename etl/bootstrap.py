"""First run of the dashboard: no snapshot yet → generate the demo exports and load them.

The demo goes through exactly the path real files take (`etl.load.load_files`), so what a new
user sees on first start is what the ETL really produces. A file lock in the data dir makes two
browser sessions that start at the same moment wait for one bootstrap instead of running two.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from etl import demo, locks
from kpi import settings, store
from kpi.errors import BizenvError

LOCK_FILE = ".bootstrap.lock"
GENERATE_SHARE = 0.3  # of the progress bar; loading and building take the rest

Progress = Callable[[float, str], None]


def ensure_demo_snapshot(
    progress: Progress | None = None, data_dir: settings.DataDir | None = None
) -> Path:
    """The current snapshot; on first run, generate the demo exports and load them (≈30% / 70%)."""
    dd = settings.DataDir.of(data_dir)
    existing = store.current_snapshot_path(dd)
    if existing is not None:
        return existing
    if not store.needs_first_run(dd):
        # A warehouse (or a snapshot) exists: real data may be in it. The demo goes only into an
        # empty data dir — never mixed into a warehouse whose snapshot went missing.
        raise BizenvError(
            "数据目录里已有数据仓库，但没有可读的数据快照，因此不会生成演示数据。"
            "请在服务器上运行 bizenv build 重新计算并发布数据快照。"
        )
    report = progress or (lambda fraction, text: None)
    dd.root.mkdir(parents=True, exist_ok=True)
    with locks.exclusive(
        dd.root / LOCK_FILE, lambda: report(0.0, "另一个会话正在准备演示数据，请稍候…")
    ):
        existing = store.current_snapshot_path(dd)  # the other session may have finished meanwhile
        if existing is not None:
            report(1.0, "演示数据已就绪")
            return existing
        if dd.warehouse.exists():
            raise BizenvError(
                "数据目录里已有数据仓库，但没有可读的数据快照。请运行 bizenv build 重新发布。"
            )
        from etl.load import load_files  # imported late: the dashboard imports this module early

        report(0.0, "首次运行：正在生成演示数据…")
        written = demo.generate(
            settings.demo_dir(), progress=lambda f, m: report(GENERATE_SHARE * f, m)
        )
        paths = [p for source in demo.SOURCES for p in written.get(source, [])]
        try:
            load_files(
                paths,
                data_dir=dd,
                progress=lambda f, m: report(GENERATE_SHARE + (1 - GENERATE_SHARE) * f, m),
            )
        except BizenvError:
            # a refused demo file still leaves the others loaded and published; only fail
            # when nothing at all could be published
            if store.current_snapshot_path(dd) is None:
                raise
        _demo_ledgers(dd, report)
    path = store.current_snapshot_path(dd)
    if path is None:
        raise BizenvError(
            f"演示数据已生成到 {settings.demo_dir()}，但没有发布出数据快照。"
            f"请在命令行运行 bizenv load {settings.demo_dir()}{os.sep}*.csv 查看原因。"
        )
    report(1.0, "演示数据已就绪")
    return path


def _demo_ledgers(dd: settings.DataDir, report: Progress) -> None:
    """The demo's 督办 台账 (清障, 为企办实事, 督办任务, 对标, 评议) — consistent with its scores; a
    failure leaves the dashboard working without them (logged)."""
    import logging

    from etl.demo import ledgers

    report(0.97, "生成演示台账（清障、为企办实事、督办任务）…")
    try:
        ledgers.generate(dd, settings.demo_dir() / "台账")
    except Exception:  # noqa: BLE001 — the scores are published; the 台账 are extras
        logging.getLogger(__name__).exception("demo 台账 failed")
