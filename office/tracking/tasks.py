"""督办 tasks from a snapshot: after each build, one proposed task per red district × indicator
and per 应报未报 of the newest complete quarter (addressed to the indicator's 牵头部门 and the
district), and every open task whose indicator is no longer red in a later complete quarter
closes itself. Proposing twice proposes nothing new (one task per kind × quarter × cell)."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from kpi import store as warehouse
from kpi.read import scope as record_scope
from kpi.read import tracking as reads
from kpi.settings import DataDir
from office import audit, store
from office.models import utcnow
from office.tracking import rules
from office.tracking.models import Task, TaskEvent

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Proposal:
    proposed: int
    closed: int
    period: str | None


def owners(spec) -> dict[str, str]:
    """indicator key → 牵头部门 (kpi.read.scope.owner_of)."""
    out: dict[str, str] = {}
    for dom in spec.domains if spec else ():
        for ind in dom.indicators:
            owner = record_scope.owner_of(ind, dom)
            if owner:
                out[ind.key] = owner
    return out


def _spec():
    from kpi.spec.load import load_spec

    try:
        return load_spec(check_sql=False)
    except Exception:  # noqa: BLE001 — no owners is a smaller harm than no tasks
        log.exception("metrics.yaml unreadable while proposing 督办 tasks")
        return None


def propose(
    data_dir: DataDir,
    snapshot: Path,
    spec=None,
    today: dt.date | None = None,
    actor: audit.Actor | None = None,
) -> Proposal:
    """Propose the snapshot's tasks and close the ones it shows fixed (see module docstring)."""
    today = today or dt.date.today()
    owner = owners(spec if spec is not None else _spec())
    con = warehouse.connect_snapshot(snapshot)
    try:
        period = reads.last_complete_period(con)
        cells = reads.task_cells(con, period) if period else None
        with store.session(data_dir) as s:
            open_tasks = s.scalars(
                sa.select(Task).where(Task.state.in_(rules.OPEN_TASK_STATES))
            ).all()
            keys = sorted({(t.district_code, t.indicator_key) for t in open_tasks})
        history = reads.cell_history(con, keys)
    finally:
        con.close()
    who = actor or audit.Actor(name="系统", via="cli")
    proposed = closed = 0
    with store.session(data_dir) as s:
        existing = {
            (k, p, d, i)
            for k, p, d, i in s.execute(
                sa.select(Task.kind, Task.period, Task.district_code, Task.indicator_key).where(
                    Task.period == (period or "")
                )
            )
        }
        for c in cells.itertuples() if cells is not None else ():
            if (c.kind, period, c.district_code, c.indicator_key) in existing:
                continue
            if c.kind == "not_filed":
                reason = c.suppressed_reason or "应报未报"
            else:
                reason = f"红灯：{_value(c.value, c.unit)}" + (
                    f"（预警值 {_value(c.warn, c.unit)}）"
                    if c.warn is not None and c.warn == c.warn
                    else ""
                )
            task = Task(
                kind=c.kind,
                period=period,
                district_code=c.district_code,
                district_name=c.district_name,
                indicator_key=c.indicator_key,
                indicator_label=c.label_zh,
                domain_label=c.domain_label,
                unit=owner.get(c.indicator_key),
                value=None if c.value is None or c.value != c.value else float(c.value),
                reason=reason[:255],
                state="proposed",
                deadline=rules.default_task_deadline(today),
                snapshot=snapshot.name,
                updated_by=who.name,
            )
            s.add(task)
            s.flush()
            s.add(TaskEvent(task_id=task.id, actor=who.name, action="proposed", note=reason))
            proposed += 1
        by_cell: dict[tuple[str, str], list] = {}
        for r in history.itertuples():
            by_cell.setdefault((r.district_code, r.indicator_key), []).append(
                (r.period, bool(r.is_partial), r.rag, r.data_state)
            )
        for t in s.scalars(sa.select(Task).where(Task.state.in_(rules.OPEN_TASK_STATES))):
            why = rules.task_closes(
                t.kind, t.period, by_cell.get((t.district_code, t.indicator_key), [])
            )
            if why:
                t.state, t.closed_how, t.closed_on = "closed", "self", today
                t.updated_at, t.updated_by = utcnow(), who.name
                s.add(TaskEvent(task_id=t.id, actor=who.name, action="self_closed", note=why))
                closed += 1
        if proposed or closed:
            audit.record(
                data_dir,
                "tasks_proposed",
                who,
                snapshot.name,
                {"季度": period, "新生成": proposed, "自动销号": closed},
                session=s,
            )
    return Proposal(proposed, closed, period)


def _value(value, unit) -> str:
    if value is None or value != value:
        return "—"
    return f"{value:.1f}{unit or ''}" if unit == "%" else f"{value:g}{(' ' + unit) if unit else ''}"


def after_build(data_dir: DataDir, actor: audit.Actor | None = None) -> str | None:
    """Called after every publish (bizenv build / load, the first-run demo): propose tasks from
    the current snapshot. Returns a line to print, or None; never fails the build (a warning)."""
    snap = warehouse.current_snapshot_path(data_dir)
    if snap is None:
        return None
    try:
        result = propose(data_dir, snap, actor=actor)
    except Exception as err:  # noqa: BLE001 — the snapshot is published; the tasks can wait
        log.exception("proposing 督办 tasks failed")
        return f"警告：快照已发布，但督办任务未能生成：{err}"
    if not (result.proposed or result.closed):
        return None
    return f"督办任务：{result.period} 新生成 {result.proposed} 项（待营商办确认），自动销号 {result.closed} 项。"


def overdue(tasks, today: dt.date):
    """A boolean Series: open (待确认/督办中) past its deadline."""
    done = ~tasks["state"].isin(rules.OPEN_TASK_STATES)
    return [
        rules.is_overdue(d, bool(x), today) for d, x in zip(tasks["deadline"], done, strict=True)
    ]


def mark_demo(data_dir: DataDir) -> None:
    """Every task there is now belongs to the demo (called by the demo generator right after the
    first-run build proposed them), so `bizenv reset --demo` takes them away with it."""
    with store.session(data_dir) as s:
        s.execute(sa.update(Task).values(is_demo=True))
