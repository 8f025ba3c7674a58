"""任务 (jobs): every write to the warehouse — a load from the browser, the CLI or the scheduler,
an undo, a database pull, a rebuild — is one row here: who started it, when it was queued,
started and finished, its parameters, progress, the summary and the log.

One job writes at a time: a job process waits until every earlier job has finished, then takes
the data dir's writer lock (etl.locks.writer, which `bizenv load` also takes). A job started
from the browser runs in its own process (`bizenv job run <id>`, started by `spawn`): closing
the tab does not stop it and a crash in it cannot take the app down. A job whose process is gone
while its row still says queued/running is marked 失败（已中断） by `reap` (pid on this host).

Also here: the scheduler's tasks with their last and next runs, the high-water marks of the
database sources, and the files the watched folders have seen (by sha256).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from kpi.settings import DataDir
from office import store
from office.models import Base, BigId, utcnow

QUEUED, RUNNING, AWAITING, SUCCEEDED, FAILED, CANCELLED = (
    "queued",
    "running",
    "awaiting",
    "succeeded",
    "failed",
    "cancelled",
)
STATUS_LABELS = {
    QUEUED: "排队中",
    RUNNING: "运行中",
    AWAITING: "待确认",
    SUCCEEDED: "成功",
    FAILED: "失败",
    CANCELLED: "已取消",
}
ACTIVE = (QUEUED, RUNNING, AWAITING)
KIND_LABELS = {
    "load": "导入",
    "undo": "撤销导入",
    "build": "重新计算",
    "pull": "数据库采集",
    "watch": "文件夹导入",
    "filing": "在线填报入库",
}
LOG_LIMIT = 200_000  # characters of log kept per job


class Job(Base):
    """One write to the warehouse (see the module docstring)."""

    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(16))  # KIND_LABELS
    status: Mapped[str] = mapped_column(sa.String(16), default=QUEUED, index=True)
    who: Mapped[str | None] = mapped_column(sa.String(64))  # account, OS user or 定时任务
    via: Mapped[str] = mapped_column(sa.String(16), default="web")  # web | cli | scheduler
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime, default=utcnow)
    started_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime)
    params: Mapped[str | None] = mapped_column(sa.Text)  # JSON
    progress: Mapped[float] = mapped_column(sa.Float, default=0.0)
    progress_text: Mapped[str | None] = mapped_column(sa.String(255))
    summary: Mapped[str | None] = mapped_column(sa.Text)  # JSON
    message: Mapped[str | None] = mapped_column(sa.Text)  # the outcome in one Chinese paragraph
    log: Mapped[str | None] = mapped_column(sa.Text)
    load_ids: Mapped[str | None] = mapped_column(sa.Text)  # JSON list: the loads it created
    decision: Mapped[str | None] = mapped_column(sa.String(16))  # confirm | cancel (a dry run)
    pid: Mapped[int | None] = mapped_column(sa.Integer)
    host: Mapped[str | None] = mapped_column(sa.String(255))
    undone_by: Mapped[int | None] = mapped_column(sa.BigInteger)  # the undo job, once undone


class ScheduledTask(Base):
    """A task of `bizenv scheduler`: its schedule and its last and next runs (the 数据 page)."""

    __tablename__ = "scheduled_tasks"

    name: Mapped[str] = mapped_column(sa.String(100), primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(16))  # watch | pull | build
    schedule: Mapped[str] = mapped_column(sa.String(255))  # in Chinese, e.g. 每 60 秒
    last_run_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime)
    last_status: Mapped[str | None] = mapped_column(sa.String(16))
    last_message: Mapped[str | None] = mapped_column(sa.Text)
    last_job_id: Mapped[int | None] = mapped_column(sa.BigInteger)
    next_run_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime)
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime)


class SourceMark(Base):
    """The high-water mark of a database source's incremental column."""

    __tablename__ = "source_marks"

    name: Mapped[str] = mapped_column(sa.String(100), primary_key=True)
    column: Mapped[str] = mapped_column(sa.String(100))
    mark: Mapped[str | None] = mapped_column(sa.Text)  # JSON: the value and the keys at it
    rows_pulled: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    updated_at: Mapped[dt.datetime] = mapped_column(sa.DateTime, default=utcnow)


