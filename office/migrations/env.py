"""Alembic environment for the application database. office.store.upgrade hands in the
connection (config.attributes["connection"]); there is no alembic.ini and no URL here."""

from __future__ import annotations

from alembic import context

from office.models import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("office/migrations 只通过 office.store.upgrade（bizenv db upgrade）运行。")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    # SQLite cannot ALTER most things in place: Alembic's batch mode copies the table instead
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
