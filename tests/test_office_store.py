"""The application database (office.store) on both backends: migrations from empty and from an
older revision keep every row, the models match the migrations, the audit log is append-only in
the database itself, SQLite runs in WAL with foreign keys and a busy timeout, and URLs and
errors are said in Chinese without the password."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

import office.jobs  # noqa: F401 - its tables are in Base.metadata (compared below)
from kpi.errors import UserInputError
from office import store
from office.models import Account, AuditEvent, Base
from office.tracking import models as _tracking_models  # noqa: F401 — its tables in Base.metadata

TABLES = {"accounts", "sessions", "audit_log", "app_settings", "alembic_version"}


def _tables(eng) -> set[str]:
    return set(sa.inspect(eng).get_table_names())


def test_first_use_creates_every_table_at_the_newest_revision(app_db):
    eng = store.engine(app_db)
    assert TABLES <= _tables(eng)
    assert store.current_revision(eng) == store.head_revision() == "0005"
    assert store.upgrade(app_db) == []  # nothing left to do


def test_the_models_and_the_migrations_agree(app_db):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with store.engine(app_db).connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata
        )
    assert diff == []


def test_an_upgrade_from_the_first_revision_keeps_every_row(app_db):
    eng = store.engine_for(store.url_for(app_db))
    assert store.upgrade(app_db, "0001") == ["0001"]
    assert "app_settings" not in _tables(eng)
    now = dt.datetime(2026, 11, 30, 8, 0)
    with eng.begin() as conn:  # rows as revision 0001 wrote them (no email column yet)
        conn.execute(
            sa.text(
                "INSERT INTO accounts (username, display_name, role, disabled, is_demo, "
                "failed_logins, created_at, updated_at) VALUES "
                "('zhang', '张三', 'office', false, false, 2, :t, :t)"
            ),
            {"t": now},
        )
        conn.execute(
            sa.text(
                "INSERT INTO sessions (token_hash, account_id, kind, created_at, last_seen_at) "
                "SELECT 'h1', id, 'browser', :t, :t FROM accounts"
            ),
            {"t": now},
        )
        conn.execute(
            sa.text(
                "INSERT INTO audit_log (at, actor, action, outcome, via) "
                "VALUES (:t, 'zhang', 'login', 'ok', 'web')"
            ),
            {"t": now},
        )
    assert store.upgrade(app_db) == ["0002", "0003", "0004", "0005"]
    with eng.connect() as conn:
        account = conn.execute(
            sa.text(
                "SELECT username, display_name, failed_logins, email, must_change_password "
                "FROM accounts"
            )
        ).one()
        assert tuple(account) == ("zhang", "张三", 2, None, False)
        assert conn.execute(sa.text("SELECT token_hash FROM sessions")).scalar() == "h1"
        assert conn.execute(sa.text("SELECT actor FROM audit_log")).scalar() == "zhang"
    if eng.dialect.name == "sqlite":  # the file as it was before the migration, copied aside
        [backup] = app_db.root.glob("app.db.before-0001-*.bak")
        with sa.create_engine(f"sqlite:///{backup}").connect() as conn:
            assert conn.execute(sa.text("SELECT username FROM accounts")).scalar() == "zhang"


@pytest.mark.parametrize("statement", ["UPDATE audit_log SET actor = 'x'", "DELETE FROM audit_log"])
def test_the_audit_log_refuses_updates_and_deletes(app_db, statement):
    from office import audit

    audit.record(app_db, "login", audit.Actor("zhang", "office"), "zhang")
    with pytest.raises(sa.exc.DatabaseError, match="审计日志只能追加"):
        with store.engine(app_db).begin() as conn:
            conn.execute(sa.text(statement))
    with store.session(app_db) as s:
        assert [e.actor for e in s.scalars(sa.select(AuditEvent))] == ["zhang"]


def test_sqlite_runs_in_wal_with_foreign_keys_and_a_busy_timeout(isolated_data_dir):
    from kpi.settings import DataDir

    dd = DataDir.of(isolated_data_dir)
    with store.engine(dd).connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == store.BUSY_TIMEOUT_MS
    assert (isolated_data_dir / "app.db").exists()
    # foreign keys are enforced: a session of an account that does not exist is refused
    with pytest.raises(sa.exc.IntegrityError):
        with store.engine(dd).begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO sessions (token_hash, account_id, kind, created_at, last_seen_at) "
                    "VALUES ('x', 999, 'browser', '2026-01-01', '2026-01-01')"
                )
            )


def test_two_processes_writing_at_once_both_succeed(isolated_data_dir):
    """The app and a CLI command write at the same moment: BEGIN IMMEDIATE + busy timeout make
    the second wait instead of failing with "database is locked"."""
    import subprocess
    import sys

    code = (
        "from kpi.settings import DataDir; from office import audit; dd = DataDir.of(); "
        "[audit.record(dd, 'command', audit.Actor.cli(), str(i)) for i in range(200)]"
    )
    from kpi.settings import DataDir

    store.upgrade(DataDir.of(isolated_data_dir))
    procs = [subprocess.Popen([sys.executable, "-c", code]) for _ in range(3)]
    assert [p.wait(120) for p in procs] == [0, 0, 0]
    with store.session(DataDir.of(isolated_data_dir)) as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) == 600


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgresql://u:p@db:5432/bizenv", "postgresql+psycopg://u:p@db:5432/bizenv"),
        ("postgres://u:p@db/bizenv", "postgresql+psycopg://u:p@db/bizenv"),
        ("postgresql+psycopg2://u:p@db/bizenv", "postgresql+psycopg://u:p@db/bizenv"),
        ("postgresql+psycopg://u:p@db/bizenv", "postgresql+psycopg://u:p@db/bizenv"),
        ("sqlite:////srv/bizenv/app.db", "sqlite:////srv/bizenv/app.db"),
    ],
)
def test_postgresql_urls_mean_psycopg_3(given, expected):
    assert store.normalise(given) == expected


@pytest.mark.parametrize("url", ["mysql://u:p@db/bizenv", "这不是地址"])
def test_other_databases_are_refused_in_chinese(url):
    with pytest.raises(UserInputError, match="BIZENV_APP_DB"):
        store.normalise(url)


def test_an_unreachable_database_is_named_without_its_password(isolated_data_dir, monkeypatch):
    from kpi.settings import DataDir
    from office import accounts

    port = _closed_port()
    monkeypatch.setenv(store.APP_DB_ENV, f"postgresql://bizenv:s3cret-pw@127.0.0.1:{port}/x")
    with pytest.raises(store.AppDbError) as err:
        accounts.any_account(DataDir.of(isolated_data_dir))
    text = str(err.value)
    assert text.startswith(f"无法使用应用数据库 postgresql+psycopg://bizenv:***@127.0.0.1:{port}/x")
    assert "s3cret-pw" not in text and "BIZENV_APP_DB" in text


def _closed_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_accounts_are_stored_on_the_backend_in_force(app_db):
    from office import accounts
    from office.audit import Actor

    accounts.create_account(app_db, "li", "领导", Actor.cli(), display_name="李四")
    with store.session(app_db) as s:
        assert s.scalar(sa.select(Account.display_name).where(Account.username == "li")) == "李四"
    assert store.engine(app_db).dialect.name == (
        "sqlite" if "sqlite" in store.url_for(app_db) else "postgresql"
    )
