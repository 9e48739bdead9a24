"""A studio reopened on the same database continues: same population, same learning."""

from __future__ import annotations

from conftest import StudioFactory, days
from maestro.cycles.studio import Studio


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
