"""`bizenv scheduler`: watched folders, database pulls and the nightly rebuild (APScheduler).

Each run of a task is a job (office.jobs), run in this process one at a time after any job
the browser or the CLI queued first. The tasks, their schedule and their last and next runs are
written to the application database for the 数据 page, with a heartbeat every 30 seconds.
`--once` runs every task once now and exits (cron, tests).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import logging
import time
from pathlib import Path

HELP = "定时采集：监视收件文件夹、按 sources.yaml 从数据库增量采集、夜间重新计算（常驻运行）。"
EXAMPLE = (
    "  bizenv scheduler                  （常驻运行；作为系统服务运行的方法见 README）\n"
    "  bizenv scheduler --once           （每个任务立即运行一次后退出）"
)
log = logging.getLogger(__name__)
WHO = "定时任务"
STABLE_SECONDS = 5.0  # a file still being copied in is not loaded until it stops changing


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", metavar="目录", help="数据目录（默认 data/warehouse/）")
    parser.add_argument("--once", action="store_true", help="每个任务立即运行一次后退出")


def _sha256(path: Path) -> str:
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def new_files(dd, folder: Path) -> list[tuple[Path, str]]:
    """Export files in `folder` whose content no watch has loaded yet (settled for a few seconds)."""
    from etl.commands.load import EXPORT_SUFFIXES
    from office import jobs

    if not folder.is_dir():
        return []
    out = []
    now = time.time()
    for f in sorted(folder.iterdir()):
        if (
            not f.is_file()
            or f.suffix.lower() not in EXPORT_SUFFIXES
            or f.name.startswith(("~$", "."))
        ):
            continue
        if now - f.stat().st_mtime < STABLE_SECONDS:
            continue
        digest = _sha256(f)
        if not jobs.seen_file(dd, digest):
            out.append((f, digest))
    return out


def run_watch(dd, watch) -> str:
    from etl.jobrun import execute
    from office import jobs

    found = new_files(dd, watch.folder)
    if not found:
        return "没有新文件。"
    messages = []
    for path, digest in found:
        job_id = jobs.create(
            dd,
            "watch",
            WHO,
            {"files": [str(path)], "source": watch.source, "profile": watch.profile},
            via="scheduler",
        )
        jobs.remember_file(dd, digest, str(path), job_id)
        execute(dd, job_id)
        j = jobs.get(dd, job_id)
        messages.append(f"{path.name}：{j.status_label if j else '—'}")
    return "；".join(messages)


def run_pull(dd, name: str) -> str:
    from etl.jobrun import execute
    from office import jobs

    job_id = jobs.create(dd, "pull", WHO, {"source_name": name}, via="scheduler")
    execute(dd, job_id)
    j = jobs.get(dd, job_id)
    return f"任务 {job_id}：{j.status_label}。{j.message}" if j else ""


def run_build(dd) -> str:
    from etl.jobrun import execute
    from office import jobs

    job_id = jobs.create(dd, "build", WHO, {}, via="scheduler")
    execute(dd, job_id)
    j = jobs.get(dd, job_id)
    return f"任务 {job_id}：{j.status_label}。{j.message}" if j else ""


def _task(dd, name: str, kind: str, schedule: str, fn):
    """A task body that records its run (and never lets one failure stop the scheduler)."""
    from office import jobs

    def body():
        started = jobs.utcnow()
        status = jobs.SUCCEEDED
        try:
            message = fn()
            if "失败" in message:
                status = jobs.FAILED
        except Exception as err:  # noqa: BLE001 - recorded; the next run tries again
            log.exception("scheduled task %s failed", name)
            status, message = jobs.FAILED, str(err)
        jobs.save_task(
            dd,
            name,
            kind=kind,
            schedule=schedule,
            last_run_at=started,
            last_status=status,
            last_message=message[:2000],
        )

    return body


def tasks(dd):
    """(name, kind, schedule text, trigger kwargs, body) of every configured task."""
    from etl import sources

    cfg = sources.load_config(dd)
    out = []
    for w in cfg.watch:
        name = f"监视 {w.folder.name}"
        text = f"每 {w.every_seconds} 秒检查 {w.folder}"
        out.append(
            (
                name,
                "watch",
                text,
                {"trigger": "interval", "seconds": w.every_seconds},
                _task(dd, name, "watch", text, lambda w=w: run_watch(dd, w)),
            )
        )
    for db in cfg.databases:
        name = f"采集 {db.name}"
        text = f"每 {db.every_minutes:g} 分钟增量采集（按 {db.incremental}）"
        out.append(
            (
                name,
                "pull",
                text,
                {"trigger": "interval", "minutes": db.every_minutes},
                _task(dd, name, "pull", text, lambda n=db.name: run_pull(dd, n)),
            )
        )
    if cfg.rebuild:
        hour, _, minute = cfg.rebuild.partition(":")
        name = "夜间重新计算"
        text = f"每天 {cfg.rebuild}（北京时间）全部重新计算并发布"
        out.append(
            (
                name,
                "build",
                text,
                {"trigger": "cron", "hour": int(hour), "minute": int(minute or 0)},
                _task(dd, name, "build", text, lambda: run_build(dd)),
            )
        )
    return out


def run(args: argparse.Namespace) -> int:
    from apscheduler.schedulers.blocking import BlockingScheduler

    from kpi.settings import DataDir
    from office import jobs

    dd = DataDir.of(args.data_dir)
    dd.root.mkdir(parents=True, exist_ok=True)
    found = tasks(dd)
    if args.once:
        for name, kind, text, _, body in found:
            jobs.save_task(dd, name, kind=kind, schedule=text, heartbeat_at=jobs.utcnow())
            body()
            last = {t.name: t for t in jobs.tasks(dd)}.get(name)
            print(f"{name}：{last.last_message if last else ''}")
        return 0
    sched = BlockingScheduler(
        timezone="Asia/Shanghai", job_defaults={"coalesce": True, "max_instances": 1}
    )
    for name, kind, text, trigger, body in found:
        if trigger["trigger"] == "interval":  # watches and pulls run once at start, then on time
            trigger = {**trigger, "next_run_time": dt.datetime.now(dt.UTC)}
        sched.add_job(body, id=name, name=name, **trigger)
        jobs.save_task(dd, name, kind=kind, schedule=text)

    def heartbeat():
        for job in sched.get_jobs():
            if job.id.startswith("_"):
                continue
            nxt = job.next_run_time
            jobs.save_task(
                dd,
                job.id,
                heartbeat_at=jobs.utcnow(),
                next_run_at=nxt.astimezone(dt.UTC).replace(tzinfo=None) if nxt else None,
            )

    sched.add_job(
        heartbeat, "interval", seconds=30, id="_heartbeat", next_run_time=dt.datetime.now(dt.UTC)
    )
    print(f"调度程序已启动（数据目录 {dd.root}）：" + "；".join(t[2] for t in found))
    try:
        sched.start()
    except (KeyboardInterrupt, SystemExit):
        print("调度程序已停止。")
    return 0
