"""Faults at the machine and in folders (issue 12, 3–5): a full disk, no write rights, a second
writer, a publish killed mid-copy, a header-only file in a folder — each said plainly, nothing
half-written, the other files loaded."""

from __future__ import annotations

import datetime as dt
import os
import threading
import time
from pathlib import Path

import duckdb
import pytest

from etl import locks
from etl.cli import main
from etl.load import load_files
from kpi import settings, store
from kpi.errors import FileRefused, MachineProblem, machine_problem
from tests.benchmarks.hostile import HEADER, rows


def write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def count(sql: str) -> int:
    con = store.connect_warehouse()
    try:
        return con.execute(sql).fetchone()[0]
    finally:
        con.close()


def test_a_header_only_csv_is_a_refusal_not_a_crash(tmp_path, capsys):
    path = write(tmp_path / "只有表头.csv", [HEADER])
    assert main(["load", str(path)]) == 2
    err = capsys.readouterr().err
    assert "表头（第 1 行）下面没有数据行" in err and "程序内部出错" not in err


def test_a_folder_load_treats_every_file_on_its_own(tmp_path, capsys):
    folder = tmp_path / "inbox"
    folder.mkdir()
    write(folder / "a_好的.csv", [HEADER, *rows(3)])
    write(folder / "b_只有表头.csv", [HEADER])
    write(folder / "c_也好.csv", [HEADER, *rows(2, 100)])
    code = main(["load", str(folder)])
    out, err = capsys.readouterr()
    assert code == 2  # one file refused
    assert "✓ a_好的.csv" in out and "✓ c_也好.csv" in out and "✗ b_只有表头.csv" in out
    assert "1 个文件被拒绝导入（其余 2 个已导入）" in err
    assert count("SELECT count(*) FROM approvals") == 5
    snap = store.connect_snapshot()  # the two good files were published
    try:
        assert snap.execute("SELECT count(*) FROM approvals").fetchone() == (5,)
    finally:
        snap.close()


def test_a_bug_on_one_file_does_not_stop_the_others(tmp_path, monkeypatch):
    import etl.load

    real = etl.load.choose_profile

    def flaky(headers, file_name, *a, **k):
        if file_name.startswith("b_"):
            raise KeyError("boom")
        return real(headers, file_name, *a, **k)

    monkeypatch.setattr(etl.load, "choose_profile", flaky)
    a = write(tmp_path / "a.csv", [HEADER, *rows(2)])
    b = write(tmp_path / "b_坏.csv", [HEADER, *rows(2, 50)])
    with pytest.raises(FileRefused) as err:
        load_files([a, b], build=False)
    assert "b_坏.csv：读取时程序内部出错（KeyError" in str(err.value)
    assert "其余文件照常导入" in str(err.value)
    assert count("SELECT count(*) FROM approvals") == 2


@pytest.mark.parametrize(
    "error, said",
    [
        (OSError(28, "No space left on device"), "磁盘空间不足"),
        (duckdb.IOException('Could not write file "x": No space left on device'), "磁盘空间不足"),
        (OSError(30, "Read-only file system"), "没有写入权限"),
        (PermissionError(13, "Permission denied"), "没有写入权限"),
        (
            duckdb.IOException('Could not set lock on file "w.duckdb": Conflicting lock'),
            "另一个导入或计算",
        ),
        (ValueError("something else"), None),
    ],
)
def test_machine_problems_are_named(error, said, tmp_path):
    text = machine_problem(error, tmp_path)
    assert (text is None) if said is None else said in text
    if said in ("磁盘空间不足", "没有写入权限"):
        assert str(tmp_path) in text  # which place
    if said == "磁盘空间不足":
        assert "剩余" in text and "MB" in text


