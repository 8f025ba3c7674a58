"""Reading and changing 督办 items, with the account's scope enforced here (not by the pages).

营商办 (and 管理员) create and edit everything. A 部门 account changes the progress and evidence of
the items its department is responsible for (责任单位 / 牵头单位 / 牵头部门); a 区县 account those of
its district. 领导 and 大屏 read only. Every change goes into the audit log in the same transaction,
with who, when and the fields before → after; a 督办 task also into its own history.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import pandas as pd
import sqlalchemy as sa

from kpi.errors import UserInputError
from kpi.settings import DataDir
from office import audit, store
from office.models import utcnow
from office.roles import Denied, Role, Scope
from office.tracking import rules
from office.tracking.models import (
    Award,
    Benchmark,
    Measure,
    Milestone,
    Problem,
    Project,
    Task,
    TaskEvent,
)

KINDS: dict[str, Any] = {
    "problem": Problem,
    "project": Project,
    "task": Task,
    "benchmark": Benchmark,
    "measure": Measure,
    "award": Award,
}
KIND_LABELS = {
    "problem": "清障问题",
    "project": "为企办实事项目",
    "task": "督办任务",
    "benchmark": "对标标杆",
    "measure": "提升举措",
    "award": "蜗牛/骏马评议",
}
# The column naming the responsible unit of each kind (None: only 营商办 edits it).
UNIT_FIELD = {"problem": "unit", "project": "lead_unit", "task": "unit", "measure": "unit"}
# What a 部门 / 区县 account may change on its own items: progress and evidence, nothing else.
UNIT_EDITABLE = {
    "problem": {"status", "measures", "evidence"},
    "project": {"progress", "note", "evidence"},
    "task": {"progress", "evidence"},
    "measure": {"progress", "value_after"},
}
# A unit reports a problem solved; 销号 (and 解释说明) are 营商办's word.
UNIT_STATUSES = ("整改中", "已解决")
OFFICE_ROLES = (Role.ADMIN, Role.OFFICE)


def is_office(scope: Scope) -> bool:
    return scope.role in OFFICE_ROLES


def _ident(kind: str, item) -> str:
    name = getattr(item, "number", None) or getattr(item, "name", None)
    if kind == "task":
        name = f"{item.period} {item.district_name or item.district_code} {item.indicator_label or item.indicator_key}"
    return f"{KIND_LABELS[kind]} {name or item.id}"


def denied_reason(scope: Scope, kind: str, item, fields: set[str] | None = None) -> str | None:
    """Why `scope` may not change `item` (the given fields); None: it may."""
    if is_office(scope):
        return None
    what = _ident(kind, item)
    if scope.role not in (Role.DEPARTMENT, Role.DISTRICT) or kind not in UNIT_EDITABLE:
        return f"当前账号（{scope.label}）不能修改{what}；请联系营商办。"
    if scope.role == Role.DEPARTMENT:
        owner = getattr(item, UNIT_FIELD[kind])
        if not scope.department or owner != scope.department:
            return (
                f"{what}的责任单位是{owner or '未指定'}，您的账号（部门：{scope.department}）"
                "只能更新本单位负责事项的进展和佐证。"
            )
    else:
        code = getattr(item, "district_code", None)
        if not scope.district_code or code != scope.district_code:
            return (
                f"{what}不属于{scope.district_name or scope.district_code}，"
                "区县账号只能更新本区县事项的进展和佐证。"
            )
    extra = (fields or set()) - UNIT_EDITABLE[kind]
    if extra:
        return (
            f"部门和区县账号只能更新进展和佐证，不能修改{'、'.join(sorted(extra))}；请联系营商办。"
        )
    return None


def _plain(value):
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return value


def _check_fields(kind: str, values: Mapping[str, Any]) -> None:
    if kind == "problem":
        if "credit_code" in values:
            problem = rules.credit_code_problem(values["credit_code"])
            if problem:
                raise UserInputError(problem + "。")
        if "status" in values and values["status"] not in rules.PROBLEM_STATUSES:
            raise UserInputError(
                f"状态“{values['status']}”无效，可选：{'、'.join(rules.PROBLEM_STATUSES)}。"
            )
        if "source" in values and values["source"] not in rules.PROBLEM_SOURCES:
            raise UserInputError(
                f"来源“{values['source']}”无效，可选：{'、'.join(rules.PROBLEM_SOURCES)}。"
            )
    if kind == "project" and values.get("progress") is not None:
        if not 0 <= float(values["progress"]) <= 100:
            raise UserInputError("进度应在 0 到 100 之间（百分比）。")


def create(data_dir: DataDir, scope: Scope, actor: audit.Actor, kind: str, /, **values) -> int:
    """A new item (营商办 only); returns its id."""
    if not is_office(scope):
        raise Denied(f"当前账号（{scope.label}）不能新建{KIND_LABELS[kind]}；请联系营商办。")
    _check_fields(kind, values)
    milestones = values.pop("milestones", None)
    model = KINDS[kind]
    with store.session(data_dir) as s:
        item = model(**values, updated_by=actor.name)
        s.add(item)
        s.flush()
        for seq, (name, planned, actual) in enumerate(milestones or (), start=1):
            s.add(
                Milestone(
                    project_id=item.id, seq=seq, name=name, planned_on=planned, actual_on=actual
                )
            )
        audit.record(
            data_dir,
            "tracking_create",
            actor,
            _ident(kind, item),
            {k: _plain(v) for k, v in values.items()},
            session=s,
        )
        return int(item.id)


def update(
    data_dir: DataDir, scope: Scope, actor: audit.Actor, kind: str, item_id: int, /, **changes
) -> dict[str, tuple[Any, Any]]:
    """Change fields of an item, scope-checked; returns {field: (before, after)} of what changed.
    Raises Denied (nothing written, the refusal audited) when the account may not."""
    model = KINDS[kind]
    _check_fields(kind, changes)
    if not is_office(scope) and kind == "problem" and "status" in changes:
        if changes["status"] not in UNIT_STATUSES:
            raise Denied("部门和区县账号只能把问题状态改为“整改中”或“已解决”；销号由营商办办理。")
    with store.session(data_dir) as s:
        item = s.get(model, item_id)
        if item is None:
            raise UserInputError(f"没有编号为 {item_id} 的{KIND_LABELS[kind]}（可能已被删除）。")
        why = denied_reason(scope, kind, item, set(changes))
        if why:
            # the refusal is audited in the same transaction (nothing else is written)
            audit.record(
                data_dir,
                "tracking_change",
                actor,
                _ident(kind, item),
                {"拒绝": why},
                "denied",
                session=s,
            )
            denied, diff = why, {}
        else:
            denied = None
            diff = {k: (getattr(item, k), v) for k, v in changes.items() if getattr(item, k) != v}
            _apply(data_dir, s, kind, item, diff, actor)
    if denied:
        raise Denied(denied)
    return diff


def _apply(data_dir, s, kind: str, item, diff: dict, actor) -> None:
    """Write `diff` ({field: (before, after)}) onto `item`, with its audit event (and history)."""
    if not diff:
        return
    for k, (_, v) in diff.items():
        setattr(item, k, v)
    item.updated_at = utcnow()
    item.updated_by = actor.name
    if kind == "task":
        note = "；".join(f"{k}：{v}" for k, (_, v) in diff.items())
        s.add(TaskEvent(task_id=item.id, actor=actor.name, action="progress", note=note))
    audit.record(
        data_dir,
        "tracking_change",
        actor,
        _ident(kind, item),
        {k: [_plain(a), _plain(b)] for k, (a, b) in diff.items()},
        session=s,
    )


def set_milestone(
    data_dir: DataDir, scope: Scope, actor: audit.Actor, project_id: int, seq: int, actual_on
) -> None:
    """Record a milestone's actual date (the project's unit may, as progress)."""
    with store.session(data_dir) as s:
        project = s.get(Project, project_id)
        if project is None:
            raise UserInputError(f"没有编号为 {project_id} 的为企办实事项目。")
        why = denied_reason(scope, "project", project, {"progress"})
        if why:
            raise Denied(why)
        step = s.scalars(
            sa.select(Milestone).where(Milestone.project_id == project_id, Milestone.seq == seq)
        ).one_or_none()
        if step is None:
            raise UserInputError(f"项目“{project.name}”没有第 {seq} 个节点。")
        before, step.actual_on = step.actual_on, actual_on
        audit.record(
            data_dir,
            "tracking_change",
            actor,
            _ident("project", project),
            {f"节点{seq} 实际完成": [_plain(before), _plain(actual_on)]},
            session=s,
        )


def decide_task(
    data_dir: DataDir, scope: Scope, actor: audit.Actor, task_id: int, confirm: bool, note: str = ""
) -> None:
    """营商办 confirms a proposed task (督办中) or dismisses it (不督办)."""
    _task_step(data_dir, scope, actor, task_id, "confirmed" if confirm else "dismissed", note)


def write_off_task(
    data_dir: DataDir, scope: Scope, actor: audit.Actor, task_id: int, evidence: str, today: dt.date
) -> None:
    """销号: 营商办 closes a task on the unit's evidence (required)."""
    if not (evidence or "").strip():
        raise UserInputError("销号需要佐证：请写明整改结果或上传材料的名称。")
    _task_step(data_dir, scope, actor, task_id, "closed", evidence, today=today)


