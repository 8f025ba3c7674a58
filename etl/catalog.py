"""The catalogue (data/catalog/ or BIZENV_CATALOG_DIR): districts, domains, items, hotline topics,
holidays.

Read once per load, registered as temp tables for the load's SQL (cat_*), and copied into the
warehouse tables districts / domains / items / calendar so analysts, the scoring engine and the
pages see exactly the catalogue the records were loaded against. Another city = another catalogue
folder, no code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import yaml

from etl.calendar import CALENDAR_SELECT, calendar_table
from etl.profiles import YAML_LOADER
from kpi import catalog as kpi_catalog
from kpi import matching, settings


@dataclass
class Catalog:
    root: Path
    districts: pa.Table
    aliases: pa.Table  # alias (lower-case) → district_code
    items: pa.Table
    topics: pa.Table
    calendar: pa.Table
    indicators: pa.Table | None  # reports indicators from metrics.yaml (None: metrics.yaml absent)
    domains: pa.Table | None = None  # domains.csv: labels and the short names pages and LED show
    # 事项 matching (kpi.matching): codes, names and aliases of items.csv; item_rules.csv
    item_keys: pa.Table | None = None
    item_rules: pa.Table | None = None
    match_hash: str = ""


def _read_csv(path: Path, required: tuple[str, ...], optional: bool = False) -> pa.Table | None:
    """A catalogue CSV through kpi.catalog (the one reader), as a table of text columns."""
    columns = kpi_catalog.read_table(path, required, optional)
    if columns is None:
        return None
    return pa.table({name: pa.array(values, pa.string()) for name, values in columns.items()})


def _column(table: pa.Table | None, name: str) -> list:
    if table is None or name not in table.column_names:
        return [None] * (0 if table is None else table.num_rows)
    return table.column(name).to_pylist()


def _as_int(values: list) -> list:
    return [int(float(v)) if v not in (None, "") else None for v in values]


def _as_bool(values: list) -> list:
    return [
        None if v in (None, "") else str(v).strip().lower() in ("true", "1", "是", "y", "yes")
        for v in values
    ]


def reports_indicators(metrics_path: Path) -> pa.Table | None:
    """key, id and label_zh of every indicator with source 'reports' in metrics.yaml (plain YAML
    read): a filing names its indicator by key, by id (D09.01, as the 填报 template writes) or by
    its Chinese name."""
    if not metrics_path.exists():
        return None
    try:
        spec = yaml.load(metrics_path.read_text(encoding="utf-8"), Loader=YAML_LOADER) or {}
    except yaml.YAMLError:
        return None  # `bizenv validate` reports a broken metrics.yaml; the loader falls back to key syntax
    keys, ids, labels = [], [], []
    for domain in spec.get("domains") or []:
        for ind in (domain or {}).get("indicators") or []:
            source = ind.get("source")
            if isinstance(source, dict):
                source = source.get("table")
            if source == "reports" and ind.get("key"):
                keys.append(str(ind["key"]))
                ids.append(str(ind.get("id") or ""))
                labels.append(str(ind.get("label_zh") or ""))
    return pa.table(
        {
            "key": pa.array(keys, pa.string()),
            "id": pa.array(ids, pa.string()),
            "label": pa.array(labels, pa.string()),
        }
    )


def load_catalog(catalog_dir: Path | None = None, metrics_path: Path | None = None) -> Catalog:
    root = settings.catalog_dir(catalog_dir)
    d = _read_csv(root / "districts.csv", ("district_code", "district_name"))
    codes = [str(c).strip() for c in _column(d, "district_code")]
    names = _column(d, "district_name")
    shorts = _column(d, "short_name")
    alias_rows: dict[str, str] = {}
    for code, name, short, aliases in zip(
        codes, names, shorts, _column(d, "aliases"), strict=False
    ):
        for alias in [code, name, short, *re.split(r"[|｜]", aliases or "")]:
            if alias and alias.strip():
                alias_rows.setdefault(alias.strip().casefold(), code)
    districts = pa.table(
        {
            "district_code": codes,
            "district_name": names,
            "short_name": shorts,
            "level": _column(d, "level"),
            "sort_order": pa.array(_as_int(_column(d, "sort_order")), pa.int32()),
        }
    )
    it = _read_csv(root / "items.csv", ("item_code",), optional=True)
    items = pa.table(
        {
            "item_code": pa.array(_column(it, "item_code"), pa.string()),
            "item_name": pa.array(_column(it, "item_name"), pa.string()),
            "domain_key": pa.array(_column(it, "domain_key"), pa.string()),
            "department": pa.array(_column(it, "department"), pa.string()),
            "legal_limit_days": pa.array(_as_int(_column(it, "legal_limit_days")), pa.int32()),
            "promised_limit_days": pa.array(
                _as_int(_column(it, "promised_limit_days")), pa.int32()
            ),
            "is_enterprise": pa.array(_as_bool(_column(it, "is_enterprise")), pa.bool_()),
        }
    )
    tp = _read_csv(root / "hotline_topics.csv", ("topic",), optional=True)
    topics = pa.table(
        {
            "topic": pa.array(_column(tp, "topic"), pa.string()),
            "domain_key": pa.array(_column(tp, "domain_key"), pa.string()),
            "is_enterprise_topic": pa.array(
                _as_bool(_column(tp, "is_enterprise_topic")), pa.bool_()
            ),
        }
    )
    item_keys, item_rules = matching.catalogue_tables(root)
    return Catalog(
        item_keys=item_keys,
        item_rules=item_rules,
        match_hash=matching.fingerprint(item_keys, item_rules),
        domains=_domains(root),
        root=root,
        districts=districts,
        aliases=pa.table({"alias": list(alias_rows), "district_code": list(alias_rows.values())}),
        items=items,
        topics=topics,
        calendar=calendar_table(root / "holidays.yaml"),
        indicators=reports_indicators(settings.metrics_path(metrics_path)),
    )


def _domains(root: Path) -> pa.Table:
    """domains.csv (key, labels, short name, order). The 18 domains belong to metrics.yaml rather
    than to a city, so a city catalogue without the file uses the bundled one."""
    path = root / "domains.csv"
    if not path.exists():
        path = settings.REPO_ROOT / "data" / "catalog" / "domains.csv"
    d = _read_csv(path, ("domain_key", "label_zh"), optional=True)
    keys = [str(k).strip() for k in _column(d, "domain_key")]
    labels = _column(d, "label_zh")
    return pa.table(
        {
            "domain_key": pa.array(keys, pa.string()),
            "label_zh": pa.array(labels, pa.string()),
            "label_en": pa.array(_column(d, "label_en"), pa.string()),
            # no short name written: the full label (never a made-up abbreviation)
            "short_name": pa.array(
                [s or lab for s, lab in zip(_column(d, "short_name"), labels, strict=True)],
                pa.string(),
            ),
            "sort_order": pa.array(_as_int(_column(d, "sort_order")), pa.int32()),
        }
    )


def register(con, catalog: Catalog) -> None:
    """The catalogue as temp tables cat_* in a scratch connection (used by the load's SQL)."""
    for name in ("districts", "aliases", "items", "topics"):
        con.register(f"cat_{name}_arrow", getattr(catalog, name))
        con.execute(f"CREATE OR REPLACE TEMP TABLE cat_{name} AS SELECT * FROM cat_{name}_arrow")
        con.unregister(f"cat_{name}_arrow")
    con.register("cat_calendar_arrow", catalog.calendar)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE cat_calendar AS "
        + CALENDAR_SELECT.format(src="cat_calendar_arrow")
    )
    con.unregister("cat_calendar_arrow")
    if catalog.item_keys is not None and catalog.item_rules is not None:
        matching.register(con, catalog.item_keys, catalog.item_rules)
    indicators = (
        catalog.indicators
        if catalog.indicators is not None
        else pa.table({c: pa.array([], pa.string()) for c in ("key", "id", "label")})
    )
    con.register("cat_indicators_arrow", indicators)
    con.execute("CREATE OR REPLACE TEMP TABLE cat_indicators AS SELECT * FROM cat_indicators_arrow")
    con.unregister("cat_indicators_arrow")


def refresh_warehouse(con, catalog: Catalog) -> None:
    """Replace districts, domains, items and calendar in the warehouse (inside the caller's
    transaction)."""
    for table, data, select in (
        ("districts", catalog.districts, "SELECT * FROM src"),
        ("domains", catalog.domains, "SELECT * FROM src"),
        ("items", catalog.items, "SELECT * FROM src"),
        ("calendar", catalog.calendar, CALENDAR_SELECT.format(src="src")),
    ):
        con.register("src", data)
        con.execute(f"DELETE FROM {table}")
        con.execute(f"INSERT INTO {table} BY NAME {select}")
        con.unregister("src")
    # Which catalogue the build matches 事项 with, and whether earlier records were matched with
    # this same one (else the build matches them all again: kpi.matching.rematch).
    matching.set_state(con, "catalog_dir", str(catalog.root))
    if matching.state(con, "match_hash") != catalog.match_hash:
        matching.set_state(con, "match_hash", None)
