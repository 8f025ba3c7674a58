"""`bizenv load`: exports → warehouse → snapshot.

Per file: read it as text into an in-memory DuckDB (etl.readers), pick its header profile
(etl.profiles), type and check every row in one SQL pass (etl.validate), derive the canonical
columns (etl.derive) — all before the warehouse is even opened, so a refused file cannot change
anything. Then the warehouse is attached to that same connection (the checked rows go from its
temp tables straight into the warehouse, no copy through Python) and, in one warehouse transaction
per file: refresh the catalogue tables, upsert by natural key (last load wins; version + 1 and a
lineage row on a real change; identical rows are left alone), replace the file's quarantine rows
and record the run in etl_runs (is_demo: the file is one the demo generator wrote). A file whose
every data row would be quarantined is refused instead (the message names the commonest reason,
a row, its value and the fix). After the files, the build runs with the load's catalogue.

Several files: each is its own transaction. A refused file is reported and skipped, the good
ones are loaded and published, and then FileRefused is raised (err.reports holds every report),
so the command exits non-zero after saying exactly which file was refused and why.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import datetime as dt
import functools
import hashlib
import logging
import re
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb

from etl import catalog as catalog_mod
from etl import derive, locks, pii, readers, undo, validate, versions
from etl.demo import is_demo_export, mark_earlier_loads
from etl.profiles import (
    SOURCES,
    Profile,
    ambiguous_headers,
    builtin_profile,
    builtin_profiles,
    detect_profile,
    known_headers,
    load_user_profile,
    match_fields,
    missing_required,
)
from kpi import demo, logs, matching, settings, store
from kpi.engine import partials
from kpi.engine.compile import TRANSACTION_SOURCES
from kpi.errors import (
    FileRefused,
    MachineProblem,
    NotAnExport,
    UserInputError,
    machine_problem,
)
from kpi.schema import CANONICAL_DDL, NATURAL_KEYS, SOURCE_LABELS, create_canonical
from kpi.settings import Limits

Progress = Callable[[float, str], None]
Confirm = Callable[[list["FileReport"]], bool]
log = logging.getLogger(__name__)
LINEAGE_ONLY = ("period", "source_file", "source_line", "load_id", "first_load_id", "version")
LOCAL_TZ = ZoneInfo("Asia/Shanghai")


@dataclass
class FileReport:
    file_name: str
    path: str
    source: str | None = None
    profile: str | None = None
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    rows_skipped: int = 0
    rows_inserted: int = 0
    rows_updated: int = 0
    rows_unchanged: int = 0
    # of rows_skipped: exact repeats of a row, and older versions a later row replaced (etl.versions)
    rows_repeated: int = 0
    rows_superseded: int = 0
    # loaded records whose 事项 matched no domain (approvals, ratings), and the commonest names
    rows_unmatched: int = 0
    unmatched_names: list[tuple[str, int]] = field(default_factory=list)
    unmatched_kinds: int = 0  # distinct unmatched 事项
    status: str = "ok"  # ok | duplicate_file | refused
    message: str = ""
    seconds: float = 0.0
    rows_per_second: float = 0.0
    load_id: str = ""
    sha256: str = ""
    quarantine_by_reason: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # what reading repaired (NUL bytes, CR endings)
    is_demo: bool = False  # a file the demo generator wrote (etl.demo.is_demo_export)
    # set on a real (not demo) file's report when demo records remain beside it: per source
    demo_left: dict[str, int] = field(default_factory=dict)
    # a dry run's warning: quarters of this file that rows of other files already fill
    # (period, other file, its rows there)
    other_files: list[tuple[str, str, int]] = field(default_factory=list)
    periods: list[str] = field(default_factory=list)  # the quarters its loaded rows count in
    # a dry run's examples of quarantined rows: (reason, line, column, raw row)
    examples: list[tuple[str, int, str, str]] = field(default_factory=list)


def _file_progress(progress: Progress, base: float, share: float, f: float, text: str) -> None:
    """One file's progress (0–1) as a share of the whole run's bar."""
    progress(base + share * f, text)


def local_now() -> dt.datetime:
    """Now in Asia/Shanghai, naive — the exports' own convention."""
    return dt.datetime.now(LOCAL_TZ).replace(tzinfo=None, microsecond=0)


