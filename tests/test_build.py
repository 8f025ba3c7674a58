"""`bizenv build` end to end: empty warehouse, snapshot publishing, a bad spec never publishes."""

from __future__ import annotations

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
        "demo",
        "demo_records",
        "other_records",
    }
    assert (meta["city_code"], meta["city_name"]) == ("330800", "衢州市")
    assert (meta["demo"], meta["other_records"]) == ("false", "0")


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
