"""``GET /api/rate-limit`` shows the caller's workspace quota and the shared buckets only."""

from __future__ import annotations

import httpx

from maestro.engine import Maestro
from maestro.llm.ratelimit import Granted, model_key, provider_key, workspace_key
from maestro.llm.types import Priority


async def test_rate_limit_state_is_scoped_to_the_caller(
    engine: Maestro, api: httpx.AsyncClient, workspace_id: str, other_workspace_id: str
) -> None:
    limiter = engine.limiter
    for _ in range(3):
        assert isinstance(await limiter.acquire(workspace_key(workspace_id), Priority.P1), Granted)
    await limiter.acquire(workspace_key(other_workspace_id), Priority.P2)
    await limiter.acquire(model_key("gpt-4o-mini"), Priority.P2)
    await limiter.acquire(provider_key("openai"), Priority.P0)

    response = await api.get("/api/rate-limit")
    assert response.status_code == 200
    body = response.json()
    mine = body["workspace"]
    assert mine["key"] == workspace_key(workspace_id)
    assert mine["tokens"] == 27 and mine["capacity"] == 30
    assert mine["calls_last_hour"] == 3
    assert mine["priorities"]["P1"]["calls"] == 3
    assert [b["key"] for b in body["buckets"]] == ["model:gpt-4o-mini", "provider:openai"]
    assert other_workspace_id not in response.text
    assert body["degraded"] is False and body["backend"] == "memory"


async def test_rate_limit_needs_a_key(anon: httpx.AsyncClient) -> None:
    response = await anon.get("/api/rate-limit")
    assert response.status_code == 401
