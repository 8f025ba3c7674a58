"""Read API for the pages: small queries on a snapshot's marts, each returning a small DataFrame.

Every function takes a DuckDB connection (or cursor) on a snapshot plus the period / district /
domain it is about; the work (filters, joins, windows) happens in DuckDB and only the rows a page
shows come back. Nothing here recomputes what the marts already hold (scores, ranks, QoQ, RAG).
`ui.data` caches the results keyed by the snapshot path and the arguments.
"""

from __future__ import annotations

import pandas as pd

from kpi import schema

# Columns a user may see from each canonical source, in display order. Personal data (caller
# numbers, their hashes, applicant names) is never selected.
RECORD_COLUMNS: dict[str, dict[str, str]] = {
    "approvals": {
        "case_id": "办件编号",
        "item_code": "事项编码",
        "item_name": "事项名称",
        "department": "办理部门",
        "applicant_type": "申请人类型",
        "channel": "办理渠道",
        "accepted_at": "受理时间",
        "completed_at": "办结时间",
        "status": "办件状态",
        "promised_limit_days": "承诺时限（工作日）",
        "workdays_used": "办理用时（工作日）",
        "on_time": "按时办结",
        "visits": "跑动次数",
        "source_file": "来源文件",
        "source_line": "行号",
    },
    "hotline": {
        "ticket_id": "工单编号",
        "received_at": "来电时间",
        "channel": "渠道",
        "caller_type": "来电人类型",
        "category": "诉求类型",
        "topic": "诉求分类",
        "handling_unit": "承办单位",
        "closed_at": "办结时间",
        "workdays_used": "办理用时（工作日）",
        "on_time": "按时办结",
        "resolved": "是否解决",
        "satisfaction": "满意度",
        "is_repeat": "重复诉求",
        "content": "诉求内容（已脱敏）",
        "source_file": "来源文件",
        "source_line": "行号",
    },
    "ratings": {
        "rating_id": "评价编号",
        "rated_at": "评价时间",
        "channel": "评价渠道",
        "department": "评价部门",
        "item_code": "事项编码",
        "level_label": "评价等级",
        "is_bad": "差评",
        "rectified": "是否整改",
        "rectified_at": "整改时间",
        "source_file": "来源文件",
        "source_line": "行号",
    },
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
    return '"' + identifier.replace('"', '""') + '"'


def _df(con, sql: str, params: list | tuple = ()) -> pd.DataFrame:
    return con.execute(sql, list(params)).df()


def has_table(con, name: str) -> bool:
    row = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]
    ).fetchone()
    return bool(row and row[0])


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
    """Domains present in the marts, in domain_id order (D01 … D18)."""
    return _df(
        con,
        """
        SELECT domain_key, any_value(domain_id) AS domain_id, any_value(label_zh) AS label_zh
        FROM domain_scores GROUP BY domain_key ORDER BY domain_id""",
    )


# ── overview ─────────────────────────────────────────────────────────────────────────────────


