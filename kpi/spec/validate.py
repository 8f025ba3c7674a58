"""Semantic checks of metrics.yaml, on whatever can be read of it — also when the models cannot
be built (structure is pydantic's job, kpi.spec.load reports it), so one run names every problem.

Every rule appends a problem instead of raising, so the user sees all of them at once; each
message names the file and line (SourceMap.where), the entry, what is wrong and the fix.
Layers: identity (unique ids/keys) and weights, read from the raw YAML data → per-indicator rules
(shape, dtf, RAG thresholds, columns and expressions) on every indicator that builds on its own
(a broken one is skipped: its structure problem is already reported, and a rule on a half-read
entry would only echo it) → headline/defaults → compiled SQL through DuckDB EXPLAIN on empty
canonical tables (only for indicators that passed the earlier layers, to avoid echo errors).
"""

from __future__ import annotations

import contextlib
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ValidationError

from kpi import catalog as kpi_catalog
from kpi import schema, settings, store
from kpi.engine.compile import (
    ITEM_COLUMNS,
    TRANSACTION_SOURCES,
    ExprError,
    canonical_columns,
    compile_expr,
    expression_columns,
    indicator_plan,
    optional_columns,
)
from kpi.spec.models import RECTIFY_LIMIT_SETTING, Defaults, Indicator
from kpi.spec.source import SourceMap

WEIGHT_TOLERANCE = 1e-6


def _fmt(x: float) -> str:
    return f"{x:.6g}"


def _list(value) -> list:
    return value if isinstance(value, list) else []


def _dicts(value) -> list[tuple[int, dict]]:
    return [(i, v) for i, v in enumerate(_list(value)) if isinstance(v, dict)]


def _number(value) -> float | None:
    """A weight as written: a number (not true/false, not a quoted '0.3'), else None."""
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _total(weights: list[float | None]) -> float | None:
    """The sum when every weight is a number; None when one is missing or not a number."""
    numbers = [w for w in weights if w is not None]
    return sum(numbers) if len(numbers) == len(weights) else None


def _build(model: type[BaseModel], raw):
    """The model of one entry, or None when the entry itself is broken (reported by kpi.spec.load)."""
    try:
        return model.model_validate(raw)
    except ValidationError:
        return None


def validate(
    src: SourceMap, *, check_sql: bool = True, catalog_dir: Path | None = None
) -> list[str]:
    """Every semantic problem of the spec in `src` (its raw data, line map and file name)."""
    raw = src.raw if isinstance(src.raw, dict) else {}
    problems: list[str] = []
    catalog = settings.catalog_dir(catalog_dir)
    spec_settings: dict = raw["settings"] if isinstance(raw.get("settings"), dict) else {}
    problems += _unique(src)
    problems += _weights(src)
    sql_ready: list[tuple[tuple, Indicator]] = []
    for i, dom in _dicts(raw.get("domains")):
        for j, raw_ind in _dicts(dom.get("indicators")):
            ind = _build(Indicator, raw_ind)
            if ind is None:
                continue
            path = ("domains", i, "indicators", j)
            found = _indicator(spec_settings, ind, path, src, catalog)
            problems += found
            if not found and ind.source in TRANSACTION_SOURCES:
                sql_ready.append((path, ind))
    problems += _top_level(raw, src)
    problems += _units(raw, src)
    if check_sql and sql_ready:
        problems += _explain(spec_settings, sql_ready, src)
    return problems


def _unique(src: SourceMap) -> list[str]:
    problems: list[str] = []
    domains = _dicts(src.raw.get("domains")) if isinstance(src.raw, dict) else []
    indicators = [(i, j, ind) for i, d in domains for j, ind in _dicts(d.get("indicators"))]
    for what, items in (
        ("领域 id", [(("domains", i, "id"), d.get("id")) for i, d in domains]),
        ("领域 key", [(("domains", i, "key"), d.get("key")) for i, d in domains]),
        (
            "指标 id",
            [(("domains", i, "indicators", j, "id"), x.get("id")) for i, j, x in indicators],
        ),
        (
            "指标 key",
            [(("domains", i, "indicators", j, "key"), x.get("key")) for i, j, x in indicators],
        ),
    ):
        first: dict[object, tuple] = {}
        for path, value in items:
            if not isinstance(value, str | int | float):  # missing or not a name: structure's job
                continue
            if value in first:
                problems.append(
                    f"{src.where(path)}：{what}“{value}”与第 {src.line(first[value])} 行重复。"
                    f"改法：给其中一个换一个唯一的 {what.split()[-1]}。"
                )
            else:
                first[value] = path
    return problems


