"""Simulated time: run a studio's scheduler for days in seconds, deterministically.

:class:`SimulatedClock` is a :class:`~maestro.clock.ManualClock` that also says when
something parks on it and when the earliest sleeper wakes. :class:`SimulationDriver`
steps the scheduler: it starts the jobs that are due, lets them run until each has
finished or is parked on the clock (a P1 caller waiting for tokens, a webhook
backoff), then moves the clock to the next event: the earliest wake-up or the next
job tick, whichever comes first.

Determinism: a studio runs its jobs one at a time, so at most one coroutine is
active between clock moves; the order of everything it does depends only on the
simulated time, never on how fast the host is.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime

from maestro.clock import ManualClock
from maestro.jobs.scheduler import Scheduler

__all__ = ["SETTLE_YIELDS", "SimulatedClock", "SimulationDriver"]

SETTLE_YIELDS = 25
"""Event-loop turns a parked state must survive, with no new sleep started, to count as
parked. A provider call races a timeout timer on the clock; an in-process provider
answers and the timer is cancelled within a few turns, so it is not mistaken for a
real wait. (A provider doing real network I/O on simulated time would be: simulated
time is meant for the offline model.)"""


class SimulatedClock(ManualClock):
    """A manual clock that reports parking and its next wake-up."""

    def __init__(self, start: float | datetime = 1_700_000_000.0) -> None:
        super().__init__(start)
        self._parked: asyncio.Event | None = None
        self.parks = 0
        """How many sleeps have started (a change means someone is still making progress)."""

    @property
    def parked(self) -> asyncio.Event:
        """Set whenever a coroutine starts sleeping on this clock."""
        if self._parked is None:
            self._parked = asyncio.Event()
        return self._parked

    async def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self.parks += 1
            self.parked.set()
        await super().sleep(seconds)

    def next_wakeup(self) -> float | None:
        """When the earliest parked sleeper wakes (None: nobody sleeps)."""
        live = [deadline for deadline, _, fut in self._waiters if not fut.done()]
        return min(live) if live else None


class SimulationDriver:
    """Moves a :class:`SimulatedClock` from event to event while a scheduler's jobs run."""

    def __init__(self, clock: SimulatedClock, scheduler: Scheduler) -> None:
        self.clock = clock
        self.scheduler = scheduler

    async def run_until(
        self, end: float | datetime, *, on_advance: Callable[[float], None] | None = None
    ) -> None:
        """Run every job tick before ``end``; then let started jobs finish."""
        stop = end.timestamp() if isinstance(end, datetime) else float(end)
        while True:
            await self.scheduler.run_due()
            await self._settle()
            target = self._next_event()
            if target is None or target >= stop:
                break
            self.clock.set(target)
            if on_advance is not None:
                on_advance(self.clock.time())
        await self.drain()
        if self.clock.time() < stop:
            self.clock.set(stop)
            if on_advance is not None:
                on_advance(stop)

    async def drain(self) -> None:
        """Let running jobs finish, moving the clock only to their own wake-ups."""
        while self._running():
            await self._settle()
            wake = self.clock.next_wakeup()
            if wake is not None and self._running():
                self.clock.set(max(wake, self.clock.time()))

    def _running(self) -> list[asyncio.Task[None]]:
        return [j.task for j in self.scheduler.jobs.values() if j.task is not None and j.running]

    def _next_event(self) -> float | None:
        ticks = [j.next_due for j in self.scheduler.jobs.values()]
        wake = self.clock.next_wakeup()
        candidates = ticks + ([wake] if wake is not None else [])
        return min(candidates) if candidates else None

    async def _settle(self) -> None:
        """Return once every running job has finished or is parked on the clock."""
        while True:
            running = self._running()
            if not running:
                return
            if self.clock.sleepers:
                parks = self.clock.parks
                for _ in range(SETTLE_YIELDS):
                    await asyncio.sleep(0)
                # Parked only if nobody started a new sleep meanwhile: a job that keeps
                # calling a provider keeps starting (and cancelling) timeout timers.
                if self.clock.sleepers and parks == self.clock.parks and self._running():
                    return
                continue
            self.clock.parked.clear()
            parked = asyncio.ensure_future(self.clock.parked.wait())
            try:
                await asyncio.wait([parked, *running], return_when=asyncio.FIRST_COMPLETED)
            finally:
                parked.cancel()
