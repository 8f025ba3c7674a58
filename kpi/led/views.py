"""一屏通览: the content of each view (counters, ranking, grid, trend, honour boards, alerts),
sliced from a `Board` already in memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from kpi.led import live, mapview
from kpi.led.mapview import MapData
from kpi.led.rotation import (
    DOMAIN_PREFIX,
    MAP_VIEW,
    MAX_COUNTERS,
    MAX_GRID_INDICATORS,
    N_TREND_QUARTERS,
    SOURCE_VIEWS,
    previous_quarter,
    trend_window,
)
from kpi.read import coverage, movers

if TYPE_CHECKING:
    from kpi.led.board import Board


@dataclass
class Counter:
    """One 翻牌器: label, formatted by ui (value + unit), QoQ delta and whether it is good news."""

    label: str
    value: float | None
    unit: str = ""
    decimals: int = 1
    delta: float | None = None
    good: bool | None = None  # True improvement, False worse, None unchanged/unknown
    recent: live.Recent | None = None  # the same indicator over the last 30 days (kpi.led.live)


@dataclass
class RankRow:
    name: str
    value: float | None
    unit: str
    decimals: int
    rank: int | None
    rank_change: int | None
    delta: float | None
    good: bool | None
    rag: str | None
    reason: str | None = None  # why it is not ranked (无数据 / 样本不足 / 权重不足), for the screen


@dataclass
class Alert:
    district: str
    label: str
    value: float | None
    unit: str
    decimals: int
    warn: float | None


@dataclass
class ViewData:
    key: str
    title: str
    counters: list[Counter]
    ranking_title: str
    ranking: list[RankRow]
    grid_title: str
    grid_columns: list[str]  # column labels (domains or indicators)
    grid_rows: list[tuple[str, list[tuple[float | None, str | None]]]]  # district, [(value, rag)]
    grid_decimals: list[int]
    trend_title: str
    trend: list[tuple[str, float | None]]  # (period, value), oldest first
    trend_unit: str
    horses: list[RankRow]  # 进步榜: improved most (kpi.read.movers)
    snails: list[RankRow]  # 退步榜: fell most
    alerts: list[Alert]
    ranking_note: str | None = None  # e.g. 依据16/18个领域, when fewer domains than usual
    n_rated: int = 0  # district indicator rows with a 红黄绿 this period (0: no all-clear to give)
    has_data: bool = True  # anything to show for the period; views without are left out
    partial: bool = False  # the period is in progress: nothing is compared (no 骏马/蜗牛)
    map: MapData | None = None  # 挂图作战 (kpi.led.mapview): the district map instead of the grid


# ── views ─────────────────────────────────────────────────────────────────────────────────────


def _good(trend: str | None) -> bool | None:
    return {"improved": True, "worsened": False}.get(trend or "")


def _num(value) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def _int(value) -> int | None:
    return None if value is None or pd.isna(value) else int(value)


def _decimals(unit: str | None, values=()) -> int:
    """One decimal, none for large magnitudes (1,702 元, 164 天 reads better than 163.7)."""
    big = [abs(v) for v in values if v is not None and not pd.isna(v)]
    return 0 if big and max(big) >= 100 and unit not in ("%",) else 1


def view_title(board: Board, key: str) -> str:
    if key == "overview":
        return "营商环境总览"
    if key == MAP_VIEW:
        return mapview.TITLE
    if key in SOURCE_VIEWS:
        return SOURCE_VIEWS[key][0]
    dk = key.removeprefix(DOMAIN_PREFIX)
    match = board.domains[board.domains["domain_key"] == dk]
    return str(match["label_zh"].iloc[0]) if not match.empty else dk


def view_data(board: Board, key: str) -> ViewData:
    """The content of one view for the board's period."""
    if key == "overview":
        view, ind = _overview(board), board.indicators
    elif key == MAP_VIEW:  # the overview's figures, the map in place of the grid
        view, ind = _overview(board), board.indicators
        view.key, view.title = key, mapview.TITLE
        view.map = mapview.map_data(board, board.map_counts)
    elif key in SOURCE_VIEWS:
        title, source, rank_key = SOURCE_VIEWS[key]
        ind = board.indicators[board.indicators["source"] == source]
        view = _indicator_view(board, key, title, ind, rank_key=rank_key)
    else:
        dk = key.removeprefix(DOMAIN_PREFIX)
        ind = board.indicators[board.indicators["domain_key"] == dk]
        view = _indicator_view(board, key, view_title(board, key), ind, domain_key=dk)
    now = ind[(ind["period"] == board.period) & ~ind["is_city"].astype(bool)]
    view.n_rated = int(now["rag"].notna().sum())
    view.partial = board.period_partial
    if view.partial:  # never awarded on an in-progress quarter, whatever a snapshot holds
        view.horses, view.snails = [], []
    recent = {r.label: r for r in board.recent}  # 近30天 beside the quarter's 翻牌器
    for c in view.counters:
        c.recent = recent.get(c.label)
    if view.map is not None:  # no boundary file, or no score to colour: left out of the rotation
        view.has_data = view.map.projected is not None and any(
            d.score is not None for d in view.map.districts
        )
        return view
    view.has_data = (
        any(c.value is not None for c in view.counters)
        or any(r.value is not None for r in view.ranking)
        or any(v is not None for _, cells in view.grid_rows for v, _ in cells)
    )
    return view


