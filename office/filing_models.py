"""Tables of 在线指标填报 (revision 0004): rounds, submissions, lines, 佐证材料 and each line's
history. The rules live in office.filings; this module only says what is stored.

A round (填报轮次) is one quarter's call for figures with a deadline; a submission is one
department's answer to it; a line is one figure — an indicator for a district, or for the city
where the indicator applies to the city — with its value, or its 分子 and 分母 where metrics.yaml
says the indicator is filed in parts (`reported`). Times are UTC without a zone, like the rest of
the application database.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from office.models import Base, BigId, utcnow


class FilingRound(Base):
    """填报轮次: opened by 营商办 for a quarter, with a deadline (a Beijing date, end of day)."""

    __tablename__ = "filing_rounds"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    period: Mapped[str] = mapped_column(sa.String(8), unique=True)  # 2026Q4: one round a quarter
    deadline: Mapped[dt.date] = mapped_column(sa.Date)  # 截止日期 (included)
    status: Mapped[str] = mapped_column(sa.String(16), default="open")  # open | closed
    note: Mapped[str | None] = mapped_column(sa.String(500))  # 填报说明 shown to departments
    opened_by: Mapped[str | None] = mapped_column(sa.String(64))
    opened_at: Mapped[dt.datetime] = mapped_column(sa.DateTime, default=utcnow)
    closed_by: Mapped[str | None] = mapped_column(sa.String(64))
    closed_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime)


class FilingSubmission(Base):
    """One department's filing in a round (created with its first saved line)."""

    __tablename__ = "filing_submissions"
    __table_args__ = (sa.UniqueConstraint("round_id", "department"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    round_id: Mapped[int] = mapped_column(sa.ForeignKey("filing_rounds.id"), index=True)
    department: Mapped[str] = mapped_column(sa.String(100))
    # draft | submitted | returned | approved — the lines' state summed up (office.filings)
    status: Mapped[str] = mapped_column(sa.String(16), default="draft")
    submitted_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime)  # the last submit
    submitted_by: Mapped[str | None] = mapped_column(sa.String(64))
    reviewed_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime)
    reviewed_by: Mapped[str | None] = mapped_column(sa.String(64))
    comment: Mapped[str | None] = mapped_column(sa.String(1000))  # 退回意见 of a whole return
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(sa.DateTime, default=utcnow)


class FilingLine(Base):
    """One figure: an indicator × a district (or the city)."""

    __tablename__ = "filing_lines"
    __table_args__ = (sa.UniqueConstraint("round_id", "indicator_key", "district_code"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    round_id: Mapped[int] = mapped_column(sa.ForeignKey("filing_rounds.id"))
    submission_id: Mapped[int] = mapped_column(sa.ForeignKey("filing_submissions.id"), index=True)
    department: Mapped[str] = mapped_column(sa.String(100))  # the owner when it was saved
    indicator_key: Mapped[str] = mapped_column(sa.String(64))
    district_code: Mapped[str] = mapped_column(sa.String(12))
    value: Mapped[float | None] = mapped_column(sa.Float)  # 指标值
    numerator: Mapped[float | None] = mapped_column(sa.Float)  # 分子
    denominator: Mapped[float | None] = mapped_column(sa.Float)  # 分母
    note: Mapped[str | None] = mapped_column(sa.String(1000))  # 备注
    status: Mapped[str] = mapped_column(sa.String(16), default="draft")  # office.filings.LINE
    reviewer_comment: Mapped[str | None] = mapped_column(sa.String(1000))  # 退回意见
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(sa.DateTime, default=utcnow)
    updated_by: Mapped[str | None] = mapped_column(sa.String(64))
    # the first submit is the filing time (填报时间: 应报未报, 逾期, 填报及时率); a resubmission after
    # a return corrects a figure that was filed, it does not file it anew
    first_submitted_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime)
    submitted_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime)
    submitted_by: Mapped[str | None] = mapped_column(sa.String(64))
    reviewed_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime)
    reviewed_by: Mapped[str | None] = mapped_column(sa.String(64))
    published_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime)  # loaded as a report


class FilingAttachment(Base):
    """佐证材料: a file kept in <data dir>/attachments/<round>/…; removing it only marks it."""

    __tablename__ = "filing_attachments"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    line_id: Mapped[int] = mapped_column(sa.ForeignKey("filing_lines.id"), index=True)
    round_id: Mapped[int] = mapped_column(sa.ForeignKey("filing_rounds.id"))
    name: Mapped[str] = mapped_column(sa.String(255))  # as uploaded
    path: Mapped[str] = mapped_column(sa.String(500))  # relative to the data dir
    size: Mapped[int] = mapped_column(sa.BigInteger)
    sha256: Mapped[str] = mapped_column(sa.String(64))
    uploaded_at: Mapped[dt.datetime] = mapped_column(sa.DateTime, default=utcnow)
    uploaded_by: Mapped[str | None] = mapped_column(sa.String(64))
    removed_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime)
    removed_by: Mapped[str | None] = mapped_column(sa.String(64))


class FilingLineEvent(Base):
    """A line's history: every save, submit, return, approval and attachment, with the figures
    as they were after it."""

    __tablename__ = "filing_line_history"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    line_id: Mapped[int] = mapped_column(sa.ForeignKey("filing_lines.id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(sa.DateTime, default=utcnow)
    actor: Mapped[str | None] = mapped_column(sa.String(64))
    action: Mapped[str] = mapped_column(sa.String(16))  # save | submit | return | approve | …
    status: Mapped[str] = mapped_column(sa.String(16))
    value: Mapped[float | None] = mapped_column(sa.Float)
    numerator: Mapped[float | None] = mapped_column(sa.Float)
    denominator: Mapped[float | None] = mapped_column(sa.Float)
    note: Mapped[str | None] = mapped_column(sa.String(1000))
    comment: Mapped[str | None] = mapped_column(sa.String(1000))
