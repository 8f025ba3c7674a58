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

from kpi import periods
from kpi.engine.compile import SourcePlan
from kpi.spec.models import RECTIFY_LIMIT_SETTING
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
        # Every scan of the table keeps the count (approvals, approvals@due …); a linked scan
        # (主动评价率) counts the ratings it reads too.
        con.execute(
            "UPDATE partials_state SET row_count = row_count + $n WHERE source = $source "
            "OR starts_with(source, $source || '@') "
            "OR ($source = 'ratings' AND contains(source, '@linked'))",
            {"n": inserted - removed, "source": source},
        )


def _rescan_quarters(plan: SourcePlan, changed: dict[str, list[str]]) -> list[str]:
    """The quarters of `plan` to rescan for the record quarters `bizenv load` marked.

    A 好差评 scan by due date puts a 差评 in the quarter its rectification deadline falls in: up
    to a quarter or two after the rating's own (so those are rescanned too). 办件 and 工单 carry
    their due quarter, which the load marks itself."""
    quarters = set(changed.get(plan.source, ()))
    if plan.kind.due and plan.source == "ratings":
        days = int(plan.settings.get(RECTIFY_LIMIT_SETTING, 15))
        ahead = 1 + days // 40
        quarters |= {
            periods.from_index(periods.index(q) + i)
            for q in list(quarters)
            for i in range(1, ahead + 1)
        }
    return sorted(quarters)


def refresh(
    con, plans: dict[str, SourcePlan], city: str, *, full: bool = False, run=None
) -> dict[str, str]:
    """Bring `partials` up to date for every scan in `plans` (name → plan); returns name → what was
    done ('full' | 'quarters: 2026Q3, …' | 'unchanged').

    `run(con, sql, params)` executes the scans (kpi.engine.scoring.run_scans sets their optimizer options).
    A handful of statements whatever the number of scans: on a build with little to rescan,
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
    tables = sorted({p.source for p in plans.values()} | ({"ratings"} if plans else set()))
    counts = dict(
        zip(
            tables,
            con.execute(
                "SELECT " + ", ".join(f"(SELECT count(*) FROM {ident(t)})" for t in tables)
            ).fetchone()
            if tables
            else (),
            strict=True,
        )
    )
    changed = dict(
        con.execute(
            "SELECT source, list(DISTINCT period ORDER BY period) FROM partials_changed "
            "GROUP BY source"
        ).fetchall()
    )
    done: dict[str, str] = {}
    scans, redo, state = [], [], []
    # Each plan's values are named after its scan ($approvals_0, $approvals_due_0 …), so the scans
    # join into one statement without their parameters colliding.
    labels = Params("scan")
    params: dict = {}
    for name, plan in plans.items():
        sql, p = plan.long_query(city)
        digest = plan_hash(sql, p)
        # A linked scan (主动评价率) reads ratings too: any change there, and it is redone whole.
        rows = counts[plan.source] + (counts["ratings"] if plan.kind.linked else 0)
        quarters = _rescan_quarters(plan, changed)
        if (
            full
            or kept.get(name) != (digest, rows)
            or (plan.kind.linked and changed.get("ratings"))
        ):
            done[name] = "full"
            redo.append(name)
        elif quarters:
            done[name] = "quarters: " + ", ".join(quarters)
            redo += [f"{name}|{q}" for q in quarters]
            sql, p = plan.long_query(city, tuple(quarters))
        else:
            done[name] = "unchanged"
            continue
        scans.append(
            f"SELECT {labels.add(name)}, period, k, district_code, city, as_of, num, den, n, unit, "
            f"scope_n, missing_n, base FROM ({sql})"
        )
        params.update(p)
        state.append((name, digest, rows))
    # Out go the parts about to be rescanned, and those of a scan the spec no longer has (they
    # would go stale unseen), with its state.
    con.execute(
        "DELETE FROM partials WHERE NOT list_contains($names, source) OR list_contains($redo, source) "
        "OR list_contains($redo, source || '|' || period)",
        {"names": names, "redo": redo},
    )
    if scans:
        run(
            con,
            "INSERT INTO partials (source, period, k, district_code, city, as_of, num, den, n, unit, "
            "scope_n, missing_n, base) " + " UNION ALL ".join(scans),
            {**params, **labels.values},
        )
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
