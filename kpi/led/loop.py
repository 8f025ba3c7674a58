"""一屏通览's 督办 views — 清障进展, 为企办实事 (张榜公示) and 督办任务 (overdue ones, with the
quarter's awarded 蜗牛/骏马) — as plain data, from frames the caller reads (ui.led.loop reads the
application database through office.tracking; nothing here opens a database).

Their keys join the rotation after the score views, only when they have something to show; a
`views=` option may name them (problems, projects, tasks) alone or with the score views.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

LOOP_VIEWS: dict[str, str] = {
    "problems": "清障进展",
    "projects": "为企办实事 · 张榜公示",
    "tasks": "督办任务",
}
MAX_OVERDUE_ROWS = 10


@dataclass
class Bar:
    label: str
    value: float | None  # 0–100
    text: str  # what is written beside the bar (573/584)
    tone: str = "good"  # good | amber | bad


@dataclass
class Card:
    name: str
    unit: str
    progress: float | None
    colour: str  # green | amber | red
    state: str  # 进展顺利 …


@dataclass
class LoopData:
    """Everything the three views show, read once per refresh."""

    counters: dict[str, list[tuple[str, float | None, str, int]]] = field(default_factory=dict)
    district_bars: list[Bar] = field(default_factory=list)  # 清障 解决率 by district
    category_bars: list[Bar] = field(default_factory=list)  # 清障 by category (count)
    batches: list[tuple[str, int]] = field(
        default_factory=list
    )  # 逐批销号: (batch, n), newest first
    cards: list[Card] = field(default_factory=list)
    legend: list[tuple[str, str, int]] = field(default_factory=list)  # (colour, meaning, n)
    overdue: list[tuple[str, str, str, int]] = field(
        default_factory=list
    )  # district, indicator, unit, days
    task_bars: list[Bar] = field(default_factory=list)  # open tasks by district (overdue share)
    awards: list[tuple[str, str]] = field(default_factory=list)  # (蜗牛奖/骏马奖, unit)
    award_period: str | None = None
    # per district: 清障 problems not yet closed and 督办 tasks open, for the 挂图作战 map's table
    # (kpi.led.mapview.COUNT_COLUMNS); None when there are no items at all
    map_counts: pd.DataFrame | None = None

    def has(self, key: str) -> bool:
        if key == "problems":
            return bool(self.counters.get("problems"))
        if key == "projects":
            return bool(self.cards)
        if key == "tasks":
            return bool(self.counters.get("tasks"))
        return False


def rotation(board_keys, selected: tuple[str, ...], data: LoopData | None) -> list[str]:
    """The whole rotation: the score views (`board_keys(selected)`) then the 督办 views with data.
    `selected` naming only 督办 views shows only those."""
    loop_sel = [k for k in selected if k in LOOP_VIEWS]
    other = tuple(k for k in selected if k not in LOOP_VIEWS)
    keys = list(board_keys(other)) if (other or not loop_sel) else []
    wanted = loop_sel or (list(LOOP_VIEWS) if not selected else [])
    return keys + [k for k in wanted if data is not None and data.has(k)]


def build(
    problems: pd.DataFrame,
    figures: pd.DataFrame,
    by_district: pd.DataFrame,
    board: pd.DataFrame,
    meaning: tuple[tuple[str, str], ...],
    tasks: pd.DataFrame,
    awards: pd.DataFrame,
    award_period: str | None,
) -> LoopData:
    """LoopData from office.tracking.views frames (problem_list / problem_figures, project_board,
    task_list) and the awarded rows of items.awards."""
    out = LoopData(award_period=award_period)
    out.map_counts = _map_counts(problems, tasks)
    if not figures.empty and int(figures["问题总数"].iloc[0]):
        f = figures.iloc[0]
        out.counters["problems"] = [
            ("问题总数", float(f["问题总数"]), "个", 0),
            ("已解决", float(f["已解决"]), "个", 0),
            ("解决率", float(f["解决率"]), "%", 1),
            ("已销号", float(f["已销号"]), "个", 0),
            ("按期销号率", None if pd.isna(f["按期销号率"]) else float(f["按期销号率"]), "%", 1),
            ("逾期未办结", float(f["逾期未办结"]), "个", 0),
        ]
        for r in by_district.sort_values("解决率", ascending=False).itertuples():
            rate = float(r.解决率)
            out.district_bars.append(
                Bar(
                    str(r.区县),
                    rate,
                    f"{int(r.已解决)}/{int(r.问题总数)}",
                    "good" if rate >= 95 else "amber" if rate >= 85 else "bad",
                )
            )
        cats = problems.groupby("问题类别").size().sort_values(ascending=False)
        top = int(cats.max()) if not cats.empty else 1
        out.category_bars = [
            Bar(str(k), 100.0 * int(v) / top, f"{int(v)}", "good") for k, v in cats.items()
        ]
        off = problems[problems["状态"] == "已销号"]
        if not off.empty:
            b = (
                off.groupby("销号批次")
                .agg(n=("问题编号", "size"), last=("销号日期", "max"))
                .sort_values("last", ascending=False)
            )
            out.batches = [(str(k), int(r.n)) for k, r in b.iterrows()]
    if not board.empty:
        order = {"red": 0, "amber": 1, "green": 2}
        b = board.assign(_o=board["colour"].map(order)).sort_values(
            ["_o", "落后（百分点）"], ascending=[True, False]
        )
        out.cards = [
            Card(str(n), str(u), None if pd.isna(p) else float(p), str(c), str(w))
            for n, u, p, c, w in zip(
                b["项目名称"],
                b["牵头单位"],
                b["进度（%）"],
                b["colour"],
                b["进展评价"],
                strict=True,
            )
        ]
        counts = board["colour"].value_counts()
        out.legend = [(c, w, int(counts.get(c, 0))) for c, w in meaning]
    if not tasks.empty:
        open_ = tasks[tasks["状态"].isin(["待确认", "督办中"])]
        late = open_[open_["逾期"] == "逾期"].sort_values("逾期天数", ascending=False)
        closed = tasks[tasks["状态"] == "已销号"]
        out.counters["tasks"] = [
            ("督办中", float((open_["状态"] == "督办中").sum()), "项", 0),
            ("待确认", float((open_["状态"] == "待确认").sum()), "项", 0),
            ("逾期", float(len(late)), "项", 0),
            ("已销号", float(len(closed)), "项", 0),
            ("指标转好自动销号", float((closed["销号方式"] == "指标转好自动销号").sum()), "项", 0),
        ]
        out.overdue = [
            (str(r.区县), str(r.指标), str(r.牵头部门 or ""), int(r.逾期天数 or 0))
            for r in late.head(MAX_OVERDUE_ROWS).itertuples()
        ]
        per = open_.groupby("区县").agg(
            n=("id", "size"), late=("逾期", lambda s: int((s == "逾期").sum()))
        )
        top = int(per["n"].max()) if not per.empty else 1
        out.task_bars = [
            Bar(
                str(k),
                100.0 * int(r.n) / top,
                f"{int(r.n)} 项" + (f" · 逾期 {int(r.late)}" if r.late else ""),
                "bad" if r.late else "good",
            )
            for k, r in per.sort_values("n", ascending=False).iterrows()
        ]
    if not awards.empty:
        won = awards[awards["awarded"].astype(bool)]
        out.awards = [(f"{k}奖", str(u)) for k, u in zip(won["kind"], won["unit"], strict=True)]
    return out


def _map_counts(problems: pd.DataFrame, tasks: pd.DataFrame) -> pd.DataFrame | None:
    """District code → problems_open (清障 not 已解决/已销号/解释说明), tasks_open (待确认 or 督办中)."""
    if problems.empty and tasks.empty:
        return None
    parts = []
    if not problems.empty:
        still = problems[~problems["状态"].isin(["已解决", "已销号", "解释说明"])]
        parts.append(still.groupby("区县代码").size().rename("problems_open"))
    if not tasks.empty:
        still = tasks[tasks["状态"].isin(["待确认", "督办中"])]
        parts.append(still.groupby("区县代码").size().rename("tasks_open"))
    counts = pd.concat(parts, axis=1).fillna(0).astype("int64")
    return counts.rename_axis("district_code").reset_index()
