"""清障: the 全量问题清单, the 分类整改清单 (by category and unit), the 逐批销号清单 and the figures
(total, solved, 解决率, 按期销号率, overdue) by district, unit and category, quarter by quarter."""

import pandas as pd
import streamlit as st

from office.tracking import items, rules, views
from ui import data, state, tables
from ui import tracking as tr

state.ensure_entry()
dd = data.data_dir()
scope, actor = tr.who()
st.title("清障问题")
st.caption(
    "企业反映的问题从交办到销号：解决率 = （已解决 + 已销号）÷ 问题总数（解释说明计入总数、不算解决）；"
    "按期销号率 = 在整改时限内销号 ÷ 已销号；逾期 = 超过整改时限仍未办结。"
)
tr.scope_note(scope)
today = tr.today()
frame = views.problem_list(dd, today, scope, data.district_names())
if frame.empty:
    tr.empty("还没有清障问题。可下载空白模板填好后导入（营商办），或用 bizenv load 导入台账。")
    tr.ledger_bar("problems", scope, "problems_ledger")
    st.stop()

c = st.columns(4)
district = tr.pick(c[0], "区县", frame["区县"], "problems_district")
unit = tr.pick(c[1], "责任单位", frame["责任单位"], "problems_unit")
category = tr.pick(c[2], "问题类别", frame["问题类别"], "problems_category")
status = tr.pick(c[3], "状态", frame["状态"], "problems_status")
shown = frame
for col, value in (
    ("区县", district),
    ("责任单位", unit),
    ("问题类别", category),
    ("状态", status),
):
    if value is not None:
        shown = shown[shown[col] == value]

fig = views.problem_figures(shown, [], today)
m = st.columns(5)
if not fig.empty:
    r = fig.iloc[0]
    m[0].metric("问题总数", f"{int(r['问题总数']):,}")
    m[1].metric("已解决", f"{int(r['已解决']):,}")
    m[2].metric("解决率", f"{r['解决率']:.1f}%")
    m[3].metric(
        "按期销号率", "—" if r["按期销号率"] != r["按期销号率"] else f"{r['按期销号率']:.1f}%"
    )
    m[4].metric("逾期未办结", f"{int(r['逾期未办结']):,}")

full, by_cat, by_batch, by_quarter = st.tabs(
    ["全量问题清单", "分类整改清单", "逐批销号清单", "按季度"]
)
with full:
    table = shown.drop(columns=["id", "区县代码"]).reset_index(drop=True)
    sel = tables.show(
        table, "problems_table", "清障问题清单", styler=tr.colour_rows(table), select="single-row"
    )
    tr.ledger_bar("problems", scope, "problems_ledger")
with by_cat:
    tables.show(
        views.problem_figures(shown, ["问题类别", "责任单位"], today),
        "problems_by_cat",
        "分类整改清单",
    )
with by_batch:
    off = shown[shown["状态"] == "已销号"]
    batches = off.groupby("销号批次", dropna=False).agg(
        销号数=("问题编号", "size"),
        首个销号日期=("销号日期", "min"),
        末个销号日期=("销号日期", "max"),
    )
    tables.show(batches.reset_index(), "problems_by_batch", "逐批销号清单")
with by_quarter:
    by = st.radio("分组", ["区县", "责任单位", "问题类别"], horizontal=True, key="problems_by")
    tables.show(
        views.problem_figures(shown, ["季度", by], today), "problems_by_quarter", f"清障按季度_{by}"
    )

row = tables.selected_row(sel)
if row is None:
    st.caption("在全量问题清单中点选一行，更新整改措施、状态和佐证。")
    st.stop()
p = shown.iloc[row]
pid = int(p["id"])
st.subheader(f"{p['问题编号']} · {p['企业名称']}（{p['状态']}）")
office = tr.is_office(scope)
allowed = rules.PROBLEM_STATUSES if office else items.UNIT_STATUSES
with st.form("problem_edit"):
    status_new = st.selectbox(
        "状态",
        allowed,
        index=allowed.index(p["状态"]) if p["状态"] in allowed else 0,
        key="problem_status",
    )
    measures = st.text_area("整改措施", value=tr.text(p["整改措施"]), key="problem_measures")
    evidence = st.text_input("佐证", value=tr.text(p["佐证"]), key="problem_evidence")
    batch = st.text_input(
        "销号批次", value=tr.text(p["销号批次"]), key="problem_batch", disabled=not office
    )
    if st.form_submit_button("保存"):
        changes: dict = {"measures": measures or None, "evidence": evidence or None}
        if status_new != p["状态"]:
            changes["status"] = status_new
        if office and status_new == "已销号":
            changes.update(
                batch=batch or None,
                closed_on=(
                    p["销号日期"].date()
                    if p["状态"] == "已销号" and not pd.isna(p["销号日期"])
                    else today
                ),
            )
        if tr.act(items.update, dd, scope, actor, "problem", pid, **changes):
            st.rerun()
