"""督办任务: proposed after each build for every red district × indicator and every 应报未报,
addressed to the indicator's 牵头部门 and the district; 营商办 confirms or dismisses, the unit
reports progress, 营商办 销号 on evidence, a task closes itself when the indicator turns good."""

import streamlit as st

from kpi import store as warehouse
from office.tracking import items, tasks, views
from ui import data, state, tables
from ui import tracking as tr

state.ensure_entry()
dd = data.data_dir()
scope, actor = tr.who()
st.title("督办任务")
st.caption(
    "每次计算评分后，按最近一个完整季度的红灯指标（区县 × 指标）和应报未报自动生成待确认任务，"
    "交指标牵头部门和所在区县整改；下一个完整季度该指标不再是红灯时自动销号。"
)
tr.scope_note(scope)
today = tr.today()
frame = views.task_list(dd, today, scope)
if tr.is_office(scope):
    snap = warehouse.current_snapshot_path(dd)
    if snap is not None and st.button("按当前数据快照生成督办任务", key="tasks_propose"):
        got = tasks.propose(dd, snap, actor=actor)
        st.success(f"{got.period}：新生成 {got.proposed} 项，自动销号 {got.closed} 项。")
        frame = views.task_list(dd, today, scope)
if frame.empty:
    tr.empty("还没有督办任务。计算评分（bizenv build）后，红灯指标会自动生成待确认的督办任务。")
    st.stop()

c = st.columns(5)
period = tr.pick(c[0], "季度", frame["季度"], "tasks_period")
status = tr.pick(c[1], "状态", frame["状态"], "tasks_state")
district = tr.pick(c[2], "区县", frame["区县"], "tasks_district")
unit = tr.pick(c[3], "牵头部门", frame["牵头部门"], "tasks_unit")
late_only = c[4].toggle("只看逾期", key="tasks_late")
shown = frame
for col, value in (("季度", period), ("状态", status), ("区县", district), ("牵头部门", unit)):
    if value is not None:
        shown = shown[shown[col] == value]
if late_only:
    shown = shown[shown["逾期"] == "逾期"]

m = st.columns(4)
m[0].metric("任务", f"{len(shown):,}")
m[1].metric("督办中", f"{(shown['状态'] == '督办中').sum():,}")
m[2].metric("待确认", f"{(shown['状态'] == '待确认').sum():,}")
m[3].metric("逾期", f"{(shown['逾期'] == '逾期').sum():,}")
table = shown.drop(columns=["id", "区县代码"]).reset_index(drop=True)
sel = tables.show(
    table, "tasks_table", "督办任务", styler=tr.colour_rows(table), select="single-row"
)
tr.ledger_bar("tasks", scope, "tasks_ledger")

row = tables.selected_row(sel)
if row is None:
    st.caption("点选一行：查看历史、确认或驳回、填写整改进展、销号。")
    st.stop()
task = shown.iloc[row]
tid = int(task["id"])
st.subheader(f"{task['区县']} · {task['指标']}（{task['季度']}，{task['状态']}）")
hist = items.task_history(dd, tid)
st.dataframe(
    hist.rename(columns={"at": "时间", "actor": "操作人", "action": "操作", "note": "说明"})[
        ["时间", "操作人", "操作", "说明"]
    ],
    hide_index=True,
    key="tasks_history",
)
if tr.is_office(scope) and task["状态"] in ("待确认", "督办中"):
    with st.form("tasks_decide"):
        note = st.text_input("说明", key="tasks_note")
        evidence = st.text_area("销号佐证（销号时必填）", key="tasks_evidence")
        b = st.columns(3)
        if b[0].form_submit_button("确认督办") and tr.act(
            items.decide_task, dd, scope, actor, tid, True, note
        ):
            st.rerun()
        if b[1].form_submit_button("不督办") and tr.act(
            items.decide_task, dd, scope, actor, tid, False, note
        ):
            st.rerun()
        if b[2].form_submit_button("销号") and tr.act(
            items.write_off_task, dd, scope, actor, tid, evidence, today, done="已销号。"
        ):
            st.rerun()
with st.form("tasks_progress"):
    st.caption("整改进展和佐证（牵头部门、所在区县和营商办可以填写）")
    progress = st.text_area("整改进展", value=tr.text(task["整改进展"]), key="tasks_progress_text")
    evidence = st.text_input("佐证", value=tr.text(task["佐证"]), key="tasks_progress_evidence")
    if st.form_submit_button("保存进展") and tr.act(
        items.update,
        dd,
        scope,
        actor,
        "task",
        tid,
        progress=progress or None,
        evidence=evidence or None,
    ):
        st.rerun()
