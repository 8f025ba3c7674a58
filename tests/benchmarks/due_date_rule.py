"""The city's 按时办结率 before and after the due-date rule (issue 13), on the embedded demo:

    uv run python -m tests.benchmarks.due_date_rule [--period 2026Q3] [--data-dir DIR]

Builds the demo the app builds on first run (into a temporary data dir unless --data-dir names
one that already holds it), then prints for 办件 and 涉企 12345, side by side on the same records:
- before: the old definition — items closed in the quarter, on time when working days used ≤
  the limit (承诺, else 法定; 12345: 办理时限), over those whose limit is known;
- after: the snapshot's indicator value (items that fell due in the quarter, open ones after
  their due day late), and the same by a hand query over due_period;
- how many items open past their due day the new denominator holds, and how many closed items
  the old rule called late only because it ignored approved 延期 / 特别程序 days.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from etl.bootstrap import ensure_demo_snapshot
from kpi import settings, store

CASES = (
    # key, table, closed column, the old filter, the old limit
    (
        "approval_on_time_rate",
        "approvals",
        "completed_at",
        "status = '已办结'",
        "coalesce(promised_limit_days, legal_limit_days)",
    ),
    ("hotline_on_time_rate", "hotline", "closed_at", "is_enterprise", "limit_days"),
)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--period", default="2026Q3")
    ap.add_argument("--data-dir", type=Path)
    args = ap.parse_args()
    root = args.data_dir or Path(tempfile.mkdtemp(prefix="bizenv-due-"))
    dd = settings.DataDir.of(root)
    snap = ensure_demo_snapshot(data_dir=dd)
    con = store.connect_snapshot(snap)
    try:
        for key, table, closed, where, limit in CASES:
            old, n_old = con.execute(
                f"SELECT 100.0 * count_if(workdays_used <= {limit}) / count(*), count(*) "
                f"FROM {table} WHERE period = ? AND {where} AND {closed} IS NOT NULL "
                f"AND workdays_used IS NOT NULL AND {limit} IS NOT NULL",
                [args.period],
            ).fetchone()
            new, n_new = con.execute(
                "SELECT value, n FROM indicator_scores WHERE indicator_key = ? AND period = ? "
                "AND is_city",
                [key, args.period],
            ).fetchone()
            scope = "status NOT IN ('不予受理', '退件')" if table == "approvals" else where
            hand, n_hand, n_open = con.execute(
                f"SELECT 100.0 * count_if(on_time) / count_if(on_time IS NOT NULL), "
                f"count_if(on_time IS NOT NULL), count_if(on_time IS NOT NULL AND {closed} IS NULL) "
                f"FROM {table} WHERE due_period = ? AND {scope}",
                [args.period],
            ).fetchone()
            extended = ""
            if table == "approvals":
                (n_ext,) = con.execute(
                    f"SELECT count(*) FROM approvals WHERE period = ? AND {where} "
                    f"AND workdays_used > {limit} AND on_time",
                    [args.period],
                ).fetchone()
                extended = f"；旧口径判超期、但在批准的延期/特别程序时间内办结的 {n_ext:,} 件"
            print(
                f"{key} {args.period}：旧口径 {old:.2f} %（{n_old:,} 件）→ 新口径 {new:.2f} %"
                f"（{n_new:,} 件；按 due_period 手算 {hand:.2f} %，{n_hand:,} 件）；"
                f"新分母中到期未办结 {n_open:,} 件{extended}"
            )
    finally:
        con.close()


if __name__ == "__main__":
    main()