def _rank_rows(
    frame: pd.DataFrame,
    board: Board,
    value_col: str,
    unit: str,
    decimals: int,
    delta_col: str,
    reasons: dict[str, str] | None = None,
    by_rank: bool = True,
) -> list[RankRow]:
    """reasons: district code → why it is not ranked (short text: 无数据 / 样本不足 / 权重不足)."""
    names = dict(zip(board.districts["district_code"], board.districts["name"], strict=False))
    reasons = reasons or {}
    if by_rank:
        frame = frame.sort_values(["rank", "district_code"], na_position="last")
    return [
        RankRow(
            name=names.get(r.district_code, r.district_name or r.district_code),
            value=_num(getattr(r, value_col)),
            unit=unit,
            decimals=decimals,
            rank=_int(r.rank),
            rank_change=_int(r.rank_change),
            delta=_num(getattr(r, delta_col)),
            good=_good(r.trend_qoq),
            rag=r.rag if isinstance(r.rag, str) else None,
            reason=None
            if _int(r.rank) is not None
            else reasons.get(
                r.district_code,
                coverage.NO_DATA if _num(getattr(r, value_col)) is None else "未评分",
            ),
        )
        for r in frame.itertuples()
    ]


def _honours(
    frame: pd.DataFrame, board: Board, value_col: str, unit: str, decimals: int, delta_col: str
) -> tuple[list[RankRow], list[RankRow]]:
    """进步榜 / 退步榜 of the districts in `frame`, by kpi.read.movers' one rule."""
    up, down = movers.select(frame, change=delta_col)
    return (
        _rank_rows(up, board, value_col, unit, decimals, delta_col, by_rank=False),
        _rank_rows(down, board, value_col, unit, decimals, delta_col, by_rank=False),
    )


def _domain_reasons(board: Board, domain_key: str) -> dict[str, str]:
    """District code → why its domain score is — this period (无数据 / 样本不足 / 权重不足)."""
    p = board.period
    ds = board.domain_scores
    empty = ds[(ds["period"] == p) & (ds["domain_key"] == domain_key) & ds["score"].isna()]
    ind = board.indicators
    ind = ind[(ind["period"] == p) & (ind["domain_key"] == domain_key)]
    out = {}
    for r in empty.itertuples():
        mine = ind[ind["district_code"] == r.district_code]["suppressed_reason"].astype(str)
        reason = coverage.domain_reason(
            r.suppressed_reason if isinstance(r.suppressed_reason, str) else None,
            len(mine),
            int(mine.str.startswith(coverage.NO_DATA).sum()),
            int(mine.str.startswith("样本量不足").sum()),
        )
        out[r.district_code] = coverage.short_reason(reason)
    return out


def _coverage_note(board: Board) -> str | None:
    """依据16/18个领域 (or 15–16/18) when this period's 综合指数 rests on fewer domains than the
    complete quarters on the board (all domains when none is complete)."""
    ov = board.overall[~board.overall["is_city"].astype(bool)]
    done = ov[~ov["is_partial"].astype(bool)]["n_domains_scored"].dropna()
    usual = int(done.max()) if not done.empty else len(board.domains)
    now = ov[ov["period"] == board.period]["n_domains_scored"].dropna().astype(int)
    if now.empty or now.min() >= usual:
        return None
    lo, hi = int(now.min()), int(now.max())
    return f"依据{lo if lo == hi else f'{lo}–{hi}'}/{usual}个领域"


