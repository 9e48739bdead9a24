"""The SQL run store: runs, steps and approvals in PostgreSQL or SQLite.

:class:`SqlRunStore` is the durable backend of :class:`~maestro.orchestration.runs.RunStore`.
A step's completion is one ``UPDATE``; claiming a run and deciding an approval
are compare-and-set updates (``... WHERE status = 'pending'``), so two workers or
two deciders can never both win. The row-to-record mappers live beside it
because nothing else reads these rows. It stands alone because it is the only
part of the run stores that knows SQLAlchemy, the tables and connection pinning.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Executable, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from maestro.errors import ConflictError, NotFoundError
from maestro.orchestration.records import (
    ApprovalRecord,
    ApprovalStatus,
    RunRecord,
    RunStatus,
    StepRecord,
    StepStatus,
)
from maestro.store.base import new_id
from maestro.store.db import Database
from maestro.store.tables.orchestration import ApprovalRow, RunRow, RunStepRow

__all__ = ["SqlRunStore"]


def _run(r: RunRow) -> RunRecord:
    return RunRecord(
        id=r.id,
        workspace_id=r.workspace_id,
        kind=r.kind,  # type: ignore[arg-type]
        status=r.status,  # type: ignore[arg-type]
        goal=r.goal,
        spec=r.spec,
        context=r.context,
        created_at=r.created_at,
        updated_at=r.updated_at,
        result=r.result,
        error=r.error,
        lease_owner=r.lease_owner,
        lease_expires_at=r.lease_expires_at,
        finished_at=r.finished_at,
    )


def _step(r: RunStepRow) -> StepRecord:
    return StepRecord(
        run_id=r.run_id,
        stage=r.stage,
        name=r.name,
        position=r.position,
        status=r.status,  # type: ignore[arg-type]
        attempts=r.attempts,
        output=r.output,
        quality=r.quality,
        error=r.error,
    )


def _approval(r: ApprovalRow) -> ApprovalRecord:
    return ApprovalRecord(
        id=r.id,
        workspace_id=r.workspace_id,
        run_id=r.run_id,
        checkpoint=r.checkpoint,
        scope=r.scope,
        action=r.action,
        status=r.status,  # type: ignore[arg-type]
        description=r.description,
        requested_at=r.requested_at,
        expires_at=r.expires_at,
        timeout_outcome=r.timeout_outcome,
        data=r.data,
        decided_at=r.decided_at,
        decided_by=r.decided_by,
        note=r.note,
        notification=r.notification,
    )


@dataclass(slots=True)
class _Pin:
    store: SqlRunStore
    conn: AsyncConnection
    lock: asyncio.Lock


_pin: ContextVar[_Pin | None] = ContextVar("maestro_run_connection", default=None)
_RUN_COLUMNS = (
    "id",
    "workspace_id",
    "kind",
    "status",
    "goal",
    "spec",
    "context",
    "result",
    "error",
    "lease_owner",
    "lease_expires_at",
    "created_at",
    "updated_at",
    "finished_at",
)


class SqlRunStore:
    """Runs in the database: survives crashes and restarts, shared by replicas.

    While a run executes, its hot-path writes (claim, step results, status) go
    through one connection checked out for the run (:meth:`pinned`), each still
    its own committed transaction: the same durability, without a pool
    checkout and session per step. Concurrent stages of the run share it under
    a lock. Other writers are unaffected (SQLite waits on its busy timeout).
    """

    durable = True

    def __init__(self, db: Database) -> None:
        self._db = db

    @asynccontextmanager
    async def pinned(self) -> AsyncIterator[None]:
        current = _pin.get()
        if current is not None and current.store is self:
            yield
            return
        async with self._db.engine.connect() as conn:
            if self._db.is_sqlite:
                conn = await conn.execution_options(sqlite_immediate=True)
            token = _pin.set(_Pin(self, conn, asyncio.Lock()))
            try:
                yield
            finally:
                _pin.reset(token)

    async def _write(self, stmt: Executable) -> int:
        """Run one statement in its own committed transaction; returns the rowcount."""
        pin = _pin.get()
        if pin is None or pin.store is not self:
            async with self._db.write() as session:
                result = await session.execute(stmt)
            return int(getattr(result, "rowcount", 0) or 0)
        async with pin.lock:
            try:
                result = await pin.conn.execute(stmt)
                await pin.conn.commit()
            except BaseException:
                await pin.conn.rollback()
                raise
        return int(getattr(result, "rowcount", 0) or 0)

    async def create_run(self, run: RunRecord, steps: Sequence[StepRecord]) -> None:
        pin = _pin.get()
        if pin is not None and pin.store is self:
            await self._insert_pinned(pin, run, steps)
            return
        try:
            async with self._db.write() as session:
                session.add(
                    RunRow(
                        id=run.id,
                        workspace_id=run.workspace_id,
                        kind=run.kind,
                        status=run.status,
                        goal=run.goal,
                        spec=run.spec,
                        context=run.context,
                        result=run.result,
                        error=run.error,
                        lease_owner=run.lease_owner,
                        lease_expires_at=run.lease_expires_at,
                        created_at=run.created_at,
                        updated_at=run.updated_at,
                        finished_at=run.finished_at,
                    )
                )
                session.add_all(
                    RunStepRow(
                        workspace_id=run.workspace_id,
                        run_id=run.id,
                        stage=s.stage,
                        name=s.name,
                        position=s.position,
                        status=s.status,
                        attempts=s.attempts,
                        output=s.output,
                        quality=s.quality,
                        error=s.error,
                        updated_at=run.created_at,
                    )
                    for s in steps
                )
        except IntegrityError:
            raise NotFoundError(
                f"workspace {run.workspace_id!r} does not exist", field="workspace_id"
            ) from None

    async def _insert_pinned(self, pin: _Pin, run: RunRecord, steps: Sequence[StepRecord]) -> None:
        """The run and its steps in one transaction on the run's connection."""
        run_values = {c: getattr(run, c) for c in _RUN_COLUMNS}
        step_values = [
            {
                "id": new_id(),
                "workspace_id": run.workspace_id,
                "run_id": run.id,
                "stage": s.stage,
                "name": s.name,
                "position": s.position,
                "status": s.status,
                "attempts": s.attempts,
                "output": s.output,
                "quality": s.quality,
                "error": s.error,
                "updated_at": run.created_at,
            }
            for s in steps
        ]
        async with pin.lock:
            try:
                await pin.conn.execute(insert(RunRow).values(**run_values))
                if step_values:
                    await pin.conn.execute(insert(RunStepRow), step_values)
                await pin.conn.commit()
            except IntegrityError:
                await pin.conn.rollback()
                raise NotFoundError(
                    f"workspace {run.workspace_id!r} does not exist", field="workspace_id"
                ) from None
            except BaseException:
                await pin.conn.rollback()
                raise

    async def get_run(self, workspace_id: str, run_id: str) -> RunRecord:
        async with self._db.read() as session:
            row = (
                await session.scalars(
                    select(RunRow).where(RunRow.id == run_id, RunRow.workspace_id == workspace_id)
                )
            ).first()
        if row is None:
            raise NotFoundError(f"no run {run_id!r} in this workspace", field="run_id")
        return _run(row)

    async def list_runs(
        self, workspace_id: str, *, status: str | None = None, limit: int = 50
    ) -> list[RunRecord]:
        stmt = select(RunRow).where(RunRow.workspace_id == workspace_id)
        if status is not None:
            stmt = stmt.where(RunRow.status == status)
        stmt = stmt.order_by(RunRow.created_at.desc(), RunRow.id).limit(limit)
        async with self._db.read() as session:
            return [_run(r) for r in await session.scalars(stmt)]

    async def claim(
        self,
        workspace_id: str,
        run_id: str,
        owner: str,
        *,
        now: datetime,
        until: datetime,
        force: bool = False,
    ) -> bool:
        stmt = update(RunRow).where(
            RunRow.id == run_id, RunRow.workspace_id == workspace_id, RunRow.status == "running"
        )
        if not force:
            stmt = stmt.where(
                or_(
                    RunRow.lease_owner.is_(None),
                    RunRow.lease_owner == owner,
                    RunRow.lease_expires_at < now,
                )
            )
        return bool(
            await self._write(
                stmt.values(lease_owner=owner, lease_expires_at=until, updated_at=now)
            )
        )

    async def set_status(
        self,
        workspace_id: str,
        run_id: str,
        status: RunStatus,
        *,
        expected: Sequence[RunStatus] | None = None,
        now: datetime,
        result: dict[str, Any] | None = None,
        error: str | None = None,
        release: bool = False,
    ) -> bool:
        values: dict[str, Any] = {"status": status, "updated_at": now}
        if result is not None:
            values["result"] = result
        if error is not None:
            values["error"] = error
        if status in ("completed", "failed", "rejected"):
            values["finished_at"] = now
        if release:
            values.update(lease_owner=None, lease_expires_at=None)
        stmt = update(RunRow).where(RunRow.id == run_id, RunRow.workspace_id == workspace_id)
        if expected is not None:
            stmt = stmt.where(RunRow.status.in_(list(expected)))
        return bool(await self._write(stmt.values(**values)))

    async def steps(self, workspace_id: str, run_id: str) -> list[StepRecord]:
        async with self._db.read() as session:
            rows = await session.scalars(
                select(RunStepRow)
                .where(RunStepRow.run_id == run_id, RunStepRow.workspace_id == workspace_id)
                .order_by(RunStepRow.position)
            )
            return [_step(r) for r in rows]

    async def save_step(
        self,
        workspace_id: str,
        run_id: str,
        name: str,
        *,
        status: StepStatus,
        attempts: int,
        now: datetime,
        output: dict[str, Any] | None = None,
        quality: float | None = None,
        error: str | None = None,
    ) -> None:
        stmt = (
            update(RunStepRow)
            .where(
                RunStepRow.run_id == run_id,
                RunStepRow.workspace_id == workspace_id,
                RunStepRow.name == name,
                RunStepRow.status != "completed",
            )
            .values(
                status=status,
                attempts=attempts,
                output=output,
                quality=quality,
                error=error,
                updated_at=now,
            )
        )
        await self._write(stmt)

    async def add_approval(self, approval: ApprovalRecord) -> ApprovalRecord:
        existing = await self._approval_at(approval)
        if existing is not None:
            return existing
        try:
            async with self._db.write() as session:
                session.add(
                    ApprovalRow(
                        id=approval.id,
                        workspace_id=approval.workspace_id,
                        run_id=approval.run_id,
                        checkpoint=approval.checkpoint,
                        scope=approval.scope,
                        action=approval.action,
                        status=approval.status,
                        description=approval.description,
                        data=approval.data,
                        timeout_outcome=approval.timeout_outcome,
                        requested_at=approval.requested_at,
                        expires_at=approval.expires_at,
                        decided_at=approval.decided_at,
                        decided_by=approval.decided_by,
                        note=approval.note,
                        notification=approval.notification,
                    )
                )
        except IntegrityError:
            # Another worker recorded this checkpoint first: theirs stands.
            found = await self._approval_at(approval)
            if found is None:
                raise
            return found
        return approval

    async def _approval_at(self, a: ApprovalRecord) -> ApprovalRecord | None:
        async with self._db.read() as session:
            row = (
                await session.scalars(
                    select(ApprovalRow).where(
                        ApprovalRow.run_id == a.run_id,
                        ApprovalRow.checkpoint == a.checkpoint,
                        ApprovalRow.scope == a.scope,
                    )
                )
            ).first()
        return None if row is None else _approval(row)

    async def get_approval(self, workspace_id: str, approval_id: str) -> ApprovalRecord:
        async with self._db.read() as session:
            row = (
                await session.scalars(
                    select(ApprovalRow).where(
                        ApprovalRow.id == approval_id, ApprovalRow.workspace_id == workspace_id
                    )
                )
            ).first()
        if row is None:
            raise NotFoundError(
                f"no approval {approval_id!r} in this workspace", field="approval_id"
            )
        return _approval(row)

    async def approvals(
        self,
        workspace_id: str | None,
        *,
        status: ApprovalStatus | None = None,
        run_id: str | None = None,
        expired_before: datetime | None = None,
    ) -> list[ApprovalRecord]:
        stmt = select(ApprovalRow)
        if workspace_id is not None:
            stmt = stmt.where(ApprovalRow.workspace_id == workspace_id)
        if status is not None:
            stmt = stmt.where(ApprovalRow.status == status)
        if run_id is not None:
            stmt = stmt.where(ApprovalRow.run_id == run_id)
        if expired_before is not None:
            stmt = stmt.where(ApprovalRow.expires_at <= expired_before)
        stmt = stmt.order_by(ApprovalRow.requested_at, ApprovalRow.id)
        async with self._db.read() as session:
            return [_approval(r) for r in await session.scalars(stmt)]

    async def decide(
        self,
        workspace_id: str,
        approval_id: str,
        status: ApprovalStatus,
        *,
        by: str,
        note: str | None,
        now: datetime,
    ) -> ApprovalRecord:
        current = await self.get_approval(workspace_id, approval_id)
        stmt = (
            update(ApprovalRow)
            .where(
                ApprovalRow.id == approval_id,
                ApprovalRow.workspace_id == workspace_id,
                ApprovalRow.status == "pending",
            )
            .values(status=status, decided_by=by, note=note, decided_at=now)
        )
        async with self._db.write() as session:
            result = await session.execute(stmt)
        if not getattr(result, "rowcount", 0):
            latest = await self.get_approval(workspace_id, approval_id)
            raise ConflictError(
                f"approval {approval_id!r} was already decided: {latest.status}"
                f" by {latest.decided_by}",
                field="approval_id",
            )
        return replace(current, status=status, decided_by=by, note=note, decided_at=now)

    async def set_notification(self, workspace_id: str, approval_id: str, text: str) -> None:
        async with self._db.write() as session:
            await session.execute(
                update(ApprovalRow)
                .where(ApprovalRow.id == approval_id, ApprovalRow.workspace_id == workspace_id)
                .values(notification=text)
            )

    async def stale_runs(self, *, now: datetime, limit: int = 100) -> list[RunRecord]:
        stmt = (
            select(RunRow)
            .where(
                RunRow.status == "running",
                or_(RunRow.lease_owner.is_(None), RunRow.lease_expires_at < now),
            )
            .order_by(RunRow.updated_at)
            .limit(limit)
        )
        async with self._db.read() as session:
            return [_run(r) for r in await session.scalars(stmt)]
