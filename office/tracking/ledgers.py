"""The Excel 台账 of the 督办 loop: one template per kind with Chinese headers, recognised by its
headers (`bizenv load` routes such a file here, into the application database — never into the
warehouse), imported by natural key (an existing row is updated, a new one added) and exported
back in exactly the same shape, so an office can keep its spreadsheet and the system in step.

Kinds and keys: 清障问题 (问题编号), 为企办实事 (项目名称 + 节点序号: one row per milestone), 督办任务
(类型 + 季度 + 区县代码 + 指标代码), 对标标杆 (指标代码 + 对标层级), 提升举措 (指标代码 + 区县代码 +
举措名称), 蜗牛骏马评议 (季度 + 奖项 + 单位).
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa

from kpi.errors import UserInputError
from kpi.read.exports import xlsx_bytes
from kpi.settings import DataDir
from office import audit, store
from office.models import utcnow
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


@dataclass(frozen=True)
class Column:
    header: str
    field: str
    kind: str = "text"  # text | date | number | int | bool | choice
    required: bool = False
    choices: tuple[str, ...] = ()


TEMPLATES: dict[str, tuple[str, tuple[Column, ...]]] = {
    "problems": (
        "清障问题台账",
        (
            Column("问题编号", "number", required=True),
            Column("来源", "source", "choice", True, rules.PROBLEM_SOURCES),
            Column("企业名称", "enterprise", required=True),
            Column("统一社会信用代码", "credit_code"),
            Column("问题类别", "category", required=True),
            Column("区县代码", "district_code"),
            Column("责任单位", "unit", required=True),
            Column("提出日期", "raised_on", "date", True),
            Column("整改时限", "deadline", "date"),
            Column("整改措施", "measures"),
            Column("状态", "status", "choice", True, rules.PROBLEM_STATUSES),
            Column("销号批次", "batch"),
            Column("销号日期", "closed_on", "date"),
            Column("佐证", "evidence"),
        ),
    ),
    "projects": (
        "为企办实事台账",
        (
            Column("项目名称", "name", required=True),
            Column("牵头单位", "lead_unit", required=True),
            Column("责任领导", "post"),
            Column("区县代码", "district_code"),
            Column("年度", "year", "int", True),
            Column("进度（%）", "progress", "number"),
            Column("项目状态", "status", "choice", True, ("推进中", "已完成", "暂缓")),
            Column("进展情况", "note"),
            Column("节点序号", "seq", "int", True),
            Column("节点名称", "step", required=True),
            Column("计划完成日期", "planned_on", "date"),
            Column("实际完成日期", "actual_on", "date"),
        ),
    ),
    "tasks": (
        "督办任务台账",
        (
            Column("类型", "kind", "choice", True, tuple(rules.TASK_KINDS.values())),
            Column("季度", "period", required=True),
            Column("区县代码", "district_code", required=True),
            Column("区县", "district_name"),
            Column("指标代码", "indicator_key", required=True),
            Column("指标", "indicator_label"),
            Column("牵头部门", "unit"),
            Column("督办原因", "reason"),
            Column("督办状态", "state", "choice", True, tuple(rules.TASK_STATES.values())),
            Column("整改时限", "deadline", "date"),
            Column("整改进展", "progress"),
            Column("佐证", "evidence"),
            Column("销号日期", "closed_on", "date"),
        ),
    ),
    "benchmarks": (
        "对标标杆台账",
        (
            Column("指标代码", "indicator_key", required=True),
            Column("对标层级", "level", "choice", True, ("省内", "省外")),
            Column("标杆值", "value", "number", True),
            Column("标杆城市", "holder", required=True),
            Column("数据来源", "source"),
            Column("截至日期", "as_of", "date"),
        ),
    ),
    "measures": (
        "提升举措台账",
        (
            Column("指标代码", "indicator_key", required=True),
            Column("区县代码（空为全市）", "district_code"),
            Column("举措名称", "name", required=True),
            Column("责任单位", "unit", required=True),
            Column("完成时限", "deadline", "date"),
            Column("推进情况", "progress"),
            Column("举措前数值", "value_before", "number"),
            Column("举措后数值", "value_after", "number"),
        ),
    ),
    "awards": (
        "蜗牛骏马评议台账",
        (
            Column("季度", "period", required=True),
            Column("奖项", "kind", "choice", True, ("蜗牛", "骏马")),
            Column("单位", "unit", required=True),
            Column("区县代码", "district_code"),
            Column("是否授予", "awarded", "bool", True),
            Column("评议日期", "decided_on", "date"),
            Column("评议说明", "note"),
            Column("依据", "evidence"),
        ),
    ),
}
KIND_NAMES = {k: v[0] for k, v in TEMPLATES.items()}
_TASK_KIND = {v: k for k, v in rules.TASK_KINDS.items()}
_TASK_STATE = {v: k for k, v in rules.TASK_STATES.items()}


def _norm(text) -> str:
    return str(text or "").strip().replace("(", "（").replace(")", "）").replace(" ", "")


def recognise(headers) -> str | None:
    """The 台账 kind whose required headers are all in `headers` (None: not a 台账)."""
    have = {_norm(h) for h in headers if h is not None}
    best = None
    for kind, (_, cols) in TEMPLATES.items():
        need = {_norm(c.header) for c in cols if c.required}
        if need <= have and (best is None or len(need) > best[1]):
            best = (kind, len(need))
    return best[0] if best else None


def sniff(path: Path) -> tuple[str, int] | None:
    """(kind, header row index) when the file is a 台账: the header is one of its first 5 rows
    (an office often puts a title row above it). XLSX/XLSM only; None otherwise."""
    if path.suffix.lower() not in (".xlsx", ".xlsm"):
        return None
    try:
        from openpyxl import load_workbook

        wb = load_workbook(path, read_only=True, data_only=True)
        try:
            rows = list(wb.worksheets[0].iter_rows(max_row=5, values_only=True))
        finally:
            wb.close()
    except Exception:  # noqa: BLE001 — not readable as a workbook: the export loader says why
        return None
    for i, row in enumerate(rows):
        kind = recognise(row)
        if kind:
            return kind, i
    return None


def template_bytes(kind: str) -> bytes:
    """An empty template (headers only) for `kind`."""
    name, cols = TEMPLATES[kind]
    return xlsx_bytes({name: pd.DataFrame(columns=[c.header for c in cols])})


# ── export ───────────────────────────────────────────────────────────────────────────────────


def _rows(s, kind: str) -> list[dict]:
    if kind == "problems":
        return [
            _obj(p, TEMPLATES[kind][1])
            for p in s.scalars(sa.select(Problem).order_by(Problem.number))
        ]
    if kind == "projects":
        out = []
        q = sa.select(Project, Milestone).join(Milestone, Milestone.project_id == Project.id)
        for p, m in s.execute(q.order_by(Project.name, Milestone.seq)):
            row = _obj(p, TEMPLATES[kind][1])
            row.update(
                {"seq": m.seq, "step": m.name, "planned_on": m.planned_on, "actual_on": m.actual_on}
            )
            out.append(row)
        return out
    if kind == "tasks":
        out = []
        by = (Task.period, Task.district_code, Task.indicator_key, Task.kind)
        for t in s.scalars(sa.select(Task).order_by(*by)):
            row = _obj(t, TEMPLATES[kind][1])
            row["kind"], row["state"] = rules.TASK_KINDS[t.kind], rules.TASK_STATES[t.state]
            out.append(row)
        return out
    model: Any
    model, order = {
        "benchmarks": (Benchmark, (Benchmark.indicator_key, Benchmark.level)),
        "measures": (Measure, (Measure.indicator_key, Measure.district_code, Measure.name)),
        "awards": (Award, (Award.period, Award.kind, Award.unit)),
    }[kind]
    return [_obj(x, TEMPLATES[kind][1]) for x in s.scalars(sa.select(model).order_by(*order))]


def _obj(item, cols) -> dict:
    return {c.field: getattr(item, c.field, None) for c in cols}


def export_frame(data_dir: DataDir, kind: str) -> pd.DataFrame:
    """The 台账 of `kind` as it is in the application database, with the template's headers."""
    _, cols = TEMPLATES[kind]
    with store.session(data_dir) as s:
        rows = _rows(s, kind)
    df = pd.DataFrame(rows, columns=[c.field for c in cols])
    for c in cols:
        if c.kind == "bool":
            df[c.field] = df[c.field].map({True: "是", False: "否"})
        if c.kind == "date":
            df[c.field] = pd.to_datetime(df[c.field])
    return df.rename(columns={c.field: c.header for c in cols})


