"""Building blocks of the two 填报 pages (部门: 指标填报; 营商办: 填报审核): the round's header, the
entry table, 佐证材料, a line's history, the review table, the status board — and the one place
an approval's figures are published (publish_approved).

Every read and write goes through office.filings with the signed-in account's scope, so what a
page shows or accepts is what the server allows, never only what the page chooses to show.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from kpi import periods
from kpi.errors import BizenvError
from office import filings
from ui import auth, data

FLASH = "_filing_flash"


def flash(kind: str, text: str) -> None:
    """A message to show after the rerun that follows an action."""
    st.session_state.setdefault(FLASH, []).append((kind, text))


def show_flash() -> None:
    for kind, text in st.session_state.pop(FLASH, []):
        getattr(st, kind)(text)


def round_label(r: filings.FilingRound) -> str:
    return f"{periods.label_zh(r.period)}（截止 {r.deadline}，{filings.ROUND[r.status]}）"


def round_caption(r: filings.FilingRound) -> None:
    """Deadline, days left or overdue, and the office's note."""
    today = dt.datetime.now(filings.BEIJING).date()
    left = (r.deadline - today).days
    when = (
        f"距截止还有 {left} 天"
        if left > 0
        else "今天截止"
        if left == 0
        else f"已过截止日期 {-left} 天，现在提交的算逾期"
    )
    text = f"统计期 {periods.label_zh(r.period)} · 截止 {r.deadline}（含当天）· {when}"
    if r.status != "open":
        text += " · 本轮已结束，只能查看"
    st.caption(text)
    if r.note:
        st.info(r.note, icon=":material/campaign:")


def with_previous(frame: pd.DataFrame, period: str) -> pd.DataFrame:
    """frame + 上季度值 (the live snapshot's value of the quarter before `period`)."""
    frame = frame.copy()
    frame["previous"] = None
    path = data.snapshot_path()
    if path is None or frame.empty:
        return frame
    keys = tuple(sorted(set(frame["indicator_key"])))
    prev = data.Snapshot(path).filed_values(periods.previous(period), keys)
    if prev.empty:
        return frame
    found = {
        (k, d): v
        for k, d, v in zip(prev["indicator_key"], prev["district_code"], prev["value"], strict=True)
    }
    frame["previous"] = [
        found.get((k, d))
        for k, d in zip(frame["indicator_key"], frame["district_code"], strict=True)
    ]
    return frame


def how(row) -> str:
    return (
        f"分子：{row['numerator_label']}；分母：{row['denominator_label']}"
        if row["parts"]
        else "填指标值" + ("（全市的数值，不是各区县的平均）" if row["is_city"] else "")
    )


ENTRY_COLUMNS = {
    "district_name": "区县",
    "label": "指标",
    "unit": "单位",
    "how": "填报方式",
    "previous": "上季度值",
    "value": "指标值",
    "numerator": "分子",
    "denominator": "分母",
    "note": "备注",
    "status_label": "状态",
    "reviewer_comment": "退回意见",
    "attachments": "材料",
}
EDITABLE_COLUMNS = ["指标值", "分子", "分母", "备注"]


