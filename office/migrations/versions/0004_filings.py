"""在线指标填报: rounds, submissions, lines, 佐证材料 and each line's history (office.filing_models).

Only new tables. Parallel work chains its own revision 0003 after 0002; this one is chained
after it at merge.

Revision ID: 0004
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "filing_rounds",
        sa.Column("id", BigId, nullable=False),
        sa.Column("period", sa.String(8), nullable=False),
        sa.Column("deadline", sa.Date, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("note", sa.String(500)),
        sa.Column("opened_by", sa.String(64)),
        sa.Column("opened_at", sa.DateTime, nullable=False),
        sa.Column("closed_by", sa.String(64)),
        sa.Column("closed_at", sa.DateTime),
        sa.PrimaryKeyConstraint("id", name="pk_filing_rounds"),
        sa.UniqueConstraint("period", name="uq_filing_rounds_period"),
    )
    op.create_table(
        "filing_submissions",
        sa.Column("id", BigId, nullable=False),
        sa.Column("round_id", BigId, nullable=False),
        sa.Column("department", sa.String(100), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("submitted_at", sa.DateTime),
        sa.Column("submitted_by", sa.String(64)),
        sa.Column("reviewed_at", sa.DateTime),
        sa.Column("reviewed_by", sa.String(64)),
        sa.Column("comment", sa.String(1000)),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_filing_submissions"),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["filing_rounds.id"],
            name="fk_filing_submissions_round_id_filing_rounds",
        ),
        sa.UniqueConstraint("round_id", "department", name="uq_filing_submissions_round_id"),
    )
    op.create_index("ix_filing_submissions_round_id", "filing_submissions", ["round_id"])
    op.create_table(
        "filing_lines",
        sa.Column("id", BigId, nullable=False),
        sa.Column("round_id", BigId, nullable=False),
        sa.Column("submission_id", BigId, nullable=False),
        sa.Column("department", sa.String(100), nullable=False),
        sa.Column("indicator_key", sa.String(64), nullable=False),
        sa.Column("district_code", sa.String(12), nullable=False),
        sa.Column("value", sa.Float),
        sa.Column("numerator", sa.Float),
        sa.Column("denominator", sa.Float),
        sa.Column("note", sa.String(1000)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reviewer_comment", sa.String(1000)),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.Column("updated_by", sa.String(64)),
        sa.Column("first_submitted_at", sa.DateTime),
        sa.Column("submitted_at", sa.DateTime),
        sa.Column("submitted_by", sa.String(64)),
        sa.Column("reviewed_at", sa.DateTime),
        sa.Column("reviewed_by", sa.String(64)),
        sa.Column("published_at", sa.DateTime),
        sa.PrimaryKeyConstraint("id", name="pk_filing_lines"),
        sa.ForeignKeyConstraint(
            ["round_id"], ["filing_rounds.id"], name="fk_filing_lines_round_id_filing_rounds"
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["filing_submissions.id"],
            name="fk_filing_lines_submission_id_filing_submissions",
        ),
        sa.UniqueConstraint(
            "round_id", "indicator_key", "district_code", name="uq_filing_lines_round_id"
        ),
    )
    op.create_index("ix_filing_lines_submission_id", "filing_lines", ["submission_id"])
    op.create_table(
        "filing_attachments",
        sa.Column("id", BigId, nullable=False),
        sa.Column("line_id", BigId, nullable=False),
        sa.Column("round_id", BigId, nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("path", sa.String(500), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("uploaded_at", sa.DateTime, nullable=False),
        sa.Column("uploaded_by", sa.String(64)),
        sa.Column("removed_at", sa.DateTime),
        sa.Column("removed_by", sa.String(64)),
        sa.PrimaryKeyConstraint("id", name="pk_filing_attachments"),
        sa.ForeignKeyConstraint(
            ["line_id"], ["filing_lines.id"], name="fk_filing_attachments_line_id_filing_lines"
        ),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["filing_rounds.id"],
            name="fk_filing_attachments_round_id_filing_rounds",
        ),
    )
    op.create_index("ix_filing_attachments_line_id", "filing_attachments", ["line_id"])
    op.create_table(
        "filing_line_history",
        sa.Column("id", BigId, nullable=False),
        sa.Column("line_id", BigId, nullable=False),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("actor", sa.String(64)),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("value", sa.Float),
        sa.Column("numerator", sa.Float),
        sa.Column("denominator", sa.Float),
        sa.Column("note", sa.String(1000)),
        sa.Column("comment", sa.String(1000)),
        sa.PrimaryKeyConstraint("id", name="pk_filing_line_history"),
        sa.ForeignKeyConstraint(
            ["line_id"], ["filing_lines.id"], name="fk_filing_line_history_line_id_filing_lines"
        ),
    )
    op.create_index("ix_filing_line_history_line_id", "filing_line_history", ["line_id"])


def downgrade() -> None:
    # Migrations only add (a schema change never loses data); there is no way down.
    raise NotImplementedError("应用数据库不支持降级。")
