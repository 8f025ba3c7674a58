"""Database sources against a real PostgreSQL server (issue 16): a 12345-like and a 办件-like
table with Chinese column names; the first pull takes everything, an update to an already
pulled row and rows added after the high-water mark (one exactly at it) come through on the
next, nothing is pulled twice, and the password is never in sources.yaml."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
import sqlalchemy as sa

from etl import sources
from etl.commands import scheduler
from kpi import store
from kpi.errors import UserInputError
from kpi.settings import DataDir
from office import jobs
from tests.conftest import pg_url_or_skip

T0 = dt.datetime(2026, 7, 5, 10, 0, 0)


@pytest.fixture
def pg(monkeypatch):
    """A schema of our own on the test server holding the two tables; the URL in sources.yaml
    takes its password from BIZENV_SRC_TEST_PASSWORD."""
    url = pg_url_or_skip()
    parsed = sa.engine.make_url(store_url(url))
    schema = f"src_{uuid.uuid4().hex[:10]}"
    eng = sa.create_engine(store_url(url))
    with eng.begin() as c:
        c.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        c.execute(
            sa.text(
                f'CREATE TABLE "{schema}".gongdan (工单编号 text PRIMARY KEY, 来电时间 timestamp, '
                "所属区县 text, 诉求类型 text, 办结时间 timestamp, 更新时间 timestamp)"
            )
        )
        c.execute(
            sa.text(
                f'CREATE TABLE "{schema}".banjian (办件编号 text PRIMARY KEY, 事项编码 text, 所属区县 text, '
                "受理时间 timestamp, 办结时间 timestamp, 办件状态 text, 法定时限 int, 承诺时限 int, "
                "更新时间 timestamp)"
            )
        )
        c.execute(
            sa.text(f'INSERT INTO "{schema}".gongdan VALUES (:a, :b, :c, :d, :e, :f)'),
            [
                {"a": "GD1", "b": T0, "c": "柯城区", "d": "投诉", "e": None, "f": T0},
                {
                    "a": "GD2",
                    "b": T0,
                    "c": "江山市",
                    "d": "咨询",
                    "e": T0,
                    "f": T0 + dt.timedelta(hours=1),
                },
            ],
        )
        c.execute(
            sa.text(
                f"INSERT INTO \"{schema}\".banjian VALUES (:a, 'SX0101', :c, :d, :e, :s, 15, 1, :f)"
            ),
            [
                {"a": "BJ1", "c": "柯城区", "d": T0, "e": None, "s": "办理中", "f": T0},
                {"a": "BJ2", "c": "衢江区", "d": T0, "e": T0, "s": "已办结", "f": T0},
            ],
        )
    monkeypatch.setenv("BIZENV_SRC_TEST_PASSWORD", parsed.password or "")
    safe = parsed.set(password="${BIZENV_SRC_TEST_PASSWORD}").render_as_string(hide_password=False)
    safe = (
        safe.replace("postgresql+psycopg://", "postgresql://")
        .replace("%24%7B", "${")
        .replace("%7D", "}")
    )
    yield eng, schema, safe
    with eng.begin() as c:
        c.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    eng.dispose()


def store_url(url: str) -> str:
    from office.store import normalise

    return normalise(url)


def configure(dd: DataDir, schema: str, url: str) -> None:
    dd.root.mkdir(parents=True, exist_ok=True)
    sources.config_path(dd).write_text(
        f"""watch: []
rebuild: ""
databases:
  - name: 12345平台
    url: {url}
    table: '"{schema}".gongdan'
    source: hotline
    incremental: 更新时间
    every_minutes: 5
  - name: 政务服务平台
    url: {url}
    query: 'SELECT * FROM "{schema}".banjian'
    source: approvals
    incremental: 更新时间
    key: 办件编号