def _alerts(board: Board, ind: pd.DataFrame) -> list[Alert]:
    names = dict(zip(board.districts["district_code"], board.districts["name"], strict=False))
    order = {k: i for i, k in enumerate(board.domain_keys)}
    red = ind[(ind["period"] == board.period) & (~ind["is_city"]) & (ind["rag"] == "red")].copy()
    red["d_order"] = red["domain_key"].map(lambda k: order.get(k, 999))
    red["x_order"] = red["district_code"].map(
        dict(zip(board.districts["district_code"], range(len(board.districts)), strict=False))
    )
    red = red.sort_values(["d_order", "indicator_key", "x_order"])
    return [
        Alert(
            names.get(r.district_code, r.district_name or ""),
            str(r.label_zh),
            _num(r.value),
            r.unit or "",
            _decimals(r.unit, [r.value]),
            _num(r.warn),
        )
        for r in red.itertuples()
    ]


def _city_counter(ind: pd.DataFrame, period: str, key: str) -> Counter | None:
    row = ind[(ind["period"] == period) & ind["is_city"] & (ind["indicator_key"] == key)]
    if row.empty:
        return None
    r = row.iloc[0]
    return Counter(
        str(r["label_zh"]),
        _num(r["value"]),
        r["unit"] or "",
        _decimals(r["unit"], [r["value"]]),
        _num(r["value_qoq"]),
        _good(r["trend_qoq"]),
    )


def _trend(frame: pd.DataFrame, period: str, value_col: str) -> list[tuple[str, float | None]]:
    window = list(reversed(trend_window(period)[:N_TREND_QUARTERS]))
    values = dict(zip(frame["period"], frame[value_col], strict=False))
    return [(p, _num(values.get(p))) for p in window]


def _overview(board: Board) -> ViewData:
    p = board.period or ""  # views are only made for a board with a period
    ov = board.overall[board.overall["period"] == p]
    city = ov[ov["is_city"]]
    counters: list[Counter] = []
    if not city.empty:
        c = city.iloc[0]
        counters.append(
            Counter(
                "综合指数", _num(c["score"]), "", 1, _num(c["score_qoq"]), _good(c["trend_qoq"])
            )
        )
    for key in board.headline:
        counter = _city_counter(board.indicators, p, key)
        if counter:
            counters.append(counter)
    if p in board.approvals_count:
        now_n = board.approvals_count[p]
        prev_n = board.approvals_count.get(previous_quarter(p))
        delta = None if prev_n is None else float(now_n - prev_n)
        counters.append(
            Counter("季度办件量", float(now_n), "件", 0, delta, None if not delta else delta > 0)
        )
    ranking = _rank_rows(ov[~ov["is_city"]], board, "score", "", 1, "score_qoq")
    horses, snails = _honours(ov[~ov["is_city"]], board, "score", "", 1, "score_qoq")
    note = _coverage_note(board)
    ds = board.domain_scores[
        (board.domain_scores["period"] == p) & (~board.domain_scores["is_city"])
    ]
    cells = {
        (r.district_code, r.domain_key): (_num(r.score), r.rag if isinstance(r.rag, str) else None)
        for r in ds.itertuples()
    }
    rows = [
        (d.name, [cells.get((d.district_code, k), (None, None)) for k in board.domain_keys])
        for d in board.districts.itertuples()
    ]
    city_series = board.overall[board.overall["is_city"]]
    return ViewData(
        key="overview",
        title=view_title(board, "overview"),
        counters=counters,
        ranking_title="区县综合排名",
        ranking=ranking,
        grid_title="区县 × 指标领域得分",
        grid_columns=list(board.domains["short_name"]),  # the catalogue's short names
        grid_rows=rows,
        grid_decimals=[0] * len(board.domain_keys),
        trend_title="全市综合指数 · 近八季度",
        trend=_trend(city_series, p, "score"),
        trend_unit="",
        horses=horses,
        snails=snails,
        alerts=_alerts(board, board.indicators),
        ranking_note=note,
    )


