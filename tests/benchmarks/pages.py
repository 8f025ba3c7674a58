"""Warm render time of every dashboard page on the demo data (prints figures; never fails).

    uv run python tests/benchmarks/pages.py                # builds the demo in a temp dir first
    BIZENV_DATA_DIR=data/warehouse uv run python tests/benchmarks/pages.py   # an existing snapshot

Each page is opened through dashboard.py with Streamlit's AppTest (the same script run a browser
triggers, minus the network), signed in as a 营商办 test account: one cold run fills the caches,
then the median of the warm runs is what a user waits for on every click.

Then the login check every run makes (ui.auth.check: the session token looked up in the
application database, last activity written at most once a minute) is timed on its own, inside a
script run, on the SQLite app.db — and on PostgreSQL too when BIZENV_TEST_PG_URL is set.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

PAGES = [
    ("总览", "pages/overview.py", {}),
    ("指标领域", "pages/domains.py", {"domain": "government_services"}),
    ("区县画像", "pages/district.py", {"district": "330824"}),
    ("趋势分析", "pages/trends.py", {"level": "indicator", "indicator": "hotline_resolution_rate"}),
    (
        "明细",
        "pages/records.py",
        {"district": "330802", "source": "hotline", "indicator": "hotline_resolution_rate"},
    ),
    ("数据", "pages/data_status.py", {}),
]
WARM_RUNS = 7


def ensure_data() -> None:
    if os.environ.get("BIZENV_DATA_DIR"):
        return
    tmp = Path(tempfile.mkdtemp(prefix="bizenv-bench-"))
    os.environ["BIZENV_DATA_DIR"] = str(tmp / "warehouse")
    os.environ["BIZENV_DEMO_DIR"] = str(tmp / "demo")
    from etl.bootstrap import ensure_demo_snapshot

    t = time.perf_counter()
    ensure_demo_snapshot()
    print(f"演示数据已生成并导入：{time.perf_counter() - t:.1f} s（{tmp}）")


def main() -> None:
    ensure_data()
    from streamlit.testing.v1 import AppTest

    from kpi import store
    from tests import signin

    print(f"快照：{store.current_snapshot_path()}")
    print(f"{'页面':<8}{'首次(冷)':>10}{'热运行中位数':>14}{'最慢热运行':>12}")
    for title, page, params in PAGES:
        at = AppTest.from_file(str(REPO / "dashboard.py"), default_timeout=120)
        signin.sign_in(at, "营商办")
        for k, v in params.items():
            at.query_params[k] = v
        at.run()
        at.switch_page(page)
        t = time.perf_counter()
        at.run()
        cold = time.perf_counter() - t
        if at.exception:
            print(f"{title}: 异常 {at.exception[0].value}")
            continue
        if [t.value for t in at.title] == ["营商环境指标看板"]:
            print(f"{title}: 显示的是登录页，未登录成功")
            continue
        warm = []
        for _ in range(WARM_RUNS):
            t = time.perf_counter()
            at.run()
            warm.append(time.perf_counter() - t)
        print(
            f"{title:<8}{cold * 1000:>9.0f}ms{statistics.median(warm) * 1000:>12.0f}ms{max(warm) * 1000:>10.0f}ms"
        )
    login_check()


CHECKS = 300


def _check_script():
    """Inside a script run, like a page: the login check timed CHECKS times (one cold first)."""
    import time

    import streamlit as st

    from ui import auth, data

    dd = data.data_dir()
    auth.check(dd)
    times = []
    for _ in range(st.session_state["checks"]):
        t = time.perf_counter()
        auth.check(dd)
        times.append(time.perf_counter() - t)
    st.session_state["times"] = times


def _time_checks(label: str) -> None:
    from streamlit.testing.v1 import AppTest

    from kpi.settings import DataDir
    from office import store
    from tests import signin

    at = AppTest.from_function(_check_script, default_timeout=120)
    signin.sign_in(at, "营商办")
    at.session_state["checks"] = CHECKS
    at.run()
    times = sorted(at.session_state["times"])
    # and the run that writes last_seen_at (once a minute per session): the session aged first
    with store.engine(DataDir.of()).begin() as conn:
        aged = (
            "last_seen_at - INTERVAL '2 minutes'"
            if conn.dialect.name == "postgresql"
            else "datetime(last_seen_at, '-2 minutes')"
        )
        conn.exec_driver_sql(f"UPDATE sessions SET last_seen_at = {aged}")
    at.session_state["checks"] = 1
    at.run()
    touch = at.session_state["times"][0]
    print(
        f"登录检查（{label}）：中位数 {statistics.median(times) * 1000:.2f} ms，"
        f"95% {times[int(len(times) * 0.95)] * 1000:.2f} ms，最慢 {times[-1] * 1000:.2f} ms；"
        f"写入最近活动时间的那次 {touch * 1000:.2f} ms（每个会话每分钟至多一次）"
    )


def login_check() -> None:
    from office import store

    os.environ.pop(store.APP_DB_ENV, None)
    _time_checks("SQLite app.db")
    pg = os.environ.get("BIZENV_TEST_PG_URL")
    if pg:
        os.environ[store.APP_DB_ENV] = pg
        _time_checks("PostgreSQL")
        os.environ.pop(store.APP_DB_ENV, None)


if __name__ == "__main__":
    main()
