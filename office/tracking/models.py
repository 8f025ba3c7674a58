"""Tables of the 督办 loop (revision 0005 "tracking"). Dates are calendar dates (Beijing); times UTC.

Every row carries who changed it last and when; every change is also in the audit log, and a
督办 task keeps its own history (track_task_events)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from office.models import Base, BigId, utcnow


class _Stamped:
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(sa.DateTime, default=utcnow)
    updated_by: Mapped[str | None] = mapped_column(sa.String(64))
    # written by the demo generator (etl/demo/ledgers.py); bizenv reset --demo removes these
    is_demo: Mapped[bool] = mapped_column(sa.Boolean, default=False, server_default=sa.false())


class Problem(_Stamped, Base):
    """清障 问题: one problem an enterprise raised, from 交办 to 销号."""

    __tablename__ = "track_problems"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    number: Mapped[str] = mapped_column(sa.String(40), unique=True)  # 问题编号
    source: Mapped[str] = mapped_column(sa.String(16))  # 来源: 走访/座谈/12345/问卷/督查
    enterprise: Mapped[str] = mapped_column(sa.String(200))  # 企业名称
    credit_code: Mapped[str | None] = mapped_column(sa.String(18))  # 统一社会信用代码
    category: Mapped[str] = mapped_column(sa.String(40))  # 问题类别
    district_code: Mapped[str | None] = mapped_column(sa.String(12), index=True)
    unit: Mapped[str] = mapped_column(sa.String(100), index=True)  # 责任单位
    raised_on: Mapped[dt.date] = mapped_column(sa.Date)  # 提出日期
    deadline: Mapped[dt.date | None] = mapped_column(sa.Date)  # 整改时限
    measures: Mapped[str | None] = mapped_column(sa.Text)  # 整改措施
    status: Mapped[str] = mapped_column(sa.String(16), default="待交办")
    batch: Mapped[str | None] = mapped_column(sa.String(40))  # 销号批次
    closed_on: Mapped[dt.date | None] = mapped_column(sa.Date)  # 销号日期
    evidence: Mapped[str | None] = mapped_column(sa.Text)  # 佐证


class Project(_Stamped, Base):
    """为企办实事 项目 on the 张榜公示 board."""

    __tablename__ = "track_projects"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200), unique=True)  # 项目名称
    lead_unit: Mapped[str] = mapped_column(sa.String(100), index=True)  # 牵头单位
    post: Mapped[str | None] = mapped_column(sa.String(100))  # 责任领导/责任人 (a post)
    district_code: Mapped[str | None] = mapped_column(sa.String(12))  # None: 全市
    year: Mapped[int] = mapped_column(sa.Integer)
    progress: Mapped[float | None] = mapped_column(sa.Float)  # 进度 %
    status: Mapped[str] = mapped_column(sa.String(16), default="推进中")  # 推进中/已完成/暂缓
    note: Mapped[str | None] = mapped_column(sa.Text)  # 进展情况
    evidence: Mapped[str | None] = mapped_column(sa.Text)


class Milestone(Base):
    """节点计划: one step of a project with its planned and actual date."""

    __tablename__ = "track_milestones"
    __table_args__ = (sa.UniqueConstraint("project_id", "seq", name="uq_track_milestones_step"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    project_id: Mapped[int] = mapped_column(
        sa.ForeignKey("track_projects.id", ondelete="CASCADE"), index=True
    )
    seq: Mapped[int] = mapped_column(sa.Integer)
    name: Mapped[str] = mapped_column(sa.String(200))
    planned_on: Mapped[dt.date | None] = mapped_column(sa.Date)
    actual_on: Mapped[dt.date | None] = mapped_column(sa.Date)


class Task(_Stamped, Base):
    """督办 任务: a red district × indicator (or an 应报未报) of a quarter, addressed to the
    indicator's 牵头部门 and the district."""

    __tablename__ = "track_tasks"
    __table_args__ = (
        sa.UniqueConstraint(
            "kind", "period", "district_code", "indicator_key", name="uq_track_tasks_cell"
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(16))  # red | not_filed
    period: Mapped[str] = mapped_column(sa.String(8), index=True)
    district_code: Mapped[str] = mapped_column(sa.String(12), index=True)
    district_name: Mapped[str | None] = mapped_column(sa.String(50))
    indicator_key: Mapped[str] = mapped_column(sa.String(80))
    indicator_label: Mapped[str | None] = mapped_column(sa.String(120))
    domain_label: Mapped[str | None] = mapped_column(sa.String(120))
    unit: Mapped[str | None] = mapped_column(sa.String(100), index=True)  # 牵头部门
    value: Mapped[float | None] = mapped_column(sa.Float)  # the value when proposed
    reason: Mapped[str | None] = mapped_column(sa.String(255))  # why (红灯 value / 应报未报 …)
    state: Mapped[str] = mapped_column(sa.String(16), default="proposed", index=True)
    deadline: Mapped[dt.date | None] = mapped_column(sa.Date)
    progress: Mapped[str | None] = mapped_column(sa.Text)  # 整改进展
    evidence: Mapped[str | None] = mapped_column(sa.Text)
    closed_how: Mapped[str | None] = mapped_column(sa.String(16))  # self | writeoff
    closed_on: Mapped[dt.date | None] = mapped_column(sa.Date)
    snapshot: Mapped[str | None] = mapped_column(sa.String(120))  # proposed from


class TaskEvent(Base):
    """A 督办 task's history: proposed, confirmed, dismissed, progress, 销号, closed by itself."""

    __tablename__ = "track_task_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    task_id: Mapped[int] = mapped_column(
        sa.ForeignKey("track_tasks.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[dt.datetime] = mapped_column(sa.DateTime, default=utcnow)
    actor: Mapped[str | None] = mapped_column(sa.String(64))
    action: Mapped[str] = mapped_column(sa.String(16))
    note: Mapped[str | None] = mapped_column(sa.Text)


class Benchmark(_Stamped, Base):
    """双对标: an outside benchmark for an indicator (省内标杆 or 省外/全国标杆)."""

    __tablename__ = "track_benchmarks"
    __table_args__ = (
        sa.UniqueConstraint("indicator_key", "level", name="uq_track_benchmarks_level"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    indicator_key: Mapped[str] = mapped_column(sa.String(80))
    level: Mapped[str] = mapped_column(sa.String(16))  # 省内 | 省外
    value: Mapped[float] = mapped_column(sa.Float)
    holder: Mapped[str] = mapped_column(sa.String(100))  # 标杆城市/地区
    source: Mapped[str | None] = mapped_column(sa.String(255))
    as_of: Mapped[dt.date | None] = mapped_column(sa.Date)


class Measure(_Stamped, Base):
    """提升举措 against a benchmark: a unit's measure with its effect (value before and after)."""

    __tablename__ = "track_measures"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    indicator_key: Mapped[str] = mapped_column(sa.String(80), index=True)
    district_code: Mapped[str | None] = mapped_column(sa.String(12))  # None: 全市
    name: Mapped[str] = mapped_column(sa.String(200))
    unit: Mapped[str] = mapped_column(sa.String(100))
    deadline: Mapped[dt.date | None] = mapped_column(sa.Date)
    progress: Mapped[str | None] = mapped_column(sa.Text)
    value_before: Mapped[float | None] = mapped_column(sa.Float)
    value_after: Mapped[float | None] = mapped_column(sa.Float)


class Award(_Stamped, Base):
    """蜗牛奖 / 骏马奖 评议 result of a quarter for a unit (awarded or not)."""

    __tablename__ = "track_awards"
    __table_args__ = (sa.UniqueConstraint("period", "kind", "unit", name="uq_track_awards_unit"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    period: Mapped[str] = mapped_column(sa.String(8), index=True)
    kind: Mapped[str] = mapped_column(sa.String(8))  # 蜗牛 | 骏马
    unit: Mapped[str] = mapped_column(sa.String(100))
    district_code: Mapped[str | None] = mapped_column(sa.String(12))
    awarded: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    decided_on: Mapped[dt.date | None] = mapped_column(sa.Date)
    note: Mapped[str | None] = mapped_column(sa.Text)
    evidence: Mapped[str | None] = mapped_column(sa.Text)  # the counts it was proposed on
