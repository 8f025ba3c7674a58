"""填报审核 (营商办): open a round for a quarter, review what departments submitted (approve, or return
rows or a whole submission with a comment), the status board (应报未报, 逾期, 填报及时率) and the
list of departments to remind. An approval loads the approved figures and rebuilds the scores."""

import datetime as dt

import pandas as pd
import streamlit as st

from kpi import periods
from kpi.errors import BizenvError
from kpi.read.exports import csv_bytes, xlsx_bytes
from office import filings, roles
from ui import auth, data, state
from ui import filing as ui

state.ensure_entry()
dd = data.data_dir()
st.title("填报审核")
who = auth.scope()
if who is None or not who.may(roles.REVIEW_FILINGS):  # the server's word, not only the menu's
    st.warning("只有营商办和管理员可以开启和审核指标填报。")
    st.stop()
ui.show_flash()
spec = data.spec()
if spec is None:
    st.error("指标规格 metrics.yaml 无法读取，暂时不能审核填报。请先在“数据”页查看问题。")
    st.stop()
found = filings.rounds(dd)

with st.expander("开启新的填报轮次", expanded=not found):
    now = periods.current_period()
    choices = [periods.previous(now), now, periods.next_period(now)]
    taken = {r.period for r in found}
    choices = [p for p in choices if p not in taken] or choices
    c = st.columns([1, 1, 2], vertical_alignment="bottom")
    period = c[0].selectbox("统计期", choices, format_func=periods.label_zh, key="open_period")
    rule = filings.default_deadline(spec, period)
    deadline = c[1].date_input("截止日期（含当天）", rule, key=f"open_deadline_{period}")
    note = c[2].text_input("给部门的填报说明（可不填）", key="open_note")
    today = dt.datetime.now(ui.filings.BEIJING).date()
    if isinstance(deadline, dt.date) and deadline < today:
        st.caption(f"注意：截止日期 {deadline} 已过，部门现在提交的都会记为逾期。")
    if isinstance(deadline, dt.date) and deadline != rule:
        st.caption(
            f"注意：数据质量中的“填报及时率”按 metrics.yaml 的期限（季度结束后 "
            f"{spec.defaults.report_deadline_days} 天，即 {rule}）计算；本轮截止日期与它不同时，"
            "状态表的“逾期”和数据质量的及时率会不一致。"
        )
    if st.button("开启填报", type="primary", key="open_go"):
        try:
            filings.open_round(dd, period, deadline, who, auth.actor(), note=note)
            ui.flash("success", f"已开启{periods.label_zh(period)}的填报，各部门登录后即可填报。")
        except BizenvError as err:
            ui.flash("error", str(err))
        st.rerun()
if not found:
    st.info("还没有填报轮次。在上方开启一个季度的填报后，各部门账号就能在“指标填报”页填报。")
    st.stop()

chosen = st.selectbox(
    "填报轮次", range(len(found)), format_func=lambda i: ui.round_label(found[i]), key="rv_round"
)
rnd = found[chosen]
ui.round_caption(rnd)
toggle = "结束填报" if rnd.status == "open" else "重新开启"
c = st.columns([1, 1, 3], vertical_alignment="bottom")
moved = c[0].date_input("截止日期", rnd.deadline, key=f"rv_deadline_{rnd.id}", format="YYYY-MM-DD")
if c[1].button("修改截止日期", key="rv_move", disabled=moved == rnd.deadline):
    filings.set_round(dd, rnd.id, who, auth.actor(), deadline=moved)
    ui.flash("success", f"截止日期已改为 {moved}。")
    st.rerun()
if c[2].button(toggle, key="rv_toggle"):
    filings.set_round(
        dd, rnd.id, who, auth.actor(), status="closed" if rnd.status == "open" else "open"
    )
    ui.flash("success", f"已{toggle}。")
    st.rerun()

pending = filings.unpublished(dd, rnd.id, who, auth.actor())
if pending:  # approved, but the publish job failed (or still runs): they are not in the scores
    warn = st.container(horizontal=True, vertical_alignment="center")
    warn.warning(
        f"{pending} 行已审核通过但还没有入库（上次入库失败或仍在运行），评分里还没有它们。"
    )
    if warn.button("重新入库", key="rv_republish"):
        ui.publish_approved(dd, rnd.id)
        st.rerun()

frame = ui.with_previous(filings.lines(dd, spec, rnd.id, who, auth.actor()), rnd.period)
review, status_tab, remind_tab = st.tabs(["审核", "填报情况", "催报名单"])

