"""Real headless Chromium (Debian's /usr/bin/chromium, driven by Playwright) against a real
`streamlit run dashboard.py` server on loopback.

Playwright's own browser download cannot work on these machines, so we launch Debian's build
with executable_path. Screenshots land in tests/artifacts/ (git-ignored) for a person to look at.

Every server of a test session shares one application database (BIZENV_APP_DB, an SQLite file),
and `browser` opens contexts that carry the session cookie of a 营商办 test account in it — the
cookie a real sign-in leaves, for a real session (tests/signin.py). `browser.anonymous_context()`
opens one without it, for the sign-in tests themselves.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = REPO / "tests" / "artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class App:
    """A running Streamlit server on loopback, bound to one data dir."""

    def __init__(self, data_dir: Path, extra_env: dict[str, str] | None = None):
        self.data_dir = data_dir
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "BIZENV_DATA_DIR": str(data_dir), **(extra_env or {})}
        env.pop("BIZENV_TEST_PG_URL", None)
        self.env = env  # a restart on the same port starts it with the same settings
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "streamlit",
                "run",
                str(REPO / "dashboard.py"),
                "--server.port",
                str(self.port),
                "--server.headless",
                "true",
                "--server.address",
                "127.0.0.1",
                "--browser.gatherUsageStats",
                "false",
            ],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(self.url + "/_stcore/health", timeout=1)
                return
            except OSError:
                if self.proc.poll() is not None:
                    raise RuntimeError(self.proc.stdout.read().decode(errors="replace")) from None
                time.sleep(0.3)
        self.stop()
        raise RuntimeError("streamlit did not become healthy within 60 s")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


@pytest.fixture(scope="session")
def app_db_url(tmp_path_factory) -> str:
    """The application database every server of this session uses."""
    return f"sqlite:///{tmp_path_factory.mktemp('browser-app-db') / 'app.db'}"


@contextlib.contextmanager
def using_app_db(url: str):
    """BIZENV_APP_DB set to `url` for office calls made by the test process itself."""
    before = os.environ.get("BIZENV_APP_DB")
    os.environ["BIZENV_APP_DB"] = url
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("BIZENV_APP_DB", None)
        else:
            os.environ["BIZENV_APP_DB"] = before


@pytest.fixture(scope="session")
def start_app(app_db_url):
    """Factory: start_app(data_dir, **env) -> App; every app is stopped at the end of the session."""
    apps: list[App] = []

    def _start(data_dir: Path, **env: str) -> App:
        app = App(data_dir, {"BIZENV_APP_DB": app_db_url, **env})
        apps.append(app)
        return app

    yield _start
    for app in apps:
        app.stop()


@pytest.fixture(scope="session")
def session_cookie(app_db_url, tmp_path_factory) -> dict:
    """The cookie of a signed-in 营商办 test account, valid on every server of the session."""
    from kpi.settings import DataDir
    from tests import signin
    from ui import auth

    with using_app_db(app_db_url):
        token = signin.token_for("营商办", data_dir=DataDir.of(tmp_path_factory.mktemp("signin")))
    return {"name": auth.COOKIE, "value": token, "url": "http://127.0.0.1"}


class SignedInBrowser:
    """Chromium whose new contexts and pages start signed in (the session cookie set)."""

    def __init__(self, browser, cookie: dict):
        self._browser = browser
        self._cookie = cookie

    def new_context(self, **kwargs):
        ctx = self._browser.new_context(**kwargs)
        ctx.add_cookies([self._cookie])
        return ctx

    def new_page(self, **kwargs):
        ctx = self.new_context(**kwargs)
        page = ctx.new_page()
        page.on("close", lambda _: ctx.close())  # like Browser.new_page: the page owns it
        return page

    def anonymous_context(self, **kwargs):
        return self._browser.new_context(**kwargs)

    def __getattr__(self, name):
        return getattr(self._browser, name)


@pytest.fixture(scope="session")
def browser(session_cookie):
    if not CHROMIUM.exists():
        pytest.fail(
            "Debian chromium is missing: apt-get install chromium fonts-noto-cjk (.ci/run does this)"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield SignedInBrowser(b, session_cookie)
        b.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
