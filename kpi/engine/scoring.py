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
from kpi.engine.compile import compile_spec
from kpi.spec.models import MetricsSpec
from kpi.sql import literal as sql_literal

RANK_FUNCTIONS = {"min": "rank()", "dense": "dense_rank()", "ordinal": "row_number()"}
EPS = 1e-9  # float slack for band and weight comparisons (0.3 + 0.2 + 0.5 ≠ 1.0 exactly)

_META_COLUMNS = (  # with _META_TYPES: the columns of _meta, in _meta_rows' order
    "k",
    "domain_id",
    "domain_key",
    "domain_label",
    "domain_weight",
    "domain_order",
    "indicator_id",
    "indicator_key",
    "label_zh",
    "unit",
    "direction",
    "sign",
    "source",
    "weight",
    "dtf_best",
    "dtf_worst",
    "warn",
    "advanced",
    "min_sample",
    "band",
    "kind",
    "scale",
)


_META_TYPES = (
    "INTEGER",
    "VARCHAR",
    "VARCHAR",
    "VARCHAR",
    "DOUBLE",
    "INTEGER",
    "VARCHAR",
    "VARCHAR",
    "VARCHAR",
    "VARCHAR",
    "VARCHAR",
    "INTEGER",
    "VARCHAR",
    "DOUBLE",
    "DOUBLE",
    "DOUBLE",
    "DOUBLE",
    "DOUBLE",
    "INTEGER",
    "DOUBLE",
    "VARCHAR",
    "DOUBLE",
)


