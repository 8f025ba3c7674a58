"""Read API for the pages: small queries on a snapshot's marts, each returning a small DataFrame.

Every function takes a DuckDB connection (or cursor) on a snapshot plus the period / district /
domain it is about; the work (filters, joins, windows) happens in DuckDB and only the rows a page
shows come back. Nothing here recomputes what the marts already hold (scores, ranks, QoQ, RAG).
`ui.data` caches the results keyed by the snapshot path and the arguments.
"""

from __future__ import annotations

import pandas as pd

from kpi import periods as quarters
from kpi import schema
from kpi.read import coverage
from kpi.read.scope import RecordScope, owned_indicators
from kpi.spec import describe
from kpi.sql import Params, ident

# Columns a user may see from each canonical source, in display order. Personal data (caller
# numbers, their hashes, applicant names) is never selected.
_RECORD_COLUMN_ORDER: dict[str, tuple[str, ...]] = {
    "approvals": (
        "case_id",
        "item_code",
        "item_name",
        "department",
        "applicant_type",
        "channel",
        "accepted_at",
        "completed_at",
        "due_at",
        "status",
        "promised_limit_days",
        "workdays_used",
        "on_time",
        "visits",
        "source_file",
        "source_line",
    ),
    "hotline": (
        "ticket_id",
        "received_at",
        "channel",
        "caller_type",
        "category",
        "topic",
        "handling_unit",
        "closed_at",
        "due_at",
        "workdays_used",
        "on_time",
        "resolved",
        "satisfaction",
        "is_repeat",
        "content",
        "source_file",
        "source_line",
    ),
    "ratings": (
        "rating_id",
        "rated_at",
        "channel",
        "department",
        "item_code",
        "case_id",
        "rating_seq",
        "level_label",
        "is_bad",
        "rectified",
        "rectified_at",
        "source_file",
        "source_line",
    ),
}
RECORD_COLUMNS: dict[str, dict[str, str]] = {
    source: {c: schema.COLUMN_LABELS[source][c] for c in cols}
    for source, cols in _RECORD_COLUMN_ORDER.items()
}
# Text columns the records search looks in (ILIKE, value bound as a parameter).
SEARCH_COLUMNS = {
    "approvals": ("case_id", "item_code", "item_name", "department", "channel", "status"),
    "hotline": ("ticket_id", "category", "topic", "handling_unit", "satisfaction", "content"),
    "ratings": ("rating_id", "channel", "department", "item_code", "level_label"),
}
SOURCE_PERIOD_COLUMN = {
    "approvals": "period",
    "hotline": "period",
    "ratings": "period",
    "reports": "report_period",
}


def _q(identifier: str) -> str:
    """Quote an identifier for DuckDB (column names come from the constants above, never from users)."""
    return ident(identifier)


def _df(con, sql: str, params: list | tuple | dict = ()) -> pd.DataFrame:
    return con.execute(sql, params if isinstance(params, dict) else list(params)).df()


def has_table(con, name: str) -> bool:
    row = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]
    ).fetchone()
    return bool(row and row[0])


def _col(con, table: str, column: str) -> str:
    """`column`, or NULL under its name in a snapshot built before the column existed."""
    row = con.execute(
        "SELECT count(*) FROM information_schema.columns WHERE table_name = ? AND column_name = ?",
        [table, column],
    ).fetchone()
    return _q(column) if row and row[0] else f"NULL AS {_q(column)}"


def has_marts(con) -> bool:
    """True when the snapshot holds scored marts (a snapshot published before any build has none)."""
    if not has_table(con, "overall_scores"):
        return False
    return bool(con.execute("SELECT count(*) FROM overall_scores").fetchone()[0])


# ── snapshot, periods, districts, domains ────────────────────────────────────────────────────


def meta(con) -> dict[str, str]:
    """snapshot_meta as a dict (built_at, data_as_of, city_name, current_period, …)."""
    if not has_table(con, "snapshot_meta"):
        return {}
    return dict(con.execute("SELECT key, value FROM snapshot_meta").fetchall())


def _meta_list(con, key: str) -> list[str] | None:
    import json

    try:
        value = json.loads(meta(con).get(key) or "null")
    except ValueError:
        return None
    return [str(v) for v in value] if isinstance(value, list) else None


def headline_keys(con) -> list[str]:
    """The city KPI cards, as metrics.yaml said when the snapshot was built (a snapshot built
    before that was recorded: the default five)."""
    from kpi.spec.models import DEFAULT_HEADLINE

    return _meta_list(con, "headline") or list(DEFAULT_HEADLINE)


def domain_order(con) -> list[str]:
    """Domain keys in metrics.yaml order at build ([] for a snapshot that did not record it)."""
    return _meta_list(con, "domain_order") or []


def periods(con) -> pd.DataFrame:
    """The scored quarters, oldest first, with 进行中 state."""
    return _df(
        con,
        """
        SELECT period, period_start, period_end, coalesce(is_partial, false) AS is_partial, data_as_of
        FROM periods WHERE period IN (SELECT DISTINCT period FROM overall_scores) ORDER BY period""",
    )