def _sha256(path: Path) -> str:
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def choose_profile(
    headers: list[str], file_name: str, header_line: int, source: str | None, user: Profile | None
) -> Profile:
    """The profile for an export: the user's, the named source's, or detected from the headers."""
    named = [h for h in headers if h]
    # A 2,000-column header is not a message: the first 30 names and how many there are.
    shown = "、".join(named[:30]) + (f"……（共 {len(named):,} 列）" if len(named) > 30 else "")
    shown = shown or "（空）"
    if user is not None or source is not None:
        profile = user or builtin_profile(source)
        missing = missing_required(profile, headers)
        if missing:
            raise FileRefused(
                f"{file_name}：按{SOURCE_LABELS[profile.source]}（{profile.name}）读取，缺少必需的列：{'、'.join(missing)}。"
                f"文件第 {header_line} 行的表头是：{shown}。"
                "如果这些列在导出里叫别的名字，请在表头画像中补上（--profile 画像.yaml，示例见 tests/fixtures/profiles/）；"
                "如果不是这类数据，请用 --source 指定正确的来源。"
            )
        return profile
    complete, guess = detect_profile(headers, builtin_profiles())
    if complete is not None:
        return complete
    if guess is not None:
        missing = missing_required(guess, headers)
        raise FileRefused(
            f"{file_name}：看起来是{SOURCE_LABELS[guess.source]}导出，但缺少必需的列：{'、'.join(missing)}。"
            f"文件第 {header_line} 行的表头是：{shown}。"
            "请确认导出时勾选了这些列；如果它们叫别的名字，请用 --profile 提供表头画像，或用 --source 指定来源。"
        )
    raise NotAnExport(
        f"{file_name}：无法判断是哪种导出（办件 / 12345工单 / 好差评 / 指标填报）。"
        f"文件第 {header_line} 行的表头是：{shown}。"
        "请用 --source approvals|hotline|ratings|reports 指定来源，或用 --profile 提供表头画像（示例见 tests/fixtures/profiles/）。"
    )


@dataclass
class Staged:
    """One file, read and checked in memory (temp table `checked`), ready to be written."""

    report: FileReport
    profile: Profile
    records: str  # SELECT of the canonical rows (from `checked`)
    params: dict[str, object]  # its bound values
    fields: list[str] = field(default_factory=list)  # canonical columns the export fills
    # SELECT district_code, period FROM checked s: where each quarantined row belongs (and values)
    quarantine_keys: str = "CAST(NULL AS VARCHAR) AS district_code, CAST(NULL AS VARCHAR) AS period"
    quarantine_params: dict[str, object] = field(default_factory=dict)


def release_checked(mem) -> None:
    mem.execute("DROP TABLE IF EXISTS temp.checked")
    mem.execute("DROP TABLE IF EXISTS temp.file_items")


UNMATCHED_SHOWN = 5  # names listed in the load summary (the 数据 page lists them all)


def match_items(mem, profile: Profile, active: set[str], report: FileReport) -> None:
    """Match the file's distinct (事项编码, 事项名称) pairs to domains (kpi.matching) into
    file_items, and count the loaded records none of whose 事项 matched. A rating with no 事项
    but an 办件编号 is not counted: the build gives it its 办件's domain."""
    if profile.source not in ("approvals", "ratings"):
        return
    code = "f_item_code" if "item_code" in active else "CAST(NULL AS VARCHAR)"
    name = "f_item_name" if "item_name" in active else "CAST(NULL AS VARCHAR)"
    good = "NOT is_skip AND reason IS NULL AND NOT dup_extra"
    has_item = f"({code} IS NOT NULL OR {name} IS NOT NULL)"
    if profile.source == "ratings" and "case_id" in active:
        has_item = f"({has_item} OR f_case_id IS NULL)"
    # one pass over the rows: the distinct pairs with their counts; the rest is on those few
    mem.execute(
        f"CREATE OR REPLACE TEMP TABLE file_pairs AS SELECT {code} AS code, {name} AS name, "
        f"count(*) AS n, count_if({has_item}) AS counted FROM checked WHERE {good} GROUP BY ALL"
    )
    mem.execute(
        "CREATE OR REPLACE TEMP TABLE file_items AS "
        + matching.match_sql("SELECT code, name FROM file_pairs")
    )
    rows = mem.execute(
        f"""SELECT coalesce(s.name, s.code, '（无事项）'), sum(s.counted) FROM file_pairs s
            LEFT JOIN file_items fm ON {matching.pair_join("fm", "s.code", "s.name")}
            WHERE fm.domain_key IS NULL AND s.counted > 0 GROUP BY 1 ORDER BY 2 DESC, 1"""
    ).fetchall()
    mem.execute("DROP TABLE file_pairs")
    report.rows_unmatched = sum(n for _, n in rows)
    report.unmatched_kinds = len(rows)
    report.unmatched_names = [(str(k), int(n)) for k, n in rows[:UNMATCHED_SHOWN]]


