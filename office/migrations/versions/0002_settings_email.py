"""Settings a 管理员 changes on the accounts page; an account's OIDC e-mail; a password to change
at the next sign-in (after a reset).

Only additions, done in place (ALTER TABLE ADD COLUMN, CREATE INDEX): no table is copied, so the
rows already there — and the sessions that refer to them — stay as they are.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("accounts", sa.Column("email", sa.String(255)))
    op.create_index("uq_accounts_email", "accounts", ["email"], unique=True)
    op.add_column(
        "accounts",
        sa.Column("must_change_password", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.create_table(
        "app_settings",
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("value", sa.String(255), nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.Column("updated_by", sa.String(64)),
        sa.PrimaryKeyConstraint("key", name="pk_app_settings"),
    )


def downgrade() -> None:
    # Migrations only add (a schema change never loses data); there is no way down.
    raise NotImplementedError("应用数据库不支持降级。")
