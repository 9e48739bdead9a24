"""Human-in-the-loop approvals: list, approve, reject (409 if already decided)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from maestro.api.deps import CurrentWorkspace
from maestro.api.routers.runs import ApprovalOut, OrchestrationDep, approval_out

router = APIRouter(prefix="/api/approvals", tags=["orchestration"])


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    by: str = Field(default="api", min_length=1, max_length=100, description="Who decides.")
    note: str | None = Field(default=None, max_length=2000)


@router.get("")
async def list_approvals(
    workspace: CurrentWorkspace,
    orch: OrchestrationDep,
    status: Literal["pending", "approved", "rejected", "notified", "all"] = Query(
        default="pending"
    ),
) -> list[ApprovalOut]:
    """The approval queue (pending by default); approvals past their timeout are decided first."""
    rows = await orch.list_approvals(workspace.id, status=None if status == "all" else status)
    return [approval_out(a) for a in rows]


@router.get("/{approval_id}")
async def get_approval(
    approval_id: str, workspace: CurrentWorkspace, orch: OrchestrationDep
) -> ApprovalOut:
    return approval_out(await orch.get_approval(workspace.id, approval_id))


@router.post("/{approval_id}/approve", responses={409: {"description": "already decided"}})
async def approve(
    approval_id: str,
    workspace: CurrentWorkspace,
    orch: OrchestrationDep,
    body: DecisionIn | None = None,
) -> ApprovalOut:
    """Approve; the run resumes in the background (poll ``GET /api/runs/{run_id}``)."""
    b = body or DecisionIn()
    a = await orch.decide(
        workspace.id, approval_id, "approve", by=b.by, note=b.note, background=True
    )
    return approval_out(a)


@router.post("/{approval_id}/reject", responses={409: {"description": "already decided"}})
async def reject(
    approval_id: str,
    workspace: CurrentWorkspace,
    orch: OrchestrationDep,
    body: DecisionIn | None = None,
) -> ApprovalOut:
    """Reject; the run ends as ``rejected``."""
    b = body or DecisionIn()
    a = await orch.decide(
        workspace.id, approval_id, "reject", by=b.by, note=b.note, background=True
    )
    return approval_out(a)
