"""Logging for the app and the CLI: module loggers, one rotating file per data dir.

Every module logs through `logging.getLogger(__name__)`; `setup(data_dir)` (called once by each
entry point) sends the loggers of bizenv's own packages to `<data dir>/logs/bizenv.log`, rotated
at a few MB, so a stuck kiosk or a failed night load can be diagnosed after the fact. Nothing here
writes to the screen: users see Chinese messages, the log keeps the tracebacks.
"""

from __future__ import annotations

import datetime as dt
import logging
import logging.handlers
import os
import traceback
import uuid
from pathlib import Path

from kpi.settings import DataDir

PACKAGES = ("etl", "kpi", "ui", "office", "pages", "bizenv")
LOG_FILE = "bizenv.log"
MAX_BYTES = 5 * 1024 * 1024
BACKUPS = 5
_FORMAT = "%(asctime)s %(levelname)s %(name)s [pid %(process)d]: %(message)s"

_installed: dict[str, logging.Handler] = {}


class _LazyFileHandler(logging.handlers.RotatingFileHandler):
    """Creates logs/ (and the file) only when something is logged: `bizenv validate` on a
    machine with no data dir yet must not create one."""

    def _open(self):
        Path(self.baseFilename).parent.mkdir(parents=True, exist_ok=True)
        return super()._open()


def setup(data_dir: DataDir, level: int = logging.INFO) -> Path:
    """Send bizenv's loggers to the data dir's rotating log (idempotent); returns the log's path.

    A log that can't be written (read-only disk) costs a line on stderr from logging itself,
    never the command."""
    path = data_dir.logs / LOG_FILE
    key = str(path)
    if key in _installed:
        return path
    handler: logging.Handler = _LazyFileHandler(
        path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8", delay=True
    )
    handler.setFormatter(logging.Formatter(_FORMAT))
    # One data dir per process in practice; a second setup (tests) replaces the first.
    for old in _installed.values():
        for name in PACKAGES:
            logging.getLogger(name).removeHandler(old)
    _installed.clear()
    for name in PACKAGES:
        logger = logging.getLogger(name)
        logger.addHandler(handler)
        if logger.level == logging.NOTSET or logger.level > level:
            logger.setLevel(level)
    _installed[key] = handler
    return path


def save_traceback(data_dir: DataDir, exc: BaseException | None = None) -> str:
    """Write a traceback to its own uniquely named file under the data dir's logs/ (or the
    system temp folder when that can't be written); returns where, for the user's message."""
    import tempfile

    text = "".join(traceback.format_exception(exc)) if exc is not None else traceback.format_exc()
    stamp = f"{dt.datetime.now():%Y%m%dT%H%M%S}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
    for folder in (data_dir.logs, Path(tempfile.gettempdir())):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"bizenv-error-{stamp}.log"
            path.write_text(text, encoding="utf-8")
            return str(path)
        except OSError:
            continue
    return "（无法写入日志文件）"
