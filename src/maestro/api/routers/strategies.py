"""``/api/strategies``: the workspace's strategy catalog, and adding your own.

The eight defaults are fixed; a custom strategy joins the catalog with its prompt
fragment and, when the studio next opens, every agent's weights (at 0) and the
learning policies (relearned from the measured posts). The name is the
idempotency key: posting the same strategy again returns it (200), another
strategy under a used name is a conflict (409).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Response, status
from pydantic import BaseModel, ConfigDict, Field

from maestro.agents.strategies import STRATEGY_NAME_PATTERN, Strategy
from maestro.api.deps import CurrentWorkspace
from maestro.api.routers.population import PopulationStoreDep
from maestro.errors import ConflictError

__all__ = ["StrategyIn", "StrategyOut", "router"]

router = APIRouter(prefix="/api/strategies", tags=["population"])


class StrategyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Field(pattern=STRATEGY_NAME_PATTERN.pattern, description="Slug.")]
    title: Annotated[str, Field(min_length=1, max_length=100)]
    prompt_fragment: Annotated[
        str,
        Field(min_length=1, max_length=2000, description="Inserted into generation prompts."),
    ]
    description: Annotated[str, Field(max_length=2000)] = ""


class StrategyOut(BaseModel):
    name: str
    title: str
    prompt_fragment: str
    description: str
    builtin: bool


def _out(s: Strategy) -> StrategyOut:
    return StrategyOut.model_validate(s, from_attributes=True)


@router.get("")
async def list_strategies(
    workspace: CurrentWorkspace, store: PopulationStoreDep
) -> list[StrategyOut]:
    """The defaults, then the workspace's own strategies in the order they were added."""
    return [_out(s) for s in await store.catalog(workspace.id)]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses={200: {"description": "already added, unchanged"}, 409: {"description": "taken"}},
)
async def add_strategy(
    body: StrategyIn, workspace: CurrentWorkspace, store: PopulationStoreDep, response: Response
) -> StrategyOut:
    """Add a strategy to the catalog (201); the same one again is 200, another one 409."""
    wanted = Strategy(
        name=body.name,
        title=body.title,
        prompt_fragment=body.prompt_fragment,
        description=body.description,
    )
    try:
        return _out(await store.add_strategy(workspace.id, wanted))
    except ConflictError:
        catalog = await store.catalog(workspace.id)
        if body.name not in catalog or catalog.get(body.name) != wanted:
            raise
    response.status_code = status.HTTP_200_OK
    return _out(wanted)
