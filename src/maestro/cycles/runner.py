"""Running a studio for real: its jobs on the wall clock until asked to stop.

The demo drives the same :class:`~maestro.cycles.studio.Studio` on simulated time;
:func:`run_studio` is what ``maestro studio run`` (and a library user) calls to run
it on the engine's clock. The scheduler aligns ticks to the epoch, so a daily burst
runs at midnight UTC; ``burst_now`` adds one burst at start (a first day's content,
or a smoke test of a new configuration).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from maestro.jobs.scheduler import Scheduler

if TYPE_CHECKING:
    from maestro.cycles.studio import Studio

__all__ = ["JobDone", "run_studio"]

log = logging.getLogger("maestro.cycles")


@dataclass(frozen=True, slots=True)
class JobDone:
    """One job of a running studio finished (or failed): for progress output."""

    job: str
    """Short name: ``burst``, ``metrics``, ``feedback``, ``evolution``, ``scout``..."""
    tick: datetime
    result: Any
    error: str | None = None


Listener = Callable[[JobDone], None]


async def run_studio(
    studio: Studio,
    stop: asyncio.Event,
    *,
    burst_now: bool = False,
    on_job: Listener | None = None,
) -> Scheduler:
    """Run ``studio``'s jobs on its engine's clock until ``stop`` is set.

    Returns the scheduler once running jobs have finished (its per-job counters
    say what ran). A failing job is logged by the scheduler, reported to
    ``on_job`` with its error, and tried again at its next tick.
    """
    clock = studio.ctx.clock
    scheduler = Scheduler(clock)
    prefix = f"studio:{studio.ctx.workspace_id}:"
    for name, (every, fn) in studio.jobs().items():
        scheduler.register(name, every, _reporting(name.removeprefix(prefix), fn, on_job))
    if burst_now:
        burst = _reporting("burst", studio.burst, on_job)
        try:
            await burst(clock.now())
        except Exception:  # reported to on_job; the schedule still starts
            log.exception("the burst at start failed")
    if stop.is_set():  # asked to stop during the first burst
        return scheduler
    scheduler.start()
    try:
        await stop.wait()
    finally:
        await scheduler.stop()
    return scheduler


def _reporting(
    name: str, fn: Callable[[datetime], Awaitable[Any]], on_job: Listener | None
) -> Callable[[datetime], Awaitable[Any]]:
    async def job(tick: datetime) -> Any:
        try:
            result = await fn(tick)
        except Exception as exc:
            if on_job is not None:
                on_job(JobDone(name, tick, None, f"{exc.__class__.__name__}: {exc}"))
            raise
        if on_job is not None:
            on_job(JobDone(name, tick, result))
        return result

    return job
