"""The LED's dynamic strip: 企业诉求解决率 and 满意率 over the last 30 days, with their 截至 date.

Same definitions as the quarter's indicators (metrics.yaml `hotline_resolution_rate`,
`hotline_satisfaction_rate`, issue 13): the indicator's own filters, numerator, denominator and
回访率 floor are compiled by kpi.engine.compile — only the window differs. The window is the 30
calendar days ending on the day of the newest record within the indicator's filters (its 截至 date),
by the column that puts a record in its quarter (kpi.schema.PERIOD_TIME_COLUMN: 办结 time, else
来电 time; the 办结期限 for indicators counted when due), over the whole city.

Computed at build (kpi.engine.build) and kept in snapshot_meta (`recent_30d`, JSON), so the
screen reads one snapshot with one spec, like every other figure on it.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass

import duckdb

from kpi import schema
from kpi.sql import Params

KEYS = ("hotline_resolution_rate", "hotline_satisfaction_rate")
WINDOW_DAYS = 30
META_KEY = "recent_30d"

_AGG_SQL = {"count_if": "count_if({})", "sum": "sum({})", "count": "count({})"}


@dataclass(frozen=True)
class Recent:
    """One indicator over the window: value (None with a reason when there is none)."""

    key: str
    label: str
    unit: str
    value: float | None
    numerator: float | None
    denominator: float | None
    as_of: str | None  # ISO date of the newest record (截至)
    start: str | None  # first day of the window
    days: int = WINDOW_DAYS
    reason: str | None = None  # 无数据 / 样本量不足（n，至少 m） / 回访率 x%，低于 y%


def window_sql(ind, spec, days: int = WINDOW_DAYS) -> tuple[str, dict] | None:
    """The indicator's aggregates over the last `days` days up to its newest record, as
    (sql, params) returning one row: as_of, start, num, den, base. None when the indicator is not
    a record ratio this can compute (a 填报 indicator, a measure, an 事项-level one)."""
    from kpi.engine.compile import compile_expr, compile_filters  # the indicators' own compiler

    if ind.source not in schema.PERIOD_TIME_COLUMN or ind.ratio is None or ind.over != "records":
        return None
    parts = [ind.ratio.numerator, ind.ratio.denominator]
    if ind.coverage is not None:
        parts.append(ind.coverage.base)
    if any(a.agg not in _AGG_SQL for a in parts):
        return None
    settings = dict(spec.settings)
    params = Params("recent")
    where = compile_filters(ind.filters, ind.source, params, settings)
    aggs = [
        _AGG_SQL[a.agg].format(compile_expr(a.expr, ind.source, settings, params)[0]) for a in parts
    ]
    if ind.coverage is None:
        aggs.append("NULL")
    time_col = (
        "due_at"
        if ind.period_by == "due" and ind.source in ("approvals", "hotline")
        else schema.PERIOD_TIME_COLUMN[ind.source]
    )
    back = params.add(int(days) - 1)
    sql = f"""
        WITH r AS (SELECT *, CAST({time_col} AS DATE) AS _day FROM {ind.source} WHERE {where}),
             w AS (SELECT max(_day) AS as_of, max(_day) - CAST({back} AS INTEGER) AS start FROM r)
        SELECT w.as_of, w.start, {", ".join(aggs)}
        FROM w LEFT JOIN r ON r._day BETWEEN w.start AND w.as_of
        GROUP BY w.as_of, w.start"""
    return sql, params.values


def compute(con, spec, keys: tuple[str, ...] = KEYS, days: int = WINDOW_DAYS) -> list[Recent]:
    """The 30-day figures of these indicators (those missing from the spec are left out)."""
    out = []
    by_key = {ind.key: ind for _, ind in spec.indicators()}
    for key in keys:
        ind = by_key.get(key)
        if ind is None:
            continue
        compiled = window_sql(ind, spec, days)
        if compiled is None:
            continue
        sql, params = compiled
        try:
            row = con.execute(sql, params).fetchone()
        except duckdb.CatalogException:  # a warehouse without the source table: no figure
            row = None
        as_of, start, num, den, base = row if row else (None, None, None, None, None)
        value, reason = None, None
        n = float(den or 0)
        if as_of is None or not n:
            reason = "无数据"
        elif n < spec.min_sample(ind):
            reason = f"样本量不足（{int(n)}，至少 {spec.min_sample(ind)}）"
        elif ind.coverage is not None and base:
            share = n * 100.0 / float(base)
            floor = spec.setting_number(ind.coverage.min)
            if share + 1e-9 < floor:
                reason = f"{ind.coverage.label} {share:.1f}%，低于 {floor:g}%"
        if reason is None:
            value = float(num or 0) / n * ind.scale
        out.append(
            Recent(
                key=key,
                label=ind.label_zh,
                unit=ind.unit,
                value=value,
                numerator=None if num is None else float(num),
                denominator=None if den is None else float(den),
                as_of=_iso(as_of),
                start=_iso(start),
                days=days,
                reason=reason,
            )
        )
    return out


def _iso(day) -> str | None:
    if day is None:
        return None
    return day.isoformat() if isinstance(day, dt.date) else str(day)[:10]


def meta_entries(con, spec) -> dict[str, str]:
    """{"recent_30d": JSON} for snapshot_meta (empty figures are kept: the screen says 无数据)."""
    return {META_KEY: json.dumps([asdict(r) for r in compute(con, spec)], ensure_ascii=False)}


def from_meta(meta: dict[str, str]) -> list[Recent]:
    """The figures a snapshot holds ([] for one built before they were recorded, or unreadable)."""
    try:
        items = json.loads(meta.get(META_KEY) or "[]")
        return [Recent(**item) for item in items if isinstance(item, dict)]
    except (TypeError, ValueError):
        return []
