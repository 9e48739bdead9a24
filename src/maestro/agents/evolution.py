"""Evolution: survival score, exploration bonus, weekly selection, gap-filling spawns.

Every week the weakest active agents (by survival score, sparing the very
young) retire into the gene pool, where their DNA is kept. Each is replaced by
a child whose primary fills a gap in the population (a strategy no active agent
has as primary, least represented first), bred by crossover of the gene pool
entries that carry the most weight on that gap, never by cloning the top
performer. The new population passes the diversity repair, and population
diversity before and after is reported for the history.

Pure logic: callers pass ``now`` (from their clock) and a seeded
:class:`random.Random`; :class:`~maestro.agents.population_store.PopulationStore`
persists the result.
"""

from __future__ import annotations

import math
import random
import uuid
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field

from maestro.agents.adaptation import DEFAULT_MIN_WEIGHT, AdaptationPolicy
from maestro.agents.content import AgentDNA, ContentAgent
from maestro.agents.diversity import (
    DEFAULT_MIN_UNIQUE_SHARE,
    DEFAULT_PROTECTED_FLOOR,
    DEFAULT_RANK_MARGIN,
    DEFAULT_TARGET_DIVERSITY,
    DiversityPolicy,
    population_diversity,
    primary_counts,
    repair,
    repair_population,
    strategy_gaps,
)
from maestro.errors import ValidationError

__all__ = [
    "DEFAULT_EXPLORATION_BONUS",
    "DEFAULT_EXPLORATION_USES",
    "DEFAULT_MIN_AGE_DAYS",
    "DEFAULT_PERSONALITIES",
    "DEFAULT_POPULATION_SIZE",
    "DEFAULT_RETIRE_FRACTION",
    "EvolutionPolicy",
    "EvolutionResult",
    "GenePoolEntry",
    "PopulationSettings",
    "evolve",
    "found_population",
    "is_underexplored",
    "population_uses",
    "record_use",
    "select_for_retirement",
    "spawn",
]

DEFAULT_EXPLORATION_BONUS = 5.0
"""Seed 000: survival points per early use of an underexplored strategy."""
DEFAULT_EXPLORATION_USES = 3
"""Seed 000: only an agent's first 3 uses of a strategy earn the bonus."""
DEFAULT_UNDEREXPLORED_FRACTION = 0.5
"""A strategy is underexplored below this fraction of the mean uses per strategy."""
DEFAULT_RETIRE_FRACTION = 0.2
"""Share of active agents retired each week (at least one)."""
DEFAULT_MIN_AGE_DAYS = 6.0
"""Agents younger than this are spared by selection (they have not had a week yet)."""
DEFAULT_PRIMARY_SHARE = 0.3
"""Weight a newborn puts on the gap strategy it was spawned to fill."""
DEFAULT_MUTATION_SIGMA = 0.15
"""Log-normal noise on each inherited weight at birth."""
DEFAULT_POPULATION_SIZE = 6
"""Seed 000 / SPEC: six content agents."""
DEFAULT_PERSONALITIES: tuple[str, ...] = (
    "warm and encouraging, plain words",
    "dry wit, short punchy sentences",
    "data-driven and precise",
    "curious and playful",
    "calm expert, no hype",
    "bold and provocative, but fair",
    "storyteller, vivid details",
    "practical coach, action first",
)


@dataclass(frozen=True, kw_only=True)
class EvolutionPolicy:
    """Selection and spawning."""

    exploration_bonus: float = DEFAULT_EXPLORATION_BONUS
    """Points added to survival score per early use of an underexplored strategy."""
    exploration_uses: int = DEFAULT_EXPLORATION_USES
    """How many of an agent's uses of a strategy can earn the bonus."""
    underexplored_fraction: float = DEFAULT_UNDEREXPLORED_FRACTION
    """Underexplored: population uses below this fraction of the mean (or never used)."""
    retire_fraction: float = DEFAULT_RETIRE_FRACTION
    """Share of active agents retired per selection, at least one."""
    min_age_days: float = DEFAULT_MIN_AGE_DAYS
    """Agents younger than this are never retired."""
    primary_share: float = DEFAULT_PRIMARY_SHARE
    """Minimum weight of a newborn's primary (its gap strategy)."""
    mutation_sigma: float = DEFAULT_MUTATION_SIGMA
    """Log-normal noise applied to inherited weights."""
    min_weight: float = DEFAULT_MIN_WEIGHT
    """Weight floor of every strategy in a newborn."""

    def __post_init__(self) -> None:
        checks: list[tuple[str, bool]] = [
            ("exploration_bonus", self.exploration_bonus >= 0),
            ("exploration_uses", self.exploration_uses >= 0),
            ("underexplored_fraction", 0 <= self.underexplored_fraction <= 1),
            ("retire_fraction", 0 < self.retire_fraction <= 0.5),
            ("min_age_days", self.min_age_days >= 0),
            ("primary_share", 0 < self.primary_share <= 0.9),
            ("mutation_sigma", 0 <= self.mutation_sigma <= 1),
            ("min_weight", 0 <= self.min_weight <= 0.1),
        ]
        for name, ok in checks:
            if not ok:
                raise ValidationError(
                    f"{name} is out of range: {getattr(self, name)!r}", field=name
                )