""",
        encoding="utf-8",
    )


def warehouse(sql: str):
    con = store.connect_warehouse_readonly()
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def last_job(dd):
    return jobs.recent(dd, 1)[0]


def test_pulls_take_only_what_changed(pg, isolated_data_dir):
    eng, schema, url = pg
    dd = DataDir.of(isolated_data_dir)
    configure(dd, schema, url)
    assert "BIZENV_SRC_TEST_PASSWORD" in sources.config_path(dd).read_text()
    assert "bizenv:bizenv@" not in sources.config_path(dd).read_text()

    scheduler.run_pull(dd, "12345平台")
    scheduler.run_pull(dd, "政务服务平台")
    j = last_job(dd)
    assert (j.kind, j.status, j.via) == ("pull", jobs.SUCCEEDED, "scheduler"), j.message
    assert warehouse("SELECT ticket_id FROM hotline ORDER BY 1") == [("GD1",), ("GD2",)]
    assert warehouse("SELECT case_id, status, version FROM approvals ORDER BY 1") == [
        ("BJ1", "办理中", 1),
        ("BJ2", "已办结", 1),
    ]
    mark = jobs.get_mark(dd, "政务服务平台")
    assert mark is not None and mark.rows_pulled == 2

    # BJ1 finishes (its update time moves on), BJ3 arrives later, BJ4 has exactly the mark's
    # time but was committed after the first pull; GD3 is new, GD1 unchanged
    with eng.begin() as c:
        c.execute(
            sa.text(
                f"UPDATE \"{schema}\".banjian SET 办结时间 = :t, 办件状态 = '已办结', 更新时间 = :t "
                "WHERE 办件编号 = 'BJ1'"
            ),
            {"t": T0 + dt.timedelta(days=1)},
        )
        c.execute(
            sa.text(
                f"INSERT INTO \"{schema}\".banjian VALUES ('BJ3', 'SX0101', '柯城区', :t, NULL, '办理中', 15, 1, :t), "
                "('BJ4', 'SX0101', '柯城区', :t0, NULL, '办理中', 15, 1, :t0)"
            ),
            {"t": T0 + dt.timedelta(days=2), "t0": T0},
        )
        c.execute(
            sa.text(
                f"INSERT INTO \"{schema}\".gongdan VALUES ('GD3', :t, '柯城区', '求助', NULL, :t)"
            ),
            {"t": T0 + dt.timedelta(days=1)},
        )
    scheduler.run_pull(dd, "政务服务平台")
    j = last_job(dd)
    assert j.status == jobs.SUCCEEDED, j.message
    [f] = j.summary["files"]
    # BJ1 (updated), BJ3 (new), BJ4 (at the mark, not pulled before); not BJ2
    assert f["rows_read"] == 3
    assert (f["rows_inserted"], f["rows_updated"], f["rows_unchanged"]) == (2, 1, 0)
    assert warehouse("SELECT case_id, status, version FROM approvals ORDER BY 1") == [
        ("BJ1", "已办结", 2),
        ("BJ2", "已办结", 1),
        ("BJ3", "办理中", 1),
        ("BJ4", "办理中", 1),
    ]
    scheduler.run_pull(dd, "12345平台")
    assert last_job(dd).summary["files"][0]["rows_read"] == 1  # GD3 only
    assert warehouse("SELECT ticket_id FROM hotline ORDER BY 1") == [("GD1",), ("GD2",), ("GD3",)]

    # nothing changed: nothing pulled, no load, no new snapshot
    pointer = dd.pointer.read_text()
    scheduler.run_pull(dd, "政务服务平台")
    j = last_job(dd)
    assert j.status == jobs.SUCCEEDED and j.message == "没有新的或变化的记录。" and not j.load_ids
    assert dd.pointer.read_text() == pointer
    assert jobs.get_mark(dd, "政务服务平台").rows_pulled == 5


def test_a_password_in_the_file_is_refused_and_a_missing_variable_named(
    isolated_data_dir, monkeypatch
):
    dd = DataDir.of(isolated_data_dir)
    dd.root.mkdir(parents=True)
    sources.config_path(dd).write_text(
        "databases:\n  - {name: a, url: 'postgresql://u:secret@h/db', table: t, source: hotline, incremental: x}\n",
        encoding="utf-8",
    )
    with pytest.raises(UserInputError, match="直接写了密码"):
        sources.load_config(dd)
    monkeypatch.delenv("BIZENV_SRC_NOPE", raising=False)
    db = sources.Database(
        "a", "postgresql://u:${BIZENV_SRC_NOPE}@h/db", "x", table="t", source="hotline"
    )
    with pytest.raises(UserInputError, match="BIZENV_SRC_NOPE"):
        sources.resolve_url(db)
