"""Quarters rescanned only when their rows changed (kpi.engine.partials): an incremental build must give
exactly the marts a full rescan gives, and anything it cannot account for must force a full one."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from etl.load import load_files
from kpi import store
from kpi.engine.build import build_marts

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"
NOW = dt.datetime(2026, 11, 24, 12, 0)
MARTS = (
    "periods",
    "indicator_scores",
    "domain_scores",
    "overall_scores",
    "data_quality",
    "unit_scores",
    "unit_overall",
)
APPROVALS = "办件编号,事项编码,所属区县,受理时间,办结时间,办件状态,法定时限,承诺时限"


def write(path: Path, records: list[str]) -> None:
    path.write_text("\n".join([APPROVALS, *records]) + "\n", encoding="utf-8")


def sample(quarter: str) -> list[Path]:
    return sorted(p for p in SAMPLE.glob(f"*_{quarter}.*") if "指标填报" not in p.name)


def marts(data: Path) -> dict[str, list[tuple]]:
    """Every mart row, floats rounded to 9 places (sums added up in another order may differ in the
    last bit), in a stable order."""
    con = store.connect_warehouse(data)
    try:
        out = {}
        for table in MARTS:
            rows = con.execute(f"SELECT * FROM {table}").fetchall()
            out[table] = sorted(
                (tuple(round(v, 9) if isinstance(v, float) else v for v in r) for r in rows),
                key=repr,
            )
        return out
    finally:
        con.close()


def rows(data: Path, sql: str) -> list[tuple]:
    con = store.connect_warehouse(data)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def assert_same_as_full_rescan(data: Path) -> None:
    incremental = marts(data)
    assert incremental["indicator_scores"], "the build wrote no scores"
    meta = build_marts(data, now=NOW, full=True)
    assert set(meta["scans"].values()) == {"full"}
    assert marts(data) == incremental


def test_a_new_quarters_load_rescans_only_that_quarter_and_matches_a_full_rescan(isolated_data_dir):
    data = isolated_data_dir
    load_files(sample("2026Q2"), build=False)
    first = build_marts(data, now=NOW)
    assert {"approvals", "hotline", "ratings"} <= set(first["scans"])
    assert set(first["scans"].values()) == {"full"}

    load_files(sample("2026Q3"), build=False)
    second = build_marts(data, now=NOW)
    # Q3 exports hold Q3 records (some approvals accepted in Q3 finish in Q4, some fall due then);
    # Q2 is not rescanned — by record time nor by due date. The 主动评价率 scan reads ratings too:
    # new ratings redo it whole.
    for scan, done in second["scans"].items():
        if scan == "approvals@linked":
            assert done == "full"
            continue
        quarters = done.removeprefix("quarters: ").split(", ")
        assert "2026Q3" in quarters and "2026Q2" not in quarters, (scan, done)
    assert rows(data, "SELECT count(*) FROM partials_changed") == [(0,)]
    assert_same_as_full_rescan(data)


def test_nothing_changed_rescans_nothing(isolated_data_dir):
    data = isolated_data_dir
    load_files(sample("2026Q3"), build=False)
    build_marts(data, now=NOW)
    before = marts(data)
    again = build_marts(data, now=NOW)
    assert set(again["scans"].values()) == {"unchanged"}
    assert marts(data) == before


def test_an_update_that_moves_a_record_rescans_its_old_and_new_quarter(tmp_path, isolated_data_dir):
    data = isolated_data_dir
    first = tmp_path / "办件_第一版.csv"
    write(
        first,
        [
            "BJ1,SX0101,柯城区,2026-06-29 09:00,2026-06-30 09:00,已办结,15,1",
            "BJ2,SX0101,柯城区,2026-07-01 09:00,2026-07-02 09:00,已办结,15,1",
            "BJ3,SX0101,江山市,2026-07-01 09:00,2026-07-03 09:00,已办结,15,1",
        ],
    )
    load_files([first], build=False)
    build_marts(data, now=NOW)
    # D01.01 企业开办平均办理用时: n = completed 开办 cases; 柯城区 (330802) has BJ2 in Q3.
    assert rows(
        data,
        "SELECT n FROM indicator_scores WHERE period = '2026Q3' AND district_code = '330802' "
        "AND indicator_id = 'D01.01'",
    ) == [(1,)]
    later = tmp_path / "办件_第二版.csv"
    write(
        later, ["BJ2,SX0101,柯城区,2026-07-01 09:00,2026-10-09 09:00,已办结,15,1"]
    )  # moved from Q3 to Q4
    load_files([later], build=False)
    assert sorted(
        rows(data, "SELECT DISTINCT period FROM partials_changed WHERE source = 'approvals'")
    ) == [("2026Q3",), ("2026Q4",)]
    meta = build_marts(data, now=NOW)
    assert meta["scans"]["approvals"] == "quarters: 2026Q3, 2026Q4"
    assert meta["scans"]["hotline"] == "unchanged"
    got = dict(
        rows(
            data,
            "SELECT period, n FROM indicator_scores WHERE district_code = '330802' "
            "AND indicator_id = 'D01.01' AND period IN ('2026Q3', '2026Q4')",
        )
    )
    assert got == {"2026Q3": 0, "2026Q4": 1}
    assert_same_as_full_rescan(data)


def test_rows_written_outside_the_loader_force_a_full_rescan(isolated_data_dir):
    data = isolated_data_dir
    load_files(sample("2026Q3"), build=False)
    build_marts(data, now=NOW)
    con = store.connect_warehouse(data)
    con.execute(
        "INSERT INTO hotline BY NAME SELECT * REPLACE ('X' || ticket_id AS ticket_id) FROM hotline LIMIT 5"
    )
    con.close()
    meta = build_marts(data, now=NOW)
    assert {s: d for s, d in meta["scans"].items() if d == "full"} == {
        s: "full" for s in meta["scans"] if s.startswith("hotline")
    }
    assert {d for s, d in meta["scans"].items() if not s.startswith("hotline")} == {"unchanged"}
    assert_same_as_full_rescan(data)


@pytest.mark.parametrize(
    ("old", "new", "rescanned"),
    [
        ("zero_visit_max: 0", "zero_visit_max: 1", {"approvals"}),  # a setting in a filter
        ("good_rating_includes_basic: true", "good_rating_includes_basic: false", {"ratings"}),
        ("        warn: 95\n", "        warn: 94\n", set()),  # a threshold: marts only
    ],
)
def test_a_changed_spec_rescans_the_sources_whose_scan_changed(
    tmp_path, isolated_data_dir, old, new, rescanned
):
    data = isolated_data_dir
    load_files(sample("2026Q3"), build=False)
    build_marts(data, now=NOW)
    text = (Path(__file__).resolve().parents[1] / "metrics.yaml").read_text(encoding="utf-8")
    assert old in text
    spec = tmp_path / "metrics.yaml"
    spec.write_text(text.replace(old, new, 1), encoding="utf-8")
    meta = build_marts(data, spec, now=NOW)
    assert {s for s, done in meta["scans"].items() if done == "full"} == rescanned
    assert {s for s, done in meta["scans"].items() if done != "full"} == set(
        meta["scans"]
    ) - rescanned
    incremental = marts(data)
    build_marts(data, spec, now=NOW, full=True)
    assert marts(data) == incremental


def test_parts_of_a_source_the_spec_stopped_reading_are_dropped(tmp_path, isolated_data_dir):
    data = isolated_data_dir
    load_files(sample("2026Q3"), build=False)
    build_marts(data, now=NOW)
    spec = tmp_path / "one.yaml"
    spec.write_text(
        """
