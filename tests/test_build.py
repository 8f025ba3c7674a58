"""`bizenv build` end to end: empty warehouse, snapshot publishing, a bad spec never publishes."""

from __future__ import annotations

import datetime as dt
import json

from etl.cli import main
from kpi import store
from kpi.engine.build import build_and_publish


def test_build_on_empty_warehouse_publishes_empty_marts(isolated_data_dir, capsys):
    assert main(["build"]) == 0
    assert "已发布快照" in capsys.readouterr().out
    con = store.connect_snapshot()
    try:
        for table in ("periods", "indicator_scores", "domain_scores", "overall_scores"):
            assert con.execute(f"SELECT count(*) FROM {table}").fetchone() == (0,)
        meta = dict(con.execute("SELECT key, value FROM snapshot_meta").fetchall())
    finally:
        con.close()
    assert set(meta) == {
        "built_at",
        "data_as_of",
        "city_code",
        "city_name",
        "metrics_version",
        "current_period",
        "latest_complete_period",
        "headline",
        "domain_order",
        "demo",
        "demo_records",
        "other_records",
        "recent_30d",  # the LED's 近30天 figures (kpi.led.live)
    }
    assert (meta["city_code"], meta["city_name"]) == ("330800", "衢州市")
    recent = json.loads(meta["recent_30d"])  # nothing loaded: both figures, 无数据
    assert [(r["key"], r["value"], r["reason"]) for r in recent] == [
        ("hotline_resolution_rate", None, "无数据"),
        ("hotline_satisfaction_rate", None, "无数据"),
    ]
    assert (meta["demo"], meta["other_records"]) == ("false", "0")


def test_headline_and_domain_order_come_from_the_snapshot_not_the_live_spec(
    isolated_data_dir, tmp_path, monkeypatch
):
    """Pages and the LED read the headline cards and the domain order written at build: editing
    metrics.yaml afterwards changes nothing until the next build."""
    from kpi import settings
    from kpi.led.board import load_board
    from kpi.read import queries

    text = settings.metrics_path().read_text(encoding="utf-8")
    # headline: two keys, in an order of our own; domains: D17 政务服务 moved to the front
    text = text.replace(
        "headline:\n  - hotline_resolution_rate\n  - hotline_satisfaction_rate\n"
        "  - ratings_good_rate\n  - approval_avg_workdays\n  - approval_online_rate\n",
        "headline:\n  - approval_online_rate\n  - ratings_good_rate\n",
    )
    head, rest = text.split("domains:\n", 1)
    blocks = ["  - id: " + b + "\n" for b in ("\n" + rest).split("\n  - id: ")[1:]]
    assert len(blocks) == 18 and blocks[16].startswith("  - id: D17")
    spec_file = tmp_path / "metrics.yaml"
    spec_file.write_text(
        head + "domains:\n" + blocks[16] + "".join(blocks[:16]) + blocks[17], encoding="utf-8"
    )
    snapshot = build_and_publish(metrics_path=spec_file)
    # the live spec is now the shipped one again (and would say the opposite)
    monkeypatch.delenv("BIZENV_METRICS", raising=False)
    con = store.connect_snapshot(snapshot)
    try:
        assert queries.headline_keys(con) == ["approval_online_rate", "ratings_good_rate"]
        order = queries.domain_order(con)
    finally:
        con.close()
    assert order[:2] == ["government_services", "starting_business"] and len(order) == 18
    board = load_board(snapshot, dt.datetime(2026, 11, 24, 9, 30))
    assert board.headline == ("approval_online_rate", "ratings_good_rate")


def test_snapshot_without_recorded_headline_falls_back_to_the_five(isolated_data_dir):
    from kpi.read import queries
    from kpi.spec.models import DEFAULT_HEADLINE

    con = store.connect_memory()
    try:
        con.execute("CREATE TABLE snapshot_meta (key VARCHAR, value VARCHAR)")
        assert queries.headline_keys(con) == list(DEFAULT_HEADLINE)
        assert queries.domain_order(con) == []
    finally:
        con.close()


def test_bad_spec_fails_before_publishing(isolated_data_dir, tmp_path, capsys):
    first = build_and_publish()
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: x\ndomains: []\n", encoding="utf-8")
    assert main(["build", "--metrics", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "bad.yaml" in err and "改法" in err
    assert store.current_snapshot_path() == first


def test_second_build_is_a_new_snapshot(isolated_data_dir):
    first = build_and_publish()
    second = build_and_publish()
    assert first != second and store.current_snapshot_path() == second


def test_sql_failure_in_build_becomes_a_spec_message(isolated_data_dir, tmp_path, capsys):
    # The build skips the EXPLAIN layer for speed; a query DuckDB refuses must still come back as
    # the spec problem (file, line, indicator, fix), not as a DuckDB traceback.
    from kpi import settings

    text = (
        settings.metrics_path()
        .read_text(encoding="utf-8")
        .replace(
            "measure: {agg: avg, expr: workdays_used}",
            'measure: {agg: avg, expr: "channel + 1"}',
            1,
        )
    )
    bad = tmp_path / "m.yaml"
    bad.write_text(text, encoding="utf-8")
    assert main(["build", "--metrics", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "m.yaml 第" in err and "sb_avg_workdays" in err and "DuckDB" in err and "改法" in err
    assert store.current_snapshot_path() is None


def test_the_build_leaves_everything_in_the_file_for_the_snapshot_copy(isolated_data_dir):
    # The snapshot is a copy of warehouse.duckdb: nothing of the build may be left in a WAL.
    from etl.load import load_files
    from kpi.engine.build import build_marts

    sample = sorted((store.settings.REPO_ROOT / "data" / "sample").glob("办件明细_*.csv"))
    load_files(sample, build=False)
    build_marts()
    assert not (isolated_data_dir / "warehouse.duckdb.wal").exists()
    snap = build_and_publish()
    con = store.connect_snapshot(snap)
    try:
        assert con.execute("SELECT count(*) FROM indicator_scores WHERE n > 0").fetchone()[0] > 0
    finally:
        con.close()


def test_the_city_comes_from_the_catalogue_not_from_metrics_yaml(isolated_data_dir, tmp_path):
    """metrics.yaml's old `city:` entry still validates but is not read: one spec, any city."""
    from kpi import settings
    from kpi.engine.build import build_marts

    text = settings.metrics_path().read_text(encoding="utf-8")
    spec = tmp_path / "metrics.yaml"
    spec.write_text(
        text.replace(
            'version: "2026.1"', 'version: "2026.1"\ncity: {code: "999999", name: 别的市}', 1
        ),
        encoding="utf-8",
    )
    meta = build_marts(isolated_data_dir, spec)
    # data/catalog/districts.csv: the level=city row is 330800 衢州市
    assert (meta["city_code"], meta["city_name"]) == ("330800", "衢州市")