def stage_file(
    mem,
    path: Path,
    n: int,
    source,
    user,
    data_dir: settings.DataDir,
    tmp: Path,
    now: dt.datetime,
    step: Callable[[float, str], None] = lambda f, t: None,
    catalog_root: Path | None = None,
) -> Staged:
    """Read, map, type, check and derive one export inside the scratch connection `mem`."""
    report = FileReport(file_name=path.name, path=str(path))
    profiles = [user] if user is not None else builtin_profiles()
    mem.execute(
        "SET preserve_insertion_order = true"
    )  # the reader numbers rows by rowid = file order
    known = known_headers(profiles + builtin_profiles())
    if user is None and source is None:  # profiles saved from the 数据 page's 列对应
        from etl import mapping

        known |= mapping.saved_headers(data_dir)
    raw = readers.read_export(mem, path, known, f"raw{n}", tmp)
    report.notes = list(raw.notes)
    try:
        if user is None and source is None:
            user = mapping.saved_match(data_dir, raw.headers)
        profile = choose_profile(raw.headers, path.name, raw.header_line, source, user)
        report.source, report.profile = profile.source, profile.name
        ambiguous = ambiguous_headers(profile, raw.headers)
        if ambiguous:  # two 受理时间 columns: picking one silently could load the wrong times
            raise FileRefused(
                f"{path.name}：第 {raw.header_line} 行（表头）有同名的列：{'；'.join(ambiguous)}，"
                "无法确定该用哪一列。改法：删掉或改名多余的列后再导入；或在表头画像中为该字段写明"
                "用第几个同名列（例如 accepted_at: {occurrence: 2}），用 --profile 传入。"
            )
        # the hashing key is created only when an export really carries phone numbers
        phones = any(profile.fields[n].type == "phone" for n in match_fields(profile, raw.headers))
        secret = pii.secret_key(data_dir) if phones else ""
        suspect = pii.suspect_columns(mem, raw.view, validate.text_columns(profile, raw.headers))
        plan = validate.build_plan(profile, raw.headers, raw.view, now, secret, suspect)
        step(0.2, f"校验 {path.name}")
        # Every row carries its line_no from here on, so DuckDB need not keep rows in file order
        # (and can spread the checking pass over all cores).
        mem.execute("SET preserve_insertion_order = false")
        for sql, params in plan.statements:
            mem.execute(sql, params)
        # coalesce: a file with a header and no rows at all gives NULL counts, not 0
        total, skipped, quarantined, extra, older = mem.execute(
            "SELECT count(*), coalesce(count_if(is_skip), 0), "
            "coalesce(count_if(reason IS NOT NULL), 0), coalesce(count_if(dup_extra), 0), "
            f"coalesce(count_if(dup_kind = '{versions.OLDER}'), 0) FROM checked"
        ).fetchall()[0]
        if total - skipped == 0:
            raise FileRefused(
                f"{path.name}：表头（第 {raw.header_line} 行）下面没有数据行"
                f"{'（只有合计/空行）' if total else ''}。请确认导出的时间范围内有数据。"
            )
        report.rows_read = total + raw.blank_rows
        report.rows_skipped = skipped + extra + raw.blank_rows
        report.rows_quarantined = quarantined
        report.rows_repeated, report.rows_superseded = extra - older, older
        report.rows_loaded = total - skipped - quarantined - extra
        if quarantined:
            report.quarantine_by_reason = dict(
                mem.execute(
                    "SELECT reason, count(*) FROM checked WHERE reason IS NOT NULL GROUP BY 1 ORDER BY 2 DESC, 1"
                ).fetchall()
            )
        limits = Limits.from_env()
        if quarantined > limits.max_quarantine_rows and quarantined * 2 > total - skipped:
            # Mostly bad and huge (a zip bomb's millions of junk rows, a wrong export): refusing
            # keeps the quarantine table meaningful instead of burying a real load's few rows.
            top, n_top = next(iter(report.quarantine_by_reason.items()))
            raise FileRefused(
                f"{path.name}：{total - skipped:,} 行数据中有 {quarantined:,} 行有问题（超过一半，且超过单个文件 "
                f"{limits.max_quarantine_rows:,} 行隔离的上限），本文件未写入任何数据。最常见的原因：{top}"
                f"（{n_top:,} 行）。请确认这是正确的导出文件；确属正常，{limits.hint('max_quarantine_rows')}。"
            )
        if quarantined and not report.rows_loaded:
            # Not one usable row (another city's districts, dates in an unknown format …): a
            # failed load, not a load of nothing — the user is told the cause and the fix.
            raise FileRefused(all_quarantined(mem, path.name, report, catalog_root))
        match_items(mem, profile, plan.active, report)
        p = validate.Params()
        canonical = derive.canonical_sql(profile, plan.active, p, now)
        keys = derive.quarantine_keys(profile, plan.active, p, now)
        fields = derive.present_columns(profile, plan.active, _ddl_columns(profile.source))
    except BaseException:
        release_checked(mem)
        raise
    finally:
        raw.release(mem)
    return Staged(report, profile, canonical, p.used_in(canonical), fields, keys, p.used_in(keys))