def _indicator_view(
    board: Board,
    key: str,
    title: str,
    ind: pd.DataFrame,
    *,
    rank_key: str | None = None,
    domain_key: str | None = None,
) -> ViewData:
    p = board.period or ""  # views are only made for a board with a period
    now_rows = ind[ind["period"] == p]
    catalogue = (
        now_rows.drop_duplicates("indicator_key")[["indicator_key", "label_zh", "unit"]]
        if not now_rows.empty
        else pd.DataFrame(columns=["indicator_key", "label_zh", "unit"])
    )
    # headline indicators first, then the rest in key order — stable from quarter to quarter
    head = {k: i for i, k in enumerate(board.headline)}
    catalogue = catalogue.assign(o=catalogue["indicator_key"].map(lambda k: head.get(k, 99)))
    catalogue = catalogue.sort_values(["o", "indicator_key"])
    counters: list[Counter] = []
    if domain_key is not None:
        ds = board.domain_scores[(board.domain_scores["domain_key"] == domain_key)]
        city = ds[(ds["period"] == p) & ds["is_city"]]
        if not city.empty:
            c = city.iloc[0]
            counters.append(
                Counter(
                    "领域得分", _num(c["score"]), "", 1, _num(c["score_qoq"]), _good(c["trend_qoq"])
                )
            )
    for k in catalogue["indicator_key"]:
        counter = _city_counter(ind, p, k)
        if counter and len(counters) < MAX_COUNTERS:
            counters.append(counter)
    if domain_key is not None:
        ranked = ds[(ds["period"] == p) & (~ds["is_city"])]
        ranking = _rank_rows(
            ranked, board, "score", "", 1, "score_qoq", _domain_reasons(board, domain_key)
        )
        horses, snails = _honours(ranked, board, "score", "", 1, "score_qoq")
        ranking_title = "区县排名 · 领域得分"
        trend_frame, trend_col, trend_unit = ds[ds["is_city"]], "score", ""
        trend_title = "全市领域得分 · 近八季度"
    else:
        rank_key = (
            rank_key
            if rank_key in set(catalogue["indicator_key"])
            else (catalogue["indicator_key"].iloc[0] if not catalogue.empty else None)
        )
        sel = now_rows[(now_rows["indicator_key"] == rank_key) & (~now_rows["is_city"])]
        unit = str(sel["unit"].iloc[0] or "") if not sel.empty else ""
        label = str(sel["label_zh"].iloc[0]) if not sel.empty else ""
        decimals = _decimals(unit, list(sel["value"]))
        reasons = {
            r.district_code: coverage.short_reason(r.suppressed_reason)
            for r in sel.itertuples()
            if _int(r.rank) is None
        }
        ranking = _rank_rows(sel, board, "value", unit, decimals, "value_qoq", reasons)
        horses, snails = _honours(sel, board, "value", unit, decimals, "value_qoq")
        ranking_title = f"区县排名 · {label}"
        trend_frame = ind[ind["is_city"] & (ind["indicator_key"] == rank_key)]
        trend_col, trend_unit = "value", unit
        trend_title = f"全市{label} · 近八季度"
    cells = {
        (r.district_code, r.indicator_key): (
            _num(r.value),
            r.rag if isinstance(r.rag, str) else None,
        )
        for r in now_rows[~now_rows["is_city"]].itertuples()
    }
    n_indicators = len(catalogue)
    keys = list(catalogue["indicator_key"])[:MAX_GRID_INDICATORS]
    catalogue = catalogue.head(MAX_GRID_INDICATORS)
    col_decimals = [
        _decimals(u, list(now_rows.loc[now_rows["indicator_key"] == k, "value"]))
        for k, u in zip(keys, catalogue["unit"], strict=False)
    ]
    rows = [
        (d.name, [cells.get((d.district_code, k), (None, None)) for k in keys])
        for d in board.districts.itertuples()
    ]
    columns = [
        f"{lab}（{u}）" if u else str(lab)
        for lab, u in zip(catalogue["label_zh"], catalogue["unit"], strict=False)
    ]
    return ViewData(
        key=key,
        title=title,
        counters=counters,
        ranking_title=ranking_title,
        ranking=ranking,
        grid_title="区县 × 指标"
        + (
            f"（{MAX_GRID_INDICATORS}/{n_indicators} 项）"
            if n_indicators > MAX_GRID_INDICATORS
            else ""
        ),
        grid_columns=columns,
        grid_rows=rows,
        grid_decimals=col_decimals,
        trend_title=trend_title,
        trend=_trend(trend_frame, p, trend_col),
        trend_unit=trend_unit,
        horses=horses,
        snails=snails,
        alerts=_alerts(board, ind),
    )
