"""Running a job (office.jobs): in the process `bizenv job run <id>` starts, or the scheduler's.

The job waits its turn (every earlier job finished), then holds the data dir's writer lock for
its whole run. Progress goes to the job row (a few times a second at most) for the page's bar.
A load with `dry_run` set is the load itself in one transaction (etl.load.load_files(confirm=…)):
the reports are written to the row with status 待确认, and the process waits for the person's
answer (office.jobs.decide) — confirm commits and publishes, cancel (or no answer within
BIZENV_CONFIRM_WAIT_SECONDS, default 15 minutes) rolls everything back. While it waits it holds
the writer lock: the jobs behind it wait (the page says so), so the wait is bounded.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

from kpi import logs
from kpi.errors import BizenvError, FileRefused
from kpi.settings import DataDir
from office import audit, jobs

log = logging.getLogger(__name__)
POLL = 0.2
CONFIRM_WAIT_ENV = "BIZENV_CONFIRM_WAIT_SECONDS"


def confirm_wait() -> float:
    raw = os.environ.get(CONFIRM_WAIT_ENV, "").strip()
    try:
        return float(raw) if raw else 900.0
    except ValueError:
        return 900.0


def report_dict(r) -> dict:
    """A FileReport as JSON-able values (the page's dry run and result tables)."""
    d = dataclasses.asdict(r)
    d.pop("path", None)  # the server's folders are not the page's business
    return d


class _Progress:
    def __init__(self, data_dir: DataDir, job_id: int):
        self.data_dir, self.job_id, self.last = data_dir, job_id, 0.0

    def __call__(self, fraction: float, text: str) -> None:
        now = time.monotonic()
        if fraction < 1 and now - self.last < 0.3:
            return
        self.last = now
        with contextlib.suppress(Exception):  # a busy app db never stops the load
            jobs.update(
                self.data_dir,
                self.job_id,
                progress=float(min(max(fraction, 0), 1)),
                progress_text=text[:255],
            )


def _actor(job: jobs.JobView) -> audit.Actor:
    return audit.Actor(name=job.who, via="cli" if job.via == "cli" else "web")


def wait_turn(data_dir: DataDir, job_id: int) -> None:
    """Until every earlier job is done (FIFO); the row says how many are ahead."""
    told = -1
    n = 0
    while True:
        ahead = jobs.ahead_of(data_dir, job_id)
        if ahead == 0:
            return
        if ahead != told:
            jobs.update(data_dir, job_id, progress_text=f"排队中，前面还有 {ahead} 个任务")
            told = ahead
        n += 1
        if n % 10 == 0:
            jobs.reap(data_dir)
        time.sleep(POLL)


def execute(data_dir: DataDir, job_id: int) -> int:
    """Run job `job_id` to its end; returns the exit code (0 succeeded or cancelled)."""
    from etl import locks

    job = jobs.get(data_dir, job_id)
    if job is None:
        raise BizenvError(f"没有编号为 {job_id} 的任务。")
    if job.status != jobs.QUEUED:
        raise BizenvError(f"任务 {job_id} 的状态是{job.status_label}，不能再次运行。")
    jobs.update(data_dir, job_id, pid=os.getpid(), host=socket.gethostname())
    wait_turn(data_dir, job_id)
    with locks.writer(data_dir):
        jobs.update(
            data_dir,
            job_id,
            status=jobs.RUNNING,
            started_at=jobs.utcnow(),
            progress_text="开始",
        )
        try:
            return _run(data_dir, jobs.get(data_dir, job_id) or job)
        except BizenvError as err:
            _finish(data_dir, job_id, jobs.FAILED, str(err))
            jobs.append_log(data_dir, job_id, f"失败：{err}")
            return err.exit_code
        except Exception as err:  # noqa: BLE001 — recorded on the row, the traceback in the log
            log.exception("job %s failed", job_id)
            saved = logs.save_traceback(data_dir)
            text = (
                f"程序内部出错（{type(err).__name__}: {err}），正在写入的内容已整体回滚，"
                f"看板仍显示上一个快照。详细信息已保存到 {Path(saved).name}，请发给维护人员。"
            )
            _finish(data_dir, job_id, jobs.FAILED, text)
            return 3


def _finish(data_dir: DataDir, job_id: int, status: str, message: str, **values) -> None:
    jobs.update(
        data_dir,
        job_id,
        status=status,
        finished_at=jobs.utcnow(),
        message=message,
        **({"progress": 1.0} if status == jobs.SUCCEEDED else {}),
        **values,
    )


def _run(data_dir: DataDir, job: jobs.JobView) -> int:
    if job.kind in ("load", "watch", "pull"):
        return _load(data_dir, job)
    if job.kind == "undo":
        return _undo(data_dir, job)
    if job.kind == "build":
        from kpi.engine.build import build_and_publish

        progress = _Progress(data_dir, job.id)
        progress(0.1, "重新计算评分")
        path = build_and_publish(data_dir)
        from office.tracking.tasks import after_build

        line = after_build(data_dir)  # 督办 tasks from the new snapshot, as bizenv build does
        if line:
            jobs.append_log(data_dir, job.id, line)
        _finish(data_dir, job.id, jobs.SUCCEEDED, f"已重新计算并发布快照 {path.name}。")
        audit.record(data_dir, "build", _actor(job), path.name, {"任务": job.id})
        audit.record(data_dir, "publish", _actor(job), path.name, {"任务": job.id})
        return 0
    if job.kind == "filing":
        return _publish_filing(data_dir, job)
    raise BizenvError(f"未知的任务类型：{job.kind}")


def _publish_filing(data_dir: DataDir, job: jobs.JobView) -> int:
    """An approval's write: the round's approved lines loaded as reports, then the rebuild."""
    from etl.filing_publish import publish

    _Progress(data_dir, job.id)(0.1, "审核通过的在线填报入库并重新计算")
    summary = publish(data_dir, int(job.params["round_id"]), _actor(job))
    message = (
        f"已入库 {summary['lines']} 行审核通过的数据（新增 {summary['rows_inserted']}，"
        f"更新 {summary['rows_updated']}，未变 {summary['rows_unchanged']}），并发布了新快照。"
        if summary["lines"]
        else "这个轮次没有审核通过的数据，未写入。"
    )
    _finish(data_dir, job.id, jobs.SUCCEEDED, message, summary=summary)
    return 0


def _load(data_dir: DataDir, job: jobs.JobView) -> int:
    from etl.load import load_files

    p = job.params
    if job.kind == "pull":
        from etl import sources

        db = sources.database(data_dir, p["source_name"])
        files, pending = sources.pull_to_inbox(data_dir, db.name, _Progress(data_dir, job.id))
        if not files:
            _finish(
                data_dir, job.id, jobs.SUCCEEDED, "没有新的或变化的记录。", summary={"files": []}
            )
            return 0
        p = {
            **p,
            "files": [str(f) for f, _ in files],
            "source": db.source,
            "profile": profile_path(data_dir, db.profile),
            "pending_mark": pending,
            "rows_pulled": sum(n for _, n in files),
        }
        jobs.update(data_dir, job.id, params=p)
    progress = _Progress(data_dir, job.id)
    confirm = None
    if p.get("dry_run"):

        def confirm(reports) -> bool:
            jobs.update(
                data_dir,
                job.id,
                status=jobs.AWAITING,
                summary={"files": [report_dict(r) for r in reports]},
                progress_text="试运行完成，等待确认",
            )
            deadline = time.monotonic() + confirm_wait()
            while time.monotonic() < deadline:
                current = jobs.get(data_dir, job.id)
                if current is not None and current.decision in ("confirm", "cancel"):
                    if current.decision == "confirm":
                        jobs.update(data_dir, job.id, status=jobs.RUNNING, progress_text="写入")
                    return current.decision == "confirm"
                time.sleep(POLL)
            jobs.append_log(data_dir, job.id, "等待确认超时，已取消（未写入任何数据）")
            return False

    refusal = ""
    try:
        reports = load_files(
            p["files"],
            source=p.get("source"),
            profile=p.get("profile"),
            data_dir=data_dir,
            progress=progress,
            confirm=confirm,
        )
    except FileRefused as err:
        if getattr(err, "reports", None) is None:
            raise
        reports = list(err.reports)
        refusal = str(err)
    summary = {"files": [report_dict(r) for r in reports]}
    ids = [r.load_id for r in reports if r.status in ("ok", "duplicate_file") and r.load_id]
    for r in reports:
        jobs.append_log(data_dir, job.id, f"{r.file_name}：{r.message}")
    if any(r.status == "dry_run" for r in reports):
        _finish(
            data_dir,
            job.id,
            jobs.CANCELLED,
            "已取消：试运行的内容已整体回滚，未写入任何数据。",
            summary=summary,
        )
        return 0
    loaded = [r for r in reports if r.status in ("ok", "duplicate_file")]
    status = jobs.SUCCEEDED if loaded or not refusal else jobs.FAILED
    rows = sum(r.rows_loaded for r in loaded)
    message = (
        f"已导入 {len(loaded)} 个文件（{rows:,} 行），并发布了新快照。" if loaded else ""
    ) + (("\n" if loaded else "") + refusal if refusal else "")
    _finish(
        data_dir, job.id, status, message or "没有可导入的文件。", summary=summary, load_ids=ids
    )
    if job.kind == "pull" and status == jobs.SUCCEEDED and not refusal:
        from etl import sources

        sources.commit_mark(data_dir, p["source_name"], p.get("pending_mark"), p["rows_pulled"])
    audit.record(
        data_dir,
        "load",
        _actor(job),
        "、".join(r.file_name for r in reports)[:255],
        {"任务": job.id, "导入": ids, "行数": rows},
        outcome="ok" if status == jobs.SUCCEEDED else "failed",
    )
    return 0 if status == jobs.SUCCEEDED else 1


def profile_path(data_dir: DataDir, profile: str | None) -> str | None:
    """A profile named in sources.yaml: a saved one (the data dir's profiles/) or a file."""
    if not profile:
        return None
    saved = data_dir.root / "profiles" / f"{profile}.yaml"
    if saved.exists():
        return str(saved)
    path = Path(profile)
    return str(path if path.is_absolute() else data_dir.root / path)


def _undo(data_dir: DataDir, job: jobs.JobView) -> int:
    from etl import undo

    target = jobs.get(data_dir, int(job.params["job"]))
    if target is None or target.kind not in ("load", "watch", "pull"):
        raise BizenvError("要撤销的任务不存在，或不是导入任务。")
    if target.undone_by:
        raise BizenvError(f"任务 {target.id} 已经撤销过了（撤销任务 {target.undone_by}）。")
    result = undo.undo_loads(data_dir, target.load_ids, _Progress(data_dir, job.id))
    removed = sum(v["removed"] for v in result.values())
    restored = sum(v["restored"] for v in result.values())
    jobs.update(data_dir, target.id, undone_by=job.id)
    _finish(
        data_dir,
        job.id,
        jobs.SUCCEEDED,
        f"已撤销任务 {target.id} 的导入：删除它写入的 {removed - restored:,} 条新记录，"
        f"{restored:,} 条被它更新的记录恢复为之前的版本，并发布了新快照。",
        summary={"sources": result, "target": target.id},
    )
    audit.record(
        data_dir,
        "undo_load",
        _actor(job),
        f"任务 {target.id}",
        {"任务": job.id, "导入": target.load_ids, "删除": removed - restored, "恢复": restored},
    )
    return 0


@dataclasses.dataclass
class CliJob:
    id: int | None
    reports: list = dataclasses.field(default_factory=list)  # set by the command when it returns


@contextlib.contextmanager
def cli_job(data_dir: DataDir, kind: str, params: dict) -> Iterator[CliJob]:
    """`bizenv load` recorded as a job: running while it runs, then its outcome. Not recorded
    at the start when there is no data dir yet and no BIZENV_APP_DB — a refused first load must
    leave no folder behind; the job is then recorded at the end, once the load made the folder."""
    from office.store import APP_DB_ENV

    who = audit.Actor.cli().name
    job = CliJob(None)
    if data_dir.root.exists() or os.environ.get(APP_DB_ENV):
        with contextlib.suppress(Exception):
            job.id = jobs.create(data_dir, kind, who, params, via="cli", status=jobs.RUNNING)
            jobs.update(data_dir, job.id, pid=os.getpid(), host=socket.gethostname())
    error: BaseException | None = None
    try:
        yield job
    except BaseException as err:
        error = err
        raise
    finally:
        _cli_finish(data_dir, job, kind, who, params, error)


def _cli_finish(data_dir, job: CliJob, kind, who, params, error) -> None:
    if not data_dir.root.exists():
        return
    with contextlib.suppress(Exception):
        if job.id is None:
            job.id = jobs.create(data_dir, kind, who, params, via="cli", status=jobs.RUNNING)
        reports = job.reports or getattr(error, "reports", None) or []
        summary = {"files": [report_dict(r) for r in reports]}
        ids = [r.load_id for r in reports if r.status in ("ok", "duplicate_file") and r.load_id]
        if error is None:
            _finish(
                data_dir, job.id, jobs.SUCCEEDED, "命令行导入完成。", summary=summary, load_ids=ids
            )
        else:
            text = (
                str(error) if isinstance(error, BizenvError) else f"{type(error).__name__}: {error}"
            )
            status = jobs.SUCCEEDED if ids else jobs.FAILED
            _finish(data_dir, job.id, status, text[:4000], summary=summary, load_ids=ids)
