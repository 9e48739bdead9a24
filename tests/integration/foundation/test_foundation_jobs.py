"""``maestro serve`` runs Maestro's periodic jobs on the in-process scheduler."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import httpx

from maestro.api.app import create_app
from maestro.clock import ManualClock
from maestro.engine import Maestro
from maestro.memory.manager import MemoryManager


async def _until(
    predicate: Callable[[], Awaitable[bool]], clock: ManualClock, step: float, rounds: int = 200
) -> bool:
    """Advance the clock step by step until ``predicate`` holds (never sleeping on time)."""
    for _ in range(rounds):
        if await predicate():
            return True
        clock.advance(step)
        await asyncio.sleep(0.01)
    return False


async def test_served_app_runs_retention_and_reports_the_scheduler(
    engine: Maestro, clock: ManualClock, workspace_id: str
) -> None:
    memory = MemoryManager(engine.db, engine.clock, settings=engine.settings.memory)
    await memory.tasks.record(workspace_id, goal="an old goal", agent_sequence=["a"], success=True)
    app = create_app(engine, manage_engine=False, run_jobs=True)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            ready = (await client.get("/health/ready")).json()
            assert ready["components"]["scheduler"]["running"] is True
            assert "memory-retention" in ready["components"]["scheduler"]["jobs"]
            clock.advance(31 * 86_400)

            async def purged() -> bool:
                return not await memory.tasks.recent(workspace_id, 10)

            assert await _until(purged, clock, step=600.0)
    assert "scheduler" not in engine.health_checks, "a stopped scheduler is not reported"
