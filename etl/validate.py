"""Type and check every row of a raw export in one SQL pass (表头映射 → 类型转换 → 校验).

The result table `checked` has, per physical row: line_no, is_skip (合计/总计/小计 or blank),
the mapped text values f_<field> (personal data in text fields already masked, etl.pii), typed
values (ts_/num_/bool_ …), the district code, and `reason` + `column_name` + `bad_value` when the
row must be quarantined (one reason per row: the first rule it breaks, in the order below), plus
`dup_extra` for exact repeats of an earlier row.

The reason texts are canonical — the demo generator injects dirty rows of each kind and the
status page groups by them. An empty cell has its own reason (时间为空, 评价等级为空, 未填报 …),
distinct from a value that cannot be used; for those the quarantine row's reason names the value
as exported after a full-width colon (时间无法识别：“待补录”), so grouping takes the part before
it (kpi.schema, quarantine.reason).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from etl import dates, pii, versions
from etl.profiles import (
    KEEP,
    ColumnRule,
    FieldSpec,
    Profile,
    column_letter,
    composed,
    extract_column,
    level_codes,
    match_fields,
    rule_columns,
)
from kpi.settings import Limits

MISSING_KEY = "缺少编号"
EMPTY_TIME = "时间为空"
BAD_TIME = "时间无法识别"
EMPTY_DISTRICT = "区县为空"
UNKNOWN_DISTRICT = "区县未知"
FUTURE_TIME = "时间晚于当前时间"
EARLY_TIME = "时间早于合理范围"  # before Limits.earliest_year (1900-01-01, 0001-01-01 placeholders)
EMPTY_LEVEL = "评价等级为空"
LEVEL_OUT_OF_RANGE = "评价等级超出五级"
LEVEL_CODE_UNDECLARED = "评价等级为数字编码，但画像未声明编码方向（codes）"
LEVEL_CONTRADICTION = "评价等级与等级编码不一致"  # 满意度 says one level, 满意度代码 another
DUPLICATE_CONFLICT = "同一文件内编号重复且内容不同"  # no longer raised: the later version wins
NOT_FILLED = "未填报"  # a blank cell of the 填报 template's 指标值
EMPTY_NUMBER = "数值为空"
BAD_NUMBER = "数值无法识别"  # not a number at all (abc, 十五, 五天)
NUMBER_OUT_OF_RANGE = "数值超出范围"  # a number, but negative (or a fraction of a count)
EMPTY_PERIOD = "统计期为空"
BAD_PERIOD = "统计期无法识别"
EMPTY_INDICATOR = "指标为空"
UNKNOWN_INDICATOR = "指标未定义"
# Reasons that mean "the cell is empty" (as opposed to a value that cannot be used).
EMPTY_REASONS = frozenset(
    {
        MISSING_KEY,
        EMPTY_TIME,
        EMPTY_DISTRICT,
        EMPTY_LEVEL,
        NOT_FILLED,
        EMPTY_NUMBER,
        EMPTY_PERIOD,
        EMPTY_INDICATOR,
    }
)
WIDE_EXPORT_COLUMNS = 100  # beyond this, blank-row detection takes the one-expression path
VALUE_SEPARATOR = "："  # reason：“value” in the quarantine table (see the module docstring)
SHOWN_VALUE_CHARS = 40

# What to do when a whole file is quarantined for one of these (the refusal names the first).
FIXES = {
    MISSING_KEY: "请确认导出时勾选了编号列（办件编号、工单编号、评价编号）并且每行都有编号。",
    EMPTY_TIME: "请确认导出时勾选了时间列并且每行都有时间。",
    BAD_TIME: (
        "请把时间写成 2026-07-01 09:05:00 这类格式，或在表头画像里用 date_formats 写明导出的时间格式"
        "（--profile 画像.yaml，示例见 tests/fixtures/profiles/）。"
    ),
    EMPTY_DISTRICT: "请确认导出时勾选了区县列并且每行都有区县；整份导出属于同一区县时，可在画像中给 district 设常量（constant）。",
    UNKNOWN_DISTRICT: (
        "这些区县不在当前使用的目录 {catalog}/districts.csv 中：如果这是另一个城市的数据，请用 --catalog 指定"
        "该城市的目录；否则在 districts.csv 的 aliases 列补上这种写法，或在表头画像中为区县加值映射（values）。"
    ),
    FUTURE_TIME: "请检查导出里的时间，或这台电脑的系统日期。",
    EARLY_TIME: (
        "1900-01-01、0001-01-01 这类日期通常是业务系统的“无日期”占位值：请在导出时补全真实时间；"
        "确有更早的记录，可用环境变量 BIZENV_EARLIEST_YEAR 调低合理范围的起始年份。"
    ),
    EMPTY_LEVEL: "请确认导出时勾选了评价等级列并且每行都有等级。",
    LEVEL_OUT_OF_RANGE: "评价等级应为 非常满意、满意、基本满意、不满意、非常不满意 之一（或在画像中用 codes 写明数字编码）。",
    LEVEL_CODE_UNDECLARED: (
        "导出里的等级是数字，方向各地不同：请写一个表头画像，用 codes 写明 1–5 各是哪一级"
        "（见 etl/profiles/ratings.yaml 开头的说明），再用 --profile 导入。"
    ),
    DUPLICATE_CONFLICT: "请确认导出没有把不同的记录写成同一个编号。",
    NOT_FILLED: "请在模板的“指标值”列（要求填分子、分母的指标填“分子”“分母”两列）填好数值后再导入（用 bizenv template 生成的模板）。",
    EMPTY_NUMBER: "请在该列填写数值。",
    BAD_NUMBER: "请填写阿拉伯数字（如 15），不要写汉字或单位以外的文字。",
    NUMBER_OUT_OF_RANGE: "请填写不小于 0 的数字（次数、时限为整数）。",
    LEVEL_CONTRADICTION: (
        "同一行的评价等级文字和等级编码说的不是同一级：请核对画像里 level_code 的编码方向（direction："
        "1=非常满意 或 1=非常不满意），方向写反时改正后重新导入；方向无误时请业务系统核实这些评价。"
    ),
    EMPTY_PERIOD: "请填写统计期，如 2026Q3 或 2026年第三季度。",
    BAD_PERIOD: "请把统计期写成 2026Q3 或 2026年第三季度。",
    EMPTY_INDICATOR: "请填写指标编码或指标名称（用 bizenv template 生成的模板里已经填好）。",
    UNKNOWN_INDICATOR: "请使用 bizenv template 生成的模板里的指标编码或指标名称（metrics.yaml 中来源为 reports 的指标）。",
}
DEFAULT_FIX = "请按上面的原因修正导出文件后重新导入。"

# GB/T 39046 A.8 — the canonical direction: 1 非常满意 … 5 非常不满意.
LEVEL_LABELS = ("非常满意", "满意", "基本满意", "不满意", "非常不满意")

TRIM_CHARS = " \t\r\n\u3000\u00a0\ufeff"
YES_WORDS = ("是", "true", "1", "y", "yes", "有", "已解决", "已整改", "涉企")
NO_WORDS = ("否", "false", "0", "n", "no", "无", "未解决", "未整改", "不涉企")
CN_QUARTER = {"一": "1", "二": "2", "三": "3", "四": "4", "1": "1", "2": "2", "3": "3", "4": "4"}

NATURAL_KEY_FIELDS = {
    "approvals": ("case_id",),
    "hotline": ("ticket_id",),
    "ratings": ("rating_id",),
    "reports": ("district_code", "report_period", "indicator_key"),
}


class Params:
    """Named query parameters: every value from a file or profile is bound, never spliced."""

    def __init__(self):
        self.values: dict[str, object] = {}

    def __call__(self, value: object) -> str:
        name = f"p{len(self.values)}"
        self.values[name] = value
        return f"${name}"

    def used_in(self, sql: str) -> dict[str, object]:
        """The values `sql` refers to (DuckDB refuses unused named parameters)."""
        names = set(re.findall(r"\$(p\d+)\b", sql))
        return {k: v for k, v in self.values.items() if k in names}


def q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@dataclass
class Plan:
    statements: list[
        tuple[str, dict[str, object]]
    ]  # run in order: CREATE checked, then the duplicate pass
    headers: dict[str, str]  # field → the export's header (or where the value came from)
    active: set[str]  # fields the export fills (a column, an extraction or a constant)


def clean_cell(cell: str, how: str = "full") -> str:
    """SQL: the cell without surrounding whitespace (incl. full-width, nbsp, BOM); '' → NULL.

    trim() with a character list is slow on millions of cells, so it runs only on cells that
    need it, found by cheap byte checks. `how`:
    - "thorough": always trim (free text: scraped exports pad it with tabs and newlines);
    - "full": cells starting with whitespace or ending with a space, tab or full-width space;
    - "lead": cells starting with whitespace — for times and numbers, whose parsers accept
      trailing blanks anyway (a stray tab is retried with a trim when parsing fails).
    """
    trimmed = f"nullif(trim({cell}, '{TRIM_CHARS}'), '')"
    if how == "thorough":
        return trimmed
    # `cell < '!'`: empty, or the first byte is a control character or a space (bytewise order)
    starts = " OR ".join(
        [f"{cell} < '!'"] + [f"prefix({cell}, '{c}')" for c in ("\u3000", "\u00a0", "\ufeff")]
    )
    if how == "full":
        starts += " OR " + " OR ".join(f"suffix({cell}, '{c}')" for c in (" ", "\t", "\u3000"))
    return f"CASE WHEN {starts} THEN {trimmed} ELSE {cell} END"


def _value_map(expr: str, spec: FieldSpec, p: Params, keep: str | None = None) -> str:
    """The value map applied to `expr`; `keep` is what a value the map does not know becomes
    when the profile keeps such values (the masked text, for text fields), default `expr`."""
    keep = keep or expr
    codes = level_codes(spec) if spec.type == "level" else {}
    mapping: dict[str, str | None] = dict(codes)
    mapping.update(spec.values)
    if not mapping and spec.other == KEEP:
        return keep
    arms = " ".join(f"WHEN {p(k)} THEN {p(v)}" for k, v in mapping.items())
    other = keep if spec.other == KEEP else p(spec.other)
    if spec.type == "level" and not codes:
        other = expr
    return (
        f"(CASE {expr} {arms} ELSE {other} END)"
        if arms
        else f"(CASE WHEN {expr} IS NULL THEN NULL ELSE {other} END)"
    )


def _rule_map(cell: str, rule: ColumnRule, p: Params) -> str:
    """One `columns` rule: its column's value through its own code table."""
    if not rule.values:
        return (
            cell
            if rule.other == KEEP
            else f"(CASE WHEN {cell} IS NOT NULL THEN {p(rule.other)} END)"
        )
    arms = " ".join(f"WHEN {p(k)} THEN {p(v)}" for k, v in rule.values.items())
    other = cell if rule.other == KEEP else p(rule.other)
    return f"(CASE {cell} {arms} ELSE {other} END)"


