"""The scoring engine: canonical tables + MetricsSpec → the score marts, all in DuckDB SQL.

Steps (temp tables, so every stage can be inspected in a debugger with one SELECT):
  partials  the scans of the transaction tables, long form: (k, period, district, num, den, n) per
            district and the city-wide row (the roll-up of the same parts: the value over all
            records, never a mean of district values), and the latest event time; kept in the
            warehouse per quarter and rescanned where rows changed (kpi.engine.partials)
  _meta     one row per indicator of the spec (bound parameters, never SQL text)
  _raw      the partials' values with the reports' rows, quarters only
  _ind1     the full grid periods × units × indicators: value, n, score, rank (narrow rows)
  _dom1     domain scores (weighted, renormalised over scorable indicators)
  _all1     the overall index (weighted mean of the domain scores that exist)
  each mart is then inserted from its step with the changes (QoQ/YoY), trends, RAG and labels.

Rules (docs/metrics.md has the user-facing version):
  - DTF score = (worst − value)/(worst − best)·100 clamped to [0, 100]; only when n ≥ min_sample.
  - ranks over districts (never the city row) of the rounded score, tie rule from defaults.
  - QoQ / YoY / rank change are NULL when one side is a partial quarter and the other is not.
  - trend: the change times the direction's sign, |change| ≤ neutral band → unchanged.
  - RAG: indicators by warn/advanced, domains and overall by defaults.score_bands.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from kpi import catalog as kpi_catalog
from kpi import periods, schema
from kpi.engine import partials
from kpi.engine.compile import TRANSACTION_SOURCES, PlanKind, compile_spec, required_columns
from kpi.spec.models import MetricsSpec
from kpi.sql import literal as sql_literal

RANK_FUNCTIONS = {"min": "rank()", "dense": "dense_rank()", "ordinal": "row_number()"}
EPS = 1e-9  # float slack for band and weight comparisons (0.3 + 0.2 + 0.5 ≠ 1.0 exactly)

# The columns of _meta, in _meta_rows' order, with their types.
_META = (
    ("k", "INTEGER"),
    ("domain_id", "VARCHAR"),
    ("domain_key", "VARCHAR"),
    ("domain_label", "VARCHAR"),
    ("domain_weight", "DOUBLE"),
    ("domain_order", "INTEGER"),
    ("indicator_id", "VARCHAR"),
    ("indicator_key", "VARCHAR"),
    ("label_zh", "VARCHAR"),
    ("unit", "VARCHAR"),
    ("direction", "VARCHAR"),
    ("sign", "INTEGER"),
    ("source", "VARCHAR"),
    ("weight", "DOUBLE"),
    ("dtf_best", "DOUBLE"),
    ("dtf_worst", "DOUBLE"),
    ("warn", "DOUBLE"),
    ("advanced", "DOUBLE"),
    ("min_sample", "INTEGER"),
    ("band", "DOUBLE"),
    ("kind", "VARCHAR"),
    ("scale", "DOUBLE"),
    ("applies_to", "VARCHAR"),  # district | city
    ("update_cycle", "VARCHAR"),  # quarterly | annual
    ("plan", "VARCHAR"),  # the scan its parts come from (partials.source); 'reports'
    ("reported", "BOOLEAN"),  # reports filed as 分子 and 分母
    ("requires_text", "VARCHAR"),  # the columns it needs, in Chinese (for 导出中没有所需的列)
    ("cov_label", "VARCHAR"),  # coverage floor: what the share is called (回访率)
    ("cov_min", "DOUBLE"),  # … and its minimum, percent
    ("noun", "VARCHAR"),  # what its records are called (办件, 工单, 评价, 填报)
    ("source_label", "VARCHAR"),
)
_META_COLUMNS = tuple(c for c, _ in _META)
_META_TYPES = tuple(t for _, t in _META)
_NOUN = {"approvals": "办件", "hotline": "工单", "ratings": "评价", "reports": "填报"}


def _meta_rows(spec: MetricsSpec, kinds: dict[int, str]) -> list[tuple]:
    rows = []
    d_order = {d.id: n for n, d in enumerate(spec.domains)}
    settings = dict(spec.settings)
    for k, (dom, ind) in enumerate(spec.indicators()):
        plan = "reports"
        requires = ""
        if ind.source in TRANSACTION_SOURCES:
            plan = PlanKind.of(ind, settings).name
            labels = schema.COLUMN_LABELS.get(ind.source, {})
            requires = "、".join(labels.get(c, c) for c in required_columns(ind))
        rows.append(
            (
                k,
                dom.id,
                dom.key,
                dom.label_zh,
                spec.domain_weight(dom),
                d_order[dom.id],
                ind.id,
                ind.key,
                ind.label_zh,
                ind.unit,
                ind.direction,
                1 if ind.higher_is_better else -1,
                ind.source,
                spec.indicator_weight(dom, ind),
                ind.dtf.best,
                ind.dtf.worst,
                ind.warn,
                ind.advanced,
                spec.min_sample(ind),
                spec.neutral_band(ind),
                kinds.get(k, "plain"),
                ind.scale if (ind.ratio is not None or ind.reported is not None) else 1.0,
                ind.applies_to,
                ind.update_cycle,
                plan,
                ind.reported is not None,
                requires,
                ind.coverage.label if ind.coverage else None,
                spec.setting_number(ind.coverage.min) if ind.coverage else None,
                _NOUN.get(ind.source, "记录"),
                schema.SOURCE_LABELS.get(ind.source, ind.source),
            )
        )
    return rows


def city_of(con) -> tuple[str, str]:
    """The city's code and name: the level=city row of the catalogue the records were loaded with
    (_districts). Never metrics.yaml: the same spec serves any city (its `city` entry is ignored)."""
    row = con.execute(
        "SELECT district_code, district_name FROM _districts WHERE level = 'city' LIMIT 1"
    ).fetchone()
    return (row[0], row[1]) if row else ("000000", "全市")


def _load_districts(con, catalog: Path | None) -> None:
    """_districts: the warehouse's districts table, or the catalogue CSV when the ETL has not run."""
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _districts AS SELECT district_code, district_name, level, sort_order FROM districts"
    )
    if con.execute("SELECT count(*) FROM _districts").fetchone()[0]:
        return
    if not kpi_catalog.path("districts.csv", catalog).exists():
        return
    rows = kpi_catalog.districts(catalog)
    con.execute(
        "INSERT INTO _districts SELECT unnest($code), unnest($name), unnest($level), unnest($order)",
        {
            "code": [r["district_code"] for r in rows],
            "name": [r["district_name"] for r in rows],
            "level": [r["level"] for r in rows],
            "order": [r["sort_order"] for r in rows],
        },
    )


