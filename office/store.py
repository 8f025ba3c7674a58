"""The one door to the application database (accounts, sessions, the audit log; later jobs,
填报 and 督办): SQLAlchemy 2 engines, transactions and Alembic migrations.

The warehouse is DuckDB (one writing process); this database takes many small writes from every
app session and every CLI command at once. The default is an SQLite file in the data dir
(`app.db`, WAL mode, foreign keys on, a busy timeout), so the README's two commands need nothing
else; `BIZENV_APP_DB` names a PostgreSQL database instead (psycopg 3) for an office that runs
several app servers or already operates PostgreSQL.

Migrations (office/migrations, Alembic) run once per process when the database is first used and
by `bizenv db upgrade`. They only add: a schema change never drops what is there, and an SQLite
file is copied aside before a migration touches it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import sqlite3
import sys
import threading
from collections import OrderedDict
from collections.abc import Iterator
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session

from kpi.errors import MachineProblem, UserInputError
from kpi.settings import DataDir

APP_DB_ENV = "BIZENV_APP_DB"
BUSY_TIMEOUT_MS = 10_000  # a writer waits this long for another (the CLI and every app session)
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
_PG_LOCK_KEY = 0x62697A656E76  # "bizenv": one migrating process at a time on a PostgreSQL server


class AppDbError(MachineProblem):
    """The application database cannot be opened or migrated (the message says which and why)."""


def url_for(data_dir: DataDir) -> str:
    """The database URL in force: BIZENV_APP_DB, or the SQLite file app.db in the data dir."""
    raw = os.environ.get(APP_DB_ENV, "").strip()
    return normalise(raw) if raw else f"sqlite:///{data_dir.app_db}"


def normalise(url: str) -> str:
    """postgresql:// and postgres:// mean psycopg 3 (SQLAlchemy would pick psycopg2, not installed);
    anything but SQLite and PostgreSQL is refused in Chinese."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    try:
        parsed = make_url(url)
    except sa.exc.ArgumentError:
        raise UserInputError(
            f"{APP_DB_ENV} 不是有效的数据库地址。应写成 postgresql://用户:密码@主机:5432/库名，"
            "或不设置（使用数据目录中的 app.db）。"
        ) from None
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise UserInputError(
            f"{APP_DB_ENV} 只支持 PostgreSQL（postgresql://…）或 SQLite（sqlite:///文件），"
            f"而不是 {parsed.get_backend_name()}。"
        )
    if parsed.get_backend_name() == "postgresql" and parsed.get_driver_name() != "psycopg":
        return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    return url


def shown(url: str) -> str:
    """The URL as a message may show it: never the password."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return "（无法解析的地址）"


# ── engines ──────────────────────────────────────────────────────────────────────────────────

_ENGINES: OrderedDict[str, Engine] = OrderedDict()
_READY: set[str] = set()  # URLs migrated to head by this process
_LOCK = threading.RLock()
_MAX_ENGINES = 8  # tests open one database per test; old engines are disposed, not leaked


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA journal_mode=WAL")  # readers never wait for the writer
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cur.execute(
        "PRAGMA synchronous=NORMAL"
    )  # safe with WAL; a power cut loses at most the last commit
    cur.close()
    # pysqlite's own transaction handling defers BEGIN until the first write, so a transaction
    # that reads and then writes can fail at once with "database is locked" when another process
    # wrote meanwhile (the busy timeout does not apply to that upgrade). We begin ourselves.
    dbapi_connection.isolation_level = None


def _sqlite_begin(conn) -> None:
    # IMMEDIATE: take the write lock at BEGIN, where the busy timeout waits for it. Our
    # transactions are a few milliseconds long, so readers queueing behind a writer cost nothing.
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def engine_for(url: str) -> Engine:
    """One engine per URL per process (created on first use)."""
    with _LOCK:
        eng = _ENGINES.get(url)
        if eng is not None:
            _ENGINES.move_to_end(url)
            return eng
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite":
            if parsed.database and parsed.database != ":memory:":
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            eng = sa.create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})
            event.listen(eng, "connect", _sqlite_pragmas)
            event.listen(eng, "begin", _sqlite_begin)
        else:
            eng = sa.create_engine(
                url, pool_pre_ping=True, pool_size=5, max_overflow=5, pool_recycle=1800
            )
        _ENGINES[url] = eng
        while len(_ENGINES) > _MAX_ENGINES:
            old_url, old = _ENGINES.popitem(last=False)
            _READY.discard(old_url)
            old.dispose()
        return eng


def engine(data_dir: DataDir) -> Engine:
    """The data dir's application database, migrated to the newest schema (once per process)."""
    url = url_for(data_dir)
    eng = engine_for(url)
    if url not in _READY:
        upgrade(data_dir)
    return eng


