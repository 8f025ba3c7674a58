"""Browser intake without Streamlit: what the 数据 page calls (and the upload benchmark times).

save_upload → the data dir's inbox (uploads/<time>-<id>/<name>); start_load → a load job with
a dry run, in its own process; confirm / cancel → the person's answer; start_undo → an undo job.
The role check is here too (office.roles.LOAD), so a page cannot forget it.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import uuid
from pathlib import Path

from kpi.errors import UserInputError
from kpi.settings import DataDir
from office import jobs, roles

UPLOAD_ENV = "BIZENV_MAX_UPLOAD_MB"
DEFAULT_UPLOAD_MB = (
    200.0  # as Streamlit's own server.maxUploadSize default (.streamlit/config.toml)
)
SUFFIXES = (".csv", ".txt", ".xlsx", ".xlsm", ".xls")


def profiles_dir(data_dir: DataDir) -> Path:
    """Header profiles saved from the mapping form (etl.load reads them too)."""
    return data_dir.root / "profiles"


def saved_profiles(data_dir: DataDir) -> dict[str, Path]:
    """name → file of each saved profile."""
    folder = profiles_dir(data_dir)
    if not folder.is_dir():
        return {}
    return {p.stem: p for p in sorted(folder.glob("*.yaml"))}


def max_upload_mb() -> float:
    raw = os.environ.get(UPLOAD_ENV, "").strip()
    try:
        return float(raw) if raw else DEFAULT_UPLOAD_MB
    except ValueError:
        return DEFAULT_UPLOAD_MB


def inbox(data_dir: DataDir) -> Path:
    return data_dir.root / "inbox"


def upload_folder(data_dir: DataDir) -> Path:
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    folder = inbox(data_dir) / "uploads" / f"{stamp}-{uuid.uuid4().hex[:6]}"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def safe_name(name: str) -> str:
    """The file's own name, without any folder part or characters a file system refuses."""
    base = Path(str(name).replace("\\", "/")).name.strip()
    base = re.sub(r'[\x00-\x1f<>:"/|?*]', "_", base).lstrip(".") or "上传文件.csv"
    return base[:200]


def check_upload(name: str, size: int) -> None:
    """Refuse a file that is not an export's kind or over the size limit (in Chinese)."""
    if not safe_name(name).lower().endswith(SUFFIXES):
        raise UserInputError(
            f"{name}：只能上传 CSV、XLSX 或 XLS 导出文件（收到的文件类型不支持）。"
        )
    limit = max_upload_mb()
    if size > limit * 1024 * 1024:
        raise UserInputError(
            f"{name}：文件大小 {size / 1024 / 1024:,.1f} MB，超过上传上限 {limit:g} MB。"
            f"请分季度导出后分别上传，或由管理员调大环境变量 {UPLOAD_ENV}"
            "（同时调大 Streamlit 的 server.maxUploadSize）。"
        )


def save_upload(folder: Path, name: str, data) -> Path:
    """Write one uploaded file (bytes or a buffer) into `folder`; returns its path."""
    target = folder / safe_name(name)
    n = 1
    while target.exists():  # two uploads of the same name in one go
        target = folder / f"{Path(safe_name(name)).stem}_{n}{Path(name).suffix}"
        n += 1
    with open(target, "wb") as fh:
        fh.write(data)
    return target


def _require(scope: roles.Scope | None) -> None:
    if scope is None:
        raise roles.Denied("请先登录。")
    scope.require(roles.LOAD)


def import_ledgers(
    data_dir: DataDir, files: list[Path], actor, scope: roles.Scope | None
) -> tuple[list[Path], list[tuple[bool, str]]]:
    """督办 台账 among the uploads go into the application database at once — they are not
    warehouse writes, so no job; returns the other files (for the load job) and a line per 台账:
    (imported, what happened). A 台账 with errors writes nothing."""
    from office.tracking import ledgers

    _require(scope)
    rest, outcomes = ledgers.import_ledgers(data_dir, files, actor)
    return rest, [
        (o.imported is not None, o.summary + (f"：{o.refusal}" if o.refusal else "。"))
        for o in outcomes
    ]


def start_load(
    data_dir: DataDir,
    files: list[Path],
    who: str | None,
    scope: roles.Scope | None,
    source: str | None = None,
    profile: str | None = None,
    dry_run: bool = True,
    spawn: bool = True,
) -> int:
    """Queue a load job (a dry run first unless told) and start its process; returns its id."""
    _require(scope)
    params = {
        "files": [str(f) for f in files],
        "source": source,
        "profile": profile,
        "dry_run": dry_run,
    }
    job_id = jobs.create(data_dir, "load", who, params)
    if spawn:
        jobs.spawn(data_dir, job_id)
    return job_id


def answer(data_dir: DataDir, job_id: int, confirm: bool, scope: roles.Scope | None) -> bool:
    _require(scope)
    return jobs.decide(data_dir, job_id, "confirm" if confirm else "cancel")


def undoable(job: jobs.JobView) -> bool:
    return (
        job.kind in ("load", "watch", "pull")
        and job.status == jobs.SUCCEEDED
        and bool(job.load_ids)
        and not job.undone_by
    )


def start_undo(data_dir: DataDir, target: int, who: str | None, scope: roles.Scope | None) -> int:
    _require(scope)
    job = jobs.get(data_dir, target)
    if job is None or not undoable(job):
        raise UserInputError("这个任务不能撤销（不是成功的导入，或已经撤销过）。")
    job_id = jobs.create(data_dir, "undo", who, {"job": target})
    jobs.spawn(data_dir, job_id)
    return job_id


def start_build(data_dir: DataDir, who: str | None, scope: roles.Scope | None) -> int:
    _require(scope)
    job_id = jobs.create(data_dir, "build", who, {})
    jobs.spawn(data_dir, job_id)
    return job_id
