"""事项 → 领域: which indicator domain a record's 事项 belongs to, by code or by name, in DuckDB.

Real exports carry the province's 实施编码/事项编码, a SERVICECODE, a taskCode — or only the
事项名称. So a record's (事项编码, 事项名称) is matched against the catalogue (data/catalog/) in
this order, the first that fits wins:

1. the code: items.csv `item_code`, or one of its `codes` (other codes of the same item, `|`
   between them);
2. the exact name: `item_name`;
3. an alias: one of its `aliases` (`|` between them);
4. a rule of item_rules.csv, in file order: `keywords` (all must occur in the name; `+` or a space
   between them, e.g. 不动产+登记) and/or `pattern` (a regular expression), giving `domain_key`
   (and, optionally, the catalogue `item_code` it stands for).

Names are compared without spaces, punctuation or brackets and in lower case, so 不动产 转移登记
and 不动产转移登记（个人） … the latter only through an alias or a rule.

The work is set-wise: the distinct (code, name) pairs of the records — a few thousand, whatever
the number of rows — are matched, and the result joined back. It runs at load (each file's
records, etl.load) and again at `bizenv build` over every record (rematch), so an edit of the
catalogue takes effect at the next build without loading anything again. Ratings without a
事项 of their own take the domain of their 办件 (case_id).
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import duckdb
import pyarrow as pa

from kpi import catalog as kpi_catalog
from kpi import settings
from kpi.errors import UserInputError

RULES_FILE = "item_rules.csv"
RULE_BASE = 1000  # rules rank after codes (0), exact names (1) and aliases (2)
_SPLIT = re.compile(r"[|｜]")
# What a name is compared without (DuckDB's RE2 syntax; keep in step with norm_name_sql).
_NOISE = r"[\s\x{3000}（）()【】\[\]《》<>“”\"'‘’·・、，,。.:：;；!！?？\-—–_/\\|]"


def norm_name_sql(expr: str) -> str:
    """SQL: a 事项名称 as compared (no spaces, punctuation or brackets; lower case)."""
    noise = _NOISE.replace("'", "''")
    return f"lower(regexp_replace({expr}, '{noise}', '', 'g'))"


def norm_code_sql(expr: str) -> str:
    """SQL: a 事项编码 as compared (no surrounding blanks, upper case)."""
    return f"upper(trim({expr}))"


def _split(cell: str | None) -> list[str]:
    return [v.strip() for v in _SPLIT.split(cell or "") if v.strip()]


def catalogue_tables(catalog_dir: Path | str | None = None) -> tuple[pa.Table, pa.Table]:
    """(keys, rules) of the catalogue: keys (kind code|name, raw key, item_code, domain_key,
    rank, ord) and rules (rule_no, domain_key, item_code, keywords, pattern). Empty when the
    catalogue has no items.csv. Raises UserInputError for a broken rule (naming its row)."""
    root = settings.catalog_dir(catalog_dir)
    items = kpi_catalog.read_table(root / "items.csv", ("item_code",), optional=True) or {}
    kinds, keys, codes, domains, ranks, ords = [], [], [], [], [], []
    rows = kpi_catalog.rows(items) if items else []
    for n, row in enumerate(rows):
        code, domain = row.get("item_code"), row.get("domain_key")
        entries = [("code", code, 0), ("name", row.get("item_name"), 1)]
        entries += [("code", c, 0) for c in _split(row.get("codes"))]
        entries += [("name", a, 2) for a in _split(row.get("aliases"))]
        for kind, key, rank in entries:
            if key:
                kinds.append(kind)
                keys.append(key)
                codes.append(code)
                domains.append(domain)
                ranks.append(rank)
                ords.append(n)
    key_table = pa.table(
        {
            "kind": pa.array(kinds, pa.string()),
            "raw_key": pa.array(keys, pa.string()),
            "item_code": pa.array(codes, pa.string()),
            "domain_key": pa.array(domains, pa.string()),
            "rank": pa.array(ranks, pa.int32()),
            "ord": pa.array(ords, pa.int32()),
        }
    )
    return key_table, _rules(root / RULES_FILE)


def _rules(path: Path) -> pa.Table:
    table = kpi_catalog.read_table(path, ("domain_key",), optional=True) or {}
    nos, domains, codes, words, patterns = [], [], [], [], []
    problems = []
    for n, row in enumerate(kpi_catalog.rows(table) if table else [], start=2):
        keywords = [w for w in re.split(r"[+＋\s]+", row.get("keywords") or "") if w]
        pattern = row.get("pattern")
        if pattern:
            try:
                re.compile(pattern)
            except re.error as err:
                problems.append(f"第 {n} 行的 pattern {pattern!r} 不是有效的正则表达式（{err}）")
                continue
        if not keywords and not pattern:
            problems.append(f"第 {n} 行既没有 keywords 也没有 pattern")
            continue
        if not row.get("domain_key"):
            problems.append(f"第 {n} 行没有 domain_key")
            continue
        nos.append(n)
        domains.append(row["domain_key"])
        codes.append(row.get("item_code"))
        words.append(keywords or None)
        patterns.append(pattern)
    if problems:
        raise UserInputError(
            f"{path}：{'；'.join(problems)}。每条规则写 domain_key，以及 keywords（用 + 连接，须全部出现，"
            "如 不动产+登记）或 pattern（正则表达式）。"
        )
    return pa.table(
        {
            "rule_no": pa.array(nos, pa.int32()),
            "domain_key": pa.array(domains, pa.string()),
            "item_code": pa.array(codes, pa.string()),
            "keywords": pa.array(words, pa.list_(pa.string())),
            "pattern": pa.array(patterns, pa.string()),
        }
    )


def fingerprint(keys: pa.Table, rules: pa.Table) -> str:
    """What the matching depends on: a record matched with another fingerprint may be stale."""
    blob = json.dumps([keys.to_pylist(), rules.to_pylist()], ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:32]


def register(con, keys: pa.Table, rules: pa.Table) -> None:
    """The catalogue's match keys and rules as temp tables cat_item_keys / cat_item_rules, keys
    normalised once here (norm_*_sql)."""
    con.register("cat_item_keys_arrow", keys)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE cat_item_keys AS SELECT kind, "
        f"CASE kind WHEN 'code' THEN {norm_code_sql('raw_key')} ELSE {norm_name_sql('raw_key')} END AS key, "
        "item_code, domain_key, rank, ord FROM cat_item_keys_arrow"
    )
    con.unregister("cat_item_keys_arrow")
    con.register("cat_item_rules_arrow", rules)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE cat_item_rules AS SELECT rule_no, domain_key, item_code, "
        f"list_transform(keywords, lambda w: {norm_name_sql('w')}) AS keywords, pattern "
        "FROM cat_item_rules_arrow"
    )
    con.unregister("cat_item_rules_arrow")
    for no, pattern in con.execute(
        "SELECT rule_no, pattern FROM cat_item_rules WHERE pattern IS NOT NULL"
    ).fetchall():
        try:  # DuckDB's RE2 refuses some patterns Python's re accepts (look-arounds)
            con.execute("SELECT regexp_matches('', ?)", [pattern]).fetchall()
        except duckdb.Error as err:
            raise UserInputError(
                f"{RULES_FILE} 第 {no} 行：pattern {pattern!r} 无法使用（{str(err).splitlines()[0]}）。"
                "不支持 (?=…)、(?!…) 这类前后查找；多个词须同时出现时请改用 keywords（用 + 连接）。"
            ) from None


def match_sql(pairs_sql: str) -> str:
    """SQL: (code, name, item_code, domain_key, matched_by) for every distinct (code, name) of
    `pairs_sql` (a query with columns code and name) that the catalogue matches; matched_by is
    编码 | 名称 | 别名 | 规则. Needs cat_item_keys and cat_item_rules (register)."""
    rank_label = "CASE WHEN prio = 0 THEN '编码' WHEN prio = 1 THEN '名称' WHEN prio = 2 THEN '别名' ELSE '规则' END"
    return f"""