def overall(con, period: str) -> pd.DataFrame:
    """Overall index rows of a period: the city row first, then districts by rank."""
    return _df(
        con,
        """
        SELECT district_code, district_name, is_city, is_partial, score, rank, rank_change,
               score_prev, score_qoq, score_yoy, trend_qoq, n_red, n_domains_scored, rag
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


# ── domains page ─────────────────────────────────────────────────────────────────────────────


def domain_ranking(con, period: str, domain_key: str) -> pd.DataFrame:
    """Districts ranked on one domain (city row first)."""
    return _df(
        con,
        """
        SELECT district_code, district_name, is_city, score, rank, rank_change, score_qoq,
               trend_qoq, rag, n_scored, n_indicators, n_red, suppressed_reason
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
    """A district's domain scores beside the city's and the best district's, per domain."""
    return _df(
        con,
        """
        WITH d AS (SELECT * FROM domain_scores WHERE period = ?)
        SELECT x.domain_key, x.domain_id, x.label_zh, x.score, x.rank, x.rag, x.score_qoq,
               c.score AS city_score,
               b.score AS best_score, b.district_name AS best_district
        FROM d x
        LEFT JOIN d c ON c.domain_key = x.domain_key AND c.is_city
        LEFT JOIN (SELECT domain_key, arg_max(district_name, score) AS district_name, max(score) AS score
                   FROM d WHERE NOT is_city AND score IS NOT NULL GROUP BY domain_key) b
               ON b.domain_key = x.domain_key
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
    """对标提升清单: the district's scored indicators short of 先进值 with the best district's value.

    gap = how far the value must move to equal the best district; to_advanced = how far to 先进值;
    both in the indicator's unit and positive when the district must still improve.
    """
    return _df(
        con,
        """
        WITH i AS (SELECT * FROM indicator_scores WHERE period = ?),
        best AS (SELECT indicator_key, arg_max(district_name, score) AS best_district,
                        arg_max(value, score) AS best_value
                 FROM i WHERE NOT is_city AND scored GROUP BY indicator_key)
        SELECT x.domain_key, x.domain_id, x.indicator_id, x.indicator_key, x.label_zh, x.unit,
               x.direction, x.value, x.score, x.rank, x.rag, b.best_district, b.best_value,
               CASE WHEN x.direction = 'lower_is_better' THEN x.value - b.best_value
                    ELSE b.best_value - x.value END AS gap,
               x.advanced,
               greatest(0, CASE WHEN x.direction = 'lower_is_better' THEN x.value - x.advanced
                                ELSE x.advanced - x.value END) AS to_advanced
        FROM i x JOIN best b USING (indicator_key)
        WHERE x.district_code = ? AND x.scored AND coalesce(x.rag, '') <> 'green'
        ORDER BY x.score, x.indicator_id""",
        [period, district],
    )


# ── trends ───────────────────────────────────────────────────────────────────────────────────


def series(
    con, level: str, key: str | None, district_codes: list[str], include_city: bool = True
) -> pd.DataFrame:
    """Per-quarter value of the overall index, one domain or one indicator for several districts.

    level: overall | domain | indicator. Returns period, is_partial, district_code, district_name,
    is_city, value, and yoy (value − the same quarter a year before, joined in DuckDB).
    """
    table, value_col, key_col = {
        "overall": ("overall_scores", "score", None),
        "domain": ("domain_scores", "score", "domain_key"),
        "indicator": ("indicator_scores", "value", "indicator_key"),
    }[level]
    where, params = [], []
    if key_col:
        where.append(f"{_q(key_col)} = ?")
        params.append(key)
    who = ["district_code IN (SELECT unnest(?::VARCHAR[]))"]
    params.append(list(district_codes))
    if include_city:
        who.append("is_city")
    where.append("(" + " OR ".join(who) + ")")
    return _df(
        con,
        f"""
        WITH s AS (
            SELECT period, is_partial, district_code, district_name, is_city, {_q(value_col)} AS value,
                   CAST(left(period, 4) AS INTEGER) * 4 + CAST(right(period, 1) AS INTEGER) AS idx
            FROM {_q(table)} WHERE {" AND ".join(where)})
        SELECT s.period, s.is_partial, s.district_code, s.district_name, s.is_city, s.value,
               s.value - y.value AS yoy
        FROM s LEFT JOIN s y ON y.district_code = s.district_code AND y.idx = s.idx - 4
        ORDER BY s.is_city DESC, s.district_code, s.period""",
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
    filter_params: tuple = (),
) -> tuple[str, list]:
    where, params = [], []
    if filter_sql:  # an indicator's compiled filters (kpi.engine.compile), values already bound
        where.append(f"({filter_sql})")
        params.extend(filter_params)
    if period:
        where.append("period = ?")
        params.append(period)
    if district:
        where.append("district_code = ?")
        params.append(district)
    if domain_key:
        where.append("domain_key = ?")
        params.append(domain_key)
    if search:
        text = " || ' ' || ".join(
            f"coalesce(CAST({_q(c)} AS VARCHAR), '')" for c in SEARCH_COLUMNS[source]
        )
        where.append(f"({text}) ILIKE ?")
        params.append(f"%{search}%")
    return ("WHERE " + " AND ".join(where)) if where else "", params


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
    filter_params: tuple = (),
) -> pd.DataFrame:
    """One page of records behind a score, Chinese column names, no personal data."""
    cols = RECORD_COLUMNS[source]
    where, params = _records_where(
        source, period, district, domain_key, search, filter_sql, filter_params
    )
    select = ", ".join(f"{_q(c)} AS {_q(label)}" for c, label in cols.items())
    order = {
        "approvals": "completed_at DESC NULLS LAST, case_id",
        "hotline": "received_at DESC, ticket_id",
        "ratings": "rated_at DESC, rating_id",
    }[source]
    return _df(
        con,
        f"SELECT {select} FROM {_q(source)} {where} ORDER BY {order} LIMIT ? OFFSET ?",
        [*params, int(limit), int(offset)],
    )


def records_count(
    con,
    source: str,
    period: str | None = None,
    district: str | None = None,
    domain_key: str | None = None,
    search: str | None = None,
    filter_sql: str | None = None,
    filter_params: tuple = (),
) -> int:
    where, params = _records_where(
        source, period, district, domain_key, search, filter_sql, filter_params
    )
    return int(con.execute(f"SELECT count(*) FROM {_q(source)} {where}", params).fetchone()[0])


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

AGG_LABELS = {
    "avg": "平均值",
    "sum": "求和",
    "count": "计数",
    "count_if": "满足条件的计数",
    "min": "最小值",
    "max": "最大值",
}
OP_LABELS = {
    "=": "=",
    "!=": "≠",
    "in": "属于",
    "not_in": "不属于",
    ">": ">",
    ">=": "≥",
    "<": "<",
    "<=": "≤",
    "is_null": "为空",
    "not_null": "不为空",
}


def find_indicator(spec, indicator_key: str):
    """The spec's Indicator with this key (and its Domain), or (None, None)."""
    if spec is None:
        return None, None
    for dom in spec.domains:
        for ind in dom.indicators:
            if ind.key == indicator_key:
                return ind, dom
    return None, None


FILTER_COLUMN_LABELS = {
    "is_enterprise": "涉企",
    "domain_key": "领域",
    "district_code": "区县",
    "level": "评价等级（1–5）",
    "calendar_known": "日历已知",
}


def _column_label(column: str) -> str:
    if column in FILTER_COLUMN_LABELS:
        return FILTER_COLUMN_LABELS[column]
    for cols in RECORD_COLUMNS.values():
        if column in cols:
            return cols[column]
    return column


def _value_text(v) -> str:
    if isinstance(v, bool):
        return "是" if v else "否"
    return str(v)


def _filters_text(filters) -> str:
    parts = []
    for f in filters:
        col = _column_label(f.column)
        if f.op in ("is_null", "not_null"):
            parts.append(f"{col} {OP_LABELS[f.op]}")
        else:
            v = (
                "、".join(map(_value_text, f.value))
                if isinstance(f.value, tuple)
                else _value_text(f.value)
            )
            parts.append(f"{col} {OP_LABELS.get(f.op, f.op)} {v}")
    return "；".join(parts) if parts else "（无）"


def _agg_text(a) -> str:
    return f"{AGG_LABELS.get(a.agg, a.agg)}（{a.expr}）" if a is not None else ""


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
                "分子 / 计算": _agg_text(ind.ratio.numerator)
                if ind.ratio
                else _agg_text(ind.measure),
                "分母": _agg_text(ind.ratio.denominator) if ind.ratio else "",
                "筛选条件": _filters_text(ind.filters),
                "最优值": ind.dtf.best,
                "最差值": ind.dtf.worst,
                "预警值": ind.warn,
                "先进值": ind.advanced,
                "权重": ind.weight,
                "最小样本": ind.min_sample,
            }
        )
    return pd.DataFrame(rows)


