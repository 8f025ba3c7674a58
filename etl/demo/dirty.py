"""Dirty rows: ≈1% of every export, one defect per row, of every kind the validator rejects.

Each defect names the loader's quarantine reason, which rows it may hit and how it spoils them.
The chosen row positions are returned per reason so the manifest can list them (and tests and the
loader's tests can check the quarantine line by line).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

# The loader's quarantine reasons (Chinese, as users read them in 数据质量).
MISSING_ID = "缺少编号"
BAD_TIME = "时间无法识别"
UNKNOWN_DISTRICT = "区县未知"
COMPLETED_BEFORE = "办结时间早于受理时间"
CLOSED_BEFORE_CALL = "办结时间早于来电时间"  # hotline wording of the same rule
FUTURE_TIME = "时间晚于当前时间"
BAD_LEVEL = "评价等级超出五级"
# Two rows with one 编号 and different content: two versions of the record. The loader keeps the
# later row and skips the earlier one (etl.versions); the manifest lists the earlier rows apart
# (superseded_lines), they are not quarantined.
DUPLICATE_ID = "同一编号的旧版本"
BAD_NUMBER = "数值无法识别"

GARBAGE_TIMES = np.array(
    ["2026-13-45 25:61:00", "未知", "2026-02-30 10:00:00", "待补录"], dtype=object
)
UNKNOWN_DISTRICTS = np.array(["某某区", "衢州市未知区", "330899"], dtype=object)
BAD_NUMBERS = np.array(["abc", "五天", "十五"], dtype=object)

Columns = dict[str, np.ndarray]


@dataclass
class Defect:
    reason: str
    apply: Callable[[Columns, np.ndarray, np.random.Generator], None] | None
    eligible: np.ndarray | None = None  # rows this defect may hit (None: any)


def future_times(rng: np.random.Generator, n: int, cutoff: np.datetime64) -> np.ndarray:
    """Times in the next calendar year after the cut-off (2027 for a 2026 run): 'in the future'
    for any loader running before then, whatever year the demo is generated in."""
    year = cutoff.astype("datetime64[Y]") + 1
    start = year.astype("datetime64[D]") + 3
    return (
        start.astype("datetime64[s]")
        + 9 * 3600
        + rng.integers(0, 180 * 86400, n).astype("timedelta64[s]")
    )


def set_values(column: str, pool: np.ndarray) -> Callable:
    """A defect that overwrites one column with values drawn from `pool`."""

    def apply(cols: Columns, idx: np.ndarray, rng: np.random.Generator) -> None:
        cols[column][idx] = pool[rng.integers(0, len(pool), len(idx))]

    return apply


def inject(
    cols: Columns,
    id_column: str,
    defects: list[Defect],
    rng: np.random.Generator,
    share: float = 0.01,
    rotate: int = 0,
) -> dict[str, np.ndarray]:
    """Spoil round(n × share) rows, spread evenly over the defects; returns reason → row positions.

    `rotate` shifts which defects get the remainder, so small files of different quarters show
    different kinds. A duplicate-id defect (apply None) takes two rows per case: a clean donor and
    a victim that receives the donor's id — the earlier row of the two is the old version the
    loader skips, and the one listed under DUPLICATE_ID (both rows are used up).
    """
    n = len(cols[id_column])
    total = int(np.rint(n * share))
    k = len(defects)
    used = np.zeros(n, dtype=bool)
    out: dict[str, np.ndarray] = {}
    for j, d in enumerate(defects):
        want = total // k + (1 if (j - rotate) % k < total % k else 0)
        if want == 0:
            continue
        pool = ~used if d.eligible is None else (~used & d.eligible)
        cand = np.flatnonzero(pool)
        if d.apply is None:  # duplicate id: want // 2 pairs, at least one
            pairs = min(max(want // 2, 1), len(cand) // 2)
            if pairs == 0:
                continue
            pick = rng.choice(cand, size=2 * pairs, replace=False)
            donor, victim = pick[:pairs], pick[pairs:]
            cols[id_column][victim] = cols[id_column][donor]
            used[pick] = True
            idx = np.sort(np.minimum(donor, victim))
        else:
            if len(cand) == 0:
                continue
            idx = np.sort(rng.choice(cand, size=min(want, len(cand)), replace=False))
            d.apply(cols, idx, rng)
        used[idx] = True
        out[d.reason] = idx
    return out