def run_scans(con, sql: str, params: dict) -> None:
    """Execute a statement over the scans (kpi.engine.partials.refresh's) with the settings they want.

    The stage-1 keys are many short strings: DuckDB's compressed materialization packs each into
    an integer before the hash aggregate and unpacks it after, which costs more here (~10 % of
    the scans) than it saves. Only for this statement; the previous value is put back."""
    old = con.execute("SELECT current_setting('disabled_optimizers')").fetchone()[0]
    con.execute(
        "SET disabled_optimizers = "
        + sql_literal(",".join(filter(None, [old, "compressed_materialization"])))
    )
    try:
        con.execute(sql, params)
    finally:
        con.execute("SET disabled_optimizers = " + sql_literal(old))


def _raw(con, plans: dict, city: str, full: bool) -> dict[str, str]:
    """Bring the scans' parts up to date (kpi.engine.partials) and build _raw (long values with the
    reports) and _src (every record of a scan per cell). Returns what kpi.engine.partials.refresh
    did per scan."""
    done = partials.refresh(con, plans, city, full=full, run=run_scans)
    # Reports: the value as filed, or 分子 ÷ 分母 when the indicator is filed in parts (n = 分母).
    # The city row is the city's own filing when there is one, otherwise Σ 分子 ÷ Σ 分母 of the
    # districts' filings when every one of them gave both — never a mean of district rates.
    reports = """
        WITH rep AS (
            SELECT m.k, r.report_period AS period, r.district_code, r.value, r.numerator,
                   r.denominator, coalesce(r.reported_at, e.started_at) AS filed_at,
                   m.reported AND r.numerator IS NOT NULL AND r.denominator IS NOT NULL AS parts
            FROM reports r JOIN _meta m ON m.indicator_key = r.indicator_key AND m.source = 'reports'
            LEFT JOIN etl_runs e ON e.load_id = r.first_load_id),
        own AS (SELECT * FROM rep WHERE district_code = $city),
        dist AS (SELECT k, period, sum(numerator) AS num, sum(denominator) AS den,
                        bool_and(parts) AS parts FROM rep WHERE district_code <> $city GROUP BY ALL)
        SELECT k, period, district_code,
               CASE WHEN parts THEN numerator ELSE value END AS num,
               CASE WHEN parts THEN denominator END AS den,
               CASE WHEN parts THEN round(denominator)::BIGINT ELSE 1 END AS n,
               NULL::BIGINT AS scope_n, NULL::BIGINT AS missing_n, NULL::DOUBLE AS base,
               TRUE AS filed, filed_at
        FROM rep WHERE district_code <> $city
        UNION ALL
        SELECT coalesce(o.k, d.k), coalesce(o.period, d.period), $city,
               CASE WHEN o.k IS NOT NULL THEN (CASE WHEN o.parts THEN o.numerator ELSE o.value END)
                    WHEN d.parts THEN d.num END,
               CASE WHEN o.k IS NOT NULL THEN (CASE WHEN o.parts THEN o.denominator END)
                    WHEN d.parts THEN d.den END,
               CASE WHEN o.k IS NOT NULL THEN (CASE WHEN o.parts THEN round(o.denominator)::BIGINT ELSE 1 END)
                    WHEN d.parts THEN round(d.den)::BIGINT ELSE 0 END,
               NULL, NULL, NULL, o.k IS NOT NULL, o.filed_at
        FROM own o FULL JOIN dist d ON d.k = o.k AND d.period = o.period"""
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _raw AS SELECT * FROM ("
        "SELECT k, period, district_code, num, den, n, scope_n, missing_n, base, "
        "NULL::BOOLEAN AS filed, NULL::TIMESTAMP AS filed_at FROM partials "
        f"WHERE k >= 0 AND unit IS NULL UNION ALL SELECT * FROM ({reports})) "
        "WHERE regexp_full_match(period, '\\d{4}Q[1-4]')",
        {"city": city},
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _src AS SELECT source AS plan, period, district_code, n AS rows "
        "FROM partials WHERE k = -1 AND unit IS NULL"
    )
    return done


