"""bizenv 营商环境指标看板 — Streamlit entry: page config, sign-in, first-run demo, navigation by role."""

import streamlit as st

from etl.bootstrap import ensure_demo_snapshot
from ui import app_shell

# Every page, by section; ui.app_shell shows each visitor the pages of its role (office.roles).
pages = {
    "看板": [
        st.Page("pages/overview.py", title="总览", icon=":material/dashboard:", default=True),
        st.Page("pages/domains.py", title="指标领域", icon=":material/category:"),
        st.Page("pages/district.py", title="区县画像", icon=":material/location_city:"),
        st.Page("pages/trends.py", title="趋势分析", icon=":material/trending_up:"),
        st.Page("pages/records.py", title="明细", icon=":material/manage_search:"),
        st.Page("pages/data_status.py", title="数据", icon=":material/database:"),
    ],
    "填报": [
        st.Page("pages/filing.py", title="指标填报", icon=":material/edit_note:"),
        st.Page("pages/filing_review.py", title="填报审核", icon=":material/fact_check:"),
    ],
    "督办": [
        st.Page("pages/tracking_tasks.py", title="督办任务", icon=":material/assignment_late:"),
        st.Page("pages/tracking_problems.py", title="清障问题", icon=":material/construction:"),
        st.Page("pages/tracking_projects.py", title="为企办实事", icon=":material/flag:"),
        st.Page("pages/tracking_benchmarks.py", title="双对标", icon=":material/compare_arrows:"),
        st.Page("pages/tracking_awards.py", title="蜗牛·骏马", icon=":material/emoji_events:"),
    ],
    "大屏": [st.Page("pages/led.py", title="一屏通览", icon=":material/tv:", url_path="led")],
    "管理": [
        st.Page("pages/audit.py", title="审计日志", icon=":material/history:"),
        st.Page("pages/accounts.py", title="账号与设置", icon=":material/manage_accounts:"),
    ],
    "我的": [st.Page("pages/account.py", title="我的账号", icon=":material/person:")],
}

app_shell.run(pages, bootstrap=ensure_demo_snapshot)
