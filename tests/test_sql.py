"""kpi.sql: quoted identifiers, unbindable literals and named parameters; the compiler binds by name."""

from __future__ import annotations

import re

import pytest

from kpi import schema, store
from kpi.engine.compile import compile_spec
from kpi.spec.load import load_spec
from kpi.sql import Params, ident, literal


def test_ident_and_literal_escape_quotes():
    assert ident('a"b') == '"a""b"'
    assert literal("it's") == "'it''s'"


def test_params_share_a_name_for_an_equal_value_of_the_same_type():
    p = Params("x")
    assert [p.add("已办结"), p.add(0), p.add(False), p.add("已办结"), p.add(0.0)] == [
        "$x_0",
        "$x_1",
        "$x_2",  # False is not 0: bound as its own value
        "$x_0",
        "$x_3",
    ]
    assert p.values == {"x_0": "已办结", "x_1": 0, "x_2": False, "x_3": 0.0}
    assert p.used_in("SELECT $x_3, $x_0") == {"x_0": "已办结", "x_3": 0.0}
    with pytest.raises(ValueError):
        Params("bad-prefix")


def test_compiled_scans_bind_by_name_only():
    """No positional ? is left in the compiled scans; every $name is bound and every bound value
    is used — DuckDB runs them on empty canonical tables."""
    plans = compile_spec(load_spec(check_sql=False))
    con = store.connect_memory()
    try:
        for ddl in (*schema.CANONICAL_DDL.values(), *schema.SUPPORT_DDL.values()):
            con.execute(ddl)  # the scans read etl_runs (columns exports had) and the calendar
        for source, plan in plans.items():
            for periods in (None, ("2026Q2", "2026Q3")):
                sql, params = plan.long_query("330800", periods)
                assert "?" not in sql.replace("'?'", "")
                assert isinstance(params, dict)
                assert set(re.findall(r"\$([A-Za-z_]\w*)", sql)) == set(params), source
                # every scan names its values after itself (approvals@due → $approvals_due_…)
                assert all(name.startswith(source.replace("@", "_") + "_") for name in params)
                con.execute(sql, params).fetchall()
    finally:
        con.close()
