"""The diversity rules of seed 000, checked and repaired at mutation time.

Rules (see ``docs/population.md`` for the interpretation of "top-2 unique"):

``top2_unique``
    No two active agents have the same *set* of two highest-weighted strategies.
``primary_unique``
    No two active agents share a primary strategy, whenever that is possible
    (as many strategies as active agents). With more agents than strategies it
    is waived and ``top2_unique`` alone applies.
``protected_kept``
    An agent's protected strategy keeps at least ``protected_floor`` of its weight.
``protected_reserved``
    No agent makes another agent's protected strategy its primary.
``unique_share``
    At least ``min_unique_share`` of an agent's weight is on strategies that are
    no other active agent's primary.
``protected_unique`` (population only)
    No two active agents protect the same strategy, when possible.

A mutation that breaks a rule is modified, not applied: :func:`repair` picks the
primary and secondary closest to the proposal that the rules allow (the
proposal's best strategy not reserved by another agent, then its best partner
forming an unused pair: the seed's "next-best unique strategy"), and returns the
weight vector nearest to the proposal (Euclidean) that ranks them first and
satisfies every floor. That is a projection onto a convex polytope, computed by
Dykstra's alternating projections; rules are then re-checked on the result.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from maestro.agents.content import ContentAgent, normalize_weights, ranked
from maestro.errors import ValidationError

__all__ = [
    "DEFAULT_MIN_UNIQUE_SHARE",
    "DEFAULT_PROTECTED_FLOOR",
    "DEFAULT_RANK_MARGIN",
    "DEFAULT_TARGET_DIVERSITY",
    "DiversityPolicy",
    "Repair",
    "Rule",
    "Violation",
    "check_mutation",
    "check_population",
    "population_diversity",
    "primary_counts",
    "repair",
    "repair_population",
    "strategy_gaps",
]

DEFAULT_MIN_UNIQUE_SHARE = 0.20
"""Seed 000: >= 20% of weight on strategies no other agent has as primary."""
DEFAULT_PROTECTED_FLOOR = 0.10
"""Weight an agent's protected strategy never falls below (not in the seed; our choice)."""
DEFAULT_RANK_MARGIN = 0.01
"""Gap a repair leaves between ranked strategies so ties cannot flip the ranking."""
DEFAULT_TARGET_DIVERSITY = 0.6
"""Seed 000: population diversity target."""

_EPS = 1e-9
_TIGHTEN = 1e-7  # repair aims slightly inside every floor so rounding never breaks one

Rule = Literal[
    "top2_unique",
    "primary_unique",
    "protected_kept",
    "protected_reserved",
    "unique_share",
    "protected_unique",
]
Vector = npt.NDArray[np.float64]


@dataclass(frozen=True, kw_only=True)
class DiversityPolicy:
    """The knobs of the diversity rules."""

    min_unique_share: float = DEFAULT_MIN_UNIQUE_SHARE
    """Minimum weight on strategies that are no other active agent's primary."""
    protected_floor: float = DEFAULT_PROTECTED_FLOOR
    """Minimum weight of an agent's protected strategy."""
    unique_primaries: bool = True
    """Forbid shared primaries while there are at least as many strategies as agents."""
    rank_margin: float = DEFAULT_RANK_MARGIN
    """Separation a repair leaves between primary, secondary and the rest."""
    target_diversity: float = DEFAULT_TARGET_DIVERSITY
    """Population diversity the evolution aims for (reported, not a hard rule)."""

    def __post_init__(self) -> None:
        if not 0 <= self.min_unique_share <= 0.5:
            raise ValidationError(
                f"min_unique_share must be in [0, 0.5], got {self.min_unique_share!r}",
                field="min_unique_share",
            )
        if not 0 <= self.protected_floor <= 0.25:
            raise ValidationError(
                f"protected_floor must be in [0, 0.25], got {self.protected_floor!r}",
                field="protected_floor",
            )
        if not 0 < self.rank_margin <= 0.05:
            raise ValidationError(
                f"rank_margin must be in (0, 0.05], got {self.rank_margin!r}", field="rank_margin"
            )
        if not 0 <= self.target_diversity <= 1:
            raise ValidationError(
                f"target_diversity must be in [0, 1], got {self.target_diversity!r}",
                field="target_diversity",
            )


