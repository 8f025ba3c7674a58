"""Header profiles: which export header means which canonical field — data (YAML), not code.

A profile per source lives in etl/profiles/<source>.yaml. A user with an unfamiliar export writes
a small profile of their own (`bizenv load --profile 我的导出.yaml`) that names the base source and
adds header synonyms, value maps, date formats, constants or a regex that pulls a field out of a
text column; it is merged over the built-in one (the user's entries win).

Example user profile:

    name: 某区自建系统办件导出
    source: approvals
    date_formats: ['%m/%d/%Y %I:%M:%S %p']
    fields:
      case_id: {headers: [流水号]}
      district: {constant: 柯城区}          # the export has no district column
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from kpi.errors import SpecError

SOURCES = ("approvals", "hotline", "ratings", "reports")
PROFILE_DIR = Path(__file__).resolve().parent / "profiles"

FieldType = Literal[
    "key",
    "code",
    "text",
    "timestamp",
    "count",
    "number",
    "district",
    "bool",
    "level",
    "period",
    "phone",
    "drop",
    "freetext",
]

# libyaml's loader when present: the pure-Python one costs a noticeable share of a small load.
YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# `other` left out means "keep an unmapped value as exported"; this marker tells the two apart
# from an explicit `other: null` (unmapped values become empty).
KEEP = "\x00keep"


class Extract(BaseModel):
    """Pull a field out of another column's text: the first pattern that matches wins."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    from_header: str
    patterns: tuple[str, ...]


class ColumnRule(BaseModel):
    """One more column a field may be read from, with its own code table (values); the field
    takes the first of its columns that is not empty (own header first, then these in order)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    header: str
    values: dict[str, str | None] = Field(default_factory=dict)  # code → canonical value
    other: str | None = KEEP  # a value the table does not know (left out: kept as exported)


# GB/T 39046 A.8 writes 1 = 非常满意 … 5 = 非常不满意; provincial 好差评 push interfaces write
# the reverse. `direction` names one of the two instead of a full code table.
LEVEL_DIRECTIONS = {
    "1=非常满意": {"1": "非常满意", "2": "满意", "3": "基本满意", "4": "不满意", "5": "非常不满意"},
    "1=非常不满意": {
        "1": "非常不满意",
        "2": "不满意",
        "3": "基本满意",
        "4": "满意",
        "5": "非常满意",
    },
}
Direction = Literal["1=非常满意", "1=非常不满意"]


class FieldSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    headers: tuple[str, ...] = ()
    type: FieldType = "text"
    required: bool = False
    values: dict[str, str | None] = Field(default_factory=dict)  # raw value → canonical value
    other: str | None = KEEP  # value for a non-empty raw value the map does not know
    codes: dict[str, str] = Field(
        default_factory=dict
    )  # level code → label (per-source code table)
    constant: str | None = None  # the export lacks the column: every row gets this value
    extract: Extract | None = None
    default: str | None = None  # used when the cell is empty (or nothing was extracted)
    # When the export has several columns of the same header (two 受理时间): which one, 1 = the
    # first. Without it such a file is refused, naming the columns (never a silent first pick).
    occurrence: int | None = Field(default=None, ge=1)
    # More columns to read the field from when its own is absent or empty (first non-empty).
    columns: tuple[ColumnRule, ...] = ()
    # A key the export has no column for, built from other fields joined by "-" (GB/T 39046
    # ratings have no 评价编号: 办件编号 + 评价次数). The first field must be present; a later one
    # that is absent or empty counts as 1 (评价次数 1 = the first rating).
    compose: tuple[str, ...] = ()
    direction: Direction | None = None  # level codes: which way round 1–5 run (LEVEL_DIRECTIONS)


def level_codes(spec: FieldSpec) -> dict[str, str]:
    """The code table of a level field: its own `codes`, else the one its `direction` names."""
    if spec.codes:
        return dict(spec.codes)
    return dict(LEVEL_DIRECTIONS[spec.direction]) if spec.direction else {}


class OrderRule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    earlier: str
    later: str
    reason: str


class Profile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    source: Literal["approvals", "hotline", "ratings", "reports"]
    name: str = ""
    label: str = ""
    date_formats: tuple[str, ...] = ()  # tried before the built-in formats (e.g. US AM/PM)
    # A zone suffix (Z, +08:00) is converted to Beijing time unless the export writes plain local
    # dates with a meaningless one (Burlington's "2024/10/03 00:00:00+00"): then it is dropped.
    ignore_time_zone: bool = False
    fields: dict[str, FieldSpec]
    order_rules: tuple[OrderRule, ...] = ()
    required_any: tuple[tuple[str, ...], ...] = ()
    categories: dict[str, str] = Field(default_factory=dict)


class UserFieldSpec(BaseModel):
    """A field entry of a user's profile: everything optional, merged over the built-in one."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    headers: tuple[str, ...] = ()
    required: bool | None = None
    values: dict[str, str | None] = Field(default_factory=dict)
    other: str | None = KEEP
    codes: dict[str, str] = Field(default_factory=dict)
    constant: str | None = None
    extract: Extract | None = None
    default: str | None = None
    occurrence: int | None = Field(default=None, ge=1)
    columns: tuple[ColumnRule, ...] | None = None
    compose: tuple[str, ...] | None = None
    direction: Direction | None = None


