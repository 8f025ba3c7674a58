"""Several rows with one natural key in one file: which of them is the record.

Real exports repeat a record on purpose: a provincial 办件库 extract writes one row per
DATAVERSION of an 办件, a daily export appended to the last one carries yesterday's row and
today's. Quarantining every such pair (the old rule) lost both. Now, among the otherwise valid
rows that share a key:

- with a declared version column (the field `data_version`: DATAVERSION, 数据版本号 …) the highest
  version wins, and among rows of that version the later one;
- without one, the later row wins (an export lists a record's newest state last);
- every other row of the key is skipped and counted — as an exact repeat of the winner (`same`) or
  as an older version (`older`). Nothing is quarantined for appearing twice.

Decided on the stored `checked` table, set-wise: one GROUP BY over the keys that repeat and one
UPDATE of their rows (cheaper than a window over every row of a clean file).
"""

from __future__ import annotations

SAME = "same"  # an exact repeat of the winning row
OLDER = "older"  # an older version of the record, replaced by the winning row


def statements(key_cols: list[str], version_col: str | None) -> list[str]:
    """SQL statements that set checked.dup_extra / dup_kind on every row a later (or
    higher-version) row of the same key replaces. `key_cols` are expressions of `checked`."""
    rank = f"[coalesce({version_col}, -1e308), line_no::DOUBLE]" if version_col else "line_no"
    keys = ", ".join(f"{k} AS key{i}" for i, k in enumerate(key_cols))
    match = " AND ".join(f"c.{k} = rp.key{i}" for i, k in enumerate(key_cols))
    # The winner's content is decided by the rank; of several rows with exactly that content the
    # first one is kept (an exact repeat changes nothing, so the record keeps its first line).
    return [
        f"""CREATE OR REPLACE TEMP TABLE repeated AS
SELECT {keys}, arg_max(content_hash, {rank}) AS winner_hash
FROM checked WHERE content_hash IS NOT NULL GROUP BY ALL HAVING count(*) > 1""",
        f"""CREATE OR REPLACE TEMP TABLE repeated AS
SELECT rp.*, min(c.line_no) AS winner FROM repeated rp JOIN checked c
ON c.content_hash = rp.winner_hash AND {match} GROUP BY ALL""",
        f"""UPDATE checked AS c
SET dup_extra = TRUE,
    dup_kind = CASE WHEN c.content_hash = rp.winner_hash THEN '{SAME}' ELSE '{OLDER}' END
FROM repeated rp WHERE c.content_hash IS NOT NULL AND {match} AND c.line_no <> rp.winner""",
        "DROP TABLE repeated",
    ]
