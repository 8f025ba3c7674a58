"""metrics.yaml indicators → DuckDB SQL, always as (sql, params).

Each transaction source is scanned once: every indicator of that source becomes a few filtered
aggregates (`sum(..) FILTER (WHERE ..)`) in one `GROUP BY period, district_code`, because a scan
per indicator would cost ~70 passes over the biggest tables. Only decomposable parts are
aggregated (sums, counts, min, max), so the city-wide value is rolled up from the district parts
exactly as if computed over all records (never a mean of district values).

Expressions in the spec are small SQL fragments. They are tokenised here and only column names of
the source table, a fixed list of keywords/functions, numbers, '…' literals and $settings are
accepted; identifiers are quoted and $settings become bound parameters, so a spec cannot smuggle
in a table function or a second statement.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from kpi import schema, store
from kpi.spec import Aggregate, Filter, Indicator, MetricsSpec

TRANSACTION_SOURCES = ("approvals", "hotline", "ratings")

# Functions and keywords an expression may use (lower case). Deliberately no table functions.
ALLOWED_WORDS = frozenset(
    """and or not is null true false in between like ilike case when then else end cast as
    coalesce nullif abs round floor ceil least greatest sign date_diff datediff date_part epoch
    extract year quarter month day hour minute second date timestamp interval lower upper length
    trim strftime integer bigint double varchar boolean distinct""".split()
)

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<str>'(?:[^']|'')*')
    | (?P<num>\d+(?:\.\d+)?)
    | (?P<param>\$[A-Za-z_][A-Za-z0-9_]*)
    | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
    | (?P<op><=|>=|<>|!=|\|\||::|[-+*/%=<>(),])
    )""",
    re.VERBOSE,
)


class ExprError(ValueError):
    """An expression uses something it may not; the message is Chinese and names the token."""


@lru_cache(maxsize=1)
def canonical_columns() -> dict[str, tuple[str, ...]]:
    """Column names of each canonical table, read from the DDL itself (one source of truth)."""
    con = store.connect_memory()
    try:
        for ddl in schema.CANONICAL_DDL.values():
            con.execute(ddl)
        rows = con.execute(
            "SELECT table_name, column_name FROM information_schema.columns ORDER BY table_name, ordinal_position"
        ).fetchall()
    finally:
        con.close()
    out: dict[str, list[str]] = {}
    for table, column in rows:
        out.setdefault(table, []).append(column)
    return {t: tuple(c) for t, c in out.items()}


def quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def compile_expr(expr: str, source: str, settings: dict) -> tuple[str, list]:
    """Check and rewrite one expression: columns quoted, $settings bound. Raises ExprError."""
    columns = set(canonical_columns()[source])
    out: list[str] = []
    params: list = []
    pos = 0
    expr = expr.strip()
    while pos < len(expr):
        m = _TOKEN.match(expr, pos)
        if not m or m.end() == pos:
            raise ExprError(f"表达式“{expr}”在第 {pos + 1} 个字符处有不允许的内容“{expr[pos:pos + 10]}”")
        pos = m.end()
        kind = m.lastgroup
        tok = m.group(kind)
        if kind == "ident":
            low = tok.lower()
            if low in columns:
                out.append(quote(low))
            elif low in ALLOWED_WORDS:
                out.append(tok)
            else:
                raise ExprError(f"表达式“{expr}”引用了 {source} 表中不存在的列或不允许的函数“{tok}”")
        elif kind == "str":
            # Literals are bound too, so no value ever becomes SQL text.
            out.append("?")
            params.append(tok[1:-1].replace("''", "'"))
        elif kind == "param":
            name = tok[1:]
            if name not in settings:
                raise ExprError(f"表达式“{expr}”引用的设置 ${name} 在 settings 中不存在")
            out.append("?")
            params.append(settings[name])
        else:
            out.append(tok)
    if not out:
        raise ExprError("表达式为空")
    return " ".join(out), params


def compile_filters(filters: tuple[Filter, ...], source: str) -> tuple[str, list]:
    """AND of all filters, values bound. Unknown columns raise ExprError."""
    columns = set(canonical_columns()[source])
    parts: list[str] = []
    params: list = []
    for f in filters:
        if f.column not in columns:
            raise ExprError(f"筛选条件的列“{f.column}”在 {source} 表中不存在")
        col = quote(f.column)
        if f.op == "is_null":
            parts.append(f"{col} IS NULL")
        elif f.op == "not_null":
            parts.append(f"{col} IS NOT NULL")
        elif f.op in ("in", "not_in"):
            values = f.value if isinstance(f.value, tuple) else (f.value,)
            marks = ", ".join("?" for _ in values)
            parts.append(f"{col} {'NOT IN' if f.op == 'not_in' else 'IN'} ({marks})")
            params.extend(values)
        else:
            parts.append(f"{col} {f.op} ?")
            params.append(f.value)
    return (" AND ".join(parts) if parts else "TRUE"), params


