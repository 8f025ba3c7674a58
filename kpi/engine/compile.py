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
from kpi.spec.models import RECTIFY_LIMIT_SETTING, Aggregate, Filter, Indicator, MetricsSpec
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
def _catalogue_columns() -> tuple[tuple[str, str, bool], ...]:
    """(table, column, nullable) of each canonical table, read from the DDL itself."""
    con = store.connect_memory()
    try:
        for ddl in schema.CANONICAL_DDL.values():
            con.execute(ddl)
        rows = con.execute(
            "SELECT table_name, column_name, is_nullable = 'YES' FROM information_schema.columns "
            "ORDER BY table_name, ordinal_position"
        ).fetchall()
    finally:
        con.close()
    return tuple((t, c, bool(n)) for t, c, n in rows)


@lru_cache(maxsize=1)
def canonical_columns() -> dict[str, tuple[str, ...]]:
    """Column names of each canonical table, read from the DDL itself (one source of truth)."""
    out: dict[str, list[str]] = {}
    for table, column, _ in _catalogue_columns():
        out.setdefault(table, []).append(column)
    return {t: tuple(c) for t, c in out.items()}


def expression_columns(source: str) -> set[str]:
    """What an expression or filter of `source` may read: its columns and the virtual ones."""
    return set(canonical_columns()[source]) | set(schema.VIRTUAL_COLUMNS.get(source, {}))


# Columns that are always there (keys, required times, the period): never a "no such column".
_ALWAYS = frozenset({"period", "district_code", "source_file", "source_line", "load_id"})


def optional_columns(source: str) -> set[str]:
    """Columns of `source` an export may lack (nullable, not a key, not the period)."""
    keys = set(schema.NATURAL_KEYS.get(source, ()))
    return {
        c
        for t, c, nullable in _catalogue_columns()
        if t == source and nullable and c not in keys and c not in _ALWAYS
    }


def required_columns(ind: Indicator) -> tuple[str, ...]:
    """The columns without which the indicator's value means nothing (Indicator.requires; by
    default the optional columns its numerator and denominator — or measure — read)."""
    if ind.requires is not None:
        return tuple(ind.requires)
    parts = [ind.ratio.numerator, ind.ratio.denominator] if ind.ratio else []
    if ind.measure is not None:
        parts = [ind.measure]
    optional = optional_columns(ind.source)
    out: list[str] = []
    for a in parts:
        _, used = compile_expr(a.expr, ind.source, {}, Params(), check_settings=False)
        out += [c for c in used if c in optional and c not in out]
    return tuple(out)


def compile_expr(
    expr: str,
    source: str,
    settings: dict,
    params: Params | None = None,
    check_settings: bool = True,
) -> tuple[str, list[str]]:
    """Check and rewrite one expression: columns quoted, '…' and $settings bound as named
    parameters in `params`. Raises ExprError. Returns (sql, the columns it reads)."""
    columns = expression_columns(source)
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
            if name not in settings and check_settings:
                raise ExprError(f"表达式“{expr}”引用的设置 ${name} 在 settings 中不存在")
            out.append(params.add(settings.get(name)))
        else:
            out.append(tok)
    if not out:
        raise ExprError("表达式为空")
    return " ".join(out), used


def compile_filter(f: Filter, source: str, params: Params, settings: dict | None = None) -> str:
    """One filter as an SQL predicate, its values bound in `params`. Unknown columns raise ExprError.

    A filter with `when` applies only while that setting is true (its value is bound)."""
    if f.column not in expression_columns(source):
        raise ExprError(f"筛选条件的列“{f.column}”在 {source} 表中不存在")
    col = quote(f.column)
    if f.op == "is_null":
        sql = f"{col} IS NULL"
    elif f.op == "not_null":
        sql = f"{col} IS NOT NULL"
    elif f.op in ("in", "not_in"):
        values = list(f.value) if isinstance(f.value, tuple) else [f.value]
        marks = ", ".join(params.add(v) for v in values)
        sql = f"{col} {'NOT IN' if f.op == 'not_in' else 'IN'} ({marks})"
    else:
        sql = f"{col} {f.op} {params.add(f.value)}"
    if f.when is None:
        return sql
    if settings is None or f.when not in settings:
        raise ExprError(f"筛选条件的 when 引用的设置 {f.when} 在 settings 中不存在")
    return f"(NOT coalesce(CAST({params.add(settings[f.when])} AS BOOLEAN), FALSE) OR {sql})"


