"""在线指标填报: 营商办 opens a round for a quarter; each 部门 fills in the figures of the indicators it
owns (metrics.yaml `owner`, else the domain's 牵头部门) for the districts or the city as each applies,
saves drafts, attaches 佐证材料 and submits; 营商办 approves or returns lines with a comment; the
approved figures are loaded as reports by etl.filing_publish.

Every function here takes the caller's office.roles.Scope and enforces it itself: a 部门 account
reads and writes only the lines of indicators its department owns, whatever a page or a hand-made
request asks for — a refusal is audited (outcome denied) and raised as office.roles.Denied. Every
change is audited in the same transaction as the change (office.audit.record with the session).

The tables are in office.filing_models (revision 0004).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session

from kpi import catalog, periods, settings
from kpi.errors import UserInputError
from kpi.read.scope import owner_of
from kpi.settings import DataDir
from office import audit, roles, store
from office.audit import Actor
from office.filing_models import (
    FilingAttachment,
    FilingLine,
    FilingLineEvent,
    FilingRound,
    FilingSubmission,
)
from office.models import Account, utcnow
from office.roles import Denied, Role, Scope

__all__ = [
    "FilingAttachment",
    "FilingLine",
    "FilingLineEvent",
    "FilingRound",
    "FilingSubmission",
]

LINE = {"draft": "草稿", "submitted": "待审核", "approved": "已通过", "returned": "已退回"}
ROUND = {"open": "填报中", "closed": "已结束"}
EDITABLE = ("draft", "returned")
BEIJING = dt.timezone(dt.timedelta(hours=8))
# 佐证材料 a department may attach: documents, scans and sheets (OFD: 国家版式文档, 公文常用)
ALLOWED_SUFFIXES = (
    ".pdf",
    ".ofd",
    ".jpg",
    ".jpeg",
    ".png",
    ".doc",
    ".docx",
    ".wps",
    ".xls",
    ".xlsx",
    ".et",
    ".csv",
    ".zip",
)
ATTACHMENTS = "attachments"


class FilingError(UserInputError):
    """A filing action that cannot be done as asked (the message says why and what to do)."""


# ── what is due: one slot per indicator × district (or the city) ────────────────────────────


@dataclass(frozen=True)
class Slot:
    """One figure a department owes in a round."""

    indicator_key: str
    indicator_id: str
    label: str
    unit: str
    domain: str
    department: str
    district_code: str
    district_name: str
    is_city: bool
    parts: bool  # 分子 and 分母 to fill (metrics.yaml `reported`), else 指标值
    numerator_label: str = ""
    denominator_label: str = ""
    definition: str = ""

    @property
    def where(self) -> str:
        return f"{self.district_name} · {self.label}"


def districts(catalog_dir: Path | None = None) -> tuple[tuple[str, str], list[tuple[str, str]]]:
    """((city code, name), [(district code, name), …]) from the catalogue."""
    rows = catalog.districts(catalog_dir)
    city = next(
        ((r["district_code"], r["district_name"]) for r in rows if r.get("level") == "city"),
        ("", ""),
    )
    return city, [
        (r["district_code"], r["district_name"]) for r in rows if r.get("level") == "district"
    ]


def slots(spec, department: str | None = None, catalog_dir: Path | None = None) -> list[Slot]:
    """Every figure due (of one department when given), in metrics.yaml order: as the XLSX
    template asks for them (kpi.read.template) — a city-level indicator for the city only; one
    filed in parts per district (the city's value is Σ 分子 ÷ Σ 分母); a plain one for the city and
    each district (the city's figure is its own, never a mean)."""
    from kpi.spec.describe import indicator_sentence

    if spec is None:
        return []
    (city_code, city_name), dists = districts(catalog_dir)
    out: list[Slot] = []
    for dom, ind in spec.indicators():
        if ind.source != "reports":
            continue
        owner = owner_of(ind, dom) or ""
        if department is not None and owner != department:
            continue
        if ind.applies_to == "city":
            units = [(city_code, city_name, True)]
        elif ind.reported is not None:
            units = [(c, n, False) for c, n in dists]
        else:
            units = [(city_code, city_name, True)] + [(c, n, False) for c, n in dists]
        definition = f"{ind.description} {indicator_sentence(ind, spec)}".strip()
        for code, name, is_city in units:
            parts = ind.reported is not None and not is_city
            out.append(
                Slot(
                    indicator_key=ind.key,
                    indicator_id=ind.id,
                    label=ind.label_zh,
                    unit=ind.unit,
                    domain=dom.label_zh,
                    department=owner,
                    district_code=code,
                    district_name=name,
                    is_city=is_city,
                    parts=parts,
                    numerator_label=ind.reported.numerator if parts and ind.reported else "",
                    denominator_label=ind.reported.denominator if parts and ind.reported else "",
                    definition=definition,
                )
            )
    return out


def departments(spec) -> list[str]:
    """Departments that own at least one filed indicator, in metrics.yaml order."""
    seen: list[str] = []
    for dom, ind in spec.indicators() if spec else ():
        owner = owner_of(ind, dom)
        if ind.source == "reports" and owner and owner not in seen:
            seen.append(owner)
    return seen


# ── who may do what ──────────────────────────────────────────────────────────────────────────


def _deny(data_dir: DataDir, actor: Actor, what: str, message: str) -> Denied:
    audit.record(data_dir, "filing_denied", actor, what, {"原因": message}, outcome="denied")
    return Denied(message)


def _reviewer(data_dir: DataDir, scope: Scope, actor: Actor, what: str) -> None:
    if not scope.may(roles.REVIEW_FILINGS):
        raise _deny(
            data_dir,
            actor,
            what,
            f"当前账号（{scope.label}）不能{roles.ACTION_LABELS[roles.REVIEW_FILINGS]}；"
            "开启填报轮次和审核由营商办负责。",
        )


def _filer(data_dir: DataDir, scope: Scope, actor: Actor, what: str) -> str:
    """The department a 部门 account files for (raises for any other account)."""
    if scope.role != Role.DEPARTMENT or not scope.may(roles.FILE_REPORTS):
        raise _deny(
            data_dir,
            actor,
            what,
            f"当前账号（{scope.label}）不是部门账号，不能填报指标；请用本部门的部门账号登录。",
        )
    if not scope.department:
        raise _deny(
            data_dir,
            actor,
            what,
            "您的部门账号没有绑定部门，无法填报。请联系管理员在“账号与设置”中绑定部门。",
        )
    return scope.department


def _readable_department(
    data_dir: DataDir, scope: Scope, actor: Actor, department: str | None, what: str
) -> str | None:
    """The department whose lines this account may read: its own for 部门; any (None: all) for
    a reviewer; nothing for others."""
    if scope.role == Role.DEPARTMENT:
        own = _filer(data_dir, scope, actor, what)
        if department is not None and department != own:
            raise _deny(
                data_dir,
                actor,
                what,
                f"您的账号（部门：{own}）只能查看本部门的填报，不能查看{department}的。",
            )
        return own
    _reviewer(data_dir, scope, actor, what)
    return department


# ── rounds ───────────────────────────────────────────────────────────────────────────────────


def default_deadline(spec, period: str) -> dt.date:
    """The quarter's last day + metrics.yaml defaults.report_deadline_days: the deadline the data
    quality table's 填报及时率 uses, so the round and the scores agree by default."""
    days = int(spec.defaults.report_deadline_days) if spec is not None else 15
    return periods.bounds(period)[1] + dt.timedelta(days=days)


def parse_deadline(text: str | dt.date) -> dt.date:
    if isinstance(text, dt.date):
        return text
    try:
        return dt.date.fromisoformat(str(text).strip())
    except ValueError:
        raise FilingError(f"截止日期“{text}”无法识别，请写成 2027-01-15 这样的年-月-日。") from None


def open_round(
    data_dir: DataDir,
    period: str,
    deadline: str | dt.date,
    scope: Scope,
    actor: Actor,
    note: str | None = None,
) -> FilingRound:
    """开启填报: a round for `period` with `deadline` (a Beijing date, included)."""
    _reviewer(data_dir, scope, actor, f"开启填报 {period}")
    periods.parse(period)
    day = parse_deadline(deadline)
    if day < periods.bounds(period)[0]:
        raise FilingError(
            f"截止日期 {day} 早于{periods.label_zh(period)}的开始，请检查季度和截止日期。"
        )
    with store.session(data_dir) as s:
        existing = s.scalar(sa.select(FilingRound).where(FilingRound.period == period))
        if existing is not None:
            state = ROUND.get(existing.status, existing.status)
            raise FilingError(
                f"{periods.label_zh(period)}的填报轮次已经开启过（{state}，截止 {existing.deadline}）。"
                "每个季度只有一个轮次；需要延期时请修改截止日期。"
            )
        r = FilingRound(
            period=period,
            deadline=day,
            status="open",
            note=(note or "").strip() or None,
            opened_by=actor.name,
            opened_at=utcnow(),
        )
        s.add(r)
        s.flush()
        audit.record(
            data_dir,
            "filing_open",
            actor,
            f"填报轮次 {period}",
            {"季度": period, "截止日期": str(day)},
            session=s,
        )
    return r


def set_round(
    data_dir: DataDir,
    round_id: int,
    scope: Scope,
    actor: Actor,
    status: str | None = None,
    deadline: str | dt.date | None = None,
) -> FilingRound:
    """结束 / 重新开启 a round, or move its deadline."""
    _reviewer(data_dir, scope, actor, f"填报轮次 {round_id}")
    with store.session(data_dir) as s:
        r = _round(s, round_id)
        details: dict = {}
        if deadline is not None:
            r.deadline = parse_deadline(deadline)
            details["截止日期"] = str(r.deadline)
        if status is not None:
            if status not in ROUND:
                raise FilingError(f"轮次状态只能是 {'、'.join(ROUND)}。")
            r.status = status
            r.closed_at = utcnow() if status == "closed" else None
            r.closed_by = actor.name if status == "closed" else None
            details["状态"] = ROUND[status]
        audit.record(
            data_dir,
            "filing_close" if status == "closed" else "filing_change",
            actor,
            f"填报轮次 {r.period}",
            details,
            session=s,
        )
    return r


def _round(s: Session, round_id: int) -> FilingRound:
    r = s.get(FilingRound, int(round_id))
    if r is None:
        raise FilingError(f"没有编号为 {round_id} 的填报轮次（可能已被删除或编号有误）。")
    return r


def rounds(data_dir: DataDir) -> list[FilingRound]:
    """Every round, the newest quarter first."""
    with store.session(data_dir) as s:
        return list(s.scalars(sa.select(FilingRound).order_by(FilingRound.period.desc())).all())


def get_round(data_dir: DataDir, round_id: int) -> FilingRound:
    with store.session(data_dir) as s:
        return _round(s, round_id)


def is_late(at: dt.datetime | None, deadline: dt.date) -> bool:
    """Filed after the deadline's end of day (Beijing); `at` is UTC without a zone."""
    return at is not None and beijing(at).date() > deadline


def beijing(at: dt.datetime) -> dt.datetime:
    """A stored UTC time as Beijing time, without a zone (as the warehouse keeps times)."""
    return at.replace(tzinfo=dt.UTC).astimezone(BEIJING).replace(tzinfo=None)


# ── entering figures ─────────────────────────────────────────────────────────────────────────


@dataclass
class Entry:
    """One row as a department typed it (numbers may still be text)."""

    indicator_key: str
    district_code: str
    value: object = None
    numerator: object = None
    denominator: object = None
    note: object = None


@dataclass
class Checked:
    value: float | None
    numerator: float | None
    denominator: float | None
    note: str | None
    complete: bool
    problems: list[str] = field(default_factory=list)


def _number(raw: object, what: str, where: str, problems: list[str]) -> float | None:
    if raw is None:
        return None
    if isinstance(raw, bool):
        problems.append(f"{where}：{what}应为数字。")
        return None
    if isinstance(raw, int | float):
        if isinstance(raw, float) and math.isnan(raw):
            return None
        number = float(raw)
    else:
        text = str(raw).strip().replace(",", "").replace("，", "")
        if not text:
            return None
        if text.endswith(("%", "％", "‰")):
            problems.append(f"{where}：{what}“{raw}”请只填数字，不带百分号（95.5% 填 95.5）。")
            return None
        try:
            number = float(text)
        except ValueError:
            problems.append(f"{where}：{what}“{raw}”不是数字，请填写数字。")
            return None
    if math.isinf(number) or math.isnan(number):
        problems.append(f"{where}：{what}“{raw}”不是有效的数字。")
        return None
    return number


def check(slot: Slot, ind, entry: Entry) -> Checked:
    """The entry's numbers, checked against the indicator: numbers only; 分子 and 分母 not
    negative, 分母 above 0, 分子 ≤ 分母 for a rate (%, ‰); a % between 0 and 100 (‰: 0–1000); no
    negative value unless the indicator's bounds allow one. Problems in Chinese, each naming
    the district and the indicator."""
    problems: list[str] = []
    where = slot.where
    note = None if entry.note is None else str(entry.note).strip()
    if note is not None and (note == "" or note.lower() == "nan"):
        note = None
    if note and len(note) > 1000:
        problems.append(f"{where}：备注太长（{len(note)} 字），请不超过 1000 字。")
    rate_top = _rate_top(ind)
    if slot.parts:
        num = _number(entry.numerator, f"分子（{slot.numerator_label}）", where, problems)
        den = _number(entry.denominator, f"分母（{slot.denominator_label}）", where, problems)
        stray = _number(entry.value, "指标值", where, [])
        if stray is not None:
            problems.append(
                f"{where}：该指标按分子、分母填报，请把数填在“分子”“分母”两列，“指标值”留空"
                "（指标值由系统按分子 ÷ 分母计算）。"
            )
        if num is not None and num < 0:
            problems.append(f"{where}：分子（{slot.numerator_label}）不能为负数。")
        if den is not None and den <= 0:
            problems.append(
                f"{where}：分母（{slot.denominator_label}）必须大于 0"
                "（本季度没有发生时请在备注中说明，并与营商办联系）。"
            )
        if rate_top is not None and num is not None and den is not None and den > 0 and num > den:
            problems.append(
                f"{where}：分子（{slot.numerator_label}）{num:g} 大于分母（{slot.denominator_label}）"
                f"{den:g}，比率会超过 100%，请核对。"
            )
        return Checked(None, num, den, note, num is not None and den is not None, problems)
    value = _number(entry.value, "指标值", where, problems)
    if _number(entry.numerator, "分子", where, []) is not None or (
        _number(entry.denominator, "分母", where, []) is not None
    ):
        problems.append(f"{where}：该指标直接填“指标值”，“分子”“分母”两列请留空。")
    if value is not None:
        if rate_top is not None and not 0 <= value <= rate_top:
            problems.append(
                f"{where}：指标值 {value:g}{slot.unit} 超出 0–{rate_top:g}{slot.unit} 的范围，请核对"
                "（百分比填 95.5，不填 0.955）。"
            )
        elif value < 0 and not _may_be_negative(ind):
            problems.append(f"{where}：指标值不能为负数（单位：{slot.unit}）。")
    return Checked(value, None, None, note, value is not None, problems)


def _rate_top(ind) -> float | None:
    """100 for a share or rate in % (1000 in ‰): a value that cannot leave 0–100. Not for a
    growth rate (增长率, 增速: negative or above 100 % happen) or bounds below 0."""
    top = {"%": 100.0, "‰": 1000.0}.get(ind.unit)
    return None if top is None or _may_be_negative(ind) else top


GROWTH_WORDS = ("增长", "增速", "增幅", "变化", "变动")


def _may_be_negative(ind) -> bool:
    """A change (增长率, 增速 …) or an indicator whose bounds go below 0."""
    return any(w in ind.label_zh for w in GROWTH_WORDS) or min(ind.dtf.best, ind.dtf.worst) < 0


def _indicators(spec) -> dict[str, object]:
    return {ind.key: ind for _, ind in spec.indicators()} if spec else {}


def _event(s: Session, line: FilingLine, action: str, actor: Actor, comment: str | None = None):
    s.add(
        FilingLineEvent(
            line_id=line.id,
            at=utcnow(),
            actor=actor.name,
            action=action,
            status=line.status,
            value=line.value,
            numerator=line.numerator,
            denominator=line.denominator,
            note=line.note,
            comment=comment,
        )
    )


def _submission(s: Session, round_id: int, department: str) -> FilingSubmission:
    sub = s.scalar(
        sa.select(FilingSubmission).where(
            FilingSubmission.round_id == round_id, FilingSubmission.department == department
        )
    )
    if sub is None:
        now = utcnow()
        sub = FilingSubmission(
            round_id=round_id, department=department, status="draft", created_at=now, updated_at=now
        )
        s.add(sub)
        s.flush()
    return sub


def _open_round(s: Session, round_id: int) -> FilingRound:
    r = _round(s, round_id)
    if r.status != "open":
        raise FilingError(
            f"{periods.label_zh(r.period)}的填报已结束，不能再修改或提交。如需补报请联系营商办重新开启。"
        )
    return r


@dataclass
class SaveResult:
    saved: int = 0  # lines whose figures changed
    unchanged: int = 0
    problems: list[str] = field(default_factory=list)  # nothing was saved when there are any


def save(
    data_dir: DataDir,
    spec,
    round_id: int,
    entries: Sequence[Entry],
    scope: Scope,
    actor: Actor,
    catalog_dir: Path | None = None,
) -> SaveResult:
    """保存草稿: the department's figures, all checked first — one problem anywhere and nothing is
    saved (SaveResult.problems says every one). Lines already submitted or approved are locked."""
    department = _filer(data_dir, scope, actor, f"填报轮次 {round_id}")
    own = {(sl.indicator_key, sl.district_code): sl for sl in slots(spec, department, catalog_dir)}
    inds = _indicators(spec)
    for e in entries:
        if (e.indicator_key, e.district_code) not in own:
            raise _deny(
                data_dir,
                actor,
                f"填报轮次 {round_id}",
                f"指标“{e.indicator_key}”（{e.district_code}）不是{department}负责填报的指标，"
                "不能填报或修改。",
            )
    result = SaveResult()
    checked = {}
    for e in entries:
        sl = own[(e.indicator_key, e.district_code)]
        c = check(sl, inds[e.indicator_key], e)
        result.problems += c.problems
        checked[(e.indicator_key, e.district_code)] = c
    if result.problems:
        return result
    with store.session(data_dir) as s:
        _open_round(s, round_id)
        sub = _submission(s, round_id, department)
        existing = _lines(s, round_id, {k for k, _ in own})
        changed: list[str] = []
        for key, c in checked.items():
            line = existing.get(key)
            sl = own[key]
            figures = (c.value, c.numerator, c.denominator, c.note)
            if line is not None:
                if (line.value, line.numerator, line.denominator, line.note) == figures:
                    result.unchanged += 1
                    continue
                if line.status not in EDITABLE:
                    raise FilingError(
                        f"{sl.where}：已{LINE[line.status]}，不能修改"
                        + (
                            "（营商办退回后才能改）。"
                            if line.status == "submitted"
                            else "（已审核通过的数据如需更正，请联系营商办）。"
                        )
                    )
            elif figures == (None, None, None, None):
                result.unchanged += 1
                continue
            if line is None:
                line = FilingLine(
                    round_id=round_id,
                    submission_id=sub.id,
                    department=department,
                    indicator_key=sl.indicator_key,
                    district_code=sl.district_code,
                    status="draft",
                    created_at=utcnow(),
                )
                s.add(line)
            line.value, line.numerator, line.denominator, line.note = figures
            line.updated_at = utcnow()
            line.updated_by = actor.name
            s.flush()
            _event(s, line, "save", actor)
            changed.append(sl.where)
            result.saved += 1
        if changed:
            sub.updated_at = utcnow()
            audit.record(
                data_dir,
                "filing_save",
                actor,
                f"填报轮次 {round_id} · {department}",
                {"保存行数": len(changed), "行": "、".join(changed[:20])},
                session=s,
            )
    return result


def _lines(s: Session, round_id: int, keys: Iterable[str] | None = None):
    q = sa.select(FilingLine).where(FilingLine.round_id == round_id)
    if keys is not None:
        keys = list(keys)
        if not keys:
            return {}
        q = q.where(FilingLine.indicator_key.in_(keys))
    return {(ln.indicator_key, ln.district_code): ln for ln in s.scalars(q).all()}


@dataclass
class SubmitResult:
    submitted: int = 0
    incomplete: list[str] = field(default_factory=list)  # left as drafts: a figure is missing
    late: bool = False


def submit(
    data_dir: DataDir,
    spec,
    round_id: int,
    scope: Scope,
    actor: Actor,
    catalog_dir: Path | None = None,
) -> SubmitResult:
    """提交审核: every complete draft or returned line of the department; incomplete ones stay
    drafts (the result names them)."""
    department = _filer(data_dir, scope, actor, f"填报轮次 {round_id}")
    own = {(sl.indicator_key, sl.district_code): sl for sl in slots(spec, department, catalog_dir)}
    out = SubmitResult()
    with store.session(data_dir) as s:
        r = _open_round(s, round_id)
        lines = _lines(s, round_id, {k for k, _ in own})
        now = utcnow()
        for key, sl in own.items():
            line = lines.get(key)
            if line is not None and line.status not in EDITABLE:
                continue
            complete = line is not None and (
                (line.numerator is not None and line.denominator is not None)
                if sl.parts
                else line.value is not None
            )
            if not complete:
                out.incomplete.append(sl.where)
                continue
            assert line is not None
            line.status = "submitted"
            line.submitted_at = now
            line.submitted_by = actor.name
            line.first_submitted_at = line.first_submitted_at or now
            line.reviewer_comment = line.reviewer_comment  # kept: the department answers it
            _event(s, line, "submit", actor)
            out.submitted += 1
        if out.submitted:
            sub = _submission(s, round_id, department)
            sub.submitted_at, sub.submitted_by, sub.updated_at = now, actor.name, now
            _refresh(s, sub)
            out.late = is_late(now, r.deadline)
            audit.record(
                data_dir,
                "filing_submit",
                actor,
                f"填报轮次 {r.period} · {department}",
                {"提交行数": out.submitted, "未填行数": len(out.incomplete), "逾期": out.late},
                session=s,
            )
    return out


def _refresh(s: Session, sub: FilingSubmission) -> None:
    """The submission's state from its lines: returned if any is returned, approved when every
    one is, submitted when any waits for review, else draft."""
    states = set(
        s.scalars(sa.select(FilingLine.status).where(FilingLine.submission_id == sub.id)).all()
    )
    sub.status = (
        "returned"
        if "returned" in states
        else "submitted"
        if "submitted" in states
        else "approved"
        if states == {"approved"}
        else "draft"
    )


# ── review ───────────────────────────────────────────────────────────────────────────────────


def _review_lines(
    s: Session, round_id: int, line_ids: Sequence[int] | None, department: str | None
) -> list[FilingLine]:
    q = sa.select(FilingLine).where(
        FilingLine.round_id == round_id, FilingLine.status == "submitted"
    )
    if line_ids is not None:
        q = q.where(FilingLine.id.in_([int(i) for i in line_ids]))
    if department is not None:
        q = q.where(FilingLine.department == department)
    return list(s.scalars(q).all())


def approve(
    data_dir: DataDir,
    round_id: int,
    scope: Scope,
    actor: Actor,
    line_ids: Sequence[int] | None = None,
    department: str | None = None,
) -> int:
    """审核通过 the given submitted lines (or every submitted line of `department`). Returns how
    many; the caller then publishes them (etl.filing_publish.publish)."""
    _reviewer(data_dir, scope, actor, f"填报轮次 {round_id}")
    if line_ids is None and department is None:
        raise FilingError("请选择要审核通过的行，或指定部门。")
    return _review(data_dir, round_id, actor, line_ids, department, "approved", None)


def return_lines(
    data_dir: DataDir,
    round_id: int,
    comment: str,
    scope: Scope,
    actor: Actor,
    line_ids: Sequence[int] | None = None,
    department: str | None = None,
) -> int:
    """退回 the given submitted lines (or a department's whole submission) with a comment the
    department sees; it corrects them and submits again."""
    _reviewer(data_dir, scope, actor, f"填报轮次 {round_id}")
    comment = (comment or "").strip()
    if not comment:
        raise FilingError("退回时请填写退回意见，说明需要修改什么。")
    if line_ids is None and department is None:
        raise FilingError("请选择要退回的行，或指定退回整个部门的填报。")
    return _review(data_dir, round_id, actor, line_ids, department, "returned", comment)


def _review(
    data_dir: DataDir,
    round_id: int,
    actor: Actor,
    line_ids: Sequence[int] | None,
    department: str | None,
    status: str,
    comment: str | None,
) -> int:
    """The reviewer's decision on submitted lines — approved (comment None) or returned with a
    comment — recorded on each line, its history, its submission and the audit log."""
    returned = status == "returned"
    note = comment[:1000] if comment else None
    with store.session(data_dir) as s:
        r = _round(s, round_id)
        lines = _review_lines(s, round_id, line_ids, department)
        if not lines:
            raise FilingError("所选的行中没有待审核的数据（可能已审核或已退回）。")
        now = utcnow()
        for line in lines:
            line.status, line.reviewed_at, line.reviewed_by = status, now, actor.name
            line.reviewer_comment = note
            _event(s, line, "return" if returned else "approve", actor, note)
        for sub_id in {ln.submission_id for ln in lines}:
            sub = s.get(FilingSubmission, sub_id)
            assert sub is not None
            sub.reviewed_at, sub.reviewed_by, sub.updated_at = now, actor.name, now
            if returned and line_ids is None:  # the whole submission came back
                sub.comment = note
            s.flush()
            _refresh(s, sub)
        departments = "、".join(sorted({ln.department for ln in lines}))
        details: dict = (
            {
                "退回行数": len(lines),
                "部门": departments,
                "退回意见": comment,
                "整份退回": line_ids is None,
            }
            if returned
            else {"通过行数": len(lines), "部门": departments}
        )
        audit.record(
            data_dir,
            "filing_return" if returned else "filing_approve",
            actor,
            f"填报轮次 {r.period}",
            details,
            session=s,
        )
    return len(lines)


# ── reading ──────────────────────────────────────────────────────────────────────────────────

LINE_COLUMNS = [
    "line_id",
    "department",
    "indicator_key",
    "indicator_id",
    "label",
    "unit",
    "domain",
    "district_code",
    "district_name",
    "is_city",
    "parts",
    "numerator_label",
    "denominator_label",
    "value",
    "numerator",
    "denominator",
    "note",
    "status",
    "status_label",
    "reviewer_comment",
    "submitted_at",
    "first_submitted_at",
    "reviewed_at",
    "reviewed_by",
    "late",
    "attachments",
    "definition",
]


def lines(
    data_dir: DataDir,
    spec,
    round_id: int,
    scope: Scope,
    actor: Actor,
    department: str | None = None,
    catalog_dir: Path | None = None,
):
    """Every due figure of the round as a DataFrame (LINE_COLUMNS), filled in or not: a 部门
    account gets its own department's only (asking for another's is refused); a reviewer gets the
    one department asked for, or all."""
    import pandas as pd

    department = _readable_department(data_dir, scope, actor, department, f"填报轮次 {round_id}")
    due = slots(spec, department, catalog_dir)
    with store.session(data_dir) as s:
        r = _round(s, round_id)
        found = _lines(s, round_id, {sl.indicator_key for sl in due})
        ids = [ln.id for ln in found.values()]
        counts: dict[int, int] = {}
        if ids:
            counts = dict(
                s.execute(
                    sa.select(FilingAttachment.line_id, sa.func.count())
                    .where(FilingAttachment.line_id.in_(ids), FilingAttachment.removed_at.is_(None))
                    .group_by(FilingAttachment.line_id)
                ).all()
            )
    rows = []
    for sl in due:
        ln = found.get((sl.indicator_key, sl.district_code))
        status = ln.status if ln else "not_filed"
        rows.append(
            {
                "line_id": ln.id if ln else None,
                **{k: getattr(sl, k) for k in LINE_COLUMNS if hasattr(sl, k)},
                "value": ln.value if ln else None,
                "numerator": ln.numerator if ln else None,
                "denominator": ln.denominator if ln else None,
                "note": ln.note if ln else None,
                "status": status,
                "status_label": LINE.get(status, "未填报"),
                "reviewer_comment": ln.reviewer_comment if ln else None,
                "submitted_at": beijing(ln.submitted_at) if ln and ln.submitted_at else None,
                "first_submitted_at": beijing(ln.first_submitted_at)
                if ln and ln.first_submitted_at
                else None,
                "reviewed_at": beijing(ln.reviewed_at) if ln and ln.reviewed_at else None,
                "reviewed_by": ln.reviewed_by if ln else None,
                "late": bool(ln and is_late(ln.first_submitted_at, r.deadline)),
                "attachments": counts.get(ln.id, 0) if ln else 0,
            }
        )
    return pd.DataFrame(rows, columns=LINE_COLUMNS)


def history(data_dir: DataDir, line_id: int, scope: Scope, actor: Actor):
    """A line's changes, oldest first (时间 in Beijing time), for its department or a reviewer."""
    import pandas as pd

    with store.session(data_dir) as s:
        line = s.get(FilingLine, int(line_id))
    if line is None:
        raise FilingError(f"没有编号为 {line_id} 的填报行。")
    # outside the transaction: a refusal is audited in one of its own (SQLite has one writer)
    _readable_department(data_dir, scope, actor, line.department, f"填报行 {line_id}")
    with store.session(data_dir) as s:
        events = s.scalars(
            sa.select(FilingLineEvent)
            .where(FilingLineEvent.line_id == line.id)
            .order_by(FilingLineEvent.at, FilingLineEvent.id)
        ).all()
    actions = {
        "save": "保存",
        "submit": "提交",
        "approve": "审核通过",
        "return": "退回",
        "attach": "上传佐证材料",
        "detach": "删除佐证材料",
    }
    return pd.DataFrame(
        {
            "时间": [beijing(e.at) for e in events],
            "人员": [e.actor or "" for e in events],
            "操作": [actions.get(e.action, e.action) for e in events],
            "状态": [LINE.get(e.status, e.status) for e in events],
            "指标值": [e.value for e in events],
            "分子": [e.numerator for e in events],
            "分母": [e.denominator for e in events],
            "备注": [e.note or "" for e in events],
            "意见": [e.comment or "" for e in events],
        }
    )


def approved_lines(data_dir: DataDir, round_id: int) -> tuple[FilingRound, list[FilingLine]]:
    """The round and its approved lines (etl.filing_publish loads them as reports)."""
    with store.session(data_dir) as s:
        r = _round(s, round_id)
        found = s.scalars(
            sa.select(FilingLine)
            .where(FilingLine.round_id == round_id, FilingLine.status == "approved")
            .order_by(FilingLine.id)
        ).all()
        return r, list(found)


def unpublished(data_dir: DataDir, round_id: int, scope: Scope, actor: Actor) -> int:
    """How many approved lines of the round have not reached the warehouse yet (their publish job
    failed, or still runs): the review page offers to load them again."""
    _reviewer(data_dir, scope, actor, f"填报轮次 {round_id}")
    with store.session(data_dir) as s:
        return int(
            s.scalar(
                sa.select(sa.func.count())
                .select_from(FilingLine)
                .where(
                    FilingLine.round_id == round_id,
                    FilingLine.status == "approved",
                    FilingLine.published_at.is_(None),
                )
            )
            or 0
        )


def mark_published(data_dir: DataDir, line_ids: Sequence[int], at: dt.datetime) -> None:
    with store.session(data_dir) as s:
        if line_ids:
            s.execute(
                sa.update(FilingLine)
                .where(FilingLine.id.in_(list(line_ids)))
                .values(published_at=at)
            )


# ── 佐证材料 ──────────────────────────────────────────────────────────────────────────────────


def attachment_limit_mb() -> float:
    """BIZENV_ATTACHMENT_MAX_MB (default 20): one attachment's size."""
    return settings.Limits.from_env().attachment_max_mb


def size_text(n: int) -> str:
    """1.5 MB, 12 KB, 27 字节."""
    if n >= 1024 * 1024:
        return f"{n / 1024 / 1024:.1f} MB"
    return f"{round(n / 1024)} KB" if n >= 1024 else f"{n} 字节"


_UNSAFE = re.compile(r"[\\/:*?\"<>|\x00-\x1f]")


def attach(
    data_dir: DataDir,
    spec,
    round_id: int,
    indicator_key: str,
    district_code: str,
    name: str,
    data: bytes,
    scope: Scope,
    actor: Actor,
    catalog_dir: Path | None = None,
) -> FilingAttachment:
    """上传佐证材料 to a line the department may still change (an empty draft line is created)."""
    department = _filer(data_dir, scope, actor, f"填报轮次 {round_id}")
    own = {(sl.indicator_key, sl.district_code): sl for sl in slots(spec, department, catalog_dir)}
    sl = own.get((indicator_key, district_code))
    if sl is None:
        raise _deny(
            data_dir,
            actor,
            f"填报轮次 {round_id}",
            f"指标“{indicator_key}”（{district_code}）不是{department}负责填报的指标，不能上传材料。",
        )
    base = Path(str(name).replace("\\", "/")).name.strip() or "材料"
    suffix = Path(base).suffix.lower()
    if suffix not in ALLOWED_SUFFIXES:
        raise FilingError(
            f"“{base}”的文件类型不能作为佐证材料。可上传：{'、'.join(ALLOWED_SUFFIXES)}。"
        )
    limit = attachment_limit_mb()
    if len(data) > limit * 1024 * 1024:
        raise FilingError(
            f"“{base}”有 {size_text(len(data))}，超过佐证材料的上限 {limit:g} MB。"
            f"请压缩后再上传；{settings.Limits().hint('attachment_max_mb')}。"
        )
    if not data:
        raise FilingError(f"“{base}”是空文件，请重新选择。")
    digest = hashlib.sha256(data).hexdigest()
    with store.session(data_dir) as s:
        _open_round(s, round_id)
        sub = _submission(s, round_id, department)
        line = _lines(s, round_id, [indicator_key]).get((indicator_key, district_code))
        if line is None:
            line = FilingLine(
                round_id=round_id,
                submission_id=sub.id,
                department=department,
                indicator_key=indicator_key,
                district_code=district_code,
                status="draft",
                created_at=utcnow(),
                updated_at=utcnow(),
                updated_by=actor.name,
            )
            s.add(line)
            s.flush()
        elif line.status not in EDITABLE:
            raise FilingError(f"{sl.where}：已{LINE[line.status]}，不能再上传材料。")
        folder = Path(ATTACHMENTS) / str(round_id) / str(line.id)
        stored = folder / f"{digest[:12]}-{_UNSAFE.sub('_', base)[-120:]}"
        target = data_dir.root / stored
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + ".part")
        tmp.write_bytes(data)
        tmp.replace(target)
        att = FilingAttachment(
            line_id=line.id,
            round_id=round_id,
            name=base[:255],
            path=stored.as_posix(),
            size=len(data),
            sha256=digest,
            uploaded_at=utcnow(),
            uploaded_by=actor.name,
        )
        s.add(att)
        _event(s, line, "attach", actor, base[:255])
        s.flush()
        audit.record(
            data_dir,
            "filing_attach",
            actor,
            f"填报轮次 {round_id} · {sl.where}",
            {"文件": base, "大小": len(data), "sha256": digest},
            session=s,
        )
    return att


def attachments(
    data_dir: DataDir, round_id: int, scope: Scope, actor: Actor, department: str | None = None
):
    """The round's attachments still in force (of the department for 部门), as a DataFrame."""
    import pandas as pd

    department = _readable_department(data_dir, scope, actor, department, f"填报轮次 {round_id}")
    with store.session(data_dir) as s:
        q = (
            sa.select(FilingAttachment, FilingLine)
            .join(FilingLine, FilingLine.id == FilingAttachment.line_id)
            .where(FilingAttachment.round_id == round_id, FilingAttachment.removed_at.is_(None))
            .order_by(FilingAttachment.id)
        )
        if department is not None:
            q = q.where(FilingLine.department == department)
        found = s.execute(q).all()
    return pd.DataFrame(
        [
            {
                "attachment_id": a.id,
                "line_id": ln.id,
                "department": ln.department,
                "indicator_key": ln.indicator_key,
                "district_code": ln.district_code,
                "name": a.name,
                "size": a.size,
                "sha256": a.sha256,
                "uploaded_at": beijing(a.uploaded_at),
                "uploaded_by": a.uploaded_by or "",
            }
            for a, ln in found
        ],
        columns=[
            "attachment_id",
            "line_id",
            "department",
            "indicator_key",
            "district_code",
            "name",
            "size",
            "sha256",
            "uploaded_at",
            "uploaded_by",
        ],
    )


def attachment_file(
    data_dir: DataDir, attachment_id: int, scope: Scope, actor: Actor
) -> tuple[str, bytes]:
    """(name, bytes) of an attachment its department or a reviewer may read; the read is audited."""
    with store.session(data_dir) as s:
        a = s.get(FilingAttachment, int(attachment_id))
        line = s.get(FilingLine, a.line_id) if a is not None else None
        if a is None or line is None or a.removed_at is not None:
            raise FilingError(f"没有编号为 {attachment_id} 的佐证材料（可能已删除）。")
    _readable_department(data_dir, scope, actor, line.department, f"佐证材料 {attachment_id}")
    path = data_dir.root / a.path
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise FilingError(
            f"佐证材料“{a.name}”的文件不在数据目录中（{a.path}），请联系管理员从备份恢复。"
        ) from None
    audit.record(data_dir, "filing_attach_view", actor, a.name, {"行": line.id})
    return a.name, data


def remove_attachment(data_dir: DataDir, attachment_id: int, scope: Scope, actor: Actor) -> None:
    """删除 an attachment of a line the department may still change (the file is kept, marked)."""
    department = _filer(data_dir, scope, actor, f"佐证材料 {attachment_id}")
    with store.session(data_dir) as s:
        a = s.get(FilingAttachment, int(attachment_id))
        line = s.get(FilingLine, a.line_id) if a is not None else None
    if a is None or line is None or a.removed_at is not None:
        raise FilingError(f"没有编号为 {attachment_id} 的佐证材料（可能已删除）。")
    if line.department != department:
        raise _deny(
            data_dir, actor, a.name, f"佐证材料“{a.name}”不是{department}上传的，不能删除。"
        )
    with store.session(data_dir) as s:
        a = s.get(FilingAttachment, a.id)
        line = s.get(FilingLine, line.id)
        assert a is not None and line is not None
        if line.status not in EDITABLE:
            raise FilingError(f"该行已{LINE[line.status]}，不能删除材料。")
        a.removed_at, a.removed_by = utcnow(), actor.name
        _event(s, line, "detach", actor, a.name)
        audit.record(data_dir, "filing_attach_remove", actor, a.name, {"行": line.id}, session=s)


# ── the status board and the reminder list ──────────────────────────────────────────────────

BOARD_COLUMNS = {
    "department": "部门",
    "indicator_id": "指标编码",
    "label": "指标名称",
    "due": "应报",
    "submitted": "待审核",
    "approved": "已通过",
    "returned": "已退回",
    "not_filed": "未报",
    "late": "逾期",
    "on_time": "按时报送",
}


def board(data_dir: DataDir, spec, round_id: int, scope: Scope, actor: Actor, catalog_dir=None):
    """填报情况 per department × indicator (BOARD_COLUMNS keys): 应报 lines; of them 待审核, 已通过,
    已退回, 未报 (never submitted: no line or a draft), 逾期 (first submitted after the deadline)
    and 按时报送 (first submitted by it) — 应报未报 is 未报, 填报及时率 is 按时报送 ÷ 应报."""
    frame = lines(data_dir, spec, round_id, scope, actor, catalog_dir=catalog_dir)
    frame["due"] = 1
    for state in ("submitted", "approved", "returned"):
        frame[state] = (frame["status"] == state).astype(int)
    frame["not_filed"] = frame["status"].isin(["not_filed", "draft"]).astype(int)
    frame["late"] = frame["late"].astype(int)
    filed = frame["first_submitted_at"].notna()
    frame["on_time"] = (filed & ~frame["late"].astype(bool)).astype(int)
    numbers = ["due", "submitted", "approved", "returned", "not_filed", "late", "on_time"]
    return (
        frame.groupby(["department", "indicator_id", "label"], sort=False)[numbers]
        .sum()
        .reset_index()
    )


def reminders(data_dir: DataDir, spec, round_id: int, scope: Scope, actor: Actor, catalog_dir=None):
    """催报名单: departments with lines not filed (or returned and not yet resubmitted), what is
    missing, and whom to call — the enabled 部门 accounts bound to the department."""
    import pandas as pd

    frame = lines(data_dir, spec, round_id, scope, actor, catalog_dir=catalog_dir)
    with store.session(data_dir) as s:
        people = s.scalars(
            sa.select(Account).where(
                Account.role == Role.DEPARTMENT.value, Account.disabled.is_(False)
            )
        ).all()
    contacts: dict[str, list[str]] = {}
    for p in people:
        if p.department:
            text = (
                (p.display_name or p.username)
                + f"（{p.username}"
                + (f"，{p.email}）" if p.email else "）")
            )
            contacts.setdefault(p.department, []).append(text)
    rows = []
    for dept, g in frame.groupby("department", sort=False):
        missing = g[g["status"].isin(["not_filed", "draft"])]
        back = g[g["status"] == "returned"]
        if missing.empty and back.empty:
            continue
        rows.append(
            {
                "部门": dept,
                "未报行数": len(missing),
                "退回待改行数": len(back),
                "未报指标": "、".join(dict.fromkeys(missing["label"])),
                "联系人": "；".join(contacts.get(str(dept), [])) or "（没有绑定该部门的账号）",
            }
        )
    return pd.DataFrame(rows, columns=["部门", "未报行数", "退回待改行数", "未报指标", "联系人"])