@dataclass(frozen=True)
class Violation:
    """One broken rule, on one agent."""

    rule: Rule
    agent_id: str
    detail: str


@dataclass(frozen=True)
class Repair:
    """The outcome of checking a proposed mutation."""

    proposed: Mapping[str, float]
    """The mutation as proposed (normalised)."""
    weights: Mapping[str, float]
    """What to apply: the proposal itself when it broke no rule."""
    violations: tuple[Violation, ...]
    """Rules the proposal broke."""
    unresolved: tuple[Violation, ...]
    """Rules ``weights`` still breaks (only when no weights can satisfy them all)."""

    @property
    def modified(self) -> bool:
        return bool(self.violations)


class _Others:
    """What the rules need to know about the other active agents."""

    def __init__(self, agent: ContentAgent, population: Iterable[ContentAgent]) -> None:
        peers = [o for o in population if o.active and o.id != agent.id]
        self.primaries = {o.primary: o.id for o in peers}
        self.pairs = {frozenset(o.top(2)): o.id for o in peers}
        self.reserved = {
            o.protected_strategy: o.id
            for o in peers
            if o.protected_strategy != agent.protected_strategy
        }
        self.count = len(peers)


def _unique_primaries_apply(policy: DiversityPolicy, agents: int, strategies: int) -> bool:
    return policy.unique_primaries and agents <= strategies


def check_mutation(
    agent: ContentAgent,
    weights: Mapping[str, float],
    population: Iterable[ContentAgent],
    policy: DiversityPolicy = DiversityPolicy(),
) -> tuple[Violation, ...]:
    """Every rule ``agent`` would break if its weights became ``weights``."""
    return _check(agent, normalize_weights(weights), _Others(agent, population), policy)


def _check(
    agent: ContentAgent, weights: Mapping[str, float], others: _Others, policy: DiversityPolicy
) -> tuple[Violation, ...]:
    order = ranked(weights)
    primary, pair = order[0], frozenset(order[:2])
    found: list[Violation] = []

    def add(rule: Rule, detail: str) -> None:
        found.append(Violation(rule, agent.id, detail))

    if pair in others.pairs:
        add("top2_unique", f"top-2 {sorted(pair)} is also agent {others.pairs[pair]}'s top-2")
    if (
        _unique_primaries_apply(policy, others.count + 1, len(weights))
        and primary in others.primaries
    ):
        add(
            "primary_unique",
            f"primary {primary!r} is also agent {others.primaries[primary]}'s primary",
        )
    if primary in others.reserved:
        add(
            "protected_reserved",
            f"primary {primary!r} is protected by agent {others.reserved[primary]}",
        )
    protected = agent.protected_strategy
    if weights.get(protected, 0.0) < policy.protected_floor - _EPS:
        add(
            "protected_kept",
            f"protected strategy {protected!r} has weight {weights.get(protected, 0.0):.4f} "
            f"< {policy.protected_floor}",
        )
    unique = set(weights) - set(others.primaries)
    share = math.fsum(weights[s] for s in unique)
    if unique and share < policy.min_unique_share - _EPS:
        add(
            "unique_share",
            f"only {share:.4f} of weight on strategies no other agent has as primary "
            f"({sorted(unique)}); minimum {policy.min_unique_share}",
        )
    return tuple(found)


def check_population(
    agents: Sequence[ContentAgent], policy: DiversityPolicy = DiversityPolicy()
) -> tuple[Violation, ...]:
    """Every rule any active agent breaks against the rest of the population."""
    active = [a for a in agents if a.active]
    found: list[Violation] = []
    universe = {s for a in active for s in a.weights}
    for agent in active:
        found.extend(_check(agent, agent.weights, _Others(agent, active), policy))
    if len(active) <= len(universe):
        holders: dict[str, str] = {}
        for agent in active:
            first = holders.setdefault(agent.protected_strategy, agent.id)
            if first != agent.id:
                found.append(
                    Violation(
                        "protected_unique",
                        agent.id,
                        f"protected strategy {agent.protected_strategy!r} is also agent "
                        f"{first}'s protected strategy",
                    )
                )
    return tuple(found)


