"""指标填报 (部门): this department's figures for the open round — value or 分子/分母 and a note
per district (or the city), 佐证材料, drafts, submission, and 营商办's comments on returned rows."""

import streamlit as st

from kpi.errors import BizenvError
from office import filings, roles
from ui import auth, data, state
from ui import filing as ui

state.ensure_entry()
dd = data.data_dir()
st.title("指标填报")
who = auth.scope()
if who is None or not who.may(roles.FILE_REPORTS):  # the server's word, not only the menu's
    st.warning("只有部门账号可以在线填报指标。营商办请使用“填报审核”页。")
    st.stop()
if not who.department:
    st.warning("您的部门账号没有绑定部门，无法填报。请联系管理员在“账号与设置”中绑定部门。")
    st.stop()
ui.show_flash()
spec = data.spec()
if spec is None:
    st.error("指标规格 metrics.yaml 无法读取，暂时不能填报。请联系营商办或系统管理员。")
    st.stop()
if not filings.slots(spec, who.department):
    st.info(
        f"您的部门（{who.department}）在 metrics.yaml 中没有需要在线填报的指标"
        "（部门负责的指标都由业务系统导出计算），无需填报。"
    )
    st.stop()
found = filings.rounds(dd)
if not found:
    st.info("目前没有正在进行的填报轮次。营商办开启填报后，这里会列出本部门需要填报的指标。")
    st.stop()
default = next((i for i, r in enumerate(found) if r.status == "open"), 0)
chosen = st.selectbox(
    "填报轮次",
    range(len(found)),
    index=default,
    format_func=lambda i: ui.round_label(found[i]),
    key="filing_round",
)
rnd = found[chosen]
ui.round_caption(rnd)
frame = ui.with_previous(filings.lines(dd, spec, rnd.id, who, auth.actor()), rnd.period)

counts = frame["status"].value_counts()
c = st.columns(5)
c[0].metric("应报", len(frame))
c[1].metric("未提交", int(counts.get("not_filed", 0) + counts.get("draft", 0)))
c[2].metric("待审核", int(counts.get("submitted", 0)))
c[3].metric("已退回", int(counts.get("returned", 0)))
c[4].metric("已通过", int(counts.get("approved", 0)))
back = frame[frame["status"] == "returned"]
if not back.empty:
    st.warning(
        "营商办退回了以下行，请按意见修改后重新提交：\n"
        + "\n".join(
            f"- {r['district_name']} · {r['label']}：{r['reviewer_comment']}"
            for _, r in back.iterrows()
        )
    )

editable = frame[frame["status"].isin(["not_filed", "draft", "returned"])].reset_index(drop=True)
locked = frame[~frame["status"].isin(["not_filed", "draft", "returned"])]
open_round = rnd.status == "open"
st.subheader("待填报")
if editable.empty:
    st.success("本部门的指标已全部提交。")
else:
    # In a form: typing in the table reruns nothing (no lost keystrokes while the page reruns);
    # the figures go to the server when 保存草稿 or 提交审核 is pressed.
    with st.form(f"filing_form_{rnd.id}", border=False, enter_to_submit=False):
        edited = ui.entry_table(editable, f"filing_editor_{rnd.id}", editable=open_round)
        save = send = False
        if open_round:
            st.caption(
                "按“填报方式”填写：分子、分母两列，或指标值一列；百分比填 95.5 而不是 95.5%。"
                "保存草稿后可随时修改；提交后由营商办审核，审核期间不能修改。"
            )
            b = st.container(horizontal=True)
            save = b.form_submit_button("保存草稿", key="filing_save", icon=":material/save:")
            send = b.form_submit_button(
                "提交审核", type="primary", key="filing_submit", icon=":material/send:"
            )
    if save or send:
        try:
            res = filings.save(dd, spec, rnd.id, ui.entries(editable, edited), who, auth.actor())
        except BizenvError as err:
            res = filings.SaveResult(problems=[str(err)])
        if res.problems:  # the table keeps what was typed, to be corrected
            st.error("有以下问题，未保存任何数据：\n" + "\n".join(f"- {p}" for p in res.problems))
        else:
            try:
                if send:
                    sub = filings.submit(dd, spec, rnd.id, who, auth.actor())
                    text = f"已提交 {sub.submitted} 行，等待营商办审核。"
                    if sub.late:
                        text += "（已过截止日期，记为逾期报送）"
                    ui.flash("success" if sub.submitted else "info", text)
                    if sub.incomplete:
                        ui.flash(
                            "warning",
                            f"{len(sub.incomplete)} 行还没填完整，仍是草稿："
                            + "、".join(sub.incomplete),
                        )
                else:
                    ui.flash("success", f"已保存草稿（{res.saved} 行有改动）。")
            except BizenvError as err:
                ui.flash("error", str(err))
            st.session_state.pop(f"filing_editor_{rnd.id}", None)
            st.rerun()
if not locked.empty:
    st.subheader("已提交（待审核、已通过）")
    ui.entry_table(locked, f"filing_locked_{rnd.id}", editable=False)
ui.definitions(frame)

st.subheader("佐证材料")
st.caption(
    f"每个文件不超过 {filings.attachment_limit_mb():g} MB；"
    f"可上传 {'、'.join(s.lstrip('.') for s in filings.ALLOWED_SUFFIXES)}。提交前可删除或补充。"
)
editable_ids = {int(i) for i in editable["line_id"].dropna()}
if open_round and not editable.empty:
    rows = {i: f"{r['district_name']} · {r['label']}" for i, r in editable.iterrows()}
    c = st.columns([2, 3, 1], vertical_alignment="bottom")
    pick = c[0].selectbox("对应的行", list(rows), format_func=rows.get, key="filing_att_row")
    upload = c[1].file_uploader(
        "选择文件",
        type=[s.lstrip(".") for s in filings.ALLOWED_SUFFIXES],
        key=f"filing_att_file_{st.session_state.get('filing_att_n', 0)}",
    )
    if c[2].button("上传", key="filing_att_go", disabled=upload is None) and upload is not None:
        row = editable.loc[pick]
        try:
            filings.attach(
                dd,
                spec,
                rnd.id,
                row["indicator_key"],
                row["district_code"],
                upload.name,
                upload.getvalue(),
                who,
                auth.actor(),
            )
            ui.flash("success", f"已上传“{upload.name}”。")
        except BizenvError as err:
            ui.flash("error", str(err))
        st.session_state["filing_att_n"] = st.session_state.get("filing_att_n", 0) + 1
        st.rerun()
ui.attachment_list(dd, rnd.id, who.department, editable_ids, ui.line_labels(frame))
ui.history(dd, frame, "filing_history")
