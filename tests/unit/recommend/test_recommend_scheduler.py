"""The in-process scheduler on a manual clock: aligned ticks, no overlap, lag, failures."""

from __future__ import annotations

import asyncio
from datetime import datetime

import pytest

from maestro.clock import ManualClock
from maestro.errors import ConfigurationError
from maestro.jobs.scheduler import Scheduler

START = 1_767_225_600.0 + 100  # 100 s after a 15-minute boundary


async def test_jobs_run_at_aligned_ticks_with_the_tick_time() -> None:
    clock = ManualClock(START)
    sched = Scheduler(clock)
    seen: list[datetime] = []

    async def job(tick: datetime) -> None:
        seen.append(tick)

    sched.register("j", 900, job)
    assert await sched.run_due() == []
    clock.advance(800)  # reaches the next boundary
    assert await sched.run_due() == ["j"]
    await sched.wait_idle()
    assert [t.timestamp() for t in seen] == [START - 100 + 900]


async def test_after_a_stall_only_the_latest_tick_runs_and_the_rest_count_as_missed() -> None:
    clock = ManualClock(START)
    sched = Scheduler(clock)
    seen: list[float] = []

    async def job(tick: datetime) -> None:
        seen.append(tick.timestamp())

    job_state = sched.register("j", 900, job)
    clock.advance(800 + 3 * 900 + 30)
    await sched.run_due()
    await sched.wait_idle()
    assert seen == [START - 100 + 4 * 900]
    assert job_state.missed == 3
    assert sched.lag()["j"] == pytest.approx(30)


async def test_a_running_job_is_not_started_again() -> None:
    clock = ManualClock(START)
    sched = Scheduler(clock)
    gate = asyncio.Event()
    runs = 0

    async def slow(tick: datetime) -> None:
        nonlocal runs
        runs += 1
        await gate.wait()

    job_state = sched.register("slow", 60, slow)
    clock.advance(60)
    await sched.run_due()
    await asyncio.sleep(0)
    clock.advance(60)
    assert await sched.run_due() == []
    gate.set()
    await sched.wait_idle()
    assert runs == 1 and job_state.missed == 1


async def test_failures_are_recorded_and_health_reports_lag() -> None:
    clock = ManualClock(START)
    sched = Scheduler(clock, lag_alert_s=60)

    async def broken(tick: datetime) -> None:
        raise RuntimeError("boom")

    sched.register("broken", 900, broken)
    clock.advance(800)
    await sched.run_due()
    await sched.wait_idle()
    health = await sched.health()
    assert health["jobs"]["broken"]["failures"] == 1
    assert "boom" in health["jobs"]["broken"]["last_error"]
    assert health["ok"]
    clock.advance(900 + 120)  # a tick is due and nobody ran it
    assert not (await sched.health())["ok"]


async def test_run_forever_wakes_on_the_clock() -> None:
    clock = ManualClock(START)
    sched = Scheduler(clock)
    ticks: list[float] = []

    async def job(tick: datetime) -> None:
        ticks.append(tick.timestamp())

    sched.register("j", 900, job)
    sched.start()
    for _ in range(3):
        await asyncio.sleep(0)
    clock.advance(800)
    for _ in range(5):
        await asyncio.sleep(0)
    clock.advance(900)
    for _ in range(5):
        await asyncio.sleep(0)
    await sched.stop()
    assert ticks == [START - 100 + 900, START - 100 + 1800]


def test_register_refuses_bad_periods_and_duplicates() -> None:
    sched = Scheduler(ManualClock(START))

    async def job(tick: datetime) -> None:
        return None

    with pytest.raises(ConfigurationError, match="positive"):
        sched.register("j", 0, job)
    sched.register("j", 10, job)
    with pytest.raises(ConfigurationError, match="'j'"):
        sched.register("j", 10, job)
