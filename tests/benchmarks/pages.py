"""Warm render time of every dashboard page on the demo data (prints figures; never fails).

    uv run python tests/benchmarks/pages.py                # builds the demo in a temp dir first
    BIZENV_DATA_DIR=data/warehouse uv run python tests/benchmarks/pages.py   # an existing snapshot

Each page is opened through dashboard.py with Streamlit's AppTest (the same script run a browser
triggers, minus the network): one cold run fills the caches, then the median of the warm runs is
what a user waits for on every click.
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

    print(f"快照：{store.current_snapshot_path()}")
    print(f"{'页面':<8}{'首次(冷)':>10}{'热运行中位数':>14}{'最慢热运行':>12}")
    for title, page, params in PAGES:
        at = AppTest.from_file(str(REPO / "dashboard.py"), default_timeout=120)
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
        warm = []
        for _ in range(WARM_RUNS):
            t = time.perf_counter()
            at.run()
            warm.append(time.perf_counter() - t)
        print(
            f"{title:<8}{cold * 1000:>9.0f}ms{statistics.median(warm) * 1000:>12.0f}ms{max(warm) * 1000:>10.0f}ms"
        )


if __name__ == "__main__":
    main()
