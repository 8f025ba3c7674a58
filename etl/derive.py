"""Canonical records from the checked rows: the derived columns, computed in SQL at load time.

- workdays_used: working days from the day after 受理/来电 to 办结 inclusive — one join per date
  on the calendar's running workday_seq (seq(end) − seq(start)); 调休 Saturdays count, holidays don't;
- on_time: workdays_used within the promised limit (else the legal one; else the item catalogue's);
- calendar_known: false when either date lies outside the known holiday calendars;
- domain_key from the item catalogue, by code or name (approvals, ratings: kpi.matching) or the
  hotline topic catalogue;
- hotline category normalised to 咨询/求助/投诉/举报/建议/其他 (raw kept), is_enterprise, response_hours;
- ratings level_label and is_bad (差评 = 不满意 or 非常不满意).
`period` is the quarter of kpi.schema.PERIOD_TIME_COLUMN, the one definition of a record's quarter.
"""

from __future__ import annotations

from etl import status as status_mod
from etl.profiles import Profile
from etl.validate import LEVEL_LABELS, Params, q
from kpi import matching
from kpi.schema import PERIOD_TIME_COLUMN

GOOD_ROWS = "FROM checked s {joins} WHERE NOT s.is_skip AND s.reason IS NULL AND NOT s.dup_extra"


def _f(active: set[str], name: str, prefix: str = "f_", cast: str | None = None) -> str:
    if name not in active:
        return f"CAST(NULL AS {cast or 'VARCHAR'})"
    expr = f"s.{q(prefix + name)}"
    return f"CAST({expr} AS {cast})" if cast else expr


def _workdays(start: str, end: str) -> tuple[str, str, str]:
    """(workdays_used, calendar_known, joins) for two timestamp expressions."""
    joins = (
        f"LEFT JOIN cat_calendar c0 ON c0.day = CAST({start} AS DATE) "
        f"LEFT JOIN cat_calendar c1 ON c1.day = CAST({end} AS DATE)"
    )
    used = f"CASE WHEN {end} IS NOT NULL THEN c1.workday_seq - c0.workday_seq END"
    known = f"(coalesce(c0.known, FALSE) AND ({end} IS NULL OR coalesce(c1.known, FALSE)))"
    return used, known, joins


def _period(source: str, inner: str) -> str:
    time = PERIOD_TIME_COLUMN[source]
    return f"SELECT d.*, strftime({time}, '%Y') || 'Q' || CAST(quarter({time}) AS VARCHAR) AS period FROM ({inner}) d"


def items_join(active: set[str]) -> str:
    """Joins of a record with its 事项: file_items (the file's matched (code, name) pairs, etl.load
    via kpi.matching) gives the domain and the catalogue item, whose limits and name fill in."""
    code, name = _f(active, "item_code"), _f(active, "item_name")
    return (
        f" LEFT JOIN file_items fm ON {matching.pair_join('fm', code, name)}"
        f" LEFT JOIN cat_items it ON it.item_code = coalesce(fm.item_code, {code})"
    )