def export_bytes(data_dir: DataDir, kind: str) -> bytes:
    return xlsx_bytes({TEMPLATES[kind][0]: export_frame(data_dir, kind)})


# ── import ───────────────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True)
class Imported:
    kind: str
    rows: int
    inserted: int
    updated: int


def read_rows(path: Path, header_row: int) -> tuple[list[str], list[tuple]]:
    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True, data_only=True)
    try:
        rows = list(wb.worksheets[0].iter_rows(values_only=True))
    finally:
        wb.close()
    headers = [_norm(h) for h in rows[header_row]]
    data = [r for r in rows[header_row + 1 :] if any(v not in (None, "") for v in r)]
    return headers, data


def _coerce(col: Column, value, where: str, problems: list[str]):
    if value is None or (isinstance(value, str) and not value.strip()):
        if col.required:
            problems.append(f"{where}“{col.header}”为空：此列必填。")
        return None
    try:
        if col.kind == "date":
            if isinstance(value, dt.datetime):
                return value.date()
            if isinstance(value, dt.date):
                return value
            return dt.date.fromisoformat(str(value).strip().replace("/", "-")[:10])
        if col.kind == "number":
            return float(str(value).strip().rstrip("%"))
        if col.kind == "int":
            return int(float(str(value).strip()))
        if col.kind == "bool":
            text = str(value).strip()
            if text in ("是", "1", "true", "True", "TRUE"):
                return True
            if text in ("否", "0", "false", "False", "FALSE"):
                return False
            raise ValueError
    except ValueError:
        kind = {
            "date": "日期（如 2026-03-31）",
            "number": "数字",
            "int": "整数",
            "bool": "“是”或“否”",
        }
        problems.append(f"{where}“{col.header}”的值“{value}”不是{kind[col.kind]}。")
        return None
    text = str(value).strip()
    if isinstance(value, float) and value.is_integer():
        text = str(int(value))
    if col.kind == "choice" and text not in col.choices:
        problems.append(f"{where}“{col.header}”的值“{text}”无效，可选：{'、'.join(col.choices)}。")
    return text


