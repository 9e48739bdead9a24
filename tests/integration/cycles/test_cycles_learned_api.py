"""``GET /api/studio/learned``: per brand, what the learner believes, from the stored policies."""

from __future__ import annotations

import httpx
import pytest
from tests.integration.cycles.conftest import StudioFactory, days

from maestro.api.app import create_app
from maestro.engine import Maestro


async def _client(engine: Maestro, workspace_id: str) -> httpx.AsyncClient:
    _, secret = await engine.tenancy.create_key(workspace_id)
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=create_app(engine, manage_engine=False)),
        base_url="http://maestro.test",
        headers={"Authorization": f"Bearer {secret}"},
    )


async def test_each_brand_shows_its_learned_ranking_with_intervals(
    make_studio: StudioFactory,
) -> None:
    studio, driver, engine = await make_studio()
    ws = studio.ctx.workspace_id
    async with await _client(engine, ws) as client:
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
    async with await _client(engine, studio.ctx.workspace_id) as client:
        assert len((await client.get("/api/studio/learned")).json()) == 2
    async with await _client(engine, other) as client:
        assert (await client.get("/api/studio/learned")).json() == []
