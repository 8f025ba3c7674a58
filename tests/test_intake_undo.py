"""The dry run (the load itself, rolled back) and undo of a load (issue 16)."""

from __future__ import annotations

from pathlib import Path

import pytest

from etl import undo
from etl.load import load_files
from kpi import store
from kpi.errors import UserInputError
from kpi.settings import DataDir

APPROVALS = "办件编号,事项编码,所属区县,受理时间,办结时间,办件状态,法定时限,承诺时限"


def write(path: Path, lines: list[str]) -> Path:
    path.write_bytes(("\n".join(lines) + "\n").encode("utf-8"))
    return path


def table(sql: str):
    con = store.connect_warehouse()
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def everything() -> dict:
    """The warehouse's records, runs, quarantine and lineage as plain rows."""
    return {
        "approvals": table("SELECT * FROM approvals ORDER BY case_id"),
        "runs": table("SELECT load_id, status FROM etl_runs ORDER BY load_id"),
        "quarantine": table("SELECT * FROM quarantine ORDER BY load_id, line_no"),
        "lineage": table("SELECT * FROM lineage ORDER BY record_key, load_id"),
    }


@pytest.fixture
def file_a(tmp_path):
    return write(
        tmp_path / "办件_A.csv",
        [
            APPROVALS,
            "BJ1,SX0101,柯城区,2026-07-01 09:00,2026-07-02 09:00,已办结,15,1",
            "BJ2,SX0801,江山市,2026-07-01 09:00,,办理中,30,1",
            "BJ3,SX0101,柯城区,2026-07-03 09:00,,办理中,15,1",
            "BJ9,SX0101,火星区,2026-07-01 09:00,,办理中,15,1",
        ],
    )


@pytest.fixture
def file_b(tmp_path):
    # BJ2 finished (an update), BJ3 unchanged, BJ4 new, one quarantined row
    return write(
        tmp_path / "办件_B.csv",
        [
            APPROVALS,
            "BJ2,SX0801,江山市,2026-07-01 09:00,2026-07-08 10:00,已办结,30,1",
            "BJ3,SX0101,柯城区,2026-07-03 09:00,,办理中,15,1",
            "BJ4,SX0101,衢江区,2026-08-01 09:00,,办理中,15,1",
            "BJ8,SX0101,木星区,2026-08-01 09:00,,办理中,15,1",
        ],
    )


def test_a_dry_run_reports_the_load_and_writes_nothing(file_a, file_b):
    load_files([file_a])
    before = everything()
    current = DataDir.of(None).pointer.read_text()
    seen = []

    def decline(reports):
        seen.extend(reports)
        return False

    [r] = load_files([file_b], confirm=decline)
    assert r is seen[0] and r.status == "dry_run"
    # by hand: BJ2 changed, BJ3 as before, BJ4 new, BJ8 in no known district
    assert (r.rows_read, r.rows_loaded, r.rows_quarantined) == (4, 3, 1)
    assert (r.rows_inserted, r.rows_updated, r.rows_unchanged) == (1, 1, 1)
    # the quarters of the file, and what file A keeps there beside it: BJ1 and BJ3 (identical in
    # both files, so still A's); BJ2 would become B's
    assert r.periods == ["2026Q3"]
    assert r.other_files == [("2026Q3", "办件_A.csv", 2)]
    assert everything() == before
    assert DataDir.of(None).pointer.read_text() == current


def test_a_confirmed_dry_run_is_the_load(file_a, file_b):
    load_files([file_a])
    [r] = load_files([file_b], confirm=lambda reports: True)
    assert r.status == "ok"
    assert table("SELECT case_id, status, version FROM approvals ORDER BY case_id") == [
        ("BJ1", "已办结", 1),
        ("BJ2", "已办结", 2),
        ("BJ3", "办理中", 1),
        ("BJ4", "办理中", 1),
    ]


def test_undo_of_a_load_restores_the_state_before_it(file_a, file_b):
    [a] = load_files([file_a])
    after_a = everything()
    [b] = load_files([file_b])
    assert (b.rows_inserted, b.rows_updated) == (1, 1)
    assert everything() != after_a
    pointer = DataDir.of(None).pointer.read_text()
    result = undo.undo_loads(DataDir.of(None), [b.load_id])
    assert result == {"approvals": {"removed": 2, "restored": 1}}
    now = everything()
    # the records, quarantine and lineage are A's exactly; B's run is kept, marked undone
    for name in ("approvals", "quarantine", "lineage"):
        assert now[name] == after_a[name], name
    assert now["runs"] == sorted([(a.load_id, "ok"), (b.load_id, "undone")])
    assert table("SELECT count(*) FROM approvals_history") == [(0,)]
    # a new snapshot is live, and it shows A's records
    assert DataDir.of(None).pointer.read_text() != pointer
    snap = store.connect_snapshot()
    try:
        assert snap.execute("SELECT case_id, status FROM approvals ORDER BY 1").fetchall() == [
            ("BJ1", "已办结"),
            ("BJ2", "办理中"),
            ("BJ3", "办理中"),
        ]
    finally:
        snap.close()
    with pytest.raises(UserInputError, match="已经撤销过"):
        undo.undo_loads(DataDir.of(None), [b.load_id])


def test_a_load_whose_rows_a_later_load_changed_is_not_undone(file_a, file_b):
    [a] = load_files([file_a])
    load_files([file_b])  # updates BJ2, which A wrote
    before = everything()
    with pytest.raises(UserInputError, match="办件_B.csv"):
        undo.undo_loads(DataDir.of(None), [a.load_id])
    assert everything() == before


def test_undo_after_reset_demo_does_not_bring_a_demo_record_back(file_a, file_b):
    from etl.reset import remove_demo

    [a] = load_files([file_a])
    con = store.connect_warehouse()
    try:  # as if file A had been the demo generator's (etl.demo.is_demo_export)
        con.execute("UPDATE etl_runs SET is_demo = true WHERE load_id = ?", [a.load_id])
    finally:
        con.close()
    [b] = load_files([file_b])  # a real export: updates BJ2 (a demo record), adds BJ4
    remove_demo(DataDir.of(None))
    # kept: BJ2 (its current version is real), BJ4; gone: BJ1, BJ3 (demo)
    assert table("SELECT case_id FROM approvals ORDER BY 1") == [("BJ2",), ("BJ4",)]
    undo.undo_loads(DataDir.of(None), [b.load_id])
    # the real load undone: nothing of it stays, and the demo version of BJ2 does not return
    assert table("SELECT case_id FROM approvals ORDER BY 1") == []
    assert table("SELECT count(*) FROM approvals_history") == [(0,)]
