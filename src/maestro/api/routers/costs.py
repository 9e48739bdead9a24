"""Spend: calls, tokens and cost by agent, model, purpose, priority or day."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel

from maestro.api.deps import CurrentWorkspace, EngineDep

router = APIRouter(prefix="/api", tags=["costs"])


class CostRowOut(BaseModel):
    key: str
    calls: int
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float
    cache_hits: int


class CostsOut(BaseModel):
    group_by: str
    rows: list[CostRowOut]
    total_usd: float


class BudgetOut(BaseModel):
    daily_usd: float
    spent_today_usd: float
    remaining_today_usd: float
    outcomes_by_priority: dict[str, dict[str, int]]


@router.get("/costs")
async def costs(
    workspace: CurrentWorkspace,
    engine: EngineDep,
    group_by: Literal["agent", "model", "day", "purpose", "priority"] = "agent",
    since: datetime | None = Query(None, description="ISO 8601, inclusive"),
    until: datetime | None = Query(None, description="ISO 8601, exclusive"),
) -> CostsOut:
    """This workspace's LLM spend, aggregated."""
    rows = await engine.ledger.costs(workspace.id, group_by=group_by, since=since, until=until)
    return CostsOut(
        group_by=group_by,
        rows=[CostRowOut(**r.__dict__) for r in rows],
        total_usd=sum(r.cost_usd for r in rows),
    )


@router.get("/budget")
async def budget(workspace: CurrentWorkspace, engine: EngineDep) -> BudgetOut:
    """Today's budget, spend, and how calls fared per priority (served, deferred, skipped...)."""
    return BudgetOut(
        daily_usd=engine.budget.limit_usd(workspace.id),
        spent_today_usd=await engine.budget.spent_usd(workspace.id),
        remaining_today_usd=await engine.budget.remaining_usd(workspace.id),
        outcomes_by_priority=await engine.ledger.outcomes_by_priority(workspace.id),
    )
