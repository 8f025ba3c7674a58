"""Status rules of the 督办 loop as pure functions (no database, no clock): tested by hand counts.

A 清障 problem is open until 已解决 / 已销号 / 解释说明; it is overdue when open past its 整改时限. A 督办
task closes itself when its indicator is no longer red in a later complete quarter (an 应报未报 task
also when the filing arrives). A 为企办实事 project's colour compares its progress with the share of
its milestones that were due by today.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import pandas as pd

# ── 统一社会信用代码 (GB 32100-2015) ──────────────────────────────────────────────────────────

CREDIT_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # 31 characters: no I O Z S V
CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def credit_check_char(first17: str) -> str:
    """The 18th character of a 统一社会信用代码 whose first 17 are `first17` (GB 32100 §4.3)."""
    total = sum(CREDIT_CHARS.index(c) * w for c, w in zip(first17, CREDIT_WEIGHTS, strict=True))
    return CREDIT_CHARS[(31 - total % 31) % 31]


def credit_code_problem(code: str | None) -> str | None:
    """Why `code` is no valid 统一社会信用代码 (None: it is, or it is empty — the field is optional)."""
    text = (code or "").strip().upper()
    if not text:
        return None
    if len(text) != 18:
        return f"统一社会信用代码应为 18 位，而“{text}”是 {len(text)} 位"
    bad = [c for c in text if c not in CREDIT_CHARS]
    if bad:
        return f"统一社会信用代码“{text}”含有不允许的字符“{bad[0]}”（不使用 I、O、Z、S、V）"
    if credit_check_char(text[:17]) != text[17]:
        return f"统一社会信用代码“{text}”的校验位不对（第 18 位应为 {credit_check_char(text[:17])}），请核对"
    return None


# ── 清障 problems ─────────────────────────────────────────────────────────────────────────────

PROBLEM_SOURCES = ("走访", "座谈", "12345", "问卷", "督查")
PROBLEM_STATUSES = ("待交办", "整改中", "已解决", "已销号", "解释说明")
SOLVED = ("已解决", "已销号")
DONE = (*SOLVED, "解释说明")  # no longer open
PROBLEM_CATEGORIES = (
    "招工用工",
    "金融支持",
    "基础设施",
    "要素保障",
    "审批服务",
    "政策兑现",
    "市场监管",
    "其他",
)
# The order a problem moves in; 解释说明 may follow any open status; 营商办 may also move it back.
NEXT_STATUS = {
    "待交办": ("整改中", "解释说明"),
    "整改中": ("已解决", "解释说明"),
    "已解决": ("已销号",),
}


def is_overdue(deadline: dt.date | None, done: bool, today: dt.date) -> bool:
    """Open past its deadline (a deadline day itself is still in time)."""
    return deadline is not None and not done and today > deadline


def problem_figures(problems: pd.DataFrame, by: Sequence[str], today: dt.date) -> pd.DataFrame:
    """问题总数, 已解决, 解决率, 已销号, 按期销号, 按期销号率, 逾期未办结 per group of `by`.

    解决率 = (已解决 + 已销号) ÷ 问题总数 (解释说明 counts in the total, not as solved);
    按期销号率 = 销号日期 on or before 整改时限 ÷ 已销号; 逾期 = open past its 整改时限 today.
    `problems` has status, deadline, closed_on and the `by` columns."""
    cols = ["问题总数", "已解决", "解决率", "已销号", "按期销号", "按期销号率", "逾期未办结"]
    if problems.empty:
        return pd.DataFrame(columns=[*by, *cols])
    p = problems.copy()
    deadline = pd.to_datetime(p["deadline"])
    closed = pd.to_datetime(p["closed_on"])
    p["_solved"] = p["status"].isin(SOLVED)
    p["_off"] = p["status"].eq("已销号")
    p["_ontime"] = p["_off"] & closed.notna() & (deadline.isna() | (closed <= deadline))
    p["_overdue"] = ~p["status"].isin(DONE) & deadline.notna() & (deadline < pd.Timestamp(today))
    g = p.groupby(list(by), dropna=False, sort=True) if by else p.groupby(lambda _: 0)
    out = pd.DataFrame(
        {
            "问题总数": g.size(),
            "已解决": g["_solved"].sum(),
            "已销号": g["_off"].sum(),
            "按期销号": g["_ontime"].sum(),
            "逾期未办结": g["_overdue"].sum(),
        }
    )
    out["解决率"] = (out["已解决"] / out["问题总数"] * 100).round(1)
    out["按期销号率"] = (out["按期销号"] / out["已销号"].where(out["已销号"] > 0) * 100).round(1)
    out = out.reset_index(drop=not by)
    return out[[*by, *cols]]


def quarter_of(day) -> str | None:
    """2026Q3 for a date in July–September (None for no date)."""
    if day is None or pd.isna(day):
        return None
    d = pd.Timestamp(day)
    return f"{d.year}Q{(d.month - 1) // 3 + 1}"


# ── 为企办实事 projects ────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True)
class ProjectColours:
    """How a project's lag behind its plan becomes 绿 / 黄 / 红, and what each colour means.

    lag = planned progress (the share of milestones due by today) − reported progress, in points.
    Defaults: lag ≤ 10 绿, ≤ 25 黄, more 红; meanings 绿 进展顺利 · 黄 相对迟缓 · 红 受阻.
    The seed (衢州) writes "红/黄/绿 for 进展顺利、相对迟缓、受阻", which can be read with the colours
    the other way round (红 = 顺利); the usual warning convention is the default here, and an office
    that posts its board the other way sets BIZENV_PROJECT_COLOUR_MEANING=红=进展顺利,黄=相对迟缓,绿=受阻
    (the rule still decides 顺利/迟缓/受阻; only the colour each is drawn in changes)."""

    amber_lag: float = 10.0
    red_lag: float = 25.0
    meaning: tuple[tuple[str, str], ...] = (
        ("green", "进展顺利"),
        ("amber", "相对迟缓"),
        ("red", "受阻"),
    )

    @classmethod
    def from_env(cls) -> ProjectColours:
        def num(name: str, default: float) -> float:
            try:
                return float(os.environ.get(name, "") or default)
            except ValueError:
                return default

        meaning = cls.meaning
        raw = os.environ.get("BIZENV_PROJECT_COLOUR_MEANING", "").strip()
        if raw:
            names = {"绿": "green", "黄": "amber", "红": "red"}
            pairs = dict(part.split("=", 1) for part in raw.split(",") if "=" in part)
            by_word = {w.strip(): names.get(c.strip()) for c, w in pairs.items()}
            order = ("进展顺利", "相对迟缓", "受阻")
            if all(by_word.get(w) for w in order):
                meaning = tuple((by_word[w] or "", w) for w in order)
        return cls(
            num("BIZENV_PROJECT_AMBER_LAG", 10.0), num("BIZENV_PROJECT_RED_LAG", 25.0), meaning
        )

    def colour_of(self, state: str) -> str:
        """green | amber | red for 进展顺利 / 相对迟缓 / 受阻."""
        return next(c for c, w in self.meaning if w == state)


COLOUR_ZH = {"green": "绿", "amber": "黄", "red": "红"}


def planned_progress(planned: Iterable[dt.date | None], today: dt.date) -> float:
    """The share (0–100) of milestones planned on or before today."""
    days = [d for d in planned if d is not None and not pd.isna(d)]
    if not days:
        return 0.0
    return 100.0 * sum(1 for d in days if pd.Timestamp(d).date() <= today) / len(days)


def project_state(
    planned: Sequence[dt.date | None],
    actual: Sequence[dt.date | None],
    progress: float | None,
    today: dt.date,
    colours: ProjectColours | None = None,
) -> tuple[str, str, float]:
    """(state 进展顺利/相对迟缓/受阻, colour green/amber/red, lag in points) of a project.

    Reported progress is the project's 进度 %; without one, the share of milestones done (with an
    actual date). A project whose milestones are all done is 进展顺利."""
    rules = colours or ProjectColours()
    total = len([d for d in planned if d is not None and not pd.isna(d)])
    done = sum(1 for d in actual if d is not None and not pd.isna(d))
    reported = (
        float(progress)
        if progress is not None and not pd.isna(progress)
        else (100.0 * done / total if total else 0.0)
    )
    lag = max(0.0, planned_progress(planned, today) - reported)
    if total and done >= total:
        lag = 0.0
    state = "进展顺利" if lag <= rules.amber_lag else "相对迟缓" if lag <= rules.red_lag else "受阻"
    return state, rules.colour_of(state), round(lag, 1)


# ── 督办 tasks ────────────────────────────────────────────────────────────────────────────────

TASK_STATES = {
    "proposed": "待确认",
    "confirmed": "督办中",
    "dismissed": "不督办",
    "closed": "已销号",
}
TASK_KINDS = {"red": "指标红灯", "not_filed": "应报未报"}
OPEN_TASK_STATES = ("proposed", "confirmed")


def task_closes(
    kind: str,
    period: str,
    cells: Iterable[tuple[str, bool, str | None, str | None]],
) -> str | None:
    """Whether a task closes itself: the reason (Chinese) or None.

    `cells`: (period, is_partial, rag, data_state) of the task's district × indicator in the
    newest snapshot. A red task closes when a complete quarter after its own is scored and not
    red; an 应报未报 task also when its own quarter's filing has arrived (data_state no longer
    not_filed)."""
    for p, partial, rag, state in sorted(cells):
        if kind == "not_filed" and p == period and state not in ("not_filed", None):
            return f"{p} 的填报已报送"
        if p > period and not partial and rag in ("green", "amber"):
            return f"{p}（完整季度）已不是红灯"
    return None


def default_task_deadline(proposed_on: dt.date) -> dt.date:
    """整改时限 of a newly proposed task: BIZENV_TASK_DEADLINE_DAYS (default 30) calendar days."""
    try:
        days = int(os.environ.get("BIZENV_TASK_DEADLINE_DAYS", "") or 30)
    except ValueError:
        days = 30
    return proposed_on + dt.timedelta(days=max(1, days))
