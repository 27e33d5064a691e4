"""Alembic environment: runs on the connection handed in by ``tfe.core.db.migrate``."""

from __future__ import annotations

from alembic import context

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only through tfe.core.db.migrate
    raise RuntimeError("run migrations through tfe.core.db.migrate (tfe init)")
context.configure(
    connection=connection,
    target_metadata=context.config.attributes.get("target_metadata"),  # only when generating
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
