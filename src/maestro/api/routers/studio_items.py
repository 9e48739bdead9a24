"""The content studio's items: list them, approve or reject what the checkpoint held.

A proposal whose examined quality is not above ``studio.auto_approve_quality`` is
held. ``approve`` marks it ``approved`` and a running studio publishes it at once
(announced on the coordinator; else it finds it in the database within
``studio.approval_poll_seconds``); ``reject`` marks it ``rejected``. Only a
held item inside its approval window can be decided: the same decision again
returns the item unchanged (200), anything else is a conflict (409: decided
otherwise by a human or the timeout, window closed, never held). Another
workspace's item is not found (404).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from maestro.api.deps import CurrentWorkspace, EngineDep
from maestro.cycles.beliefs import brand_beliefs
from maestro.cycles.items import Decision, ItemRecord, ItemStore
from maestro.cycles.lease import current_runner
from maestro.cycles.runner import decide_item
from maestro.engine import Maestro
from maestro.learning.policy_store import PolicyStore

router = APIRouter(prefix="/api/studio", tags=["content studio"])

StatusFilter = Literal["held", "approved", "published", "rejected", "failed", "all"]


class ItemDecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    by: str = Field(default="api", min_length=1, max_length=100, description="Who decides.")
    note: str | None = Field(default=None, max_length=2000, description="Why (kept with it).")


class StudioItemOut(BaseModel):
    id: str
    brand: str
    agent_id: str
    strategy: str
    topic: str
    text: str
    quality: float
    drafts: int
    status: str
    rule: str | None = Field(
        description="What decided: the checkpoint's rule, human:approve|reject, "
        "timeout:approve|reject."
    )
    decided_by: str | None
    note: str | None
    created_at: datetime
    decided_at: datetime | None
    expires_at: datetime | None = Field(description="End of the approval window (held items).")
    post_id: str | None
    external_id: str | None
    error: str | None


def item_out(r: ItemRecord) -> StudioItemOut:
    return StudioItemOut.model_validate(r, from_attributes=True)


class StudioRunnerOut(BaseModel):
    host: str
    pid: int
    since: datetime = Field(description="When this process claimed the workspace's studio.")
    lease_until: datetime = Field(description="When its lease lapses unless renewed (every 20 s).")


class StudioStatusOut(BaseModel):
    running: bool = Field(
        description="A 'maestro studio run' of this workspace holds its lease, in any process."
    )
    runner: StudioRunnerOut | None = Field(description="The process that runs it, if one does.")
    items: dict[str, int] = Field(description="Items by status (held, published, ...).")


@router.get("")
async def studio_status(workspace: CurrentWorkspace, engine: EngineDep) -> StudioStatusOut:
    """Whether the workspace's studio runs, and its items by status."""
    counts = await ItemStore(engine.db, engine.clock).counts(workspace.id)
    found = await current_runner(engine.db, engine.clock, workspace.id)
    runner = (
        None
        if found is None
        else StudioRunnerOut(
            host=found.host, pid=found.pid, since=found.claimed_at, lease_until=found.expires_at
        )
    )
    return StudioStatusOut(running=runner is not None, runner=runner, items=counts)


class StrategyBeliefOut(BaseModel):
    strategy: str
    lift: float | None = Field(description="Estimated engagement vs the brand's average strategy.")
    low: float | None = Field(description="90% interval of lift, low end.")
    high: float | None = Field(description="90% interval of lift, high end.")
    recent_share: float = Field(description="Share of the brand's posts of the last 7 days.")


class BrandBeliefsOut(BaseModel):
    brand: str
    policy: str
    posts: int = Field(description="Outcomes the brand's learner has learned from.")
    best: str | None
    strategies: list[StrategyBeliefOut] = Field(description="Best first.")


@router.get("/learned")
async def learned(workspace: CurrentWorkspace, engine: EngineDep) -> list[BrandBeliefsOut]:
    """Per brand, what the studio's learner believes about each strategy (read from the store)."""
    found = await brand_beliefs(
        engine.db,
        engine.clock,
        PolicyStore(engine.db, engine.clock, engine.settings.learning),
        workspace.id,
    )
    return [BrandBeliefsOut.model_validate(b, from_attributes=True) for b in found]


@router.get("/items")
async def list_items(
    workspace: CurrentWorkspace,
    engine: EngineDep,
    status: StatusFilter = Query(default="held"),
    brand: Annotated[str | None, Query(min_length=1, max_length=50)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[StudioItemOut]:
    """The studio's items, newest first (held ones by default)."""
    rows = await ItemStore(engine.db, engine.clock).list_items(
        workspace.id, status=None if status == "all" else status, brand=brand, limit=limit
    )
    return [item_out(r) for r in rows]


@router.get("/items/{item_id}")
async def get_item(item_id: str, workspace: CurrentWorkspace, engine: EngineDep) -> StudioItemOut:
    return item_out(await ItemStore(engine.db, engine.clock).get(workspace.id, item_id))


_DECISION_RESPONSES: dict[int | str, dict[str, str]] = {
    404: {"description": "no such item in this workspace"},
    409: {"description": "decided otherwise, approval window closed, or never held"},
}


@router.post("/items/{item_id}/approve", responses=_DECISION_RESPONSES)
async def approve_item(
    item_id: str,
    workspace: CurrentWorkspace,
    engine: EngineDep,
    body: ItemDecisionIn | None = None,
) -> StudioItemOut:
    """Approve a held item; a running studio publishes it within seconds."""
    return await _decide(engine, workspace.id, item_id, "approve", body)


@router.post("/items/{item_id}/reject", responses=_DECISION_RESPONSES)
async def reject_item(
    item_id: str,
    workspace: CurrentWorkspace,
    engine: EngineDep,
    body: ItemDecisionIn | None = None,
) -> StudioItemOut:
    """Reject a held item; it is never published."""
    return await _decide(engine, workspace.id, item_id, "reject", body)


async def _decide(
    engine: Maestro,
    workspace_id: str,
    item_id: str,
    decision: Decision,
    body: ItemDecisionIn | None,
) -> StudioItemOut:
    b = body or ItemDecisionIn()
    return item_out(
        await decide_item(engine, workspace_id, item_id, decision, by=b.by, note=b.note)
    )