def field_sources(profile: Profile, headers: list[str]) -> tuple[dict[str, int], dict[str, str]]:
    """Column index of each mapped field, and the header a user should look at for each field."""
    found = match_fields(profile, headers)
    shown = {}
    for name, spec in profile.fields.items():
        rules = rule_columns(spec, headers)
        if spec.constant is not None:
            shown[name] = f"（画像常量 {spec.constant}）"
        elif name in found:
            shown[name] = headers[found[name]]
        elif (j := extract_column(spec, headers)) is not None:
            shown[name] = headers[j]
        elif rules:
            shown[name] = headers[rules[0][1]]
        elif composed(profile, name, headers):
            shown[name] = "+".join(
                headers[found[c]] if c in found else profile.fields[c].headers[0]
                for c in spec.compose
            )
        else:
            shown[name] = spec.headers[0] if spec.headers else name
    return found, shown


def raw_keys(headers: list[str]) -> list[str]:
    """The keys of a quarantined row's `raw` record: the export's headers, a repeated one (or a
    blank one) told apart by its column letter — 受理时间, 受理时间（H列）."""
    seen: dict[str, int] = {}
    for h in headers:
        seen[h] = seen.get(h, 0) + 1
    out = []
    for i, h in enumerate(headers):
        if not h.strip():
            out.append(f"（第 {column_letter(i)} 列）")
        elif seen[h] > 1 and h in out:
            out.append(f"{h}（{column_letter(i)}列）")
        else:
            out.append(h)
    return out


