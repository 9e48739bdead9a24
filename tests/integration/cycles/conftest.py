"""A studio on a simulated clock over the parametrised test database."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from maestro.config import Settings
from maestro.cycles.settings import StudioSettings
from maestro.cycles.simclock import SimulatedClock, SimulationDriver
from maestro.cycles.studio import Studio
from maestro.engine import Maestro
from maestro.jobs.scheduler import Scheduler
from maestro.llm.settings import GatewaySettings
from maestro.sim.audience import DEFAULT_START

StudioFactory = Callable[..., Awaitable[tuple[Studio, SimulationDriver, Maestro]]]


@pytest.fixture
async def make_studio(
    db_settings: dict[str, str | None], key_prefix: str
) -> AsyncIterator[StudioFactory]:
    """``await make_studio(studio=..., **settings)``: a studio, its driver and its engine."""
    opened: list[tuple[Studio, Maestro]] = []

    async def factory(
        studio: StudioSettings | None = None, **overrides: Any
    ) -> tuple[Studio, SimulationDriver, Maestro]:
        clock = SimulatedClock(DEFAULT_START)
        settings = Settings.load(
            **db_settings,
            coord_url="memory://",
            key_prefix=key_prefix,
            gateway=GatewaySettings(quota_keys=("workspace",)),
            studio=studio or StudioSettings(brands=("alpha", "beta")),
            **overrides,
        )
        engine = Maestro.from_settings(settings, clock=clock)
        await engine.start()
        workspace = await engine.tenancy.create_workspace("studio")
        s = await Studio.open(engine, workspace.id)
        scheduler = Scheduler(clock)
        s.register(scheduler)
        opened.append((s, engine))
        return s, SimulationDriver(clock, scheduler), engine

    yield factory
    for s, engine in opened:
        await s.close()
        await engine.close()


def days(n: float) -> float:
    return DEFAULT_START.timestamp() + n * 86_400