def districts(con) -> pd.DataFrame:
    """Districts that appear in the marts (not the city row), in catalogue order."""
    return _df(
        con,
        """
        WITH m AS (SELECT DISTINCT district_code, district_name FROM overall_scores WHERE NOT is_city)
        SELECT m.district_code, coalesce(d.district_name, m.district_name) AS district_name,
               coalesce(d.short_name, m.district_name) AS short_name
        FROM m LEFT JOIN districts d USING (district_code)
        ORDER BY coalesce(d.sort_order, 999), m.district_code""",
    )


def domains(con) -> pd.DataFrame:
    """Domains present in the marts, in the snapshot's domain order (metrics.yaml at build; for
    an older snapshot, domain_id order D01 … D18), with the catalogue's short name
    (data/catalog/domains.csv, copied into the snapshot at load; the label when absent)."""
    short = (
        "(SELECT c.short_name FROM domains c WHERE c.domain_key = m.domain_key)"
        if has_table(con, "domains")
        else "NULL"
    )
    return _df(
        con,
        f"""
        WITH m AS (SELECT domain_key, any_value(domain_id) AS domain_id,
                          any_value(label_zh) AS label_zh
                   FROM domain_scores GROUP BY domain_key)
        SELECT domain_key, domain_id, label_zh, coalesce({short}, label_zh) AS short_name
        FROM m
        ORDER BY coalesce(list_position(?::VARCHAR[], domain_key), 1000000), domain_id""",
        [domain_order(con)],
    )


# ── overview ─────────────────────────────────────────────────────────────────────────────────


def overall(con, period: str) -> pd.DataFrame:
    """Overall index rows of a period: the city row first, then districts by rank."""
    return _df(
        con,
        f"""
        SELECT district_code, district_name, is_city, is_partial, score, rank, rank_change,
               score_prev, score_qoq, score_yoy, trend_qoq, n_red, n_domains_scored, rag,
               {_col(con, "overall_scores", "coverage_note")}
        FROM overall_scores WHERE period = ?
        ORDER BY is_city DESC, rank NULLS LAST, district_code""",
        [period],
    )


def overall_series(con, period: str, n: int = 8, district: str | None = None) -> pd.DataFrame:
    """Overall score of the city (or one district) for the last `n` quarters up to `period`."""
    where = "district_code = ?" if district else "is_city"
    params = [period, *([district] if district else []), n]
    return _df(
        con,
        f"""
        SELECT * FROM (
            SELECT period, is_partial, score, rank, score_qoq, trend_qoq FROM overall_scores
            WHERE period <= ? AND {where} ORDER BY period DESC LIMIT ?
        ) ORDER BY period""",
        params,
    )


def headline(con, keys: list[str], period: str, n: int = 8) -> pd.DataFrame:
    """City rows of the headline indicators for the last `n` quarters up to `period`."""
    if not keys:
        return pd.DataFrame()
    marks = ", ".join("?" for _ in keys)
    return _df(
        con,
        f"""
        WITH p AS (SELECT DISTINCT period FROM indicator_scores WHERE period <= ?
                   ORDER BY period DESC LIMIT ?)
        SELECT period, is_partial, indicator_key, label_zh, unit, direction, value, value_prev,
               value_qoq, score, trend_qoq, rag, n
        FROM indicator_scores
        WHERE is_city AND indicator_key IN ({marks}) AND period IN (SELECT period FROM p)
        ORDER BY indicator_key, period""",
        [period, n, *keys],
    )


def domain_matrix(con, period: str) -> pd.DataFrame:
    """domain_scores of a period for every district and the city (long form, for the heatmap)."""
    return _df(
        con,
        """
        SELECT district_code, district_name, is_city, domain_key, domain_id, label_zh, score, rank,
               rag, score_qoq, trend_qoq, n_red, suppressed_reason
        FROM domain_scores WHERE period = ? ORDER BY domain_id, is_city DESC, rank NULLS LAST""",
        [period],
    )


def domain_coverage(con, period: str) -> pd.DataFrame:
    """How many domains each district's 综合指数 of a period rests on (n_domains_scored), beside
    `usual`: the most any district had in a complete quarter (the number of domains when the
    snapshot has no complete quarter)."""
    return _df(
        con,
        """
        WITH usual AS (SELECT max(n_domains_scored) AS n FROM overall_scores
                       WHERE NOT is_partial AND NOT is_city),
             total AS (SELECT count(DISTINCT domain_key) AS n FROM domain_scores WHERE period = ?)
        SELECT o.district_code, o.district_name, o.is_city, o.n_domains_scored,
               coalesce(usual.n, total.n) AS usual, total.n AS n_domains
        FROM overall_scores o, usual, total WHERE o.period = ?
        ORDER BY o.is_city DESC, o.rank NULLS LAST, o.district_code""",
        [period, period],
    )


