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


# ── an unexpected error in a page ────────────────────────────────────────────────────────────


def _shell_app():
    """An entry like dashboard.py whose pages misbehave on purpose (chosen by ?case=)."""
    import streamlit as st

    from ui import app_shell

    def broken():
        st.title("坏页面")
        raise ValueError("测试用的错误 12345")

    def stops():
        st.markdown("停在这里之前")
        st.stop()
        st.markdown("不应出现")

    def switches():
        st.switch_page(target)

    def target_page():
        st.title("目标页")

    # at the URLs of two pages every signed-in role but 大屏 may open (office.roles.PAGES)
    target = st.Page(target_page, title="目标", url_path="domains")
    case = st.query_params.get("case", "broken")
    first = {"broken": broken, "stops": stops, "switches": switches}[case]
    app_shell.run(
        {"看板": [st.Page(first, title="首页", url_path="overview", default=True), target]}
    )


def test_a_failing_page_shows_chinese_and_logs_the_traceback(isolated_data_dir):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_function(_shell_app, default_timeout=30)
    at.query_params["case"] = "broken"
    at.run()
    assert not at.exception  # no Streamlit exception box, no traceback on screen
    assert [t.value for t in at.title] == ["坏页面"]  # what rendered before the error stays
    [error] = at.error
    log = isolated_data_dir / "logs" / "bizenv.log"
    assert error.value.startswith(
        "页面出错了：“首页”未能完整显示。错误已记录到服务器的日志（数据目录下 logs/bizenv.log）"
    )
    assert str(isolated_data_dir) not in error.value  # no server path on screen
    assert "请把这个时间和编号告诉维护人员" in error.value
    assert "Traceback" not in error.value and "ValueError" not in error.value
    code = error.value.split("编号 ")[1][:6]
    text = log.read_text(encoding="utf-8")
    assert f"页面“首页”出错（编号 {code}" in text
    assert "Traceback (most recent call last)" in text
    assert "ValueError: 测试用的错误 12345" in text


def test_st_stop_and_switch_page_pass_through_the_shell(isolated_data_dir):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_function(_shell_app, default_timeout=30)
    at.query_params["case"] = "stops"
    at.run()
    assert not at.exception and not at.error
    assert [m.value for m in at.markdown] == ["停在这里之前"]
    at = AppTest.from_function(_shell_app, default_timeout=30)
    at.query_params["case"] = "switches"
    at.run()
    assert not at.exception and not at.error
    assert [t.value for t in at.title] == ["目标页"]


def test_streamlit_shows_no_error_details():
    import tomllib

    from streamlit import config

    conf = tomllib.loads(
        (Path(__file__).resolve().parents[1] / ".streamlit" / "config.toml").read_text("utf-8")
    )
    value = conf["client"]["showErrorDetails"]
    assert value == "none" and value in set(config.ShowErrorDetailsConfigOptions)
