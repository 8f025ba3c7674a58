"""The frame around every page: page config, first-run demo bootstrap, navigation."""

from __future__ import annotations

import streamlit as st

from kpi import store


def _bootstrap_demo() -> None:
    """First run with no snapshot: generate the demo exports and load them through the real ETL."""
    if store.current_snapshot_path() is not None:
        return
    try:
        from etl.bootstrap import ensure_demo_snapshot
    except ImportError:
        return
    with st.status("首次运行：正在生成演示数据并导入……", expanded=True) as status:
        bar = st.progress(0.0)

        def progress(fraction: float, text: str) -> None:
            bar.progress(min(max(fraction, 0.0), 1.0), text=text)

        ensure_demo_snapshot(progress=progress)
        status.update(label="演示数据已就绪", state="complete", expanded=False)


def run(pages: dict) -> None:
    st.set_page_config(page_title="营商环境指标看板", page_icon="📊", layout="wide")
    _bootstrap_demo()
    st.navigation(pages).run()