def _mixed(items: list[tuple[int, dict]], where: str, what: str) -> list[str]:
    """Either every entry writes a weight or none does (none: equal weights)."""
    given = ["weight" in x for _, x in items]
    if any(given) and not all(given):
        return [
            f"{where}：有的{what}写了 weight，有的没写。改法：都不写（等权，依据见 defaults.weight_basis），"
            f"或给每一项写上 weight（合计为 1）并在 weight_basis 写明依据。"
        ]
    return []


def _weights(src: SourceMap) -> list[str]:
    """Weights sum to 1 (domains; indicators within a domain) and none is negative. A sum is only
    checked when every weight in it is a number (a missing or quoted one is a structure problem).
    Leaving out every weight of a level means equal weights; leaving out only some is an error."""
    problems: list[str] = []
    domains = _dicts(src.raw.get("domains")) if isinstance(src.raw, dict) else []
    if not domains:
        return problems
    problems += _mixed(domains, f"{src.file} 第 {src.line(('domains',))} 行，domains", "领域")
    weights = [_number(d.get("weight")) for _, d in domains]
    total = _total(weights) if all("weight" in d for _, d in domains) else None
    if total is not None and abs(total - 1) > WEIGHT_TOLERANCE:
        problems.append(
            f"{src.file} 第 {src.line(('domains',))} 行，domains：各领域 weight 合计为 {_fmt(total)}，应为 1。"
            "改法：调整各领域的 weight，使其合计等于 1。"
        )
    for (i, dom), weight in zip(domains, weights, strict=True):
        if weight is not None and weight < 0:
            problems.append(
                f"{src.where(('domains', i, 'weight'))}：weight 为负数 {_fmt(weight)}。改法：改为 0 到 1 之间的数。"
            )
        inds = _dicts(dom.get("indicators"))
        problems += _mixed(inds, src.where(("domains", i, "indicators")), "指标")
        ind_weights = [_number(ind.get("weight")) for _, ind in inds]
        ind_total = _total(ind_weights) if all("weight" in x for _, x in inds) else None
        if inds and ind_total is not None and abs(ind_total - 1) > WEIGHT_TOLERANCE:
            problems.append(
                f"{src.where(('domains', i, 'indicators'))}：领域内各指标 weight 合计为 {_fmt(ind_total)}，应为 1。"
                "改法：调整该领域各指标的 weight，使其合计等于 1。"
            )
        for (j, _), w in zip(inds, ind_weights, strict=True):
            if w is not None and w < 0:
                problems.append(
                    f"{src.where(('domains', i, 'indicators', j, 'weight'))}：weight 为负数 {_fmt(w)}。"
                    "改法：改为 0 到 1 之间的数。"
                )
    return problems


