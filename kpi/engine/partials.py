"""Per-quarter parts of the transaction scan, kept in the warehouse between builds.

The build's one heavy statement is the scan of approvals / hotline / ratings (kpi.engine.compile: per
quarter, district and indicator the decomposable parts num / den / n, and the city-wide roll-up).
A quarter's parts depend on that quarter's rows only, so they are kept in `partials` and a build
rescans only the quarters whose rows changed since the last one:

- `bizenv load` names the quarters it wrote (mark_changed, in the transaction that writes the
  rows: a new row's quarter, and for an update both the old and the new quarter) and how many
  rows it added; `bizenv reset --demo` names the quarters it deleted rows from, and how many;
- the build rescans a whole table when its compiled scan differs from the one the kept parts came
  from (a filter, expression, setting, the order of the indicators or the city code changed in
  metrics.yaml; weights, bounds and thresholds are applied later and change nothing here), when
  nothing is kept, when the table's row count is not the one `bizenv load` reported (rows written
  by something else), and on `bizenv build --full`.

An UPDATE typed by hand outside `bizenv load` keeps the row count and goes unnoticed: after one,
run `bizenv build --full`.
"""

from __future__ import annotations

import base64
import hashlib
import json

from kpi.engine.compile import SourcePlan
from kpi.sql import Params, ident


def plan_hash(sql: str, params: dict) -> str:
    """Fingerprint of the scan (all quarters: plan.long_query(city)) the parts come from."""
    blob = json.dumps([sql, sorted(params.items())], ensure_ascii=False, default=str)
    # base32 (A–Z, 2–7), not hex: a run of hex digits can look like a phone number to the
    # snapshot's personal-data check, which rightly scans every text column.
    return (
        base64.b32encode(hashlib.sha256(blob.encode("utf-8")).digest()).decode("ascii").rstrip("=")
    )


def mark_changed(
    con,
    source: str,
    periods_sql: str,
    params: dict | None = None,
    inserted: int = 0,
    removed: int = 0,
) -> None:
    """Record (inside the writer's transaction) the quarters `periods_sql` returns and the rows
    added or removed (`bizenv load`, `bizenv reset --demo`).

    `periods_sql` is a query with one column of quarters (duplicates and NULLs are fine); for a
    removal, run it before the DELETE.
    """
    con.execute(
        f"INSERT INTO partials_changed SELECT DISTINCT $source, p FROM ({periods_sql}) t(p) "
        "WHERE p IS NOT NULL",
        {**(params or {}), "source": source},
    )
    if inserted or removed:
        con.execute(
            "UPDATE partials_state SET row_count = row_count + $n WHERE source = $source",
            {"n": inserted - removed, "source": source},
        )


def refresh(
    con, plans: dict[str, SourcePlan], city: str, *, full: bool = False, run=None
) -> dict[str, str]:
    """Bring `partials` up to date for every source in `plans`; returns source → what was done
    ('full' | 'quarters: 2026Q3, …' | 'unchanged').

    `run(con, sql, params)` executes the scans (kpi.engine.scoring.run_scans sets their optimizer options).
    A handful of statements whatever the number of sources: on a build with little to rescan,
    the statements' own cost is most of the time.
    """
    run = run or (lambda c, sql, params: c.execute(sql, params))
    names = list(plans)
    kept = {
        s: (h, n)
        for s, h, n in con.execute(
            "SELECT source, plan_hash, row_count FROM partials_state"
        ).fetchall()
    }
    counts = (
        con.execute(
            "SELECT " + ", ".join(f"(SELECT count(*) FROM {ident(s)})" for s in names)
        ).fetchone()
        if names
        else ()
    )
    changed = dict(
        con.execute(
            "SELECT source, list(DISTINCT period ORDER BY period) FROM partials_changed "
            "GROUP BY source"
        ).fetchall()
    )
    done: dict[str, str] = {}
    scans, redo, state = [], [], []
    # Each plan's values are named after its source ($approvals_0 …), so the scans of several
    # sources join into one statement without their parameters colliding.
    labels = Params("scan")
    params: dict = {}
    for (source, plan), rows in zip(plans.items(), counts, strict=True):
        sql, p = plan.long_query(city)
        digest = plan_hash(sql, p)
        if full or kept.get(source) != (digest, rows):
            done[source] = "full"
            redo.append(source)
        elif changed.get(source):
            quarters = tuple(changed[source])
            done[source] = "quarters: " + ", ".join(quarters)
            redo += [f"{source}|{q}" for q in quarters]
            sql, p = plan.long_query(city, quarters)
        else:
            done[source] = "unchanged"
            continue
        scans.append(
            f"SELECT {labels.add(source)}, period, k, district_code, city, as_of, num, den, n "
            f"FROM ({sql})"
        )
        params.update(p)
        state.append((source, digest, rows))
    # Out go the parts about to be rescanned, and those of a source the spec no longer reads
    # (they would go stale unseen), with its state.
    con.execute(
        "DELETE FROM partials WHERE NOT list_contains($names, source) OR list_contains($redo, source) "
        "OR list_contains($redo, source || '|' || period)",
        {"names": names, "redo": redo},
    )
    if scans:
        run(con, "INSERT INTO partials " + " UNION ALL ".join(scans), {**params, **labels.values})
    con.execute(
        "DELETE FROM partials_state WHERE NOT list_contains($names, source) OR list_contains($new, source)",
        {"names": names, "new": [s for s, _, _ in state]},
    )
    if state:
        con.execute(
            "INSERT INTO partials_state SELECT unnest($s), unnest($h), unnest($n)",
            {"s": [r[0] for r in state], "h": [r[1] for r in state], "n": [r[2] for r in state]},
        )
    con.execute("DELETE FROM partials_changed")
    return done
