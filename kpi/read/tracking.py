"""What the 督办 loop reads from a snapshot: the red cells and 应报未报 to propose tasks for, the
cells that decide whether a task closes itself, and the 蜗牛/骏马 evidence per unit.

Everything is counted in DuckDB; office.tracking turns the frames into tasks and leads.
"""

from __future__ import annotations

import pandas as pd

from kpi.read.queries import _df, has_table


def last_complete_period(con) -> str | None:
    """The newest quarter that is not partial (None: there is none)."""
    if not has_table(con, "periods"):
        return None
    row = con.execute("SELECT max(period) FROM periods WHERE NOT is_partial").fetchone()
    return row[0] if row else None


def task_cells(con, period: str) -> pd.DataFrame:
    """District × indicator cells of `period` that call for a 督办 task: red, or 应报未报."""
    if not has_table(con, "indicator_scores"):
        return pd.DataFrame()
    return _df(
        con,
        """
        SELECT s.district_code, s.district_name, s.indicator_key, s.label_zh, s.domain_key,
               coalesce(d.label_zh, s.domain_key) AS domain_label, s.value, s.unit, s.rag,
               s.data_state, s.suppressed_reason, s.warn,
               CASE WHEN s.data_state = 'not_filed' THEN 'not_filed' ELSE 'red' END AS kind
        FROM indicator_scores s
        LEFT JOIN (SELECT DISTINCT domain_key, label_zh FROM domain_scores) d USING (domain_key)
        WHERE s.period = ? AND NOT s.is_city AND (s.rag = 'red' OR s.data_state = 'not_filed')
        ORDER BY s.district_code, s.indicator_id""",
        [period],
    )


def cell_history(con, keys: list[tuple[str, str]]) -> pd.DataFrame:
    """period, is_partial, rag, data_state of the given (district_code, indicator_key) cells."""
    if not keys or not has_table(con, "indicator_scores"):
        return pd.DataFrame(
            columns=["district_code", "indicator_key", "period", "is_partial", "rag", "data_state"]
        )
    return _df(
        con,
        """
        SELECT s.district_code, s.indicator_key, s.period, s.is_partial, s.rag, s.data_state
        FROM indicator_scores s
        JOIN (SELECT unnest($d) AS district_code, unnest($i) AS indicator_key) k
          USING (district_code, indicator_key)""",
        {"d": [k[0] for k in keys], "i": [k[1] for k in keys]},
    )


# A 差评 is past its rectification deadline when it is not rectified and older than this, or
# was rectified later than this (working days; 好差评 rules give 5 working days to 整改).
RECTIFY_WORKDAYS = 5


def snail_evidence(con, period: str) -> pd.DataFrame:
    """蜗牛 evidence per unit for `period`: overdue open items, 差评 past the rectification
    deadline, repeat complaints (one column per count, a unit per row).

    Units are 12345 承办单位 and 办件/好差评 办理部门 (by name). A 退回/回退 count is not in the
    warehouse's records (no such column in the exports), so it is not counted."""
    parts = []
    if has_table(con, "hotline"):
        parts.append(
            """
            SELECT handling_unit AS unit, district_code,
                   count(*) FILTER (WHERE closed_at IS NULL AND on_time IS FALSE) AS overdue_open,
                   0 AS bad_unrectified,
                   count(*) FILTER (WHERE is_repeat AND category = '投诉') AS repeat_complaints
            FROM hotline WHERE coalesce(due_period, period) = $p AND handling_unit IS NOT NULL
            GROUP BY ALL"""
        )
    if has_table(con, "approvals"):
        parts.append(
            """
            SELECT department AS unit, district_code,
                   count(*) FILTER (WHERE completed_at IS NULL AND on_time IS FALSE), 0, 0
            FROM approvals WHERE coalesce(due_period, period) = $p AND department IS NOT NULL
            GROUP BY ALL"""
        )
    if has_table(con, "ratings"):
        parts.append(
            f"""
            SELECT department AS unit, district_code, 0,
                   count(*) FILTER (WHERE is_bad AND (rectified IS NOT TRUE
                                     OR rectify_workdays > {RECTIFY_WORKDAYS})), 0
            FROM ratings WHERE period = $p AND department IS NOT NULL
            GROUP BY ALL"""
        )
    if not parts:
        return pd.DataFrame()
    return _df(
        con,
        f"""
        SELECT unit, any_value(district_code ORDER BY district_code) AS district_code,
               sum(overdue_open)::BIGINT AS overdue_open,
               sum(bad_unrectified)::BIGINT AS bad_unrectified,
               sum(repeat_complaints)::BIGINT AS repeat_complaints
        FROM ({" UNION ALL ".join(parts)}) GROUP BY unit ORDER BY unit""",
        {"p": period},
    )


def steed_evidence(con, period: str, previous: str | None) -> pd.DataFrame:
    """骏马 evidence per unit: its score change on the unit scorecards since `previous`, and the
    overdue items it closed in `period` (closed late, so no longer open)."""
    out = pd.DataFrame(
        columns=["unit", "district_code", "score", "score_change", "overdue_cleared"]
    )
    if not has_table(con, "unit_overall"):
        return out
    cleared = []
    if has_table(con, "hotline"):
        cleared.append(
            "SELECT handling_unit AS unit, count(*) AS n FROM hotline WHERE period = $p "
            "AND closed_at IS NOT NULL AND on_time IS FALSE GROUP BY ALL"
        )
    if has_table(con, "approvals"):
        cleared.append(
            "SELECT department AS unit, count(*) AS n FROM approvals WHERE period = $p "
            "AND completed_at IS NOT NULL AND on_time IS FALSE GROUP BY ALL"
        )
    cleared_sql = " UNION ALL ".join(cleared) or "SELECT NULL AS unit, 0 AS n WHERE FALSE"
    return _df(
        con,
        f"""
        WITH now AS (SELECT unit_name AS unit, any_value(district_code) AS district_code,
                            avg(score) AS score
                     FROM unit_overall WHERE period = $p AND score IS NOT NULL GROUP BY ALL),
             before AS (SELECT unit_name AS unit, avg(score) AS score
                        FROM unit_overall WHERE period = $q AND score IS NOT NULL GROUP BY ALL),
             cleared AS (SELECT unit, sum(n)::BIGINT AS n FROM ({cleared_sql}) GROUP BY unit)
        SELECT now.unit, now.district_code, now.score, now.score - before.score AS score_change,
               coalesce(cleared.n, 0)::BIGINT AS overdue_cleared
        FROM now LEFT JOIN before USING (unit) LEFT JOIN cleared USING (unit)
        ORDER BY score_change DESC NULLS LAST, overdue_cleared DESC""",
        {"p": period, "q": previous or ""},
    )