def test_a_publish_that_fails_after_the_load_says_the_load_is_kept(tmp_path, monkeypatch):
    import kpi.store

    path = write(tmp_path / "a.csv", [HEADER, *rows(3)])

    def full(*a, **k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(kpi.store.shutil, "copyfile", full)
    with pytest.raises(MachineProblem) as err:
        load_files([path])
    message = str(err.value)
    assert message.startswith("导入已保存到数据仓库，但快照未发布：磁盘空间不足")
    assert "运行 bizenv build" in message and "回滚" not in message
    assert count("SELECT count(*) FROM approvals") == 3  # the load is in the warehouse
    assert store.current_snapshot_path() is None  # …and nothing was published


def test_status_names_loads_that_are_not_published(tmp_path, capsys):
    load_files([write(tmp_path / "第一批.csv", [HEADER, *rows(3)])])
    load_files([write(tmp_path / "第二批.csv", [HEADER, *rows(2, 10)])], build=False)
    assert main(["status"]) == 0
    out = capsys.readouterr().out
    assert "数据仓库中有 1 次导入尚未发布到看板（第二批.csv）" in out and "bizenv build" in out


def test_a_second_writer_waits_then_says_another_load_is_running(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("BIZENV_LOCK_WAIT_SECONDS", "1")
    dd = settings.DataDir.of()
    path = write(tmp_path / "a.csv", [HEADER, *rows(2)])
    held, release = threading.Event(), threading.Event()

    def other_writer():  # another process in real life: a separate open of the lock file
        with locks.exclusive(dd.root / locks.WRITER_LOCK):
            held.set()
            release.wait(10)

    t = threading.Thread(target=other_writer)
    t.start()
    held.wait(5)
    try:
        started = time.monotonic()
        code = main(["load", str(path)])
        waited = time.monotonic() - started
    finally:
        release.set()
        t.join()
    err = capsys.readouterr().err
    assert code == 3 and waited >= 1.0
    assert "另一个导入或计算正在进行" in err and "BIZENV_LOCK_WAIT_SECONDS" in err
    assert "Could not set lock" not in err and "Conflicting lock" not in err
    assert main(["load", str(path)]) == 0  # once the other is done, it goes through


def test_a_publish_killed_mid_copy_leaves_nothing_behind_after_the_next(tmp_path):
    load_files([write(tmp_path / "a.csv", [HEADER, *rows(2)])])
    dd = settings.DataDir.of()
    stale = dd.snapshots / "snapshot-20261201T000000-dead00.duckdb.tmp"
    stale.write_bytes(os.urandom(4096))  # what a kill during shutil.copyfile leaves
    load_files([write(tmp_path / "b.csv", [HEADER, *rows(2, 10)])])
    assert not stale.exists()
    assert not list(dd.snapshots.glob("*.tmp"))


def test_duplicate_headers_are_refused_naming_both_columns(tmp_path, capsys):
    """Two 受理时间 columns used to load the first silently (issue 12, 10)."""
    header = HEADER + ",受理时间"
    path = write(
        tmp_path / "两列受理时间.csv", [header, *(r + ",2026-08-01 10:00:00" for r in rows(3))]
    )
    assert main(["load", str(path)]) == 2
    err = capsys.readouterr().err
    # 受理时间 is the 8th column (H) and the added one the 14th (N)
    assert "“受理时间”出现在第 H 列和第 N 列" in err and "occurrence" in err
    assert not store.warehouse_path().exists()


def test_a_profile_can_say_which_of_two_columns_to_use(tmp_path):
    header = HEADER + ",受理时间"
    path = write(tmp_path / "两列.csv", [header, *(r + ",2026-07-02 10:00:00" for r in rows(3))])
    profile = tmp_path / "p.yaml"
    profile.write_text(
        "source: approvals\nfields:\n  accepted_at: {occurrence: 2}\n", encoding="utf-8"
    )
    [report] = load_files([path], profile=profile, build=False)
    assert report.rows_loaded == 3
    con = store.connect_warehouse()
    try:
        assert con.execute("SELECT DISTINCT accepted_at FROM approvals").fetchall() == [
            (dt.datetime(2026, 7, 2, 10, 0),)
        ]
    finally:
        con.close()