def _mapped(spec: FieldSpec) -> bool:
    """The field has a value map: a value it knows becomes a canonical word, nothing to mask."""
    return bool(spec.values)


def text_columns(profile: Profile, headers: list[str]) -> list[int]:
    """The columns unmapped `text` fields take their values from (their own, or the one they
    extract from). A mapped field's unknown values are checked cell by cell instead: they are
    the rare ones."""
    found = match_fields(profile, headers)
    return sorted(
        {
            j
            for n, spec in profile.fields.items()
            if spec.type == "text" and not _mapped(spec)
            for j in (found.get(n), extract_column(spec, headers))
            if j is not None
        }
    )


def build_plan(
    profile: Profile,
    headers: list[str],
    raw_view: str,
    now: dt.datetime,
    secret: str,
    suspect: set[int] | None = None,
) -> Plan:
    """The CREATE TABLE checked … statement for this export (see module docstring).

    `suspect`: the text columns that hold a value personal data may be in (etl.pii.suspect_columns,
    worked out on the distinct values); the others need no masking. None: mask every text column.
    """
    p = Params()
    found, shown = field_sources(profile, headers)
    cells = [f"k{i}" for i in range(len(headers))]
    how = ["lead"] * len(headers)  # unmapped columns only matter for spotting blank/合计 rows
    for n, spec in profile.fields.items():
        if n in found:
            how[found[n]] = {
                "freetext": "thorough",
                "timestamp": "lead",
                "count": "lead",
                "number": "lead",
            }.get(spec.type, "full")
        if (j := extract_column(spec, headers)) is not None:
            how[j] = "full"
        for _, j in rule_columns(spec, headers):
            how[j] = "full"
    # Blank and 合计 rows: the first non-blank cell of the row. For an ordinary export, the
    # coalesce of its cleaned cells (fast per row). For a very wide one, DuckDB's cost is per
    # expression — a 2,000-column export with every column cleaned took seconds for ten rows —
    # so only the columns a field reads are cleaned and the first cell comes from one list
    # filter over the raw cells (slower per row, but one expression).
    if len(headers) <= WIDE_EXPORT_COLUMNS:
        cleaned = ", ".join(f"{clean_cell(f'c{i}', how[i])} AS k{i}" for i in range(len(headers)))
        first_raw = ""
        first_cell_sql = f"coalesce({', '.join(cells)})"
    else:
        used = (
            set(found.values())
            | {
                j
                for spec in profile.fields.values()
                if (j := extract_column(spec, headers)) is not None
            }
            | {j for spec in profile.fields.values() for _, j in rule_columns(spec, headers)}
        )
        cleaned = ", ".join(
            [f"{clean_cell(f'c{i}', how[i])} AS k{i}" for i in sorted(used)] + ["first_raw"]
        )
        raw_cells = ", ".join(f"c{i}" for i in range(len(headers)))
        first_raw = (
            f", list_filter([{raw_cells}], lambda x: trim(x, '{TRIM_CHARS}') <> '')[1] AS first_raw"
        )
        first_cell_sql = f"nullif(trim(first_raw, '{TRIM_CHARS}'), '')"
    first_cell = "first_cell"
    # The quarantine record keeps the row's original cells (all of them; for a very wide export
    # the ones a field reads): carried through as raw_<i> and left out of `checked`.
    raw_cols = list(range(len(headers))) if len(headers) <= WIDE_EXPORT_COLUMNS else sorted(used)
    personal = {j for j in raw_cols if _personal_column(profile, headers, j, found)}
    raw_cols = [j for j in raw_cols if j not in personal]
    src_cols = [
        "line_no",
        *(f"c{j} AS raw_{j}" for j in raw_cols),
        # blank, or a 合计/总计/小计 row (the cheap prefix test spares the regex on data rows)
        (
            f"({first_cell} IS NULL OR ((prefix({first_cell}, '合') OR prefix({first_cell}, '总') "
            f"OR prefix({first_cell}, '小')) AND regexp_matches({first_cell}, '^(合\\s*计|总\\s*计|小\\s*计)'))) AS is_skip"
        ),
    ]
    fields = profile.fields
    active: list[str] = []
    as_exported: list[str] = []
    plain: set[str] = (
        set()
    )  # fields filled straight from their own column (empty cell = empty field)
    for name, spec in fields.items():
        if spec.type == "drop":
            continue
        rules = rule_columns(spec, headers)
        if spec.constant is not None:
            expr = p(spec.constant)
        elif composed(profile, name, headers):
            expr = _compose_sql(profile, spec, found, cells)
        else:
            parts = []
            if name in found:
                parts.append(cells[found[name]])
            j = extract_column(spec, headers)
            if j is not None and spec.extract is not None:
                parts += [
                    f"nullif(regexp_extract(k{j}, {p(pat)}), '')" for pat in spec.extract.patterns
                ]
            if spec.default is not None and not rules:
                parts.append(p(spec.default))
            if not parts and not rules:
                continue
            if name in found and parts == [cells[found[name]]] and not rules:
                plain.add(name)
            expr = (
                "CAST(NULL AS VARCHAR)"
                if not parts
                else parts[0]
                if len(parts) == 1
                else f"coalesce({', '.join(parts)})"
            )
        if spec.type in ("key", "code", "text", "district", "bool", "level"):
            sources = {found.get(name), extract_column(spec, headers)} - {None}
            masked = (
                pii.masked_sql(expr, pii.may_hold_sql([expr]))
                if spec.type == "text" and (suspect is None or _mapped(spec) or sources & suspect)
                else None
            )
            mapped = _value_map(expr, spec, p, masked)
            if (
                mapped not in (expr, masked) and name in found
            ):  # keep the cell as exported for the quarantine view
                src_cols.append(f"{cells[found[name]]} AS {q('r_' + name)}")
                as_exported.append(name)
            expr = mapped
        if rules:  # first non-empty: own column, then each rule column through its code table
            tail = [p(spec.default)] if spec.default is not None else []
            expr = f"coalesce({', '.join([expr, *(_rule_map(cells[j], r, p) for r, j in rules), *tail])})"
        src_cols.append(f"{expr} AS {q('f_' + name)}")
        active.append(name)

    def exported(name: str) -> str:
        """The field's cell as the user wrote it (before value maps), for quarantine messages."""
        return q(("r_" if name in as_exported else "f_") + name)

    def source_cell(name: str) -> str | None:
        """The cell a field with no value of its own was to be read from (an extraction's source
        column): shown when nothing could be taken from it."""
        j = extract_column(fields[name], headers)
        return f"raw_{j}" if j is not None and j in raw_cols else None

    fmts = p(dates.formats(profile.date_formats))
    typed_cols = ["src.*"]
    joins = []
    # (condition meaning "bad", reason, field, the offending value to show or None)
    checks: list[tuple[str, str, str, str | None]] = []
    key_fields = [n for n in active if fields[n].type == "key"]
    for name in key_fields:
        checks.append((f"{q('f_' + name)} IS NULL", MISSING_KEY, name, None))
    for name, spec in fields.items():
        if spec.type == "key" and spec.required and name not in active:
            checks.append(("TRUE", MISSING_KEY, name, None))
    time_fields = []
    for name in active:
        spec, f = fields[name], q("f_" + name)
        if spec.type == "timestamp":
            convert = not profile.ignore_time_zone
            typed_cols.append(f"{dates.timestamp_sql(f, fmts, convert)} AS {q('ts_' + name)}")
            time_fields.append(name)
    for name in time_fields:
        f, ts = q("f_" + name), q("ts_" + name)
        placeholder = dates.placeholder_sql(f)
        if fields[name].required:
            # empty, or a "no date" placeholder (shown, so the user sees why it counts as empty)
            checks.append((f"{f} IS NULL OR {placeholder}", EMPTY_TIME, name, f))
        checks.append(
            (f"({f} IS NOT NULL AND {ts} IS NULL AND NOT {placeholder})", BAD_TIME, name, f)
        )
    for name, spec in fields.items():
        if spec.type == "timestamp" and spec.required and name not in active:
            checks.append(("TRUE", EMPTY_TIME, name, None))
    if "district" in fields:
        if "district" in active:
            # A 9-digit (town) or 12-digit (village) 行政区划代码 belongs to the county of its
            # first six digits.
            d = f"src.{q('f_district')}"
            town = (
                f"length({d}) IN (9, 12) AND regexp_matches({d}, '^[1-9][0-9]{{8}}([0-9]{{3}})?$')"
            )
            joins.append(
                f"LEFT JOIN cat_aliases da ON da.alias = lower(CASE WHEN {town} THEN left({d}, 6) ELSE {d} END)"
            )
            typed_cols.append("da.district_code AS district_code")
            if "district" in plain:
                checks.append((f"{q('f_district')} IS NULL", EMPTY_DISTRICT, "district", None))
            # nothing found in the text it was to be taken from: that text is what to look at
            cell = source_cell("district")
            shown_value = (
                f"coalesce({exported('district')}, {cell})" if cell else exported("district")
            )
            checks.append(("district_code IS NULL", UNKNOWN_DISTRICT, "district", shown_value))
        else:
            typed_cols.append("CAST(NULL AS VARCHAR) AS district_code")
            checks.append(("district_code IS NULL", UNKNOWN_DISTRICT, "district", None))
    if profile.source == "reports":
        per = q("f_report_period") if "report_period" in active else "CAST(NULL AS VARCHAR)"
        norm = f"upper(regexp_replace({per}, '[\\s年第季度]', '', 'g'))"
        digit = f"regexp_extract({norm}, '^(\\d{{4}})-?Q?([1-4一二三四])$', 2)"
        quarter = (
            "CASE "
            + " ".join(f"WHEN {digit} = '{k}' THEN '{v}'" for k, v in CN_QUARTER.items())
            + " END"
        )
        typed_cols.append(
            f"CASE WHEN regexp_matches({norm}, '^\\d{{4}}-?Q?[1-4一二三四]$') "
            f"THEN substr({norm}, 1, 4) || 'Q' || ({quarter}) END AS report_period"
        )
        checks.append((f"{per} IS NULL", EMPTY_PERIOD, "report_period", None))
        checks.append(("report_period IS NULL", BAD_PERIOD, "report_period", per))
        code = q("f_indicator_code") if "indicator_code" in active else "CAST(NULL AS VARCHAR)"
        label = q("f_indicator_name") if "indicator_name" in active else "CAST(NULL AS VARCHAR)"
        typed_cols.append(
            f"CASE WHEN {code} IS NOT NULL THEN (CASE WHEN (SELECT count(*) FROM cat_indicators) = 0 "
            f"THEN (CASE WHEN regexp_matches({code}, '^[a-z0-9_]+$') THEN {code} END) "
            f"ELSE (SELECT min(key) FROM cat_indicators WHERE key = {code} OR id = {code}) END) "
            f"ELSE (SELECT min(key) FROM cat_indicators WHERE label = {label}) END AS indicator_key"
        )
        named = "indicator_code" if "indicator_code" in active else "indicator_name"
        checks.append((f"{code} IS NULL AND {label} IS NULL", EMPTY_INDICATOR, named, None))
        if "indicator_code" in active:  # blame the column the user actually filled in
            checks.append(
                (
                    f"indicator_key IS NULL AND {code} IS NOT NULL",
                    UNKNOWN_INDICATOR,
                    "indicator_code",
                    code,
                )
            )
        checks.append(
            (
                "indicator_key IS NULL",
                UNKNOWN_INDICATOR,
                "indicator_name" if "indicator_name" in active else "indicator_code",
                label,
            )
        )
        # 指标值, or 分子 and 分母 both (metrics.yaml `reported` parts): a row with neither is 未填报
        value = q("f_value") if "value" in active else "NULL"
        pair = " AND ".join(
            f"{q('f_' + n)} IS NOT NULL" for n in ("numerator", "denominator") if n in active
        )
        both = pair if pair.count("IS NOT NULL") == 2 else "FALSE"
        checks.append((f"{value} IS NULL AND NOT ({both})", NOT_FILLED, "value", None))
    num_re = p(
        r"^[\s\x{3000}]*(-?\d+(\.\d+)?)\s*(个工作日|工作日|天|日|次|小时|%|％)?[\s\x{3000}]*$"
    )
    for name in active:
        spec, f = fields[name], q("f_" + name)
        if spec.type in ("count", "number"):
            n = q("num_" + name)
            typed_cols.append(
                f"coalesce(TRY_CAST({f} AS DOUBLE), "
                f"TRY_CAST(regexp_extract(replace({f}, ',', ''), {num_re}, 1) AS DOUBLE)) AS {n}"
            )
            whole = f" OR {n} <> floor({n})" if spec.type == "count" else ""
            if spec.required:
                empty = NOT_FILLED if profile.source == "reports" else EMPTY_NUMBER
                checks.append((f"{f} IS NULL", empty, name, None))
            checks.append((f"({f} IS NOT NULL AND {n} IS NULL)", BAD_NUMBER, name, f))
            checks.append((f"({n} < 0{whole})", NUMBER_OUT_OF_RANGE, name, f))
        elif spec.type == "bool":
            yes = ", ".join(p(w) for w in YES_WORDS)
            no = ", ".join(p(w) for w in NO_WORDS)
            typed_cols.append(
                f"CASE WHEN lower({f}) IN ({yes}) THEN TRUE WHEN lower({f}) IN ({no}) THEN FALSE END "
                f"AS {q('bool_' + name)}"
            )
        elif spec.type == "level":
            typed_cols.append(f"{_level_sql(f, p)} AS {q('lvl_' + name)}")
        elif spec.type == "phone":
            typed_cols.append(f"{pii.phone_hash_sql(f, p(secret))} AS {q('hash_' + name)}")
        elif spec.type == "freetext":
            typed_cols.append(
                f"{pii.masked_sql(f, pii.may_hold_sql([f]))} AS {q('masked_' + name)}"
            )
    levels = [n for n in active if fields[n].type == "level"]
    if levels:
        # The label column (满意度) and the code column (满意度代码): either may be empty; when
        # both are filled they must name the same level.
        typed_cols.append(
            f"coalesce({', '.join(_level_sql(q('f_' + n), p) for n in levels)}) AS level"
        )
        checks.append(
            (" AND ".join(f"{q('f_' + n)} IS NULL" for n in levels), EMPTY_LEVEL, levels[0], None)
        )
        for name in levels:
            f, lvl = q("f_" + name), q("lvl_" + name)
            if not level_codes(fields[name]):
                checks.append(
                    (
                        f"({lvl} IS NULL AND regexp_matches(coalesce({f}, ''), '^[1-5]$'))",
                        LEVEL_CODE_UNDECLARED,
                        name,
                        exported(name),
                    )
                )
            checks.append(
                (f"({f} IS NOT NULL AND {lvl} IS NULL)", LEVEL_OUT_OF_RANGE, name, exported(name))
            )
        if len(levels) > 1:
            a, b = levels[0], levels[1]
            said = (
                f"{p(shown[a] + '=')} || {exported(a)} || {p('，' + shown[b] + '=')} || {exported(b)}"
                f" || {p('（按画像即')} || {q('f_' + b)} || {p('）')}"
            )
            checks.append((f"{q('lvl_' + a)} <> {q('lvl_' + b)}", LEVEL_CONTRADICTION, b, said))
    for rule in profile.order_rules:
        if rule.earlier in time_fields and rule.later in time_fields:
            # both times as read, in the reason's order (办结时间早于受理时间：“办结，受理”)
            both = " || '，' || ".join(
                f"strftime({q('ts_' + n)}, '%Y-%m-%d %H:%M:%S')" for n in (rule.later, rule.earlier)
            )
            checks.append(
                (
                    f"{q('ts_' + rule.later)} < {q('ts_' + rule.earlier)}",
                    rule.reason,
                    rule.later,
                    both,
                )
            )
    now_p = p(now)
    # Dates before the plausible range would create quarters such as 1900Q1 in every picker.
    earliest_p = p(dt.datetime(Limits.from_env().earliest_year, 1, 1))
    for name in time_fields:
        checks.append((f"{q('ts_' + name)} > {now_p}", FUTURE_TIME, name, q("f_" + name)))
        checks.append((f"{q('ts_' + name)} < {earliest_p}", EARLY_TIME, name, q("f_" + name)))

    # Each condition is evaluated once per row (rule_no: the first rule the row breaks); the
    # reason, column and value are looked up from it.
    rule_no = (
        "CASE " + " ".join(f"WHEN {bad} THEN {i}" for i, (bad, *_) in enumerate(checks, 1)) + " END"
        if checks
        else "CAST(NULL AS INTEGER)"
    )
    reasons = p([r for _, r, _, _ in checks])
    columns = p([shown[fld] for _, _, fld, _ in checks])
    values = [(i, v) for i, (*_, v) in enumerate(checks, 1) if v is not None]
    value = (
        "CASE rule_no " + " ".join(f"WHEN {i} THEN {v}" for i, v in values) + " END"
        if values
        else "CAST(NULL AS VARCHAR)"
    )

    key_cols = [
        (
            "district_code"
            if k == "district_code"
            else k
            if k in ("report_period", "indicator_key")
            else q("f_" + k)
        )
        for k in NATURAL_KEY_FIELDS[profile.source]
    ]
    content = [q(c) for c in _content_columns(profile, active)]
    phones = {found[n]: q("hash_" + n) for n in active if fields[n].type == "phone" and n in found}
    raw_json = _raw_json(raw_keys(headers), raw_cols, phones, p)
    keep = f" EXCLUDE ({', '.join(f'raw_{j}' for j in raw_cols)})" if raw_cols else ""
    sql = f"""
CREATE OR REPLACE TEMP TABLE checked AS
WITH raws AS (SELECT *{first_raw} FROM {raw_view}),
cells AS (SELECT line_no, {cleaned}{"".join(f", c{j}" for j in raw_cols)} FROM raws),
firsts AS (SELECT cells.*, {first_cell_sql} AS first_cell FROM cells),
src AS (SELECT {", ".join(src_cols)} FROM firsts),
typed AS (SELECT {", ".join(typed_cols)} FROM src {" ".join(joins)}),
numbered AS (SELECT typed.*, CASE WHEN is_skip THEN NULL ELSE {rule_no} END AS rule_no FROM typed),
judged AS (
    SELECT numbered.*, ({reasons})[rule_no] AS reason, ({columns})[rule_no] AS column_name
    FROM numbered)
SELECT judged.*{keep},
       CASE WHEN reason IS NULL AND NOT is_skip THEN hash({", ".join(content) or "1"}) END AS content_hash,
       FALSE AS dup_extra, CAST(NULL AS VARCHAR) AS dup_kind,
       CASE WHEN reason IS NOT NULL THEN {raw_json} END AS raw,
       CASE WHEN reason IS NOT NULL THEN CAST({value} AS VARCHAR) END AS bad_value
FROM judged"""
    # Rows repeating a key: the later (or higher-version) row wins, the others are skipped.
    version = q("num_data_version") if "data_version" in active else None
    statements = [sql, *versions.statements(key_cols, version)]
    return Plan([(stmt, p.used_in(stmt)) for stmt in statements], shown, set(active))