def repair(
    agent: ContentAgent,
    proposed: Mapping[str, float],
    population: Iterable[ContentAgent],
    policy: DiversityPolicy = DiversityPolicy(),
) -> Repair:
    """Check a proposed mutation of ``agent``'s weights and modify it to keep every rule.

    ``population`` may include ``agent`` itself (it is ignored) and retired agents
    (ignored too). The result's ``weights`` keep the proposal's strategies plus
    any the agent already had (at weight 0 if the proposal dropped them).
    """
    keys = sorted(set(proposed) | set(agent.weights))
    proposal = normalize_weights({k: proposed.get(k, 0.0) for k in keys})
    others = _Others(agent, population)
    violations = _check(agent, proposal, others, policy)
    if not violations:
        return Repair(proposal, proposal, (), ())
    primary, secondary = _targets(agent, proposal, others, policy)
    unique = [k for k in keys if k not in others.primaries]
    halfspaces = _halfspaces(keys, primary, secondary, agent.protected_strategy, unique, policy)
    z = np.array([proposal[k] for k in keys], dtype=np.float64)
    projected = _dykstra(z, halfspaces)
    candidates: list[Vector] = [projected]
    anchor = _anchor(keys, primary, secondary, agent.protected_strategy, unique, policy)
    if anchor is not None:
        candidates.append(_bisect(anchor, projected, agent, keys, others, policy))
    current = {k: agent.weights.get(k, 0.0) for k in keys}
    candidates.append(np.array([current[k] for k in keys], dtype=np.float64))
    best: tuple[int, dict[str, float]] | None = None
    for vector in candidates:
        weights = _as_weights(keys, vector)
        left = _check(agent, weights, others, policy)
        if not left:
            return Repair(proposal, weights, violations, ())
        if best is None or len(left) < best[0]:
            best = (len(left), weights)
    assert best is not None
    return Repair(proposal, best[1], violations, _check(agent, best[1], others, policy))


def repair_population(
    agents: Sequence[ContentAgent], policy: DiversityPolicy = DiversityPolicy(), *, passes: int = 3
) -> list[ContentAgent]:
    """Bring a population into line by repairing each agent's current weights in turn.

    Each agent is checked against the others' latest weights, so after one pass
    every pairwise rule holds; ``unique_share`` can be broken again by a later
    agent taking a new primary, hence the extra passes.
    """
    current = list(agents)
    for _ in range(passes):
        changed = False
        for i, agent in enumerate(current):
            if not agent.active:
                continue
            result = repair(agent, agent.weights, current, policy)
            if result.modified:
                current[i] = agent.with_weights(result.weights)
                changed = True
        if not changed:
            break
    return current


def _targets(
    agent: ContentAgent, proposal: Mapping[str, float], others: _Others, policy: DiversityPolicy
) -> tuple[str, str]:
    order = ranked(proposal)
    blocked = set(others.reserved)
    if _unique_primaries_apply(policy, others.count + 1, len(order)):
        blocked |= set(others.primaries)
    choices = (
        [s for s in order if s not in blocked]
        or [s for s in order if s not in others.reserved]
        or list(order)
    )
    for primary in choices:
        for secondary in order:
            if secondary != primary and frozenset((primary, secondary)) not in others.pairs:
                return primary, secondary
    return order[0], order[1]


def _halfspaces(
    keys: list[str],
    primary: str,
    secondary: str,
    protected: str,
    unique: list[str],
    policy: DiversityPolicy,
) -> list[tuple[Vector, float]]:
    """``a . w >= b`` constraints whose intersection with the simplex keeps every rule."""
    index = {k: i for i, k in enumerate(keys)}
    n = len(keys)
    spaces: list[tuple[Vector, float]] = []

    def diff(high: str, low: str) -> None:
        a = np.zeros(n)
        a[index[high]], a[index[low]] = 1.0, -1.0
        spaces.append((a, policy.rank_margin))

    diff(primary, secondary)
    for k in keys:
        if k not in (primary, secondary):
            diff(secondary, k)
    a = np.zeros(n)
    a[index[protected]] = 1.0
    spaces.append((a, policy.protected_floor + _TIGHTEN))
    if unique:
        a = np.zeros(n)
        for k in unique:
            a[index[k]] = 1.0
        spaces.append((a, policy.min_unique_share + _TIGHTEN))
    return spaces


