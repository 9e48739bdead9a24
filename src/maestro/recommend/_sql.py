"""Bulk ``INSERT ... ON CONFLICT`` on SQLite and PostgreSQL, one statement per batch."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

__all__ = ["insert_ignore", "insert_new", "insert_or_update", "upsert"]


def _insert(session: AsyncSession, table: Table) -> Any:
    name = session.get_bind().dialect.name
    return (postgresql.insert if name == "postgresql" else sqlite.insert)(table)


async def upsert(
    session: AsyncSession,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    *,
    conflict: Sequence[str],
    update: Sequence[str],
    where: Callable[[Any], ColumnElement[bool]] | None = None,
) -> None:
    """Insert ``rows``; on a ``conflict`` key, overwrite the ``update`` columns.

    ``where(excluded)`` (``excluded`` being the row that was refused) limits which
    existing rows are overwritten.
    """
    if not rows:
        return
    stmt = _insert(session, table)
    stmt = stmt.on_conflict_do_update(
        index_elements=list(conflict),
        set_={c: stmt.excluded[c] for c in update},
        where=None if where is None else where(stmt.excluded),
    )
    await session.execute(stmt, list(rows))


async def insert_ignore(
    session: AsyncSession,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    *,
    conflict: Sequence[str],
) -> None:
    """Insert ``rows``, skipping those whose ``conflict`` key exists."""
    if not rows:
        return
    stmt = _insert(session, table).on_conflict_do_nothing(index_elements=list(conflict))
    await session.execute(stmt, list(rows))


async def insert_new(
    session: AsyncSession,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    *,
    conflict: Sequence[str],
) -> set[str]:
    """Insert ``rows``, skipping those whose ``conflict`` key exists; the ids inserted.

    ``INSERT ... ON CONFLICT DO NOTHING RETURNING id``: the primary key index does
    the existence check as part of the insert, with no separate ``SELECT ... IN``
    whose plan can go stale while the table grows.
    """
    if not rows:
        return set()
    stmt = (
        _insert(session, table)
        .on_conflict_do_nothing(index_elements=list(conflict))
        .returning(table.c.id)
    )
    return set((await session.execute(stmt, list(rows))).scalars())


async def insert_or_update(
    session: AsyncSession,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    *,
    conflict: Sequence[str],
    update: Sequence[str],
) -> int:
    """:func:`upsert` that also tells how many rows were new (the rest were updated).

    New rows go in with :func:`insert_new`; only the ones that already existed are
    then upserted. Both statements find rows through the primary key index, so no
    ``SELECT ... WHERE id IN (...)`` existence check is needed.
    """
    created = await insert_new(session, table, rows, conflict=conflict)
    await upsert(
        session,
        table,
        [r for r in rows if r["id"] not in created],
        conflict=conflict,
        update=update,
    )
    return len(created)
