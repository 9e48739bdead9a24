"""Adaptation: after each feedback cycle, weights move toward what works.

Input is a plain mapping ``strategy -> score`` per agent: an exponentially
weighted mean engagement from :mod:`maestro.memory.weighted`, a bandit's
posterior mean from :mod:`maestro.learning.bandits`, or anything comparable.
Only the *relative* scores matter: they are standardised, turned into a target
distribution by a softmax, and the scored strategies' weight moves a step of
``learning_rate`` toward it. Strategies without a score keep their weight (no
evidence, no move). The proposal then passes through
:func:`maestro.agents.diversity.repair`, so every diversity rule holds after
every mutation.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from maestro.agents.content import ContentAgent, normalize_weights
from maestro.agents.diversity import DiversityPolicy, Repair, Violation, repair
from maestro.errors import ValidationError

__all__ = [
    "DEFAULT_LEARNING_RATE",
    "DEFAULT_MIN_WEIGHT",
    "DEFAULT_SELECTIVITY",
    "Adaptation",
    "AdaptationPolicy",
    "adapt",
    "adapt_population",
    "propose_weights",
]

DEFAULT_LEARNING_RATE = 0.2
"""Fraction of the way toward the target distribution moved per feedback cycle."""
DEFAULT_SELECTIVITY = 1.5
"""Softmax sharpness over standardised scores: higher bets harder on the best."""
DEFAULT_MIN_WEIGHT = 0.02
"""No strategy falls below this weight, so every one keeps being explored a little."""


@dataclass(frozen=True, kw_only=True)
class AdaptationPolicy:
    """How fast and how greedily weights follow results."""

    learning_rate: float = DEFAULT_LEARNING_RATE
    """Step toward the target distribution, in (0, 1]."""
    selectivity: float = DEFAULT_SELECTIVITY
    """Softmax sharpness applied to z-scored strategy scores (>= 0)."""
    min_weight: float = DEFAULT_MIN_WEIGHT
    """Floor on every strategy's weight before the diversity repair."""

    def __post_init__(self) -> None:
        if not 0 < self.learning_rate <= 1:
            raise ValidationError(
                f"learning_rate must be in (0, 1], got {self.learning_rate!r}",
                field="learning_rate",
            )
        if not 0 <= self.selectivity <= 20:
            raise ValidationError(
                f"selectivity must be in [0, 20], got {self.selectivity!r}", field="selectivity"
            )
        if not 0 <= self.min_weight <= 0.1:
            raise ValidationError(
                f"min_weight must be in [0, 0.1], got {self.min_weight!r}", field="min_weight"
            )


@dataclass(frozen=True)
class Adaptation:
    """One agent's mutation in one feedback cycle."""

    before: ContentAgent
    after: ContentAgent
    repair: Repair

    @property
    def violations(self) -> tuple[Violation, ...]:
        """Rules the raw proposal broke (and the repair fixed)."""
        return self.repair.violations


def propose_weights(
    weights: Mapping[str, float],
    scores: Mapping[str, float],
    policy: AdaptationPolicy = AdaptationPolicy(),
) -> dict[str, float]:
    """The weights one step closer to the score-implied distribution (no diversity rules)."""
    for name, score in scores.items():
        if not math.isfinite(score):
            raise ValidationError(
                f"score of strategy {name!r} is not finite: {score!r}", field="scores"
            )
    scored = [s for s in weights if s in scores]
    new = dict(weights)
    if len(scored) >= 2:
        values = [scores[s] for s in scored]
        mean = math.fsum(values) / len(values)
        std = math.sqrt(math.fsum((v - mean) ** 2 for v in values) / len(values))
        if std > 0:
            logits = {s: policy.selectivity * (scores[s] - mean) / std for s in scored}
            top = max(logits.values())
            exp = {s: math.exp(v - top) for s, v in logits.items()}
            total = math.fsum(exp.values())
            mass = math.fsum(weights[s] for s in scored)
            for s in scored:
                target = mass * exp[s] / total
                new[s] = (1 - policy.learning_rate) * weights[s] + policy.learning_rate * target
    floored = {s: max(w, policy.min_weight) for s, w in normalize_weights(new).items()}
    return normalize_weights(floored)


def adapt(
    agent: ContentAgent,
    scores: Mapping[str, float],
    population: Sequence[ContentAgent],
    *,
    policy: AdaptationPolicy = AdaptationPolicy(),
    diversity: DiversityPolicy = DiversityPolicy(),
) -> Adaptation:
    """Mutate ``agent``'s weights toward ``scores``, modified as needed to keep every rule."""
    proposal = propose_weights(agent.weights, scores, policy)
    result = repair(agent, proposal, population, diversity)
    return Adaptation(agent, agent.with_weights(result.weights), result)


def adapt_population(
    agents: Sequence[ContentAgent],
    scores: Mapping[str, Mapping[str, float]],
    *,
    policy: AdaptationPolicy = AdaptationPolicy(),
    diversity: DiversityPolicy = DiversityPolicy(),
) -> tuple[list[ContentAgent], list[Adaptation]]:
    """Adapt each active agent in turn, against the others' latest weights.

    ``scores`` maps agent id to that agent's strategy scores; agents without an
    entry are still re-checked (a no-op mutation) because another agent's move
    can change what their rules require. Order is the order of ``agents``.
    """
    current = list(agents)
    changes: list[Adaptation] = []
    for i, agent in enumerate(current):
        if not agent.active:
            continue
        change = adapt(agent, scores.get(agent.id, {}), current, policy=policy, diversity=diversity)
        current[i] = change.after
        changes.append(change)
    return current, changes