def _dykstra(
    z: Vector, halfspaces: list[tuple[Vector, float]], *, iterations: int = 3000
) -> Vector:
    """Euclidean projection of ``z`` onto the simplex intersected with ``halfspaces``."""
    x = z.copy()
    increments = np.zeros((len(halfspaces) + 1, z.size))
    for _ in range(iterations):
        before = x.copy()
        for i, (a, b) in enumerate(halfspaces):
            y = x + increments[i]
            gap = b - float(a @ y)
            x = y + (gap / float(a @ a)) * a if gap > 0 else y
            increments[i] = y - x
        y = x + increments[-1]
        x = _project_simplex(y)
        increments[-1] = y - x
        if float(np.max(np.abs(x - before))) < 1e-13:
            break
    return x


def _project_simplex(v: Vector) -> Vector:
    """Nearest point of ``{w >= 0, sum w = 1}`` (Duchi et al., 2008)."""
    u = np.sort(v)[::-1]
    css = np.cumsum(u)
    ks = np.arange(1, v.size + 1)
    rho = int(np.nonzero(u * ks > css - 1.0)[0][-1])
    theta = (css[rho] - 1.0) / (rho + 1)
    result: Vector = np.maximum(v - theta, 0.0)
    return result


def _anchor(
    keys: list[str],
    primary: str,
    secondary: str,
    protected: str,
    unique: list[str],
    policy: DiversityPolicy,
) -> Vector | None:
    """A point built to satisfy the constraints (a fallback if the projection stalls)."""
    rest = {k: 0.0 for k in keys if k not in (primary, secondary)}
    if protected in rest:
        rest[protected] = policy.protected_floor + 2 * _TIGHTEN
    if unique and primary not in unique and secondary not in unique:
        members = [k for k in unique if k in rest]
        need = policy.min_unique_share + 2 * _TIGHTEN - math.fsum(rest[k] for k in members)
        for k in members:
            rest[k] += max(0.0, need) / len(members)
    top = max(rest.values(), default=0.0)
    left = 1.0 - math.fsum(rest.values()) - 2 * top - 3 * policy.rank_margin
    if left < 0:
        return None
    weights = dict(rest)
    weights[secondary] = top + policy.rank_margin + left / 2
    weights[primary] = top + 2 * policy.rank_margin + left / 2
    return np.array([weights[k] for k in keys], dtype=np.float64)


def _bisect(
    anchor: Vector,
    target: Vector,
    agent: ContentAgent,
    keys: list[str],
    others: _Others,
    policy: DiversityPolicy,
) -> Vector:
    """The point nearest ``target`` on the segment from ``anchor`` that keeps every rule."""
    lo, hi = 0.0, 1.0
    for _ in range(30):
        mid = (lo + hi) / 2
        point = (1 - mid) * anchor + mid * target
        if _check(agent, _as_weights(keys, point), others, policy):
            hi = mid
        else:
            lo = mid
    result: Vector = (1 - lo) * anchor + lo * target
    return result


def _as_weights(keys: list[str], vector: Vector) -> dict[str, float]:
    clipped = np.maximum(vector, 0.0)
    total = float(clipped.sum())
    return {k: float(v) / total for k, v in zip(keys, clipped, strict=True)}


# --------------------------------------------------------------------------- metrics
def primary_counts(agents: Iterable[ContentAgent]) -> dict[str, int]:
    """How many active agents have each strategy as primary."""
    return dict(sorted(Counter(a.primary for a in agents if a.active).items()))


def population_diversity(agents: Iterable[ContentAgent]) -> float:
    """``1 - (agents sharing the most common primary) / (active agents)``; 0 when empty.

    Six agents with six different primaries score 1 - 1/6 = 0.83; the seed's
    target 0.6 means no more than 40% of agents share a primary.
    """
    counts = primary_counts(agents)
    total = sum(counts.values())
    if total == 0:
        return 0.0
    return 1.0 - max(counts.values()) / total


def strategy_gaps(agents: Iterable[ContentAgent], strategies: Iterable[str]) -> tuple[str, ...]:
    """Strategies no active agent has as primary, least represented first.

    Representation is the total weight the active population puts on a strategy;
    ties go by name so the order is deterministic.
    """
    active = [a for a in agents if a.active]
    primaries = {a.primary for a in active}
    mass = {s: math.fsum(a.weights.get(s, 0.0) for a in active) for s in strategies}
    return tuple(sorted((s for s in mass if s not in primaries), key=lambda s: (mass[s], s)))
