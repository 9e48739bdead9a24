"""A small periodic-job scheduler on the injected clock (the embedded default).

``register(name, every, job)`` and ``start()``: each job runs once per period,
at times aligned to the epoch (a 15-minute job runs at :00, :15, :30, :45), and
receives the scheduled tick time, so every replica agrees on which tick it is.
A job never overlaps itself: a tick that comes due while the previous one is
still running is counted as missed, and after a stall only the latest due tick
runs (no catch-up storm). Lag (how late a tick started, or how late the
pending one already is) is the health signal.

Jobs that must run once across replicas claim their tick themselves (see
:class:`maestro.recommend.precompute.Precompute`); the scheduler only decides when.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from maestro.clock import Clock, utc_from_timestamp
from maestro.errors import ConfigurationError

__all__ = ["Job", "JobFn", "Scheduler"]

JobFn = Callable[[datetime], Awaitable[object]]
"""A periodic job: called with the scheduled tick time."""

log = logging.getLogger("maestro.jobs")


@dataclass
class Job:
    """A registered job and what the scheduler has seen of it."""

    name: str
    every: float
    fn: JobFn
    next_due: float
    runs: int = 0
    failures: int = 0
    missed: int = 0
    last_tick: datetime | None = None
    last_lag_s: float = 0.0
    last_duration_s: float = 0.0
    last_error: str | None = None
    last_result: object = None
    task: asyncio.Task[None] | None = field(default=None, repr=False)

    @property
    def running(self) -> bool:
        return self.task is not None and not self.task.done()


class Scheduler:
    """Runs registered jobs periodically on ``clock``."""

    def __init__(self, clock: Clock, *, lag_alert_s: float = 300.0) -> None:
        self._clock = clock
        self.lag_alert_s = lag_alert_s
        self.jobs: dict[str, Job] = {}
        self._loop_task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()

    def register(self, name: str, every: float | timedelta, fn: JobFn) -> Job:
        """Run ``fn(tick)`` every ``every`` (seconds or a timedelta), from the next aligned tick."""
        seconds = every.total_seconds() if isinstance(every, timedelta) else float(every)
        if seconds <= 0:
            raise ConfigurationError(
                f"job {name!r}: period {seconds}s must be positive", field="every"
            )
        if name in self.jobs:
            raise ConfigurationError(f"a job named {name!r} is already registered", field="name")
        now = self._clock.time()
        job = Job(name=name, every=seconds, fn=fn, next_due=math.ceil(now / seconds) * seconds)
        self.jobs[name] = job
        self._wake.set()
        return job

    def lag(self) -> dict[str, float]:
        """Seconds each job is behind: the pending tick's delay, else the last start's delay."""
        now = self._clock.time()
        return {
            name: max(job.last_lag_s, now - job.next_due if not job.running else 0.0, 0.0)
            for name, job in self.jobs.items()
        }

    async def health(self) -> dict[str, Any]:
        """``ok`` while no job lags more than ``lag_alert_s``; per-job counters."""
        lags = self.lag()
        return {
            "ok": all(v < self.lag_alert_s for v in lags.values()),
            "running": self._loop_task is not None and not self._loop_task.done(),
            "jobs": {
                name: {
                    "lag_s": round(lags[name], 3),
                    "runs": job.runs,
                    "failures": job.failures,
                    "missed": job.missed,
                    "last_error": job.last_error,
                }
                for name, job in self.jobs.items()
            },
        }

    async def run_due(self) -> list[str]:
        """Start every job whose tick is due; return their names (tasks run in background)."""
        now = self._clock.time()
        started: list[str] = []
        for job in self.jobs.values():
            if job.next_due > now:
                continue
            latest = job.next_due + math.floor((now - job.next_due) / job.every) * job.every
            skipped = round((latest - job.next_due) / job.every)
            job.next_due = latest + job.every
            if job.running:
                job.missed += skipped + 1
                continue
            job.missed += skipped
            job.last_lag_s = now - latest
            job.task = asyncio.create_task(self._run(job, latest), name=f"job:{job.name}")
            started.append(job.name)
        return started

    async def wait_idle(self) -> None:
        """Wait until no job is running (tests and shutdown)."""
        tasks = [j.task for j in self.jobs.values() if j.task is not None and not j.task.done()]
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _run(self, job: Job, tick: float) -> None:
        started = self._clock.time()
        job.last_tick = utc_from_timestamp(tick)
        try:
            job.last_result = await job.fn(job.last_tick)
            job.runs += 1
            job.last_error = None
        except Exception as exc:
            job.failures += 1
            job.last_error = f"{exc.__class__.__name__}: {exc}"
            log.exception("job %s failed at tick %s", job.name, job.last_tick.isoformat())
        finally:
            job.last_duration_s = self._clock.time() - started

    async def run_forever(self) -> None:
        """Start due jobs, sleep until the next tick on the clock, repeat."""
        while True:
            await self.run_due()
            self._wake.clear()
            if not self.jobs:
                await self._wake.wait()
                continue
            delay = min(j.next_due for j in self.jobs.values()) - self._clock.time()
            sleeper = asyncio.ensure_future(self._clock.sleep(max(delay, 0.0)))
            waker = asyncio.ensure_future(self._wake.wait())
            _, pending = await asyncio.wait({sleeper, waker}, return_when=asyncio.FIRST_COMPLETED)
            for p in pending:
                p.cancel()

    def start(self) -> asyncio.Task[None]:
        """Run :meth:`run_forever` in the background (idempotent)."""
        if self._loop_task is None or self._loop_task.done():
            self._loop_task = asyncio.create_task(self.run_forever(), name="maestro-scheduler")
        return self._loop_task

    async def stop(self) -> None:
        """Stop scheduling and wait for running jobs to finish."""
        if self._loop_task is not None:
            self._loop_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop_task
            self._loop_task = None
        await self.wait_idle()
