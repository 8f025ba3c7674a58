"""Shared fixtures: every test gets its own data dir, so nothing touches data/warehouse/."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def isolated_data_dir(tmp_path, monkeypatch):
    data = tmp_path / "warehouse"
    monkeypatch.setenv("BIZENV_DATA_DIR", str(data))
    monkeypatch.setenv("BIZENV_DEMO_DIR", str(tmp_path / "demo"))
    return data


@pytest.fixture(scope="session")
def fixture_snapshot_dir(tmp_path_factory) -> Path:
    """The hand-made fixture snapshot (tests/fixtures/snapshot_fixture.py) built once per session
    in a data dir of its own. Tests only read it (the app opens snapshots read-only); a test that
    changes the warehouse builds its own copy in isolated_data_dir instead."""
    from tests.fixtures.snapshot_fixture import build_fixture_snapshot

    data = tmp_path_factory.mktemp("fixture_snapshot") / "warehouse"
    build_fixture_snapshot(data)
    return data