def unscored_domains(con, period: str) -> pd.DataFrame:
    """Domain rows of a period without a score, with the reason (kpi.read.coverage.domain_reason:
    无数据 / 样本不足 / the marts' 可评分指标权重… text) worked out from their indicators."""
    df = _df(
        con,
        """
        SELECT d.domain_key, d.domain_id, d.label_zh, d.district_code, d.district_name, d.is_city,
               d.suppressed_reason, count(i.indicator_key) AS n_indicators,
               count(*) FILTER (WHERE i.suppressed_reason = '无数据') AS n_no_data,
               count(*) FILTER (WHERE i.suppressed_reason LIKE '样本量不足%') AS n_small
        FROM domain_scores d
        LEFT JOIN indicator_scores i
               ON i.period = d.period AND i.district_code = d.district_code
              AND i.domain_key = d.domain_key
        WHERE d.period = ? AND d.score IS NULL
        GROUP BY ALL ORDER BY d.domain_id, d.is_city DESC, d.district_code""",
        [period],
    )
    df["reason"] = [
        coverage.domain_reason(r, int(n), int(nd), int(ns))
        for r, n, nd, ns in zip(
            df["suppressed_reason"], df["n_indicators"], df["n_no_data"], df["n_small"], strict=True
        )
    ]
    return df


# ── domains page ─────────────────────────────────────────────────────────────────────────────


def domain_ranking(con, period: str, domain_key: str) -> pd.DataFrame:
    """Districts ranked on one domain (city row first)."""
    return _df(
        con,
        f"""
        SELECT district_code, district_name, is_city, score, rank, rank_change, score_qoq,
               trend_qoq, rag, n_scored, n_indicators, n_red, suppressed_reason,
               {_col(con, "domain_scores", "coverage_note")}
        FROM domain_scores WHERE period = ? AND domain_key = ?
        ORDER BY is_city DESC, rank NULLS LAST, district_code""",
        [period, domain_key],
    )


def indicators(
    con, period: str, domain_key: str | None = None, district: str | None = None
) -> pd.DataFrame:
    """indicator_scores rows of a period, optionally for one domain and/or one district."""
    where, params = ["period = ?"], [period]
    if domain_key:
        where.append("domain_key = ?")
        params.append(domain_key)
    if district:
        where.append("district_code = ?")
        params.append(district)
    return _df(
        con,
        f"""
        SELECT district_code, district_name, is_city, is_partial, domain_key, domain_id,
               indicator_id, indicator_key, label_zh, unit, direction, source, value, numerator,
               denominator, n, scored, suppressed_reason, score, weight, value_prev, value_qoq,
               value_yoy, rank, rank_change, score_qoq, trend_qoq, rag, warn, advanced,
               dtf_best, dtf_worst
        FROM indicator_scores WHERE {" AND ".join(where)}
        ORDER BY indicator_id, is_city DESC, rank NULLS LAST, district_code""",
        params,
    )


def indicator_definitions(con, domain_key: str) -> pd.DataFrame:
    """What the marts carry about each indicator of a domain (label, unit, source, bounds …)."""
    return _df(
        con,
        """
        SELECT indicator_id, indicator_key, any_value(label_zh) AS label_zh, any_value(unit) AS unit,
               any_value(direction) AS direction, any_value(source) AS source,
               any_value(weight) AS weight, any_value(warn) AS warn,
               any_value(advanced) AS advanced, any_value(dtf_best) AS dtf_best,
               any_value(dtf_worst) AS dtf_worst
        FROM indicator_scores WHERE domain_key = ? AND is_city
        GROUP BY indicator_id, indicator_key ORDER BY indicator_id""",
        [domain_key],
    )


# ── district profile ─────────────────────────────────────────────────────────────────────────


def district_domains(con, period: str, district: str) -> pd.DataFrame:
    """A district's domain scores beside the city's and the best district's (first-ranked, ties
    by BEST_TIE_RULE; the district itself when it leads), per domain."""
    return _df(
        con,
        """
        WITH d AS (SELECT * FROM domain_scores WHERE period = ?)
        SELECT x.domain_key, x.domain_id, x.label_zh, x.score, x.rank, x.rag, x.score_qoq,
               c.score AS city_score,
               b.score AS best_score, b.district_name AS best_district
        FROM d x
        LEFT JOIN d c ON c.domain_key = x.domain_key AND c.is_city
        LEFT JOIN (SELECT domain_key, district_name, score,
                          row_number() OVER (PARTITION BY domain_key
                                             ORDER BY rank NULLS LAST, score DESC, district_code) AS pos
                   FROM d WHERE NOT is_city AND score IS NOT NULL) b
               ON b.domain_key = x.domain_key AND b.pos = 1  -- ties: BEST_TIE_RULE
        WHERE x.district_code = ?
        ORDER BY x.domain_id""",
        [period, district],
    )


def rank_history(con, district: str) -> pd.DataFrame:
    """A district's overall score and rank in every quarter."""
    return _df(
        con,
        """
        SELECT period, is_partial, score, rank, rank_change,
               (SELECT count(*) FROM overall_scores o2 WHERE o2.period = o.period AND NOT o2.is_city) AS n_districts
        FROM overall_scores o WHERE district_code = ? ORDER BY period""",
        [district],
    )


