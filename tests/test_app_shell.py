"""The first-run bootstrap outlives the session that started it (ui.app_shell._bootstrap_demo)."""

from __future__ import annotations

import contextlib
import threading
from pathlib import Path

import pytest

from kpi.errors import BizenvError
from ui import app_shell


class Stopped(BaseException):
    """Stands for Streamlit's StopException: raised in a session's script when the tab closes."""


class FakeStreamlit:
    """The few st calls _bootstrap_demo makes; the progress bar can be told to raise Stopped."""

    def __init__(self, stop_on_progress: bool = False):
        self.stop_on_progress = stop_on_progress
        self.shown: list[tuple] = []

    @contextlib.contextmanager
    def status(self, label, expanded=True):
        fake = self

        class Box:
            def update(self, **kw):
                fake.shown.append(("status", kw))

        yield Box()

    def progress(self, value, text=None):
        fake = self

        class Bar:
            def progress(self, value, text=None):
                if fake.stop_on_progress:
                    raise Stopped
                fake.shown.append(("progress", value, text))

        return Bar()

    def error(self, text):
        self.shown.append(("error", text))

    def stop(self):
        raise Stopped


def _worker() -> threading.Thread | None:
    return next((t for t in threading.enumerate() if t.name == app_shell.BOOTSTRAP_THREAD), None)


def test_closing_the_tab_does_not_abort_the_bootstrap(monkeypatch):
    release, finished = threading.Event(), []

    def fake_bootstrap(progress, data_dir=None):
        progress(0.5, "导入 办件_2026Q3.csv")
        release.wait(10)  # still working when the session is stopped
        finished.append(True)
        return Path("snapshot.duckdb")

    monkeypatch.setattr(app_shell.store, "current_snapshot_path", lambda data_dir=None: None)
    monkeypatch.setattr(app_shell, "st", FakeStreamlit(stop_on_progress=True))
    with pytest.raises(Stopped):
        app_shell._bootstrap_demo(fake_bootstrap)
    worker = _worker()
    assert worker is not None and worker.is_alive() and not finished
    release.set()
    worker.join(10)
    assert finished == [True]


def test_a_bootstrap_error_is_shown_in_chinese_not_as_a_traceback(monkeypatch):
    def failing_bootstrap(progress, data_dir=None):
        raise BizenvError("数据目录 /srv/bizenv 没有写入权限。请检查 BIZENV_DATA_DIR。")

    fake = FakeStreamlit()
    monkeypatch.setattr(app_shell.store, "current_snapshot_path", lambda data_dir=None: None)
    monkeypatch.setattr(app_shell, "st", fake)
    with pytest.raises(Stopped):  # st.stop() after the message
        app_shell._bootstrap_demo(failing_bootstrap)
    assert ("error", "数据目录 /srv/bizenv 没有写入权限。请检查 BIZENV_DATA_DIR。") in fake.shown
    assert (
        "status",
        {"label": "演示数据准备失败", "state": "error", "expanded": True},
    ) in fake.shown
