"""Which process runs a workspace's studio: a lease row in the database.

The database is the one thing every process of a deployment shares (the embedded
SQLite file as much as PostgreSQL, with or without Redis), so a lease kept there
stops a second ``maestro studio run`` of a workspace on every profile, and any
process (``GET /api/studio`` behind ``maestro serve``) can see who runs it. A
crashed runner's lease lapses after its time to live; a runner renews well before.
"""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from maestro.clock import Clock
from maestro.store.db import Database
from maestro.store.tables.cycles import StudioRunnerRow

__all__ = ["Runner", "StudioLease", "current_runner"]


@dataclass(frozen=True, slots=True)
class Runner:
    """Who holds a workspace's studio lease, and until when."""

    holder: str
    """``host:pid:nonce`` of the process."""
    claimed_at: datetime
    expires_at: datetime

    @property
    def host(self) -> str:
        return self.holder.rsplit(":", 2)[0]

    @property
    def pid(self) -> int:
        return int(self.holder.rsplit(":", 2)[1])


def _holder() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class StudioLease:
    """One process's claim on one workspace's studio."""

    def __init__(self, db: Database, clock: Clock, workspace_id: str) -> None:
        self._db = db
        self._clock = clock
        self.workspace_id = workspace_id
        self.holder = _holder()

    async def acquire(self, ttl: float) -> bool:
        """Take the lease for ``ttl`` seconds if nobody holds it (or their lease lapsed)."""
        now = self._clock.now()
        try:
            async with self._db.write() as session:
                await session.execute(
                    delete(StudioRunnerRow).where(
                        StudioRunnerRow.workspace_id == self.workspace_id,
                        StudioRunnerRow.expires_at <= now,
                    )
                )
                session.add(
                    StudioRunnerRow(
                        workspace_id=self.workspace_id,
                        holder=self.holder,
                        claimed_at=now,
                        expires_at=now + timedelta(seconds=ttl),
                    )
                )
                await session.flush()
        except IntegrityError:  # a live lease, or another process took it just now
            return False
        return True

    async def extend(self, ttl: float) -> bool:
        """Renew for ``ttl`` seconds from now; False if the lease is no longer ours."""
        now = self._clock.now()
        async with self._db.write() as session:
            result = await session.execute(
                update(StudioRunnerRow)
                .where(
                    StudioRunnerRow.workspace_id == self.workspace_id,
                    StudioRunnerRow.holder == self.holder,
                )
                .values(expires_at=now + timedelta(seconds=ttl))
            )
        return bool(getattr(result, "rowcount", 0))

    async def release(self) -> bool:
        """Give the lease up (only ours: a successor's stays)."""
        async with self._db.write() as session:
            result = await session.execute(
                delete(StudioRunnerRow).where(
                    StudioRunnerRow.workspace_id == self.workspace_id,
                    StudioRunnerRow.holder == self.holder,
                )
            )
        return bool(getattr(result, "rowcount", 0))


async def current_runner(db: Database, clock: Clock, workspace_id: str) -> Runner | None:
    """The live holder of ``workspace_id``'s studio lease, if any."""
    async with db.read() as session:
        row = await session.scalar(
            select(StudioRunnerRow).where(
                StudioRunnerRow.workspace_id == workspace_id,
                StudioRunnerRow.expires_at > clock.now(),
            )
        )
        return None if row is None else Runner(row.holder, row.claimed_at, row.expires_at)