def _indicator(
    spec_settings: dict, ind: Indicator, path: tuple, src: SourceMap, catalog: Path
) -> list[str]:
    p: list[str] = []
    at = src.where
    better = "大" if ind.higher_is_better else "小"
    # shape by source
    if ind.source == "reports":
        for field in ("measure", "ratio"):
            if getattr(ind, field) is not None:
                p.append(
                    f"{at((*path, field))}：source 为 reports 的指标取部门填报值，不能再写 {field}。"
                    f"改法：删除 {field}，或把 source 改为 approvals / hotline / ratings。"
                )
        if ind.filters:
            p.append(
                f"{at((*path, 'filters'))}：source 为 reports 的指标不能写 filters。改法：删除 filters。"
            )
    else:
        if (ind.measure is None) == (ind.ratio is None):
            p.append(
                f"{at(path)}：source 为 {ind.source} 的指标必须且只能写 measure 或 ratio 之一。"
                "改法：平均值/合计写 measure: {agg, expr}，比率写 ratio: {numerator, denominator}。"
            )
        if ind.ratio is not None:
            for part in ("numerator", "denominator"):
                agg = getattr(ind.ratio, part).agg
                if agg not in ("sum", "count", "count_if"):
                    p.append(
                        f"{at((*path, 'ratio', part, 'agg'))}：比率的 {part} 不能用 {agg}。"
                        "改法：改为 count_if（按条件计件）、count（计件）或 sum（求和）。"
                    )
        p += _columns_and_exprs(spec_settings, ind, path, src, catalog)
    # dtf bounds
    if ind.dtf.best == ind.dtf.worst:
        p.append(
            f"{at((*path, 'dtf'))}：dtf 的 best 与 worst 相等（{_fmt(ind.dtf.best)}），无法计算前沿距离得分。"
            "改法：把 best 设为最优值、worst 设为最差值，两者不能相等。"
        )
    elif (ind.dtf.best > ind.dtf.worst) != ind.higher_is_better:
        p.append(
            f"{at((*path, 'dtf'))}：方向为 {ind.direction}（越{better}越好），但 dtf best={_fmt(ind.dtf.best)} "
            f"不比 worst={_fmt(ind.dtf.worst)} 更{better}。改法：交换 best 与 worst，或改正 direction。"
        )
    # RAG thresholds
    if (ind.warn is None) != (ind.advanced is None):
        p.append(
            f"{at(path)}：warn（预警值）和 advanced（先进值）要么都写，要么都不写。改法：补上缺的那一个。"
        )
    elif ind.warn is not None and ind.advanced is not None:
        wrong = ind.advanced < ind.warn if ind.higher_is_better else ind.advanced > ind.warn
        if wrong:
            p.append(
                f"{at((*path, 'advanced'))}：方向为越{better}越好，先进值 advanced={_fmt(ind.advanced)} "
                f"应不比预警值 warn={_fmt(ind.warn)} 差。改法：交换两者，或改正 direction。"
            )
    p += _issue13_rules(spec_settings, ind, path, src)
    if ind.min_sample is not None and ind.min_sample < 1:
        p.append(f"{at((*path, 'min_sample'))}：min_sample 应至少为 1。改法：改为 1 或更大的整数。")
    if ind.neutral_band is not None and ind.neutral_band < 0:
        p.append(f"{at((*path, 'neutral_band'))}：neutral_band 不能为负数。改法：改为 0 或正数。")
    return p


def _issue13_rules(spec_settings: dict, ind: Indicator, path: tuple, src: SourceMap) -> list[str]:
    """The fields that say how an indicator counts: period_by, over, requires, coverage,
    reported, filters' when, multiplier."""
    p: list[str] = []
    at = src.where
    transaction = ind.source in TRANSACTION_SOURCES
    if ind.period_by == "due":
        if not transaction:
            p.append(
                f"{at((*path, 'period_by'))}：period_by: due 只用于办件、12345 工单、好差评的指标。"
                "改法：删除 period_by。"
            )
        elif ind.source == "ratings" and RECTIFY_LIMIT_SETTING not in spec_settings:
            p.append(
                f"{at((*path, 'period_by'))}：好差评按期限归季度要用设置 {RECTIFY_LIMIT_SETTING}（差评整改时限，"
                "工作日）。改法：在 settings 中加上，例如 rectify_limit_days: 15。"
            )
    if ind.over == "items":
        if ind.source != "approvals":
            p.append(
                f"{at((*path, 'over'))}：over: items（按事项目录计）只用于办件指标。改法：删除 over。"
            )
        else:
            reads = {f.column for f in ind.filters}
            parts = [ind.ratio.numerator, ind.ratio.denominator] if ind.ratio else []
            for a in [x for x in (ind.measure, *parts) if x is not None]:
                with contextlib.suppress(ExprError):
                    reads |= set(compile_expr(a.expr, ind.source, spec_settings)[1])
            other = sorted(reads - ITEM_COLUMNS)
            if other:
                p.append(
                    f"{at((*path, 'over'))}：按事项目录计时只能用事项本身的列（{'、'.join(sorted(ITEM_COLUMNS))}），"
                    f"不能用办件的列 {'、'.join(other)}。改法：去掉这些条件，或删除 over: items。"
                )
    if ind.requires is not None and transaction:
        optional = optional_columns(ind.source)
        bad = [c for c in ind.requires if c not in optional]
        if bad:
            p.append(
                f"{at((*path, 'requires'))}：requires 中的 {'、'.join(bad)} 不是 {ind.source} 表中导出可能缺少的列。"
                f"改法：改成 {ind.source} 的列之一（{', '.join(sorted(optional))}），或删除 requires。"
            )
    if ind.coverage is not None:
        if not transaction:
            p.append(
                f"{at((*path, 'coverage'))}：coverage 只用于办件、12345 工单、好差评的指标。改法：删除 coverage。"
            )
        else:
            try:
                compile_expr(ind.coverage.base.expr, ind.source, spec_settings)
            except ExprError as err:
                p.append(
                    f"{at((*path, 'coverage', 'base', 'expr'))}：{err}。改法：只使用 {ind.source} 表的列。"
                )
            low = ind.coverage.min
            if isinstance(low, str) and (not low.startswith("$") or low[1:] not in spec_settings):
                p.append(
                    f"{at((*path, 'coverage', 'min'))}：coverage.min 应是百分数，或 settings 中已有的 $设置名。"
                    "改法：例如 min: 50 或 min: $hotline_min_followup_rate。"
                )
    if ind.reported is not None and ind.source != "reports":
        p.append(
            f"{at((*path, 'reported'))}：reported（填报的分子、分母）只用于 source: reports 的指标。改法：删除 reported。"
        )
    for f_i, f in enumerate(ind.filters):
        if f.when is not None and not isinstance(spec_settings.get(f.when), bool):
            p.append(
                f"{at((*path, 'filters', f_i, 'when'))}：when 应是 settings 中取值为 true/false 的设置名，"
                f"“{f.when}”{'不存在' if f.when not in spec_settings else '不是 true/false'}。"
                "改法：改成这样的设置名，或删除 when。"
            )
    if ind.multiplier is not None and ind.multiplier <= 0:
        p.append(f"{at((*path, 'multiplier'))}：multiplier 应大于 0。改法：例如 100 或 1000。")
    return p


