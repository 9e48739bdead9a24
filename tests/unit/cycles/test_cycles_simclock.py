"""The simulated-time driver: jobs at their ticks, parked waits advanced, racing timers not."""

from __future__ import annotations

import asyncio
from datetime import datetime

from maestro.cycles.simclock import SimulatedClock, SimulationDriver
from maestro.jobs.scheduler import Scheduler
from maestro.llm.resilience import TimeoutProvider
from maestro.llm.types import CompletionRequest, ProviderReply, Usage

START = 1_767_225_600.0  # 2026-01-01T00:00:00Z


async def test_jobs_run_at_their_ticks_and_waits_inside_them_advance_the_clock() -> None:
    clock = SimulatedClock(START)
    scheduler = Scheduler(clock)
    seen: list[tuple[str, float]] = []

    async def hourly(tick: datetime) -> None:
        seen.append(("hourly", tick.timestamp() - START))

    async def waiter(tick: datetime) -> None:
        for _ in range(3):
            await clock.sleep(600)  # e.g. a P1 caller waiting for tokens
        seen.append(("waited", clock.time() - START))

    scheduler.register("hourly", 3600, hourly)
    scheduler.register("daily", 86_400, waiter)
    await SimulationDriver(clock, scheduler).run_until(START + 3 * 3600)
    assert ("waited", 1800.0) in seen
    assert [t for name, t in seen if name == "hourly"] == [0.0, 3600.0, 7200.0]
    assert clock.time() == START + 3 * 3600


async def test_a_timeout_timer_racing_an_instant_answer_does_not_move_time() -> None:
    class Instant:
        name = "instant"

        async def complete(self, request: CompletionRequest, model: str) -> ProviderReply:
            return ProviderReply(text="ok", model=model, usage=Usage())

    clock = SimulatedClock(START)
    provider = TimeoutProvider(Instant(), timeout_s=30, clock=clock)
    scheduler = Scheduler(clock)
    answers: list[float] = []

    async def job(tick: datetime) -> None:
        for _ in range(20):
            await provider.complete(CompletionRequest.of("hi"), "m")
            answers.append(clock.time() - START)

    scheduler.register("calls", 86_400, job)
    await SimulationDriver(clock, scheduler).run_until(START + 60)
    assert answers == [0.0] * 20


async def test_drain_finishes_a_job_that_is_still_waiting_at_the_end() -> None:
    clock = SimulatedClock(START)
    scheduler = Scheduler(clock)
    done = asyncio.Event()

    async def long(tick: datetime) -> None:
        await clock.sleep(7200)
        done.set()

    scheduler.register("long", 86_400, long)
    await SimulationDriver(clock, scheduler).run_until(START + 60)
    assert done.is_set()
    assert clock.time() == START + 7200