def _ddl_columns(source: str) -> list[str]:
    """The canonical columns of `source`, in table order (from the DDL, without opening anything)."""
    from kpi.engine.compile import canonical_columns

    return list(canonical_columns()[source])


def all_quarantined(mem, file_name: str, report: FileReport, catalog_root: Path | None) -> str:
    """The refusal of a file whose every data row was quarantined: the most common reason, one
    row that shows it (line, column, value) and what to change."""
    reason, count = next(iter(report.quarantine_by_reason.items()))
    line, column, value = mem.execute(
        "SELECT line_no, column_name, bad_value FROM ("
        + validate.quarantined_sql(
            "line_no = (SELECT min(line_no) FROM checked WHERE reason = $r) AND reason = $r"
        )
        + ")",
        {"r": reason},
    ).fetchone()
    empty = reason in validate.EMPTY_REASONS
    shown = f"的值“{value}”" if value is not None else ("为空" if empty else "")
    where = f"例如第 {line} 行“{column}”列{shown}"
    fix = validate.FIXES.get(reason, validate.DEFAULT_FIX).format(
        catalog=catalog_root or settings.catalog_dir()
    )
    others = len(report.quarantine_by_reason) - 1
    more = f"；另有 {others} 种其他原因" if others else ""
    return (
        f"{file_name}：全部 {report.rows_quarantined:,} 行数据都被隔离，没有一行可以导入，"
        f"本文件未写入任何数据。最常见的原因：{reason}（{count:,} 行，{where}{more}）。{fix}"
    )


def _columns(con, table: str) -> list[str]:
    return [
        r[0]
        for r in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_catalog = current_database() "
            "AND table_name = ? AND table_schema = 'main' ORDER BY ordinal_position",
            [table],
        ).fetchall()
    ]


def _without_primary_key(source: str) -> str | None:
    """The canonical DDL of `source` minus its primary key (on the natural key), or None."""
    ddl = CANONICAL_DDL[source]
    keys = NATURAL_KEYS[source]
    if len(keys) == 1:
        bare = re.sub(
            rf"^(\s*{re.escape(keys[0])}\s+\w+) PRIMARY KEY,",
            r"\1,",
            ddl,
            count=1,
            flags=re.MULTILINE,
        )
    else:
        bare = re.sub(rf",\s*PRIMARY KEY \({re.escape(', '.join(keys))}\)\)\s*$", ")", ddl)
    return bare if "PRIMARY KEY" not in bare else None


# Sources whose records also count in the quarter they fall due (timeliness): a change there is a
# change in that quarter too.
DUE_PERIOD_SOURCES = ("approvals", "hotline")


def _mark_changed(con, source: str, periods_sql: str, inserted: int) -> None:
    """Tell the next build which quarters of a transaction table changed (kpi.engine.partials)."""
    if source in TRANSACTION_SOURCES:
        partials.mark_changed(con, source, periods_sql, inserted=inserted)


def _periods_of(source: str, relation: str, where: str = "TRUE") -> str:
    """SQL: the quarters the rows of `relation` count in (their own, and when they fall due)."""
    sql = f"SELECT period FROM {relation} WHERE {where}"
    if source in DUE_PERIOD_SOURCES:
        sql += f" UNION ALL SELECT due_period FROM {relation} WHERE {where}"
    return sql