def compile_filters(
    filters: tuple[Filter, ...], source: str, params: Params, settings: dict | None = None
) -> str:
    """AND of all filters, values bound in `params`."""
    parts = [compile_filter(f, source, params, settings) for f in filters]
    return " AND ".join(parts) if parts else "TRUE"


@dataclass(frozen=True)
class Fragment:
    sql: str


@dataclass(frozen=True)
class IndicatorAggregates:
    """The stage-2 aggregates of one indicator, and how to turn them into a value.

    num / den / n are SQL aggregate fragments over the reduced table; den and n may be None: the
    value is num/den·scale when den is set (kind 'ratio'), else num (kind 'plain'); n is the
    sample size, taken from `n`, else `den`, else `num`. scope counts the records within the
    filters whatever their exports had, missing those of them from exports without a required
    column, base the coverage base (Indicator.coverage) — each None when not needed.
    """

    num: Fragment
    den: Fragment | None
    n: Fragment | None
    kind: str  # ratio | plain
    rollup: str  # how district parts combine into the city value: sum | min | max
    scope: Fragment | None = None
    missing: Fragment | None = None
    base: Fragment | None = None


# Columns with few distinct values (a closed vocabulary, or small counts and per-item limits):
# conditions on them alone are cheaper to keep as raw group keys than to evaluate per row.
CATEGORICAL: dict[str, frozenset[str]] = {
    "approvals": frozenset(
        {
            "domain_key",
            "status",
            "channel",
            "case_type",
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
            "urgency",
            "followed_up",
            "resolved",
            "satisfaction",
            "is_repeat",
            "on_time",
            "calendar_known",
        }
    ),
    "ratings": frozenset(
        {
            "domain_key",
            "channel",
            "level",
            "level_label",
            "is_bad",
            "rectified",
            "rating_seq",
            "appeal_voided",
            "followed_up",
        }
    ),
}

# What a 事项-level indicator (over: items) may read: attributes of the item, not of the 办件.
ITEM_COLUMNS = frozenset(
    {"item_code", "domain_key", "status", "legal_limit_days", "promised_limit_days"}
)


@dataclass(frozen=True)
class Cond:
    """One condition of an indicator: a bit of the stage-1 mask, or SQL over a stage-1 key."""

    bit: int | None = None
    sql: str = ""


@dataclass(frozen=True)
class PlanKind:
    """Which scan an indicator's parts come from: its table, how records are put in quarters
    (`due`: when they fall due), whether each 事项 counts once (`items`), whether it reads a
    virtual column joined in from another table (`linked`), and whether the parts are per unit
    (`unit`: 承办单位 / 办理部门 / 评价部门) rather than per district."""

    table: str
    due: bool = False
    items: bool = False
    linked: bool = False
    unit: bool = False

    @property
    def name(self) -> str:
        flags = (("due", self.due), ("items", self.items), ("linked", self.linked))
        return self.table + "".join(f"@{f}" for f, on in (*flags, ("unit", self.unit)) if on)

    @staticmethod
    def of(ind: Indicator, settings: dict, unit: bool = False) -> PlanKind:
        reads: set[str] = set()
        exprs = [ind.measure] if ind.measure else []
        if ind.ratio is not None:
            exprs += [ind.ratio.numerator, ind.ratio.denominator]
        if ind.coverage is not None:
            exprs.append(ind.coverage.base)
        for a in exprs:
            reads |= set(compile_expr(a.expr, ind.source, settings, Params(), False)[1])
        reads |= {f.column for f in ind.filters}
        linked = bool(reads & set(schema.VIRTUAL_COLUMNS.get(ind.source, {})))
        return PlanKind(ind.source, ind.period_by == "due", ind.over == "items", linked, unit)


