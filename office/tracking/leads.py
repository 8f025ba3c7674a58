"""蜗牛/骏马 leads per unit (承办单位 / 办理部门) for a quarter, with their evidence counted, and
营商办's 评议 result beside each (awarded or not). A lead is a 候选 until a result is recorded.

蜗牛 evidence: overdue open items, 差评 past their rectification deadline, repeat complaints (from
the snapshot's records, kpi.read.tracking.snail_evidence) and overdue 督办 tasks of the unit (from
the application database). 骏马 evidence: the unit scorecard's score change since the previous
quarter and the overdue items it closed."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from kpi import periods as quarters
from kpi.read import tracking as reads
from kpi.settings import DataDir
from office.tracking import items, rules

SNAIL_COLUMNS = {
    "overdue_open": "逾期未办结",
    "bad_unrectified": "差评超期未整改",
    "repeat_complaints": "重复投诉",
    "overdue_tasks": "督办任务逾期",
}
STEED_COLUMNS = {"score_change": "得分提升", "overdue_cleared": "清理逾期件"}


def leads(con, data_dir: DataDir, period: str, today: dt.date, n: int = 5) -> pd.DataFrame:
    """Up to `n` 蜗牛 and `n` 骏马 leads: kind, unit, district_code, evidence (text), the counts,
    and the 评议 result (awarded, decided_on, note; NULL = 候选)."""
    snail = reads.snail_evidence(con, period)
    tasks = items.tasks(data_dir)
    if not tasks.empty:
        late = tasks[
            tasks["state"].isin(rules.OPEN_TASK_STATES)
            & pd.to_datetime(tasks["deadline"]).lt(pd.Timestamp(today))
        ]
        counts = late.groupby("unit").size().rename("overdue_tasks").reset_index()
        snail = (
            counts.rename(columns={"unit": "unit"})
            if snail.empty
            else snail.merge(counts, on="unit", how="outer")
        )
    for c in SNAIL_COLUMNS:
        if c not in snail.columns:
            snail[c] = 0
        snail[c] = snail[c].fillna(0).astype(int)
    if "district_code" not in snail.columns:
        snail["district_code"] = None
    snail["weight"] = snail[list(SNAIL_COLUMNS)].sum(axis=1)
    snail = (
        snail[snail["weight"] > 0].sort_values(["weight", "unit"], ascending=[False, True]).head(n)
    )
    snail = snail.assign(
        kind="蜗牛",
        evidence=[
            "；".join(f"{label} {int(r[c])}" for c, label in SNAIL_COLUMNS.items() if r[c])
            for _, r in snail.iterrows()
        ],
    )
    try:
        previous: str | None = quarters.previous(period)
    except Exception:  # noqa: BLE001 — an unusual period text: no comparison
        previous = None
    steed = reads.steed_evidence(con, period, previous)
    steed = steed[(steed["score_change"].fillna(0) > 0) | (steed["overdue_cleared"] > 0)].head(n)
    steed = steed.assign(
        kind="骏马",
        evidence=[
            "；".join(
                x
                for x in (
                    f"得分提升 {r.score_change:.1f} 分" if pd.notna(r.score_change) else "",
                    f"清理逾期件 {int(r.overdue_cleared)}" if r.overdue_cleared else "",
                )
                if x
            )
            for r in steed.itertuples()
        ],
    )
    out = pd.concat(
        [
            snail[["kind", "unit", "district_code", "evidence", *SNAIL_COLUMNS]],
            steed[["kind", "unit", "district_code", "evidence", *STEED_COLUMNS]],
        ],
        ignore_index=True,
    )
    results = items.awards(data_dir, period)
    if results.empty:
        out["awarded"], out["decided_on"], out["note"] = None, None, None
        return out
    keep = results[["kind", "unit", "awarded", "decided_on", "note"]]
    merged = out.merge(keep, on=["kind", "unit"], how="outer")
    merged["evidence"] = merged["evidence"].fillna("")
    # the quarter's awarded units first, then the other results, then the 候选 in lead order
    merged["_order"] = merged["awarded"].map({True: 0, False: 1}).fillna(2)
    merged = merged.sort_values(["kind", "_order"], kind="stable", ascending=[False, True])
    return merged.drop(columns="_order").reset_index(drop=True)