def _units(raw: dict, src: SourceMap) -> list[str]:
    """units.indicators: existing keys of transaction indicators, not counted over items."""
    units = raw.get("units")
    if not isinstance(units, dict):
        return []
    by_key = {
        ind.get("key"): ind
        for _, d in _dicts(raw.get("domains"))
        for _, ind in _dicts(d.get("indicators"))
    }
    p = []
    for n, key in enumerate(_list(units.get("indicators"))):
        ind = by_key.get(key)
        where = f"{src.file} 第 {src.line(('units', 'indicators', n))} 行，units.indicators"
        if ind is None:
            p.append(f"{where}：指标 key“{key}”不存在。改法：改成某个指标的 key，或删除这一项。")
        elif ind.get("source") not in TRANSACTION_SOURCES or ind.get("over") == "items":
            p.append(
                f"{where}：单位记分卡只能用办件、12345 工单、好差评的逐条记录指标，“{key}”不是。"
                "改法：删除这一项。"
            )
    return p


# Filter columns whose values come from the catalogue: a typo there silently selects nothing.
_CATALOG_VOCAB = {
    "domain_key": ("domains.csv", "domain_key"),
    "topic": ("hotline_topics.csv", "topic"),
    "item_code": ("items.csv", "item_code"),
}


@lru_cache(maxsize=8)
def _vocabulary(catalog: Path, file: str, column: str) -> frozenset[str] | None:
    # None: another city's catalogue without this file or column — nothing to check against
    return kpi_catalog.vocabulary(file, column, catalog)


def _catalog_values(f, fpath: tuple, src: SourceMap, catalog: Path) -> list[str]:
    if f.column not in _CATALOG_VOCAB or f.op not in ("=", "!=", "in", "not_in"):
        return []
    file, column = _CATALOG_VOCAB[f.column]
    known = _vocabulary(catalog, file, column)
    values = f.value if isinstance(f.value, tuple) else (f.value,)
    unknown = [str(v) for v in values if known is not None and str(v) not in known]
    if not unknown:
        return []
    return [
        (
            f"{src.where((*fpath, 'value'))}：筛选值 {'、'.join(unknown)} 不在目录 {file} 的 {column} 中，"
            f"这个条件选不到任何记录。改法：改成 {file} 中已有的值，或先在目录中补上。"
        )
    ]


