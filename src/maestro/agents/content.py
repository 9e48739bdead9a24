"""Content agents: DNA (what is inherited) plus a life record (what is earned).

An agent's DNA is its strategy weights, sampling temperature, personality and
one protected strategy. Its life record is the evidence the population uses to
judge it: performance (a weighted reward in [0, 1] fed by the feedback cycle),
exploration bonus points, uses per strategy. Agents are immutable values; every
change returns a new agent, so a rejected mutation can never leak half-applied.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal

from maestro.agents.strategies import validate_strategy_name
from maestro.errors import ValidationError

__all__ = [
    "DEFAULT_PERFORMANCE_POINTS",
    "MAX_TEMPERATURE",
    "AgentDNA",
    "AgentStatus",
    "ContentAgent",
    "normalize_weights",
    "ranked",
]

DEFAULT_PERFORMANCE_POINTS = 100.0
"""Survival points for a perfect performance of 1.0 (bonuses are on the same scale)."""
MAX_TEMPERATURE = 2.0

AgentStatus = Literal["active", "retired"]


def normalize_weights(
    weights: Mapping[str, float], *, field: str = "strategy_weights"
) -> dict[str, float]:
    """Weights scaled to sum to 1, keys sorted; invalid input is a :class:`ValidationError`."""
    if len(weights) < 2:
        raise ValidationError(
            f"an agent needs weights over at least 2 strategies, got {sorted(weights)}",
            field=field,
        )
    for name, value in weights.items():
        validate_strategy_name(name, field=field)
        if not math.isfinite(value) or value < 0:
            raise ValidationError(
                f"weight of strategy {name!r} must be finite and >= 0, got {value!r}", field=field
            )
    total = math.fsum(weights.values())
    if total <= 0:
        raise ValidationError("strategy weights must not all be zero", field=field)
    return {name: weights[name] / total for name in sorted(weights)}


def ranked(weights: Mapping[str, float]) -> tuple[str, ...]:
    """Strategy names by weight, highest first; ties broken by name so ranks are stable."""
    return tuple(sorted(weights, key=lambda name: (-weights[name], name)))


@dataclass(frozen=True, kw_only=True)
class AgentDNA:
    """What an agent passes on: kept in the gene pool after it retires."""

    strategy_weights: Mapping[str, float]
    """Share of proposals per strategy; normalised to sum to 1."""
    temperature: float
    """Sampling temperature of the agent's generations, 0 to 2."""
    personality: str
    """Voice given to the generation prompt, e.g. ``"dry wit, short sentences"``."""
    protected_strategy: str
    """The strategy this agent always keeps and no other agent may make its primary."""

    def __post_init__(self) -> None:
        weights = normalize_weights(self.strategy_weights)
        object.__setattr__(self, "strategy_weights", weights)
        if not math.isfinite(self.temperature) or not 0 <= self.temperature <= MAX_TEMPERATURE:
            raise ValidationError(
                f"temperature must be between 0 and {MAX_TEMPERATURE}, got {self.temperature!r}",
                field="temperature",
            )
        if self.protected_strategy not in weights:
            raise ValidationError(
                f"protected strategy {self.protected_strategy!r} is not among the agent's "
                f"strategies {sorted(weights)}",
                field="protected_strategy",
            )
        if len(self.personality) > 500:
            raise ValidationError("personality is longer than 500 characters", field="personality")

    @property
    def primary(self) -> str:
        """The strategy with the highest weight."""
        return ranked(self.strategy_weights)[0]

    def top(self, k: int = 2) -> tuple[str, ...]:
        """The ``k`` highest-weighted strategies, best first."""
        return ranked(self.strategy_weights)[:k]

    def to_json(self) -> dict[str, Any]:
        return {
            "strategy_weights": dict(self.strategy_weights),
            "temperature": self.temperature,
            "personality": self.personality,
            "protected_strategy": self.protected_strategy,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> AgentDNA:
        return cls(
            strategy_weights={str(k): float(v) for k, v in data["strategy_weights"].items()},
            temperature=float(data["temperature"]),
            personality=str(data["personality"]),
            protected_strategy=str(data["protected_strategy"]),
        )


@dataclass(frozen=True, kw_only=True)
class ContentAgent:
    """A member of the content population."""

    id: str
    """Stable identifier (also the gene pool's link back to the agent)."""
    name: str
    """Display name, unique within a workspace's history."""
    dna: AgentDNA
    """The inheritable part."""
    born_at: datetime
    """When the agent was created or spawned (selection spares the very young)."""
    performance: float = 0.0
    """Exponentially weighted reward of the agent's content, in [0, 1]."""
    exploration_bonus: float = 0.0
    """Survival points earned by trying underexplored strategies."""
    uses: Mapping[str, int] = field(default_factory=dict)
    """How many proposals the agent made with each strategy."""
    generation: int = 0
    """0 for founders; a child is one more than its oldest parent."""
    parents: tuple[str, ...] = ()
    """Gene pool entry ids the DNA was crossed from."""
    status: AgentStatus = "active"
    """``active`` agents propose content; ``retired`` ones live on in the gene pool."""
    retired_at: datetime | None = None

    def __post_init__(self) -> None:
        if not self.id or len(self.id) > 36:
            raise ValidationError(f"agent id {self.id!r} must be 1-36 characters", field="id")
        if not self.name.strip() or len(self.name) > 100:
            raise ValidationError(
                f"agent name {self.name!r} must be 1-100 characters", field="name"
            )
        if not math.isfinite(self.performance) or not 0 <= self.performance <= 1:
            raise ValidationError(
                f"performance must be in [0, 1], got {self.performance!r}", field="performance"
            )
        if not math.isfinite(self.exploration_bonus) or self.exploration_bonus < 0:
            raise ValidationError(
                f"exploration bonus must be >= 0, got {self.exploration_bonus!r}",
                field="exploration_bonus",
            )
        if any(count < 0 for count in self.uses.values()):
            raise ValidationError(f"negative use count in {dict(self.uses)}", field="uses")
        object.__setattr__(self, "uses", dict(sorted(self.uses.items())))

    # DNA shortcuts -----------------------------------------------------------------
    @property
    def weights(self) -> Mapping[str, float]:
        return self.dna.strategy_weights

    @property
    def protected_strategy(self) -> str:
        return self.dna.protected_strategy

    @property
    def primary(self) -> str:
        return self.dna.primary

    def top(self, k: int = 2) -> tuple[str, ...]:
        return self.dna.top(k)

    @property
    def active(self) -> bool:
        return self.status == "active"

    @property
    def survival_score(self) -> float:
        """Performance points plus exploration bonus: what weekly selection ranks by."""
        return self.performance * DEFAULT_PERFORMANCE_POINTS + self.exploration_bonus

    # changes -----------------------------------------------------------------------
    def with_weights(self, weights: Mapping[str, float]) -> ContentAgent:
        return replace(self, dna=replace(self.dna, strategy_weights=weights))

    def with_strategies(self, names: Iterable[str]) -> ContentAgent:
        """The agent knowing strategies added to the catalog since it was born (at weight 0:
        adaptation and evolution decide how much they get)."""
        missing = [n for n in names if n not in self.weights]
        if not missing:
            return self
        return self.with_weights({**self.weights, **dict.fromkeys(missing, 0.0)})

    def with_performance(self, performance: float) -> ContentAgent:
        return replace(self, performance=performance)

    def retire(self, at: datetime) -> ContentAgent:
        return replace(self, status="retired", retired_at=at)