def _task_step(data_dir, scope, actor, task_id, state, note, today=None) -> None:
    if not is_office(scope):
        raise Denied(f"当前账号（{scope.label}）不能确认、驳回或销号督办任务；请联系营商办。")
    with store.session(data_dir) as s:
        task = s.get(Task, task_id)
        if task is None:
            raise UserInputError(f"没有编号为 {task_id} 的督办任务。")
        if task.state == "closed":
            raise UserInputError("该督办任务已销号，不能再改变状态。")
        before = task.state
        task.state = state
        task.updated_at, task.updated_by = utcnow(), actor.name
        if state == "closed":
            task.closed_how, task.closed_on = "writeoff", today
            task.evidence = note
        s.add(TaskEvent(task_id=task.id, actor=actor.name, action=state, note=note or None))
        audit.record(
            data_dir,
            "tracking_change",
            actor,
            _ident("task", task),
            {"状态": [rules.TASK_STATES[before], rules.TASK_STATES[state]], "说明": note},
            session=s,
        )


# ── frames for pages, the workbook, the LED and the 台账 export ───────────────────────────────


def _frame(data_dir: DataDir, model, where=()) -> pd.DataFrame:
    cols = [c.name for c in model.__table__.columns]
    with store.session(data_dir) as s:
        rows = s.execute(sa.select(model.__table__).where(*where).order_by(model.id)).all()
    return pd.DataFrame([tuple(r) for r in rows], columns=cols)


