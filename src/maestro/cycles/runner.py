"""Running a studio for real: its jobs on the wall clock until asked to stop.

The demo drives the same :class:`~maestro.cycles.studio.Studio` on simulated time;
:func:`run_studio` is what ``maestro studio run`` (and a library user) calls to run
it on the engine's clock. The scheduler aligns ticks to the epoch, so a daily burst
runs at midnight UTC; ``burst_now`` adds one burst at start (a first day's content,
or a smoke test of a new configuration).

A running studio holds a lease on its workspace in the database (renewed every
third of ``LEASE_SECONDS``; :mod:`maestro.cycles.lease`), so a second ``maestro
studio run`` of the same workspace, in any process on any profile, refuses to start
instead of writing a second burst, and ``GET /api/studio`` in any process knows
whether the studio runs.

A held item a human approves (:func:`decide_item`, behind the API and the CLI) is
announced on the coordinator; a running studio listening on it publishes the item
at once. With Redis that reaches a studio in any process, with ``memory://`` only
one in the same process; either way the studio also looks for approved items in
the database every ``approval_poll_seconds`` (15 s), so none waits for long.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from maestro.clock import Clock
from maestro.coord import Coordinator, Subscription
from maestro.cycles.items import Decision, ItemRecord, ItemStore
from maestro.cycles.lease import StudioLease, current_runner
from maestro.errors import ConflictError
from maestro.jobs.scheduler import Scheduler
from maestro.store.db import Database

if TYPE_CHECKING:
    from maestro.cycles.studio import Studio
    from maestro.engine import Maestro

__all__ = [
    "LEASE_SECONDS",
    "JobDone",
    "approvals_channel",
    "claim",
    "decide_item",
    "run_studio",
]

log = logging.getLogger("maestro.cycles")

LEASE_SECONDS = 60.0
"""How long a studio's claim on its workspace outlives its process (a crash)."""


@dataclass(frozen=True, slots=True)
class JobDone:
    """One job of a running studio finished (or failed): for progress output."""

    job: str
    """Short name: ``burst``, ``metrics``, ``feedback``, ``evolution``, ``scout``..."""
    tick: datetime
    result: Any
    error: str | None = None


Listener = Callable[[JobDone], None]


def approvals_channel(coord: Coordinator, workspace_id: str) -> str:
    """Where approvals of ``workspace_id``'s held items are announced."""
    return coord.key("studio", workspace_id, "approved")


async def decide_item(
    engine: Maestro,
    workspace_id: str,
    item_id: str,
    decision: Decision,
    *,
    by: str,
    note: str | None,
) -> ItemRecord:
    """A human decision on a held item; an approval is announced to the running studio."""
    item = await ItemStore(engine.db, engine.clock).human_decision(
        workspace_id, item_id, decision, by=by, note=note
    )
    if item.status == "approved":
        try:
            await engine.coord.publish(approvals_channel(engine.coord, workspace_id), item.id)
        except Exception:  # the decision stands; the studio's poll of the database finds it
            log.warning("could not announce approved item %s", item.id, exc_info=True)
    return item


@contextlib.asynccontextmanager
async def claim(
    db: Database, workspace_id: str, clock: Clock, stop: asyncio.Event
) -> AsyncIterator[None]:
    """Hold ``workspace_id``'s studio lease for the block (renewed; released on exit).

    Claim before :meth:`Studio.open <maestro.cycles.studio.Studio.open>`, which may
    write (founding, relearning). If another process takes the lease over (this one
    stalled past ``LEASE_SECONDS``), ``stop`` is set rather than run twice.

    Raises:
        ConflictError: (field ``workspace_id``) another studio of the workspace runs.
    """
    lease = StudioLease(db, clock, workspace_id)
    if not await lease.acquire(LEASE_SECONDS):
        runner = await current_runner(db, clock, workspace_id)
        who = "" if runner is None else f" (process {runner.pid} on {runner.host})"
        raise ConflictError(
            f"the studio of workspace {workspace_id!r} is already running{who}; if that "
            f"process died, its claim lapses within {LEASE_SECONDS:g} s",
            field="workspace_id",
        )
    keeper = asyncio.create_task(_keep(lease, clock, stop))
    try:
        yield
    finally:
        keeper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await keeper
        with contextlib.suppress(Exception):  # it lapses anyway
            await lease.release()


async def run_studio(
    studio: Studio,
    stop: asyncio.Event,
    *,
    burst_now: bool = False,
    on_job: Listener | None = None,
    coord: Coordinator | None = None,
    claimed: bool = False,
    ready: asyncio.Event | None = None,
) -> Scheduler:
    """Run ``studio``'s jobs on its engine's clock until ``stop`` is set.

    The workspace is claimed first (:func:`claim`; pass ``claimed`` if the caller
    holds the claim already). With ``coord``, approvals announced by
    :func:`decide_item` are published at once (job ``release``). ``ready`` is set
    once the studio listens and its jobs are scheduled. Returns the scheduler once
    running jobs have finished (its per-job counters say what ran). A failing job
    is logged by the scheduler, reported to ``on_job`` with its error, and tried
    again at its next tick.
    """
    if claimed:
        return await _run(studio, stop, burst_now, on_job, coord, ready)
    async with claim(studio.ctx.db, studio.ctx.workspace_id, studio.ctx.clock, stop):
        return await _run(studio, stop, burst_now, on_job, coord, ready)


async def _run(
    studio: Studio,
    stop: asyncio.Event,
    burst_now: bool,
    on_job: Listener | None,
    coord: Coordinator | None,
    ready: asyncio.Event | None,
) -> Scheduler:
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
    release = _reporting("release", studio.release, on_job)
    listeners = [asyncio.create_task(_poll_approved(studio, release))]
    if coord is not None:
        subscription = await coord.subscribe(approvals_channel(coord, studio.ctx.workspace_id))
        listeners.append(
            asyncio.create_task(_release_on_approval(subscription, release, clock.now))
        )
    scheduler.start()
    if ready is not None:
        ready.set()
    try:
        await stop.wait()
    finally:
        for listener in listeners:
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listener
        await scheduler.stop()
    return scheduler


async def _keep(lease: StudioLease, clock: Clock, stop: asyncio.Event) -> None:
    """Renew the lease; if another process holds it now, stop rather than run twice."""
    while True:
        await clock.sleep(LEASE_SECONDS / 3)
        try:
            kept = await lease.extend(LEASE_SECONDS)
        except Exception:  # database briefly unreachable: try again next period
            log.warning("could not renew the studio's lease", exc_info=True)
            continue
        if not kept:
            log.error("the studio's lease was lost to another process: stopping")
            stop.set()
            return


async def _poll_approved(studio: Studio, release: Callable[[datetime], Awaitable[Any]]) -> None:
    """Publish what a human approved even when no announcement arrives: the database is
    the truth (``memory://`` does not cross processes, and a message can be lost)."""
    ctx = studio.ctx
    while True:
        await ctx.clock.sleep(ctx.settings.approval_poll_seconds)
        try:
            if await ctx.items.list_items(ctx.workspace_id, status="approved", limit=1):
                await release(ctx.clock.now())
        except Exception:  # reported to on_job; the next poll or retry tick tries again
            log.exception("publishing approved items failed")


async def _release_on_approval(
    subscription: Subscription,
    release: Callable[[datetime], Awaitable[Any]],
    now: Callable[[], datetime],
) -> None:
    try:
        async for _item in subscription:
            try:
                await release(now())
            except Exception:  # reported to on_job; the retry tick will try again
                log.exception("publishing approved items failed")
    finally:
        await subscription.close()


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
