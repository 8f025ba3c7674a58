"""明细: the records behind a score (办件, 12345 工单, 好差评) for a district, quarter and indicator
filter — paged, searchable, exportable, without personal data; only the records the reader's
scope allows (区县: its district; 部门: its indicators), every view and export audited."""

import streamlit as st

from kpi.read import queries
from kpi.read.exports import csv_bytes, xlsx_bytes
from kpi.schema import SOURCE_LABELS
from office import roles
from ui import auth, data, state
from ui.data import spec

snap = state.require_snapshot()
dd = data.data_dir()
who = auth.scope()
st.title("明细")
st.caption(state.freshness_caption(snap) + " · 不含个人信息（来电号码等已在导入时删除或脱敏）。")


def refuse(reason: str, details: dict) -> None:
    """Nothing of what the URL asked for, the reason on screen, the attempt in the audit log."""
    auth.record(dd, "records_denied", "明细", {**details, "原因": reason}, outcome="denied")
    st.warning(reason, icon=":material/block:")
    st.stop()


# A 区县 reader sees its own district only: a URL naming another (or 全部) shows nothing and
# says why, rather than quietly showing its own. The record queries carry the code anyway.
asked = st.query_params.get("district")
if (
    who.role == roles.Role.DISTRICT
    and asked is not None
    and (
        why := who.district_denied(
            None if asked == "all" else asked, data.district_names().get(asked)
        )
    )
):
    refuse(why, {"区县": asked})
c = st.columns([1, 1, 1, 1.4])
period, _ = state.period_picker(snap, c[0])
if who.role == roles.Role.DISTRICT:
    st.query_params["district"] = who.district_code
    c[1].selectbox(
        "区县", [who.district_name or who.district_code], disabled=True, key="district_own"
    )
    district = who.district_code
else:
    district = state.district_picker(snap, c[1], allow_all=True)
source = state.picker(
    "source",
    "数据来源",
    ["approvals", "hotline", "ratings"],
    container=c[2],
    format_func=SOURCE_LABELS.get,
)

indicator = st.query_params.get("indicator")
if why := who.indicator_denied(spec(), indicator):  # a 部门 reader: its own indicators only
    refuse(why, {"指标": indicator})
if who.role == roles.Role.DEPARTMENT and not indicator:
    st.info(
        f"您的账号（部门：{who.department}）只能看到本部门负责的指标背后的记录；"
        "从“指标领域”或“区县画像”页点击本部门的指标可以按指标口径查看。"
    )
ind, _ = queries.find_indicator(spec(), indicator) if indicator else (None, None)
filt = (
    queries.indicator_filter(spec(), indicator)
    if ind is not None and ind.source == source
    else None
)
filter_sql, filter_params, domain = None, None, None
if filt:  # the indicator's own filters define its scope (it may span domains)
    filter_sql, filter_params, text = filt
    c[3].selectbox("指标领域", [f"按指标口径：{ind.label_zh}"], disabled=True, key="domain_locked")
    st.info(f"指标“{ind.label_zh}”背后的记录。{text}。")
else:
    domain = state.domain_picker(snap, c[3], allow_all=True)
    if indicator:
        st.info("按数据来源、区县、季度和领域筛选（未取到该指标的统计口径）。")
if indicator and st.button("清除指标筛选", key="clear_indicator"):
    st.query_params.pop("indicator", None)
    st.rerun()

search = st.text_input(
    "搜索（编号、事项、部门、分类、内容……）", key="q", value=st.query_params.get("q", "")
)
if search:
    st.query_params["q"] = search
else:
    st.query_params.pop("q", None)

