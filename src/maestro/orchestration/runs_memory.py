"""The in-memory run store: runs, steps and approvals in process memory.

:class:`MemoryRunStore` behaves like the SQL backend of
:class:`~maestro.orchestration.runs.RunStore` (the same compare-and-set rules for
claims and decisions) but keeps nothing across restarts: for runs that need no
durability and to measure the engine's own overhead. It stands alone because it
is a real backend, not a test double, and needs none of the SQL machinery.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import datetime
from typing import Any

from maestro.errors import ConflictError, NotFoundError
from maestro.orchestration.records import (
    ApprovalRecord,
    ApprovalStatus,
    RunRecord,
    RunStatus,
    StepRecord,
    StepStatus,
)

__all__ = ["MemoryRunStore"]


class MemoryRunStore:
    """Runs in process memory: no durability, no I/O (library use, benchmarks)."""

    durable = False

    @asynccontextmanager
    async def pinned(self) -> AsyncIterator[None]:
        yield

    def __init__(self) -> None:
        self._runs: dict[str, RunRecord] = {}
        self._steps: dict[str, dict[str, StepRecord]] = {}
        self._approvals: dict[str, ApprovalRecord] = {}

    def _get(self, workspace_id: str, run_id: str) -> RunRecord:
        run = self._runs.get(run_id)
        if run is None or run.workspace_id != workspace_id:
            raise NotFoundError(f"no run {run_id!r} in this workspace", field="run_id")
        return run

    async def create_run(self, run: RunRecord, steps: Sequence[StepRecord]) -> None:
        self._runs[run.id] = replace(run)
        self._steps[run.id] = {s.name: replace(s) for s in steps}

    async def get_run(self, workspace_id: str, run_id: str) -> RunRecord:
        return replace(self._get(workspace_id, run_id))

    async def list_runs(
        self, workspace_id: str, *, status: str | None = None, limit: int = 50
    ) -> list[RunRecord]:
        runs = [
            replace(r)
            for r in self._runs.values()
            if r.workspace_id == workspace_id and (status is None or r.status == status)
        ]
        runs.sort(key=lambda r: (r.created_at, r.id), reverse=True)
        return runs[:limit]

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
        run = self._get(workspace_id, run_id)
        free = (
            run.lease_owner in (None, owner)
            or (run.lease_expires_at is not None and run.lease_expires_at < now)
            or force
        )
        if run.status != "running" or not free:
            return False
        run.lease_owner, run.lease_expires_at, run.updated_at = owner, until, now
        return True

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
        run = self._get(workspace_id, run_id)
        if expected is not None and run.status not in expected:
            return False
        run.status, run.updated_at = status, now
        if result is not None:
            run.result = result
        if error is not None:
            run.error = error
        if status in ("completed", "failed", "rejected"):
            run.finished_at = now
        if release:
            run.lease_owner = run.lease_expires_at = None
        return True

    async def steps(self, workspace_id: str, run_id: str) -> list[StepRecord]:
        self._get(workspace_id, run_id)
        return sorted((replace(s) for s in self._steps[run_id].values()), key=lambda s: s.position)

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
        self._get(workspace_id, run_id)
        step = self._steps[run_id][name]
        if step.status == "completed":
            return
        step.status, step.attempts, step.output = status, attempts, output
        step.quality, step.error = quality, error

    async def add_approval(self, approval: ApprovalRecord) -> ApprovalRecord:
        for a in self._approvals.values():
            if (a.run_id, a.checkpoint, a.scope) == (
                approval.run_id,
                approval.checkpoint,
                approval.scope,
            ):
                return replace(a)
        self._approvals[approval.id] = replace(approval)
        return approval

    async def get_approval(self, workspace_id: str, approval_id: str) -> ApprovalRecord:
        a = self._approvals.get(approval_id)
        if a is None or a.workspace_id != workspace_id:
            raise NotFoundError(
                f"no approval {approval_id!r} in this workspace", field="approval_id"
            )
        return replace(a)

    async def approvals(
        self,
        workspace_id: str | None,
        *,
        status: ApprovalStatus | None = None,
        run_id: str | None = None,
        expired_before: datetime | None = None,
    ) -> list[ApprovalRecord]:
        out = [
            replace(a)
            for a in self._approvals.values()
            if (workspace_id is None or a.workspace_id == workspace_id)
            and (status is None or a.status == status)
            and (run_id is None or a.run_id == run_id)
            and (expired_before is None or a.expires_at <= expired_before)
        ]
        return sorted(out, key=lambda a: (a.requested_at, a.id))

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
        await self.get_approval(workspace_id, approval_id)
        a = self._approvals[approval_id]
        if a.status != "pending":
            raise ConflictError(
                f"approval {approval_id!r} was already decided: {a.status} by {a.decided_by}",
                field="approval_id",
            )
        a.status, a.decided_by, a.note, a.decided_at = status, by, note, now
        return replace(a)

    async def set_notification(self, workspace_id: str, approval_id: str, text: str) -> None:
        await self.get_approval(workspace_id, approval_id)
        self._approvals[approval_id].notification = text

    async def stale_runs(self, *, now: datetime, limit: int = 100) -> list[RunRecord]:
        return [
            replace(r)
            for r in self._runs.values()
            if r.status == "running"
            and (r.lease_owner is None or (r.lease_expires_at or now) < now)
        ][:limit]
