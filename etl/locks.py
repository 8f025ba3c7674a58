"""File locks in the data dir: one writer at a time, and one first-run bootstrap.

DuckDB lets one process write the warehouse; a second `bizenv load` (or a build, or a reset)
started meanwhile would otherwise fail on DuckDB's English lock error halfway through. Writers
take `writer.lock` first and wait for it — up to a limit (BIZENV_LOCK_WAIT_SECONDS) — then say
in Chinese that another load or build is running. The lock is held by the open file: a writer
that is killed releases it with its process, so a crash never leaves the data dir locked.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from kpi.errors import MachineProblem

WRITER_LOCK = "writer.lock"
POLL_SECONDS = 0.25


class LockTimeout(MachineProblem):
    """Another writer held the lock for longer than we were willing to wait."""


def _try_lock(fh) -> bool:
    if sys.platform == "win32":  # desk PCs: msvcrt locks one byte from the current position
        import msvcrt

        fh.seek(0)
        try:
            msvcrt.locking(fh.fileno(), msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False
    import fcntl

    try:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False


def _unlock(fh) -> None:
    if sys.platform == "win32":
        import msvcrt

        fh.seek(0)
        msvcrt.locking(fh.fileno(), msvcrt.LK_UNLCK, 1)
        return
    import fcntl

    fcntl.flock(fh, fcntl.LOCK_UN)


@contextlib.contextmanager
def exclusive(
    path: Path,
    waiting: Callable[[], None] = lambda: None,
    timeout: float | None = None,
    busy_message: str = "",
) -> Iterator[None]:
    """Hold an exclusive lock on `path`; `waiting()` is called once if we must wait. With a
    `timeout` (seconds), give up after it with LockTimeout(busy_message)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fh = open(path, "a+b")  # noqa: SIM115 - closed in finally, after the lock is released
    try:
        deadline = None if timeout is None else time.monotonic() + timeout
        told = False
        while not _try_lock(fh):
            if not told:
                waiting()
                told = True
            if deadline is not None and time.monotonic() >= deadline:
                raise LockTimeout(busy_message or f"{path.name} 被另一个进程占用。")
            time.sleep(POLL_SECONDS)
        try:
            yield
        finally:
            _unlock(fh)
    finally:
        fh.close()


_HELD: set[str] = set()  # writer locks this process holds (a load's build must not wait on itself)


@contextlib.contextmanager
def writer(data_dir) -> Iterator[None]:
    """The one-writer lock of a data dir (DataDir), waited for up to BIZENV_LOCK_WAIT_SECONDS.

    Re-entrant within a process: `bizenv load` holds it while its build and publish run."""
    from kpi.settings import Limits

    path = data_dir.root / WRITER_LOCK
    if str(path) in _HELD:
        yield
        return
    limits = Limits.from_env()
    message = (
        f"另一个导入或计算正在进行（数据目录 {data_dir.root}），已等待 {limits.lock_wait_seconds:g} 秒仍未结束。"
        f"请等它完成后再运行；需要等得更久时，{limits.hint('lock_wait_seconds')}。"
    )
    created = []  # folders this call creates: a refused first load must leave no data dir behind
    folder = data_dir.root
    while not folder.exists():
        created.append(folder)
        folder = folder.parent
    try:
        with exclusive(
            path,
            waiting=lambda: print("另一个导入或计算正在进行，等待它完成……", file=sys.stderr),
            timeout=limits.lock_wait_seconds,
            busy_message=message,
        ):
            _HELD.add(str(path))
            try:
                yield
            finally:
                _HELD.discard(str(path))
    finally:
        if created and [p.name for p in data_dir.root.iterdir()] == [WRITER_LOCK]:
            path.unlink(missing_ok=True)
            for folder in created:
                with contextlib.suppress(OSError):
                    folder.rmdir()
