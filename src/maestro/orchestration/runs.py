"""Run stores: where runs, steps and approvals live, behind one protocol.

- :class:`SqlRunStore` (PostgreSQL or SQLite, :mod:`~maestro.orchestration.runs_sql`):
  durable. A step's completion is one ``UPDATE``; claiming a run and deciding an
  approval are compare-and-set updates (``... WHERE status = 'pending'``), so two
  workers or two deciders can never both win.
- :class:`MemoryRunStore` (:mod:`~maestro.orchestration.runs_memory`): the same
  behaviour in process memory, for runs that need no durability (and to measure
  the engine's own overhead).

This module holds the :class:`RunStore` protocol and re-exports both backends.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Any, Protocol

from maestro.orchestration.records import (
    ApprovalRecord,
    ApprovalStatus,
    RunRecord,
    RunStatus,
    StepRecord,
    StepStatus,
)
from maestro.orchestration.runs_memory import MemoryRunStore
from maestro.orchestration.runs_sql import SqlRunStore

__all__ = ["MemoryRunStore", "RunStore", "SqlRunStore"]


class RunStore(Protocol):
    """Persistence of runs; every method is scoped to a workspace."""

    durable: bool

    def pinned(self) -> AbstractAsyncContextManager[None]:
        """Within this block, this task's writes may reuse one connection (a run's execution)."""
        ...

    async def create_run(self, run: RunRecord, steps: Sequence[StepRecord]) -> None: ...
    async def get_run(self, workspace_id: str, run_id: str) -> RunRecord: ...
    async def list_runs(
        self, workspace_id: str, *, status: str | None = None, limit: int = 50
    ) -> list[RunRecord]: ...
    async def claim(
        self,
        workspace_id: str,
        run_id: str,
        owner: str,
        *,
        now: datetime,
        until: datetime,
        force: bool = False,
    ) -> bool: ...
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
    ) -> bool: ...
    async def steps(self, workspace_id: str, run_id: str) -> list[StepRecord]: ...
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
    ) -> None: ...
    async def add_approval(self, approval: ApprovalRecord) -> ApprovalRecord: ...
    async def get_approval(self, workspace_id: str, approval_id: str) -> ApprovalRecord: ...
    async def approvals(
        self,
        workspace_id: str | None,
        *,
        status: ApprovalStatus | None = None,
        run_id: str | None = None,
        expired_before: datetime | None = None,
    ) -> list[ApprovalRecord]: ...
    async def decide(
        self,
        workspace_id: str,
        approval_id: str,
        status: ApprovalStatus,
        *,
        by: str,
        note: str | None,
        now: datetime,
    ) -> ApprovalRecord: ...
    async def set_notification(self, workspace_id: str, approval_id: str, text: str) -> None: ...
    async def stale_runs(self, *, now: datetime, limit: int = 100) -> list[RunRecord]: ...