class SourcePlan:
    """Two-stage plan for one scan of a source, shared by all its indicators of the same kind.

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

    When an indicator needs columns an export may lack (required_columns), the load that wrote
    each record is a stage-1 key too, and stage 2 looks its columns up in etl_runs.fields: records
    from exports without a required column are left out of the value (and counted as `missing`).
    The kind (PlanKind) changes only the relation scanned (records by due quarter, a virtual
    column joined in) and the grouping (per 事项, per unit).
    """

    BITS = 62  # conditions per BIGINT mask word (sign bit unused)

    def __init__(self, source: str | PlanKind, settings: dict):
        self.kind = source if isinstance(source, PlanKind) else PlanKind(source)
        self.source = self.kind.table
        self.name = self.kind.name
        self.settings = settings
        # Every value the plan's SQL binds, by name ($approvals_0 …): one set per scan, so the
        # scans of several sources can run as one statement (kpi.engine.partials).
        self.params = Params(self.name.replace("@", "_"))
        self.keys: list[str] = []  # categorical columns grouped raw in stage 1
        if self.kind.items:
            self.keys.append("item_code")
        self.atoms: dict[str, int] = {}  # sql → mask bit
        self.measures: dict[str, int] = {}  # sql → j
        self.needs: dict[int, set[str]] = {}  # j → {'sum', 'min', 'max'}
        self.reads: dict[int, set[str]] = {}  # j → the columns measure j reads
        self.flags: dict[str, int] = {}  # sql of a count_if expression → j
        self.tests: dict[str, int] = {}  # sql of an indicator's conditions → j of _t<j>
        self.parts: list[tuple[int, IndicatorAggregates]] = []
        self.by_load = False  # the load that wrote a record is a stage-1 key (required columns)

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
        """`relation` (the stage-1 result) with the _t<j> condition columns added — and, when
        the plan groups by load, each load's columns (etl_runs.fields) as `_fields`."""
        if self.by_load:
            relation = (
                f"(SELECT _s1.*, _e.fields AS _fields FROM {relation} _s1 "
                "LEFT JOIN etl_runs _e ON _e.load_id = _s1.load_id)"
            )
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
        if self.kind.items:
            return self._item_part(a, where)
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

    def _item_part(self, a: Aggregate, where: list[Cond]) -> tuple[Fragment, Fragment | None]:
        """One aggregate over the 事项 rather than the 办件 (over: items): every stage-1 group is
        one item with its limits (the expressions read item attributes only, all group keys), so
        it counts once — its value is the group's sum ÷ its count — however many cases it had."""
        t = self._when(where)
        if a.agg == "count_if":
            sql, _ = compile_expr(a.expr, self.source, self.settings, self.params)
            j = self.flags.setdefault(sql, len(self.flags))
            return Fragment(f"coalesce(sum(CASE WHEN {t} AND _q{j} > 0 THEN 1 END), 0)"), None
        j = self._measure(a.expr, "sum")
        count = Fragment(f"coalesce(sum(CASE WHEN {t} AND _c{j} > 0 THEN 1 END), 0)")
        if a.agg == "count":
            return count, None
        return Fragment(f"sum(CASE WHEN {t} AND _c{j} > 0 THEN _sum{j} / _c{j} END)"), count

    def add(self, k: int, ind: Indicator) -> IndicatorAggregates:
        scope = [
            self._cond(compile_filter(f, self.source, self.params, self.settings), [f.column])
            for f in ind.filters
        ]
        where = list(scope)
        missing = None
        required = () if self.kind.items else required_columns(ind)
        if required:
            # Records from exports that lacked a required column are not in the value: an old
            # load (fields NULL) counts as having it.
            self.by_load = True
            has = f"coalesce(list_has_all(_fields, {self.params.add(list(required))}), TRUE)"
            where.append(Cond(sql=has))
            missing = Fragment(
                f"coalesce(sum(CASE WHEN {self._when([*scope, Cond(sql=f'NOT {has}')])} THEN _n END), 0)"
            )
        scope_n = Fragment(f"coalesce(sum(CASE WHEN {self._when(scope)} THEN _n END), 0)")
        base = None
        if ind.coverage is not None:
            base, _ = self._part(ind.coverage.base, where)
        if ind.ratio is not None:
            num, _ = self._part(ind.ratio.numerator, where)
            den, den_count = self._part(ind.ratio.denominator, where)
            # n = records behind the denominator: rows counted, or rows with a value when summed.
            agg = IndicatorAggregates(
                num,
                den,
                den_count if ind.ratio.denominator.agg == "sum" else None,
                "ratio",
                "sum",
                scope_n,
                missing,
                base,
            )
        else:
            m = ind.measure
            assert (
                m is not None
            )  # validate_spec guarantees measure xor ratio for transaction sources
            if m.agg == "avg":
                total, count = self._part(Aggregate(agg="sum", expr=m.expr), where)
                agg = IndicatorAggregates(
                    total, count, None, "ratio", "sum", scope_n, missing, base
                )
            else:
                part, count = self._part(m, where)
                if m.agg == "count_if":
                    count = Fragment(f"coalesce(sum(CASE WHEN {self._when(where)} THEN _n END), 0)")
                agg = IndicatorAggregates(
                    part,
                    None,
                    count,
                    "plain",
                    m.agg if m.agg in ("min", "max") else "sum",
                    scope_n,
                    missing,
                    base,
                )
        self.parts.append((k, agg))
        return agg

    # -- SQL ---------------------------------------------------------------------------------
    def relation(self, params: Params) -> str:
        """What the scan reads: the table, or — for due dates, a virtual column — a view of it
        whose `period` is the quarter that decides (values bound in `params`)."""
        rel = quote(self.source)
        if self.kind.due and self.source in ("approvals", "hotline"):
            rel = f"(SELECT * REPLACE (due_period AS period) FROM {rel})"
        elif self.kind.due:
            # 好差评: the quarter a 差评's rectification deadline (rated + N working days) falls in
            days = params.add(int(self.settings.get(RECTIFY_LIMIT_SETTING, 15)))
            rel = (
                "(SELECT _r.* REPLACE (strftime(_cd.day, '%Y') || 'Q' || CAST(quarter(_cd.day) AS VARCHAR) "
                f"AS period) FROM {rel} _r LEFT JOIN calendar _c0 ON _c0.day = CAST(_r.rated_at AS DATE) "
                f"LEFT JOIN calendar _cd ON _cd.is_workday AND _cd.workday_seq = _c0.workday_seq + {days})"
            )
        if self.kind.linked:
            # is_rated: the 办件 has a first 好差评 rating (via ratings.case_id)
            rel = (
                f"(SELECT _x.*, _lr.case_id IS NOT NULL AS is_rated FROM {rel} _x LEFT JOIN "
                "(SELECT DISTINCT case_id FROM ratings WHERE case_id IS NOT NULL "
                "AND coalesce(rating_seq, 1) = 1) _lr ON _lr.case_id = _x.case_id)"
            )
        return rel

    def stage1(self, params: Params, periods: tuple[str, ...] | None = None) -> str:
        """The one scan: GROUP BY period, district_code and the atom masks.

        `periods`: only these quarters (kpi.engine.partials rescans the ones whose rows changed),
        bound in `params` (a copy of the plan's, which already holds every other value)."""
        keys = [quote(c) for c in self.keys if c not in ("period", "district_code")]
        if self.by_load:
            keys.append("load_id")
        if self.kind.unit:
            keys.append(f"{quote(schema.UNIT_COLUMNS[self.source])} AS _unit")
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
        group = [
            "period",
            "district_code",
            *(k.split(" AS ")[0] for k in keys),
            *(f"_m{w}" for w in range(n_words)),
        ]
        where = "period IS NOT NULL"
        if self.kind.unit:
            where += f" AND {quote(schema.UNIT_COLUMNS[self.source])} IS NOT NULL"
        if periods is not None:
            # Constants, so DuckDB prunes row groups by their min/max period (a quarter's load
            # is appended in row groups of its own).
            where = (
                f"{where} AND period IN ({', '.join(params.add(p) for p in periods)})"
                if periods
                else "FALSE"
            )
        return (
            f"SELECT {', '.join(cols)} FROM {self.relation(params)} WHERE {where} "
            f"GROUP BY {', '.join(group)}"
        )

    def stage2(self, relation: str) -> str:
        """Per (period, district[, unit]): every indicator part as num_<k> / den_<k> / n_<k> …
        columns, and `_rows` (every record of the scan).

        `relation` is the name of the stage-1 result (a name we choose, never user text); the
        values it binds are the plan's own (`self.params`).
        """
        labels = ("num", "den", "n", "scope", "missing", "base")
        select = [
            f"{frag.sql} AS {label}_{k}"
            for k, agg in self.parts
            for label, frag in zip(
                labels, (agg.num, agg.den, agg.n, agg.scope, agg.missing, agg.base), strict=True
            )
            if frag is not None
        ]
        by = "period, district_code" + (", _unit" if self.kind.unit else "")
        return (
            f"SELECT {by}, max(_as_of) AS as_of, sum(_n) AS _rows, {', '.join(select)} "
            f"FROM ({self._tested(relation)}) GROUP BY {by}"
        )

    def long_query(self, city: str, periods: tuple[str, ...] | None = None) -> tuple[str, dict]:
        """Both stages as one statement, in long form:
        (k, period, district_code, unit, city, as_of, num, den, n, scope_n, missing_n, base).

        Stage 2 gives every (period, district) its parts, one row per indicator (unnest of lists),
        and one row with k = -1 whose n counts every record of the scan there. The city row of a
        period (`city` true, district_code = `city`) rolls those parts up — sums and counts add,
        min / max parts take the min / max — so it is the value over all records, those filed
        under the city's own code too, exactly as one aggregate over them (never a mean of
        district values). Rows filed under the city's code are not a district row. A unit scan
        has no city row. Returns (sql, named parameters).
        """
        params = self.params.copy()
        s1 = self.stage1(params, periods)
        s2 = self.stage2("_r")
        city_p = params.add(city)
        # k = -1: every record of the scan in the cell (tells 无数据 from 没有此类记录)
        ks, nums, dens, ns = ["-1"], ["NULL"], ["NULL"], ["_rows"]
        scopes, misses, bases = ["NULL"], ["NULL"], ["NULL"]
        rollup: dict[str, list[int]] = {"min": [], "max": []}
        for k, agg in self.parts:
            ks.append(str(k))
            nums.append(f"num_{k}")
            dens.append(f"den_{k}" if agg.den is not None else "NULL")
            n = (
                f"n_{k}"
                if agg.n is not None
                else (f"den_{k}" if agg.den is not None else f"num_{k}")
            )
            ns.append(n)
            scopes.append(f"scope_{k}" if agg.scope is not None else "NULL")
            misses.append(f"missing_{k}" if agg.missing is not None else "NULL")
            bases.append(f"base_{k}" if agg.base is not None else "NULL")
            if agg.rollup in rollup:
                rollup[agg.rollup].append(k)

        def arr(items: list[str], kind: str) -> str:
            return "unnest([" + ", ".join(f"{x}::{kind}" for x in items) + "])"

        city_num = "sum(num)"
        for how in ("max", "min"):
            if rollup[how]:
                city_num = f"CASE WHEN k IN ({', '.join(map(str, rollup[how]))}) THEN {how}(num) ELSE {city_num} END"
        unit = "_unit" if self.kind.unit else "NULL::VARCHAR"
        sql = (
            f"WITH _r AS ({s1}), _s AS ({s2}), "
            f"_l AS (SELECT {arr(ks, 'INTEGER')} AS k, period, district_code, {unit} AS unit, as_of, "
            f"{arr(nums, 'DOUBLE')} AS num, {arr(dens, 'DOUBLE')} AS den, {arr(ns, 'BIGINT')} AS n, "
            f"{arr(scopes, 'BIGINT')} AS scope_n, {arr(misses, 'BIGINT')} AS missing_n, "
            f"{arr(bases, 'DOUBLE')} AS base FROM _s) "
            "SELECT k, period, district_code, unit, FALSE AS city, as_of, num, den, n, scope_n, missing_n, base "
            + (
                "FROM _l"
                if self.kind.unit
                else f"FROM _l WHERE district_code <> {city_p} "
                f"UNION ALL SELECT k, period, {city_p}, NULL, TRUE, max(as_of), {city_num}, sum(den), sum(n), "
                "sum(scope_n), sum(missing_n), sum(base) FROM _l GROUP BY k, period"
            )
        )
        return sql, params.used_in(sql)

    def single_query(self) -> tuple[str, dict]:
        """Both stages as one statement (for EXPLAIN while validating)."""
        params = self.params.copy()
        s1 = self.stage1(params)
        sql = f"WITH _r AS ({s1}) {self.stage2('_r')}"
        return sql, params.used_in(sql)


