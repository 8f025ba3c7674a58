"""数据 page, 导入: upload → dry run → confirm → the load job's progress → the result with every
file's quarantine list; the job history with 撤销; the scheduler's tasks. Only for roles with
the LOAD permission (checked again by etl.intake on every action)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import streamlit as st

from kpi.errors import BizenvError
from kpi.schema import SOURCE_LABELS
from kpi.settings import DataDir
from office import intake, jobs, roles
from ui import auth, tables

ACTIVE_KEY = "_intake_job"
BEIJING = dt.timezone(dt.timedelta(hours=8))
SOURCE_CHOICES: dict[str | None, str] = {None: "自动识别"}
SOURCE_CHOICES.update(SOURCE_LABELS)


def when(t: dt.datetime | None) -> str:
    """A UTC time of the application database in Beijing time."""
    if t is None:
        return "—"
    return t.replace(tzinfo=dt.UTC).astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S")


def _who() -> str | None:
    p = auth.current()
    return getattr(p, "username", None) if p is not None else None


def section(dd: DataDir) -> None:
    """The whole 导入 part of the page (nothing for roles without LOAD)."""
    if not auth.may(roles.LOAD):
        return
    st.subheader("导入数据")
    for imported, line in st.session_state.get(LEDGER_KEY) or []:  # 台账 of the last upload
        (st.success if imported else st.error)(line)
    job_id = st.session_state.get(ACTIVE_KEY)
    job = jobs.get(dd, job_id) if job_id else None
    if job is None:
        upload_form(dd)
    elif not job.done and (job.status != jobs.AWAITING or job.decision):
        live_job(dd, job.id)  # (a dry run answered: until its process takes the answer)
    else:
        show_job(dd, job)
    with st.expander("任务记录（导入、撤销、重新计算）", expanded=False):
        history(dd)
    with st.expander("定时采集（文件夹监视、数据库采集、夜间重算）", expanded=False):
        scheduler_status(dd)


LEDGER_KEY = "intake_ledgers"  # what the last upload's 督办 台账 came to


def upload_form(dd: DataDir) -> None:
    limit = intake.max_upload_mb()
    server = st.get_option("server.maxUploadSize")
    limit = min(limit, float(server))
    files = st.file_uploader(
        f"上传导出文件（CSV / XLSX / XLS，可多选，每个不超过 {limit:g} MB）",
        type=["csv", "xlsx", "xls"],
        accept_multiple_files=True,
        key="intake_files",
    )
    source = st.selectbox(
        "数据来源",
        list(SOURCE_CHOICES),
        format_func=SOURCE_CHOICES.__getitem__,
        key="intake_source",
        help="一般不用选：按表头自动识别办件、12345、好差评、指标填报。",
    )
    profiles = intake_profiles(dd)
    profile = None
    if profiles:
        names = [None, *profiles]
        profile = st.selectbox(
            "表头画像",
            names,
            format_func=lambda n: "内置（自动）" if n is None else n,
            key="intake_profile",
            help="用“列对应”保存过的画像读取本系统不认识的导出。",
        )
    st.caption("先试运行：读取并校验全部行，显示将导入、将隔离和跳过的行数，确认后才写入。")
    if st.button("上传并试运行", type="primary", disabled=not files, key="intake_go"):
        try:
            for f in files or []:
                intake.check_upload(f.name, f.size)
            folder = intake.upload_folder(dd)
            paths = [intake.save_upload(folder, f.name, f.getbuffer()) for f in files or []]
            auth.record(
                dd, "upload", "、".join(p.name for p in paths)[:255], {"文件数": len(paths)}
            )
            paths, ledger_lines = intake.import_ledgers(dd, paths, auth.actor(), auth.scope())
            st.session_state[LEDGER_KEY] = ledger_lines
            if not paths:  # only 台账: nothing for the warehouse
                st.rerun()
            job_id = intake.start_load(
                dd,
                paths,
                _who(),
                auth.scope(),
                source=source,
                profile=str(profiles[profile]) if profile else None,
            )
        except BizenvError as err:
            st.error(str(err))
            return
        st.session_state[ACTIVE_KEY] = job_id
        st.rerun()


def intake_profiles(dd: DataDir) -> dict[str, Path]:
    return intake.saved_profiles(dd)


@st.fragment(run_every=1.0)
def live_job(dd: DataDir, job_id: int) -> None:
    """A running or queued job, polled every second; the page moves on when it is done."""
    job = jobs.get(dd, job_id)
    if job is None:
        return
    if job.status == jobs.QUEUED:
        ahead = jobs.ahead_of(dd, job_id)
        st.info(
            f"任务 {job_id}（{job.kind_label}）排队中，前面还有 {ahead} 个任务。"
            "可以关闭本页，任务会继续执行。",
            icon=":material/hourglass_top:",
        )
        jobs.reap(dd)
        return
    if job.done or (job.status == jobs.AWAITING and not job.decision):
        st.rerun(scope="app")
    st.progress(min(max(job.progress, 0.0), 1.0), text=f"{job.kind_label}：{job.progress_text}")
    st.caption(f"任务 {job_id} 在服务器上独立运行：关闭本页不会中断它。")
    if job.pid and not jobs._alive(job.pid):
        jobs.reap(dd)


def _file_table(files: list[dict], dry: bool) -> pd.DataFrame:
    rows = []
    for f in files:
        rows.append(
            {
                "文件": f["file_name"],
                "来源": SOURCE_LABELS.get(f.get("source") or "", "—"),
                "画像": f.get("profile") or "—",
                "读取行": f["rows_read"],
                ("将导入" if dry else "导入"): f["rows_loaded"],
                ("将隔离" if dry else "隔离"): f["rows_quarantined"],
                "跳过": f["rows_skipped"],
                ("将新增" if dry else "新增"): f["rows_inserted"],
                ("将更新" if dry else "更新"): f["rows_updated"],
                "未变": f["rows_unchanged"],
                "结果": {
                    "refused": "拒绝",
                    "skipped": "跳过",
                    "duplicate_file": "与已导入文件相同",
                }.get(f["status"], "可导入" if dry else "已导入"),
            }
        )
    return pd.DataFrame(rows)


def file_details(f: dict, dry: bool) -> None:
    """One file of a dry run or result: refusal, reasons with examples, unmatched, warnings."""
    name = f["file_name"]
    if f["status"] in ("refused", "skipped"):
        st.error(f["message"])
        if "无法判断是哪种导出" in f["message"] or "缺少必需的列" in f["message"]:
            st.caption("这个文件的表头本系统不认识：可以在下方“列对应”中为它建一个画像。")
        return
    for note in f.get("notes") or []:
        st.caption(f"{name}：{note}")
    if f["status"] == "duplicate_file":
        st.info(f"{name} 与之前导入过的文件内容完全相同，导入后数据不会变化。")
    if f.get("rows_superseded") or f.get("rows_repeated"):
        st.caption(
            f"{name}：同一编号的旧版本 {f.get('rows_superseded', 0):,} 行（以版本号最大、其次最后出现的一行为准），"
            f"完全相同的重复行 {f.get('rows_repeated', 0):,} 行，均跳过。"
        )
    reasons = f.get("quarantine_by_reason") or {}
    if reasons:
        st.markdown(f"**{name}：{'将' if dry else ''}隔离的行（原因与示例）**")
        examples = pd.DataFrame(f.get("examples") or [], columns=["原因", "行号", "列", "原始内容"])
        summary = pd.DataFrame({"原因": list(reasons), "行数": list(reasons.values())})
        tables.show(summary, f"intake_reasons_{name}", f"{name}_隔离原因")
        if not examples.empty:
            tables.show(examples, f"intake_examples_{name}", f"{name}_隔离示例")
    if f.get("rows_unmatched"):
        names = "、".join(f"{n}（{c:,}）" for n, c in f.get("unmatched_names") or [])
        st.warning(
            f"{name}：{f['rows_unmatched']:,} 条记录的事项没有匹配到领域（共 {f.get('unmatched_kinds', 0)} 种），"
            f"不计入各领域指标：{names}。可在目录 items.csv 补充后重新计算。"
        )
    if f.get("is_demo"):
        st.info(f"{name} 是演示数据生成器写出的文件。")
    left = f.get("demo_left") or {}
    if any(left.values()):
        counts = "、".join(f"{SOURCE_LABELS.get(s, s)} {n:,} 条" for s, n in left.items() if n)
        st.warning(
            f"数据仓库中还有演示数据（{counts}），会和这个文件的真实数据混在一起显示。"
            "删除演示数据：bizenv reset --demo。"
        )
    others = f.get("other_files") or []
    if others:
        text = "；".join(f"{p} 已有《{o}》的 {n:,} 条" for p, o, n in others[:6])
        st.warning(
            f"{name} 的季度里已有其他文件导入的记录：{text}。"
            "同一编号的记录以后导入的为准；如果这是同一数据的另一份导出，请确认没有重复导入。"
        )


def show_job(dd: DataDir, job: jobs.JobView) -> None:
    files = job.summary.get("files") or []
    if job.status == jobs.AWAITING:
        st.markdown(f"#### 试运行结果（任务 {job.id}）：尚未写入任何数据")
        tables.show(_file_table(files, True), "intake_dry", "试运行结果")
        for f in files:
            file_details(f, True)
        good = [f for f in files if f["status"] not in ("refused", "skipped")]
        row = st.container(horizontal=True)
        if row.button(
            "确认导入", type="primary", disabled=not good, key=f"intake_confirm_{job.id}"
        ):
            _answer(dd, job.id, True)
        if row.button("取消", key=f"intake_cancel_{job.id}"):
            _answer(dd, job.id, False)
        mapping_hint(dd, job)
        return
    label = {jobs.SUCCEEDED: st.success, jobs.FAILED: st.error, jobs.CANCELLED: st.info}
    refused_only = bool(files) and all(f["status"] in ("refused", "skipped") for f in files)
    text = "没有可导入的文件，原因见下。" if refused_only else job.message
    label.get(job.status, st.info)(f"任务 {job.id}（{job.kind_label}）{job.status_label}。{text}")
    if files:
        tables.show(_file_table(files, False), f"intake_result_{job.id}", "导入结果")
        for f in files:
            file_details(f, False)
    if job.status == jobs.SUCCEEDED and job.load_ids:
        quarantine_downloads(job)
    if job.kind == "load":
        mapping_hint(dd, job)
    if st.button("上传新的文件", key="intake_new"):
        st.session_state.pop(ACTIVE_KEY, None)
        st.rerun()


def mapping_hint(dd: DataDir, job: jobs.JobView) -> None:
    from ui import mapping_form

    refused = [
        f
        for f in job.summary.get("files") or []
        if f["status"] == "refused"
        and ("无法判断是哪种导出" in f["message"] or "缺少必需的列" in f["message"])
    ]
    paths = {str(p) for p in job.params.get("files") or []}
    for f in refused:
        path = next((p for p in paths if p.endswith("/" + f["file_name"])), None)
        if path:
            with st.expander(f"列对应：为《{f['file_name']}》建立表头画像", expanded=True):
                mapping_form.form(dd, path)


def quarantine_downloads(job: jobs.JobView) -> None:
    """Every quarantined row of each file this job loaded, from the snapshot it published."""
    from ui import data

    path = data.snapshot_path()
    if not path:
        return
    snap = data.Snapshot(path)
    loads = snap.quarantine_loads()
    loads = loads[loads["load_id"].isin(job.load_ids)]
    if loads.empty:
        st.caption("这次导入没有被隔离的行。")
        return
    st.markdown("**下载每个文件的全部隔离行**（发回报送单位核改后重新上传）")
    tables.quarantine_by_file(path, loads, key=f"intake_q_{job.id}")


def _answer(dd: DataDir, job_id: int, confirm: bool) -> None:
    try:
        ok = intake.answer(dd, job_id, confirm, auth.scope())
    except BizenvError as err:
        st.error(str(err))
        return
    if not ok:
        st.warning("这个任务已经结束，无法再确认或取消。")
    st.rerun()


def history(dd: DataDir) -> None:
    recent = jobs.recent(dd, 50)
    if not recent:
        st.caption("还没有任务。")
        return
    df = pd.DataFrame(
        {
            "编号": [j.id for j in recent],
            "类型": [j.kind_label for j in recent],
            "状态": [j.status_label + ("（已撤销）" if j.undone_by else "") for j in recent],
            "提交人": [j.who or "—" for j in recent],
            "方式": [
                {"web": "网页", "cli": "命令行", "scheduler": "定时"}.get(j.via, j.via)
                for j in recent
            ],
            "提交时间": [when(j.created_at) for j in recent],
            "完成时间": [when(j.finished_at) for j in recent],
            "说明": [
                (j.message or j.progress_text or "").splitlines()[0][:120]
                if (j.message or j.progress_text)
                else ""
                for j in recent
            ],
        }
    )
    tables.show(df, "jobs_history", "任务记录")
    can_undo = [j for j in recent if intake.undoable(j)]
    if not can_undo:
        return
    labels = {
        j.id: f"任务 {j.id}：{'、'.join(f['file_name'] for f in j.summary.get('files', []))[:60]}（{when(j.finished_at)}）"
        for j in can_undo
    }
    target = st.selectbox(
        "撤销一次导入", list(labels), format_func=labels.__getitem__, key="intake_undo_pick"
    )
    sure = st.checkbox(
        "我确认撤销：删除这次导入新增的记录，被它更新的记录恢复为之前的版本，并发布新快照。",
        key="intake_undo_sure",
    )
    if st.button("撤销所选导入", disabled=not sure, key="intake_undo_go"):
        try:
            job_id = intake.start_undo(dd, int(target), _who(), auth.scope())
        except BizenvError as err:
            st.error(str(err))
            return
        st.session_state[ACTIVE_KEY] = job_id
        st.rerun()


def scheduler_status(dd: DataDir) -> None:
    tasks = jobs.tasks(dd)
    if not tasks:
        st.caption(
            "定时采集未启用：在服务器上运行 `bizenv scheduler`（作为服务运行的方法见 README），"
            "它会监视收件文件夹、按 sources.yaml 从数据库采集，并在夜间重新计算。"
        )
        return
    beat = max((t.heartbeat_at for t in tasks if t.heartbeat_at), default=None)
    alive = beat is not None and jobs.utcnow() - beat < dt.timedelta(minutes=3)
    (st.success if alive else st.warning)(
        f"调度程序{'运行中' if alive else '未在运行'}（最近心跳 {when(beat)}）。"
    )
    kinds = {"watch": "文件夹监视", "pull": "数据库采集", "build": "重新计算"}
    df = pd.DataFrame(
        {
            "任务": [t.name for t in tasks],
            "类型": [kinds.get(t.kind, t.kind) for t in tasks],
            "计划": [t.schedule for t in tasks],
            "下次运行": [when(t.next_run_at) for t in tasks],
            "上次运行": [when(t.last_run_at) for t in tasks],
            "结果": [
                jobs.STATUS_LABELS.get(t.last_status or "", t.last_status or "—") for t in tasks
            ],
            "说明": [(t.last_message or "")[:120] for t in tasks],
        }
    )
    tables.show(df, "scheduler_tasks", "定时采集")