@dataclass(frozen=True)
class Fragment:
    sql: str
    params: tuple


@dataclass(frozen=True)
class IndicatorAggregates:
    """The aggregates of one indicator over its source, and how to turn them into a value.

    num / den / n are SQL aggregate fragments; den and n may be None: the value is num/den·scale
    when den is set (kind 'ratio'), else num (kind 'plain'); n is the sample size, taken from
    `n`, else from `den`, else from `num` (for count measures).
    """

    num: Fragment
    den: Fragment | None
    n: Fragment | None
    kind: str      # ratio | plain
    rollup: str    # how district parts combine into the city value: sum | min | max


def _agg_part(a: Aggregate, where: str, wparams: list, source: str, settings: dict):
    """(value-part SQL, params, count-of-rows SQL, params) of one aggregate under a filter."""
    e, eparams = compile_expr(a.expr, source, settings)
    f = f"FILTER (WHERE {where})"
    if a.agg == "count_if":
        cond = f"FILTER (WHERE ({where}) AND ({e}))"
        return Fragment(f"count(*) {cond}", (*wparams, *eparams)), None
    count = Fragment(f"count({e}) {f}", (*eparams, *wparams))
    if a.agg == "count":
        return count, None
    if a.agg in ("sum", "avg"):
        return Fragment(f"sum(CAST(({e}) AS DOUBLE)) {f}", (*eparams, *wparams)), count
    return Fragment(f"{a.agg}(CAST(({e}) AS DOUBLE)) {f}", (*eparams, *wparams)), count


def indicator_aggregates(ind: Indicator, settings: dict) -> IndicatorAggregates:
    """Compile one transaction indicator. Raises ExprError on a bad column or expression."""
    where, wparams = compile_filters(ind.filters, ind.source)
    if ind.ratio is not None:
        num, _ = _agg_part(ind.ratio.numerator, where, wparams, ind.source, settings)
        den, den_count = _agg_part(ind.ratio.denominator, where, wparams, ind.source, settings)
        # n = records behind the denominator: rows counted, or rows with a value when summed.
        return IndicatorAggregates(num, den, den_count if ind.ratio.denominator.agg == "sum" else None, "ratio", "sum")
    m = ind.measure
    assert m is not None  # validate_spec guarantees measure xor ratio for transaction sources
    if m.agg == "avg":
        total, count = _agg_part(Aggregate(agg="sum", expr=m.expr), where, wparams, ind.source, settings)
        return IndicatorAggregates(total, count, None, "ratio", "sum")
    part, count = _agg_part(m, where, wparams, ind.source, settings)
    if m.agg == "count_if":
        count = Fragment(f"count(*) FILTER (WHERE {where})", tuple(wparams))
    rollup = m.agg if m.agg in ("min", "max") else "sum"
    return IndicatorAggregates(part, None, count, "plain", rollup)


def source_query(parts: list[tuple[int, IndicatorAggregates]], source: str) -> tuple[str, list, list[str]]:
    """One GROUP BY period, district_code over `source` computing every part as a column.

    Returns (sql, params, column names). Columns are named num_<k>, den_<k>, n_<k> by the
    indicator's ordinal k (an int we generate, never user text).
    """
    select: list[str] = []
    params: list = []
    names: list[str] = []
    for k, agg in parts:
        for label, frag in (("num", agg.num), ("den", agg.den), ("n", agg.n)):
            if frag is None:
                continue
            select.append(f"{frag.sql} AS {label}_{k}")
            params.extend(frag.params)
            names.append(f"{label}_{k}")
    sql = (
        f"SELECT period, district_code, {', '.join(select)} FROM {quote(source)} "
        "WHERE period IS NOT NULL GROUP BY period, district_code"
    )
    return sql, params, names


def compile_spec(spec: MetricsSpec) -> dict[str, tuple[list[tuple[int, IndicatorAggregates]], tuple[str, list, list[str]]]]:
    """source → (indicator parts, its one aggregate query) for every transaction source in use."""
    settings = dict(spec.settings)
    by_source: dict[str, list[tuple[int, IndicatorAggregates]]] = {}
    for k, (_, ind) in enumerate(spec.indicators()):
        if ind.source in TRANSACTION_SOURCES:
            by_source.setdefault(ind.source, []).append((k, indicator_aggregates(ind, settings)))
    return {src: (parts, source_query(parts, src)) for src, parts in by_source.items()}