def benchmark(con, period: str, district: str) -> pd.DataFrame:
    """对标提升清单: the district's scored indicators short of 先进值, with the best *other* district.

    The best other district is the one ranked first on the indicator; among districts sharing
    that rank, the smallest 行政区划代码 (BEST_TIE_RULE). When the district itself ranks first
    (alone or tied) there is no one to learn from: is_best is true and best_district, best_value
    and gap are empty — it is compared with 先进值 only. gap = how far the value must move to
    equal the best district; to_advanced = how far to 先进值; both in the indicator's unit and
    positive when the district must still improve.
    """
    return _df(
        con,
        """
        WITH i AS (SELECT * FROM indicator_scores WHERE period = ?),
        others AS (
            SELECT indicator_key, district_name, value, rank,
                   row_number() OVER (PARTITION BY indicator_key
                                      ORDER BY rank, district_code) AS pos
            FROM i WHERE NOT is_city AND scored AND rank IS NOT NULL
                     AND district_code <> ?),
        best AS (SELECT * FROM others WHERE pos = 1),
        x AS (
            SELECT i.*, b.rank AS best_rank, b.district_name AS other_district,
                   b.value AS other_value,
                   i.rank IS NOT NULL AND (b.rank IS NULL OR i.rank <= b.rank) AS is_best
            FROM i LEFT JOIN best b USING (indicator_key)
            WHERE i.district_code = ? AND i.scored AND coalesce(i.rag, '') <> 'green')
        SELECT domain_key, domain_id, indicator_id, indicator_key, label_zh, unit, direction,
               value, score, rank, rag, is_best,
               CASE WHEN NOT is_best THEN other_district END AS best_district,
               CASE WHEN NOT is_best THEN other_value END AS best_value,
               CASE WHEN is_best THEN NULL
                    WHEN direction = 'lower_is_better' THEN value - other_value
                    ELSE other_value - value END AS gap,
               advanced,
               greatest(0, CASE WHEN direction = 'lower_is_better' THEN value - advanced
                                ELSE advanced - value END) AS to_advanced
        FROM x
        ORDER BY score, indicator_id""",
        [period, district, district],
    )


# How the 对标 best district is chosen among districts sharing the first rank (said on the page
# and in docs/metrics.md).
BEST_TIE_RULE = "并列第一时取行政区划代码最小者"


# ── trends ───────────────────────────────────────────────────────────────────────────────────


def series(
    con, level: str, key: str | None, district_codes: list[str], include_city: bool = True
) -> pd.DataFrame:
    """Per-quarter value of the overall index, one domain or one indicator for several districts,
    with the marts' own 环比 (qoq) and 同比 (yoy) changes.

    level: overall | domain | indicator. Returns period, period_start, period_end, is_partial,
    district_code, district_name, is_city, value, qoq, yoy — one row per calendar quarter from
    the oldest to the newest quarter the mart holds, so a quarter without a row comes back with
    value NULL (a gap in a line, not a join across it). qoq/yoy are read from the marts, which
    leave them empty for an in-progress quarter (never compared with a complete one). For an
    indicator they are changes of its value (its unit); for a domain or the overall index, of
    the score.
    """
    table, value_col, qoq_col, yoy_col, key_col = {
        "overall": ("overall_scores", "score", "score_qoq", "score_yoy", None),
        "domain": ("domain_scores", "score", "score_qoq", "score_yoy", "domain_key"),
        "indicator": ("indicator_scores", "value", "value_qoq", "value_yoy", "indicator_key"),
    }[level]
    scope, params = "TRUE", list[object]()
    if key_col:
        scope = f"{_q(key_col)} = ?"
        params.append(key)
    who = ["district_code IN (SELECT unnest(?::VARCHAR[]))"]
    params.append(list(district_codes))
    if include_city:
        who.append("is_city")
    pidx = quarters.sql_index("period")
    return _df(
        con,
        f"""
        WITH k AS (SELECT *, {pidx} AS pidx FROM {_q(table)} WHERE {scope}),
        s AS (SELECT * FROM k WHERE {" OR ".join(who)}),
        q AS (SELECT unnest(range(min(pidx), max(pidx) + 1)) AS pidx FROM k),
        w AS (SELECT district_code, any_value(district_name) AS district_name,
                     bool_or(is_city) AS is_city FROM s GROUP BY district_code),
        p AS (SELECT {pidx} AS pidx, is_partial FROM periods)
        SELECT (q.pidx // 4) || 'Q' || (q.pidx % 4 + 1) AS period,
               make_date(q.pidx // 4, 3 * (q.pidx % 4) + 1, 1) AS period_start,
               (make_date(q.pidx // 4, 3 * (q.pidx % 4) + 1, 1) + INTERVAL 3 MONTH
                - INTERVAL 1 DAY)::DATE AS period_end,
               coalesce(s.is_partial, p.is_partial, false) AS is_partial,
               w.district_code, w.district_name, w.is_city,
               s.{_q(value_col)} AS value, s.{_q(qoq_col)} AS qoq, s.{_q(yoy_col)} AS yoy
        FROM q CROSS JOIN w
        LEFT JOIN s ON s.pidx = q.pidx AND s.district_code = w.district_code
        LEFT JOIN p ON p.pidx = q.pidx
        ORDER BY w.is_city DESC, w.district_code, q.pidx""",
        params,
    )


def indicator_catalog(con) -> pd.DataFrame:
    """Every indicator with its domain (for pickers)."""
    return _df(
        con,
        """
        SELECT indicator_key, any_value(indicator_id) AS indicator_id, any_value(label_zh) AS label_zh,
               any_value(unit) AS unit, any_value(direction) AS direction,
               any_value(domain_key) AS domain_key, any_value(source) AS source
        FROM indicator_scores GROUP BY indicator_key ORDER BY indicator_id""",
    )


