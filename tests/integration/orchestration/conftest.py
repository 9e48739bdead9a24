"""Fixtures for orchestration: an engine whose buckets never make a test wait.

The LLM is Maestro's real gateway on the offline model; the default bucket is
widened because a debate makes more calls than the seed's 30-token bucket holds,
and a P1 caller waiting on a manual clock would wait forever.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from tests.conftest import client_for

from maestro.clock import ManualClock
from maestro.config import Settings
from maestro.engine import Maestro
from maestro.orchestration.service import Orchestration, orchestration_for

WIDE_BUCKETS: dict[str, Any] = {"default": {"capacity": 1_000_000, "refill_per_minute": 1_000_000}}


def orch_settings(db_settings: dict[str, str | None], key_prefix: str, **extra: Any) -> Settings:
    orchestration = {"webhook": {"backoff_seconds": 0.0}, **extra.pop("orchestration", {})}
    return Settings.load(
        **db_settings,
        coord_url="memory://",
        key_prefix=key_prefix,
        ratelimit=WIDE_BUCKETS,
        orchestration=orchestration,
        **extra,
    )


@pytest.fixture
async def oengine(
    db_settings: dict[str, str | None], clock: ManualClock, key_prefix: str
) -> AsyncIterator[Maestro]:
    eng = Maestro.from_settings(orch_settings(db_settings, key_prefix), clock=clock)
    await eng.start()
    yield eng
    await orchestration_for(eng).drain()
    await eng.close()


@pytest.fixture
async def ws(oengine: Maestro) -> str:
    return (await oengine.tenancy.create_workspace("studio")).id


@pytest.fixture
async def other_ws(oengine: Maestro) -> str:
    return (await oengine.tenancy.create_workspace("rival")).id


@pytest.fixture
def orch(oengine: Maestro) -> Orchestration:
    return orchestration_for(oengine)


@pytest.fixture
async def oapi(oengine: Maestro, ws: str) -> AsyncIterator[httpx.AsyncClient]:
    client = await client_for(oengine, ws)
    yield client
    await client.aclose()


@pytest.fixture
async def oclient(oengine: Maestro) -> AsyncIterator[Any]:
    """``await oclient(workspace_id)``: another authenticated client."""
    made: list[httpx.AsyncClient] = []

    async def factory(workspace: str) -> httpx.AsyncClient:
        made.append(await client_for(oengine, workspace))
        return made[-1]

    yield factory
    for c in made:
        await c.aclose()
