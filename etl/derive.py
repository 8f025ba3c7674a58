"""Canonical records from the checked rows: the derived columns, computed in SQL at load time.

- workdays_used: working days from the day after 受理/来电 to 办结 inclusive — one join per date
  on the calendar's running workday_seq (seq(end) − seq(start)); 调休 Saturdays count, holidays don't;
- due_at (办结期限) and due_period: the export's own deadline (承诺办结时间 / 办结期限), else 受理/来电 +
  the time limit (办件: promised, else legal, else the catalogue's; 工单: 办理时限) in working days, the
  way workdays_used counts them, plus any approved extension (延期) and, for 办件, 特别程序 time — at
  the end of that day. due_period is its quarter: timeliness indicators count an item there (应办结);
- on_time: 办结 on or before the due day; still open after it at the time of the load → false
  (late, not absent); open and not yet due, or no due time → NULL;
- calendar_known: false when either date lies outside the known holiday calendars;
- domain_key from the item catalogue, by code or name (approvals, ratings: kpi.matching) or the
  hotline topic catalogue;
- hotline category normalised to 咨询/求助/投诉/举报/建议/其他 (raw kept), is_enterprise, response_hours,
  open_hours (waiting unsigned at the load), followed_up (是否回访, else an answer was recorded);
- ratings level_label, rating_seq (评价次数, 1 when absent), is_bad (差评 = 不满意 or 非常不满意, unless
  申诉复核 voided it) and rectify_workdays.
present_columns names the canonical columns an export filled (etl_runs.fields), quarantine_keys the
district and quarter a quarantined row belongs to (for the data-quality table).
`period` is the quarter of kpi.schema.PERIOD_TIME_COLUMN, the one definition of a record's quarter.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

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


def _quarter(time: str) -> str:
    return f"strftime({time}, '%Y') || 'Q' || CAST(quarter({time}) AS VARCHAR)"


def _period(source: str, inner: str) -> str:
    time = PERIOD_TIME_COLUMN[source]
    due = f", {_quarter('d.due_at')} AS due_period" if source in ("approvals", "hotline") else ""
    return f"SELECT d.*, {_quarter(time)} AS period{due} FROM ({inner}) d"


def items_join(active: set[str]) -> str:
    """Joins of a record with its 事项: file_items (the file's matched (code, name) pairs, etl.load
    via kpi.matching) gives the domain and the catalogue item, whose limits and name fill in."""
    code, name = _f(active, "item_code"), _f(active, "item_name")
    return (
        f" LEFT JOIN file_items fm ON {matching.pair_join('fm', code, name)}"
        f" LEFT JOIN cat_items it ON it.item_code = coalesce(fm.item_code, {code})"
    )



def _due(
    active: set[str], start: str, end: str, limit: str, extra: str, today: str
) -> tuple[str, str, str]:
    """(due_at, on_time, joins) of an item received at `start`, closed at `end` (NULL: open), with a
    time limit of `limit` working days and `extra` working days on top (延期, 特别程序).

    The due day is the working day `limit + extra` after the day of receipt (a receipt on a day off
    counts from the next working day, as workdays_used does), or the export's own deadline
    (+ `extra` working days when there are any). Timeliness is by day: closed on the due day is on
    time, and an item still open after it when loaded (`today`) is late."""
    given = _f(active, "deadline", "ts_", "TIMESTAMP")
    joins = (
        f" LEFT JOIN cat_calendar cg ON cg.day = CAST({given} AS DATE)"
        if "deadline" in active
        else ""
    )
    base = (
        f"CASE WHEN {given} IS NOT NULL THEN cg.workday_seq ELSE c0.workday_seq + {limit} END"
        if "deadline" in active
        else f"c0.workday_seq + {limit}"
    )
    joins += f" LEFT JOIN cat_calendar cd ON cd.is_workday AND cd.workday_seq = {base} + {extra}"
    due_day = (
        f"(CASE WHEN {given} IS NOT NULL AND {extra} = 0 THEN CAST({given} AS DATE) "
        f"WHEN {given} IS NOT NULL THEN cd.day "
        f"WHEN {limit} IS NOT NULL AND cd.day IS NOT NULL THEN greatest(CAST({start} AS DATE), cd.day) END)"
    )
    due_at = (
        f"CASE WHEN {given} IS NOT NULL AND {extra} = 0 THEN {given} "
        f"ELSE CAST({due_day} AS TIMESTAMP) + INTERVAL 86399 SECOND END"
    )
    on_time = (
        f"CASE WHEN {due_day} IS NULL THEN NULL WHEN {end} IS NOT NULL THEN CAST({end} AS DATE) <= {due_day} "
        f"WHEN {today} > {due_day} THEN FALSE END"
    )
    return due_at, on_time, joins


def canonical_sql(
    profile: Profile, active: set[str], p: Params, now: dt.datetime | None = None
) -> str:
    """SELECT of the canonical columns (plus period and source_line) for the loadable rows.

    `now`: the load's time (Beijing); an open item whose due day has passed by then is late."""
    s = profile.source
    now = now or dt.datetime.now(ZoneInfo("Asia/Shanghai")).replace(tzinfo=None)
    today = f"CAST({p(now.date())} AS DATE)"
    if s == "approvals":
        completed = _f(active, "completed_at", "ts_", "TIMESTAMP")
        used, known, joins = _workdays("s.ts_accepted_at", completed)
        promised = _f(active, "promised_limit_days", "num_", "INTEGER")
        limit = (
            f"coalesce({promised}, {_f(active, 'legal_limit_days', 'num_', 'INTEGER')}, "
            "it.promised_limit_days, it.legal_limit_days)"
        )
        special = f"coalesce({_f(active, 'special_days', 'num_', 'INTEGER')}"
        if {"special_started_at", "special_ended_at"} <= active:
            joins += (
                " LEFT JOIN cat_calendar cs0 ON cs0.day = CAST(s.ts_special_started_at AS DATE)"
                " LEFT JOIN cat_calendar cs1 ON cs1.day = CAST(s.ts_special_ended_at AS DATE)"
            )
            special += ", cs1.workday_seq - cs0.workday_seq"
        special += ", 0)"
        extra = f"(coalesce({_f(active, 'extension_days', 'num_', 'INTEGER')}, 0) + {special})"
        joins += items_join(active)
        due_at, on_time, due_joins = _due(
            active, "s.ts_accepted_at", completed, limit, extra, today
        )
        case_type = (
            f"coalesce({_f(active, 'case_type')}, CASE coalesce({promised}, it.promised_limit_days) "
            f"WHEN 0 THEN {p('即办件')} ELSE CASE WHEN coalesce({promised}, it.promised_limit_days) > 0 "
            f"THEN {p('承诺件')} END END)"
        )
        inner = f"""
SELECT s.f_case_id AS case_id, {_f(active, "item_code")} AS item_code,
       coalesce({_f(active, "item_name")}, it.item_name) AS item_name, fm.domain_key,
       s.district_code, {_f(active, "department")} AS department,
       {_f(active, "applicant_type")} AS applicant_type, {_f(active, "channel")} AS channel,
       {case_type} AS case_type,
       s.ts_accepted_at AS accepted_at, {completed} AS completed_at,
       {status_mod.approvals_status_sql(_f(active, "status"), completed)} AS status,
       {_f(active, "legal_limit_days", "num_", "INTEGER")} AS legal_limit_days,
       {promised} AS promised_limit_days,
       {_f(active, "visits", "num_", "INTEGER")} AS visits,
       {_f(active, "extension_days", "num_", "INTEGER")} AS extension_days,
       CASE WHEN {special} > 0 THEN {special} END AS special_days,
       {due_at} AS due_at,
       {used} AS workdays_used,
       {on_time} AS on_time,
       {known} AS calendar_known,
       s.line_no AS source_line
{GOOD_ROWS.format(joins=joins + due_joins)}"""
    elif s == "hotline":
        closed = _f(active, "closed_at", "ts_", "TIMESTAMP")
        used, known, joins = _workdays("s.ts_received_at", closed)
        raw_cat = _f(active, "category_raw")
        cats = " ".join(f"WHEN {p(k)} THEN {p(v)}" for k, v in profile.categories.items())
        category = f"CASE WHEN {raw_cat} IS NULL THEN NULL ELSE (CASE {raw_cat} {cats} ELSE '其他' END) END"
        caller = _f(active, "caller_type")
        flag = _f(active, "enterprise_flag", "bool_", "BOOLEAN")
        responded = _f(active, "responded_at", "ts_", "TIMESTAMP")
        limit = _f(active, "limit_days", "num_", "INTEGER")
        extra = f"coalesce({_f(active, 'extension_days', 'num_', 'INTEGER')}, 0)"
        due_at, on_time, due_joins = _due(active, "s.ts_received_at", closed, limit, extra, today)
        resolved = _f(active, "resolved", "bool_", "BOOLEAN")
        satisfaction = _f(active, "satisfaction")
        answered = (
            f"CASE WHEN {closed} IS NOT NULL THEN ({resolved} IS NOT NULL OR {satisfaction} IS NOT NULL) END"
            if {"resolved", "satisfaction"} & active
            else "CAST(NULL AS BOOLEAN)"
        )
        followed = f"coalesce({_f(active, 'followed_up', 'bool_', 'BOOLEAN')}, {answered})"
        waiting = (
            f"CASE WHEN {responded} IS NULL AND {closed} IS NULL "
            f"THEN date_diff('second', s.ts_received_at, {p(now)}) / 3600.0 END"
            if "responded_at" in active
            else "CAST(NULL AS DOUBLE)"
        )
        inner = f"""
SELECT s.f_ticket_id AS ticket_id, s.ts_received_at AS received_at, {_f(active, "channel")} AS channel,
       {caller} AS caller_type,
       coalesce({flag}, CASE WHEN {caller} IS NOT NULL THEN {caller} = '企业' END, tp.is_enterprise_topic) AS is_enterprise,
       {_f(active, "urgency")} AS urgency,
       {category} AS category, {raw_cat} AS category_raw,
       {_f(active, "topic")} AS topic, tp.domain_key,
       s.district_code, {_f(active, "handling_unit")} AS handling_unit,
       {responded} AS responded_at, {closed} AS closed_at,
       {limit} AS limit_days,
       {_f(active, "extension_days", "num_", "INTEGER")} AS extension_days,
       {due_at} AS due_at,
       {followed} AS followed_up,
       {resolved} AS resolved,
       {satisfaction} AS satisfaction,
       {_f(active, "is_repeat", "bool_", "BOOLEAN")} AS is_repeat,
       {_f(active, "caller_phone", "hash_")} AS caller_hash,
       {_f(active, "content", "masked_")} AS content,
       date_diff('second', s.ts_received_at, {responded}) / 3600.0 AS response_hours,
       {waiting} AS open_hours,
       {used} AS workdays_used,
       {on_time} AS on_time,
       {known} AS calendar_known,
       s.line_no AS source_line
{GOOD_ROWS.format(joins=joins + due_joins + f" LEFT JOIN cat_topics tp ON tp.topic = {_f(active, 'topic')}")}"""
    elif s == "ratings":
        labels = " ".join(f"WHEN {i} THEN {p(lab)}" for i, lab in enumerate(LEVEL_LABELS, 1))
        rectified_at = _f(active, "rectified_at", "ts_", "TIMESTAMP")
        fix_days, _, joins = _workdays("s.ts_rated_at", rectified_at)
        voided = _f(active, "appeal_voided", "bool_", "BOOLEAN")
        inner = f"""
SELECT s.f_rating_id AS rating_id, coalesce({_f(active, "rating_seq", "num_", "INTEGER")}, 1) AS rating_seq,
       s.ts_rated_at AS rated_at, {_f(active, "channel")} AS channel,
       s.district_code, {_f(active, "department")} AS department,
       {_f(active, "item_code")} AS item_code, {_f(active, "item_name")} AS item_name, fm.domain_key,
       {_f(active, "case_id")} AS case_id,
       CAST(s.level AS INTEGER) AS level, CASE s.level {labels} END AS level_label,
       {voided} AS appeal_voided,
       s.level >= 4 AND NOT coalesce({voided}, FALSE) AS is_bad,
       {_f(active, "rectified", "bool_", "BOOLEAN")} AS rectified,
       {rectified_at} AS rectified_at,
       {fix_days} AS rectify_workdays,
       {_f(active, "followed_up", "bool_", "BOOLEAN")} AS followed_up,
       s.line_no AS source_line
{GOOD_ROWS.format(joins=joins + items_join(active))}"""
    else:
        return f"""
SELECT s.district_code, s.report_period, s.indicator_key, {_f(active, "value", "num_", "DOUBLE")} AS value,
       {_f(active, "numerator", "num_", "DOUBLE")} AS numerator,
       {_f(active, "denominator", "num_", "DOUBLE")} AS denominator,
       {_f(active, "reported_by")} AS reported_by,
       {_f(active, "reported_at", "ts_", "TIMESTAMP")} AS reported_at, {_f(active, "note")} AS note,
       s.line_no AS source_line, s.report_period AS period
{GOOD_ROWS.format(joins="")}"""
    return _period(s, inner)


