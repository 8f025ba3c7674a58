"""列对应 (the mapping form's side without Streamlit): an unfamiliar export's columns with sample
values and a proposed canonical field each, the code tables a field needs, a preview of the
first rows as they would load, and the profile saved as YAML in the data dir's profiles/ folder
— which the loader reads too (etl.load picks a saved profile whose columns a file has).

The preview runs the real staging (etl.load.stage_file) on the file with the profile, in an
in-memory database: the same checks as a load, nothing written.
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from etl.commands.profile import _guess, _label, _samples
from etl.profiles import (
    SOURCES,
    Profile,
    builtin_profile,
    builtin_profiles,
    detect_profile,
    known_headers,
    load_user_profile,
    match_fields,
    missing_required,
)
from kpi import settings, store
from kpi.errors import UserInputError

# fields whose values the form offers a code table for: their canonical values
CODED_TYPES = ("text", "level")


@dataclass
class Column:
    index: int
    header: str
    samples: str  # a few distinct values, masked
    values: list[str] = field(default_factory=list)  # up to 30 distinct values (code tables)


@dataclass
class Inspection:
    file_name: str
    source: str  # the source whose headers it resembles most
    columns: list[Column]
    proposed: dict[str, int]  # field → column index


@dataclass
class FieldChoice:
    name: str
    label: str
    required: bool
    canonical_values: list[str]  # a code table's targets ([] when the field needs none)


def profiles_dir(data_dir: settings.DataDir) -> Path:
    return data_dir.root / "profiles"


def _saved(data_dir: settings.DataDir) -> list[tuple[Path, list[str]]]:
    """(file, the columns it names itself) of each saved profile."""
    folder = profiles_dir(data_dir)
    out = []
    for path in sorted(folder.glob("*.yaml")) if folder.is_dir() else []:
        try:
            doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            own = [
                str(f["headers"][0])
                for f in (doc.get("fields") or {}).values()
                if isinstance(f, dict) and f.get("headers")
            ]
        except (OSError, yaml.YAMLError, AttributeError, TypeError, KeyError, IndexError):
            continue
        out.append((path, own))
    return out


def saved_headers(data_dir: settings.DataDir) -> set[str]:
    """Every column a saved profile names (the reader looks for the header row by them)."""
    from etl.profiles import normalize_header

    return {normalize_header(h) for _, own in _saved(data_dir) for h in own}


def saved_match(data_dir: settings.DataDir, headers: list[str]) -> Profile | None:
    """The saved profile that reads this file: every column it names is there, and every
    required field. None when none does (the built-in detection then runs as always)."""
    from etl.profiles import normalize_header

    have = {normalize_header(h) for h in headers}
    for path, own in _saved(data_dir):
        if not own or not all(normalize_header(h) in have for h in own):
            continue
        try:
            profile = load_user_profile(path)
        except Exception:  # noqa: BLE001 - a broken saved profile must not stop the load
            continue
        if not missing_required(profile, headers):
            return profile
    return None


def fields(source: str) -> list[FieldChoice]:
    """The canonical fields of `source`, in Chinese, with the values a code table maps to."""
    profile = builtin_profile(source)
    out = []
    for name, spec in profile.fields.items():
        if spec.type in ("drop",) or spec.compose:
            continue
        targets: list[str] = []
        if spec.type in CODED_TYPES and spec.values:
            targets = sorted({v for v in spec.values.values() if v})
        elif spec.type == "level" and spec.codes:
            targets = sorted(set(spec.codes.values()))
        out.append(FieldChoice(name, _label(source, name, spec), spec.required, targets))
    return out


def inspect(path: Path, source: str | None = None) -> Inspection:
    """Headers, samples and a proposed field per column of an export."""
    from etl import readers

    con = store.connect_memory()
    try:
        with tempfile.TemporaryDirectory(prefix="bizenv-map-") as tmp:
            raw = readers.read_export(
                con, Path(path), known_headers(builtin_profiles()), "raw0", Path(tmp)
            )
            headers = raw.headers
            if source:
                profile = builtin_profile(source)
            else:
                complete, guess = detect_profile(headers, builtin_profiles())
                profile = (
                    complete
                    or guess
                    or max(builtin_profiles(), key=lambda p: len(match_fields(p, headers)))
                )
            samples = _samples(con, raw.view, len(headers))
            distinct = []
            for i in range(len(headers)):
                distinct.append(
                    [
                        str(v)
                        for (v,) in con.execute(
                            f"SELECT DISTINCT c{i} FROM (SELECT c{i} FROM {raw.view} LIMIT 5000) "
                            f"WHERE nullif(trim(c{i}), '') IS NOT NULL ORDER BY 1 LIMIT 31"
                        ).fetchall()
                    ]
                )
            raw.release(con)
    finally:
        con.close()
    found = match_fields(profile, headers)
    taken = set(found.values())
    for name, spec in profile.fields.items():
        if name not in found:
            g = _guess(spec, headers, taken)
            if g is not None:
                found[name] = g
                taken.add(g)
    columns = [
        Column(i, h, samples[i], distinct[i] if len(distinct[i]) <= 30 else [])
        for i, h in enumerate(headers)
    ]
    return Inspection(Path(path).name, profile.source, columns, found)


def profile_doc(
    name: str,
    source: str,
    mapping: dict[str, str],
    codes: dict[str, dict[str, str]] | None = None,
) -> dict:
    """The YAML document of a profile: field → its column (and code table)."""
    if source not in SOURCES:
        raise UserInputError(f"来源只能是 {'、'.join(SOURCES)} 之一。")
    if not name.strip():
        raise UserInputError("请给画像起一个名字（例如：某区自建系统办件导出）。")
    doc: dict = {"name": name.strip(), "source": source, "fields": {}}
    for fname, header in mapping.items():
        if not header:
            continue
        spec: dict = {"headers": [header]}
        table = {k: v for k, v in (codes or {}).get(fname, {}).items() if v}
        if table:
            spec["values"] = table
        doc["fields"][fname] = spec
    return doc


def file_stem(name: str) -> str:
    return re.sub(r'[\x00-\x1f<>:"/\\|?*]', "_", name.strip())[:80] or "画像"


def save(data_dir: settings.DataDir, doc: dict) -> Path:
    """Write the profile into the data dir's profiles/ (checked first: a bad one is refused)."""
    folder = profiles_dir(data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{file_stem(doc['name'])}.yaml"
    text = "# 由“数据”页的列对应保存；导入时自动用于表头相同的文件。\n" + yaml.safe_dump(
        doc, allow_unicode=True, sort_keys=False
    )
    tmp = target.with_suffix(".yaml.tmp")
    tmp.write_text(text, encoding="utf-8")
    load_user_profile(tmp)  # refuse (SpecError, in Chinese) before it replaces anything
    tmp.replace(target)
    return target


@dataclass
class Preview:
    rows: list[dict]
    columns: list[str]
    rows_read: int
    rows_loaded: int
    rows_quarantined: int
    quarantine_by_reason: dict[str, int]
    refusal: str = ""


def preview(path: Path, doc: dict, limit: int = 10) -> Preview:
    """The first rows as they would load with this profile (the real staging, in memory)."""
    from etl import catalog as catalog_mod
    from etl import load
    from kpi.errors import FileRefused, SpecError

    with tempfile.TemporaryDirectory(prefix="bizenv-preview-") as tmp:
        ppath = Path(tmp) / "profile.yaml"
        ppath.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
        try:
            user = load_user_profile(ppath)
        except SpecError as err:
            return Preview([], [], 0, 0, 0, {}, str(err))
        mem = store.connect_memory()
        try:
            catalog = catalog_mod.load_catalog(None)
            catalog_mod.register(mem, catalog)
            try:
                staged = load.stage_file(
                    mem,
                    Path(path),
                    0,
                    None,
                    user,
                    settings.DataDir.of(Path(tmp) / "data"),
                    Path(tmp),
                    load.local_now(),
                    catalog_root=catalog.root,
                )
            except FileRefused as err:
                return Preview([], [], 0, 0, 0, {}, str(err))
            r = staged.report
            cur = mem.execute(f"SELECT * FROM ({staged.records}) LIMIT {int(limit)}", staged.params)
            cols = [d[0] for d in cur.description]
            rows = [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]
            load.release_checked(mem)
            return Preview(
                rows, cols, r.rows_read, r.rows_loaded, r.rows_quarantined, r.quarantine_by_reason
            )
        finally:
            mem.close()