@dataclass(frozen=True, kw_only=True)
class GenePoolEntry:
    """A retired agent's DNA and record: what future generations breed from."""

    id: str
    agent_id: str
    name: str
    dna: AgentDNA
    performance: float
    exploration_bonus: float
    survival_score: float
    uses: Mapping[str, int] = field(default_factory=dict)
    generation: int = 0
    born_at: datetime
    retired_at: datetime

    @classmethod
    def from_agent(cls, agent: ContentAgent, *, at: datetime, entry_id: str) -> GenePoolEntry:
        return cls(
            id=entry_id,
            agent_id=agent.id,
            name=agent.name,
            dna=agent.dna,
            performance=agent.performance,
            exploration_bonus=agent.exploration_bonus,
            survival_score=agent.survival_score,
            uses=dict(agent.uses),
            generation=agent.generation,
            born_at=agent.born_at,
            retired_at=at,
        )


@dataclass(frozen=True)
class EvolutionResult:
    """One weekly selection: who left, who arrived, and what the population looks like."""

    population: tuple[ContentAgent, ...]
    """Active agents after evolution (survivors possibly repaired, then newborns)."""
    retired: tuple[ContentAgent, ...]
    spawned: tuple[ContentAgent, ...]
    gene_pool_added: tuple[GenePoolEntry, ...]
    filled_gaps: tuple[str, ...]
    """The primary each newborn was spawned to fill, in spawn order."""
    diversity_before: float
    diversity_after: float


# --------------------------------------------------------------------------- exploration
def population_uses(agents: Sequence[ContentAgent]) -> Counter[str]:
    total: Counter[str] = Counter()
    for agent in agents:
        if agent.active:
            total.update(agent.uses)
    return total


def is_underexplored(
    strategy: str,
    agents: Sequence[ContentAgent],
    strategies: Sequence[str],
    policy: EvolutionPolicy = EvolutionPolicy(),
) -> bool:
    """True when the active population has (almost) not tried ``strategy``.

    Never used, or used less than ``underexplored_fraction`` x the mean number
    of uses per strategy in the catalog.
    """
    uses = population_uses(agents)
    mean = sum(uses[s] for s in strategies) / max(1, len(strategies))
    return uses[strategy] == 0 or uses[strategy] < policy.underexplored_fraction * mean


def record_use(
    agent: ContentAgent,
    strategy: str,
    population: Sequence[ContentAgent],
    strategies: Sequence[str],
    policy: EvolutionPolicy = EvolutionPolicy(),
) -> ContentAgent:
    """Count one proposal of ``agent`` with ``strategy``, adding the exploration bonus if due.

    The bonus is judged before the use is counted: it rewards going where the
    population has not been, for the agent's first ``exploration_uses`` uses.
    """
    if strategy not in agent.weights:
        raise ValidationError(f"agent {agent.id} has no strategy {strategy!r}", field="strategy")
    bonus = 0.0
    if agent.uses.get(strategy, 0) < policy.exploration_uses and is_underexplored(
        strategy, population, strategies, policy
    ):
        bonus = policy.exploration_bonus
    uses = dict(agent.uses)
    uses[strategy] = uses.get(strategy, 0) + 1
    return replace(agent, uses=uses, exploration_bonus=agent.exploration_bonus + bonus)


# --------------------------------------------------------------------------- founding
def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def found_population(
    strategies: Sequence[str],
    *,
    now: datetime,
    rng: random.Random,
    size: int = DEFAULT_POPULATION_SIZE,
    personalities: Sequence[str] = DEFAULT_PERSONALITIES,
    diversity: DiversityPolicy = DiversityPolicy(),
) -> list[ContentAgent]:
    """The first generation: distinct primaries (each also its protected strategy).

    Agent ``i`` puts 0.3 on strategy ``i`` and 0.2 on strategy ``i + 1`` (so top-2
    pairs differ), the rest spread evenly.
    """
    names = list(strategies)
    if len(names) < 3:
        raise ValidationError(
            f"a population needs at least 3 strategies, got {names}", field="strategies"
        )
    if size < 1:
        raise ValidationError(f"population size must be >= 1, got {size}", field="size")
    order = names[:]
    rng.shuffle(order)
    agents: list[ContentAgent] = []
    for i in range(size):
        primary, secondary = order[i % len(order)], order[(i + 1) % len(order)]
        rest = (1.0 - 0.3 - 0.2) / (len(names) - 2)
        weights = {s: rest for s in names}
        weights[primary], weights[secondary] = 0.3, 0.2
        dna = AgentDNA(
            strategy_weights=weights,
            temperature=round(0.5 + 0.5 * i / max(1, size - 1), 3),
            personality=personalities[i % len(personalities)],
            protected_strategy=primary,
        )
        agents.append(
            ContentAgent(id=_uuid(rng), name=f"{primary} founder {i + 1}", dna=dna, born_at=now)
        )
    return repair_population(agents, diversity)


