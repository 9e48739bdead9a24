"""The population store on SQLite and PostgreSQL: persistence, isolation, gene pool."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import timedelta

import pytest

from maestro.agents.content import ContentAgent
from maestro.agents.diversity import population_diversity
from maestro.agents.evolution import evolve, found_population, record_use
from maestro.agents.population_store import PopulationStore
from maestro.agents.strategies import DEFAULT_STRATEGIES, Strategy
from maestro.clock import ManualClock
from maestro.engine import Maestro
from maestro.errors import ConflictError, NotFoundError
from maestro.store.db import Database

STRATEGIES = tuple(s.name for s in DEFAULT_STRATEGIES)
WEEK = timedelta(days=7)


@pytest.fixture
def store(engine: Maestro, clock: ManualClock) -> PopulationStore:
    return PopulationStore(engine.db, clock)


def founders(clock: ManualClock, seed: int = 1) -> list[ContentAgent]:
    return found_population(STRATEGIES, now=clock.now(), rng=random.Random(seed))


async def test_agents_round_trip_exactly(
    store: PopulationStore, workspace_id: str, clock: ManualClock
) -> None:
    agents = founders(clock)
    agents[0] = record_use(agents[0], "story", agents, STRATEGIES).with_performance(0.37)
    await store.save_agents(workspace_id, agents)
    loaded = await store.list_agents(workspace_id)
    assert sorted(loaded, key=lambda a: a.id) == sorted(agents, key=lambda a: a.id)
    one = await store.get_agent(workspace_id, agents[0].id)
    assert one == agents[0]
    assert one.exploration_bonus == 5.0 and one.uses == {"story": 1}


async def test_saving_again_updates_in_place(
    store: PopulationStore, workspace_id: str, clock: ManualClock
) -> None:
    agents = founders(clock)
    await store.save_agents(workspace_id, agents)
    moved = agents[2].with_performance(0.9)
    await store.save_agent(workspace_id, moved)
    loaded = await store.list_agents(workspace_id)
    assert len(loaded) == 6
    assert (await store.get_agent(workspace_id, moved.id)).performance == 0.9


async def test_workspaces_never_see_each_other(
    store: PopulationStore, workspace_id: str, other_workspace_id: str, clock: ManualClock
) -> None:
    agents = founders(clock)
    await store.save_agents(workspace_id, agents)
    assert await store.list_agents(other_workspace_id) == []
    with pytest.raises(NotFoundError):
        await store.get_agent(other_workspace_id, agents[0].id)
    with pytest.raises(ConflictError):
        await store.save_agent(other_workspace_id, agents[0])
    with pytest.raises(NotFoundError):
        await store.delete_agent(other_workspace_id, agents[0].id)
    await store.retire(workspace_id, agents[0].id)
    assert await store.gene_pool(other_workspace_id) == []
    await store.record_diversity(workspace_id, agents, "founding")
    assert await store.diversity_history(other_workspace_id) == []


async def test_gene_pool_dna_survives_agent_death(
    store: PopulationStore, workspace_id: str, clock: ManualClock, engine: Maestro
) -> None:
    agents = founders(clock)
    await store.save_agents(workspace_id, agents)
    clock.advance(WEEK.total_seconds())
    entry = await store.retire(workspace_id, agents[3].id)
    assert entry.dna == agents[3].dna
    retired = await store.get_agent(workspace_id, agents[3].id)
    assert retired.status == "retired" and retired.retired_at == clock.now()
    assert agents[3].id not in {a.id for a in await store.list_agents(workspace_id)}
    with pytest.raises(ConflictError):
        await store.retire(workspace_id, agents[3].id)

    await store.delete_agent(workspace_id, agents[3].id)
    with pytest.raises(NotFoundError):
        await store.get_agent(workspace_id, agents[3].id)

    # a fresh connection (another process, later) still finds the DNA
    fresh = Database(engine.db.url, schema=engine.settings.database_schema)
    try:
        (kept,) = await PopulationStore(fresh, clock).gene_pool(workspace_id)
    finally:
        await fresh.dispose()
    assert kept.agent_id == agents[3].id
    assert kept.dna == agents[3].dna
    assert kept.retired_at == clock.now()


async def test_an_evolution_step_is_persisted_with_its_diversity(
    store: PopulationStore, workspace_id: str, clock: ManualClock
) -> None:
    rng = random.Random(4)
    agents = [a.with_performance(0.1 * (i + 1)) for i, a in enumerate(founders(clock))]
    await store.save_agents(workspace_id, agents)
    await store.record_diversity(workspace_id, agents, "founding")
    clock.advance(WEEK.total_seconds())
    pool = await store.gene_pool(workspace_id)
    result = evolve(agents, pool, STRATEGIES, now=clock.now(), rng=rng)
    point = await store.apply_evolution(workspace_id, result)

    active = await store.list_agents(workspace_id)
    assert {a.id for a in active} == {a.id for a in result.population}
    everyone = await store.list_agents(workspace_id, include_retired=True)
    assert len(everyone) == 7
    (entry,) = await store.gene_pool(workspace_id)
    assert entry.agent_id == result.retired[0].id
    history = await store.diversity_history(workspace_id)
    assert [h.event for h in history] == ["founding", "evolution"]
    assert history[-1] == point
    assert point.diversity == pytest.approx(population_diversity(result.population))
    assert point.agents == 6 and sum(point.primaries.values()) == 6
    assert await store.diversity_history(workspace_id, since=clock.now()) == [point]


async def test_gene_pool_pruning_keeps_the_best(
    store: PopulationStore, workspace_id: str, clock: ManualClock
) -> None:
    agents = [a.with_performance(0.1 * (i + 1)) for i, a in enumerate(founders(clock))]
    await store.save_agents(workspace_id, agents)
    for a in agents[:4]:
        clock.advance(60)
        await store.retire(workspace_id, a.id)
    assert await store.prune_gene_pool(workspace_id, keep=2) == 2
    kept = await store.gene_pool(workspace_id)
    assert sorted(e.performance for e in kept) == pytest.approx([0.3, 0.4])


async def test_custom_strategies_persist_per_workspace(
    store: PopulationStore, workspace_id: str, other_workspace_id: str
) -> None:
    custom = Strategy(name="behind-the-scenes", title="Behind the scenes", prompt_fragment="Show.")
    await store.add_strategy(workspace_id, custom)
    catalog = await store.catalog(workspace_id)
    assert len(catalog) == 9
    assert catalog.fragment("behind-the-scenes") == "Show."
    assert "behind-the-scenes" not in await store.catalog(other_workspace_id)
    with pytest.raises(ConflictError):
        await store.add_strategy(workspace_id, custom)
    with pytest.raises(ConflictError):
        await store.add_strategy(
            workspace_id, replace(DEFAULT_STRATEGIES[0], builtin=False, title="Mine")
        )
