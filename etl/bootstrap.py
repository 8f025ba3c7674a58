"""First run of the dashboard: no snapshot yet → generate the demo exports and load them.

The demo goes through exactly the path real files take (`etl.load.load_files`), so what a new
user sees on first start is what the ETL really produces. A file lock in the data dir makes two
browser sessions that start at the same moment wait for one bootstrap instead of running two.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from etl import demo
from kpi import settings, store
from kpi.errors import BizenvError

LOCK_FILE = ".bootstrap.lock"
GENERATE_SHARE = 0.3  # of the progress bar; loading and building take the rest

Progress = Callable[[float, str], None]


@contextlib.contextmanager
def _exclusive(path: Path, waiting: Callable[[], None]) -> Iterator[None]:
    """Hold an exclusive lock on `path` (blocking); `waiting()` is called once if we must wait."""
    fh = open(path, "a+b")  # noqa: SIM115 - closed in finally, after the lock is released
    try:
        try:
            import fcntl
        except ImportError:  # Windows desk PCs: msvcrt locks one byte, retrying while busy
            import msvcrt

            told = False
            fh.seek(0)  # msvcrt locks bytes from the current position: always byte 0
            while True:
                try:
                    msvcrt.locking(fh.fileno(), msvcrt.LK_NBLCK, 1)
                    break
                except OSError:
                    if not told:
                        waiting()
                        told = True
                    time.sleep(0.5)
            try:
                yield
            finally:
                fh.seek(0)
                msvcrt.locking(fh.fileno(), msvcrt.LK_UNLCK, 1)
            return
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            waiting()
            fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
    finally:
        fh.close()


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
    with _exclusive(
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
    path = store.current_snapshot_path(dd)
    if path is None:
        raise BizenvError(
            f"演示数据已生成到 {settings.demo_dir()}，但没有发布出数据快照。"
            f"请在命令行运行 bizenv load {settings.demo_dir()}{os.sep}*.csv 查看原因。"
        )
    report(1.0, "演示数据已就绪")
    return path
