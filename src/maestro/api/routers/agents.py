"""The expert registry: list, register, find by skill, assemble teams, record performance."""

from __future__ import annotations

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from maestro.api.deps import CurrentWorkspace
from maestro.api.routers.runs import OrchestrationDep
from maestro.orchestration.profiles import ExpertAgentProfile, ExpertiseLevel
from maestro.orchestration.teams import TaskRequirements, Team

router = APIRouter(prefix="/api/agents", tags=["agents"])


@router.get("")
async def list_agents(
    workspace: CurrentWorkspace, orch: OrchestrationDep
) -> list[ExpertAgentProfile]:
    """The experts of this workspace: the seven defaults plus custom ones."""
    return await orch.registry.agents(workspace.id)


@router.post("", status_code=201)
async def register_agent(
    profile: ExpertAgentProfile,
    workspace: CurrentWorkspace,
    orch: OrchestrationDep,
    replace: bool = Query(default=False, description="Replace a custom agent of the same id."),
) -> ExpertAgentProfile:
    """Register a custom expert (409 if the id is taken, unless ``replace``)."""
    await orch.registry.register_agent(workspace.id, profile, replace=replace)
    return profile


@router.get("/search")
async def find_agents(
    workspace: CurrentWorkspace,
    orch: OrchestrationDep,
    skills: list[str] = Query(description="Skill tags; repeat the parameter for several."),
    min_level: ExpertiseLevel = Query(default=ExpertiseLevel.BEGINNER),
    require_all: bool = Query(default=False),
) -> list[ExpertAgentProfile]:
    """Experts with any (or all) of the skills at ``min_level`` or above, best first."""
    return await orch.registry.find_agents_by_skill(
        workspace.id, skills, min_level=min_level, require_all=require_all
    )


@router.post("/team")
async def assemble_team(
    requirements: TaskRequirements, workspace: CurrentWorkspace, orch: OrchestrationDep
) -> Team:
    """A team covering the required skills, then the preferred ones, within size bounds."""
    return await orch.registry.assemble_team(workspace.id, requirements)


class BestAgentOut(BaseModel):
    agent_id: str
    task_type: str
    fallback_used: bool


@router.get("/best")
async def best_agent(
    workspace: CurrentWorkspace,
    orch: OrchestrationDep,
    task_type: str = Query(min_length=1, max_length=50),
    fallback: str = Query(min_length=1, max_length=50),
) -> BestAgentOut:
    """The agent with the best record on ``task_type`` in this workspace, else ``fallback``."""
    agent = await orch.select_best_agent(workspace.id, task_type, fallback_agent=fallback)
    return BestAgentOut(agent_id=agent, task_type=task_type, fallback_used=agent == fallback)


class PerformanceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    task_type: str = Field(min_length=1, max_length=50)
    score: float = Field(ge=0.0, le=1.0)


class PerformanceOut(BaseModel):
    agent_id: str
    task_type: str
    count: int
    mean_score: float


@router.post("/{agent_id}/performance")
async def update_performance(
    agent_id: str, body: PerformanceIn, workspace: CurrentWorkspace, orch: OrchestrationDep
) -> PerformanceOut:
    """Fold a score into the agent's running mean for the task type."""
    stat = await orch.registry.update_performance(
        workspace.id, agent_id, body.task_type, body.score
    )
    return PerformanceOut(
        agent_id=stat.agent_id,
        task_type=stat.task_type,
        count=stat.count,
        mean_score=stat.mean_score,
    )


@router.get("/{agent_id}")
async def get_agent(
    agent_id: str, workspace: CurrentWorkspace, orch: OrchestrationDep
) -> ExpertAgentProfile:
    return await orch.registry.get_agent(workspace.id, agent_id)


@router.delete("/{agent_id}", status_code=204)
async def remove_agent(agent_id: str, workspace: CurrentWorkspace, orch: OrchestrationDep) -> None:
    """Remove a custom expert."""
    await orch.registry.remove_agent(workspace.id, agent_id)
