"""bizenv 营商环境指标看板 — Streamlit entry: page config, first-run demo, navigation."""

import streamlit as st

from etl.bootstrap import ensure_demo_snapshot
from ui import app_shell

pages = {
    "看板": [
        st.Page("pages/overview.py", title="总览", icon=":material/dashboard:", default=True),
        st.Page("pages/domains.py", title="指标领域", icon=":material/category:"),
        st.Page("pages/district.py", title="区县画像", icon=":material/location_city:"),
        st.Page("pages/trends.py", title="趋势分析", icon=":material/trending_up:"),
        st.Page("pages/records.py", title="明细", icon=":material/manage_search:"),
        st.Page("pages/data_status.py", title="数据", icon=":material/database:"),
    ],
    "大屏": [st.Page("pages/led.py", title="一屏通览", icon=":material/tv:", url_path="led")],
}

app_shell.run(pages, bootstrap=ensure_demo_snapshot)
