"""A studio reopened on the same database continues: same population, same learning."""

from __future__ import annotations

from tests.integration.cycles.conftest import StudioFactory, days

from maestro.agents.strategies import Strategy
from maestro.cycles.simclock import SimulationDriver
from maestro.cycles.studio import Studio
from maestro.jobs.scheduler import Scheduler


async def test_reopened_studio_continues_population_and_policies(
    make_studio: StudioFactory,
) -> None:
    studio, driver, engine = await make_studio()
    await driver.run_until(days(1.5))
    ws = studio.ctx.workspace_id
    before = studio.ctx.selector.policies
    assert before and sum(studio.ctx.selector.observed.values()) > 0
    again = await Studio.open(engine, ws)
    assert {a.id: a.weights for a in again.ctx.agents} == {
        a.id: a.weights for a in studio.ctx.agents
    }
    assert set(again.ctx.selector.policies) == set(before)
    for key, policy in before.items():
        assert again.ctx.selector.policies[key].state() == policy.state()


async def test_a_strategy_added_later_joins_the_studio_and_its_learning(
    make_studio: StudioFactory,
) -> None:
    """The catalog grows from 8 to 9: the stored 8-arm policies are relearned from the posts."""
    studio, driver, engine = await make_studio()
    await driver.run_until(days(2.5))
    ws = studio.ctx.workspace_id
    measured = len(await studio.ctx.items.measured(ws))
    assert measured > 0
    await studio.ctx.population.add_strategy(
        ws, Strategy(name="behind-the-scenes", title="Behind the scenes", prompt_fragment="Show.")
    )
    again = await Studio.open(engine, ws)
    selector = again.ctx.selector
    assert len(selector.strategies) == 9 and "behind-the-scenes" in selector.strategies
    assert selector.policies and all(p.n_arms == 9 for p in selector.policies.values())
    assert sum(p.t for p in selector.policies.values()) == measured  # nothing forgotten
    stored = await again.ctx.policies.get(ws, next(iter(selector.policies)))
    assert stored is not None and stored.policy.n_arms == 9
    # It keeps working with the new strategy: bursts, feedback, weekly evolution.
    scheduler = Scheduler(engine.clock)
    await studio.close()
    again.register(scheduler)
    await SimulationDriver(driver.clock, scheduler).run_until(days(9))
    used = {i.strategy for i in await again.ctx.items.list_items(ws, status="published", limit=500)}
    assert "behind-the-scenes" in used
    assert all(set(a.weights) == set(selector.strategies) for a in again.ctx.agents)
    # Every measured post was learned from exactly once: by the relearning or by a harvest.
    total = sum(p.t for p in selector.policies.values())
    assert total == len(await again.ctx.items.measured(ws)) > measured


async def test_switching_the_learner_relearns_from_the_posts(make_studio: StudioFactory) -> None:
    studio, driver, engine = await make_studio()
    await driver.run_until(days(1.5))
    ws = studio.ctx.workspace_id
    measured = len(await studio.ctx.items.measured(ws))
    settings = studio.ctx.settings.model_copy(update={"policy": "adaptive"})
    again = await Studio.open(engine, ws, settings=settings)
    policies = again.ctx.selector.policies
    assert policies and {p.name for p in policies.values()} == {"adaptive"}
    assert sum(p.t for p in policies.values()) == measured
