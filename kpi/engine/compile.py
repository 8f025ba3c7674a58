"""metrics.yaml indicators → DuckDB SQL, always as (sql, params) with named parameters (kpi.sql).

Each transaction source is scanned once (see SourcePlan): a scan per indicator would cost ~70
passes over the biggest tables. Only decomposable parts are aggregated (sums, counts, min, max),
so the city-wide value is rolled up from the district parts exactly as if computed over all
records (never a mean of district values).

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
from kpi.spec.models import Aggregate, Filter, Indicator, MetricsSpec
from kpi.sql import Params
from kpi.sql import ident as quote

TRANSACTION_SOURCES = ("approvals", "hotline", "ratings")

# Functions and keywords an expression may use (lower case). Deliberately no table functions.
ALLOWED_WORDS = frozenset(
    {
        "and",
        "or",
        "not",
        "is",
        "null",
        "true",
        "false",
        "in",
        "between",
        "like",
        "ilike",
        "case",
        "when",
        "then",
        "else",
        "end",
        "cast",
        "as",
        "coalesce",
        "nullif",
        "abs",
        "round",
        "floor",
        "ceil",
        "least",
        "greatest",
        "sign",
        "date_diff",
        "datediff",
        "date_part",
        "epoch",
        "extract",
        "year",
        "quarter",
        "month",
        "day",
        "hour",
        "minute",
        "second",
        "date",
        "timestamp",
        "interval",
        "lower",
        "upper",
        "length",
        "trim",
        "strftime",
        "integer",
        "bigint",
        "double",
        "varchar",
        "boolean",
        "distinct",
    }
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


def compile_expr(
    expr: str, source: str, settings: dict, params: Params | None = None
) -> tuple[str, list[str]]:
    """Check and rewrite one expression: columns quoted, '…' and $settings bound as named
    parameters in `params`. Raises ExprError. Returns (sql, the columns it reads)."""
    columns = set(canonical_columns()[source])
    params = params if params is not None else Params()
    out: list[str] = []
    used: list[str] = []
    pos = 0
    expr = expr.strip()
    while pos < len(expr):
        m = _TOKEN.match(expr, pos)
        if not m or m.end() == pos:
            raise ExprError(
                f"表达式“{expr}”在第 {pos + 1} 个字符处有不允许的内容“{expr[pos : pos + 10]}”"
            )
        pos = m.end()
        kind = m.lastgroup or ""
        tok = m.group(kind)
        if kind == "ident":
            low = tok.lower()
            if low in columns:
                out.append(quote(low))
                used.append(low)
            elif low in ALLOWED_WORDS:
                out.append(tok)
            else:
                raise ExprError(
                    f"表达式“{expr}”引用了 {source} 表中不存在的列或不允许的函数“{tok}”"
                )
        elif kind == "str":
            # Literals are bound too, so no value ever becomes SQL text.
            out.append(params.add(tok[1:-1].replace("''", "'")))
        elif kind == "param":
            name = tok[1:]
            if name not in settings:
                raise ExprError(f"表达式“{expr}”引用的设置 ${name} 在 settings 中不存在")
            out.append(params.add(settings[name]))
        else:
            out.append(tok)
    if not out:
        raise ExprError("表达式为空")
    return " ".join(out), used


def compile_filter(f: Filter, source: str, params: Params) -> str:
    """One filter as an SQL predicate, its values bound in `params`. Unknown columns raise ExprError."""
    if f.column not in canonical_columns()[source]:
        raise ExprError(f"筛选条件的列“{f.column}”在 {source} 表中不存在")
    col = quote(f.column)
    if f.op == "is_null":
        return f"{col} IS NULL"
    if f.op == "not_null":
        return f"{col} IS NOT NULL"
    if f.op in ("in", "not_in"):
        values = list(f.value) if isinstance(f.value, tuple) else [f.value]
        marks = ", ".join(params.add(v) for v in values)
        return f"{col} {'NOT IN' if f.op == 'not_in' else 'IN'} ({marks})"
    return f"{col} {f.op} {params.add(f.value)}"


def compile_filters(filters: tuple[Filter, ...], source: str, params: Params) -> str:
    """AND of all filters, values bound in `params`."""
    parts = [compile_filter(f, source, params) for f in filters]
    return " AND ".join(parts) if parts else "TRUE"


@dataclass(frozen=True)
class Fragment:
    sql: str


@dataclass(frozen=True)
class IndicatorAggregates:
    """The stage-2 aggregates of one indicator, and how to turn them into a value.

    num / den / n are SQL aggregate fragments over the reduced table; den and n may be None: the
    value is num/den·scale when den is set (kind 'ratio'), else num (kind 'plain'); n is the
    sample size, taken from `n`, else `den`, else `num`.
    """

    num: Fragment
    den: Fragment | None
    n: Fragment | None
    kind: str  # ratio | plain
    rollup: str  # how district parts combine into the city value: sum | min | max


# Columns with few distinct values (a closed vocabulary, or small counts and per-item limits):
# conditions on them alone are cheaper to keep as raw group keys than to evaluate per row.
CATEGORICAL: dict[str, frozenset[str]] = {
    "approvals": frozenset(
        {
            "domain_key",
            "status",
            "channel",
            "applicant_type",
            "on_time",
            "calendar_known",
            "visits",
            "legal_limit_days",
            "promised_limit_days",
        }
    ),
    "hotline": frozenset(
        {
            "domain_key",
            "topic",
            "category",
            "is_enterprise",
            "caller_type",
            "channel",
            "resolved",
            "satisfaction",
            "is_repeat",
            "on_time",
            "calendar_known",
        }
    ),
    "ratings": frozenset({"domain_key", "channel", "level", "level_label", "is_bad", "rectified"}),
}


@dataclass(frozen=True)
class Cond:
    """One condition of an indicator: a bit of the stage-1 mask, or SQL over a stage-1 key."""

    bit: int | None = None
    sql: str = ""


class SourcePlan:
    """Two-stage plan for one source, shared by all its indicators.

    Stage 1 is the only pass over the big table. It groups the rows by period, district and
    *keys*: the categorical columns (CATEGORICAL) the filters look at, kept raw, plus bit masks
    for every other distinct filter (e.g. `x IS NOT NULL`), and it counts rows (`_n`), counts the
    rows where each distinct count_if expression holds (`_q<j>`, e.g. `visits <= $zero_visit_max`)
    and sums each distinct measure expression. Stage 2 evaluates each
    indicator's parts on that reduced table (hundreds of rows per quarter and district): a sum of
    the stage-1 sums is the sum over the records, so nothing is approximated. Each distinct
    combination of an indicator's conditions is evaluated once per row group, as a column `_t<j>`
    the parts sum under (`sum(CASE WHEN _t3 THEN _q0 END)`); a NULL condition counts as false,
    exactly as in `FILTER (WHERE …)`. (A FILTER clause per part cost twice as much: ~50 parts
    re-evaluating ~20 distinct conditions.)
    """

    BITS = 62  # conditions per BIGINT mask word (sign bit unused)

    def __init__(self, source: str, settings: dict):
        self.source = source
        self.settings = settings
        # Every value the plan's SQL binds, by name ($approvals_0 …): one set per source, so the
        # scans of several sources can run as one statement (kpi.engine.partials).
        self.params = Params(source)
        self.keys: list[str] = []  # categorical columns grouped raw in stage 1
        self.atoms: dict[str, int] = {}  # sql → mask bit
        self.measures: dict[str, int] = {}  # sql → j
        self.needs: dict[int, set[str]] = {}  # j → {'sum', 'min', 'max'}
        self.reads: dict[int, set[str]] = {}  # j → the columns measure j reads
        self.flags: dict[str, int] = {}  # sql of a count_if expression → j
        self.tests: dict[str, int] = {}  # sql of an indicator's conditions → j of _t<j>
        self.parts: list[tuple[int, IndicatorAggregates]] = []

    # -- building blocks -------------------------------------------------------------------
    def _cond(self, sql: str, columns) -> Cond:
        columns = set(columns)
        if columns and columns <= CATEGORICAL.get(self.source, frozenset()):
            for c in sorted(columns):
                if c not in self.keys:
                    self.keys.append(c)
            return Cond(sql=sql)
        return Cond(bit=self.atoms.setdefault(sql, len(self.atoms)))

    def _test(self, conds: list[Cond]) -> str:
        """SQL: all these conditions hold in the row group."""
        words: dict[int, int] = {}
        parts: list[str] = []
        for c in conds:
            if c.bit is None:
                parts.append(f"({c.sql})")
            else:
                words[c.bit // self.BITS] = words.get(c.bit // self.BITS, 0) | (
                    1 << (c.bit % self.BITS)
                )
        parts += [f"(_m{w} & {bits}) = {bits}" for w, bits in sorted(words.items())]
        return " AND ".join(parts) or "TRUE"

    def _when(self, conds: list[Cond]) -> str:
        """The stage-2 column that is true where all these conditions hold (see the class doc)."""
        return f"_t{self.tests.setdefault(self._test(conds), len(self.tests))}"

    def _tested(self, relation: str) -> str:
        """`relation` (the stage-1 result) with the _t<j> condition columns added."""
        cols = ["*", *(f"({sql}) AS _t{j}" for sql, j in self.tests.items())]
        return f"SELECT {', '.join(cols)} FROM {relation}"

    def _measure(self, expr: str, need: str | None) -> int:
        sql, used = compile_expr(expr, self.source, self.settings, self.params)
        j = self.measures.setdefault(sql, len(self.measures))
        self.reads[j] = set(used)
        if need:
            self.needs.setdefault(j, set()).add(need)
        return j

    def _part(self, a: Aggregate, where: list[Cond]) -> tuple[Fragment, Fragment | None]:
        """(value part, count of rows behind it or None) of one aggregate under the conditions."""
        if a.agg == "count_if":
            # Counted in stage 1 (count_if per row group), not a group key: the expression is
            # seen by one indicator part or a few, and every extra key makes every row's hash
            # lookup dearer and the reduced table bigger (~35 % of the approvals scan).
            sql, _ = compile_expr(a.expr, self.source, self.settings, self.params)
            j = self.flags.setdefault(sql, len(self.flags))
            # coalesce: a count over no rows is 0 (as count_if), not the NULL a sum gives.
            return Fragment(f"coalesce(sum(CASE WHEN {self._when(where)} THEN _q{j} END), 0)"), None
        t = self._when(where)
        j = self._measure(a.expr, None if a.agg == "count" else a.agg)
        count = Fragment(f"coalesce(sum(CASE WHEN {t} THEN _c{j} END), 0)")
        if a.agg == "count":
            return count, None
        if a.agg == "sum":
            return Fragment(f"sum(CASE WHEN {t} THEN _sum{j} END)"), count
        return Fragment(f"{a.agg}(CASE WHEN {t} THEN _{a.agg}{j} END)"), count

    def add(self, k: int, ind: Indicator) -> IndicatorAggregates:
        where = [
            self._cond(compile_filter(f, self.source, self.params), [f.column]) for f in ind.filters
        ]
        if ind.ratio is not None:
            num, _ = self._part(ind.ratio.numerator, where)
            den, den_count = self._part(ind.ratio.denominator, where)
            # n = records behind the denominator: rows counted, or rows with a value when summed.
            agg = IndicatorAggregates(
                num, den, den_count if ind.ratio.denominator.agg == "sum" else None, "ratio", "sum"
            )
        else:
            m = ind.measure
            assert (
                m is not None
            )  # validate_spec guarantees measure xor ratio for transaction sources
            if m.agg == "avg":
                total, count = self._part(Aggregate(agg="sum", expr=m.expr), where)
                agg = IndicatorAggregates(total, count, None, "ratio", "sum")
            else:
                part, count = self._part(m, where)
                if m.agg == "count_if":
                    count = Fragment(f"coalesce(sum(CASE WHEN {self._when(where)} THEN _n END), 0)")
                agg = IndicatorAggregates(
                    part, None, count, "plain", m.agg if m.agg in ("min", "max") else "sum"
                )
        self.parts.append((k, agg))
        return agg

    # -- SQL ---------------------------------------------------------------------------------
    def stage1(self, params: Params, periods: tuple[str, ...] | None = None) -> str:
        """The one scan: GROUP BY period, district_code and the atom masks.

        `periods`: only these quarters (kpi.engine.partials rescans the ones whose rows changed),
        bound in `params` (a copy of the plan's, which already holds every other value)."""
        keys = [quote(c) for c in self.keys if c not in ("period", "district_code")]
        cols = ["period", "district_code", *keys]
        n_words = (len(self.atoms) + self.BITS - 1) // self.BITS
        for w in range(n_words):
            terms = [
                f"CASE WHEN {sql} THEN {1 << (a % self.BITS)} ELSE 0 END"
                for sql, a in self.atoms.items()
                if a // self.BITS == w
            ]
            cols.append(f"({' + '.join(terms)})::BIGINT AS _m{w}")
        cols += ["count(*) AS _n", f"max({schema.PERIOD_TIME_COLUMN[self.source]}) AS _as_of"]
        for sql, j in self.flags.items():
            # A NULL expression is not counted, as in FILTER (WHERE …); non-boolean values are
            # cast as a WHERE clause would.
            cols.append(f"count_if(CAST(({sql}) AS BOOLEAN)) AS _q{j}")
        keyed = {"period", "district_code", *self.keys}
        for sql, j in self.measures.items():
            needs = sorted(self.needs.get(j, ()))
            if self.reads[j] <= keyed:
                # Only group keys in it: one value per row group, so the count, sum, min and max
                # over the group's rows follow from it and the group's row count — no per-row work.
                cols.append(f"CASE WHEN ({sql}) IS NULL THEN 0 ELSE count(*) END AS _c{j}")
                for need in needs:
                    value = f"CAST(({sql}) AS DOUBLE)"
                    cols.append(
                        f"{value} * count(*) AS _sum{j}"
                        if need == "sum"
                        else f"{value} AS _{need}{j}"
                    )
                continue
            cols.append(f"count({sql}) AS _c{j}")
            for need in needs:
                cols.append(f"{need}(CAST(({sql}) AS DOUBLE)) AS _{need}{j}")
        group = ", ".join(["period", "district_code", *keys, *(f"_m{w}" for w in range(n_words))])
        where = "period IS NOT NULL"
        if periods is not None:
            # Constants, so DuckDB prunes row groups by their min/max period (a quarter's load
            # is appended in row groups of its own).
            where = (
                f"period IN ({', '.join(params.add(p) for p in periods)})" if periods else "FALSE"
            )
        return f"SELECT {', '.join(cols)} FROM {quote(self.source)} WHERE {where} GROUP BY {group}"

    def stage2(self, relation: str) -> str:
        """Per (period, district): every indicator part as num_<k> / den_<k> / n_<k> columns.

        `relation` is the name of the stage-1 result (a name we choose, never user text); the
        values it binds are the plan's own (`self.params`).
        """
        select = [
            f"{frag.sql} AS {label}_{k}"
            for k, agg in self.parts
            for label, frag in (("num", agg.num), ("den", agg.den), ("n", agg.n))
            if frag is not None
        ]
        return (
            f"SELECT period, district_code, max(_as_of) AS as_of, {', '.join(select)} "
            f"FROM ({self._tested(relation)}) GROUP BY period, district_code"
        )

    def long_query(self, city: str, periods: tuple[str, ...] | None = None) -> tuple[str, dict]:
        """Both stages as one statement, in long form: (k, period, district_code, city, as_of, num, den, n).

        Stage 2 gives every (period, district) its parts, one row per indicator (unnest of lists).
        The city row of a period (`city` true, district_code = `city`) rolls those parts up —
        sums and counts add, min / max parts take the min / max — so it is the value over all
        records, those filed under the city's own code too, exactly as one aggregate over them
        (never a mean of district values). Rows filed under the city's code are not a district row.
        Returns (sql, named parameters).
        """
        params = self.params.copy()
        s1 = self.stage1(params, periods)
        s2 = self.stage2("_r")
        city_p = params.add(city)
        ks, nums, dens, ns = [], [], [], []
        rollup: dict[str, list[int]] = {"min": [], "max": []}
        for k, agg in self.parts:
            ks.append(str(k))
            nums.append(f"num_{k}::DOUBLE")
            dens.append(f"den_{k}::DOUBLE" if agg.den is not None else "NULL::DOUBLE")
            n = (
                f"n_{k}"
                if agg.n is not None
                else (f"den_{k}" if agg.den is not None else f"num_{k}")
            )
            ns.append(f"{n}::BIGINT")
            if agg.rollup in rollup:
                rollup[agg.rollup].append(k)
        city_num = "sum(num)"
        for how in ("max", "min"):
            if rollup[how]:
                city_num = f"CASE WHEN k IN ({', '.join(map(str, rollup[how]))}) THEN {how}(num) ELSE {city_num} END"
        sql = (
            f"WITH _r AS ({s1}), _s AS ({s2}), "
            "_l AS (SELECT unnest([" + ", ".join(ks) + "]) AS k, period, district_code, as_of, "
            f"unnest([{', '.join(nums)}]) AS num, unnest([{', '.join(dens)}]) AS den, "
            f"unnest([{', '.join(ns)}]) AS n FROM _s) "
            f"SELECT k, period, district_code, FALSE AS city, as_of, num, den, n FROM _l WHERE district_code <> {city_p} "
            f"UNION ALL SELECT k, period, {city_p}, TRUE, max(as_of), {city_num}, sum(den), sum(n) FROM _l GROUP BY k, period"
        )
        return sql, params.values

    def single_query(self) -> tuple[str, dict]:
        """Both stages as one statement (for EXPLAIN while validating)."""
        params = self.params.copy()
        s1 = self.stage1(params)
        return f"WITH _r AS ({s1}) {self.stage2('_r')}", params.values


def indicator_plan(ind: Indicator, settings: dict) -> SourcePlan:
    """A plan holding one indicator only. Raises ExprError on a bad column or expression."""
    plan = SourcePlan(ind.source, settings)
    plan.add(0, ind)
    return plan


def compile_spec(spec: MetricsSpec) -> dict[str, SourcePlan]:
    """source → its plan with every indicator of that source, for each transaction source in use."""
    settings = dict(spec.settings)
    plans: dict[str, SourcePlan] = {}
    for k, (_, ind) in enumerate(spec.indicators()):
        if ind.source in TRANSACTION_SOURCES:
            plans.setdefault(ind.source, SourcePlan(ind.source, settings)).add(k, ind)
    return plans