# An indicator's RAG from its value (columns of _ind1); used by the mart and the domains' counts.
# A report due and not filed is red (its score is the unfiled score, 0 by default).
IND_RAG = (
    f"CASE WHEN state_ = 'not_filed' THEN 'red' "
    f"WHEN NOT scored_ OR warn IS NULL OR advanced IS NULL THEN NULL "
    f"WHEN (value_ - warn) * sign < -{EPS} THEN 'red' "
    f"WHEN (value_ - advanced) * sign >= -{EPS} THEN 'green' ELSE 'amber' END"
)

# The states of an indicator cell (indicator_scores.data_state) and the reason each one shows.
STATE_REASON = """
    CASE state_
      WHEN 'ok' THEN NULL
      WHEN 'small' THEN CASE WHEN source = 'reports' AND den = 0 THEN '样本量不足（分母为 0）'
                             ELSE '样本量不足（' || n || '，至少 ' || min_sample || '）' END
      WHEN 'low_coverage' THEN cov_label || ' ' || printf('%.1f', cov_share) || '%，低于 '
                               || printf('%g', cov_min) || '%，不评分'
      WHEN 'not_applicable' THEN CASE WHEN applies_to = 'city' AND NOT is_city
                                      THEN '不适用：市级指标，不分区县'
                                      ELSE '不适用：本季度没有此类' || noun END
      WHEN 'no_column' THEN '导出中没有所需的列：' || requires_text
      WHEN 'not_filed' THEN '应报未报（报送期限 ' || strftime(deadline, '%Y-%m-%d') || '）'
      WHEN 'not_due' THEN '未到报送期限（' || strftime(deadline, '%Y-%m-%d') || '）'
      ELSE CASE WHEN source = 'reports' THEN
                     CASE WHEN is_city AND reported THEN '无数据（全市未填报，各区县的分子分母不全）'
                          ELSE '无数据（本季度未导入填报）' END
                WHEN coalesce(src_rows, 0) > 0 THEN '无数据（范围内的' || noun || '都无法计算）'
                ELSE '无数据（本季度未导入' || source_label || '）' END
    END"""


def _trend(delta: str, band: str) -> str:
    """SQL: 'improved' | 'worsened' | 'unchanged' for a direction-adjusted change and a band."""
    return (
        f"CASE WHEN {delta} IS NULL THEN NULL WHEN {delta} > {band} + {EPS} THEN 'improved' "
        f"WHEN {delta} < -({band}) - {EPS} THEN 'worsened' ELSE 'unchanged' END"
    )


def _rank(spec: MetricsSpec, partition: str, rankable: str) -> str:
    """SQL for the rank of a row among the rankable rows of its partition (NULL otherwise)."""
    fn = RANK_FUNCTIONS[spec.defaults.rank_tie_rule]
    prec = int(spec.defaults.rank_precision)
    # ordinal: ties broken by the catalogue order, then the code — stable and documented.
    # min/dense must not see a tie-breaker, or no two districts would ever share a rank.
    tie_break = ", sort_order, district_code" if spec.defaults.rank_tie_rule == "ordinal" else ""
    return (
        f"CASE WHEN {rankable} THEN {fn} OVER (PARTITION BY {partition}, ({rankable}) "
        f"ORDER BY round(score, {prec}) DESC{tie_break}) END"
    )


def _changes(table: str, key: str) -> str:
    """SQL selecting `table` with prev-quarter and same-quarter-last-year columns joined.

    `key` is the entity column list (trusted constants). Comparable only when both quarters have
    the same partial state, so an in-progress quarter is never compared with a full one.
    """
    on = " AND ".join(f"p.{c} = c.{c}" for c in key.split(", "))
    on_y = " AND ".join(f"y.{c} = c.{c}" for c in key.split(", "))
    return f"""
        SELECT c.*, p.score AS score_prev, p.rank AS rank_prev, p.value_ AS value_prev_, p.scored_ AS scored_prev,
               y.value_ AS value_ly, y.score AS score_ly, y.scored_ AS scored_ly,
               (p.pidx IS NOT NULL AND p.is_partial = c.is_partial) AS cmp_q,
               (y.pidx IS NOT NULL AND y.is_partial = c.is_partial) AS cmp_y
        FROM {table} c
        LEFT JOIN {table} p ON {on} AND p.pidx = c.pidx - 1
        LEFT JOIN {table} y ON {on_y} AND y.pidx = c.pidx - 4"""