class WatchedFile(Base):
    """A file a watched folder has handed to a load job (by content: a copy is not loaded again)."""

    __tablename__ = "watched_files"

    sha256: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    path: Mapped[str] = mapped_column(sa.Text)
    job_id: Mapped[int | None] = mapped_column(sa.BigInteger)
    seen_at: Mapped[dt.datetime] = mapped_column(sa.DateTime, default=utcnow)


@dataclass(frozen=True)
class JobView:
    """A job as pages and commands read it (plain values, JSON decoded)."""

    id: int
    kind: str
    status: str
    who: str | None
    via: str
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    params: dict
    progress: float
    progress_text: str
    summary: dict
    message: str
    log: str
    load_ids: list[str]
    decision: str | None
    pid: int | None
    undone_by: int | None

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status)

    @property
    def kind_label(self) -> str:
        return KIND_LABELS.get(self.kind, self.kind)

    @property
    def done(self) -> bool:
        return self.status not in ACTIVE


def _view(j: Job) -> JobView:
    return JobView(
        id=j.id,
        kind=j.kind,
        status=j.status,
        who=j.who,
        via=j.via,
        created_at=j.created_at,
        started_at=j.started_at,
        finished_at=j.finished_at,
        params=json.loads(j.params) if j.params else {},
        progress=j.progress or 0.0,
        progress_text=j.progress_text or "",
        summary=json.loads(j.summary) if j.summary else {},
        message=j.message or "",
        log=j.log or "",
        load_ids=json.loads(j.load_ids) if j.load_ids else [],
        decision=j.decision,
        pid=j.pid,
        undone_by=j.undone_by,
    )


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def create(
    data_dir: DataDir,
    kind: str,
    who: str | None,
    params: dict | None = None,
    via: str = "web",
    status: str = QUEUED,
) -> int:
    """A new job row (queued unless told); returns its id."""
    with store.session(data_dir) as s:
        job = Job(
            kind=kind,
            status=status,
            who=who,
            via=via,
            created_at=utcnow(),
            started_at=utcnow() if status == RUNNING else None,
            params=_dumps(params or {}),
            progress=0.0,
        )
        s.add(job)
        s.flush()
        return int(job.id)


def get(data_dir: DataDir, job_id: int) -> JobView | None:
    with store.session(data_dir) as s:
        j = s.get(Job, job_id)
        return _view(j) if j is not None else None


def update(data_dir: DataDir, job_id: int, **values: Any) -> None:
    """Set columns of a job; dict/list values of params, summary and load_ids are JSON-encoded."""
    for name in ("params", "summary", "load_ids"):
        if name in values and not isinstance(values[name], str | None):
            values[name] = _dumps(values[name])
    with store.session(data_dir) as s:
        s.execute(sa.update(Job).where(Job.id == job_id).values(**values))


def append_log(data_dir: DataDir, job_id: int, text: str) -> None:
    with store.session(data_dir) as s:
        j = s.get(Job, job_id)
        if j is None:
            return
        stamp = dt.datetime.now(dt.UTC).astimezone(dt.timezone(dt.timedelta(hours=8)))
        j.log = ((j.log or "") + f"[{stamp:%H:%M:%S}] {text}\n")[-LOG_LIMIT:]


def recent(data_dir: DataDir, limit: int = 50) -> list[JobView]:
    """The newest jobs first (stale ones marked first, see reap)."""
    reap(data_dir)
    with store.session(data_dir) as s:
        rows = s.scalars(sa.select(Job).order_by(Job.id.desc()).limit(limit)).all()
        return [_view(j) for j in rows]


def ahead_of(data_dir: DataDir, job_id: int) -> int:
    """How many jobs are queued or running before this one (the page's 前面还有 N 个任务)."""
    with store.session(data_dir) as s:
        return int(
            s.scalar(
                sa.select(sa.func.count())
                .select_from(Job)
                .where(Job.id < job_id, Job.status.in_(ACTIVE))
            )
            or 0
        )


