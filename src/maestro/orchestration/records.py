"""The values a run store keeps: runs, their steps, and approvals."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

__all__ = [
    "TERMINAL",
    "ApprovalRecord",
    "ApprovalStatus",
    "RunKind",
    "RunRecord",
    "RunStatus",
    "StepRecord",
    "StepStatus",
]

RunKind = Literal["workflow", "self_correct", "debate"]
RunStatus = Literal["running", "waiting_approval", "completed", "failed", "rejected"]
StepStatus = Literal["pending", "completed", "failed"]
ApprovalStatus = Literal["pending", "approved", "rejected", "notified"]
TERMINAL: frozenset[str] = frozenset({"completed", "failed", "rejected"})


@dataclass(slots=True)
class RunRecord:
    id: str
    workspace_id: str
    kind: RunKind
    status: RunStatus
    goal: str
    spec: dict[str, Any]
    context: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    result: dict[str, Any] | None = None
    error: str | None = None
    lease_owner: str | None = None
    lease_expires_at: datetime | None = None
    finished_at: datetime | None = None


@dataclass(slots=True)
class StepRecord:
    run_id: str
    stage: str
    name: str
    position: int
    status: StepStatus = "pending"
    attempts: int = 0
    output: dict[str, Any] | None = None
    quality: float | None = None
    error: str | None = None


@dataclass(slots=True)
class ApprovalRecord:
    id: str
    workspace_id: str
    run_id: str
    checkpoint: str
    scope: str
    action: str
    status: ApprovalStatus
    description: str
    requested_at: datetime
    expires_at: datetime
    timeout_outcome: str
    data: dict[str, Any] = field(default_factory=dict)
    decided_at: datetime | None = None
    decided_by: str | None = None
    note: str | None = None
    notification: str | None = None