def entry_table(frame: pd.DataFrame, key: str, editable: bool) -> pd.DataFrame:
    """The department's lines; the four figure columns editable when `editable`."""
    view = frame.copy()
    view["how"] = [how(r) for _, r in view.iterrows()]
    view = view[list(ENTRY_COLUMNS)].rename(columns=ENTRY_COLUMNS)
    for col in ("上季度值", "指标值", "分子", "分母"):  # float columns: the editor edits numbers
        view[col] = pd.to_numeric(view[col], errors="coerce").astype("float64")
    view["备注"] = view["备注"].fillna("")
    view["退回意见"] = view["退回意见"].fillna("")
    # Fixed pixel widths: the figure columns sit at the same place on every screen (and the
    # browser test can find them); long texts wrap in their cells' tooltips.
    config = {
        "区县": st.column_config.TextColumn("区县", width=80),
        "指标": st.column_config.TextColumn("指标", width=190),
        "单位": st.column_config.TextColumn("单位", width=50),
        "填报方式": st.column_config.TextColumn("填报方式", width=220),
        "上季度值": st.column_config.NumberColumn("上季度值", format="%.2f", width=80),
        "指标值": st.column_config.NumberColumn("指标值", format="%.2f", width=80),
        "分子": st.column_config.NumberColumn("分子", format="%.2f", width=80),
        "分母": st.column_config.NumberColumn("分母", format="%.2f", width=80),
        "备注": st.column_config.TextColumn("备注", max_chars=1000, width=150),
        "状态": st.column_config.TextColumn("状态", width=70),
        "退回意见": st.column_config.TextColumn("退回意见", width=200),
        "材料": st.column_config.NumberColumn("材料", format="%d 份", width=60),
    }
    height = min(36 * (len(view) + 1) + 3, 900)  # every row visible up to ~24 rows
    if not editable:
        st.dataframe(
            view, hide_index=True, column_config=config, key=key, placeholder="", height=height
        )
        return view
    return st.data_editor(
        view,
        hide_index=True,
        num_rows="fixed",
        placeholder="",
        height=height,
        column_config=config,
        disabled=[c for c in view.columns if c not in EDITABLE_COLUMNS],
        key=key,
    )


def entries(frame: pd.DataFrame, edited: pd.DataFrame) -> list[filings.Entry]:
    """The edited rows as office.filings entries (keys from the frame, by position)."""
    out = []
    for (_, src), (_, row) in zip(frame.iterrows(), edited.iterrows(), strict=True):
        out.append(
            filings.Entry(
                indicator_key=src["indicator_key"],
                district_code=src["district_code"],
                value=_blank(row["指标值"]),
                numerator=_blank(row["分子"]),
                denominator=_blank(row["分母"]),
                note=_blank(row["备注"]),
            )
        )
    return out


def _blank(v):
    if v is None or (isinstance(v, float) and pd.isna(v)):
        return None
    if isinstance(v, str) and not v.strip():
        return None
    return v


def definitions(frame: pd.DataFrame) -> None:
    """指标说明: unit, how it is filed and the definition of each indicator in the table."""
    with st.expander("指标说明（单位、填报方式和定义）"):
        for _, row in frame.drop_duplicates("indicator_key").iterrows():
            st.markdown(
                f"**{row['indicator_id']} {row['label']}**（{row['unit']}；{row['domain']}）  \n"
                f"{how(row)}。{row['definition']}"
            )


def line_labels(frame: pd.DataFrame) -> dict[int, str]:
    """line id → '柯城区 · 指标名' for the lines that exist."""
    filed = frame[frame["line_id"].notna()]
    return {
        int(i): f"{d} · {lb}"
        for i, d, lb in zip(filed["line_id"], filed["district_name"], filed["label"], strict=True)
    }


def attachment_list(
    dd, round_id: int, department: str | None, removable: set[int], labels: dict[int, str]
) -> None:
    """The round's 佐证材料 with download buttons (each download audited) and 删除 for lines the
    department may still change."""
    who = auth.scope()
    assert who is not None
    found = filings.attachments(dd, round_id, who, auth.actor(), department)
    if found.empty:
        st.caption("还没有上传佐证材料。")
        return
    for _, a in found.iterrows():
        c = st.columns([4, 1, 1])
        c[0].markdown(
            f"{labels.get(int(a['line_id']), '')}：{a['name']}（{filings.size_text(int(a['size']))} · "
            f"{a['department']} · "
            f"{a['uploaded_at']:%Y-%m-%d %H:%M}）"
        )
        aid = int(a["attachment_id"])
        c[1].download_button(
            "下载",
            _attachment_bytes(dd, aid),
            file_name=str(a["name"]),
            key=f"att_dl_{aid}",
            on_click="ignore",
            icon=":material/download:",
        )
        if int(a["line_id"]) in removable and c[2].button("删除", key=f"att_rm_{aid}"):
            try:
                filings.remove_attachment(dd, aid, who, auth.actor())
                flash("success", f"已删除佐证材料“{a['name']}”。")
            except BizenvError as err:
                flash("error", str(err))
            st.rerun()