def _alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie (a child of this process that exited and was not reaped) is not running
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


STALE_QUEUED = dt.timedelta(minutes=2)  # a queued job whose process never started


def reap(data_dir: DataDir) -> list[int]:
    """Mark the jobs of this host whose process is gone as failed (interrupted). Returns their ids.

    A killed load rolled its open transaction back (the warehouse and the live snapshot are the
    ones before it); the row only has to say so."""
    host = socket.gethostname()
    gone: list[int] = []
    with store.session(data_dir) as s:
        for j in s.scalars(sa.select(Job).where(Job.status.in_(ACTIVE))).all():
            if j.pid is None:
                if j.via != "cli" and utcnow() - j.created_at > STALE_QUEUED:
                    gone.append(j.id)
                continue
            if j.host == host and not _alive(j.pid):
                gone.append(j.id)
        if gone:
            s.execute(
                sa.update(Job)
                .where(Job.id.in_(gone))
                .values(
                    status=FAILED,
                    finished_at=utcnow(),
                    message="任务进程已中断（被终止或服务器重启），未完成的写入已整体回滚："
                    "数据仓库和看板仍是任务开始前的状态。可以重新提交。",
                )
            )
    return gone


def spawn(data_dir: DataDir, job_id: int) -> int:
    """Run the job in a process of its own (`bizenv job run <id>`), detached from this one:
    it outlives the Streamlit session that started it. Returns the pid."""
    data_dir.logs.mkdir(parents=True, exist_ok=True)
    out = open(data_dir.logs / f"job-{job_id}.out", "ab")  # noqa: SIM115 - handed to the child
    try:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "etl.cli",
                "job",
                "run",
                str(job_id),
                "--data-dir",
                str(data_dir.root),
            ],
            cwd=str(Path(__file__).resolve().parents[1]),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    finally:
        out.close()
    update(data_dir, job_id, pid=proc.pid, host=socket.gethostname())
    return proc.pid


def decide(data_dir: DataDir, job_id: int, decision: str) -> bool:
    """A person's answer to a dry run (confirm | cancel); False when the job no longer waits."""
    with store.session(data_dir) as s:
        result = s.execute(
            sa.update(Job)
            .where(Job.id == job_id, Job.status.in_((QUEUED, RUNNING, AWAITING)))
            .values(decision=decision)
        )
        return bool(getattr(result, "rowcount", 0))


# ── the scheduler's state ─────────────────────────────────────────────────────────────────────


def tasks(data_dir: DataDir) -> list[ScheduledTask]:
    with store.session(data_dir) as s:
        return list(s.scalars(sa.select(ScheduledTask).order_by(ScheduledTask.name)).all())


def save_task(data_dir: DataDir, name: str, **values: Any) -> None:
    with store.session(data_dir) as s:
        t = s.get(ScheduledTask, name)
        if t is None:
            t = ScheduledTask(name=name, kind=values.pop("kind", "build"), schedule="")
            s.add(t)
        for k, v in values.items():
            setattr(t, k, v)


def get_mark(data_dir: DataDir, name: str) -> SourceMark | None:
    with store.session(data_dir) as s:
        return s.get(SourceMark, name)


def save_mark(data_dir: DataDir, name: str, column: str, mark: str | None, rows: int) -> None:
    with store.session(data_dir) as s:
        m = s.get(SourceMark, name)
        if m is None:
            m = SourceMark(name=name, column=column, rows_pulled=0)
            s.add(m)
        m.column, m.mark, m.updated_at = column, mark, utcnow()
        m.rows_pulled = (m.rows_pulled or 0) + rows


def seen_file(data_dir: DataDir, sha256: str) -> bool:
    with store.session(data_dir) as s:
        return s.get(WatchedFile, sha256) is not None


def remember_file(data_dir: DataDir, sha256: str, path: str, job_id: int | None) -> None:
    with store.session(data_dir) as s:
        if s.get(WatchedFile, sha256) is None:
            s.add(WatchedFile(sha256=sha256, path=path, job_id=job_id, seen_at=utcnow()))