version: "test"
domains:
  - id: D1
    key: government_services
    label_zh: 政务服务
    label_en: Government services
    weight: 1
    owner: 市政务服务办
    indicators:
      - id: only
        key: only
        label_zh: 办件量
        description: 办件数
        unit: 件
        source: approvals
        measure: {agg: count, expr: case_id}
        direction: higher_is_better
        weight: 1
        dtf: {best: 100, worst: 0}
""",
        encoding="utf-8",
    )
    build_marts(data, spec, now=NOW)
    assert rows(data, "SELECT DISTINCT source FROM partials") == [("approvals",)]
    assert rows(data, "SELECT source FROM partials_state") == [("approvals",)]


def test_bizenv_build_says_what_it_rescanned(isolated_data_dir, capsys):
    from etl.cli import main

    load_files(sample("2026Q2"), build=False)
    assert main(["build"]) == 0
    assert "记录扫描：办件 全部季度重扫" in capsys.readouterr().out
    load_files([SAMPLE / "办件明细_2026Q3.csv"], build=False)
    assert main(["build"]) == 0
    out = capsys.readouterr().out
    assert "办件 重扫 2026Q3" in out and "好差评 无变化，沿用上次的合计" in out
    assert main(["build", "--full"]) == 0
    assert "12345 工单 全部季度重扫" in capsys.readouterr().out