with review:
    waiting = frame[frame["status"] == "submitted"].reset_index(drop=True)
    if waiting.empty:
        st.info("没有待审核的填报。部门提交后会出现在这里。")
    else:
        depts = list(dict.fromkeys(waiting["department"]))
        dept = st.selectbox("部门", depts, key="rv_dept")
        mine = waiting[waiting["department"] == dept].reset_index(drop=True)
        st.caption(f"{dept}待审核 {len(mine)} 行。勾选要处理的行，或整份通过、整份退回。")
        scale = {i.key: i.scale for _, i in spec.indicators()}
        ratio = [
            r["numerator"] / r["denominator"] * scale.get(r["indicator_key"], 1.0)
            if r["parts"] and r["denominator"]
            else r["value"]
            for _, r in mine.iterrows()
        ]
        table = pd.DataFrame(
            {
                "选择": False,
                "区县": mine["district_name"],
                "指标": mine["label"],
                "单位": mine["unit"],
                "上季度值": pd.to_numeric(mine["previous"], errors="coerce"),
                "指标值": pd.to_numeric(mine["value"], errors="coerce"),
                "分子": pd.to_numeric(mine["numerator"], errors="coerce"),
                "分母": pd.to_numeric(mine["denominator"], errors="coerce"),
                "计算值": pd.to_numeric(pd.Series(ratio), errors="coerce"),
                "备注": mine["note"].fillna(""),
                "提交时间": mine["submitted_at"],
                "逾期": mine["late"].map({True: "逾期", False: ""}),
                "材料": mine["attachments"],
            }
        )
        picked = st.data_editor(
            table,
            hide_index=True,
            num_rows="fixed",
            placeholder="",
            disabled=[c for c in table.columns if c != "选择"],
            column_config={
                "选择": st.column_config.CheckboxColumn("选择", width=50),
                "区县": st.column_config.TextColumn(width=80),
                "指标": st.column_config.TextColumn(width=190),
                "提交时间": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
                "材料": st.column_config.NumberColumn(format="%d 份"),
            },
            key=f"rv_table_{rnd.id}_{dept}",
        )
        ids = [int(mine.loc[i, "line_id"]) for i in picked.index[picked["选择"]]]
        n = st.session_state.get("rv_done", 0)  # a new box after each action: no stale comment
        comment = st.text_area("退回意见（退回时必填，部门会看到）", key=f"rv_comment_{n}")
        b = st.container(horizontal=True)
        actions = {
            "approve_some": b.button("通过所选", type="primary", disabled=not ids, key="rv_ok"),
            "return_some": b.button("退回所选", disabled=not ids, key="rv_back"),
            "approve_all": b.button("整份通过", key="rv_ok_all"),
            "return_all": b.button("整份退回", key="rv_back_all"),
        }
        act = next((k for k, v in actions.items() if v), None)
        if act:
            lines = ids if act.endswith("some") else None
            department = None if lines else dept
            try:
                if act.startswith("approve"):
                    n = filings.approve(dd, rnd.id, who, auth.actor(), lines, department)
                    ui.flash("success", f"已审核通过 {n} 行（{dept}）。")
                    ui.publish_approved(dd, rnd.id)
                else:
                    n = filings.return_lines(
                        dd, rnd.id, comment, who, auth.actor(), lines, department
                    )
                    ui.flash("success", f"已退回 {n} 行（{dept}），部门会看到退回意见。")
                    st.session_state["rv_done"] = n + 1
            except BizenvError as err:
                ui.flash("error", str(err))
            st.rerun()
        st.markdown("**佐证材料**")
        ui.attachment_list(dd, rnd.id, dept, set(), ui.line_labels(frame))
    ui.history(dd, frame, "review_history")

with status_tab:
    board = filings.board(dd, spec, rnd.id, who, auth.actor())
    st.markdown("**按部门**")
    st.dataframe(
        ui.department_summary(board, rnd.deadline),
        hide_index=True,
        height="content",
        placeholder="截止后计算",
        key="rv_by_dept",
    )
    st.markdown("**按指标**")
    shown = ui.board_table(board, rnd.deadline)
    st.dataframe(shown, hide_index=True, height="content", placeholder="截止后计算", key="rv_board")
    st.caption(
        "未报：还没有提交（含草稿）；逾期：首次提交晚于截止日期；填报及时率 = 按时报送 ÷ 应报 × 100%"
        "（截止日期过后才计算）。"
        "审核通过的数据入库时，填报时间取首次提交的时间，与数据质量中的填报及时率一致。"
    )
    detail = {"轮次": rnd.period, "行数": len(shown)}
    st.download_button(
        "下载填报情况（XLSX）",
        auth.audited(
            dd,
            "filing_export",
            f"填报情况 {rnd.period}",
            detail,
            lambda: xlsx_bytes(
                {"按部门": ui.department_summary(board, rnd.deadline), "按指标": shown}
            ),
        ),
        f"填报情况_{rnd.period}.xlsx",
        key="rv_board_xlsx",
        on_click="ignore",
        icon=":material/download:",
    )

with remind_tab:
    remind = filings.reminders(dd, spec, rnd.id, who, auth.actor())
    if remind.empty:
        st.success("各部门都已提交，没有需要催报的部门。")
    else:
        st.dataframe(remind, hide_index=True, height="content", key="rv_remind")
        st.download_button(
            "下载催报名单（CSV）",
            auth.audited(
                dd,
                "filing_export",
                f"催报名单 {rnd.period}",
                {"部门数": len(remind)},
                lambda: csv_bytes(remind),
            ),
            f"催报名单_{rnd.period}.csv",
            "text/csv",
            key="rv_remind_csv",
            on_click="ignore",
            icon=":material/download:",
        )