def compute_marts(
    con,
    spec: MetricsSpec,
    *,
    now: dt.datetime | None = None,
    catalog: Path | None = None,
    full: bool = False,
) -> dict:
    """Recreate the marts (periods, indicator_scores, domain_scores, overall_scores, data_quality,
    unit_scores, unit_overall) in `con`.

    `full`: rescan every quarter of the transaction tables (see kpi.engine.partials).
    Returns facts for snapshot_meta: city_code, city_name, current_period, data_as_of, and
    `scans` (scan → what kpi.engine.partials.refresh did).
    """
    schema.create_canonical(con)
    _load_districts(con, catalog)
    city_code, city_name = city_of(con)
    now = now or periods.now_local()
    current = periods.current_period(now)
    d = spec.defaults

    # _meta first (reports join it), then the scans.
    plans = compile_spec(spec)
    kinds = {k: agg.kind for plan in plans.values() for k, agg in plan.parts}
    columns = ", ".join(f"{c} {t}" for c, t in _META)
    con.execute(f"CREATE OR REPLACE TEMP TABLE _meta ({columns})")
    rows = _meta_rows(spec, kinds)
    # One statement, one bound list per column (zipped by unnest): binding a parameter per value
    # or executemany's round trip per row costs more than the rest of the small statements.
    con.execute(
        "INSERT INTO _meta SELECT " + ", ".join(f"unnest(?::{t}[])" for t in _META_TYPES),
        [list(col) for col in zip(*rows, strict=False)] if rows else [[] for _ in _META_TYPES],
    )
    scans = _raw(con, plans, city_code, full)

    cur_idx = periods.index(current)
    pidx = periods.sql_index("period")
    # The quarters: those with records (by their own time) or filings. Scans by due date add no
    # quarter of their own — not one in the future, nor one with nothing else in it (a spec with
    # only due-date indicators: their quarters up to the current one).
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _periods AS
        WITH own AS (SELECT DISTINCT period FROM _src WHERE plan NOT LIKE '%@due%'
                     UNION SELECT DISTINCT period FROM _raw WHERE k IN (SELECT k FROM _meta WHERE source = 'reports')),
             q AS (SELECT period FROM own
                   UNION SELECT DISTINCT period FROM _src
                   WHERE NOT EXISTS (SELECT 1 FROM own) AND {pidx} <= $cur)
        SELECT period, {pidx} AS pidx, {pidx} >= $cur AS is_partial,
               make_date({pidx} // 4, 3 * ({pidx} % 4) + 1, 1) AS period_start
        FROM q WHERE regexp_full_match(period, '\\d{{4}}Q[1-4]')""",
        {"cur": cur_idx},
    )
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _units AS
        SELECT $city AS district_code, $city_name AS district_name, TRUE AS is_city, -1 AS sort_order
        UNION ALL
        SELECT district_code, district_name, FALSE, coalesce(sort_order, 0) FROM _districts
        WHERE coalesce(level, 'district') <> 'city' AND district_code <> $city
        UNION ALL
        SELECT DISTINCT district_code, district_code, FALSE, 1000000 FROM _raw
        WHERE district_code <> $city AND district_code NOT IN (SELECT district_code FROM _districts)""",
        {"city": city_code, "city_name": city_name},
    )

    # ── indicators ──────────────────────────────────────────────────────────────────────
    # The steps carry narrow rows (keys, numbers, flags); names and labels are joined in by the
    # INSERT into each mart only: writing wide rows of strings into a table costs several times
    # more than computing them.
    # Reports are due `report_deadline_days` after the quarter ends, once the quarter's round has
    # begun (some filing for it was loaded): then a missing one is 应报未报.
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _ind1 AS
        WITH rounds AS (SELECT DISTINCT report_period AS period FROM reports),
        g AS (
            SELECT p.pidx, p.is_partial, u.district_code, u.is_city, u.sort_order, m.k,
                   r.num, r.den, coalesce(r.n, 0) AS n, r.scope_n, r.missing_n, r.base, src.rows AS src_rows,
                   coalesce(r.filed, FALSE) AS filed, r.filed_at,
                   (p.period_start + INTERVAL 3 MONTH + to_days($deadline_days) - INTERVAL 1 SECOND) AS deadline,
                   NOT p.is_partial AND $now > p.period_start + INTERVAL 3 MONTH + to_days($deadline_days)
                     AND p.period IN (SELECT period FROM rounds) AS round_due,
                   m.source, m.applies_to, m.reported, m.min_sample, m.dtf_best, m.dtf_worst,
                   m.cov_label, m.cov_min, m.noun, m.source_label, m.requires_text,
                   CASE WHEN m.applies_to = 'city' AND NOT u.is_city THEN NULL
                        WHEN m.source = 'reports' THEN (CASE WHEN r.den IS NOT NULL THEN r.num / nullif(r.den, 0) * m.scale
                                                             ELSE r.num END)
                        WHEN m.kind = 'ratio' THEN r.num / nullif(r.den, 0) * m.scale
                        WHEN coalesce(r.n, 0) > 0 THEN r.num END AS value_
            FROM _periods p CROSS JOIN _units u CROSS JOIN _meta m
            LEFT JOIN _raw r ON r.k = m.k AND r.period = p.period AND r.district_code = u.district_code
            LEFT JOIN _src src ON src.plan = m.plan AND src.period = p.period AND src.district_code = u.district_code),
        c AS (
            SELECT *,
                   CASE WHEN cov_min IS NOT NULL AND base > 0 THEN n * 100.0 / base END AS cov_share,
                   source = 'reports' AND ((NOT is_city AND applies_to = 'district')
                                           OR (is_city AND (applies_to = 'city' OR NOT reported))) AS expects_filing
            FROM g),
        s AS (
            SELECT *,
                   CASE WHEN applies_to = 'city' AND NOT is_city THEN 'not_applicable'
                        WHEN value_ IS NOT NULL AND n < min_sample THEN 'small'
                        WHEN value_ IS NOT NULL AND cov_min IS NOT NULL AND coalesce(cov_share, 0) + $eps < cov_min
                             THEN 'low_coverage'
                        WHEN value_ IS NOT NULL THEN 'ok'
                        WHEN source = 'reports' AND filed THEN 'small'
                        WHEN source = 'reports' AND expects_filing AND round_due THEN 'not_filed'
                        WHEN source = 'reports' AND expects_filing
                             AND (is_partial OR $now <= deadline) THEN 'not_due'
                        WHEN source = 'reports' THEN 'no_data'
                        WHEN coalesce(scope_n, 0) > 0 AND coalesce(missing_n, 0) >= scope_n THEN 'no_column'
                        WHEN coalesce(scope_n, 0) > 0 THEN 'no_data'
                        WHEN coalesce(src_rows, 0) > 0 THEN 'not_applicable'
                        ELSE 'no_data' END AS state_
            FROM c),
        t AS (
            SELECT *, state_ IN ('ok', 'not_filed') AS scored_,
                   CASE WHEN state_ = 'ok'
                        THEN greatest(0.0, least(100.0, (dtf_worst - value_) / (dtf_worst - dtf_best) * 100))
                        WHEN state_ = 'not_filed' THEN $unfiled END AS score,
                   expects_filing AND round_due AS report_due,
                   filed AND filed_at <= deadline AS filed_on_time
            FROM s)
        SELECT *, {STATE_REASON} AS reason_,
               {_rank(spec, "pidx, k", "scored_ AND NOT is_city AND applies_to = 'district'")} AS rank
        FROM t""",
        {
            "eps": EPS,
            "now": now.replace(tzinfo=None) if now.tzinfo else now,
            "deadline_days": int(d.report_deadline_days),
            "unfiled": float(d.unfiled_report_score),
        },
    )
    # The marts' tables, each filled straight from its last step's query.
    for ddl in schema.MART_DDL.values():
        con.execute(ddl)
    annual = "m.update_cycle = 'annual'"  # compared year on year only
    con.execute(f"""
        INSERT INTO indicator_scores BY NAME
        WITH x AS ({_changes("_ind1", "k, district_code")})
        SELECT pe.period, x.is_partial, x.district_code, u.district_name, x.is_city, m.domain_id, m.domain_key,
               m.indicator_id, m.indicator_key, m.label_zh, m.unit, m.direction, m.source,
               m.applies_to, m.update_cycle,
               value_ AS value, num AS numerator, den AS denominator, n, scored_ AS scored,
               state_ AS data_state, reason_ AS suppressed_reason,
               score, m.weight, value_prev_ AS value_prev,
               CASE WHEN cmp_q AND NOT {annual} THEN value_ - value_prev_ END AS value_qoq,
               CASE WHEN cmp_y THEN value_ - value_ly END AS value_yoy,
               rank, CASE WHEN cmp_q AND NOT {annual} THEN rank_prev - rank END AS rank_change,
               score_prev, CASE WHEN cmp_q AND NOT {annual} THEN score - score_prev END AS score_qoq,
               CASE WHEN cmp_y THEN score - score_ly END AS score_yoy,
               {_trend(f"CASE WHEN cmp_q AND NOT {annual} AND state_ = 'ok' AND scored_prev THEN (value_ - value_prev_) * m.sign END", "m.band")} AS trend_qoq,
               {_trend("CASE WHEN cmp_y AND state_ = 'ok' AND scored_ly THEN (value_ - value_ly) * m.sign END", "m.band")} AS trend_yoy,
               {IND_RAG} AS rag,
               m.warn, m.advanced, m.dtf_best, m.dtf_worst
        FROM x JOIN _meta m ON m.k = x.k JOIN _periods pe ON pe.pidx = x.pidx
        JOIN _units u ON u.district_code = x.district_code
        ORDER BY x.pidx, x.sort_order, x.district_code, m.domain_order, x.k""")

    # ── domains ─────────────────────────────────────────────────────────────────────────
    # A district's domain score rests on the indicators that apply to districts only (a city-level
    # one is never renormalised into it); a domain with none is the city's alone.
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _dom1 AS
        WITH i AS (SELECT i.*, m.domain_id, m.weight AS w, m.warn, m.advanced, m.sign,
                          m.applies_to = 'district' OR i.is_city AS applies
                   FROM _ind1 i JOIN _meta m ON m.k = i.k),
        a AS (
            SELECT pidx, is_partial, district_code, is_city, sort_order, domain_id,
                   sum(w) FILTER (WHERE applies AND scored_) / nullif(sum(w) FILTER (WHERE applies), 0) AS scored_weight,
                   sum(score * w) FILTER (WHERE applies AND scored_) / nullif(sum(w) FILTER (WHERE applies AND scored_), 0) AS raw_score,
                   count(*) FILTER (WHERE applies) AS n_indicators,
                   count(*) FILTER (WHERE applies AND scored_) AS n_scored,
                   count(*) FILTER (WHERE applies AND {IND_RAG} = 'red') AS n_red,
                   count(*) FILTER (WHERE applies AND {IND_RAG} = 'green') AS n_green
            FROM i GROUP BY ALL),
        s AS (
        SELECT *, coalesce(scored_weight, 0) + $eps >= $minw AND raw_score IS NOT NULL AS scored_,
               CASE WHEN coalesce(scored_weight, 0) + $eps >= $minw THEN raw_score END AS score,
               CASE WHEN n_indicators = 0 THEN '市级领域：不分区县评分'
                    WHEN n_scored = 0 THEN '无可评分指标'
                    WHEN coalesce(scored_weight, 0) + $eps < $minw
                    THEN '可评分指标权重仅 ' || round(scored_weight * 100)::INTEGER || '%，不足 '
                         || round($minw * 100)::INTEGER || '%' END AS suppressed_reason,
               CASE WHEN coalesce(scored_weight, 0) + $eps >= $minw THEN raw_score END AS value_
        FROM a),
        r AS (
        SELECT *, {_rank(spec, "pidx, domain_id", "scored_ AND NOT is_city")} AS rank,
               max(n_scored) FILTER (WHERE scored_ AND NOT is_city) OVER (PARTITION BY pidx, domain_id) AS most
        FROM s)
        SELECT *, CASE WHEN scored_ AND NOT is_city AND n_scored < most
                       THEN '依据 ' || n_scored || ' 项指标（其他区县最多 ' || most || ' 项）' END AS coverage_note
        FROM r""",
        {"eps": EPS, "minw": d.min_scored_weight},
    )
    # EPS: a score of 84.99999999999999 is the 85.0 a user sees, so it is green.
    band_rag = (
        f"CASE WHEN score IS NULL THEN NULL WHEN score < $red - {EPS} THEN 'red' "
        f"WHEN score >= $green - {EPS} THEN 'green' ELSE 'amber' END"
    )
    change_cols = f"""
               rank, CASE WHEN cmp_q THEN rank_prev - rank END AS rank_change,
               score_prev, CASE WHEN cmp_q THEN score - score_prev END AS score_qoq,
               CASE WHEN cmp_y THEN score - score_ly END AS score_yoy,
               {_trend("CASE WHEN cmp_q THEN score - score_prev END", "$band")} AS trend_qoq,
               {_trend("CASE WHEN cmp_y THEN score - score_ly END", "$band")} AS trend_yoy,
               {band_rag} AS rag"""
    bands = {
        "band": d.neutral_band,
        "red": d.score_bands.red_below,
        "green": d.score_bands.green_from,
    }
    domains = "(SELECT DISTINCT domain_id, domain_key, domain_label, domain_weight, domain_order FROM _meta)"
    con.execute(
        f"""
        INSERT INTO domain_scores BY NAME
        WITH x AS ({_changes("_dom1", "domain_id, district_code")})
        SELECT pe.period, x.is_partial, x.district_code, u.district_name, x.is_city, x.domain_id, dm.domain_key,
               dm.domain_label AS label_zh, dm.domain_weight AS weight, score, scored_weight, suppressed_reason,
               n_indicators, n_scored, n_red, n_green, coverage_note, {change_cols}
        FROM x JOIN {domains} dm ON dm.domain_id = x.domain_id JOIN _periods pe ON pe.pidx = x.pidx
        JOIN _units u ON u.district_code = x.district_code
        ORDER BY x.pidx, x.sort_order, x.district_code, dm.domain_order""",
        bands,
    )

    # ── overall ─────────────────────────────────────────────────────────────────────────
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _all1 AS
        WITH a AS (
        SELECT d.pidx, d.is_partial, d.district_code, d.is_city, d.sort_order,
               sum(d.score * dm.domain_weight) FILTER (WHERE d.score IS NOT NULL)
                 / nullif(sum(dm.domain_weight) FILTER (WHERE d.score IS NOT NULL), 0) AS score,
               count(*) FILTER (WHERE d.score IS NOT NULL) AS n_domains_scored,
               sum(d.n_red) AS n_red
        FROM _dom1 d JOIN {domains} dm ON dm.domain_id = d.domain_id GROUP BY ALL),
        r AS (
        SELECT *, score IS NOT NULL AS scored_, score AS value_,
               {_rank(spec, "pidx", "score IS NOT NULL AND NOT is_city")} AS rank,
               max(n_domains_scored) FILTER (WHERE score IS NOT NULL AND NOT is_city)
                 OVER (PARTITION BY pidx) AS most
        FROM a)
        SELECT *, CASE WHEN score IS NOT NULL AND NOT is_city AND n_domains_scored < most
                       THEN '依据 ' || n_domains_scored || ' 个领域（其他区县最多 ' || most || ' 个）' END AS coverage_note
        FROM r""")
    con.execute(
        f"""
        INSERT INTO overall_scores BY NAME
        WITH x AS ({_changes("_all1", "district_code")})
        SELECT pe.period, x.is_partial, x.district_code, u.district_name, x.is_city, score, n_domains_scored,
               n_red, coverage_note, {change_cols}
        FROM x JOIN _periods pe ON pe.pidx = x.pidx JOIN _units u ON u.district_code = x.district_code
        ORDER BY x.pidx, x.sort_order, x.district_code""",
        bands,
    )

    con.execute("""
        INSERT INTO periods BY NAME
        SELECT p.period, p.is_partial, a.as_of AS data_as_of,
               make_date(p.pidx // 4, 3 * (p.pidx % 4) + 1, 1) AS period_start,
               (make_date(p.pidx // 4, 3 * (p.pidx % 4) + 1, 1) + INTERVAL 3 MONTH - INTERVAL 1 DAY)::DATE AS period_end
        FROM _periods p
        LEFT JOIN (SELECT period, max(as_of) AS as_of FROM partials
                   WHERE city AND k = -1 AND source NOT LIKE '%@due%' GROUP BY period) a USING (period)""")
    _data_quality(con, city_code)
    _unit_marts(con, spec)
    as_of = con.execute("SELECT max(data_as_of) FROM periods").fetchone()[0]
    # The latest complete quarter that has data: for exports that end years ago it is theirs,
    # not the one before today (pages and exports open on it).
    [(latest,)] = con.execute(
        "SELECT max_by(period, pidx) FROM _periods WHERE NOT is_partial"
    ).fetchall()
    # The temp tables are not dropped: they go with the build's connection (eight DROPs cost
    # ~3 ms), and a debugger stopped here can still look at every step.
    return {
        "city_code": city_code,
        "city_name": city_name,
        "current_period": current,
        "latest_complete_period": latest or periods.previous(current),
        "data_as_of": as_of,
        "scans": scans,
    }


def _data_quality(con, city: str) -> None:
    """data_quality: per district (and the city) and quarter — 填报及时率 (reports due that were
    filed by the deadline), the share of applicable indicators with data, and the records loaded
    and quarantined (the way published notices score each county's data)."""
    con.execute(
        """
        INSERT INTO data_quality BY NAME
        WITH ind AS (
            SELECT i.pidx, i.district_code,
                   count(*) FILTER (WHERE i.state_ <> 'not_applicable') AS indicators_applicable,
                   count(*) FILTER (WHERE i.state_ IN ('ok', 'small', 'low_coverage')) AS indicators_with_data,
                   count(*) FILTER (WHERE i.report_due) AS reports_due,
                   count(*) FILTER (WHERE i.report_due AND i.filed) AS reports_filed,
                   count(*) FILTER (WHERE i.report_due AND i.filed_on_time) AS reports_on_time
            FROM _ind1 i GROUP BY ALL),
        rec AS (
            SELECT period, district_code, sum(rows) AS n FROM _src WHERE plan NOT LIKE '%@%' GROUP BY ALL
            UNION ALL
            SELECT report_period, district_code, count(*) FROM reports WHERE district_code <> $city GROUP BY ALL
            UNION ALL
            SELECT report_period, $city, count(*) FROM reports GROUP BY ALL),
        q AS (
            SELECT period, district_code, count(*) AS n FROM quarantine WHERE district_code <> $city GROUP BY ALL
            UNION ALL
            SELECT period, $city, count(*) FROM quarantine GROUP BY ALL),
        qu AS (SELECT period, count(*) FILTER (WHERE district_code IS NULL) AS n FROM quarantine GROUP BY ALL)
        SELECT pe.period, pe.is_partial, u.district_code, u.district_name, u.is_city,
               ind.reports_due, ind.reports_filed, ind.reports_on_time,
               CASE WHEN ind.reports_due > 0 THEN ind.reports_on_time * 100.0 / ind.reports_due END AS filing_timely_rate,
               ind.indicators_applicable, ind.indicators_with_data,
               CASE WHEN ind.indicators_applicable > 0
                    THEN ind.indicators_with_data * 100.0 / ind.indicators_applicable END AS data_share,
               coalesce((SELECT sum(n) FROM rec WHERE rec.period = pe.period AND rec.district_code = u.district_code), 0)
                 AS records_loaded,
               coalesce((SELECT sum(n) FROM q WHERE q.period = pe.period AND q.district_code = u.district_code), 0)
                 AS records_quarantined,
               CASE WHEN u.is_city THEN coalesce((SELECT n FROM qu WHERE qu.period = pe.period), 0) END
                 AS quarantined_unknown_district
        FROM ind JOIN _periods pe ON pe.pidx = ind.pidx JOIN _units u ON u.district_code = ind.district_code
        ORDER BY pe.pidx, u.sort_order, u.district_code""",
        {"city": city},
    )
    con.execute(
        "UPDATE data_quality SET quarantine_share = CASE WHEN records_loaded + records_quarantined > 0 "
        "THEN records_quarantined * 100.0 / (records_loaded + records_quarantined) END"
    )


def _unit_marts(con, spec: MetricsSpec) -> None:
    """unit_scores / unit_overall: the units behind the records (12345 承办单位, 办件 办理部门, 好差评
    评价部门) on the indicators spec.units lists — value, n, score (the indicator's own bounds) and
    rank among units from n ≥ units.min_sample; a unit's score is the mean of its scored ones."""
    min_n = spec.units.min_sample if spec.units else 10
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _unit1 AS
        WITH g AS (
            SELECT p.pidx, p.is_partial, r.district_code, r.unit AS unit_name, r.k, r.num, r.den, r.n,
                   m.dtf_best, m.dtf_worst,
                   CASE WHEN m.kind = 'ratio' THEN r.num / nullif(r.den, 0) * m.scale
                        WHEN r.n > 0 THEN r.num END AS value_
            FROM partials r JOIN _periods p USING (period) JOIN _meta m ON m.k = r.k
            WHERE r.unit IS NOT NULL AND r.k >= 0),
        s AS (
            SELECT *, value_ IS NOT NULL AND n >= $min AS scored_,
                   CASE WHEN value_ IS NOT NULL AND n >= $min
                        THEN greatest(0.0, least(100.0, (dtf_worst - value_) / (dtf_worst - dtf_best) * 100)) END AS score
            FROM g)
        SELECT *, CASE WHEN scored_ THEN rank() OVER (PARTITION BY pidx, k, scored_ ORDER BY round(score, 2) DESC) END AS rank
        FROM s""",
        {"min": min_n},
    )
    con.execute(
        """
        INSERT INTO unit_scores BY NAME
        SELECT pe.period, x.is_partial, x.district_code, u.district_name, x.unit_name, m.indicator_id,
               m.indicator_key, m.label_zh, m.unit, m.source, m.direction, x.value_ AS value, x.n,
               x.scored_ AS scored, x.score, x.rank,
               CASE WHEN x.value_ IS NULL THEN '无数据'
                    WHEN NOT x.scored_ THEN '样本量不足（' || x.n || '，至少 ' || $min || '）' END AS suppressed_reason
        FROM _unit1 x JOIN _meta m ON m.k = x.k JOIN _periods pe ON pe.pidx = x.pidx
        LEFT JOIN _units u ON u.district_code = x.district_code
        ORDER BY x.pidx, u.sort_order, x.district_code, x.unit_name, m.domain_order, x.k""",
        {"min": min_n},
    )
    con.execute(
        """
        INSERT INTO unit_overall BY NAME
        WITH a AS (
            SELECT pidx, any_value(is_partial) AS is_partial, district_code, unit_name,
                   avg(score) FILTER (WHERE scored_) AS score,
                   count(*) FILTER (WHERE value_ IS NOT NULL) AS n_indicators,
                   count(*) FILTER (WHERE scored_) AS n_scored, sum(n) AS n_records
            FROM _unit1 GROUP BY pidx, district_code, unit_name),
        r AS (
            SELECT *, CASE WHEN score IS NOT NULL
                           THEN rank() OVER (PARTITION BY pidx, score IS NOT NULL ORDER BY round(score, 2) DESC) END AS rank,
                   max(n_scored) OVER (PARTITION BY pidx) AS most
            FROM a)
        SELECT pe.period, r.is_partial, r.district_code, u.district_name, r.unit_name, r.score, r.n_indicators,
               r.n_scored, r.n_records, r.rank,
               CASE WHEN r.score IS NOT NULL AND r.n_scored < r.most
                    THEN '依据 ' || r.n_scored || ' 项指标（其他单位最多 ' || r.most || ' 项）' END AS coverage_note
        FROM r JOIN _periods pe ON pe.pidx = r.pidx LEFT JOIN _units u ON u.district_code = r.district_code
        ORDER BY r.pidx, r.rank NULLS LAST, r.district_code, r.unit_name"""
    )