# ── records (drill-down) ─────────────────────────────────────────────────────────────────────


def _records_where(
    source: str,
    period: str | None,
    district: str | None,
    domain_key: str | None,
    search: str | None,
    filter_sql: str | None = None,
    filter_params: dict | None = None,
    scope: RecordScope | None = None,
    period_column: str = "period",
) -> tuple[str, Params]:
    where, params = [], Params("rec")
    if scope is not None:  # the reader's row-level scope (office.roles): 区县 → its code, …
        where += scope.where(params)
    if filter_sql:  # an indicator's compiled filters (kpi.engine.compile), its own named params
        where.append(f"({filter_sql})")
    if period:
        column = period_column if period_column in ("period", "due_period") else "period"
        where.append(f"{_q(column)} = {params.add(period)}")
    if district:
        where.append(f"district_code = {params.add(district)}")
    if domain_key:
        where.append(f"domain_key = {params.add(domain_key)}")
    if search:
        text = " || ' ' || ".join(
            f"coalesce(CAST({_q(c)} AS VARCHAR), '')" for c in SEARCH_COLUMNS[source]
        )
        where.append(f"({text}) ILIKE {params.add(f'%{search}%')}")
    params.values.update(filter_params or {})
    return ("WHERE " + " AND ".join(where)) if where else "", params


# The order a records page starts in (newest first) and the key that makes every order total, so
# that paging with LIMIT/OFFSET never repeats or skips a record.
RECORD_ORDER = {
    "approvals": ("completed_at", "case_id"),
    "hotline": ("received_at", "ticket_id"),
    "ratings": ("rated_at", "rating_id"),
}
# 明细 downloads hold at most this many records (the whole filtered set up to here).
RECORDS_DOWNLOAD_LIMIT = 200_000


def records_order(source: str, order_by: str | None = None, descending: bool = True) -> str:
    """ORDER BY text for a records query: `order_by` must be one of the source's visible columns
    (RECORD_COLUMNS; anything else raises ValueError), quoted; missing values last; ties broken
    by the record's id so paging is stable."""
    default, id_col = RECORD_ORDER[source]
    col = order_by or default
    if col not in RECORD_COLUMNS[source]:
        raise ValueError(f"明细不能按“{col}”排序：可选的列为 {', '.join(RECORD_COLUMNS[source])}")
    sql = f"{_q(col)} {'DESC' if descending else 'ASC'} NULLS LAST"
    return sql if col == id_col else f"{sql}, {_q(id_col)}"


def records(
    con,
    source: str,
    period: str | None = None,
    district: str | None = None,
    domain_key: str | None = None,
    search: str | None = None,
    limit: int = 50,
    offset: int = 0,
    filter_sql: str | None = None,
    filter_params: dict | None = None,
    order_by: str | None = None,
    descending: bool = True,
    scope: RecordScope | None = None,
    period_column: str = "period",
) -> pd.DataFrame:
    """One page of records behind a score, Chinese column names, no personal data.

    Sorted in DuckDB over the whole filtered set (so page 2 continues page 1): by `order_by`, a
    column of RECORD_COLUMNS[source] (default: the record's time, newest first). `scope`: the
    rows the reader may see (kpi.read.scope; the app always passes one, None is the whole
    warehouse for the server's own tools). `period_column`: due_period for an indicator counted
    in the quarter its items fall due.
    """
    cols = RECORD_COLUMNS[source]
    where, params = _records_where(
        source, period, district, domain_key, search, filter_sql, filter_params, scope, period_column
    )
    select = ", ".join(f"{_q(c)} AS {_q(label)}" for c, label in cols.items())
    order = records_order(source, order_by, descending)
    sql = (
        f"SELECT {select} FROM {_q(source)} {where} ORDER BY {order} "
        f"LIMIT {params.add(int(limit))} OFFSET {params.add(int(offset))}"
    )
    return _df(con, sql, params.values)


def records_count(
    con,
    source: str,
    period: str | None = None,
    district: str | None = None,
    domain_key: str | None = None,
    search: str | None = None,
    filter_sql: str | None = None,
    filter_params: dict | None = None,
    scope: RecordScope | None = None,
    period_column: str = "period",
) -> int:
    """How many records `records` would page through (the same filters and scope)."""
    where, params = _records_where(
        source, period, district, domain_key, search, filter_sql, filter_params, scope, period_column
    )
    sql = f"SELECT count(*) FROM {_q(source)} {where}"
    return int(con.execute(sql, params.values).fetchone()[0])


# ── data status ──────────────────────────────────────────────────────────────────────────────


def loads(con, limit: int = 200) -> pd.DataFrame:
    """Recent loads (etl_runs), newest first."""
    return _df(
        con,
        """
        SELECT started_at, file_name, source, status, rows_read, rows_loaded, rows_quarantined,
               rows_skipped, rows_inserted, rows_updated, message
        FROM etl_runs ORDER BY started_at DESC NULLS LAST LIMIT ?""",
        [limit],
    )


def quarantine_summary(con) -> pd.DataFrame:
    """Quarantined rows grouped by source and reason (the rule, without the offending values)."""
    return _df(
        con,
        f"""
        SELECT source, {schema.QUARANTINE_RULE_SQL} AS reason, count(*) AS rows,
               count(DISTINCT file_name) AS files
        FROM quarantine GROUP BY ALL ORDER BY rows DESC, source, reason""",
    )


