"""督办: 清障 problems, 为企办实事 projects and milestones, 督办 tasks and their history, 双对标
benchmarks and 提升举措, 蜗牛/骏马 评议 results (office/tracking/models.py).

Only new tables: nothing that is there changes.

Revision ID: 0005
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _stamps() -> list[sa.Column]:
    return [
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.Column("updated_by", sa.String(64)),
        sa.Column("is_demo", sa.Boolean, nullable=False, server_default=sa.false()),
    ]


def upgrade() -> None:
    op.create_table(
        "track_problems",
        sa.Column("id", BigId, nullable=False),
        sa.Column("number", sa.String(40), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("enterprise", sa.String(200), nullable=False),
        sa.Column("credit_code", sa.String(18)),
        sa.Column("category", sa.String(40), nullable=False),
        sa.Column("district_code", sa.String(12)),
        sa.Column("unit", sa.String(100), nullable=False),
        sa.Column("raised_on", sa.Date, nullable=False),
        sa.Column("deadline", sa.Date),
        sa.Column("measures", sa.Text),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("batch", sa.String(40)),
        sa.Column("closed_on", sa.Date),
        sa.Column("evidence", sa.Text),
        *_stamps(),
        sa.PrimaryKeyConstraint("id", name="pk_track_problems"),
        sa.UniqueConstraint("number", name="uq_track_problems_number"),
    )
    op.create_index("ix_track_problems_district_code", "track_problems", ["district_code"])
    op.create_index("ix_track_problems_unit", "track_problems", ["unit"])

    op.create_table(
        "track_projects",
        sa.Column("id", BigId, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("lead_unit", sa.String(100), nullable=False),
        sa.Column("post", sa.String(100)),
        sa.Column("district_code", sa.String(12)),
        sa.Column("year", sa.Integer, nullable=False),
        sa.Column("progress", sa.Float),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("note", sa.Text),
        sa.Column("evidence", sa.Text),
        *_stamps(),
        sa.PrimaryKeyConstraint("id", name="pk_track_projects"),
        sa.UniqueConstraint("name", name="uq_track_projects_name"),
    )
    op.create_index("ix_track_projects_lead_unit", "track_projects", ["lead_unit"])

    op.create_table(
        "track_milestones",
        sa.Column("id", BigId, nullable=False),
        sa.Column(
            "project_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("planned_on", sa.Date),
        sa.Column("actual_on", sa.Date),
        sa.PrimaryKeyConstraint("id", name="pk_track_milestones"),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["track_projects.id"],
            name="fk_track_milestones_project_id_track_projects",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("project_id", "seq", name="uq_track_milestones_step"),
    )
    op.create_index("ix_track_milestones_project_id", "track_milestones", ["project_id"])

    op.create_table(
        "track_tasks",
        sa.Column("id", BigId, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("period", sa.String(8), nullable=False),
        sa.Column("district_code", sa.String(12), nullable=False),
        sa.Column("district_name", sa.String(50)),
        sa.Column("indicator_key", sa.String(80), nullable=False),
        sa.Column("indicator_label", sa.String(120)),
        sa.Column("domain_label", sa.String(120)),
        sa.Column("unit", sa.String(100)),
        sa.Column("value", sa.Float),
        sa.Column("reason", sa.String(255)),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("deadline", sa.Date),
        sa.Column("progress", sa.Text),
        sa.Column("evidence", sa.Text),
        sa.Column("closed_how", sa.String(16)),
        sa.Column("closed_on", sa.Date),
        sa.Column("snapshot", sa.String(120)),
        *_stamps(),
        sa.PrimaryKeyConstraint("id", name="pk_track_tasks"),
        sa.UniqueConstraint(
            "kind", "period", "district_code", "indicator_key", name="uq_track_tasks_cell"
        ),
    )
    op.create_index("ix_track_tasks_period", "track_tasks", ["period"])
    op.create_index("ix_track_tasks_district_code", "track_tasks", ["district_code"])
    op.create_index("ix_track_tasks_unit", "track_tasks", ["unit"])
    op.create_index("ix_track_tasks_state", "track_tasks", ["state"])

    op.create_table(
        "track_task_events",
        sa.Column("id", BigId, nullable=False),
        sa.Column("task_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("actor", sa.String(64)),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("note", sa.Text),
        sa.PrimaryKeyConstraint("id", name="pk_track_task_events"),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["track_tasks.id"],
            name="fk_track_task_events_task_id_track_tasks",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_track_task_events_task_id", "track_task_events", ["task_id"])

    op.create_table(
        "track_benchmarks",
        sa.Column("id", BigId, nullable=False),
        sa.Column("indicator_key", sa.String(80), nullable=False),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("value", sa.Float, nullable=False),
        sa.Column("holder", sa.String(100), nullable=False),
        sa.Column("source", sa.String(255)),
        sa.Column("as_of", sa.Date),
        *_stamps(),
        sa.PrimaryKeyConstraint("id", name="pk_track_benchmarks"),
        sa.UniqueConstraint("indicator_key", "level", name="uq_track_benchmarks_level"),
    )

    op.create_table(
        "track_measures",
        sa.Column("id", BigId, nullable=False),
        sa.Column("indicator_key", sa.String(80), nullable=False),
        sa.Column("district_code", sa.String(12)),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("unit", sa.String(100), nullable=False),
        sa.Column("deadline", sa.Date),
        sa.Column("progress", sa.Text),
        sa.Column("value_before", sa.Float),
        sa.Column("value_after", sa.Float),
        *_stamps(),
        sa.PrimaryKeyConstraint("id", name="pk_track_measures"),
    )
    op.create_index("ix_track_measures_indicator_key", "track_measures", ["indicator_key"])

    op.create_table(
        "track_awards",
        sa.Column("id", BigId, nullable=False),
        sa.Column("period", sa.String(8), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("unit", sa.String(100), nullable=False),
        sa.Column("district_code", sa.String(12)),
        sa.Column("awarded", sa.Boolean, nullable=False),
        sa.Column("decided_on", sa.Date),
        sa.Column("note", sa.Text),
        sa.Column("evidence", sa.Text),
        *_stamps(),
        sa.PrimaryKeyConstraint("id", name="pk_track_awards"),
        sa.UniqueConstraint("period", "kind", "unit", name="uq_track_awards_unit"),
    )
    op.create_index("ix_track_awards_period", "track_awards", ["period"])


def downgrade() -> None:
    for table in (
        "track_awards",
        "track_measures",
        "track_benchmarks",
        "track_task_events",
        "track_tasks",
        "track_milestones",
        "track_projects",
        "track_problems",
    ):
        op.drop_table(table)