def _scoped(scope: Scope | None, model, unit_col: str | None):
    if scope is None or scope.role not in (Role.DEPARTMENT, Role.DISTRICT):
        return ()
    if scope.role == Role.DEPARTMENT:
        return (getattr(model, unit_col) == (scope.department or "\0"),) if unit_col else ()
    col = getattr(model, "district_code", None)
    return (col == (scope.district_code or "\0"),) if col is not None else ()


def problems(data_dir: DataDir, scope: Scope | None = None) -> pd.DataFrame:
    """清障 problems the scope may see (部门: its own; 区县: its district's; others: all)."""
    return _frame(data_dir, Problem, _scoped(scope, Problem, "unit"))


def tasks(data_dir: DataDir, scope: Scope | None = None) -> pd.DataFrame:
    return _frame(data_dir, Task, _scoped(scope, Task, "unit"))


def task_history(data_dir: DataDir, task_id: int) -> pd.DataFrame:
    return _frame(data_dir, TaskEvent, (TaskEvent.task_id == task_id,))


def projects(data_dir: DataDir) -> pd.DataFrame:
    """Every project (the board is public: 张榜公示)."""
    return _frame(data_dir, Project)


def milestones(data_dir: DataDir) -> pd.DataFrame:
    return _frame(data_dir, Milestone)


def benchmarks(data_dir: DataDir) -> pd.DataFrame:
    return _frame(data_dir, Benchmark)


def measures(data_dir: DataDir) -> pd.DataFrame:
    return _frame(data_dir, Measure)


def awards(data_dir: DataDir, period: str | None = None) -> pd.DataFrame:
    return _frame(data_dir, Award, (Award.period == period,) if period else ())


def project_board(
    data_dir: DataDir, today: dt.date, colours: rules.ProjectColours | None = None
) -> pd.DataFrame:
    """Projects with their 计划进度, lag, state and colour (rules.project_state)."""
    proj, steps = projects(data_dir), milestones(data_dir)
    rows = []
    for p in proj.itertuples():  # two dozen projects: no heavy work
        st = steps[steps["project_id"] == p.id].sort_values("seq")
        state, colour, lag = rules.project_state(
            list(st["planned_on"]), list(st["actual_on"]), p.progress, today, colours
        )
        nxt = st[st["actual_on"].isna()].head(1)
        rows.append(
            {
                "id": p.id,
                "state": state,
                "colour": colour,
                "lag": lag,
                "planned": round(rules.planned_progress(list(st["planned_on"]), today), 1),
                "n_steps": len(st),
                "n_done": int(st["actual_on"].notna().sum()),
                "next_step": None if nxt.empty else nxt["name"].iloc[0],
                "next_due": None if nxt.empty else nxt["planned_on"].iloc[0],
            }
        )
    extra = pd.DataFrame(
        rows,
        columns=[
            "id",
            "state",
            "colour",
            "lag",
            "planned",
            "n_steps",
            "n_done",
            "next_step",
            "next_due",
        ],
    )
    return proj.merge(extra, on="id", how="left")


def remove_demo(data_dir: DataDir, actor: audit.Actor) -> int:
    """Delete the demo's 台账 items (is_demo; `bizenv reset --demo`), their milestones and task
    history with them; returns how many items went. Items anyone added stay."""
    gone = 0
    with store.session(data_dir) as s:
        demo_projects = sa.select(Project.id).where(Project.is_demo)
        s.execute(sa.delete(Milestone).where(Milestone.project_id.in_(demo_projects)))
        demo_tasks = sa.select(Task.id).where(Task.is_demo)
        s.execute(sa.delete(TaskEvent).where(TaskEvent.task_id.in_(demo_tasks)))
        counts = {}
        for kind, model in KINDS.items():
            n = getattr(s.execute(sa.delete(model).where(model.is_demo)), "rowcount", 0) or 0
            counts[KIND_LABELS[kind]] = n
            gone += n
        if gone:
            audit.record(data_dir, "reset_demo", actor, "演示台账", counts, session=s)
    return gone
