"""Demo data is labelled and removable: the demo generator's files are marked as demo loads, the
snapshot says so (snapshot_meta demo), every page and the LED screen show 演示数据, loading real
exports beside the demo warns, and `bizenv reset --demo` removes exactly the demo."""

from __future__ import annotations

import datetime as dt
import functools
import json
import shutil
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from etl import bootstrap
from etl.cli import main
from etl.commands.load import expand_paths
from etl.demo import generate
from etl.load import load_files
from kpi import store
from kpi.engine.build import build_marts
from tests.test_partials import marts

DASHBOARD = str(Path(__file__).resolve().parents[1] / "dashboard.py")
SMALL_DEMO = {"seed": 11, "scale": 0.02, "quarters": 2, "end_period": "2026Q2"}
NOW = dt.datetime(2026, 11, 24, 12, 0)
SOURCES = ("approvals", "hotline", "ratings", "reports")
REAL = [
    "办件编号,事项编码,所属区县,受理时间,办结时间,办件状态,法定时限,承诺时限",
    "ZS-0001,SX0101,柯城区,2026-07-01 09:00,2026-07-02 09:00,已办结,15,1",
    "ZS-0002,SX0101,江山市,2026-07-01 09:00,2026-07-03 09:00,已办结,15,1",
    "ZS-0003,SX0801,衢江区,2026-07-02 09:00,,办理中,30,1",
    "ZS-0004,SX0101,火星区,2026-07-02 09:00,,办理中,15,1",  # quarantined: 区县未知
]


def counts(con) -> dict[str, int]:
    return {s: con.execute(f'SELECT count(*) FROM "{s}"').fetchone()[0] for s in SOURCES}


def meta() -> dict[str, str]:
    con = store.connect_snapshot()
    try:
        return dict(con.execute("SELECT key, value FROM snapshot_meta").fetchall())
    finally:
        con.close()


@pytest.fixture
def demo_dir(tmp_path) -> Path:
    generate(tmp_path / "demo", **SMALL_DEMO)
    return tmp_path / "demo"


@pytest.fixture
def real_export(tmp_path) -> Path:
    path = tmp_path / "real" / "办件明细_真实.csv"
    path.parent.mkdir()
    path.write_text("\n".join(REAL) + "\n", encoding="utf-8")
    return path


def test_the_first_run_bootstrap_marks_its_loads_and_the_snapshot_as_demo(
    monkeypatch, isolated_data_dir
):
    monkeypatch.setattr(bootstrap.demo, "generate", functools.partial(generate, **SMALL_DEMO))
    bootstrap.ensure_demo_snapshot()
    con = store.connect_snapshot()
    runs = con.execute("SELECT is_demo, count(*) FROM etl_runs GROUP BY 1").fetchall()
    tables = counts(con)
    con.close()
    assert runs[0][0] is True and len(runs) == 1
    m = meta()
    assert m["demo"] == "true"
    # every record is the demo's: the per-source counts are the tables' sizes
    assert json.loads(m["demo_records"]) == tables and all(tables.values())
    assert m["other_records"] == "0"


def test_bizenv_sample_load_is_demo_and_a_real_export_beside_it_warns(
    demo_dir, real_export, capsys
):
    assert main(["load", str(demo_dir)]) == 0  # what `bizenv sample --load` does
    capsys.readouterr()
    con = store.connect_warehouse()
    demo_counts = counts(con)
    assert con.execute("SELECT bool_and(is_demo) FROM etl_runs").fetchone() == (True,)
    con.close()

    assert main(["load", str(real_export)]) == 0
    out = capsys.readouterr().out
    assert (
        f"注意：数据仓库中还有演示数据（办件 {demo_counts['approvals']:,} 条、"
        f"12345 工单 {demo_counts['hotline']:,} 条、好差评 {demo_counts['ratings']:,} 条、"
        f"指标填报 {demo_counts['reports']:,} 条）"
    ) in out
    assert "运行 bizenv reset --demo 删除演示数据" in out
    m = meta()
    assert m["demo"] == "true" and json.loads(m["demo_records"]) == demo_counts
    assert m["other_records"] == "3"  # the three real 办件 (the fourth is quarantined)

    # a copy of a demo file somewhere else is no longer "the generator's file"
    con = store.connect_warehouse()
    assert con.execute(
        "SELECT is_demo FROM etl_runs WHERE file_name = ?", [real_export.name]
    ).fetchone() == (False,)
    con.close()


def test_bizenv_sample_load_marks_its_loads_and_status_says_so(tmp_path, capsys):
    out = tmp_path / "sample"
    args = ["--scale", "0.02", "--quarters", "2", "--end-period", "2026Q2", "--seed", "11"]
    assert main(["sample", "--out", str(out), *args, "--load"]) == 0
    con = store.connect_warehouse()
    assert con.execute("SELECT count(*), count_if(is_demo) FROM etl_runs").fetchone() == (8, 8)
    approvals = con.execute("SELECT count(*) FROM approvals").fetchone()[0]
    con.close()
    capsys.readouterr()
    assert main(["status"]) == 0
    assert f"注意：快照中有演示数据（办件 {approvals:,} 条、" in capsys.readouterr().out


def test_a_demo_file_edited_by_hand_is_not_demo(demo_dir, tmp_path):
    path = next(demo_dir.glob("办件明细_*.csv"))
    text = path.read_text(encoding="utf-8-sig")
    path.write_text(text.replace("柯城区", "衢江区", 1), encoding="utf-8")
    [report] = load_files([path], build=False)
    assert report.is_demo is False