def parse(path: Path, kind: str, header_row: int) -> list[dict]:
    """The 台账 rows as field dicts; every problem at once (UserInputError naming file, row and
    column) — a refused file writes nothing."""
    headers, data = read_rows(path, header_row)
    _, cols = TEMPLATES[kind]
    index = {h: i for i, h in enumerate(headers)}
    problems: list[str] = []
    out = []
    for n, row in enumerate(data, start=header_row + 2):
        rec = {}
        for c in cols:
            i = index.get(_norm(c.header))
            rec[c.field] = _coerce(
                c, row[i] if i is not None and i < len(row) else None, f"第 {n} 行", problems
            )
        if kind == "problems":
            bad = rules.credit_code_problem(rec["credit_code"])
            if bad:
                problems.append(f"第 {n} 行“统一社会信用代码”：{bad}。")
            elif rec["credit_code"]:
                rec["credit_code"] = rec["credit_code"].upper()
        out.append(rec)
        if len(problems) >= 50:
            break
    if problems:
        more = "（只列出前 50 个问题）" if len(problems) >= 50 else ""
        raise UserInputError(
            f"{path.name}（{KIND_NAMES[kind]}）有 {len(problems)} 处需要改正，未导入任何行{more}：\n"
            + "\n".join(problems)
            + "\n改正后重新运行 bizenv load；空白模板可用 bizenv template --ledger 生成。"
        )
    return out


def import_file(
    data_dir: DataDir, path: Path, actor: audit.Actor, sniffed=None, demo: bool = False
) -> Imported:
    """Import a 台账 file (营商办's action: from the CLI or the 督办 pages). One transaction."""
    found = sniffed or sniff(path)
    if not found:
        raise UserInputError(f"{path.name} 不是可识别的台账（表头与模板不符）。")
    kind, header_row = found
    return import_rows(data_dir, kind, parse(path, kind, header_row), actor, path.name, demo)


@dataclass(frozen=True)
class Outcome:
    """What became of one 台账 among a batch of files: imported, or refused (nothing written)."""

    path: Path
    imported: Imported | None = None
    refusal: str | None = None

    @property
    def summary(self) -> str:
        if self.imported is None:
            return f"{self.path.name}：已拒绝（台账），未写入任何数据"
        done = self.imported
        return (
            f"{self.path.name}（台账：{KIND_NAMES[done.kind]}）读取 {done.rows:,} 行；"
            f"新增 {done.inserted:,}，更新 {done.updated:,}；已写入应用数据库"
        )


def import_ledgers(
    data_dir: DataDir, paths: list[Path], actor: audit.Actor
) -> tuple[list[Path], list[Outcome]]:
    """The 台账 among `paths` (recognised by their headers) imported, each on its own; returns the
    other files (exports, for the warehouse loader) and an Outcome per 台账. `bizenv load` and the
    数据 page's upload both come here."""
    rest: list[Path] = []
    outcomes: list[Outcome] = []
    for path in paths:
        found = sniff(path)
        if not found:
            rest.append(path)
            continue
        try:
            outcomes.append(Outcome(path, imported=import_file(data_dir, path, actor, found)))
        except UserInputError as err:
            outcomes.append(Outcome(path, refusal=str(err)))
    return rest, outcomes