args = {
    "period": period,
    "district": district,
    "domain_key": domain,
    "search": search or None,
    "filter_sql": filter_sql,
    "filter_params": filter_params,
    "period_column": queries.indicator_period_column(spec(), indicator) if filt else "period",
}
total = snap.records_count(source, **args)
columns = queries.RECORD_COLUMNS[source]
size = 50
pages = max(1, -(-total // size))
c2 = st.columns([1, 1.3, 1.1, 1.2])
sort_col = state.picker(
    "sort",
    "排序（全部记录）",
    list(columns),
    queries.RECORD_ORDER[source][0],
    container=c2[1],
    format_func=columns.get,
)
order = state.picker(
    "order",
    "顺序",
    ["desc", "asc"],
    container=c2[2],
    format_func={"desc": "从大到小 / 从新到旧", "asc": "从小到大 / 从旧到新"}.get,
)
sorting = {"order_by": sort_col, "descending": order == "desc"}
# a new filter or a new order starts again at page 1
view = (source, tuple((k, str(v)) for k, v in args.items()), sort_col, order)
if (
    st.session_state.get("_records_view") != view
    or not 1 <= st.session_state.get("page", 1) <= pages
):
    st.session_state["page"] = 1
st.session_state["_records_view"] = view
page = c2[0].number_input(
    f"页码（共 {pages:,} 页）", min_value=1, max_value=pages, step=1, key="page"
)
c2[3].metric("记录数", f"{total:,}")  # exact: the count behind an indicator's 样本量
frame = snap.records(source, limit=size, offset=(int(page) - 1) * size, **args, **sorting)
seen = {  # the audit log's words for this view
    "来源": SOURCE_LABELS[source],
    "季度": period,
    "区县": district or "全部",
    "领域": domain,
    "指标": indicator,
    "搜索": search,
    "页码": int(page),
    "记录数": total,
}
if st.session_state.get("_records_audited") != (view, int(page)):  # each view once, not each rerun
    auth.record(dd, "records_view", f"明细·{SOURCE_LABELS[source]}", seen)
    st.session_state["_records_audited"] = (view, int(page))
if frame.empty:
    st.info("没有符合条件的记录。")
# 诉求内容 early and wide enough to read; the rest in their usual order
first = {"hotline": ["ticket_id", "received_at", "topic", "content"]}.get(source, [])
shown = [columns[c] for c in first] + [v for k, v in columns.items() if k not in first]
# A click on a column header sorts all the records by it (again: the other way round), in SQL
# like the selectboxes — the grid's own header sort would reorder only the 50 rows on screen, so
# column selection replaces it. The key names the order, so a new order starts unselected.
st.caption("点击表头按该列对全部记录排序，再点一次反向。")
event = st.dataframe(
    frame,
    hide_index=True,
    key=f"records_table__{sort_col}_{order}",
    height="content",  # the whole page of records, no scrolling inside a 10-row box
    placeholder="—",
    column_order=shown,
    column_config=(
        {columns["content"]: st.column_config.TextColumn(width=560)}  # ~40 characters
        if "content" in columns
        else None
    ),
    on_select="rerun",
    selection_mode="single-column",
)
clicked = {v: k for k, v in columns.items()}.get(next(iter(event.selection.columns), None))
if clicked:
    st.query_params["sort"] = clicked
    st.query_params["order"] = (
        ("asc" if order == "desc" else "desc") if clicked == sort_col else "desc"
    )
    st.rerun()

limit = queries.RECORDS_DOWNLOAD_LIMIT
if not auth.may(roles.EXPORT_RECORDS):
    st.stop()
# the whole filtered set, in the order on screen, within the reader's scope (built on click)
_all = data.all_records(snap.path, source, limit, **args, **sorting)
name = f"明细_{SOURCE_LABELS[source]}_{period}"
exported = {**seen, "行数": min(total, limit)}
exported.pop("页码")
d = st.container(horizontal=True, gap="small", vertical_alignment="center")
d.download_button(
    "下载 CSV",
    auth.audited(
        dd, "records_export", name, {**exported, "格式": "CSV"}, lambda: csv_bytes(_all())
    ),
    f"{name}.csv",
    "text/csv",
    key="rec_csv",
    on_click="ignore",
    icon=":material/download:",
)
d.download_button(
    "下载 XLSX",
    auth.audited(
        dd,
        "records_export",
        name,
        {**exported, "格式": "XLSX"},
        lambda: xlsx_bytes({"明细": _all()}),
    ),
    f"{name}.xlsx",
    key="rec_xlsx",
    on_click="ignore",
    icon=":material/download:",
)
d.caption(
    f"下载最多 {limit:,} 行；当前筛选共 {total:,} 行"
    + (
        "，全部在下载中。"
        if total <= limit
        else f"，下载只含按当前排序的前 {limit:,} 行，其余 {total - limit:,} 行请缩小筛选范围后再下载。"
    )
)
