"""The frame around every page: page config, first-run demo bootstrap, navigation."""

from __future__ import annotations

from urllib.parse import urlparse

import streamlit as st

from kpi import store

LED_URL_PATH = "led"


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


def _led_requested() -> bool:
    """The lobby screen is asked for: /led, or ?mode=led on any page."""
    path = urlparse(st.context.url or "").path.rstrip("/")
    return path.endswith("/" + LED_URL_PATH) or st.query_params.get("mode") == "led"


def run(pages: dict) -> None:
    st.set_page_config(page_title="营商环境指标看板", page_icon="📊", layout="wide")
    _bootstrap_demo()
    led_pages = [p for section in pages.values() for p in section if p.url_path == LED_URL_PATH]
    if led_pages and _led_requested():
        # Navigation hidden: no sidebar, no menu, nothing to click on a kiosk. All pages stay
        # registered (a page alone would become the default, served at "/" rather than "/led").
        page = st.navigation(pages, position="hidden")
        if page.url_path != LED_URL_PATH:  # ?mode=led on another page
            params = {k: v for k, v in st.query_params.to_dict().items() if k != "mode"}
            st.switch_page(led_pages[0], query_params=params)
        page.run()
        return
    st.navigation(pages).run()
