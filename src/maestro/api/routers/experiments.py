"""Experiments: create, start, assign, record outcomes, analyze, complete, list, get."""

from __future__ import annotations

import math
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, Query, Response
from pydantic import BaseModel, ConfigDict, Field, model_validator

from maestro.api.deps import CurrentWorkspace, EngineDep
from maestro.errors import ValidationError
from maestro.learning.bayes import Analysis
from maestro.learning.experiments import (
    Assignment,
    Experiment,
    ExperimentEngine,
    ExperimentSpec,
    Outcome,
    VariantSpec,
    experiments_for,
)

router = APIRouter(prefix="/api/experiments", tags=["experiments"])


async def get_experiments(engine: EngineDep) -> ExperimentEngine:
    return experiments_for(engine)


ExperimentsDep = Annotated[ExperimentEngine, Depends(get_experiments)]


class VariantIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    description: str = Field(default="", max_length=2000)
    factors: dict[str, str] = {}


class ExperimentIn(BaseModel):
    """An experiment to create (seed 002's ``create_experiment``)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    variants: list[VariantIn] = []
    factors: dict[str, list[str]] = {}
    metric_name: str = Field(default="engagement_rate", min_length=1, max_length=100)
    metric_type: Literal["binary", "continuous"] = "binary"
    experiment_type: Literal["ab_test", "multivariate", "multi_armed_bandit", "sequential"] = (
        "ab_test"
    )
    allocation_strategy: Literal["equal", "thompson", "ucb"] | None = None
    confidence_level: float | None = Field(default=None, gt=0.5, lt=1.0)
    min_sample_size: int | None = Field(default=None, ge=1)
    value_bounds: tuple[float, float] | None = None
    max_sample_size: int | None = Field(default=None, ge=1)

    def spec(self) -> ExperimentSpec:
        return ExperimentSpec(
            name=self.name,
            variants=[VariantSpec(v.name, v.description, v.factors) for v in self.variants],
            factors=self.factors,
            metric_name=self.metric_name,
            metric_type=self.metric_type,
            kind=self.experiment_type,
            allocation=self.allocation_strategy,
            confidence_level=self.confidence_level,
            min_sample_size=self.min_sample_size,
            value_bounds=self.value_bounds,
            max_sample_size=self.max_sample_size,
        )


class AssignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    unit_id: str = Field(min_length=1, max_length=200, description="User, post or request id.")


class OutcomeBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    value: float
    variant_id: str | None = None
    unit_id: str | None = Field(default=None, min_length=1, max_length=200)
    idempotency_key: str | None = Field(default=None, min_length=1, max_length=200)

    @model_validator(mode="after")
    def _finite(self) -> OutcomeBody:
        if not math.isfinite(self.value):
            raise ValueError("value must be a finite number")
        return self


class CompleteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    winner_variant_id: str | None = None


@router.post("", status_code=201)
async def create_experiment(
    body: ExperimentIn, workspace: CurrentWorkspace, experiments: ExperimentsDep
) -> Experiment:
    """A new experiment in ``draft``."""
    return await experiments.create(workspace.id, body.spec())


@router.get("")
async def list_experiments(
    workspace: CurrentWorkspace,
    experiments: ExperimentsDep,
    status: Literal["draft", "running", "completed"] | None = None,
    limit: int = Query(default=50, ge=1, le=500),
) -> list[Experiment]:
    """This workspace's experiments, newest first."""
    return await experiments.list_experiments(workspace.id, status=status, limit=limit)


@router.get("/{experiment_id}")
async def get_experiment(
    experiment_id: str, workspace: CurrentWorkspace, experiments: ExperimentsDep
) -> Experiment:
    return await experiments.get(workspace.id, experiment_id)


@router.post("/{experiment_id}/start")
async def start_experiment(
    experiment_id: str, workspace: CurrentWorkspace, experiments: ExperimentsDep
) -> Experiment:
    """Start a draft experiment (409 if it is not a draft)."""
    return await experiments.start(workspace.id, experiment_id)


@router.post("/{experiment_id}/assign")
async def assign_variant(
    experiment_id: str, body: AssignIn, workspace: CurrentWorkspace, experiments: ExperimentsDep
) -> Assignment:
    """The unit's variant; the same unit always gets the same variant."""
    return await experiments.assign(workspace.id, experiment_id, body.unit_id)


@router.post("/{experiment_id}/outcomes", status_code=201)
async def record_outcome(
    experiment_id: str,
    body: OutcomeBody,
    response: Response,
    workspace: CurrentWorkspace,
    experiments: ExperimentsDep,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> Outcome:
    """Record an outcome; a retry with the same ``Idempotency-Key`` is recorded once (200)."""
    key = body.idempotency_key or idempotency_key
    if body.idempotency_key and idempotency_key and body.idempotency_key != idempotency_key:
        raise ValidationError(
            "the Idempotency-Key header and the body's idempotency_key differ",
            field="idempotency_key",
        )
    outcome = await experiments.record_outcome(
        workspace.id,
        experiment_id,
        value=body.value,
        variant_id=body.variant_id,
        unit_id=body.unit_id,
        idempotency_key=key,
    )
    if outcome.duplicate:
        response.status_code = 200
    return outcome


@router.get("/{experiment_id}/analysis")
async def analyze_experiment(
    experiment_id: str, workspace: CurrentWorkspace, experiments: ExperimentsDep
) -> Analysis:
    """Probability to be best, expected loss and credible interval per variant; decisions."""
    return await experiments.analyze(workspace.id, experiment_id)


@router.post("/{experiment_id}/complete")
async def complete_experiment(
    experiment_id: str,
    workspace: CurrentWorkspace,
    experiments: ExperimentsDep,
    body: CompleteIn | None = None,
) -> Experiment:
    """End the experiment with the given winner, or the one the analysis picks (or none)."""
    winner = body.winner_variant_id if body else None
    return await experiments.complete(workspace.id, experiment_id, winner_variant_id=winner)
