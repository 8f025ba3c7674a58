"""为企办实事: the 张榜公示 board — every project with its milestones, progress and 红/黄/绿 from
progress against the plan (thresholds and colour meaning: settings, see README)."""

import streamlit as st

from office.tracking import items, rules, views
from ui import data, state, tables
from ui import tracking as tr

state.ensure_entry()
dd = data.data_dir()
scope, actor = tr.who()
st.title("为企办实事")
colours = rules.ProjectColours.from_env()
legend = " · ".join(f"{rules.COLOUR_ZH[c]} {w}" for c, w in colours.meaning)
st.caption(
    f"张榜公示。颜色按进度与节点计划比较：计划进度 = 到今天应完成的节点占比；落后不超过 "
    f"{colours.amber_lag:g} 个百分点为进展顺利，超过 {colours.red_lag:g} 个百分点为受阻，其间为相对迟缓（{legend}）。"
)
tr.scope_note(scope)
today = tr.today()
board = views.project_board(dd, today, data.district_names())
if board.empty:
    tr.empty("还没有为企办实事项目。可下载空白模板填好后导入（营商办）。")
    tr.ledger_bar("projects", scope, "projects_ledger")
    st.stop()

c = st.columns([1, 1, 2])
unit = tr.pick(c[0], "牵头单位", board["牵头单位"], "projects_unit")
colour = tr.pick(c[1], "红黄绿", board["红黄绿"], "projects_colour")
shown = board
if unit:
    shown = shown[shown["牵头单位"] == unit]
if colour:
    shown = shown[shown["红黄绿"] == colour]
m = st.columns(4)
m[0].metric("项目", f"{len(shown)}")
for i, (c_key, word) in enumerate(colours.meaning, start=1):
    m[i].metric(f"{rules.COLOUR_ZH[c_key]}（{word}）", f"{(shown['colour'] == c_key).sum()}")
table = shown.drop(columns=["id", "colour"]).reset_index(drop=True)
sel = tables.show(
    table, "projects_table", "为企办实事", styler=tr.colour_rows(table), select="single-row"
)
tr.ledger_bar("projects", scope, "projects_ledger")

row = tables.selected_row(sel)
if row is None:
    st.caption("点选一个项目，查看节点计划，更新进度和节点完成日期。")
    st.stop()
p = shown.iloc[row]
pid = int(p["id"])
st.subheader(f"{p['项目名称']}（{p['红黄绿']} · {p['进展评价']}）")
steps = items.milestones(dd)
steps = steps[steps["project_id"] == pid].sort_values("seq")
st.dataframe(
    steps.rename(
        columns={"seq": "序号", "name": "节点", "planned_on": "计划完成", "actual_on": "实际完成"}
    )[["序号", "节点", "计划完成", "实际完成"]],
    hide_index=True,
    key="projects_steps",
)
with st.form("project_edit"):
    progress = st.number_input(
        "进度（%）", 0.0, 100.0, float(p["进度（%）"] or 0), key="project_progress"
    )
    note = st.text_area("进展情况", value=tr.text(p["进展情况"]), key="project_note")
    open_steps = steps[steps["actual_on"].isna()]
    step = st.selectbox(
        "本次完成的节点",
        ["（无）", *[f"{s.seq}. {s.name}" for s in open_steps.itertuples()]],
        key="project_step",
    )
    if st.form_submit_button("保存"):
        ok = tr.act(
            items.update, dd, scope, actor, "project", pid, progress=progress, note=note or None
        )
        if ok and step != "（无）":
            ok = tr.act(items.set_milestone, dd, scope, actor, pid, int(step.split(".")[0]), today)
        if ok:
            st.rerun()