def quarantine_examples(con, per_reason: int = 3) -> pd.DataFrame:
    """A few example rows of every quarantine reason (raw already has personal data removed);
    each row's reason names its own offending value."""
    return _df(
        con,
        f"""
        SELECT source, reason, file_name, line_no, column_name, raw FROM (
            SELECT *, {schema.QUARANTINE_RULE_SQL} AS rule,
                   row_number() OVER (PARTITION BY source, {schema.QUARANTINE_RULE_SQL}
                                      ORDER BY file_name, line_no) AS k
            FROM quarantine) WHERE k <= ? ORDER BY source, rule, k""",
        [per_reason],
    )


def quarantine_loads(con) -> pd.DataFrame:
    """One row per load that left rows in quarantine (a file as it was loaded), newest first."""
    return _df(
        con,
        """
        SELECT q.load_id, any_value(q.file_name) AS file_name, any_value(q.source) AS source,
               any_value(r.started_at) AS started_at, count(*) AS rows
        FROM quarantine q LEFT JOIN etl_runs r USING (load_id)
        GROUP BY q.load_id ORDER BY started_at DESC NULLS LAST, file_name, q.load_id""",
    )


# The columns a quarantine list starts with; the export's own headers follow.
QUARANTINE_COLUMNS = ("文件", "行号", "问题列", "隔离原因")


def quarantine_rows(con, load_id: str) -> pd.DataFrame:
    """Every quarantined row of one load: 文件, 行号, 问题列, 隔离原因, then the row's original
    cells, one column per header of the export (`raw` is JSON keyed by those headers), in the
    order the export has them; a raw that is not a JSON object comes whole as 原始内容. A header
    that clashes with the first four columns gets （原始） appended."""
    rows = """
        WITH q AS (
            SELECT *, coalesce(CASE WHEN json_valid(raw) THEN json_type(raw) = 'OBJECT' END, false)
                      AS is_object
            FROM quarantine WHERE load_id = ?)"""
    key_lists = con.execute(
        rows + " SELECT json_keys(raw), min(line_no) AS first FROM q WHERE is_object"
        " GROUP BY 1 ORDER BY first",
        [load_id],
    ).fetchall()
    headers: list[str] = []
    for keys, _ in key_lists:  # usually one list: every row of a file has the same headers
        headers += [k for k in keys if k not in headers]
    loose = con.execute(rows + " SELECT count(*) FROM q WHERE NOT is_object", [load_id]).fetchone()
    # JSON pointers (/header, with ~ and / escaped), bound as values: a header is never SQL
    pointers = ["/" + h.replace("~", "~0").replace("/", "~1") for h in headers]
    cells = "".join(
        f", CASE WHEN is_object THEN json_extract_string(raw, ?) END AS c{i}"
        for i in range(len(headers))
    )
    frame = _df(
        con,
        rows
        + f"""
        SELECT file_name, line_no, column_name, reason{cells}
               {", CASE WHEN NOT is_object THEN raw END AS whole" if loose[0] else ""}
        FROM q ORDER BY line_no, column_name, reason""",
        [load_id, *pointers],
    )
    names = [h + "（原始）" if h in QUARANTINE_COLUMNS else h for h in headers]
    frame.columns = [*QUARANTINE_COLUMNS, *names, *(["原始内容"] if loose[0] else [])]
    return frame


def unmatched_items(con, limit: int = 500) -> pd.DataFrame:
    """The 事项 of 办件 and 评价 that matched no domain of the catalogue (kpi.matching), most
    records first: source, item_name, item_code, rows, share (of the source's records). Staff
    add them to items.csv (name, alias or code) or item_rules.csv and run bizenv build."""
    parts = [
        f"""SELECT '{s}' AS source, item_name, item_code, count(*) AS rows,
                   count(*) / (SELECT count(*) FROM {s}) AS share
            FROM {s} WHERE domain_key IS NULL GROUP BY ALL"""
        for s in ("approvals", "ratings")
        if has_table(con, s)
    ]
    if not parts:
        return pd.DataFrame(columns=["source", "item_name", "item_code", "rows", "share"])
    return _df(
        con,
        " UNION ALL ".join(parts) + " ORDER BY rows DESC, source, item_name NULLS LAST LIMIT ?",
        [limit],
    )


def rows_per_source(con) -> pd.DataFrame:
    """Record counts per source and quarter (long form)."""
    parts = [
        f"SELECT '{s}' AS source, {_q(col)} AS period, count(*) AS rows FROM {_q(s)} GROUP BY ALL"
        for s, col in SOURCE_PERIOD_COLUMN.items()
        if has_table(con, s)
    ]
    return _df(con, " UNION ALL ".join(parts) + " ORDER BY period, source")


