"""Orchestration: route and run a goal, self-correcting execution, debates, explicit workflows."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from maestro.api.deps import CurrentWorkspace
from maestro.api.routers.runs import OrchestrationDep, RunOut, run_out
from maestro.orchestration.context import AgentContext
from maestro.orchestration.settings import ConsensusStrategy, SelfCorrectionConfig
from maestro.orchestration.spec import CheckpointSpec, WorkflowSpec
from maestro.orchestration.teams import TaskRequirements

router = APIRouter(prefix="/api", tags=["orchestration"])


class ContextIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    brand_voice: dict[str, str] = Field(default_factory=dict)
    target_icps: list[str] = Field(default_factory=list)
    preferences: dict[str, Any] = Field(default_factory=dict)
    quality_thresholds: dict[str, float] = Field(default_factory=dict)
    budget_constraints: dict[str, float] = Field(default_factory=dict)


class OrchestrateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    goal: str = Field(min_length=1, max_length=5000)
    task_type: str = Field(default="general", min_length=1, max_length=50)
    topic: str | None = Field(default=None, max_length=500)
    user_id: str | None = Field(default=None, max_length=100)
    context: ContextIn = Field(default_factory=ContextIn)
    checkpoints: list[CheckpointSpec] = Field(default_factory=list)
    self_correct: bool = True


class DecisionOut(BaseModel):
    id: str
    source: str
    agent_sequence: list[str]
    confidence: float
    similar_task_id: str | None
    repairs: list[str]


class OrchestrateOut(BaseModel):
    decision: DecisionOut
    run: RunOut
    context_summary: dict[str, Any]


@router.post("/orchestrate")
async def orchestrate(
    body: OrchestrateIn, workspace: CurrentWorkspace, orch: OrchestrationDep
) -> OrchestrateOut:
    """Route the goal (a proven sequence from memory, or the validated planner) and run it.

    Returns when the run finished or waits at a checkpoint (``waiting_approval``).
    """
    done = await orch.orchestrate(
        workspace.id,
        body.goal,
        task_type=body.task_type,
        topic=body.topic,
        user_id=body.user_id,
        context=body.context.model_dump(),
        checkpoints=body.checkpoints,
        self_correct=body.self_correct,
    )
    d = done.decision
    view = await orch.get_run(workspace.id, done.run.id)
    return OrchestrateOut(
        decision=DecisionOut(
            id=d.id,
            source=d.source,
            agent_sequence=list(d.agent_sequence),
            confidence=d.confidence,
            similar_task_id=d.similar_task_id,
            repairs=list(d.repairs),
        ),
        run=run_out(view.run, view.steps, view.approvals),
        context_summary=done.context.summary(),
    )


class SelfCorrectIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    agent_name: str = Field(min_length=1, max_length=50, description="A registry agent id.")
    goal: str = Field(min_length=1, max_length=5000)
    topic: str | None = Field(default=None, max_length=500)
    task_type: str = Field(default="general", min_length=1, max_length=50)
    user_id: str | None = Field(default=None, max_length=100)
    config: SelfCorrectionConfig | None = None
    context: ContextIn = Field(default_factory=ContextIn)


class SelfCorrectOut(BaseModel):
    run_id: str
    status: str
    output: str | None
    quality: float | None
    self_correction_metadata: dict[str, Any] | None
    attempts: list[dict[str, Any]]
    error: str | None


@router.post("/execute/self-correct")
async def execute_self_correct(
    body: SelfCorrectIn, workspace: CurrentWorkspace, orch: OrchestrationDep
) -> SelfCorrectOut:
    """Generate, critique and revise until the quality threshold, iteration limit or plateau."""
    run = await orch.self_correct(
        workspace.id,
        body.agent_name,
        body.goal,
        config=body.config,
        topic=body.topic,
        task_type=body.task_type,
        user_id=body.user_id,
        context=body.context.model_dump(),
    )
    r = run.result or {}
    return SelfCorrectOut(
        run_id=run.id,
        status=run.status,
        output=r.get("output"),
        quality=r.get("quality"),
        self_correction_metadata=r.get("self_correction_metadata"),
        attempts=r.get("attempts", []),
        error=run.error,
    )


class DebateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    problem: str = Field(min_length=1, max_length=5000)
    agent_ids: list[str] = Field(default_factory=list)
    requirements: TaskRequirements | None = None
    rounds: int | None = Field(default=None, ge=1, le=5)
    consensus_strategy: ConsensusStrategy | None = None
    moderator: str | None = None
    facts: list[str] = Field(default_factory=list)


@router.post("/debates")
async def debate(body: DebateIn, workspace: CurrentWorkspace, orch: OrchestrationDep) -> RunOut:
    """A debate among the named experts (or a team for ``requirements``); transcript persisted."""
    run = await orch.debate(
        workspace.id,
        body.problem,
        agent_ids=body.agent_ids,
        requirements=body.requirements,
        rounds=body.rounds,
        strategy=body.consensus_strategy,
        moderator_id=body.moderator,
        facts=body.facts,
    )
    return run_out(run)


class WorkflowIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    spec: WorkflowSpec
    user_id: str | None = Field(default=None, max_length=100)
    context: ContextIn = Field(default_factory=ContextIn)


@router.post("/workflows")
async def run_workflow(
    body: WorkflowIn, workspace: CurrentWorkspace, orch: OrchestrationDep
) -> RunOut:
    """Run an explicit workflow of agent stages (actions are library-only)."""
    ctx = AgentContext(workspace_id=workspace.id, user_id=body.user_id, **body.context.model_dump())
    run = await orch.run_workflow(body.spec, ctx)
    view = await orch.get_run(workspace.id, run.id)
    return run_out(view.run, view.steps, view.approvals)