# --------------------------------------------------------------------------- selection
def select_for_retirement(
    agents: Sequence[ContentAgent], *, now: datetime, policy: EvolutionPolicy = EvolutionPolicy()
) -> tuple[ContentAgent, ...]:
    """The weakest active agents old enough to be judged, weakest first."""
    active = [a for a in agents if a.active]
    count = max(1, math.floor(len(active) * policy.retire_fraction))
    if len(active) < 2:
        return ()
    eligible = [a for a in active if now - a.born_at >= timedelta(days=policy.min_age_days)]
    eligible.sort(key=lambda a: (a.survival_score, a.born_at, a.id))
    return tuple(eligible[:count])


def _gap_for(population: Sequence[ContentAgent], strategies: Sequence[str]) -> str:
    active = [a for a in population if a.active]
    reserved = {a.protected_strategy for a in active}
    gaps = [s for s in strategy_gaps(active, strategies) if s not in reserved]
    if gaps:
        return gaps[0]
    counts = primary_counts(active)
    mass = {s: math.fsum(a.weights.get(s, 0.0) for a in active) for s in strategies}
    return min(strategies, key=lambda s: (counts.get(s, 0), s in reserved, mass[s], s))


def _carrying(
    pool: Sequence[GenePoolEntry], target: str, gaps: Sequence[str]
) -> list[GenePoolEntry]:
    """Gene pool entries ordered by how much they carry the target and the other gaps."""

    def carried(entry: GenePoolEntry) -> tuple[float, float, float, str]:
        w = entry.dna.strategy_weights
        gap_mass = math.fsum(w.get(s, 0.0) for s in gaps)
        return (-w.get(target, 0.0), -gap_mass, -entry.survival_score, entry.id)

    return sorted(pool, key=carried)


def spawn(
    population: Sequence[ContentAgent],
    gene_pool: Sequence[GenePoolEntry],
    strategies: Sequence[str],
    *,
    now: datetime,
    rng: random.Random,
    policy: EvolutionPolicy = EvolutionPolicy(),
    diversity: DiversityPolicy = DiversityPolicy(),
    personalities: Sequence[str] = DEFAULT_PERSONALITIES,
) -> ContentAgent:
    """A newborn whose primary (and protected strategy) fills the population's worst gap."""
    target = _gap_for(population, strategies)
    gaps = strategy_gaps(population, strategies)
    parents = _carrying(gene_pool, target, gaps)[:2]
    weights = _crossover([p.dna.strategy_weights for p in parents], strategies, rng, policy)
    others = max((w for s, w in weights.items() if s != target), default=0.0)
    weights[target] = max(policy.primary_share, others + 2 * diversity.rank_margin, weights[target])
    rest = math.fsum(w for s, w in weights.items() if s != target)
    scale = (1.0 - weights[target]) / rest if rest > 0 else 0.0
    weights = {s: (w if s == target else w * scale) for s, w in weights.items()}
    if parents:
        temperature = sum(p.dna.temperature for p in parents) / len(parents)
        personality = parents[0].dna.personality
    else:
        temperature = 0.7
        personality = rng.choice(list(personalities))
    temperature = min(1.5, max(0.1, temperature + rng.gauss(0.0, 0.05)))
    generation = 1 + max((p.generation for p in parents), default=0)
    agent_id = _uuid(rng)
    child = ContentAgent(
        id=agent_id,
        name=f"{target} g{generation} {agent_id[:6]}",
        dna=AgentDNA(
            strategy_weights=weights,
            temperature=round(temperature, 3),
            personality=personality,
            protected_strategy=target,
        ),
        born_at=now,
        generation=generation,
        parents=tuple(p.id for p in parents),
    )
    return child.with_weights(repair(child, child.weights, population, diversity).weights)


def _crossover(
    parents: Sequence[Mapping[str, float]],
    strategies: Sequence[str],
    rng: random.Random,
    policy: EvolutionPolicy,
) -> dict[str, float]:
    """Blend crossover of up to two parents (uniform DNA stands in for a missing one)."""
    uniform = {s: 1.0 / len(strategies) for s in strategies}
    a = parents[0] if parents else uniform
    b = parents[1] if len(parents) > 1 else uniform
    child: dict[str, float] = {}
    for s in strategies:
        mix = rng.uniform(0.3, 0.7)
        value = mix * a.get(s, 0.0) + (1 - mix) * b.get(s, 0.0)
        child[s] = value * math.exp(rng.gauss(0.0, policy.mutation_sigma))
    total = math.fsum(child.values()) or 1.0
    return {s: max(v / total, policy.min_weight) for s, v in child.items()}


