"""进步榜 / 退步榜: the districts that moved most since the previous quarter — one rule for the
overview, the review workbook and the LED.

These are district movers, not the 骏马奖 / 蜗牛奖 the office awards to units: the names say so.
"""

from __future__ import annotations

import pandas as pd

N = 3  # places on each list (the workbook lists every mover)
RULE = (
    "进步榜、退步榜按较上季的变化选出：变化超出持平带宽、按指标方向判为进步（退步）的区县，"
    "按变化幅度从大到小排列（幅度相同按名次、区划代码），各取前 3 名；进行中的季度不评选。"
)


def select(
    frame: pd.DataFrame,
    change: str = "score_qoq",
    trend: str = "trend_qoq",
    n: int | None = N,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(进步榜, 退步榜) of the districts in `frame` (rows of one period; city rows are left out).

    `trend` is the marts' direction-aware verdict with the neutral band (improved | worsened |
    unchanged, NULL across a partial and a full quarter), `change` the change it judged; n=None
    keeps every mover."""
    d = frame
    if "is_city" in d.columns:
        d = d[~d["is_city"].astype(bool)]
    d = d[d[change].notna()]
    d = d.assign(_magnitude=d[change].astype(float).abs())
    keys = ["_magnitude", *(c for c in ("rank", "district_code") if c in d.columns)]

    def pick(verdict: str) -> pd.DataFrame:
        out = d[d[trend] == verdict].sort_values(
            keys, ascending=[False] + [True] * (len(keys) - 1), na_position="last"
        )
        out = out.drop(columns="_magnitude")
        return out if n is None else out.head(n)

    return pick("improved"), pick("worsened")
