"""``GET /api/studio/learned``: per brand, what the learner believes, from the stored policies."""

from __future__ import annotations

import asyncio

import pytest
from tests.conftest import client_for
from tests.integration.cycles.conftest import StudioFactory, days
from typer.testing import CliRunner

from maestro.cli import app
from maestro.config import Settings
from maestro.engine import Maestro
from maestro.learning.bandits.linear import LinearThompson
from maestro.learning.policy_store import PolicyStore


async def test_each_brand_shows_its_learned_ranking_with_intervals(
    make_studio: StudioFactory,
) -> None:
    studio, driver, engine = await make_studio()
    ws = studio.ctx.workspace_id
    async with await client_for(engine, ws) as client:
        assert (await client.get("/api/studio/learned")).json() == []  # nothing learned yet
        await driver.run_until(days(6.5))
        body = (await client.get("/api/studio/learned")).json()
    assert [b["brand"] for b in body] == ["alpha", "beta"]
    for brand in body:
        policy = studio.ctx.selector.policies[f"studio:hybrid:brand={brand['brand']}"]
        assert brand["policy"] == "linear-thompson" and brand["posts"] == policy.t > 0
        rows = brand["strategies"]
        assert len(rows) == 8 and brand["best"] == rows[0]["strategy"]
        lifts = [r["lift"] for r in rows]
        assert lifts == sorted(lifts, reverse=True)
        assert all(r["low"] < r["lift"] < r["high"] for r in rows)
        assert sum(r["recent_share"] for r in rows) == pytest.approx(1.0)
        # What it believes is what it writes: the best estimate wrote the most lately.
        most = max(rows, key=lambda r: r["recent_share"])
        assert most["strategy"] in {r["strategy"] for r in rows[:2]}


async def test_another_workspace_sees_none_of_it(make_studio: StudioFactory) -> None:
    studio, driver, engine = await make_studio()
    await driver.run_until(days(1.5))
    other = (await engine.tenancy.create_workspace("elsewhere")).id
    async with await client_for(engine, studio.ctx.workspace_id) as client:
        assert len((await client.get("/api/studio/learned")).json()) == 2
    async with await client_for(engine, other) as client:
        assert (await client.get("/api/studio/learned")).json() == []


def test_the_cli_prints_each_brands_ranking(cli_env: None) -> None:
    async def setup() -> None:
        async with Maestro.from_settings(Settings.load()) as engine:
            ws = (await engine.tenancy.create_workspace("cli-learned")).id
            policy = LinearThompson(8, seed=1)
            for day in range(12):  # strategy 2 (story) is clearly ahead
                for arm in range(8):
                    value = -3.0 + (0.8 if arm == 2 else 0.0) + 0.05 * ((day * 7 + arm) % 3)
                    policy.observe(arm, value, {"topic=sleep": 1.0}, at=float(day))
            store = PolicyStore(engine.db, engine.clock, engine.settings.learning)
            await store.save(ws, "studio:hybrid:brand=fitbrand", policy)

    asyncio.run(setup())
    out = CliRunner().invoke(app, ["studio", "learned", "cli-learned"])
    assert out.exit_code == 0, out.output
    assert "fitbrand: 96 posts learned (linear-thompson), best: story" in out.output
    lines = [line for line in out.output.splitlines() if "│" in line]
    assert lines[0].split("│")[1].strip() == "story"
    empty = CliRunner().invoke(app, ["studio", "learned", "cli-learned-none"])
    assert empty.exit_code == 1 and "no workspace" in empty.output