def evolve(
    agents: Sequence[ContentAgent],
    gene_pool: Sequence[GenePoolEntry],
    strategies: Sequence[str],
    *,
    now: datetime,
    rng: random.Random,
    policy: EvolutionPolicy = EvolutionPolicy(),
    diversity: DiversityPolicy = DiversityPolicy(),
) -> EvolutionResult:
    """Weekly selection: retire the weakest into the gene pool, spawn gap-fillers."""
    active = [a for a in agents if a.active]
    before = population_diversity(active)
    leaving = select_for_retirement(active, now=now, policy=policy)
    leaving_ids = {a.id for a in leaving}
    retired = tuple(a.retire(now) for a in leaving)
    added = tuple(GenePoolEntry.from_agent(a, at=now, entry_id=_uuid(rng)) for a in retired)
    pool = [*gene_pool, *added]
    current = [a for a in active if a.id not in leaving_ids]
    spawned: list[ContentAgent] = []
    for _ in retired:
        child = spawn(
            current, pool, strategies, now=now, rng=rng, policy=policy, diversity=diversity
        )
        current.append(child)
        spawned.append(child)
    current = repair_population(current, diversity)
    by_id = {a.id: a for a in current}
    spawned = [by_id[c.id] for c in spawned]
    return EvolutionResult(
        population=tuple(current),
        retired=retired,
        spawned=tuple(spawned),
        gene_pool_added=added,
        filled_gaps=tuple(c.protected_strategy for c in spawned),
        diversity_before=before,
        diversity_after=population_diversity(current),
    )


# --------------------------------------------------------------------------- settings
class PopulationSettings(BaseModel):
    """The content population: diversity rules, adaptation and evolution."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    size: int = Field(default=DEFAULT_POPULATION_SIZE, ge=1, le=64)
    """Content agents per workspace."""
    min_unique_share: float = Field(default=DEFAULT_MIN_UNIQUE_SHARE, ge=0, le=0.5)
    """Minimum weight on strategies that are no other agent's primary."""
    protected_floor: float = Field(default=DEFAULT_PROTECTED_FLOOR, ge=0, le=0.25)
    """Minimum weight of each agent's protected strategy."""
    unique_primaries: bool = True
    """Forbid shared primaries while strategies >= agents."""
    rank_margin: float = Field(default=DEFAULT_RANK_MARGIN, gt=0, le=0.05)
    """Separation a repair leaves between ranked strategies."""
    target_diversity: float = Field(default=DEFAULT_TARGET_DIVERSITY, ge=0, le=1)
    """Population diversity target (reported)."""
    learning_rate: float = Field(default=0.2, gt=0, le=1)
    """Adaptation step toward the score-implied weights per feedback cycle."""
    selectivity: float = Field(default=1.5, ge=0, le=20)
    """Softmax sharpness of adaptation over z-scored strategy scores."""
    min_weight: float = Field(default=DEFAULT_MIN_WEIGHT, ge=0, le=0.1)
    """Weight floor of every strategy (keeps exploring)."""
    exploration_bonus: float = Field(default=DEFAULT_EXPLORATION_BONUS, ge=0)
    """Survival points per early use of an underexplored strategy."""
    exploration_uses: int = Field(default=DEFAULT_EXPLORATION_USES, ge=0)
    """First uses of a strategy that can earn the bonus."""
    retire_fraction: float = Field(default=DEFAULT_RETIRE_FRACTION, gt=0, le=0.5)
    """Share of agents retired by each weekly selection (at least one)."""
    min_age_days: float = Field(default=DEFAULT_MIN_AGE_DAYS, ge=0)
    """Agents younger than this are spared by selection."""

    def diversity_policy(self) -> DiversityPolicy:
        return DiversityPolicy(
            min_unique_share=self.min_unique_share,
            protected_floor=self.protected_floor,
            unique_primaries=self.unique_primaries,
            rank_margin=self.rank_margin,
            target_diversity=self.target_diversity,
        )

    def adaptation_policy(self) -> AdaptationPolicy:
        return AdaptationPolicy(
            learning_rate=self.learning_rate,
            selectivity=self.selectivity,
            min_weight=self.min_weight,
        )

    def evolution_policy(self) -> EvolutionPolicy:
        return EvolutionPolicy(
            exploration_bonus=self.exploration_bonus,
            exploration_uses=self.exploration_uses,
            retire_fraction=self.retire_fraction,
            min_age_days=self.min_age_days,
            min_weight=self.min_weight,
        )