@contextlib.contextmanager
def session(data_dir: DataDir) -> Iterator[Session]:
    """A transaction on the application database: committed when the block ends, rolled back
    if it raises. Objects stay readable after the block (expire_on_commit off)."""
    eng = engine(data_dir)
    try:
        with Session(eng, expire_on_commit=False) as s, s.begin():
            yield s
    except sa.exc.OperationalError as err:
        raise AppDbError(_unreachable(url_for(data_dir), err)) from None


def _unreachable(url: str, err: BaseException) -> str:
    text = str(getattr(err, "orig", err)).strip().splitlines()[0] if str(err).strip() else ""
    return (
        f"无法使用应用数据库 {shown(url)}：{text}。"
        f"请检查 {APP_DB_ENV} 的地址、数据库服务是否运行、账号密码和权限；"
        "不设置时使用数据目录中的 app.db。"
    )


def dispose_all() -> None:
    """Close every pooled connection (tests; a forked process)."""
    with _LOCK:
        for eng in _ENGINES.values():
            eng.dispose()
        _ENGINES.clear()
        _READY.clear()


# ── migrations ───────────────────────────────────────────────────────────────────────────────


def _alembic_config(connection=None):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    """The newest migration in office/migrations."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_alembic_config()).get_current_head() or ""


def current_revision(eng: Engine) -> str | None:
    """The revision the database is at (None: an empty database)."""
    from alembic.runtime.migration import MigrationContext

    with eng.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


@contextlib.contextmanager
def _migration_lock(url: str, eng: Engine) -> Iterator[None]:
    """One process migrates at a time: a file lock beside an SQLite file, an advisory lock on a
    PostgreSQL server (several app servers may start together)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if not parsed.database or parsed.database == ":memory:":
            yield
            return
        path = Path(parsed.database + ".migrate.lock")
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a+b") as fh:
            if sys.platform != "win32":
                import fcntl

                fcntl.flock(fh, fcntl.LOCK_EX)
            yield
        return
    with eng.connect() as conn:
        conn.execute(sa.text("SELECT pg_advisory_lock(:k)"), {"k": _PG_LOCK_KEY})
        conn.commit()
        try:
            yield
        finally:
            conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": _PG_LOCK_KEY})
            conn.commit()


def _backup_sqlite(url: str, revision: str) -> Path | None:
    """Copy an SQLite database aside before migrating it (sqlite3's online backup: consistent
    even while other processes use it)."""
    database = make_url(url).database
    if not database or database == ":memory:" or not Path(database).exists():
        return None
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    target = Path(f"{database}.before-{revision}-{stamp}.bak")
    with contextlib.closing(sqlite3.connect(database)) as src:
        with contextlib.closing(sqlite3.connect(target)) as dst:
            src.backup(dst)
    return target


def upgrade(data_dir: DataDir, revision: str = "head") -> list[str]:
    """Bring the application database to `revision` (default: the newest). Returns what was
    applied, oldest first ([] when it was already there); an SQLite file that had tables is
    backed up first (app.db.before-<old revision>-<time>.bak)."""
    from alembic import command
    from alembic.script import ScriptDirectory

    url = url_for(data_dir)
    eng = engine_for(url)
    scripts = ScriptDirectory.from_config(_alembic_config())
    target = (scripts.get_current_head() if revision == "head" else revision) or "head"
    try:
        with _migration_lock(url, eng):
            before = current_revision(eng)
            if before == target:
                if revision == "head":
                    _READY.add(url)
                return []
            pending = [s.revision for s in scripts.iterate_revisions(target, before or "base")][
                ::-1
            ]
            if before is not None and eng.dialect.name == "sqlite":
                _backup_sqlite(url, before)
            with eng.begin() as conn:
                command.upgrade(_alembic_config(conn), target)
    except sa.exc.OperationalError as err:
        raise AppDbError(_unreachable(url, err)) from None
    if revision == "head":
        _READY.add(url)
    return pending