def test_reset_demo_removes_the_demo_and_keeps_the_real_records(
    demo_dir, real_export, isolated_data_dir, tmp_path, capsys
):
    load_files(expand_paths([str(demo_dir)]))
    load_files([real_export])
    capsys.readouterr()
    assert main(["reset", "--demo"]) == 0
    out = capsys.readouterr().out
    assert "已删除演示数据：办件" in out and "保留其他数据 3 条" in out

    con = store.connect_warehouse()
    assert counts(con) == {"approvals": 3, "hotline": 0, "ratings": 0, "reports": 0}
    assert sorted(r[0] for r in con.execute("SELECT case_id FROM approvals").fetchall()) == [
        "ZS-0001",
        "ZS-0002",
        "ZS-0003",
    ]
    # only the real load's bookkeeping is left
    assert con.execute("SELECT file_name, is_demo FROM etl_runs").fetchall() == [
        (real_export.name, False)
    ]
    assert con.execute("SELECT line_no, reason FROM quarantine").fetchall() == [
        (5, "区县未知：“火星区”")
    ]
    assert con.execute("SELECT count(*) FROM lineage").fetchone() == (0,)
    con.close()
    m = meta()
    assert (m["demo"], json.loads(m["demo_records"]), m["other_records"]) == (
        "false",
        dict.fromkeys(SOURCES, 0),
        "3",
    )

    # the partials bookkeeping is right: the next incremental build equals a full rescan, and
    # both equal a warehouse that only ever saw the real export
    build_marts(isolated_data_dir, now=NOW)
    after_reset = marts(isolated_data_dir)
    build_marts(isolated_data_dir, now=NOW, full=True)
    assert marts(isolated_data_dir) == after_reset
    fresh = tmp_path / "fresh"
    load_files([real_export], data_dir=fresh, build=False)
    build_marts(fresh, now=NOW)
    assert marts(fresh) == after_reset

    assert main(["reset", "--demo"]) == 0
    assert "数据仓库中没有演示数据，未做任何改动" in capsys.readouterr().out


def test_a_warehouse_loaded_before_is_demo_existed_learns_which_loads_were_demo(
    demo_dir, real_export, capsys
):
    load_files(expand_paths([str(demo_dir)]))
    con = store.connect_warehouse()
    con.execute("ALTER TABLE etl_runs DROP COLUMN is_demo")  # as an older bizenv left it
    con.close()
    assert main(["load", str(real_export)]) == 0
    assert "注意：数据仓库中还有演示数据（办件" in capsys.readouterr().out
    con = store.connect_warehouse()
    assert con.execute(
        "SELECT count_if(is_demo), count_if(NOT is_demo), count_if(is_demo IS NULL) FROM etl_runs"
    ).fetchone() == (8, 1, 0)
    con.close()
    assert meta()["demo"] == "true"


def test_reset_needs_the_demo_flag(capsys):
    assert main(["reset"]) == 2
    assert "请写成 bizenv reset --demo" in capsys.readouterr().err


PAGES = [
    "pages/overview.py",
    "pages/domains.py",
    "pages/district.py",
    "pages/trends.py",
    "pages/records.py",
    "pages/data_status.py",
]


def _banner(at: AppTest) -> list[str]:
    return [w.value for w in at.warning if "演示数据" in w.value]


def test_every_page_and_the_led_screen_say_demo_while_demo_records_are_in(
    demo_dir, real_export, isolated_data_dir
):
    load_files(expand_paths([str(demo_dir)]))
    for page in PAGES:
        at = AppTest.from_file(DASHBOARD, default_timeout=30)
        at.run()
        at.switch_page(page)
        at.run()
        assert not at.exception, (page, [e.value for e in at.exception])
        [text] = _banner(at)  # once, not once per section
        assert "bizenv reset --demo" in text and "混在一起" not in text, page
    at = AppTest.from_file(DASHBOARD, default_timeout=30)
    at.query_params["mode"] = "led"
    at.run()
    assert not at.exception
    assert not _banner(at)  # the kiosk has no Streamlit banners …
    assert any(
        'data-testid="led-demo">演示数据<' in h.proto.body for h in at.get("html")
    )  # … its title says it

    load_files([real_export])
    at = AppTest.from_file(DASHBOARD, default_timeout=30)
    at.run()
    [text] = _banner(at)
    assert "和 3 条真实数据混在一起" in text

    assert main(["reset", "--demo"]) == 0
    at = AppTest.from_file(DASHBOARD, default_timeout=30)
    at.run()
    assert not at.exception and not _banner(at)
    time.sleep(1.1)  # the screen looks for a new snapshot once per refresh (1 s, the shortest)
    at = AppTest.from_file(DASHBOARD, default_timeout=30)
    at.query_params["mode"] = "led"
    at.query_params["refresh"] = "1"
    at.run()
    assert not any('data-testid="led-demo"' in h.proto.body for h in at.get("html"))
    assert any('data-testid="led-stamp"' in h.proto.body for h in at.get("html"))


def test_copying_the_demo_folder_keeps_it_demo(demo_dir, tmp_path):
    """The manifest travels with the files: `bizenv load` of a copied demo folder is still demo."""
    copy = tmp_path / "copy"
    shutil.copytree(demo_dir, copy)
    reports = load_files(expand_paths([str(copy)]), build=False)
    assert reports and all(r.is_demo for r in reports)
