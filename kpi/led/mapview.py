"""挂图作战: the LED's district map view — each district in its 综合指数 红黄绿 with its score,
rank and red-indicator count, and (when the 督办 side supplies them) its open 清障 problems and
督办 tasks. Pure data, no Streamlit; ui/led/maps.py draws it.

Counts plug in as a DataFrame `district_code → columns of COUNT_COLUMNS` (Board.map_counts); a
column that is absent is not shown — no made-up zeros.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pandas as pd

from kpi import geo

if TYPE_CHECKING:
    from kpi.led.board import Board

MAP_VIEW = "map"
TITLE = "挂图作战 · 区县综合指数"
# Per-district counts the map can show, in this order (column → heading on the screen).
COUNT_COLUMNS = {"problems_open": "清障未解决", "tasks_open": "督办在办"}
# The SVG's design box (px of the 1920×1080 canvas the map panel offers).
MAP_WIDTH, MAP_HEIGHT = 780.0, 590.0


@dataclass
class MapDistrict:
    code: str
    name: str
    score: float | None
    rank: int | None
    rank_change: int | None
    rag: str | None
    n_red: int | None
    counts: dict[str, int | None] = field(default_factory=dict)  # heading → count


@dataclass
class MapData:
    projected: geo.Projected | None  # None: no usable boundary file (see problem)
    districts: list[MapDistrict]  # by rank, unranked last
    count_headings: list[str]  # the COUNT_COLUMNS headings present in the counts given
    problem: str | None = None


def _num(v) -> float | None:
    return None if v is None or pd.isna(v) else float(v)


def _int(v) -> int | None:
    return None if v is None or pd.isna(v) else int(v)


def map_data(board: Board, counts: pd.DataFrame | None = None) -> MapData:
    """The map of the board's period; `counts` optional (district_code + COUNT_COLUMNS)."""
    loaded: geo.MapLoad = board.boundaries
    ov = board.overall[(board.overall["period"] == board.period) & ~board.overall["is_city"]]
    ov = ov.sort_values(["rank", "district_code"], na_position="last")
    names = dict(zip(board.districts["district_code"], board.districts["name"], strict=False))
    present = [c for c in COUNT_COLUMNS if counts is not None and c in counts.columns]
    by_code = (
        counts.drop_duplicates("district_code").set_index("district_code")
        if present and counts is not None
        else None
    )
    rows = []
    for r in ov.itertuples():
        per = {}
        for c in present:
            value = by_code[c].get(r.district_code) if by_code is not None else None
            per[COUNT_COLUMNS[c]] = _int(value)
        rows.append(
            MapDistrict(
                code=str(r.district_code),
                name=names.get(r.district_code, r.district_name or r.district_code),
                score=_num(r.score),
                rank=_int(r.rank),
                rank_change=_int(r.rank_change),
                rag=r.rag if isinstance(r.rag, str) else None,
                n_red=_int(r.n_red),
                counts=per,
            )
        )
    projected = (
        geo.project(loaded.boundaries, MAP_WIDTH, MAP_HEIGHT, pad=24)
        if loaded.boundaries is not None
        else None
    )
    return MapData(projected, rows, [COUNT_COLUMNS[c] for c in present], loaded.problem)