def _attachment_bytes(dd, attachment_id: int):
    who, actor = auth.scope(), auth.actor()

    def run():
        assert who is not None
        return filings.attachment_file(dd, attachment_id, who, actor)[1]

    return run


def history(dd, frame: pd.DataFrame, key: str) -> None:
    """修改记录 of one line (chosen from those that exist)."""
    filed = frame[frame["line_id"].notna()]
    with st.expander("修改记录"):
        if filed.empty:
            st.caption("还没有保存过的行。")
            return
        labels: dict[int, str] = {
            int(r["line_id"]): f"{r['district_name']} · {r['label']}"
            + (f"（{r['department']}）" if key.startswith("review") else "")
            for _, r in filed.iterrows()
        }
        ids: list[int] = list(labels)
        chosen = st.selectbox("行", ids, format_func=lambda i: labels[i], key=key)
        who = auth.scope()
        assert who is not None and chosen is not None
        st.dataframe(
            filings.history(dd, int(chosen), who, auth.actor()),
            hide_index=True,
            key=f"{key}_table",
        )


def publish_approved(dd, round_id: int) -> None:
    """The one call site of the publish after an approval: a job (office.jobs, kind filing) loads
    the round's approved figures as reports and rebuilds in a process of its own — one writer,
    and closing the tab does not stop it. The page waits for it to say what happened."""
    import time

    from office import jobs

    job_id = jobs.create(dd, "filing", auth.actor().name, {"round_id": round_id})
    jobs.spawn(dd, job_id)
    job = jobs.get(dd, job_id)
    with st.spinner("正在把审核通过的数据写入数据仓库并重新计算评分……"):
        deadline = time.monotonic() + PUBLISH_WAIT_SECONDS
        while job is not None and job.status in jobs.ACTIVE and time.monotonic() < deadline:
            time.sleep(0.5)
            jobs.reap(dd)
            job = jobs.get(dd, job_id)
    if job is None or job.status in jobs.ACTIVE:
        flash(
            "info",
            f"审核已通过；入库任务（编号 {job_id}）还在运行或排队，完成后看板自动更新，"
            "进度见“数据”页的任务记录。",
        )
        return
    if job.status != jobs.SUCCEEDED:
        flash("error", f"审核已通过，但数据入库失败：{job.message}（任务编号 {job_id}）")
        return
    summary = job.summary
    if not summary.get("lines"):
        return
    text = (
        f"已入库：{summary['lines']} 行审核通过的数据（新增 {summary['rows_inserted']}，"
        f"更新 {summary['rows_updated']}，未变 {summary['rows_unchanged']}），评分已重新计算，"
        "看板已更新。"
    )
    if summary.get("rows_quarantined"):
        reasons = "；".join(f"{k} {v} 行" for k, v in summary["quarantine_by_reason"].items())
        flash("warning", text + f"其中 {summary['rows_quarantined']} 行被隔离：{reasons}")
    else:
        flash("success", text)


PUBLISH_WAIT_SECONDS = 300  # the page waits this long for the job; it runs on regardless


BOARD_HEADS = filings.BOARD_COLUMNS


def _timely(frame: pd.DataFrame, deadline: dt.date) -> pd.Series:
    """填报及时率 per row — only once the deadline has passed (before it, a line not filed yet is
    not late, and 0 % would say it is)."""
    if dt.datetime.now(filings.BEIJING).date() <= deadline:
        return pd.Series([None] * len(frame), index=frame.index, dtype="float64")
    return (frame["按时报送"] / frame["应报"] * 100).round(1)


def board_table(board: pd.DataFrame, deadline: dt.date) -> pd.DataFrame:
    """The status board with Chinese headers and 填报及时率 per row."""
    out = board.rename(columns=BOARD_HEADS)
    out["填报及时率"] = _timely(out, deadline)
    return out


def department_summary(board: pd.DataFrame, deadline: dt.date) -> pd.DataFrame:
    numbers = ["due", "submitted", "approved", "returned", "not_filed", "late", "on_time"]
    g = board.groupby("department", sort=False)[numbers].sum().reset_index()
    g = g.rename(columns=BOARD_HEADS)
    g["填报及时率"] = _timely(g, deadline)
    return g
