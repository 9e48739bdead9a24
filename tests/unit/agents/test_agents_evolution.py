from __future__ import annotations

import random
from dataclasses import replace
from datetime import timedelta

import pytest
from population_builders import NOW, STRATEGIES, make_agent

from maestro.agents.content import AgentDNA, ContentAgent
from maestro.agents.diversity import (
    DiversityPolicy,
    check_population,
    population_diversity,
    repair_population,
    strategy_gaps,
)
from maestro.agents.evolution import (
    EvolutionPolicy,
    GenePoolEntry,
    evolve,
    found_population,
    is_underexplored,
    record_use,
    select_for_retirement,
    spawn,
)
from maestro.errors import ValidationError

WEEK = timedelta(days=7)


def with_uses(agent: ContentAgent, **uses: int) -> ContentAgent:
    return replace(agent, uses={k.replace("_", "-"): v for k, v in uses.items()})


def entry(entry_id: str, weights: dict[str, float], *, score: float = 10.0) -> GenePoolEntry:
    full = dict.fromkeys(STRATEGIES, 0.02) | weights
    return GenePoolEntry(
        id=entry_id,
        agent_id=f"agent-{entry_id}",
        name=entry_id,
        dna=AgentDNA(
            strategy_weights=full,
            temperature=0.9,
            personality=f"voice of {entry_id}",
            protected_strategy=max(full, key=full.__getitem__),
        ),
        performance=score / 100,
        exploration_bonus=0.0,
        survival_score=score,
        born_at=NOW - 4 * WEEK,
        retired_at=NOW - WEEK,
    )


# ------------------------------------------------------------ exploration bonus
def test_first_three_uses_of_an_underexplored_strategy_earn_five_points_each() -> None:
    population = [
        with_uses(make_agent("a", ["story", "how-to"]), story=20, how_to=20),
        with_uses(make_agent("b", ["how-to", "question"]), how_to=20, question=20),
    ]
    agent = population[0]
    earned = []
    for _ in range(4):
        before = agent.exploration_bonus
        agent = record_use(agent, "listicle", [agent, population[1]], STRATEGIES)
        earned.append(agent.exploration_bonus - before)
    assert earned == [5.0, 5.0, 5.0, 0.0]
    assert agent.uses["listicle"] == 4
    assert agent.survival_score == pytest.approx(15.0)


def test_a_well_explored_strategy_earns_no_bonus() -> None:
    population = [
        with_uses(make_agent("a", ["story", "how-to"]), story=20),
        with_uses(make_agent("b", ["how-to", "question"]), story=20),
    ]
    assert not is_underexplored("story", population, STRATEGIES)
    after = record_use(population[1], "story", population, STRATEGIES)
    assert after.exploration_bonus == 0.0
    assert after.uses["story"] == 21


def test_a_rarely_used_strategy_counts_as_underexplored() -> None:
    population = [with_uses(make_agent("a", ["story", "how-to"]), story=40, how_to=40, question=1)]
    assert is_underexplored("question", population, STRATEGIES)  # 1 < 0.5 * 10.1
    assert is_underexplored("listicle", population, STRATEGIES)  # never used


def test_recording_a_strategy_the_agent_lacks_is_rejected() -> None:
    agent = make_agent("a", ["story", "how-to"], strategies=("story", "how-to", "question"))
    with pytest.raises(ValidationError) as exc:
        record_use(agent, "listicle", [agent], STRATEGIES)
    assert exc.value.field == "strategy"


# -------------------------------------------------------------------- selection
def test_selection_retires_the_lowest_survival_score() -> None:
    population = found_population(STRATEGIES, now=NOW, rng=random.Random(1))
    scores = [0.5, 0.2, 0.9, 0.05, 0.6, 0.4]
    population = [a.with_performance(p) for a, p in zip(population, scores, strict=True)]
    weakest = select_for_retirement(population, now=NOW + WEEK)
    assert [a.performance for a in weakest] == [0.05]
    two = select_for_retirement(
        population, now=NOW + WEEK, policy=EvolutionPolicy(retire_fraction=0.34)
    )
    assert [a.performance for a in two] == [0.05, 0.2]


def test_exploration_bonus_can_save_an_agent_from_retirement() -> None:
    population = found_population(STRATEGIES, now=NOW, rng=random.Random(1))
    population = [a.with_performance(0.5) for a in population]
    population[0] = population[0].with_performance(0.3)
    population[1] = replace(population[1].with_performance(0.25), exploration_bonus=15.0)
    (weakest,) = select_for_retirement(population, now=NOW + WEEK)
    assert weakest.id == population[0].id


def test_young_agents_are_spared() -> None:
    population = found_population(STRATEGIES, now=NOW, rng=random.Random(1))
    population = [a.with_performance(0.5) for a in population]
    population[0] = replace(population[0].with_performance(0.0), born_at=NOW + 5 * WEEK)
    (weakest,) = select_for_retirement(population, now=NOW + 5 * WEEK + timedelta(days=2))
    assert weakest.id != population[0].id


def test_a_lone_agent_is_never_retired() -> None:
    (only,) = found_population(STRATEGIES, now=NOW, rng=random.Random(1), size=1)
    assert select_for_retirement([only], now=NOW + WEEK) == ()


