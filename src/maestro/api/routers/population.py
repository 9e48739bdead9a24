"""``GET /api/population``: the workspace's content agents and how diverse they are.

Read-only: the population changes through the content cycle (adaptation, weekly
evolution), never through the API. The dashboard draws its population panel from
this endpoint; operators use it to see which strategies the agents favour and
whether diversity holds the seed's target (0.6).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field

from maestro.agents.content import ContentAgent
from maestro.agents.diversity import population_diversity, primary_counts
from maestro.agents.population_store import DiversityPoint, PopulationStore
from maestro.api.deps import CurrentWorkspace, EngineDep

__all__ = ["AgentOut", "DiversityPointOut", "PopulationOut", "router"]

router = APIRouter(prefix="/api", tags=["population"])


async def get_population_store(engine: EngineDep) -> PopulationStore:
    """The store the studio itself uses (stateless: one per request costs nothing)."""
    return PopulationStore(engine.db, engine.clock)


PopulationStoreDep = Annotated[PopulationStore, Depends(get_population_store)]


class AgentOut(BaseModel):
    """One active content agent: its DNA and its life record."""

    id: str
    name: str
    primary_strategy: str = Field(description="The strategy with the highest weight.")
    top_strategies: list[str] = Field(description="The two highest-weighted strategies.")
    strategy_weights: dict[str, float] = Field(description="Share of proposals per strategy.")
    temperature: float
    personality: str
    protected_strategy: str = Field(description="Kept by this agent; no other agent's primary.")
    performance: float = Field(description="Exponentially weighted reward in [0, 1].")
    exploration_bonus: float = Field(description="Survival points from exploring.")
    survival_score: float = Field(description="What weekly selection ranks by.")
    uses: dict[str, int] = Field(description="Proposals made per strategy.")
    generation: int = Field(description="0 for founders; children are one more.")
    parents: list[str] = Field(description="Gene pool entries the DNA was crossed from.")
    born_at: datetime


class DiversityPointOut(BaseModel):
    """Diversity recorded at one event (founding, adaptation, evolution)."""

    recorded_at: datetime
    event: str
    diversity: float
    agents: int
    primaries: dict[str, int]


class PopulationOut(BaseModel):
    """The population now and its diversity over time."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    agents: list[AgentOut]
    """Active agents, oldest first."""
    diversity: float
    """``1 - (agents sharing the most common primary) / agents``; 0 with no agents."""
    target_diversity: float
    """The configured target (seed 000: 0.6)."""
    meets_target: bool
    """False for an empty population."""
    primaries: dict[str, int]
    """Active agents per primary strategy."""
    history: list[DiversityPointOut]
    """Recorded diversity points, oldest first."""
    gene_pool_size: int
    """Retired agents whose DNA is kept for crossover."""


def agent_out(agent: ContentAgent) -> AgentOut:
    return AgentOut(
        id=agent.id,
        name=agent.name,
        primary_strategy=agent.primary,
        top_strategies=list(agent.top(2)),
        strategy_weights=dict(agent.weights),
        temperature=agent.dna.temperature,
        personality=agent.dna.personality,
        protected_strategy=agent.protected_strategy,
        performance=agent.performance,
        exploration_bonus=agent.exploration_bonus,
        survival_score=agent.survival_score,
        uses=dict(agent.uses),
        generation=agent.generation,
        parents=list(agent.parents),
        born_at=agent.born_at,
    )


def point_out(point: DiversityPoint) -> DiversityPointOut:
    return DiversityPointOut(
        recorded_at=point.recorded_at,
        event=point.event,
        diversity=point.diversity,
        agents=point.agents,
        primaries=dict(point.primaries),
    )


@router.get("/population")
async def population(
    workspace: CurrentWorkspace,
    engine: EngineDep,
    store: PopulationStoreDep,
    since: datetime | None = Query(None, description="History from this time (ISO 8601)."),
    history_limit: int = Query(200, ge=1, le=1000, description="Most recent history points."),
) -> PopulationOut:
    """Active agents, current diversity against its target, diversity history, gene pool size.

    A workspace whose studio never ran has no population: every list is empty.
    """
    agents = await store.list_agents(workspace.id)
    history = await store.diversity_history(workspace.id, since=since, limit=history_limit)
    gene_pool = await store.gene_pool(workspace.id)
    diversity = population_diversity(agents)
    target = engine.settings.population.target_diversity
    return PopulationOut(
        agents=[agent_out(a) for a in agents],
        diversity=diversity,
        target_diversity=target,
        meets_target=bool(agents) and diversity >= target,
        primaries=primary_counts(agents),
        history=[point_out(p) for p in history],
        gene_pool_size=len(gene_pool),
    )