def canonical_sql(profile: Profile, active: set[str], p: Params) -> str:
    """SELECT of the canonical columns (plus period and source_line) for the loadable rows."""
    s = profile.source
    if s == "approvals":
        used, known, joins = _workdays(
            "s.ts_accepted_at", _f(active, "completed_at", "ts_", "TIMESTAMP")
        )
        limit = (
            f"coalesce({_f(active, 'promised_limit_days', 'num_', 'INTEGER')}, "
            f"{_f(active, 'legal_limit_days', 'num_', 'INTEGER')}, it.promised_limit_days, it.legal_limit_days)"
        )
        inner = f"""
SELECT s.f_case_id AS case_id, {_f(active, "item_code")} AS item_code,
       coalesce({_f(active, "item_name")}, it.item_name) AS item_name, fm.domain_key,
       s.district_code, {_f(active, "department")} AS department,
       {_f(active, "applicant_type")} AS applicant_type, {_f(active, "channel")} AS channel,
       s.ts_accepted_at AS accepted_at, {_f(active, "completed_at", "ts_", "TIMESTAMP")} AS completed_at,
       {status_mod.approvals_status_sql(_f(active, "status"), _f(active, "completed_at", "ts_", "TIMESTAMP"))} AS status,
       {_f(active, "legal_limit_days", "num_", "INTEGER")} AS legal_limit_days,
       {_f(active, "promised_limit_days", "num_", "INTEGER")} AS promised_limit_days,
       {_f(active, "visits", "num_", "INTEGER")} AS visits,
       {used} AS workdays_used,
       ({used}) <= {limit} AS on_time,
       {known} AS calendar_known,
       s.line_no AS source_line
{GOOD_ROWS.format(joins=joins + items_join(active))}"""
    elif s == "hotline":
        closed = _f(active, "closed_at", "ts_", "TIMESTAMP")
        used, known, joins = _workdays("s.ts_received_at", closed)
        raw_cat = _f(active, "category_raw")
        cats = " ".join(f"WHEN {p(k)} THEN {p(v)}" for k, v in profile.categories.items())
        category = f"CASE WHEN {raw_cat} IS NULL THEN NULL ELSE (CASE {raw_cat} {cats} ELSE '其他' END) END"
        caller = _f(active, "caller_type")
        flag = _f(active, "enterprise_flag", "bool_", "BOOLEAN")
        responded = _f(active, "responded_at", "ts_", "TIMESTAMP")
        inner = f"""
SELECT s.f_ticket_id AS ticket_id, s.ts_received_at AS received_at, {_f(active, "channel")} AS channel,
       {caller} AS caller_type,
       coalesce({flag}, CASE WHEN {caller} IS NOT NULL THEN {caller} = '企业' END, tp.is_enterprise_topic) AS is_enterprise,
       {category} AS category, {raw_cat} AS category_raw,
       {_f(active, "topic")} AS topic, tp.domain_key,
       s.district_code, {_f(active, "handling_unit")} AS handling_unit,
       {responded} AS responded_at, {closed} AS closed_at,
       {_f(active, "limit_days", "num_", "INTEGER")} AS limit_days,
       {_f(active, "resolved", "bool_", "BOOLEAN")} AS resolved,
       {_f(active, "satisfaction")} AS satisfaction,
       {_f(active, "is_repeat", "bool_", "BOOLEAN")} AS is_repeat,
       {_f(active, "caller_phone", "hash_")} AS caller_hash,
       {_f(active, "content", "masked_")} AS content,
       date_diff('second', s.ts_received_at, {responded}) / 3600.0 AS response_hours,
       {used} AS workdays_used,
       ({used}) <= {_f(active, "limit_days", "num_", "INTEGER")} AS on_time,
       {known} AS calendar_known,
       s.line_no AS source_line
{GOOD_ROWS.format(joins=joins + f" LEFT JOIN cat_topics tp ON tp.topic = {_f(active, 'topic')}")}"""
    elif s == "ratings":
        labels = " ".join(f"WHEN {i} THEN {p(lab)}" for i, lab in enumerate(LEVEL_LABELS, 1))
        inner = f"""
SELECT s.f_rating_id AS rating_id, coalesce({_f(active, "rating_seq", "num_", "INTEGER")}, 1) AS rating_seq,
       s.ts_rated_at AS rated_at, {_f(active, "channel")} AS channel,
       s.district_code, {_f(active, "department")} AS department,
       {_f(active, "item_code")} AS item_code, {_f(active, "item_name")} AS item_name, fm.domain_key,
       {_f(active, "case_id")} AS case_id,
       CAST(s.level AS INTEGER) AS level, CASE s.level {labels} END AS level_label,
       s.level >= 4 AS is_bad,
       {_f(active, "rectified", "bool_", "BOOLEAN")} AS rectified,
       {_f(active, "rectified_at", "ts_", "TIMESTAMP")} AS rectified_at,
       s.line_no AS source_line
{GOOD_ROWS.format(joins=items_join(active))}"""
    else:
        return f"""
SELECT s.district_code, s.report_period, s.indicator_key, s.num_value AS value,
       {_f(active, "reported_by")} AS reported_by, {_f(active, "note")} AS note,
       s.line_no AS source_line, s.report_period AS period
{GOOD_ROWS.format(joins="")}"""
    return _period(s, inner)
