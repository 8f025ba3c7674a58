"""Shared fixtures: every test gets its own data dir, so nothing touches data/warehouse/."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def isolated_data_dir(tmp_path, monkeypatch):
    data = tmp_path / "warehouse"
    monkeypatch.setenv("BIZENV_DATA_DIR", str(data))
    monkeypatch.setenv("BIZENV_DEMO_DIR", str(tmp_path / "demo"))
    return data