def _counted_condition(agg) -> str | None:
    """The condition that makes a record count in an aggregate (its expression for count_if)."""
    if agg is None:
        return None
    return agg.expr if agg.agg == "count_if" else f"({agg.expr}) IS NOT NULL"


def indicator_filter(spec, indicator_key: str) -> tuple[str, tuple, str] | None:
    """The records behind an indicator's value, from metrics.yaml: its filters AND the condition
    that puts a record in the denominator (ratio) or the measure; compiled by kpi.engine.compile to
    (sql, params), plus a Chinese description."""
    ind, _ = find_indicator(spec, indicator_key)
    if ind is None or ind.source not in RECORD_COLUMNS:
        return None
    from kpi.engine.compile import compile_expr, compile_filters  # late: only when a spec is in use

    sql, params = compile_filters(ind.filters, ind.source)
    text = _filters_text(ind.filters)
    base = ind.ratio.denominator if ind.ratio else ind.measure
    cond = _counted_condition(base)
    if cond:
        csql, cparams, _ = compile_expr(cond, ind.source, dict(spec.settings))
        sql, params = f"({sql}) AND ({csql})", [*params, *cparams]
        if base.expr not in ("case_id", "ticket_id", "rating_id"):  # "key IS NOT NULL" says nothing
            text += f"；计入{'分母' if ind.ratio else '计算'}：{cond}"
    return sql, tuple(params), text
