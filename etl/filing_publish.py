"""填报入库: a round's approved online filings → the warehouse's `reports` table → a new snapshot.

One function, `publish`, so that whoever starts it (the review page today, a job tomorrow)
calls the same thing. It goes through the ordinary reports load path: the approved lines are
written as a reports CSV with the profile's own headers (etl/profiles/reports.yaml) into the data
dir (`filings/<round>/`, kept as the lineage's source file), and `etl.load.load_files` loads it
with source reports and builds — so natural keys, versions, lineage and quarantine rules are the
same as for a filled-in XLSX template, and a figure filed both ways is one report (last load wins).

填报时间 (reported_at) is the line's first submission (Beijing time), not the approval: the
data-quality table's 填报及时率 compares it with the quarter's deadline, and a department that
filed on time is not late because the review took a week or a correction was asked for (the
status board's 逾期 uses the same time). 填报单位 (reported_by) is the department.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

from etl import locks
from kpi.settings import DataDir
from office import audit, filings
from office.audit import Actor

HEADERS = [
    "所属区县",
    "统计期",
    "指标编码",
    "指标值",
    "分子",
    "分母",
    "填报单位",
    "填报时间",
    "备注",
]
FOLDER = "filings"


def _cell(x: float | None) -> str:
    return "" if x is None else repr(float(x))


def write_csv(data_dir: DataDir, round_id: int) -> tuple[Path | None, list[int], str]:
    """The approved lines as a reports CSV in the data dir: (path or None, line ids, period)."""
    r, approved = filings.approved_lines(data_dir, round_id)
    if not approved:
        return None, [], r.period
    stamp = dt.datetime.now(filings.BEIJING).strftime("%Y%m%dT%H%M%S")
    folder = data_dir.root / FOLDER / str(round_id)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"在线填报_{r.period}_{stamp}.csv"
    tmp = path.with_name(path.name + ".part")
    with open(tmp, "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(HEADERS)
        for ln in approved:
            at = ln.first_submitted_at or ln.submitted_at or ln.reviewed_at
            w.writerow(
                [
                    ln.district_code,
                    r.period,
                    ln.indicator_key,
                    _cell(ln.value),
                    _cell(ln.numerator),
                    _cell(ln.denominator),
                    ln.department,
                    filings.beijing(at).strftime("%Y-%m-%d %H:%M:%S") if at else "",
                    ln.note or "",
                ]
            )
    tmp.replace(path)
    return path, [ln.id for ln in approved], r.period


def publish(data_dir, round_id: int, actor: Actor) -> dict:
    """Load every approved line of the round as reports and rebuild (under the writer lock).

    Returns a summary: period, lines, the file, rows loaded / inserted / updated / unchanged /
    quarantined and the quarantine reasons. Raises FileRefused / MachineProblem as a load does."""
    from etl.load import load_files

    dd = DataDir.of(data_dir)
    with locks.writer(dd):
        path, ids, period = write_csv(dd, round_id)
        if path is None:
            return {"period": period, "lines": 0, "file": None}
        try:
            (report,) = load_files([path], source="reports", data_dir=dd, build=True)
        except Exception as err:
            audit.record(
                dd,
                "filing_publish",
                actor,
                f"填报轮次 {period}",
                {"文件": path.name, "行数": len(ids), "错误": str(err)[:500]},
                outcome="failed",
            )
            raise
        filings.mark_published(dd, ids, filings.utcnow())
    summary = {
        "period": period,
        "lines": len(ids),
        "file": str(path.relative_to(dd.root)),
        "rows_loaded": report.rows_loaded,
        "rows_inserted": report.rows_inserted,
        "rows_updated": report.rows_updated,
        "rows_unchanged": report.rows_unchanged,
        "rows_quarantined": report.rows_quarantined,
        "quarantine_by_reason": dict(report.quarantine_by_reason),
    }
    audit.record(
        dd,
        "filing_publish",
        actor,
        f"填报轮次 {period}",
        {
            "文件": path.name,
            "行数": len(ids),
            "导入": report.rows_loaded,
            "新增": report.rows_inserted,
            "更新": report.rows_updated,
            "隔离": report.rows_quarantined,
        },
    )
    return summary
