"""列对应 (issue 16): an unfamiliar export's columns and samples, a profile built from the
choices with a code table, its preview (the real staging), saved in the data dir — and the next
load of a file with those columns picks it by itself."""

from __future__ import annotations

from pathlib import Path

from etl import mapping
from etl.load import load_files
from kpi import store
from kpi.settings import DataDir

ODD = [
    "流水号,区域,申请日期,完成日期,当前环节,申请事项",
    "LS001,柯城区,2026/10/08 09:00,2026/10/09 10:00,办结,SX0101",
    "LS002,江山市,2026/10/09 09:00,,审批中,SX0801",
    "LS003,火星区,2026/10/10 09:00,2026/10/12 16:00,办结,SX0101",
]


def write(path: Path, lines: list[str]) -> Path:
    path.write_bytes(("\n".join(lines) + "\n").encode("utf-8"))
    return path


def test_a_mapped_profile_previews_saves_and_is_picked_by_the_next_load(
    tmp_path, isolated_data_dir
):
    dd = DataDir.of(isolated_data_dir)
    path = write(tmp_path / "某区自建系统导出.csv", ODD)
    found = mapping.inspect(path, "approvals")
    assert [c.header for c in found.columns] == ODD[0].split(",")
    assert sorted(found.columns[4].values) == sorted(["办结", "审批中"])  # its code table's rows
    status = next(f for f in mapping.fields("approvals") if f.name == "status")
    assert status.label and {"已办结", "办理中"} <= set(status.canonical_values)
    doc = mapping.profile_doc(
        "某区自建系统",
        "approvals",
        {
            "case_id": "流水号",
            "district": "区域",
            "accepted_at": "申请日期",
            "completed_at": "完成日期",
            "status": "当前环节",
            "item_code": "申请事项",
        },
        {"status": {"办结": "已办结", "审批中": "办理中"}},
    )
    pv = mapping.preview(path, doc)
    assert pv.refusal == ""
    # by hand: LS001 and LS002 load, LS003 (火星区) is quarantined
    assert (pv.rows_read, pv.rows_loaded, pv.rows_quarantined) == (3, 2, 1)
    by_id = {r["case_id"]: r for r in pv.rows}
    assert by_id["LS001"]["status"] == "已办结" and by_id["LS002"]["status"] == "办理中"
    saved = mapping.save(dd, doc)
    assert saved == dd.root / "profiles" / "某区自建系统.yaml"
    # another file of the same system: no --profile, picked from the data dir
    again = write(tmp_path / "某区自建系统导出_11月.csv", ODD[:3])
    [r] = load_files([again], data_dir=dd, build=False)
    assert (r.profile, r.rows_loaded) == ("某区自建系统", 2)
    con = store.connect_warehouse_readonly(dd)
    try:
        assert con.execute("SELECT case_id, status FROM approvals ORDER BY 1").fetchall() == [
            ("LS001", "已办结"),
            ("LS002", "办理中"),
        ]
    finally:
        con.close()
