"""Runs: workflow, self-correction and debate runs of the caller's workspace."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from maestro.api.deps import CurrentWorkspace, EngineDep
from maestro.orchestration.records import ApprovalRecord, RunRecord, StepRecord
from maestro.orchestration.service import Orchestration, orchestration_for

router = APIRouter(prefix="/api/runs", tags=["orchestration"])


async def get_orchestration(engine: EngineDep) -> Orchestration:
    return orchestration_for(engine)


OrchestrationDep = Annotated[Orchestration, Depends(get_orchestration)]


class StepOut(BaseModel):
    stage: str
    name: str
    status: str
    attempts: int
    output: dict[str, Any] | None
    quality: float | None
    error: str | None


class ApprovalOut(BaseModel):
    id: str
    run_id: str
    checkpoint: str
    stage: str | None
    action: str
    status: str
    description: str
    data: dict[str, Any]
    requested_at: datetime
    expires_at: datetime
    timeout_outcome: str
    decided_at: datetime | None
    decided_by: str | None
    note: str | None
    notification: str | None


class RunOut(BaseModel):
    id: str
    kind: str
    status: str
    goal: str
    correlation_id: str | None
    result: dict[str, Any] | None
    error: str | None
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None
    steps: list[StepOut] = []
    approvals: list[ApprovalOut] = []


def step_out(s: StepRecord) -> StepOut:
    return StepOut(
        stage=s.stage,
        name=s.name,
        status=s.status,
        attempts=s.attempts,
        output=s.output,
        quality=s.quality,
        error=s.error,
    )


def approval_out(a: ApprovalRecord) -> ApprovalOut:
    return ApprovalOut(
        id=a.id,
        run_id=a.run_id,
        checkpoint=a.checkpoint,
        stage=a.scope or None,
        action=a.action,
        status=a.status,
        description=a.description,
        data=a.data,
        requested_at=a.requested_at,
        expires_at=a.expires_at,
        timeout_outcome=a.timeout_outcome,
        decided_at=a.decided_at,
        decided_by=a.decided_by,
        note=a.note,
        notification=a.notification,
    )


def run_out(
    r: RunRecord,
    steps: list[StepRecord] | None = None,
    approvals: list[ApprovalRecord] | None = None,
) -> RunOut:
    return RunOut(
        id=r.id,
        kind=r.kind,
        status=r.status,
        goal=r.goal,
        correlation_id=r.context.get("correlation_id"),
        result=r.result,
        error=r.error,
        created_at=r.created_at,
        updated_at=r.updated_at,
        finished_at=r.finished_at,
        steps=[step_out(s) for s in steps or []],
        approvals=[approval_out(a) for a in approvals or []],
    )


@router.get("")
async def list_runs(
    workspace: CurrentWorkspace,
    orch: OrchestrationDep,
    status: str | None = Query(default=None, description="Only runs in this status."),
    limit: int = Query(default=50, ge=1, le=500),
) -> list[RunOut]:
    """This workspace's runs, newest first."""
    return [run_out(r) for r in await orch.list_runs(workspace.id, status=status, limit=limit)]


@router.get("/{run_id}")
async def get_run(run_id: str, workspace: CurrentWorkspace, orch: OrchestrationDep) -> RunOut:
    """A run with its steps, approvals and result (debate transcript, self-correction attempts)."""
    view = await orch.get_run(workspace.id, run_id)
    return run_out(view.run, view.steps, view.approvals)


@router.post("/{run_id}/resume")
async def resume_run(
    run_id: str,
    workspace: CurrentWorkspace,
    orch: OrchestrationDep,
    force: bool = Query(default=False, description="Take over a run another worker holds."),
) -> RunOut:
    """Continue a running run from its persisted state (after a crash)."""
    await orch.resume(workspace.id, run_id, force=force)
    view = await orch.get_run(workspace.id, run_id)
    return run_out(view.run, view.steps, view.approvals)
