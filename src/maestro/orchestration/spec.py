"""What a workflow is: stages of steps, the order between stages, and checkpoints.

Steps inside a stage run one after another (each sees the outputs before it);
stages whose ``after`` stages are done run concurrently. A spec is a value: it
is validated once (unique names, known stages, no cycles) and stored with the
run so any process can resume it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from maestro.orchestration.settings import TimeoutOutcome

__all__ = [
    "AutoApproveRules",
    "CheckpointAction",
    "CheckpointCondition",
    "CheckpointSpec",
    "StageSpec",
    "StepSpec",
    "WorkflowSpec",
    "chain",
]

_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$"
CheckpointCondition = Literal["before_execution", "after_stage", "quality_below"]
CheckpointAction = Literal["request_approval", "notify", "auto_approve"]


class StepSpec(BaseModel):
    """One unit of work: an expert agent's call, or a registered Python action."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=_NAME)
    """Unique within the workflow; the key its state is persisted under."""
    agent: str | None = None
    """A registry agent id; the step is one model call by that agent."""
    action: str | None = None
    """A registered action name; the step calls that Python coroutine."""
    instruction: str = ""
    """What this step should do (defaults to the goal)."""
    self_correct: bool = False
    """Run the agent through the self-correction loop (gives the step a quality)."""
    params: dict[str, Any] = Field(default_factory=dict)
    """Passed to an action."""

    @model_validator(mode="after")
    def _one_kind(self) -> StepSpec:
        if (self.agent is None) == (self.action is None):
            raise ValueError(f"step {self.name!r} needs exactly one of agent or action")
        return self


class StageSpec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=_NAME)
    steps: tuple[StepSpec, ...] = Field(min_length=1)
    after: tuple[str, ...] = ()
    """Stages that must finish first; stages with nothing in common run concurrently."""


class AutoApproveRules(BaseModel):
    """Seed 003 ``auto_approve_if``: a trusted user, or every numeric rule set, approves."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    quality_above: float | None = Field(default=None, ge=0.0, le=1.0)
    """Approve when the latest quality is strictly above this."""
    success_rate_above: float | None = Field(default=None, ge=0.0, le=1.0)
    """Approve when the workspace's success rate on the task type is strictly above this."""
    trusted_users: tuple[str, ...] = ()
    """Approve runs of these users."""


class CheckpointSpec(BaseModel):
    """A human-in-the-loop checkpoint (seed 003 ``WorkflowCheckpoint``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=_NAME)
    description: str = ""
    condition: CheckpointCondition
    stage: str | None = None
    """For ``after_stage``: the stage; for ``quality_below``: limit to a stage (optional)."""
    quality_below: float | None = Field(default=None, ge=0.0, le=1.0)
    """For ``quality_below``: fires when a step's quality is strictly below this."""
    action: CheckpointAction = "request_approval"
    auto_approve_if: AutoApproveRules | None = None
    timeout_seconds: float | None = Field(default=None, gt=0.0)
    """Default: the configured approval timeout (one hour)."""
    timeout_outcome: TimeoutOutcome | None = None
    """Default: the configured outcome."""

    @model_validator(mode="after")
    def _params(self) -> CheckpointSpec:
        if self.condition == "after_stage" and not self.stage:
            raise ValueError(f"checkpoint {self.name!r}: after_stage needs a stage")
        if self.condition == "quality_below" and self.quality_below is None:
            raise ValueError(f"checkpoint {self.name!r}: quality_below needs a bound")
        return self


class WorkflowSpec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    goal: str = Field(min_length=1)
    task_type: str = Field(default="general", min_length=1, max_length=50)
    topic: str | None = None
    stages: tuple[StageSpec, ...] = Field(min_length=1)
    checkpoints: tuple[CheckpointSpec, ...] = ()
    max_concurrency: int | None = Field(default=None, ge=1)
    """Stages of this run executing at once (default: the configured bound)."""

    @model_validator(mode="after")
    def _graph(self) -> WorkflowSpec:
        stages = [s.name for s in self.stages]
        _unique(stages, "stage")
        _unique([st.name for s in self.stages for st in s.steps], "step")
        _unique([c.name for c in self.checkpoints], "checkpoint")
        known = set(stages)
        for s in self.stages:
            bad = [a for a in s.after if a not in known]
            if bad:
                raise ValueError(f"stage {s.name!r} waits for unknown stage(s) {bad}")
        for c in self.checkpoints:
            if c.stage is not None and c.stage not in known:
                raise ValueError(f"checkpoint {c.name!r} names unknown stage {c.stage!r}")
        cycle = _find_cycle({s.name: s.after for s in self.stages})
        if cycle:
            raise ValueError(f"stages form a cycle: {' -> '.join(cycle)}")
        return self

    def agents(self) -> set[str]:
        return {st.agent for s in self.stages for st in s.steps if st.agent}


def chain(
    goal: str, agents: Sequence[str], *, task_type: str = "general", **kwargs: Any
) -> WorkflowSpec:
    """A sequence of agents as a workflow: one stage per agent, each after the previous."""
    stages: list[StageSpec] = []
    for i, agent in enumerate(agents):
        name = f"{i + 1}-{re.sub(r'[^A-Za-z0-9_.:-]', '_', agent)}"
        stages.append(
            StageSpec(
                name=name,
                steps=(StepSpec(name=name, agent=agent),),
                after=(stages[-1].name,) if stages else (),
            )
        )
    return WorkflowSpec(goal=goal, task_type=task_type, stages=tuple(stages), **kwargs)


def _unique(names: Sequence[str], what: str) -> None:
    seen: set[str] = set()
    for n in names:
        if n in seen:
            raise ValueError(f"duplicate {what} name {n!r}")
        seen.add(n)


def _find_cycle(deps: dict[str, tuple[str, ...]]) -> list[str] | None:
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(n: str) -> list[str] | None:
        state[n] = 1
        path.append(n)
        for d in deps.get(n, ()):
            if state.get(d) == 1:
                return [*path[path.index(d) :], d]
            if d not in state and (found := visit(d)):
                return found
        path.pop()
        state[n] = 2
        return None

    for n in deps:
        if n not in state and (found := visit(n)):
            return found
    return None
