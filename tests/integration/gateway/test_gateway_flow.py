"""The gateway end to end: budget, rate limits and accounting around the real providers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from maestro.clock import ManualClock
from maestro.config import Settings
from maestro.engine import Maestro
from maestro.errors import BudgetExceededError, DeferredError, SkippedError
from maestro.llm.accounting import CallRecord, Ledger
from maestro.llm.types import CompletionRequest, Priority
from maestro.store.db import Database
from maestro.store.tenancy import TenancyRepo

PRICED = {
    "offline-pro": {
        "provider": "offline",
        "input_cost_per_token": 1e-4,
        "output_cost_per_token": 1e-4,
        "quality_tier": 3,
    },
    "offline-mini": {
        "provider": "offline",
        "input_cost_per_token": 1e-6,
        "output_cost_per_token": 1e-6,
        "quality_tier": 1,
    },
}

EngineFactory = Callable[..., Awaitable[tuple[Maestro, str]]]


@pytest.fixture
async def make_engine(
    db_settings: dict[str, str | None], clock: ManualClock, key_prefix: str
) -> AsyncIterator[EngineFactory]:
    engines: list[Maestro] = []

    async def factory(**overrides: Any) -> tuple[Maestro, str]:
        settings = Settings.load(
            **db_settings, coord_url="memory://", key_prefix=key_prefix, **overrides
        )
        engine = await Maestro.from_settings(settings, clock=clock).start()
        engines.append(engine)
        ws = await engine.tenancy.create_workspace(f"ws{len(engines)}")
        return engine, ws.id

    yield factory
    for e in engines:
        await e.close()


def _req(i: int = 0, **kw: Any) -> CompletionRequest:
    return CompletionRequest.of(f"Strategy: story\nTopic: sleep {i}\nWrite a post.", **kw)


async def test_every_call_is_accounted(make_engine: EngineFactory) -> None:
    engine, ws = await make_engine()
    await engine.gateway.complete(_req(1), workspace=ws, agent="writer", purpose="draft")
    await engine.gateway.complete(_req(2), workspace=ws, agent="critic", purpose="examine")
    by_agent = {r.key: r for r in await engine.ledger.costs(ws, group_by="agent")}
    assert set(by_agent) == {"writer", "critic"}
    assert all(r.calls == 1 and r.prompt_tokens > 0 for r in by_agent.values())
    by_model = await engine.ledger.costs(ws, group_by="model")
    assert [r.key for r in by_model] == ["offline"]


async def test_parallel_calls_never_spend_more_than_the_budget(make_engine: EngineFactory) -> None:
    engine, ws = await make_engine(
        llm={"models": PRICED, "default_model": "offline-pro"},
        budget={"daily_usd": 0.2},
        ratelimit={"default": {"capacity": 1000, "reserve": 5}},
    )
    results = await asyncio.gather(
        *(
            engine.gateway.complete(
                _req(i, model="offline-pro", max_tokens=200),
                workspace=ws,
                agent="a",
                purpose="p",
                priority=Priority.P2,
            )
            for i in range(40)
        ),
        return_exceptions=True,
    )
    served = [r for r in results if not isinstance(r, BaseException)]
    refused = [r for r in results if isinstance(r, BudgetExceededError)]
    assert served and refused and len(served) + len(refused) == 40
    spent = sum(r.cost_usd for r in served)
    assert spent <= 0.2
    assert await engine.budget.spent_usd(ws) <= 0.2


async def test_over_budget_p2_is_refused_and_p1_moves_to_a_cheaper_model(
    make_engine: EngineFactory,
) -> None:
    engine, ws = await make_engine(
        llm={"models": PRICED},
        budget={"daily_usd": 0.015},
        ratelimit={"default": {"capacity": 1000, "reserve": 5}},
    )
    first = await engine.gateway.complete(
        _req(0, model="offline-pro", max_tokens=100), workspace=ws, agent="a", purpose="p"
    )
    assert first.model == "offline-pro"
    with pytest.raises(BudgetExceededError):
        await engine.gateway.complete(
            _req(1, model="offline-pro", max_tokens=100),
            workspace=ws,
            agent="a",
            purpose="p",
            priority=Priority.P2,
        )
    moved = await engine.gateway.complete(
        _req(2, model="offline-pro", max_tokens=100),
        workspace=ws,
        agent="a",
        purpose="p",
        priority=Priority.P1,
    )
    assert moved.model != "offline-pro"
    assert moved.cost_usd < first.cost_usd
    outcomes = await engine.ledger.outcomes_by_priority(ws)
    assert outcomes["P2"] == {"over_budget": 1}
    assert outcomes["P1"] == {"ok": 2}


async def test_tiny_quota_defers_p2_skips_p3_and_serves_p0(
    make_engine: EngineFactory, clock: ManualClock
) -> None:
    engine, ws = await make_engine(
        ratelimit={"default": {"capacity": 10, "reserve": 2, "refill_per_minute": 1}}
    )
    gw = engine.gateway
    for i in range(8):  # P1 may spend down to the reserve
        await gw.complete(_req(i), workspace=ws, agent="a", purpose="burst")
    with pytest.raises(DeferredError) as deferred:
        await gw.complete(_req(100), workspace=ws, agent="a", purpose="scout", priority=Priority.P2)
    assert deferred.value.retry_at > clock.now()
    with pytest.raises(SkippedError):
        await gw.complete(
            _req(101), workspace=ws, agent="a", purpose="research", priority=Priority.P3
        )
    healed = await gw.complete(
        _req(102), workspace=ws, agent="a", purpose="heal", priority=Priority.P0
    )
    assert healed.text
    outcomes = await engine.ledger.outcomes_by_priority(ws)
    assert outcomes["P2"] == {"deferred": 1}
    assert outcomes["P3"] == {"skipped": 1}
    assert outcomes["P0"] == {"ok": 1}


async def test_costs_endpoint_is_scoped_to_the_callers_workspace(
    engine: Maestro, make_client: Any, workspace_id: str, other_workspace_id: str
) -> None:
    for agent in ("writer", "writer", "critic"):
        await engine.gateway.complete(_req(), workspace=workspace_id, agent=agent, purpose="p")
    await engine.gateway.complete(_req(), workspace=other_workspace_id, agent="spy", purpose="p")
    mine = await make_client(workspace_id)
    body = (await mine.get("/api/costs", params={"group_by": "agent"})).json()
    assert {r["key"]: r["calls"] for r in body["rows"]} == {"critic": 1, "writer": 2}
    theirs = await make_client(other_workspace_id)
    body = (await theirs.get("/api/costs")).json()
    assert [r["key"] for r in body["rows"]] == ["spy"]
    bad = await mine.get("/api/costs", params={"group_by": "colour"})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "group_by"
    budget = (await mine.get("/api/budget")).json()
    assert budget["outcomes_by_priority"] == {"P1": {"ok": 3}}


async def test_repeated_request_is_served_from_cache_within_its_workspace_only(
    make_engine: EngineFactory,
) -> None:
    engine, ws = await make_engine()
    other = (await engine.tenancy.create_workspace("elsewhere")).id
    gw = engine.gateway
    first = await gw.complete(_req(7), workspace=ws, agent="a", purpose="p")
    again = await gw.complete(_req(7), workspace=ws, agent="a", purpose="p")
    assert first.cache_level is None
    assert again.cache_level == "L1" and again.text == first.text and again.cost_usd == 0
    there = await gw.complete(_req(7), workspace=other, agent="a", purpose="p")
    assert there.cache_level is None, "never a hit across workspaces"
    fresh = await gw.complete(_req(7, cache="bypass"), workspace=ws, agent="a", purpose="p")
    assert fresh.cache_level is None
    rows = await engine.ledger.costs(ws, group_by="agent")
    assert rows[0].calls == 3 and rows[0].cache_hits == 1


async def test_buffered_accounting_is_flushed_on_close(
    db_settings: dict[str, str | None], clock: ManualClock, key_prefix: str
) -> None:
    settings = Settings.load(**db_settings, coord_url="memory://", key_prefix=key_prefix)
    engine = await Maestro.from_settings(settings, clock=clock).start()
    ws = (await engine.tenancy.create_workspace("acme")).id
    for i in range(5):
        await engine.gateway.complete(_req(i), workspace=ws, agent="a", purpose="p")
    await engine.close()
    reopened = await Maestro.from_settings(settings, clock=clock).start()
    rows = await reopened.ledger.costs(ws)
    assert rows[0].calls == 5
    await reopened.close()


async def test_full_batches_flush_in_the_background_and_nothing_is_lost(
    db: Database, clock: ManualClock
) -> None:
    ws = (await TenancyRepo(db, clock).create_workspace("acme")).id
    ledger = Ledger(db, clock, batch_size=4, flush_after_s=3600)
    record = CallRecord(ws, "a", "p", Priority.P1, "offline-mini", "ok", 10, 5, 0.001)
    for _ in range(10):
        await ledger.record(record)
    for _ in range(3):
        await ledger.record(record)
        await asyncio.sleep(0)  # let a background flush start
    rows = await ledger.costs(ws)  # a read flushes the rest first
    assert rows[0].calls == 13 and rows[0].prompt_tokens == 130
    await ledger.record(record)
    await ledger.close()
    assert (await Ledger(db, clock).costs(ws))[0].calls == 14