def calendar_coverage(con) -> pd.DataFrame:
    """Per scored quarter: calendar days known / missing, and records counted weekdays-only."""
    unknown_parts = [
        f"SELECT period, count(*) AS n FROM {_q(s)} WHERE calendar_known = false GROUP BY period"
        for s in ("approvals", "hotline")
    ]
    return _df(
        con,
        f"""
        WITH p AS (SELECT period, period_start, period_end FROM periods),
        c AS (SELECT p.period,
                     count(cal.day) AS days_in_calendar,
                     count(cal.day) FILTER (WHERE cal.known) AS days_known,
                     (p.period_end - p.period_start + 1) AS days_total
              FROM p LEFT JOIN calendar cal ON cal.day BETWEEN p.period_start AND p.period_end
              GROUP BY p.period, p.period_start, p.period_end),
        u AS (SELECT period, sum(n) AS records_unknown FROM ({" UNION ALL ".join(unknown_parts)}) GROUP BY period)
        SELECT c.period, c.days_total, c.days_known, c.days_total - c.days_known AS days_unknown,
               coalesce(u.records_unknown, 0) AS records_unknown
        FROM c LEFT JOIN u USING (period) ORDER BY c.period""",
    )


# ── metrics.yaml (kpi.spec models; passed in by the caller, who caches the loaded spec) ───────


def find_indicator(spec, indicator_key: str):
    """The spec's Indicator with this key (and its Domain), or (None, None)."""
    if spec is None:
        return None, None
    for dom in spec.domains:
        for ind in dom.indicators:
            if ind.key == indicator_key:
                return ind, dom
    return None, None


def indicator_specs(spec, domain_key: str, keys: list[str] | None = None) -> pd.DataFrame:
    """Definitions of a domain's indicators from metrics.yaml, one row each (Chinese headers).

    keys: only these indicator keys (those the snapshot was scored with), when given.
    """
    rows = []
    dom = next((d for d in (spec.domains if spec else ()) if d.key == domain_key), None)
    for ind in dom.indicators if dom else ():
        if keys is not None and ind.key not in keys:
            continue
        rows.append(
            {
                "编号": ind.id,
                "指标": ind.label_zh,
                "说明": ind.description,
                "单位": ind.unit,
                "方向": {"higher_is_better": "越高越好", "lower_is_better": "越低越好"}.get(
                    ind.direction, ind.direction
                ),
                "数据来源": schema.SOURCE_LABELS.get(ind.source, ind.source),
                "计算方法": describe.indicator_sentence(ind, spec),
                "适用范围": "全市（不分区县）" if ind.applies_to == "city" else "各区县",
                "更新周期": "年度（只做同比）" if ind.update_cycle == "annual" else "季度",
                "最优值": ind.dtf.best,
                "最差值": ind.dtf.worst,
                "上下界依据": ind.dtf.basis or "",
                "预警值": ind.warn,
                "先进值": ind.advanced,
                "权重": spec.indicator_weight(dom, ind),
                "权重依据": spec.weight_basis(dom, ind),
                "最小样本": spec.min_sample(ind),
            }
        )
    return pd.DataFrame(rows)


def _counted_condition(agg) -> str | None:
    """The condition that makes a record count in an aggregate (its expression for count_if)."""
    if agg is None:
        return None
    return agg.expr if agg.agg == "count_if" else f"({agg.expr}) IS NOT NULL"


def indicator_filter(spec, indicator_key: str, prefix: str = "ind") -> tuple[str, dict, str] | None:
    """The records behind an indicator's value, from metrics.yaml: its filters AND the condition
    that puts a record in the denominator (ratio) or the measure; compiled by kpi.engine.compile to
    (sql, named params), plus a Chinese description (kpi.spec.describe). `prefix` names the
    parameters, so that several indicators' filters can share one statement."""
    ind, _ = find_indicator(spec, indicator_key)
    if ind is None or ind.source not in RECORD_COLUMNS:
        return None
    from kpi.engine.compile import compile_expr, compile_filters  # late: only when a spec is in use

    params = Params(prefix)
    sql = compile_filters(ind.filters, ind.source, params, dict(spec.settings))
    text = "范围：" + describe.filters_text(ind.filters, ind.source, spec)
    if ind.period_by == "due":
        text = (
            "按办结期限所在季度（应办结）列出；"
            if ind.source in ("approvals", "hotline")
            else "按评价时间所在季度列出（指标按整改期限所在季度统计）；"
        ) + text
    base = ind.ratio.denominator if ind.ratio else ind.measure
    cond = _counted_condition(base)
    if cond:
        csql, _ = compile_expr(cond, ind.source, dict(spec.settings), params)
        sql = f"({sql}) AND ({csql})"
    counted = describe.counted_text(ind, spec)
    if counted:  # "the key is filled in" says nothing and is left out
        text += f"；计入{'分母' if ind.ratio else '计算'}：{counted}的{describe.RECORD_NOUN[ind.source]}"
    return sql, params.values, text


def owner_filters(spec, department: str, source: str) -> tuple[tuple[str, tuple], ...]:
    """The filters of every `source` indicator the department owns (metrics.yaml `owner`, else
    the domain's 牵头部门), each with parameters of its own: a 部门 reader's records are the rows
    behind at least one of them (kpi.read.scope.RecordScope.any_of)."""
    out = []
    for i, (ind, _) in enumerate(owned_indicators(spec, department)):
        if ind.source != source:
            continue
        compiled = indicator_filter(spec, ind.key, prefix=f"own{i}")
        if compiled:
            sql, values, _ = compiled
            out.append((sql, tuple(values.items())))
    return tuple(out)


