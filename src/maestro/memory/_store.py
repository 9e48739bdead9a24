"""Helpers shared by the memory repositories."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from maestro.errors import NotFoundError, ValidationError
from maestro.store.db import Database

__all__ = ["bounded", "writing"]


@asynccontextmanager
async def writing(db: Database, workspace_id: str) -> AsyncIterator[AsyncSession]:
    """A write session; a foreign-key failure means the workspace does not exist."""
    try:
        async with db.write() as session:
            yield session
    except IntegrityError:
        raise NotFoundError(
            f"workspace {workspace_id!r} does not exist", field="workspace_id"
        ) from None


def bounded(name: str, value: str, limit: int) -> str:
    """``value`` if it has 1 to ``limit`` characters, else a ValidationError naming ``name``."""
    if not value or len(value) > limit:
        raise ValidationError(f"{name} must be 1-{limit} characters, got {value!r}", field=name)
    return value
