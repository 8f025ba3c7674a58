"""`bizenv scheduler` (issue 16): a new file in the watched folder is loaded by a job, a file
whose content was loaded already is not loaded again; --once records each task's run."""

from __future__ import annotations

import os
import time
from pathlib import Path

from etl.cli import main
from etl.commands import scheduler
from kpi import store
from kpi.settings import DataDir
from office import jobs

APPROVALS = "办件编号,事项编码,所属区县,受理时间,办结时间,办件状态,法定时限,承诺时限"


def drop(folder: Path, name: str, lines: list[str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(("\n".join(lines) + "\n").encode("utf-8"))
    old = time.time() - 60  # settled: not still being copied in
    os.utime(path, (old, old))
    return path


def test_a_watched_folder_loads_each_new_file_once(isolated_data_dir):
    dd = DataDir.of(isolated_data_dir)
    watch = dd.root / "inbox" / "watch"
    first = drop(
        watch,
        "办件_1.csv",
        [APPROVALS, "BJ1,SX0101,柯城区,2026-07-01 09:00,2026-07-02 09:00,已办结,15,1"],
    )
    assert main(["scheduler", "--once", "--data-dir", str(dd.root)]) == 0
    [j] = [j for j in jobs.recent(dd) if j.kind == "watch"]
    assert (j.status, j.via, j.who) == (jobs.SUCCEEDED, "scheduler", "定时任务")
    # the same bytes under another name, and the first file again: not loaded again
    (watch / "办件_1_副本.csv").write_bytes(first.read_bytes())
    os.utime(watch / "办件_1_副本.csv", (time.time() - 60, time.time() - 60))
    drop(watch, "办件_2.csv", [APPROVALS, "BJ2,SX0101,柯城区,2026-07-01 09:00,,办理中,15,1"])
    assert main(["scheduler", "--once", "--data-dir", str(dd.root)]) == 0
    watched = [j for j in jobs.recent(dd) if j.kind == "watch"]
    assert len(watched) == 2
    assert watched[0].summary["files"][0]["file_name"] == "办件_2.csv"
    con = store.connect_warehouse_readonly(dd)
    try:
        assert con.execute("SELECT case_id FROM approvals ORDER BY 1").fetchall() == [
            ("BJ1",),
            ("BJ2",),
        ]
    finally:
        con.close()
    tasks = {t.name: t for t in jobs.tasks(dd)}
    # no sources.yaml: the default watched folder and the nightly rebuild
    assert set(tasks) == {"监视 watch", "夜间重新计算"}
    assert tasks["监视 watch"].last_status == jobs.SUCCEEDED
    assert tasks["夜间重新计算"].schedule.startswith("每天 02:30")
    assert [j.kind for j in jobs.recent(dd)].count("build") == 2


def test_a_file_being_copied_in_waits(isolated_data_dir):
    dd = DataDir.of(isolated_data_dir)
    watch = dd.root / "inbox" / "watch"
    path = drop(watch, "办件_新.csv", [APPROVALS])
    os.utime(path, None)  # just written
    assert scheduler.new_files(dd, watch) == []