def indicator_plan(ind: Indicator, settings: dict) -> SourcePlan:
    """A plan holding one indicator only. Raises ExprError on a bad column or expression."""
    plan = SourcePlan(PlanKind.of(ind, settings), settings)
    plan.add(0, ind)
    return plan


def compile_spec(spec: MetricsSpec) -> dict[str, SourcePlan]:
    """Plan name → its plan, with every indicator of that kind of scan (PlanKind): per district
    for every transaction indicator, and per unit for the unit scorecards (spec.units)."""
    settings = dict(spec.settings)
    plans: dict[str, SourcePlan] = {}
    units = set(spec.units.indicators) if spec.units else set()
    for k, (_, ind) in enumerate(spec.indicators()):
        if ind.source not in TRANSACTION_SOURCES:
            continue
        kinds = [PlanKind.of(ind, settings)]
        if ind.key in units:
            kinds.append(PlanKind.of(ind, settings, unit=True))
        for kind in kinds:
            plans.setdefault(kind.name, SourcePlan(kind, settings)).add(k, ind)
    return plans


_PLAN_WORDS = {"due": "按办结期限", "items": "按事项", "linked": "对应好差评", "unit": "按单位"}


def plan_label(name: str) -> str:
    """A scan's name as users read it: 'approvals@due@unit' → 办件（按办结期限、按单位）."""
    table, *flags = name.split("@")
    label = schema.SOURCE_LABELS.get(table, table)
    return f"{label}（{'、'.join(_PLAN_WORDS.get(f, f) for f in flags)}）" if flags else label
