"""Jobs (every write to the warehouse), the scheduler's tasks, database sources' high-water marks
and the files watched folders have seen (issue 16). Only new tables.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "jobs",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("who", sa.String(64)),
        sa.Column("via", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("started_at", sa.DateTime),
        sa.Column("finished_at", sa.DateTime),
        sa.Column("params", sa.Text),
        sa.Column("progress", sa.Float, nullable=False),
        sa.Column("progress_text", sa.String(255)),
        sa.Column("summary", sa.Text),
        sa.Column("message", sa.Text),
        sa.Column("log", sa.Text),
        sa.Column("load_ids", sa.Text),
        sa.Column("decision", sa.String(16)),
        sa.Column("pid", sa.Integer),
        sa.Column("host", sa.String(255)),
        sa.Column("undone_by", sa.BigInteger),
        sa.PrimaryKeyConstraint("id", name="pk_jobs"),
    )
    op.create_index("ix_jobs_status", "jobs", ["status"])
    op.create_table(
        "scheduled_tasks",
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("schedule", sa.String(255), nullable=False),
        sa.Column("last_run_at", sa.DateTime),
        sa.Column("last_status", sa.String(16)),
        sa.Column("last_message", sa.Text),
        sa.Column("last_job_id", sa.BigInteger),
        sa.Column("next_run_at", sa.DateTime),
        sa.Column("heartbeat_at", sa.DateTime),
        sa.PrimaryKeyConstraint("name", name="pk_scheduled_tasks"),
    )
    op.create_table(
        "source_marks",
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("column", sa.String(100), nullable=False),
        sa.Column("mark", sa.Text),
        sa.Column("rows_pulled", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_source_marks"),
    )
    op.create_table(
        "watched_files",
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("path", sa.Text, nullable=False),
        sa.Column("job_id", sa.BigInteger),
        sa.Column("seen_at", sa.DateTime, nullable=False),
        sa.PrimaryKeyConstraint("sha256", name="pk_watched_files"),
    )


def downgrade() -> None:
    raise NotImplementedError("应用数据库不支持降级。")