def _raw_json(keys: list[str], raw_cols: list[int], phones: dict[int, str], p: Params) -> str:
    """SQL: a quarantined row as JSON of its original cells, keyed by the export's own headers
    (a repeated header told apart by its column letter, raw_keys).

    The cells are as exported — before trimming, value maps or extraction — so the user finds the
    row as it is in the file. Personal data is the exception: a phone number only as its hash,
    names not at all (columns the profile drops and unmapped columns whose header names a person,
    _personal_column), and the whole record goes through the free-text masking rules when it is
    selected (quarantine_sql) — any cell may be where an export put a number.
    """
    pairs = []
    for j in raw_cols:
        pairs += [p(keys[j]), phones.get(j, f"raw_{j}")]
    return f"json_object({', '.join(pairs)})" if pairs else "'{}'"


def _personal_column(profile: Profile, headers: list[str], j: int, found: dict[str, int]) -> bool:
    """Column j is left out of the quarantine record: a field the profile drops (诉求人), or a
    column no field reads whose header names a person (申请人, 评价人, 联系电话 …)."""
    readers = {
        n
        for n, spec in profile.fields.items()
        if found.get(n) == j
        or extract_column(spec, headers) == j
        or any(k == j for _, k in rule_columns(spec, headers))
    }
    if readers:
        return all(profile.fields[n].type == "drop" for n in readers)
    return pii.personal_header(headers[j])