def _meta_rows(spec: MetricsSpec, kinds: dict[int, str]) -> list[tuple]:
    rows = []
    d_order = {d.id: n for n, d in enumerate(spec.domains)}
    for k, (dom, ind) in enumerate(spec.indicators()):
        rows.append(
            (
                k,
                dom.id,
                dom.key,
                dom.label_zh,
                dom.weight,
                d_order[dom.id],
                ind.id,
                ind.key,
                ind.label_zh,
                ind.unit,
                ind.direction,
                1 if ind.higher_is_better else -1,
                ind.source,
                ind.weight,
                ind.dtf.best,
                ind.dtf.worst,
                ind.warn,
                ind.advanced,
                spec.min_sample(ind),
                spec.neutral_band(ind),
                kinds.get(k, "plain"),
                ind.scale if ind.ratio is not None else 1.0,
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
    reports). Returns what kpi.engine.partials.refresh did per source."""
    done = partials.refresh(con, plans, city, full=full, run=run_scans)
    # Reports: the value as filed. The city row is the city's own filing when there is one,
    # otherwise the mean of the districts' filings (n = how many districts filed).
    reports = """
        WITH rep AS (
            SELECT m.k, r.report_period AS period, r.district_code, r.value
            FROM reports r JOIN _meta m ON m.indicator_key = r.indicator_key AND m.source = 'reports')
        SELECT k, period, district_code, value AS num, NULL::DOUBLE AS den, 1::BIGINT AS n
        FROM rep WHERE district_code <> $city
        UNION ALL
        SELECT k, period, $city, coalesce(max(value) FILTER (WHERE district_code = $city),
                                          avg(value) FILTER (WHERE district_code <> $city)),
               NULL::DOUBLE,
               CASE WHEN count(*) FILTER (WHERE district_code = $city) > 0 THEN 1
                    ELSE count(*) FILTER (WHERE district_code <> $city) END
        FROM rep GROUP BY k, period"""
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _raw AS SELECT * FROM ("
        f"SELECT k, period, district_code, num, den, n FROM partials UNION ALL SELECT * FROM ({reports})) "
        "WHERE regexp_full_match(period, '\\d{4}Q[1-4]')",
        {"city": city},
    )
    return done


# An indicator's RAG from its value (columns of _ind1); used by the mart and the domains' counts.
IND_RAG = (
    f"CASE WHEN NOT scored_ OR warn IS NULL OR advanced IS NULL THEN NULL "
    f"WHEN (value_ - warn) * sign < -{EPS} THEN 'red' "
    f"WHEN (value_ - advanced) * sign >= -{EPS} THEN 'green' ELSE 'amber' END"
)


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
    """Recreate the marts (periods, indicator_scores, domain_scores, overall_scores) in `con`.

    `full`: rescan every quarter of the transaction tables (see kpi.engine.partials).
    Returns facts for snapshot_meta: city_code, city_name, current_period, data_as_of, and
    `scans` (source → what kpi.engine.partials.refresh did).
    """
    schema.create_canonical(con)
    _load_districts(con, catalog)
    city_code, city_name = city_of(con)
    current = periods.current_period(now)
    d = spec.defaults

    # _meta first (reports join it), then the scans.
    plans = compile_spec(spec)
    kinds = {k: agg.kind for plan in plans.values() for k, agg in plan.parts}
    columns = ", ".join(f"{c} {t}" for c, t in zip(_META_COLUMNS, _META_TYPES, strict=True))
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
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _periods AS
        SELECT period, {pidx} AS pidx, {pidx} >= $cur AS is_partial
        FROM (SELECT DISTINCT period FROM _raw)""",
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
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _ind1 AS
        WITH g AS (
            SELECT p.pidx, p.is_partial, u.district_code, u.is_city, u.sort_order, m.k,
                   r.num, r.den, coalesce(r.n, 0) AS n,
                   CASE WHEN m.kind = 'ratio' THEN r.num / nullif(r.den, 0) * m.scale
                        WHEN coalesce(r.n, 0) > 0 THEN r.num END AS value_,
                   m.min_sample, m.dtf_best, m.dtf_worst
            FROM _periods p CROSS JOIN _units u CROSS JOIN _meta m
            LEFT JOIN _raw r ON r.k = m.k AND r.period = p.period AND r.district_code = u.district_code),
        s AS (
            SELECT pidx, is_partial, district_code, is_city, sort_order, k, num, den, n, value_,
                   value_ IS NOT NULL AND n >= min_sample AS scored_,
                   CASE WHEN value_ IS NOT NULL AND n >= min_sample
                        THEN greatest(0.0, least(100.0, (dtf_worst - value_) / (dtf_worst - dtf_best) * 100)) END AS score
            FROM g)
        SELECT *, {_rank(spec, "pidx, k", "scored_ AND NOT is_city")} AS rank FROM s""")
    # The marts' tables, each filled straight from its last step's query.
    for ddl in schema.MART_DDL.values():
        con.execute(ddl)
    con.execute(f"""
        INSERT INTO indicator_scores BY NAME
        WITH x AS ({_changes("_ind1", "k, district_code")})
        SELECT pe.period, x.is_partial, x.district_code, u.district_name, x.is_city, m.domain_id, m.domain_key,
               m.indicator_id, m.indicator_key, m.label_zh, m.unit, m.direction, m.source,
               value_ AS value, num AS numerator, den AS denominator, n, scored_ AS scored,
               CASE WHEN value_ IS NULL THEN '无数据'
                    WHEN NOT scored_ THEN '样本量不足（' || n || '，至少 ' || m.min_sample || '）' END AS suppressed_reason,
               score, m.weight, value_prev_ AS value_prev,
               CASE WHEN cmp_q THEN value_ - value_prev_ END AS value_qoq,
               CASE WHEN cmp_y THEN value_ - value_ly END AS value_yoy,
               rank, CASE WHEN cmp_q THEN rank_prev - rank END AS rank_change,
               score_prev, CASE WHEN cmp_q THEN score - score_prev END AS score_qoq,
               CASE WHEN cmp_y THEN score - score_ly END AS score_yoy,
               {_trend("CASE WHEN cmp_q AND scored_ AND scored_prev THEN (value_ - value_prev_) * m.sign END", "m.band")} AS trend_qoq,
               {_trend("CASE WHEN cmp_y AND scored_ AND scored_ly THEN (value_ - value_ly) * m.sign END", "m.band")} AS trend_yoy,
               {IND_RAG} AS rag, m.warn, m.advanced, m.dtf_best, m.dtf_worst
        FROM x JOIN _meta m ON m.k = x.k JOIN _periods pe ON pe.pidx = x.pidx
        JOIN _units u ON u.district_code = x.district_code
        ORDER BY x.pidx, x.sort_order, x.district_code, m.domain_order, x.k""")

    # ── domains ─────────────────────────────────────────────────────────────────────────
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _dom1 AS
        WITH a AS (
            SELECT i.pidx, i.is_partial, i.district_code, i.is_city, i.sort_order, m.domain_id,
                   sum(m.weight) FILTER (WHERE scored_) / nullif(sum(m.weight), 0) AS scored_weight,
                   sum(score * m.weight) FILTER (WHERE scored_) / nullif(sum(m.weight) FILTER (WHERE scored_), 0) AS raw_score,
                   count(*) AS n_indicators, count(*) FILTER (WHERE scored_) AS n_scored,
                   count(*) FILTER (WHERE {IND_RAG} = 'red') AS n_red,
                   count(*) FILTER (WHERE {IND_RAG} = 'green') AS n_green
            FROM _ind1 i JOIN _meta m ON m.k = i.k GROUP BY ALL),
        s AS (
        SELECT *, coalesce(scored_weight, 0) + $eps >= $minw AND raw_score IS NOT NULL AS scored_,
               CASE WHEN coalesce(scored_weight, 0) + $eps >= $minw THEN raw_score END AS score,
               CASE WHEN n_scored = 0 THEN '无可评分指标'
                    WHEN coalesce(scored_weight, 0) + $eps < $minw
                    THEN '可评分指标权重仅 ' || round(scored_weight * 100)::INTEGER || '%，不足 '
                         || round($minw * 100)::INTEGER || '%' END AS suppressed_reason,
               CASE WHEN coalesce(scored_weight, 0) + $eps >= $minw THEN raw_score END AS value_
        FROM a)
        SELECT *, {_rank(spec, "pidx, domain_id", "scored_ AND NOT is_city")} AS rank FROM s""",
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
               n_indicators, n_scored, n_red, n_green, {change_cols}
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
        FROM _dom1 d JOIN {domains} dm ON dm.domain_id = d.domain_id GROUP BY ALL)
        SELECT *, score IS NOT NULL AS scored_, score AS value_,
               {_rank(spec, "pidx", "score IS NOT NULL AND NOT is_city")} AS rank FROM a""")
    con.execute(
        f"""
        INSERT INTO overall_scores BY NAME
        WITH x AS ({_changes("_all1", "district_code")})
        SELECT pe.period, x.is_partial, x.district_code, u.district_name, x.is_city, score, n_domains_scored,
               n_red, {change_cols}
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
        LEFT JOIN (SELECT period, max(as_of) AS as_of FROM partials WHERE city GROUP BY period) a USING (period)""")
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
