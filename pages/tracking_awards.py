"""蜗牛/骏马: each quarter's leads per unit (承办单位 / 办理部门) with their evidence counted, and
营商办's 评议 result (awarded or not, date, note). Leads stay 候选 until a result is recorded."""

import streamlit as st

from office.tracking import items, views
from ui import data, state, tables
from ui import tracking as tr

snap = state.require_snapshot()
dd = data.data_dir()
scope, actor = tr.who()
st.title("蜗牛奖 · 骏马奖")
st.caption(
    "蜗牛候选按逾期未办结、差评超期未整改、重复投诉和督办任务逾期计数；骏马候选按单位得分较上季提升和清理逾期件。"
    "（工单退回次数不在导出数据中，未计入。）评议结果由营商办录入，授予的单位在大屏和季度评议材料中展示。"
)
period, partial = state.period_picker(snap, key="awards_period")
if period is None:
    st.stop()
if partial:
    st.info("所选季度尚未结束：候选仅供参考，评议请在季度结束后进行。")
today = tr.today()
cur = tr.snapshot_cursor(snap.path)
try:
    table = views.award_list(cur, dd, period, today, data.district_names())
finally:
    cur.close()
if table.empty:
    tr.empty("本季度没有蜗牛或骏马候选。")
    st.stop()
kind = st.radio("奖项", ["全部", "蜗牛奖", "骏马奖"], horizontal=True, key="awards_kind")
shown = table if kind == "全部" else table[table["奖项"] == kind]
shown = shown.reset_index(drop=True)
sel = tables.show(shown, "awards_table", f"蜗牛骏马_{period}", select="single-row")
tr.ledger_bar("awards", scope, "awards_ledger")

row = tables.selected_row(sel)
if row is None or not tr.is_office(scope):
    st.caption("营商办点选一行录入评议结果。" if tr.is_office(scope) else "")
    st.stop()
r = shown.iloc[row]
st.subheader(f"{r['奖项']} · {r['单位']}")
with st.form("award_edit"):
    awarded = st.radio("评议结果", ["授予", "未授予"], horizontal=True, key="award_result")
    day = st.date_input("评议日期", today, key="award_date", format="YYYY-MM-DD")
    note = st.text_input(
        "评议说明", value=r["评议说明"] if isinstance(r["评议说明"], str) else "", key="award_note"
    )
    if st.form_submit_button("保存评议结果"):
        existing = items.awards(dd, period)
        kind_key = r["奖项"].removesuffix("奖")
        hit = existing[(existing["kind"] == kind_key) & (existing["unit"] == r["单位"])]
        values = {"awarded": awarded == "授予", "decided_on": day, "note": note or None}
        if hit.empty:
            ok = tr.act(
                items.create,
                dd,
                scope,
                actor,
                "award",
                period=period,
                kind=kind_key,
                unit=r["单位"],
                district_code=None,
                evidence=r["依据"] or None,
                **values,
            )
        else:
            ok = tr.act(items.update, dd, scope, actor, "award", int(hit["id"].iloc[0]), **values)
        if ok:
            st.rerun()