class UserProfile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    source: Literal["approvals", "hotline", "ratings", "reports"]
    name: str = ""
    date_formats: tuple[str, ...] = ()
    ignore_time_zone: bool = False
    fields: dict[str, UserFieldSpec] = Field(default_factory=dict)
    categories: dict[str, str] = Field(default_factory=dict)


def _read_yaml(path: Path) -> dict:
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=YAML_LOADER)
    except FileNotFoundError:
        raise SpecError([f"找不到画像文件 {path}"], str(path)) from None
    except (yaml.YAMLError, UnicodeDecodeError) as err:
        raise SpecError([f"不是有效的 YAML（UTF-8）：{err}"], str(path)) from None
    if not isinstance(data, dict):
        raise SpecError(["顶层应为键值对（source、fields …）"], str(path))
    return data


def _problems(err: ValidationError) -> list[str]:
    return [f"{'.'.join(str(p) for p in e['loc'])}：{e['msg']}" for e in err.errors()]


@functools.cache
def builtin_profile(source: str) -> Profile:
    path = PROFILE_DIR / f"{source}.yaml"
    try:
        profile = Profile.model_validate(_read_yaml(path))
    except ValidationError as err:
        raise SpecError(_problems(err), str(path)) from None
    return profile.model_copy(update={"name": profile.name or f"内置:{source}"})


def builtin_profiles() -> list[Profile]:
    return [builtin_profile(s) for s in SOURCES]


def load_user_profile(path: str | Path) -> Profile:
    """Read a user's profile and merge it over the built-in profile of its source."""
    path = Path(path)
    try:
        user = UserProfile.model_validate(_read_yaml(path))
    except ValidationError as err:
        raise SpecError(
            _problems(err) + ["source 取 approvals|hotline|ratings|reports"], str(path)
        ) from None
    base = builtin_profile(user.source)
    problems = []
    for name in user.fields:
        if name not in base.fields:
            problems.append(
                f"fields.{name}：{user.source} 没有这个字段，可用字段：{'、'.join(base.fields)}"
            )
    for fmt in user.date_formats:
        if "%" not in fmt:
            problems.append(
                f"date_formats：{fmt!r} 不是 strptime 格式（例如 '%m/%d/%Y %I:%M:%S %p'）"
            )
    for name, spec in user.fields.items():
        for pattern in spec.extract.patterns if spec.extract else ():
            try:
                re.compile(pattern)
            except re.error as err:
                problems.append(f"fields.{name}.extract：正则 {pattern!r} 无效（{err}）")
    if problems:
        raise SpecError(problems, str(path))
    fields = dict(base.fields)
    for name, over in user.fields.items():
        old = fields[name]
        fields[name] = old.model_copy(
            update={
                "headers": over.headers + tuple(h for h in old.headers if h not in over.headers),
                "required": old.required if over.required is None else over.required,
                "values": {**old.values, **over.values},
                "other": old.other if over.other == KEEP else over.other,
                "codes": over.codes or old.codes,
                "constant": over.constant,
                "extract": over.extract,
                "default": over.default if over.default is not None else old.default,
                "occurrence": over.occurrence if over.occurrence is not None else old.occurrence,
                "columns": old.columns if over.columns is None else over.columns,
                "compose": old.compose if over.compose is None else over.compose,
                "direction": over.direction or (None if over.codes else old.direction),
            }
        )
    return base.model_copy(
        update={
            "name": user.name or path.name,
            "date_formats": user.date_formats,
            "ignore_time_zone": user.ignore_time_zone,
            "fields": fields,
            "categories": {**base.categories, **user.categories},
        }
    )


def normalize_header(text: object) -> str:
    """Header text as compared: no spaces (also full-width), no BOM or * marks, no (单位) suffix."""
    s = str(text or "").replace("\ufeff", "")
    s = re.sub(r"[\s\u3000*＊]+", "", s)
    s = re.sub(r"[（(][^（）()]*[)）]$", "", s)
    return s.casefold()


