"""办件状态 from the fields an export has (GB/T 39046 has no status item).

Completion is implied by 办结时间 (and 办结结果 or a DOACTION-style code, which the profile reads
into `status` through its `columns` rules, each with its own code table). So the status of an 办件
is, in this order:
  1. the status column, or the first non-empty rule column, through its code table (etl.validate);
  2. else 已办结 when it has a 办结时间, 办理中 when it has none.
Which step decided is not stored: a blank status cell and a missing status column read the same.
"""

from __future__ import annotations

DONE = "已办结"
OPEN = "办理中"


def approvals_status_sql(status_sql: str, completed_sql: str) -> str:
    """SQL: the status of an 办件 from its mapped status (NULL when the export has none) and its
    办结时间 (a TIMESTAMP expression, NULL when absent)."""
    return (
        f"coalesce({status_sql}, CASE WHEN {completed_sql} IS NOT NULL "
        f"THEN '{DONE}' ELSE '{OPEN}' END)"
    )