# Canonical columns filled from profile fields: the column is there when one of its fields is
# active (a column of the export, an extraction or a constant). Columns not listed are always
# filled (keys, required times, the catalogue's, or derived from what is always there).
_FILLED_FROM: dict[str, dict[str, tuple[str, ...]]] = {
    "approvals": {
        "item_code": ("item_code",),
        "item_name": ("item_name", "item_code"),
        "domain_key": ("item_code", "item_name"),
        "department": ("department",),
        "applicant_type": ("applicant_type",),
        "channel": ("channel",),
        "case_type": ("case_type", "promised_limit_days", "item_code"),
        "completed_at": ("completed_at",),
        "workdays_used": ("completed_at",),
        "status": ("status",),
        "legal_limit_days": ("legal_limit_days",),
        "promised_limit_days": ("promised_limit_days",),
        "visits": ("visits",),
        "extension_days": ("extension_days",),
        "special_days": ("special_days", "special_started_at"),
    },
    "hotline": {
        "channel": ("channel",),
        "caller_type": ("caller_type",),
        "is_enterprise": ("enterprise_flag", "caller_type", "topic"),
        "urgency": ("urgency",),
        "category": ("category_raw",),
        "category_raw": ("category_raw",),
        "topic": ("topic",),
        "domain_key": ("topic",),
        "handling_unit": ("handling_unit",),
        "responded_at": ("responded_at",),
        "response_hours": ("responded_at",),
        "open_hours": ("responded_at",),
        "closed_at": ("closed_at",),
        "workdays_used": ("closed_at",),
        "limit_days": ("limit_days",),
        "extension_days": ("extension_days",),
        "due_at": ("limit_days", "deadline"),
        "due_period": ("limit_days", "deadline"),
        "on_time": ("limit_days", "deadline"),
        "followed_up": ("followed_up", "resolved", "satisfaction"),
        "resolved": ("resolved",),
        "satisfaction": ("satisfaction",),
        "is_repeat": ("is_repeat",),
        "caller_hash": ("caller_phone",),
        "content": ("content",),
    },
    "ratings": {
        "channel": ("channel",),
        "department": ("department",),
        "item_code": ("item_code",),
        "item_name": ("item_name",),
        "domain_key": ("item_code", "item_name"),
        "case_id": ("case_id",),
        "appeal_voided": ("appeal_voided",),
        "rectified": ("rectified",),
        "rectified_at": ("rectified_at",),
        "rectify_workdays": ("rectified_at",),
        "followed_up": ("followed_up",),
    },
    "reports": {
        "value": ("value",),
        "numerator": ("numerator",),
        "denominator": ("denominator",),
        "reported_by": ("reported_by",),
        "reported_at": ("reported_at",),
        "note": ("note",),
    },
}