def known_headers(profiles: list[Profile]) -> set[str]:
    return {normalize_header(h) for p in profiles for f in p.fields.values() for h in f.headers}


def _columns_by_header(headers: list[str]) -> dict[str, list[int]]:
    index: dict[str, list[int]] = {}
    for i, h in enumerate(headers):
        index.setdefault(normalize_header(h), []).append(i)
    return index


def match_fields(profile: Profile, headers: list[str]) -> dict[str, int]:
    """field → column index for every field whose header (or extract source) is in the export.

    Of several columns with the field's header, the one its `occurrence` names (else the first;
    ambiguous_headers() refuses such a file before it is loaded)."""
    index = _columns_by_header(headers)
    found = {}
    for name, spec in profile.fields.items():
        for h in spec.headers:
            columns = index.get(normalize_header(h))
            if columns:
                n = (spec.occurrence or 1) - 1
                if n < len(columns):
                    found[name] = columns[n]
                break
    return found


def column_letter(i: int) -> str:
    """0 → A, 25 → Z, 26 → AA: the column as Excel and WPS name it."""
    out = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        out = chr(65 + r) + out
    return out


def ambiguous_headers(profile: Profile, headers: list[str]) -> list[str]:
    """Chinese problems for fields whose header appears in several columns with no `occurrence`
    to choose one: '“受理时间”出现在第 H 列和第 N 列'."""
    index = _columns_by_header(headers)
    problems = []
    for name, spec in profile.fields.items():
        for h in spec.headers:
            columns = index.get(normalize_header(h))
            if not columns:
                continue
            if len(columns) > 1 and spec.occurrence is None:
                where = "和".join(f"第 {column_letter(c)} 列" for c in columns)
                problems.append(f"“{headers[columns[0]]}”出现在{where}（字段 {name}）")
            elif spec.occurrence is not None and spec.occurrence > len(columns):
                problems.append(
                    f"画像要求用第 {spec.occurrence} 个“{headers[columns[0]]}”列，但文件里只有 {len(columns)} 个"
                )
            break
    return problems


def extract_column(spec: FieldSpec, headers: list[str]) -> int | None:
    if spec.extract is None:
        return None
    wanted = normalize_header(spec.extract.from_header)
    return next((i for i, h in enumerate(headers) if normalize_header(h) == wanted), None)


def rule_columns(spec: FieldSpec, headers: list[str]) -> list[tuple[ColumnRule, int]]:
    """The `columns` rules of a field whose header the export has, with that column's index."""
    index = _columns_by_header(headers)
    out = []
    for rule in spec.columns:
        columns = index.get(normalize_header(rule.header))
        if columns:
            out.append((rule, columns[0]))
    return out


def composed(profile: Profile, name: str, headers: list[str]) -> bool:
    """The field is a key the export has no column for, built from fields it has (compose)."""
    spec = profile.fields[name]
    if not spec.compose or name in match_fields(profile, headers):
        return False
    return field_present(profile, spec.compose[0], headers)


def field_present(profile: Profile, name: str, headers: list[str]) -> bool:
    """The export fills the field: its column, an extraction, a rule column, a constant, a composition."""
    spec = profile.fields[name]
    return (
        name in match_fields(profile, headers)
        or spec.constant is not None
        or (spec.extract is not None and extract_column(spec, headers) is not None)
        or bool(rule_columns(spec, headers))
        or composed(profile, name, headers)
    )


def missing_required(profile: Profile, headers: list[str]) -> list[str]:
    """Required fields the export cannot fill, named by their first (generator) header."""
    found = match_fields(profile, headers)
    missing = []
    for name, spec in profile.fields.items():
        if not spec.required or name in found or spec.constant is not None:
            continue
        if field_present(profile, name, headers):
            continue
        missing.append(" 或 ".join(spec.headers[:2]) if spec.headers else name)
    for group in profile.required_any:
        if not any(field_present(profile, g, headers) for g in group):
            missing.append(" 或 ".join(profile.fields[g].headers[0] for g in group))
    return missing


def detect_profile(
    headers: list[str], profiles: list[Profile]
) -> tuple[Profile | None, Profile | None]:
    """(complete profile, best partial guess): the source whose required columns are all present.

    Several complete ones: the one that recognises the most headers.
    """
    scored = sorted(
        ((len(match_fields(p, headers)), -len(missing_required(p, headers)), p) for p in profiles),
        key=lambda t: (t[1], t[0]),
        reverse=True,
    )
    complete = [p for n, neg_missing, p in scored if neg_missing == 0]
    best_guess = scored[0][2] if scored and scored[0][0] >= 2 else None
    return (complete[0] if complete else None), best_guess
