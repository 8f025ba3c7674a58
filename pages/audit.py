"""审计日志: who signed in, loaded, exported or looked at records, and when — filtered by person,
action and date, and exported (the export is itself audited)."""

import datetime as dt

import streamlit as st

from kpi.read.exports import csv_bytes, xlsx_bytes
from office import audit, roles
from ui import auth, data, state

state.ensure_entry()
dd = data.data_dir()
st.title("审计日志")
if not auth.may(roles.VIEW_AUDIT):  # the menu hides the page too; this is the server's word
    st.warning("您的账号没有查看审计日志的权限。")
    st.stop()
st.caption(
    "登录、登录失败、退出，导入、计算和发布，表格导出，明细的查看与导出，账号与设置的修改都记录在这里；"
    "记录只能追加，不能修改或删除。时间为北京时间。"
)

c = st.columns([1.2, 2.2, 1.6])
people = ["全部人员", *audit.actors(dd)]
person = c[0].selectbox("人员", people, key="audit_person")
actions = c[1].multiselect(
    "操作",
    list(audit.ACTIONS),
    format_func=audit.ACTIONS.get,
    key="audit_actions",
    placeholder="全部操作",
)
today = dt.datetime.now(audit.BEIJING).date()
span = c[2].date_input(
    "日期", (today - dt.timedelta(days=30), today), key="audit_dates", format="YYYY-MM-DD"
)
start, end = (span[0], span[-1]) if isinstance(span, tuple) and span else (None, None)
query = {
    "actor": None if person == "全部人员" else person,
    "actions": actions or None,
    "start": start,
    "end": end,
}
total = audit.count(dd, **query)
size = 200
pages = max(1, -(-total // size))
c2 = st.columns([1, 1, 3])
page = c2[0].number_input(f"页码（共 {pages:,} 页）", 1, pages, 1, key="audit_page")
c2[1].metric("记录数", f"{total:,}")
frame = audit.search(dd, **query, limit=size, offset=(int(page) - 1) * size)
st.dataframe(
    frame,
    hide_index=True,
    height="content",
    placeholder="—",
    column_config={
        "时间": st.column_config.DatetimeColumn("时间", format="YYYY-MM-DD HH:mm:ss"),
        "详情": st.column_config.TextColumn("详情", width="large"),
    },
    key="audit_table",
)

LIMIT = 200_000
described = {
    "人员": person,
    "操作": "、".join(audit.ACTIONS[a] for a in actions) or "全部",
    "日期": f"{start} 至 {end}",
    "行数": min(total, LIMIT),
}


def _all():
    return audit.search(dd, **query, limit=LIMIT)


d = st.container(horizontal=True, gap="small", vertical_alignment="center")
d.download_button(
    "下载 CSV",
    auth.audited(
        dd, "audit_export", "审计日志", {**described, "格式": "CSV"}, lambda: csv_bytes(_all())
    ),
    f"审计日志_{start}_{end}.csv",
    "text/csv",
    key="audit_csv",
    on_click="ignore",
    icon=":material/download:",
)
d.download_button(
    "下载 XLSX",
    auth.audited(
        dd,
        "audit_export",
        "审计日志",
        {**described, "格式": "XLSX"},
        lambda: xlsx_bytes({"审计日志": _all()}),
    ),
    f"审计日志_{start}_{end}.xlsx",
    key="audit_xlsx",
    on_click="ignore",
    icon=":material/download:",
)
d.caption(f"下载当前筛选的全部记录（最多 {LIMIT:,} 行）；下载本身也记入审计日志。")