def upsert(
    con, source: str, staged: Staged, load_id: str, file_name: str, now: dt.datetime
) -> tuple[int, int, int]:
    """Write the staged records into the canonical table by natural key; returns (inserted, updated, unchanged).

    Lineage rows record updates only: an insert is already told by the record itself
    (first_load_id = load_id, version 1).
    """
    q = validate.q
    keys = NATURAL_KEYS[source]
    content = [c for c in _columns(con, source) if c not in LINEAGE_ONLY and c not in keys]
    params = {"file": file_name, "load": load_id, "now": now, "source": source}
    cols = ", ".join(q(c) for c in (*keys, *content, "period", "source_line"))
    record_key = " || '|' || ".join(f"CAST({q(k)} AS VARCHAR)" for k in keys)
    insert = f"""
        INSERT INTO {q(source)} BY NAME
        SELECT {cols}, $file AS source_file, $load AS load_id, $load AS first_load_id, 1 AS version"""
    if not con.execute(f"SELECT EXISTS (SELECT 1 FROM {q(source)})").fetchall()[0][0]:
        # First load into an empty table: everything is an insert, no comparison needed. The
        # table is re-created without its primary key and the key added after the insert: one
        # bulk index build instead of a key lookup per row (the same table and constraints after).
        bare = _without_primary_key(source)
        if bare:
            con.execute(f"DROP TABLE {q(source)}")
            con.execute(bare)
        inserted = con.execute(
            f"{insert} FROM ({staged.records}) s",
            {**staged.params, "file": file_name, "load": load_id},
        ).fetchall()[0][0]
        if bare:
            con.execute(
                f"ALTER TABLE {q(source)} ADD PRIMARY KEY ({', '.join(q(k) for k in keys)})"
            )
        _mark_changed(con, source, _periods_of(source, q(source)), inserted)
        return inserted, 0, 0
    on = " AND ".join(f"s.{q(k)} = t.{q(k)}" for k in keys)
    diff = " OR ".join(f"s.{q(c)} IS DISTINCT FROM t.{q(c)}" for c in content) or "FALSE"
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE upsert_plan AS
        SELECT s.*, t.load_id AS _prev_load, t.period AS _prev_period,
               {"t.due_period" if source in DUE_PERIOD_SOURCES else "NULL"} AS _prev_due_period,
               CASE WHEN t.{q(keys[0])} IS NULL THEN 'insert' WHEN {diff} THEN 'update' ELSE 'unchanged' END AS _action
        FROM ({staged.records}) s LEFT JOIN {q(source)} t ON {on}""",
        staged.params,
    )
    try:
        # the versions an update replaces, kept for an undo of this load (etl.undo)
        history = undo.ensure_history(con, source)
        con.execute(
            f"""INSERT INTO {q(history)} BY NAME
                SELECT t.*, $load AS replaced_by FROM {q(source)} t
                JOIN temp.upsert_plan s ON {on} WHERE s._action = 'update'""",
            {"load": load_id},
        )
        con.execute(
            f"{insert} FROM temp.upsert_plan WHERE _action = 'insert'",
            {k: params[k] for k in ("file", "load")},
        )
        sets = ", ".join(f"{q(c)} = p.{q(c)}" for c in (*content, "period", "source_line"))
        con.execute(
            f"""
            UPDATE {q(source)} AS t SET {sets}, source_file = $file, load_id = $load, version = t.version + 1
            FROM temp.upsert_plan p WHERE p._action = 'update' AND {on.replace("s.", "p.")}""",
            {k: params[k] for k in ("file", "load")},
        )
        con.execute(
            f"""
            INSERT INTO lineage
            SELECT $source, {record_key}, $load, _action, _prev_load, $now
            FROM temp.upsert_plan WHERE _action = 'update'""",
            {k: params[k] for k in ("source", "load", "now")},
        )
        counts = dict(
            con.execute("SELECT _action, count(*) FROM temp.upsert_plan GROUP BY 1").fetchall()
        )
        # An update can move a record to another quarter: both quarters changed.
        _mark_changed(
            con,
            source,
            _periods_of(source, "temp.upsert_plan", "_action <> 'unchanged'")
            + " UNION ALL SELECT _prev_period FROM temp.upsert_plan WHERE _action = 'update'"
            " UNION ALL SELECT _prev_due_period FROM temp.upsert_plan WHERE _action = 'update'",
            counts.get("insert", 0),
        )
    finally:
        con.execute("DROP TABLE IF EXISTS temp.upsert_plan")
    return counts.get("insert", 0), counts.get("update", 0), counts.get("unchanged", 0)


def write_file(
    con, staged: Staged, started: dt.datetime, now: dt.datetime, sha256, preview: bool = False
) -> None:
    """Everything one file changes in the warehouse (inside the caller's transaction).

    `con` is the staging connection with the warehouse attached and in use; `sha256` is a
    future: the file's digest, computed on another thread during the upsert. `preview`: a dry
    run — also note the quarters other files already fill (FileReport.other_files).
    """
    r = staged.report
    r.rows_inserted, r.rows_updated, r.rows_unchanged = upsert(
        con, r.source or staged.profile.source, staged, r.load_id, r.file_name, now
    )
    if preview:
        overlap(con, staged)
    r.sha256 = sha256.result()
    r.is_demo = is_demo_export(Path(r.path), r.sha256)
    seen_before = con.execute(
        "SELECT count(*) FROM etl_runs WHERE sha256 = ? AND status IN ('ok', 'duplicate_file')",
        [r.sha256],
    ).fetchall()[0][0]
    if seen_before and not (r.rows_inserted or r.rows_updated):
        r.status = "duplicate_file"
    # A file's quarantine is its current list of bad rows: a re-load of the same bytes replaces it.
    con.execute(
        "DELETE FROM quarantine WHERE load_id IN (SELECT load_id FROM etl_runs WHERE sha256 = ?)",
        [r.sha256],
    )
    if r.rows_quarantined:
        # Where the bad rows belong, for the data-quality table: their own district and quarter
        # when those can be read, else the quarter most of the file's good rows are in.
        [(usual,)] = con.execute(
            f"SELECT mode(period) FROM ({staged.records})", staged.params
        ).fetchall()
        con.execute(
            f"""INSERT INTO quarantine (load_id, source, file_name, line_no, column_name, reason, raw,
                                        district_code, period)
                        SELECT $load, $source, $file, q.line_no, q.column_name, q.reason, q.raw,
                               k.district_code, coalesce(k.period, $usual)
                        FROM ({validate.QUARANTINE_SQL.replace("FROM checked", "FROM temp.checked")}) q
                        LEFT JOIN (SELECT s.line_no, {staged.quarantine_keys} FROM temp.checked s
                                   WHERE s.reason IS NOT NULL) k ON k.line_no = q.line_no""",
            {
                "load": r.load_id,
                "source": r.source,
                "file": r.file_name,
                "usual": usual,
                **staged.quarantine_params,
            },
        )
    if preview and r.rows_quarantined:  # a dry run shows a few rows of each reason
        r.examples = [
            (str(reason), int(line), str(col or ""), str(raw or ""))
            for reason, line, col, raw in con.execute(
                """SELECT reason, line_no, column_name, raw FROM quarantine WHERE load_id = $l
                   QUALIFY row_number() OVER (PARTITION BY reason ORDER BY line_no) <= 3
                   ORDER BY reason, line_no""",
                {"l": r.load_id},
            ).fetchall()
        ]
    r.message = summary(r)
    con.execute(
        f"INSERT INTO etl_runs ({ETL_RUN_COLUMNS}) VALUES ({', '.join(['?'] * 19)})",
        [
            r.load_id,
            r.file_name,
            r.path,
            r.sha256,
            r.source,
            r.profile,
            r.rows_read,
            r.rows_loaded,
            r.rows_quarantined,
            r.rows_skipped,
            r.rows_inserted,
            r.rows_updated,
            r.rows_unchanged,
            r.status,
            r.message,
            started,
            local_now(),
            r.is_demo,
            staged.fields,
        ],
    )


def overlap(con, staged: Staged) -> None:
    """After the upsert: the quarters of the rows this file wrote, and the rows other files
    already have there (read from the table, not by deriving the file's rows a second time)."""
    r = staged.report
    source = validate.q(r.source or staged.profile.source)
    rows = con.execute(
        f"""WITH mine AS (SELECT DISTINCT period FROM {source} WHERE load_id = $load)
            SELECT m.period, t.source_file, count(t.period) FROM mine m
            LEFT JOIN {source} t ON t.period = m.period AND t.load_id <> $load
                 AND t.source_file IS DISTINCT FROM $file
            GROUP BY ALL ORDER BY 1, 3 DESC""",
        {"load": r.load_id, "file": r.file_name},
    ).fetchall()
    r.periods = sorted({str(p) for p, _, _ in rows if p is not None})
    r.other_files = [(str(p), str(f), int(n)) for p, f, n in rows if p is not None and n]


# Named, not positional: a warehouse that gained columns over the versions has them in another order.
ETL_RUN_COLUMNS = "load_id, file_name, file_path, sha256, source, profile, rows_read, rows_loaded, rows_quarantined, rows_skipped, rows_inserted, rows_updated, rows_unchanged, status, message, started_at, finished_at, is_demo, fields"


def _record_failure(con, r: FileReport, sha256, started: dt.datetime, err: Exception) -> None:
    """An unexpected error while writing a file (not bad input: that is refused before the
    warehouse is touched). Its transaction has been rolled back; etl_runs keeps the attempt, so
    the 数据 page and `bizenv status` show it. Best effort: the warehouse may be what failed."""
    r.status = "failed"
    r.message = (
        f"写入数据仓库时出错，本文件已整体回滚，未写入任何记录（{type(err).__name__}: {err}）"
    )
    with contextlib.suppress(Exception):
        digest = sha256.result() if sha256.done() else None
        con.execute(
            f"INSERT INTO etl_runs ({ETL_RUN_COLUMNS}) VALUES ({', '.join(['?'] * 18)}, NULL)",
            [
                r.load_id,
                r.file_name,
                r.path,
                digest,
                r.source,
                r.profile,
                r.rows_read,
                r.rows_loaded,
                r.rows_quarantined,
                r.rows_skipped,
                0,
                0,
                0,
                r.status,
                r.message,
                started,
                local_now(),
                r.is_demo,
            ],
        )


def summary(r: FileReport) -> str:
    text = (
        f"读取 {r.rows_read} 行：导入 {r.rows_loaded}，隔离 {r.rows_quarantined}，跳过 {r.rows_skipped}；"
        f"新增 {r.rows_inserted}，更新 {r.rows_updated}，未变 {r.rows_unchanged}"
    )
    text += skipped_detail(r)
    if r.rows_unmatched:
        text += f"；{r.rows_unmatched} 条记录的事项未匹配到领域"
    if r.status == "duplicate_file":
        text += "（与之前导入过的文件完全相同，数据未变化）"
    return text


def skipped_detail(r: FileReport) -> str:
    """What the skipped rows were, when some were repeats or older versions of a record."""
    if not (r.rows_repeated or r.rows_superseded):
        return ""
    parts = []
    if r.rows_superseded:
        parts.append(
            f"同一编号的旧版本 {r.rows_superseded:,} 行（以版本号最大、其次最后出现的一行为准）"
        )
    if r.rows_repeated:
        parts.append(f"完全相同的重复行 {r.rows_repeated:,} 行")
    other = r.rows_skipped - r.rows_repeated - r.rows_superseded
    if other:
        parts.append(f"合计/空行 {other:,} 行")
    return "（跳过的行中：" + "，".join(parts) + "）"


def attach_warehouse(con, root: settings.DataDir) -> None:
    """Attach the warehouse file (created if missing) to `con` as `wh` and make it the default."""
    path = store.warehouse_path(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    con.execute("ATTACH '" + str(path).replace("'", "''") + "' AS wh")
    con.execute("USE wh")


def load_files(
    paths,
    source: str | None = None,
    profile=None,
    data_dir=None,
    catalog_dir=None,
    progress: Progress | None = None,
    build: bool = True,
    optional: set[str] | frozenset[str] = frozenset(),
    confirm: Confirm | None = None,
) -> list[FileReport]:
    """Load export files into the warehouse and publish a snapshot (see module docstring).

    `confirm`: a dry run first. Every file is written inside ONE warehouse transaction, nothing
    committed; then `confirm(reports)` is asked (the reports say what would be inserted,
    updated, quarantined …). True: commit and publish, as a load. False: roll back — the
    warehouse is byte for byte what it was — and return the reports (no build). So the dry
    run is the load itself, not a second implementation of its checks, and a confirmed upload
    costs one load, not two.

    `optional`: paths found in a folder (etl.commands.load.expand): one that is no export at all
    (a README, a taxonomy sheet) is skipped with a note (status "skipped") instead of refused.

    One writer at a time: the data dir's writer lock is held from the first file to the publish
    (a second `bizenv load` waits, then says another load is running)."""
    root = settings.DataDir.of(data_dir)
    with locks.writer(root):
        return _load_files(
            paths, source, profile, root, catalog_dir, progress, build, optional, confirm
        )


def _load_files(
    paths,
    source: str | None,
    profile,
    root: settings.DataDir,
    catalog_dir,
    progress: Progress | None,
    build: bool,
    optional: set[str] | frozenset[str] = frozenset(),
    confirm: Confirm | None = None,
) -> list[FileReport]:
    progress = progress or (lambda fraction, text: None)
    one_transaction = False  # a dry run: all files in one transaction, committed on confirm
    paths = [Path(p) for p in paths]
    if not paths:
        raise UserInputError("没有指定要导入的文件。用法：bizenv load 文件1.csv [文件2.xlsx …]")
    if source is not None and source not in SOURCES:
        raise UserInputError(f"--source 只能是 {'、'.join(SOURCES)} 之一（收到 {source}）。")
    user = (
        profile if isinstance(profile, Profile) or profile is None else load_user_profile(profile)
    )
    if user is not None and source is not None and user.source != source:
        raise UserInputError(
            f"画像 {user.name} 的 source 是 {user.source}，与 --source {source} 不一致。"
        )
    catalog = catalog_mod.load_catalog(catalog_dir)
    mem = store.connect_memory()
    catalog_mod.register(mem, catalog)
    reports: list[FileReport] = []
    attached = False
    refreshed = False
    share = 0.9 / len(paths)
    try:
        with (
            tempfile.TemporaryDirectory(prefix="bizenv-load-") as tmp,
            concurrent.futures.ThreadPoolExecutor(max_workers=1) as hasher,
        ):
            for n, path in enumerate(paths):
                base = n * share
                progress(base, f"读取 {path.name}")
                t0, started, now = time.perf_counter(), local_now(), local_now()
                try:
                    staged = stage_file(
                        mem,
                        path,
                        n,
                        source,
                        user,
                        root,
                        Path(tmp),
                        now,
                        functools.partial(_file_progress, progress, base, share),
                        catalog.root,
                    )
                except FileRefused as err:
                    skip = isinstance(err, NotAnExport) and str(path) in optional
                    reports.append(
                        FileReport(
                            file_name=path.name,
                            path=str(path),
                            status="skipped" if skip else "refused",
                            message=str(err),
                            seconds=time.perf_counter() - t0,
                        )
                    )
                    continue
                except Exception as err:  # noqa: BLE001 - a bug on one file must not stop the others
                    # Nothing of this file was written (staging is in memory); the traceback goes
                    # to the log and the other files of the folder still load.
                    log.exception("staging %s failed", path.name)
                    reports.append(
                        FileReport(
                            file_name=path.name,
                            path=str(path),
                            status="refused",
                            message=(
                                f"{path.name}：读取时程序内部出错（{type(err).__name__}: {err}），"
                                f"本文件未写入任何数据，其余文件照常导入。详细信息已记录到日志 "
                                f"logs/{logs.LOG_FILE}，请把这个文件和日志发给维护人员。"
                            ),
                            seconds=time.perf_counter() - t0,
                        )
                    )
                    continue
                r = staged.report
                # hashlib releases the GIL: the sha256 is computed while DuckDB writes the rows
                digest = hasher.submit(_sha256, path)
                r.load_id = f"{started:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
                progress(base + share * 0.6, f"写入 {path.name}（{r.rows_loaded} 行）")
                try:
                    if not attached:
                        # The warehouse joins the staging connection (its temp tables stay visible),
                        # so the checked rows are written straight from DuckDB to DuckDB.
                        attach_warehouse(mem, root)
                        attached = True
                        create_canonical(mem)
                        mark_earlier_loads(mem)
                    # Rows are found by key, never by position: letting DuckDB append in any
                    # order makes the bulk insert (and its checkpoint) about a third cheaper.
                    mem.execute("SET preserve_insertion_order = false")
                    if not one_transaction:
                        mem.execute("BEGIN TRANSACTION")
                        one_transaction = confirm is not None
                    try:
                        if not refreshed:  # once per run, inside the first file's transaction
                            catalog_mod.refresh_warehouse(mem, catalog)
                        write_file(mem, staged, started, now, digest, preview=confirm is not None)
                        if confirm is None:
                            progress(base + share * 0.95, f"提交 {path.name}")
                            mem.execute("COMMIT")
                        refreshed = True
                    except BaseException as err:
                        mem.execute("ROLLBACK")
                        if isinstance(err, Exception) and confirm is None:
                            _record_failure(mem, r, digest, started, err)
                        raise
                finally:
                    release_checked(mem)
                r.seconds = time.perf_counter() - t0
                r.rows_per_second = r.rows_read / r.seconds if r.seconds else 0.0
                reports.append(r)
            real = [r for r in reports if r.status not in ("refused", "skipped") and not r.is_demo]
            if real:  # real exports beside the demo: the CLI says so and how to remove it
                left, _ = demo.records(mem)
                if any(left.values()):
                    for r in real:
                        r.demo_left = left
            if confirm is not None:
                progress(0.9 * len(reports) / len(paths), "试运行完成，等待确认")
                # nothing loadable (every file refused): nothing to ask, nothing held open
                good = any(r.status not in ("refused", "skipped") for r in reports)
                go = good and bool(confirm(reports))
                if one_transaction:
                    mem.execute("COMMIT" if go else "ROLLBACK")
                if not go:
                    build = False
                    for r in reports:
                        if r.status not in ("refused", "skipped"):
                            r.status = "dry_run"
    finally:
        try:
            if attached:
                mem.execute("USE memory")
                mem.execute("DETACH wh")  # checkpoints the warehouse and closes its file
        finally:
            mem.close()
    loaded = [r for r in reports if r.status not in ("refused", "skipped", "dry_run")]
    if loaded and build:
        progress(0.9, "计算评分并发布快照")
        from kpi.engine.build import build_and_publish

        # with the load's catalogue: a load with --catalog is another city's data
        try:
            build_and_publish(root, catalog_dir=catalog_dir)
            from office.tracking.tasks import after_build

            line = after_build(root)  # 督办 tasks from the new snapshot's red cells
            if line:
                progress(0.95, line)
        except (OSError, duckdb.Error) as err:
            # The rows are committed: say so, and what to run once the machine is fixed —
            # never that the load was rolled back.
            problem = machine_problem(err, root.root)
            if problem is None:
                raise
            log.exception("publish after a load failed")
            raise MachineProblem(
                f"导入已保存到数据仓库，但快照未发布：{problem}。"
                "看板仍显示上一个快照；释放空间（或改正权限）后运行 bizenv build 发布。"
            ) from None
    progress(1.0, "完成")
    refused = [r for r in reports if r.status == "refused"]
    if refused:
        head = (
            ""
            if len(paths) == 1
            else (f"{len(refused)} 个文件被拒绝导入（其余 {len(loaded)} 个已导入）：\n")
        )
        refusal = FileRefused(head + "\n".join(r.message for r in refused))
        refusal.reports = reports
        raise refusal
    return reports