def import_rows(
    data_dir: DataDir,
    kind: str,
    recs: list[dict],
    actor: audit.Actor,
    name: str,
    demo: bool = False,
) -> Imported:
    inserted = updated = 0
    now = utcnow()
    with store.session(data_dir) as s:
        if kind == "projects":
            by_name: dict[str, Project] = {}
            for r in recs:
                p = (
                    by_name.get(r["name"])
                    or s.scalars(sa.select(Project).where(Project.name == r["name"])).one_or_none()
                )
                fields = {
                    k: r[k]
                    for k in (
                        "lead_unit",
                        "post",
                        "district_code",
                        "year",
                        "progress",
                        "status",
                        "note",
                    )
                }
                if p is None:
                    p = Project(name=r["name"], **fields, updated_by=actor.name, is_demo=demo)
                    s.add(p)
                    s.flush()
                    inserted += 1
                elif r["name"] not in by_name:
                    updated += _assign(p, fields, actor, now)
                by_name[r["name"]] = p
                m = s.scalars(
                    sa.select(Milestone).where(
                        Milestone.project_id == p.id, Milestone.seq == r["seq"]
                    )
                ).one_or_none()
                step = {
                    "name": r["step"],
                    "planned_on": r["planned_on"],
                    "actual_on": r["actual_on"],
                }
                if m is None:
                    s.add(Milestone(project_id=p.id, seq=r["seq"], **step))
                else:
                    for k, v in step.items():
                        setattr(m, k, v)
        else:
            for r in recs:
                item, fields = _find(s, kind, r)
                if item is None:
                    model: Any = {
                        "problems": Problem,
                        "tasks": Task,
                        "benchmarks": Benchmark,
                        "measures": Measure,
                        "awards": Award,
                    }[kind]
                    item = model(**fields, updated_by=actor.name, is_demo=demo)
                    s.add(item)
                    s.flush()
                    if kind == "tasks":
                        s.add(
                            TaskEvent(
                                task_id=item.id, actor=actor.name, action="imported", note=name
                            )
                        )
                    inserted += 1
                else:
                    updated += _assign(item, fields, actor, now)
        audit.record(
            data_dir,
            "tracking_import",
            actor,
            name,
            {"台账": KIND_NAMES[kind], "行数": len(recs), "新增": inserted, "更新": updated},
            session=s,
        )
    return Imported(kind, len(recs), inserted, updated)


def _assign(item, fields: dict, actor, now) -> int:
    changed = False
    for k, v in fields.items():
        if getattr(item, k) != v:
            setattr(item, k, v)
            changed = True
    if changed:
        item.updated_at, item.updated_by = now, actor.name
    return int(changed)


def _find(s, kind: str, r: dict):
    if kind == "problems":
        return s.scalars(sa.select(Problem).where(Problem.number == r["number"])).one_or_none(), r
    if kind == "tasks":
        f = {**r, "kind": _TASK_KIND[r["kind"]], "state": _TASK_STATE[r["state"]]}
        if f["state"] == "closed" and f.get("closed_on"):
            f["closed_how"] = "writeoff"
        q = sa.select(Task).where(
            Task.kind == f["kind"],
            Task.period == f["period"],
            Task.district_code == f["district_code"],
            Task.indicator_key == f["indicator_key"],
        )
        return s.scalars(q).one_or_none(), f
    if kind == "benchmarks":
        qbenchmark = sa.select(Benchmark).where(
            Benchmark.indicator_key == r["indicator_key"], Benchmark.level == r["level"]
        )
        return s.scalars(qbenchmark).one_or_none(), r
    if kind == "measures":
        qmeasure = sa.select(Measure).where(
            Measure.indicator_key == r["indicator_key"],
            Measure.district_code.is_(None)
            if r["district_code"] is None
            else Measure.district_code == r["district_code"],
            Measure.name == r["name"],
        )
        return s.scalars(qmeasure).one_or_none(), r
    qaward = sa.select(Award).where(
        Award.period == r["period"], Award.kind == r["kind"], Award.unit == r["unit"]
    )
    return s.scalars(qaward).one_or_none(), r


def frame_bytes(df: pd.DataFrame, kind: str) -> bytes:
    """A frame already in the template's shape, as the 台账 XLSX (the demo writes its files so)."""
    return xlsx_bytes({TEMPLATES[kind][0]: df})


def read_back(data: bytes) -> pd.DataFrame:
    """An exported 台账 as a frame (tests compare round trips with it)."""
    return pd.read_excel(io.BytesIO(data), dtype=object, engine="openpyxl")