WITH d AS (SELECT DISTINCT code, name FROM ({pairs_sql})),
n AS (SELECT code, name, {norm_code_sql("code")} AS ck, {norm_name_sql("name")} AS nk FROM d),
hits AS (
    SELECT n.code, n.name, k.item_code, k.domain_key, k.rank AS prio, k.ord
    FROM n JOIN cat_item_keys k ON k.kind = 'code' AND k.key = n.ck
    UNION ALL
    SELECT n.code, n.name, k.item_code, k.domain_key, k.rank, k.ord
    FROM n JOIN cat_item_keys k ON k.kind = 'name' AND k.key = n.nk
    UNION ALL
    SELECT n.code, n.name, r.item_code, r.domain_key, {RULE_BASE} + r.rule_no, 0
    FROM n, cat_item_rules r
    WHERE n.name IS NOT NULL
      AND (r.pattern IS NULL OR regexp_matches(n.name, r.pattern))
      AND (r.keywords IS NULL OR len(list_filter(r.keywords, lambda w: NOT contains(n.nk, w))) = 0))
SELECT code, name, arg_min(item_code, [prio, ord]) AS item_code,
       arg_min(domain_key, [prio, ord]) AS domain_key, {rank_label.replace("prio", "min(prio)")} AS matched_by
FROM hits GROUP BY code, name"""


def pair_join(match: str, code: str, name: str) -> str:
    """SQL join condition of a record (its code and name expressions) with a match_sql result."""
    # IS NOT DISTINCT FROM (NULL matches NULL) keeps DuckDB's hash join on the plain columns;
    # coalesce() on both sides made it hash a computed key per row.
    return f"{match}.code IS NOT DISTINCT FROM {code} AND {match}.name IS NOT DISTINCT FROM {name}"


def rematch(con, catalog_dir: Path | str | None = None) -> dict[str, int]:
    """At build: assign domain_key afresh to every 办件 and 评价 from the catalogue (in the
    caller's transaction), when the catalogue changed since the records were matched; the
    quarters whose rows changed are marked for the partial rescan. Returns source → rows changed."""
    from kpi.engine import partials  # the engine imports this module's neighbours, not this one
    from kpi.schema import SUPPORT_DDL

    con.execute(SUPPORT_DDL["catalog_state"])  # a warehouse from before it existed
    if {"approvals", "ratings"} - {
        r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()
    }:
        return {}  # nothing loaded yet
    root = catalog_root(con, catalog_dir)
    keys, rules = catalogue_tables(root)
    digest = fingerprint(keys, rules)
    if state(con, "match_hash") == digest:
        return {}
    register(con, keys, rules)
    changed: dict[str, int] = {}
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _item_match AS "
        + match_sql(
            "SELECT item_code AS code, item_name AS name FROM approvals UNION "
            "SELECT item_code, item_name FROM ratings"
        )
    )
    join = pair_join("m", "t.item_code", "t.item_name")
    # approvals first: a rating without a 事项 of its own takes its 办件's (updated) domain
    targets = (
        ("approvals", "case_id", "m.domain_key", ""),
        (
            "ratings",
            "rating_id",
            "coalesce(m.domain_key, a.domain_key)",
            "LEFT JOIN approvals a ON a.case_id = t.case_id",
        ),
    )
    for source, key, domain, more in targets:
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE _dk AS
            SELECT t.{key}, {domain} AS domain_key FROM {source} t
            LEFT JOIN _item_match m ON {join} {more}
            WHERE t.domain_key IS DISTINCT FROM {domain}"""
        )
        n = con.execute("SELECT count(*) FROM _dk").fetchall()[0][0]
        if n:
            partials.mark_changed(
                con, source, f"SELECT t.period FROM {source} t JOIN _dk d ON d.{key} = t.{key}"
            )
            con.execute(
                f"UPDATE {source} AS t SET domain_key = d.domain_key FROM _dk d WHERE d.{key} = t.{key}"
            )
        changed[source] = n
        con.execute("DROP TABLE _dk")
    con.execute("DROP TABLE _item_match")
    set_state(con, "match_hash", digest)
    return changed


def catalog_root(con, catalog_dir: Path | str | None = None) -> Path:
    """The catalogue to match with: the one named, else the one the last load used (recorded in
    catalog_state), else the default."""
    if catalog_dir is not None:
        return settings.catalog_dir(catalog_dir)
    recorded = state(con, "catalog_dir")
    if recorded and Path(recorded).is_dir():
        return Path(recorded)
    return settings.catalog_dir(None)


def state(con, key: str) -> str | None:
    found = con.execute("SELECT value FROM catalog_state WHERE key = ?", [key]).fetchall()
    return found[0][0] if found else None


def set_state(con, key: str, value: str | None) -> None:
    con.execute("DELETE FROM catalog_state WHERE key = ?", [key])
    if value is not None:
        con.execute("INSERT INTO catalog_state VALUES (?, ?)", [key, value])
