"""Shared fixtures: every test gets its own data dir, so nothing touches data/warehouse/, and
every AppTest session starts signed in (as 营商办, or as the test's `signed_in_as` marker says;
`signed_out` for the login itself) — through a real account and session, see tests/signin.py."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def isolated_data_dir(tmp_path, monkeypatch):
    data = tmp_path / "warehouse"
    monkeypatch.setenv("BIZENV_DATA_DIR", str(data))
    monkeypatch.setenv("BIZENV_DEMO_DIR", str(tmp_path / "demo"))
    # the application database is the data dir's app.db unless a test asks for PostgreSQL (app_db)
    monkeypatch.delenv("BIZENV_APP_DB", raising=False)
    return data


PG_URL_ENV = "BIZENV_TEST_PG_URL"


def pg_url_or_skip() -> str:
    """The test PostgreSQL server (.ci/run starts one): skipped without it, but never in CI."""
    url = os.environ.get(PG_URL_ENV, "").strip()
    if url:
        return url
    message = (
        f"{PG_URL_ENV} is not set: the PostgreSQL tests need a server "
        "(.ci/run starts one and sets it; see README, Development)"
    )
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(params=["sqlite", "postgresql"])
def app_db(request, isolated_data_dir, monkeypatch):
    """This test's data dir, its application database on each backend in turn: the data dir's
    SQLite app.db, then a fresh schema of its own on the test PostgreSQL server."""
    from kpi.settings import DataDir
    from office import store

    dd = DataDir.of(isolated_data_dir)
    if request.param == "sqlite":
        yield dd
        store.dispose_all()
        return
    import sqlalchemy as sa

    base = store.normalise(pg_url_or_skip())
    schema = f"t_{uuid.uuid4().hex[:16]}"
    admin = sa.create_engine(base)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in base else "?"
    monkeypatch.setenv(store.APP_DB_ENV, f"{base}{sep}options=-csearch_path%3D{schema}")
    try:
        yield dd
    finally:
        store.dispose_all()
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(scope="session")
def fixture_snapshot_dir(tmp_path_factory) -> Path:
    """The hand-made fixture snapshot (tests/fixtures/snapshot_fixture.py) built once per session
    in a data dir of its own. Tests only read it (the app opens snapshots read-only); a test that
    changes the warehouse builds its own copy in isolated_data_dir instead."""
    from tests.fixtures.snapshot_fixture import build_fixture_snapshot

    data = tmp_path_factory.mktemp("fixture_snapshot") / "warehouse"
    build_fixture_snapshot(data)
    return data


@pytest.fixture(autouse=True)
def app_sign_in(request, monkeypatch):
    """AppTest.from_file / from_function / from_string hand back a session signed in as a test
    account (in the application database of the data dir in force when the AppTest is made).

    @pytest.mark.signed_in_as("区县", district="330802") picks the role; @pytest.mark.signed_out
    leaves the session anonymous."""
    if request.node.get_closest_marker("signed_out"):
        return
    marker = request.node.get_closest_marker("signed_in_as")
    role, binding = (marker.args[0], marker.kwargs) if marker else ("营商办", {})
    from streamlit.testing.v1 import AppTest

    from tests import signin

    for name in ("from_file", "from_function", "from_string"):
        made = getattr(AppTest, name)

        def signed(*args, _made=made, **kwargs):
            at = _made(*args, **kwargs)
            signin.sign_in(at, role, **binding)
            return at

        monkeypatch.setattr(AppTest, name, signed)