def _compose_sql(profile: Profile, spec: FieldSpec, found: dict[str, int], cells: list[str]) -> str:
    """SQL: a key built from other fields' cells (compose), "-" between them; the first must be
    filled, a later one absent or empty counts as 1 (评价次数 1: the first rating)."""
    first = cells[found[spec.compose[0]]]
    parts = [first]
    for name in spec.compose[1:]:
        if name in found:
            c = cells[found[name]]
            parts.append(
                f"coalesce(CAST(TRY_CAST(TRY_CAST({c} AS DOUBLE) AS BIGINT) AS VARCHAR), {c}, '1')"
            )
        else:
            parts.append("'1'")
    joined = " || '-' || ".join(parts)
    return f"CASE WHEN {first} IS NOT NULL THEN {joined} END"


def _level_sql(text: str, p: Params) -> str:
    """SQL: a level label (非常满意 … 非常不满意) as its number 1–5 (GB/T 39046 A.8), else NULL."""
    arms = " ".join(f"WHEN {p(lab)} THEN {i}" for i, lab in enumerate(LEVEL_LABELS, 1))
    return f"(CASE {text} {arms} END)"


def quarantined_sql(where: str = "reason IS NOT NULL") -> str:
    """SQL: the quarantined rows of `checked` (line_no, column_name, reason, bad_value, raw) with
    the raw record and the offending value masked (etl.pii), the value cut when long."""
    rows = f"SELECT line_no, column_name, reason, bad_value, raw FROM checked WHERE {where}"
    masked = pii.masked_select(pii.masked_select(rows, "raw"), "bad_value")
    cut = f"regexp_replace(bad_value, '(?s)^(.{{{SHOWN_VALUE_CHARS}}}).+$', '\\1…')"
    return f"SELECT * REPLACE ({cut} AS bad_value) FROM ({masked})"


# The quarantine rows of `checked` as written to the warehouse: reason：“value” for a value that
# cannot be used.
QUARANTINE_SQL = (
    f"SELECT line_no, column_name, reason || coalesce('{VALUE_SEPARATOR}“' || bad_value || '”', '') "
    f"AS reason, raw FROM ({quarantined_sql()}) ORDER BY line_no"
)


def _content_columns(profile: Profile, active: list[str]) -> list[str]:
    """Typed columns that define "the same content" for the duplicate check."""
    cols = []
    for name in active:
        t = profile.fields[name].type
        cols.append(
            {
                "timestamp": "ts_",
                "count": "num_",
                "number": "num_",
                "bool": "bool_",
                "phone": "hash_",
                "freetext": "masked_",
            }.get(t, "f_")
            + name
            if t not in ("district", "level", "period")
            else {"district": "district_code", "level": "level", "period": "report_period"}[t]
        )
    if profile.source == "reports":
        cols.append("indicator_key")
    return cols
