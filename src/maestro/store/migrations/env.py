"""Alembic environment: runs on the connection Maestro hands it (async engines)."""

from __future__ import annotations

from alembic import context

import maestro.store.tables  # noqa: F401  (registers every table)
from maestro.store.base import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `maestro db upgrade` (Database.upgrade)")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
