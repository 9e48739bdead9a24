"""Storage: SQLAlchemy 2 (async) tables, repositories and Alembic migrations."""

from maestro.store.db import Database

__all__ = ["Database"]