def present_columns(profile: Profile, active: set[str], columns: list[str]) -> list[str]:
    """The canonical `columns` this export fills (etl_runs.fields): what lets an indicator that
    needs a column the export never had say so, instead of counting it as 0 %."""
    filled = _FILLED_FROM.get(profile.source, {})
    return [c for c in columns if c not in filled or set(filled[c]) & active]


def quarantine_keys(profile: Profile, active: set[str], p: Params, now: dt.datetime) -> str:
    """SQL over `checked`: the district_code and period of each row, as far as they can be read
    (a time outside the plausible range gives no quarter) — the data-quality table counts
    quarantined rows per district and quarter."""
    source = profile.source
    if source == "reports":
        return "district_code, report_period AS period"
    times = {
        "approvals": ("completed_at", "accepted_at"),
        "hotline": ("closed_at", "received_at"),
        "ratings": ("rated_at",),
    }[source]
    ts = [f"s.ts_{t}" for t in times if t in active]
    ts = [
        f"CASE WHEN {t} BETWEEN {p(dt.datetime(2000, 1, 1))} AND {p(now)} THEN {t} END" for t in ts
    ]
    time = f"coalesce({', '.join(ts)})" if ts else "CAST(NULL AS TIMESTAMP)"
    return f"s.district_code, {_quarter(time)} AS period"
