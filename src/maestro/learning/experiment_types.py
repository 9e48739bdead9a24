"""Experiment value types and spec validation (seed 002).

What an experiment is made of, apart from the engine that runs it: the specs a
caller writes (:class:`ExperimentSpec`, :class:`VariantSpec`, :class:`OutcomeIn`),
the views the engine returns (:class:`Experiment`, :class:`Variant`,
:class:`Assignment`, :class:`Outcome`, built from rows by :func:`experiment_view`),
and the checks that turn a spec into variants and a stored config. It stands
alone because these are plain values and pure functions: the API, the CLI and
the tests can use and test them without a database or the engine's transactions.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from maestro.errors import ValidationError
from maestro.learning import bayes
from maestro.learning.bandits import LearningSettings
from maestro.store.tables.experiments import ExperimentRow, ExperimentVariantRow

__all__ = [
    "MAX_VARIANTS",
    "Allocation",
    "Assignment",
    "Experiment",
    "ExperimentKind",
    "ExperimentSpec",
    "Outcome",
    "OutcomeIn",
    "Variant",
    "VariantSpec",
    "experiment_view",
]

ExperimentKind = Literal["ab_test", "multivariate", "multi_armed_bandit", "sequential"]
Allocation = Literal["equal", "thompson", "ucb"]
_KINDS = ("ab_test", "multivariate", "multi_armed_bandit", "sequential")
_ALLOCATIONS = {"equal": None, "thompson": "thompson", "ucb": "ucb1"}
MAX_VARIANTS = 64


@dataclass(frozen=True)
class VariantSpec:
    name: str
    description: str = ""
    factors: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ExperimentSpec:
    """What to test. Unset numbers come from :class:`LearningSettings`."""

    name: str
    variants: Sequence[VariantSpec] = ()
    """The variants (at least two); or leave empty and give ``factors`` (multivariate)."""
    factors: Mapping[str, Sequence[str]] = field(default_factory=dict)
    """Multivariate: every combination of the levels becomes a variant."""
    metric_name: str = "engagement_rate"
    metric_type: bayes.MetricType = "binary"
    kind: ExperimentKind = "ab_test"
    allocation: Allocation | None = None
    """Default: ``thompson`` for bandit experiments, ``equal`` otherwise."""
    confidence_level: float | None = None
    min_sample_size: int | None = None
    value_bounds: tuple[float, float] | None = None
    """Range of the metric (binary: (0, 1)); needed by sequential and bandit experiments."""
    max_sample_size: int | None = None
    """Sequential: stop without a winner once every variant has this many outcomes."""


@dataclass(frozen=True)
class OutcomeIn:
    value: float
    variant_id: str | None = None
    unit_id: str | None = None
    idempotency_key: str | None = None


@dataclass(frozen=True)
class Variant:
    id: str
    name: str
    description: str
    position: int
    factors: dict[str, Any]
    n: int
    mean: float | None


@dataclass(frozen=True)
class Experiment:
    id: str
    workspace_id: str
    name: str
    kind: str
    allocation: str
    metric_name: str
    metric_type: str
    status: str
    confidence_level: float
    min_sample_size: int
    value_bounds: tuple[float, float] | None
    max_sample_size: int | None
    variants: list[Variant]
    winner_variant_id: str | None
    stop_reason: str | None
    created_at: datetime
    started_at: datetime | None
    completed_at: datetime | None


@dataclass(frozen=True)
class Assignment:
    experiment_id: str
    unit_id: str
    variant_id: str
    variant_name: str
    assigned_at: datetime
    new: bool
    """False when the unit already had this variant (assignments are sticky)."""


@dataclass(frozen=True)
class Outcome:
    id: str
    experiment_id: str
    variant_id: str
    unit_id: str | None
    value: float
    idempotency_key: str | None
    recorded_at: datetime
    duplicate: bool
    """True when this is the replay of an earlier write with the same idempotency key."""
    stopped: bool
    """True when this outcome made a sequential experiment stop."""


def experiment_view(row: ExperimentRow, variants: Sequence[ExperimentVariantRow]) -> Experiment:
    cfg = row.config
    bounds = cfg["value_bounds"]
    return Experiment(
        id=row.id,
        workspace_id=row.workspace_id,
        name=row.name,
        kind=row.kind,
        allocation=row.allocation,
        metric_name=row.metric_name,
        metric_type=row.metric_type,
        status=row.status,
        confidence_level=cfg["confidence_level"],
        min_sample_size=cfg["min_sample_size"],
        value_bounds=None if bounds is None else (bounds[0], bounds[1]),
        max_sample_size=cfg["max_sample_size"],
        variants=[
            Variant(
                v.id,
                v.name,
                v.description,
                v.position,
                dict(v.factors),
                v.n,
                v.total / v.n if v.n else None,
            )
            for v in variants
        ],
        winner_variant_id=row.winner_variant_id,
        stop_reason=row.stop_reason,
        created_at=row.created_at,
        started_at=row.started_at,
        completed_at=row.completed_at,
    )


def _fail(message: str, field: str) -> ValidationError:
    return ValidationError(message, field=field)


def _variants(spec: ExperimentSpec) -> list[VariantSpec]:
    if spec.factors:
        if spec.kind != "multivariate" or spec.variants:
            raise _fail("factors are for multivariate experiments without variants", "factors")
        names = list(spec.factors)
        if any(not levels for levels in spec.factors.values()):
            raise _fail("every factor needs at least one level", "factors")
        combos = itertools.product(*(spec.factors[n] for n in names))
        out = [
            VariantSpec(
                ",".join(f"{n}={v}" for n, v in zip(names, c, strict=True)),
                "",
                dict(zip(names, c, strict=True)),
            )
            for c in combos
        ]
    else:
        out = list(spec.variants)
    if not 2 <= len(out) <= MAX_VARIANTS:
        raise _fail(f"{len(out)} variants; an experiment needs 2..{MAX_VARIANTS}", "variants")
    names = [v.name for v in out]
    if len(set(names)) != len(names) or any(not 0 < len(n) <= 100 for n in names):
        raise _fail(f"variant names must be unique, 1..100 characters: {names}", "variants")
    return out


def _config(spec: ExperimentSpec, settings: LearningSettings) -> dict[str, Any]:
    if not 0 < len(spec.name) <= 200:
        raise _fail(f"name {spec.name!r} must be 1..200 characters", "name")
    if spec.kind not in _KINDS:
        raise _fail(f"kind {spec.kind!r} is not one of {', '.join(_KINDS)}", "kind")
    if spec.metric_type not in ("binary", "continuous"):
        raise _fail(f"metric_type {spec.metric_type!r} is not binary or continuous", "metric_type")
    default = "thompson" if spec.kind == "multi_armed_bandit" else "equal"
    allocation = spec.allocation or default
    if allocation not in _ALLOCATIONS:
        raise _fail(f"allocation {allocation!r} is not equal, thompson or ucb", "allocation")
    if spec.kind == "multi_armed_bandit" and allocation == "equal":
        raise _fail("a multi-armed bandit allocates by thompson or ucb", "allocation")
    confidence = spec.confidence_level or settings.default_confidence
    if not 0.5 < confidence < 1.0:
        raise _fail(f"confidence_level {confidence!r} is outside (0.5, 1)", "confidence_level")
    min_n = spec.min_sample_size or settings.min_sample_size
    if min_n < 1:
        raise _fail(f"min_sample_size {min_n!r} must be >= 1", "min_sample_size")
    bounds = (0.0, 1.0) if spec.metric_type == "binary" else spec.value_bounds
    if bounds is not None and not (
        math.isfinite(bounds[0]) and math.isfinite(bounds[1]) and bounds[0] < bounds[1]
    ):
        raise _fail(f"value_bounds {bounds!r} must be finite with low < high", "value_bounds")
    if bounds is None and (spec.kind == "sequential" or allocation != "equal"):
        raise _fail("sequential and bandit experiments need value_bounds", "value_bounds")
    if spec.max_sample_size is not None and spec.max_sample_size < min_n:
        raise _fail("max_sample_size must be >= min_sample_size", "max_sample_size")
    return {
        "confidence_level": confidence,
        "min_sample_size": min_n,
        "min_effect_size": settings.min_effect_size,
        "value_bounds": list(bounds) if bounds else None,
        "max_sample_size": spec.max_sample_size,
    }
