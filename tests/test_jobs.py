"""Jobs (issue 16): a browser job runs in a process of its own, waits its turn, a dry run waits
for the person's answer, killing it mid-way changes nothing, `bizenv load` is a job too."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from pathlib import Path

import pytest

from etl.cli import main
from etl.load import load_files
from kpi import store
from kpi.settings import DataDir
from office import jobs

APPROVALS = "办件编号,事项编码,所属区县,受理时间,办结时间,办件状态,法定时限,承诺时限"


def write(path: Path, lines: list[str]) -> Path:
    path.write_bytes(("\n".join(lines) + "\n").encode("utf-8"))
    return path


def big_file(path: Path, n: int) -> Path:
    body = [
        f"BJ{i:07d},SX0101,柯城区,2026-07-01 09:00,2026-07-02 09:00,已办结,15,1" for i in range(n)
    ]
    return write(path, [APPROVALS, *body])


def warehouse_rows():
    con = store.connect_warehouse_readonly()
    try:
        return (
            con.execute("SELECT * FROM approvals ORDER BY case_id").fetchall(),
            con.execute("SELECT load_id, status FROM etl_runs ORDER BY 1").fetchall(),
            con.execute("SELECT count(*) FROM quarantine").fetchall(),
        )
    finally:
        con.close()


def wait_for(dd: DataDir, job_id: int, statuses: tuple[str, ...], timeout: float = 90):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        j = jobs.get(dd, job_id)
        if j is not None and j.status in statuses:
            return j
        time.sleep(0.2)
    j = jobs.get(dd, job_id)
    raise AssertionError(f"job {job_id} still {j and j.status}: {j and j.message} {j and j.log}")


@pytest.fixture
def dd(isolated_data_dir):
    """The data dir; a job process a failing test left behind is stopped afterwards."""
    found = DataDir.of(isolated_data_dir)
    yield found
    for j in jobs.recent(found, 100):
        if j.pid and not j.done and j.pid != os.getpid():
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(j.pid, signal.SIGKILL)


@pytest.fixture
def first(tmp_path, dd):
    path = write(
        tmp_path / "办件_A.csv",
        [APPROVALS, "BJA,SX0101,柯城区,2026-07-01 09:00,2026-07-02 09:00,已办结,15,1"],
    )
    load_files([path], data_dir=dd)
    return path


def test_a_job_runs_in_its_own_process_and_records_its_loads(tmp_path, dd, first):
    f = write(
        tmp_path / "办件_B.csv",
        [
            APPROVALS,
            "BJ1,SX0101,柯城区,2026-07-01 09:00,2026-07-02 09:00,已办结,15,1",
            "BJ2,SX0101,火星区,2026-07-01 09:00,,办理中,15,1",
        ],
    )
    job_id = jobs.create(dd, "load", "tester", {"files": [str(f)]})
    pid = jobs.spawn(dd, job_id)
    assert pid != os.getpid()
    j = wait_for(dd, job_id, (jobs.SUCCEEDED, jobs.FAILED))
    assert j.status == jobs.SUCCEEDED, j.message
    assert j.pid == pid and j.started_at and j.finished_at and j.progress == 1.0
    [report] = j.summary["files"]
    assert (report["rows_read"], report["rows_loaded"], report["rows_quarantined"]) == (2, 1, 1)
    _, runs, _ = warehouse_rows()
    assert j.load_ids == [report["load_id"]] and (report["load_id"], "ok") in runs


def test_a_dry_run_waits_for_confirmation_and_a_second_job_waits_in_the_queue(tmp_path, dd, first):
    before = warehouse_rows()
    f = write(
        tmp_path / "办件_C.csv",
        [APPROVALS, "BJ1,SX0101,柯城区,2026-07-01 09:00,2026-07-02 09:00,已办结,15,1"],
    )
    dry = jobs.create(dd, "load", "tester", {"files": [str(f)], "dry_run": True})
    jobs.spawn(dd, dry)
    j = wait_for(dd, dry, (jobs.AWAITING, jobs.FAILED))
    assert j.status == jobs.AWAITING, j.message
    [r] = j.summary["files"]
    assert (r["rows_inserted"], r["rows_updated"], r["rows_unchanged"]) == (1, 0, 0)
    second = jobs.create(dd, "build", "tester")
    jobs.spawn(dd, second)
    deadline = time.monotonic() + 60  # its process starts (slowly on a busy machine), then waits
    while not (waiting := jobs.get(dd, second)).progress_text and time.monotonic() < deadline:
        time.sleep(0.2)
    assert waiting.status == jobs.QUEUED
    assert waiting.progress_text == "排队中，前面还有 1 个任务"
    assert jobs.decide(dd, dry, "cancel")
    j = wait_for(dd, dry, (jobs.CANCELLED, jobs.SUCCEEDED, jobs.FAILED))
    assert j.status == jobs.CANCELLED
    assert wait_for(dd, second, (jobs.SUCCEEDED, jobs.FAILED)).status == jobs.SUCCEEDED
    assert warehouse_rows() == before


def test_killing_a_job_mid_load_leaves_the_warehouse_and_the_snapshot(tmp_path, dd, first):
    before = warehouse_rows()
    current = dd.pointer.read_text()
    f = big_file(tmp_path / "办件_大.csv", 50_000)
    job_id = jobs.create(dd, "load", "tester", {"files": [str(f)], "dry_run": True})
    pid = jobs.spawn(dd, job_id)
    # every row written into the open transaction, not committed
    j = wait_for(dd, job_id, (jobs.AWAITING, jobs.FAILED))
    assert j.summary["files"][0]["rows_inserted"] == 50_000
    os.killpg(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    assert dd.pointer.read_text() == current
    assert warehouse_rows() == before
    assert jobs.reap(dd) == [job_id]
    j = jobs.get(dd, job_id)
    assert j.status == jobs.FAILED and "中断" in j.message
    # the next load works (no lock, no half-written state left behind)
    load_files([f], data_dir=dd, build=False)
    con = store.connect_warehouse_readonly()
    try:
        assert con.execute("SELECT count(*) FROM approvals").fetchall() == [(50_001,)]
    finally:
        con.close()


def test_bizenv_load_from_the_command_line_is_a_job(tmp_path, dd, first):
    f = write(
        tmp_path / "办件_D.csv",
        [APPROVALS, "BJ7,SX0101,柯城区,2026-07-01 09:00,2026-07-02 09:00,已办结,15,1"],
    )
    assert main(["load", str(f), "--data-dir", str(dd.root)]) == 0
    [j] = jobs.recent(dd)
    assert (j.kind, j.via, j.status) == ("load", "cli", jobs.SUCCEEDED)
    _, runs, _ = warehouse_rows()
    assert len(j.load_ids) == 1 and (j.load_ids[0], "ok") in runs
    assert j.summary["files"][0]["rows_inserted"] == 1


def test_a_dry_run_of_only_refused_files_ends_without_waiting(tmp_path, dd, first):
    f = write(tmp_path / "不认识的导出.csv", ["流水号,区域", "LS1,柯城区"])
    job_id = jobs.create(dd, "load", "tester", {"files": [str(f)], "dry_run": True})
    jobs.spawn(dd, job_id)
    j = wait_for(dd, job_id, (jobs.FAILED, jobs.SUCCEEDED, jobs.AWAITING), timeout=60)
    assert j.status == jobs.FAILED and "无法判断是哪种导出" in j.message
    assert j.summary["files"][0]["status"] == "refused"


def test_a_rebuild_job_proposes_the_tasks_as_bizenv_build_does(dd, first, monkeypatch):
    """The nightly rebuild and the page's 重新计算 publish a snapshot: its red cells become 督办
    tasks there too (before, only bizenv build and loads proposed them)."""
    from etl import jobrun
    from office.tracking import tasks

    asked = []

    def after_build(data_dir, actor=None):
        asked.append(data_dir)
        return "督办任务：2026Q3 新生成 2 项（待营商办确认），自动销号 0 项。"

    monkeypatch.setattr(tasks, "after_build", after_build)
    job_id = jobs.create(dd, "build", "tester")
    assert jobrun.execute(dd, job_id) == 0
    j = jobs.get(dd, job_id)
    assert j.status == jobs.SUCCEEDED and len(asked) == 1
    assert "督办任务：2026Q3 新生成 2 项" in j.log