def indicator_period_column(spec, indicator_key: str) -> str:
    """The column that puts an indicator's records in its quarters: due_period for 办件 and 工单
    counted when they fall due, else period."""
    ind, _ = find_indicator(spec, indicator_key)
    if ind is not None and ind.period_by == "due" and ind.source in ("approvals", "hotline"):
        return "due_period"
    return "period"


# ── data quality, units (issue 13) ───────────────────────────────────────────────────────────


def data_quality(con, period: str) -> pd.DataFrame:
    """data_quality rows of a period: each district, then the city."""
    if not has_table(con, "data_quality"):
        return pd.DataFrame()
    return _df(
        con,
        """
        SELECT q.* FROM data_quality q LEFT JOIN districts d USING (district_code)
        WHERE q.period = ? ORDER BY q.is_city, coalesce(d.sort_order, 999), q.district_code""",
        [period],
    )


def data_quality_table(dq: pd.DataFrame) -> pd.DataFrame:
    """The data-quality table as the 数据 page and the workbook show it (Chinese headers, numbers
    as numbers): 填报及时率, share of indicators with data, records quarantined."""
    if dq.empty:
        return pd.DataFrame()
    return pd.DataFrame(
        {
            "区县": [
                "全市" if c else n for c, n in zip(dq["is_city"], dq["district_name"], strict=True)
            ],
            "应报": pd.array(dq["reports_due"], dtype="Int64"),
            "已报": pd.array(dq["reports_filed"], dtype="Int64"),
            "按时报送": pd.array(dq["reports_on_time"], dtype="Int64"),
            "填报及时率（%）": dq["filing_timely_rate"].to_numpy(),
            "适用指标": pd.array(dq["indicators_applicable"], dtype="Int64"),
            "有数据的指标": pd.array(dq["indicators_with_data"], dtype="Int64"),
            "有数据指标占比（%）": dq["data_share"].to_numpy(),
            "导入记录": pd.array(dq["records_loaded"], dtype="Int64"),
            "隔离记录": pd.array(dq["records_quarantined"], dtype="Int64"),
            "隔离占比（%）": dq["quarantine_share"].to_numpy(),
        }
    )


def unit_scorecards(con, period: str, district: str | None = None) -> pd.DataFrame:
    """Units (承办单位 / 办理部门 / 评价部门) of a period — of one district, or all — with their
    score, rank and each indicator's value, n and score (long form)."""
    if not has_table(con, "unit_overall"):
        return pd.DataFrame()
    where, params = "o.period = ?", [period]
    if district:
        where += " AND o.district_code = ?"
        params.append(district)
    return _df(
        con,
        f"""
        SELECT o.district_code, o.district_name, o.unit_name, o.score AS unit_score, o.rank AS unit_rank,
               o.n_indicators, o.n_scored, o.n_records, o.coverage_note,
               s.indicator_key, s.indicator_id, s.label_zh, s.unit, s.source, s.value, s.n, s.scored,
               s.score, s.rank, s.suppressed_reason,
               (SELECT count(*) FROM unit_overall u WHERE u.period = o.period AND u.score IS NOT NULL) AS n_ranked
        FROM unit_overall o JOIN unit_scores s
          ON s.period = o.period AND s.district_code = o.district_code AND s.unit_name = o.unit_name
        WHERE {where}
        ORDER BY o.rank NULLS LAST, o.district_code, o.unit_name, s.indicator_id""",
        params,
    )


def unit_table(units: pd.DataFrame) -> pd.DataFrame:
    """One row per unit: 排名, 单位, 区县, 综合得分, then each indicator's value (— below min_sample
    shown as the value with its n) — for the page section and the workbook sheet."""
    if units.empty:
        return pd.DataFrame()
    base = units.drop_duplicates(["district_code", "unit_name"])[
        [
            "district_code",
            "district_name",
            "unit_name",
            "unit_score",
            "unit_rank",
            "n_scored",
            "coverage_note",
        ]
    ]
    labels = units.drop_duplicates("indicator_key").sort_values("indicator_id")
    out = pd.DataFrame(
        {
            "排名": pd.array(base["unit_rank"], dtype="Int64"),
            "单位": base["unit_name"].to_numpy(),
            "区县": base["district_name"].fillna(base["district_code"]).to_numpy(),
            "综合得分": base["unit_score"].to_numpy(),
            "评分指标数": pd.array(base["n_scored"], dtype="Int64"),
        }
    )
    for key, label, unit in zip(
        labels["indicator_key"], labels["label_zh"], labels["unit"], strict=True
    ):
        mine = units[units["indicator_key"] == key].set_index(["district_code", "unit_name"])
        idx = list(zip(base["district_code"], base["unit_name"], strict=True))
        head = f"{label}（{unit}）" if isinstance(unit, str) and unit else label
        out[head] = [
            mine.at[i, "value"] if i in mine.index and bool(mine.at[i, "scored"]) else None
            for i in idx
        ]
        out[f"{label} 样本量"] = pd.array(
            [
                int(mine.at[i, "n"]) if i in mine.index and pd.notna(mine.at[i, "n"]) else None
                for i in idx
            ],
            dtype="Int64",
        )
    out["说明"] = [c if isinstance(c, str) else "" for c in base["coverage_note"]]
    return out
