"""A missing, corrupt or garbled snapshot never takes the pages down, never follows a path out of
snapshots/, and never sends the app into the first-run demo over a real warehouse (issue 12, 1–2)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from kpi import store
from tests.fixtures.snapshot_fixture import build_fixture_snapshot

DASHBOARD = str(Path(__file__).resolve().parents[1] / "dashboard.py")


@pytest.fixture
def two_snapshots(isolated_data_dir) -> tuple[Path, Path]:
    older = build_fixture_snapshot(isolated_data_dir)
    time.sleep(1.1)  # snapshot names sort by the second they were published in
    newer = store.publish_snapshot(isolated_data_dir)  # a second copy of the same warehouse
    assert store.current_snapshot_path() == newer and older != newer
    return older, newer


@pytest.fixture
def no_bootstrap(monkeypatch) -> list:
    """Records any attempt of the dashboard to run the first-run demo bootstrap."""
    import etl.bootstrap

    calls: list = []
    monkeypatch.setattr(etl.bootstrap, "ensure_demo_snapshot", lambda *a, **k: calls.append((a, k)))
    return calls


def test_a_healthy_current_snapshot_is_read_without_a_problem(two_snapshots):
    live = store.readable_snapshot()
    assert live.path == two_snapshots[1] and live.problem is None


def test_a_deleted_current_snapshot_falls_back_to_the_newest_readable_one(two_snapshots):
    older, newer = two_snapshots
    newer.unlink()
    live = store.readable_snapshot()
    assert live.path == older
    assert f"{newer.name} 已不存在" in live.problem and older.name in live.problem
    assert "bizenv build" in live.problem and str(older.parent) not in live.problem


def test_a_corrupt_current_snapshot_falls_back(two_snapshots):
    older, newer = two_snapshots
    with open(newer, "r+b") as fh:  # keep the size, scramble the header and the catalogue
        fh.write(os.urandom(64 * 1024))
    live = store.readable_snapshot()
    assert live.path == older and "已损坏" in live.problem


@pytest.mark.parametrize(
    "pointer", ["../../../../etc/passwd", "\x00\xff垃圾", "", "snapshot-x.duckdb/../../w"]
)
def test_current_can_only_name_a_snapshot_inside_snapshots(
    two_snapshots, isolated_data_dir, pointer
):
    older, newer = two_snapshots
    (isolated_data_dir / "CURRENT").write_text(pointer, encoding="utf-8", errors="surrogateescape")
    assert store.current_snapshot_path() is None
    live = store.readable_snapshot()
    assert live.path == newer  # the newest readable snapshot, not the file the pointer names
    assert "CURRENT" in live.problem


def test_nothing_readable_says_so_instead_of_first_run(isolated_data_dir, two_snapshots):
    for snap in two_snapshots:
        snap.write_bytes(b"not a database")
    live = store.readable_snapshot()
    assert live.path is None and "bizenv build" in live.problem
    assert not store.needs_first_run()


def test_a_fresh_data_dir_is_the_only_first_run(isolated_data_dir):
    assert store.needs_first_run()
    assert store.readable_snapshot() == store.LiveSnapshot(None)
    con = store.connect_warehouse()  # a warehouse, even an empty one, is someone's data
    con.close()
    assert not store.needs_first_run()


def test_bootstrap_refuses_to_load_the_demo_into_an_existing_warehouse(isolated_data_dir):
    from etl.bootstrap import ensure_demo_snapshot
    from kpi.errors import BizenvError

    con = store.connect_warehouse()
    con.execute("CREATE TABLE approvals AS SELECT 1 AS case_id")
    con.close()
    with pytest.raises(BizenvError, match="bizenv build"):
        ensure_demo_snapshot()
    con = store.connect_warehouse()
    assert con.execute("SELECT count(*) FROM approvals").fetchone() == (1,)  # untouched
    con.close()


def _run(page: str | None = None) -> AppTest:
    at = AppTest.from_file(DASHBOARD, default_timeout=30)
    at.run()
    if page:
        at.switch_page(page)
        at.run()
    return at


def test_pages_keep_serving_the_last_good_snapshot_and_say_so(two_snapshots, no_bootstrap):
    older, newer = two_snapshots
    newer.write_bytes(b"garbage")
    at = _run()
    assert not at.exception and no_bootstrap == []
    warning = " ".join(w.value for w in at.warning)
    assert "无法读取" in warning and older.name in warning
    assert at.title and "营商环境" in at.title[0].value or at.metric  # the overview still renders


def test_pages_with_no_readable_snapshot_never_bootstrap_the_demo(two_snapshots, no_bootstrap):
    for snap in two_snapshots:
        snap.unlink()
    for page in (None, "pages/district.py", "pages/data_status.py"):
        at = _run(page)
        assert not at.exception, page
        assert no_bootstrap == [], page
    text = " ".join(w.value for w in at.warning) + " ".join(i.value for i in at.info)
    assert "bizenv build" in text