# --------------------------------------------------------------------- spawning
def test_spawn_fills_the_least_represented_gap_as_primary_and_protected() -> None:
    population = found_population(STRATEGIES, now=NOW, rng=random.Random(3))
    gaps = strategy_gaps(population, STRATEGIES)
    assert len(gaps) == 2
    child = spawn(population, [], STRATEGIES, now=NOW, rng=random.Random(0))
    assert child.primary == gaps[0]
    assert child.protected_strategy == gaps[0]
    assert check_population([*population, child]) == ()


def test_spawn_breeds_from_gene_pool_dna_that_carries_the_gap() -> None:
    population = found_population(STRATEGIES, now=NOW, rng=random.Random(3))
    gap = strategy_gaps(population, STRATEGIES)[0]
    champion_primary = population[0].primary
    pool = [
        entry("clone-of-winner", {champion_primary: 0.8}, score=90.0),
        entry("carrier", {gap: 0.6}, score=20.0),
        entry("other", {population[1].primary: 0.5}, score=50.0),
    ]
    child = spawn(population, pool, STRATEGIES, now=NOW, rng=random.Random(0))
    assert child.parents[0] == "carrier"
    assert child.dna.personality == "voice of carrier"
    assert child.generation == 1
    assert child.primary == gap


def test_spawn_with_an_empty_gene_pool_still_fills_a_gap() -> None:
    population = found_population(STRATEGIES, now=NOW, rng=random.Random(4))
    child = spawn(population, [], STRATEGIES, now=NOW, rng=random.Random(9))
    assert child.parents == ()
    assert child.primary in strategy_gaps(population, STRATEGIES)


# -------------------------------------------------------------------- evolution
def collapsed_population() -> list[ContentAgent]:
    """Six agents, four of which share the primary ``story`` (diversity 1/3)."""
    lax = DiversityPolicy(unique_primaries=False)
    secondaries = ["how-to", "question", "listicle", "stat-hook"]
    agents = [
        make_agent(f"s{i}", ["story", s], protected=s, top_weights=(0.35, 0.25))
        for i, s in enumerate(secondaries)
    ]
    agents += [
        make_agent("c", ["contrarian", "how-to"], performance=0.8),
        make_agent("p", ["social-proof", "question"], performance=0.7),
    ]
    agents = [
        a if a.performance else a.with_performance(0.1 + 0.05 * i) for i, a in enumerate(agents)
    ]
    return repair_population(agents, lax)


def test_selection_and_spawning_restore_diversity_by_filling_gaps() -> None:
    lax = DiversityPolicy(unique_primaries=False)
    population = collapsed_population()
    assert population_diversity(population) == pytest.approx(1 / 3)
    policy = EvolutionPolicy(retire_fraction=0.5)
    result = evolve(
        population,
        [],
        STRATEGIES,
        now=NOW + WEEK,
        rng=random.Random(1),
        policy=policy,
        diversity=lax,
    )
    assert len(result.retired) == 3
    assert all(a.primary == "story" for a in result.retired)
    assert len(result.population) == 6
    survivors_primaries = {a.primary for a in result.population if a not in result.spawned}
    assert not set(result.filled_gaps) & survivors_primaries
    assert len(set(result.filled_gaps)) == 3
    assert [c.primary for c in result.spawned] == list(result.filled_gaps)
    assert result.diversity_before == pytest.approx(1 / 3)
    assert result.diversity_after >= 0.6
    assert check_population(result.population, lax) == ()


def test_retired_agents_enter_the_gene_pool_with_their_dna() -> None:
    population = [
        a.with_performance(0.1 * (i + 1))
        for i, a in enumerate(found_population(STRATEGIES, now=NOW, rng=random.Random(6)))
    ]
    result = evolve(population, [], STRATEGIES, now=NOW + WEEK, rng=random.Random(2))
    (retired,) = result.retired
    (added,) = result.gene_pool_added
    assert retired.status == "retired" and retired.retired_at == NOW + WEEK
    assert added.agent_id == retired.id
    assert added.dna == population[0].dna
    assert added.survival_score == pytest.approx(population[0].survival_score)
    assert retired.id not in {a.id for a in result.population}
    assert result.diversity_after >= 0.6


def test_evolution_is_deterministic_for_a_seed() -> None:
    population = [
        a.with_performance(0.1 * (i + 1))
        for i, a in enumerate(found_population(STRATEGIES, now=NOW, rng=random.Random(6)))
    ]
    pool = [entry("e1", {"question": 0.5}), entry("e2", {"listicle": 0.4})]
    first = evolve(population, pool, STRATEGIES, now=NOW + WEEK, rng=random.Random(11))
    second = evolve(population, pool, STRATEGIES, now=NOW + WEEK, rng=random.Random(11))
    assert first == second
    other = evolve(population, pool, STRATEGIES, now=NOW + WEEK, rng=random.Random(12))
    assert other.spawned[0].id != first.spawned[0].id


def test_many_weeks_of_evolution_keep_every_rule() -> None:
    rng = random.Random(8)
    population = found_population(STRATEGIES, now=NOW, rng=rng)
    pool: list[GenePoolEntry] = []
    now = NOW
    for _ in range(12):
        now += WEEK
        population = [a.with_performance(rng.random()) for a in population]
        result = evolve(population, pool, STRATEGIES, now=now, rng=rng)
        pool += result.gene_pool_added
        population = list(result.population)
        assert check_population(population) == ()
        assert population_diversity(population) >= 0.6
    assert len(pool) == 12
    assert max(a.generation for a in population) >= 1
