"""``agent_outputs``: reading a user's fresh snippets, writing a batch of refreshed ones."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, and_, bindparam, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from maestro.recommend._sql import upsert
from maestro.recommend.agents.base import SnippetAgent
from maestro.store.db import Database
from maestro.store.tables.recommend import AgentOutputRow, RecUserRow

__all__ = ["AgentOutput", "OutputStore"]

OUTPUTS: Table = AgentOutputRow.__table__  # type: ignore[assignment]
_C = OUTPUTS.c
_U = RecUserRow.__table__.c
_OUTPUT_COLUMNS = (
    _C.id,
    _C.agent_id,
    _C.agent_version,
    _C.prompt_text,
    _C.signals_snapshot,
    _C.computed_at,
    _C.expires_at,
)
"""What :class:`AgentOutput` is read from, in its field order."""
_USER_AND_FRESH = (
    select(
        _U.id.label("uid"),
        _U.key,
        _U.timezone,
        _U.focus_areas,
        _U.created_at,
        _U.updated_at,
        *_OUTPUT_COLUMNS,
    )
    .select_from(
        RecUserRow.__table__.outerjoin(
            OUTPUTS, and_(_C.user_id == _U.id, _C.expires_at > bindparam("now"))
        )
    )
    .where(_U.id == bindparam("uid"), _U.workspace_id == bindparam("ws"))
)


@dataclass(frozen=True)
class AgentOutput:
    """One stored snippet."""

    id: str
    agent_id: str
    agent_version: str
    prompt_text: str
    signals: dict[str, Any]
    computed_at: datetime
    expires_at: datetime


class OutputStore:
    """Reads and writes ``agent_outputs`` rows."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def fresh(
        self,
        workspace_id: str,
        user_id: str,
        now: datetime,
        agents: Sequence[SnippetAgent],
    ) -> list[AgentOutput]:
        """The user's outputs that are unexpired and from the current version of a known agent.

        Returned in the order of ``agents`` (the prompt order).
        """
        versions = {a.id: a.version for a in agents}
        q = select(*_OUTPUT_COLUMNS).where(
            _C.workspace_id == workspace_id, _C.user_id == user_id, _C.expires_at > now
        )
        async with self._db.read() as s:
            rows = (await s.execute(q)).all()
        found = {
            r.agent_id: AgentOutput(
                id=r.id,
                agent_id=r.agent_id,
                agent_version=r.agent_version,
                prompt_text=r.prompt_text,
                signals=r.signals_snapshot or {},
                computed_at=r.computed_at,
                expires_at=r.expires_at,
            )
            for r in rows
            if versions.get(r.agent_id) == r.agent_version
        }
        return [found[a.id] for a in agents if a.id in found]

    async def user_and_fresh(
        self, workspace_id: str, user_id: str, now: datetime, agents: Sequence[SnippetAgent]
    ) -> tuple[dict[str, Any], list[AgentOutput]] | None:
        """The user row and its fresh outputs in one query (the ``/recommend`` hot path).

        None when the user does not exist in the workspace. The statement is built
        once (so SQLAlchemy's compiled cache is hit without recomputing its key) and
        runs on a plain connection: no ORM session is needed for a read of columns.
        """
        params = {"uid": user_id, "ws": workspace_id, "now": now}
        async with self._db.engine.connect() as conn:
            rows = (await conn.execute(_USER_AND_FRESH, params)).all()
        if not rows:
            return None
        versions = {a.id: a.version for a in agents}
        found = {
            r.agent_id: AgentOutput(
                id=r.id,
                agent_id=r.agent_id,
                agent_version=r.agent_version,
                prompt_text=r.prompt_text,
                signals=r.signals_snapshot or {},
                computed_at=r.computed_at,
                expires_at=r.expires_at,
            )
            for r in rows
            if r.id is not None and versions.get(r.agent_id) == r.agent_version
        }
        first = rows[0]._mapping
        user = {
            k: first[k]
            for k in ("uid", "key", "timezone", "focus_areas", "created_at", "updated_at")
        }
        return user, [found[a.id] for a in agents if a.id in found]

    async def all_for(self, workspace_id: str, user_id: str) -> list[AgentOutput]:
        """Every stored output of the user, expired or not (for inspection)."""
        q = select(OUTPUTS).where(_C.workspace_id == workspace_id, _C.user_id == user_id)
        async with self._db.read() as s:
            rows = (await s.execute(q)).all()
        return [
            AgentOutput(
                id=r.id,
                agent_id=r.agent_id,
                agent_version=r.agent_version,
                prompt_text=r.prompt_text,
                signals=r.signals_snapshot or {},
                computed_at=r.computed_at,
                expires_at=r.expires_at,
            )
            for r in rows
        ]


async def existing_in(
    s: AsyncSession, user_filter: Any
) -> dict[tuple[str, str], tuple[datetime, str]]:
    """``(user_id, agent_id) -> (expires_at, agent_version)`` of the users ``user_filter`` picks."""
    q = select(_C.user_id, _C.agent_id, _C.expires_at, _C.agent_version).where(user_filter)
    return {(r[0], r[1]): (r[2], r[3]) for r in (await s.execute(q)).all()}


async def write_outputs(
    s: AsyncSession, rows: Sequence[dict[str, Any]], *, stale_before: datetime
) -> None:
    """Upsert refreshed outputs; a row another writer already refreshed is left alone.

    The ``WHERE`` makes a late or duplicated batch harmless: it can only replace a
    row that is still stale (expiring before ``stale_before``) or of another version.
    """
    await upsert(
        s,
        OUTPUTS,
        rows,
        conflict=["id"],
        update=["prompt_text", "signals_snapshot", "computed_at", "expires_at", "agent_version"],
        where=lambda excluded: or_(
            _C.expires_at <= stale_before, _C.agent_version != excluded.agent_version
        ),
    )