def _columns_and_exprs(
    spec_settings: dict, ind: Indicator, path: tuple, src: SourceMap, catalog: Path
) -> list[str]:
    p: list[str] = []
    columns = canonical_columns()[ind.source]
    for f_i, f in enumerate(ind.filters):
        fpath = (*path, "filters", f_i)
        p += _catalog_values(f, fpath, src, catalog)
        if f.column not in columns and f.column not in expression_columns(ind.source):
            p.append(
                f"{src.where((*fpath, 'column'))}：筛选列“{f.column}”不是 {ind.source} 表的列。"
                f"改法：改成 {ind.source} 的列之一（{', '.join(columns)}）。"
            )
        if f.op in ("in", "not_in"):
            if not isinstance(f.value, tuple) or not f.value:
                p.append(
                    f"{src.where((*fpath, 'value'))}：op 为 {f.op} 时 value 应是非空列表。改法：写成 [值1, 值2]。"
                )
        elif f.op in ("is_null", "not_null"):
            if f.value is not None:
                p.append(
                    f"{src.where((*fpath, 'value'))}：op 为 {f.op} 时不需要 value。改法：删除 value。"
                )
        elif f.value is None or isinstance(f.value, tuple):
            p.append(
                f"{src.where((*fpath, 'value'))}：op 为 {f.op} 时 value 应是单个值。"
                "改法：写一个值；要匹配多个值请用 op: in 和列表。"
            )
    exprs = []
    if ind.measure is not None:
        exprs.append(((*path, "measure", "expr"), ind.measure.expr))
    if ind.ratio is not None:
        exprs += [
            ((*path, "ratio", part, "expr"), getattr(ind.ratio, part).expr)
            for part in ("numerator", "denominator")
        ]
    for epath, expr in exprs:
        try:
            compile_expr(expr, ind.source, spec_settings)
        except ExprError as err:
            p.append(
                f"{src.where(epath)}：{err}。改法：只使用 {ind.source} 表的列、settings 中的 $设置名、"
                "数字、'文字' 和常用运算（AND OR NOT CASE WHEN coalesce 等）。"
            )
    return p


def _top_level(raw: dict, src: SourceMap) -> list[str]:
    p: list[str] = []
    keys = {
        ind.get("key")
        for _, d in _dicts(raw.get("domains"))
        for _, ind in _dicts(d.get("indicators"))
    }
    for h, key in enumerate(_list(raw.get("headline"))):
        if key not in keys:
            p.append(
                f"{src.file} 第 {src.line(('headline', h))} 行，headline：指标 key“{key}”不存在。"
                "改法：改成某个指标的 key，或删除这一项。"
            )
    d = _build(Defaults, raw.get("defaults", {}))
    where = f"{src.file} 第 {src.line(('defaults',))} 行，defaults"
    if d is not None:
        if not 0 < d.min_scored_weight <= 1:
            p.append(
                f"{where}：min_scored_weight={_fmt(d.min_scored_weight)} 应在 0 到 1 之间。改法：例如 0.5（可评分权重过半才出领域得分）。"
            )
        if not 0 <= d.rank_precision <= 6:
            p.append(
                f"{where}：rank_precision={d.rank_precision} 应在 0 到 6 之间。改法：例如 2（排名前得分保留两位小数）。"
            )
        if d.min_sample < 1:
            p.append(f"{where}：min_sample 应至少为 1。改法：改为 1 或更大的整数。")
        if d.neutral_band < 0:
            p.append(f"{where}：neutral_band 不能为负数。改法：改为 0 或正数，例如 0.5。")
        if d.score_bands.red_below > d.score_bands.green_from:
            p.append(
                f"{where}：score_bands 的 red_below={_fmt(d.score_bands.red_below)} 大于 green_from="
                f"{_fmt(d.score_bands.green_from)}。改法：红灯线应不高于绿灯线，例如 60 和 85。"
            )
    return p


def _explain(
    spec_settings: dict, ready: list[tuple[tuple, Indicator]], src: SourceMap
) -> list[str]:
    """Compile each indicator alone and EXPLAIN it against empty canonical tables."""
    p: list[str] = []
    con = store.connect_memory()
    try:
        for ddl in (*schema.CANONICAL_DDL.values(), *schema.SUPPORT_DDL.values()):
            con.execute(ddl)
        for path, ind in ready:
            try:
                sql, params = indicator_plan(ind, spec_settings).single_query()
                con.execute("EXPLAIN " + sql, params)
            except Exception as err:  # noqa: BLE001 — any DuckDB complaint is a spec problem here
                first = str(err).splitlines()[0]
                p.append(
                    f"{src.where(path)}：编译出的 SQL 无法在 DuckDB 中执行（{first}）。"
                    "改法：检查 measure / ratio 的表达式类型是否匹配（例如 count_if 需要真假条件，sum 需要数值）。"
                )
    finally:
        con.close()
    return p
