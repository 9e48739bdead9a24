"""``maestro worker``: periodic jobs on arq workers over Redis, for scale-out.

The precompute tick is an arq cron job at the tick times (``:00, :15, :30,
:45`` by default, UTC). The tick job claims the tick in the coordinator (so it
runs once even when workers start it at different moments, e.g. with
``--tick-now``, and even alongside in-process schedulers sharing the same
Redis), plans the batches and enqueues one arq job per batch with a
deterministic job id. Any worker picks batches up; each batch is claimed again
before it runs, so arq's at-least-once retries never compute it twice.

Three layers of "once": arq's unique cron job id per scheduled time, the tick
claim, the batch claim. The last two are the ones correctness rests on.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from maestro.config import Settings
from maestro.errors import ConfigurationError
from maestro.recommend.precompute import Batch, Precompute

__all__ = [
    "BATCH_JOB",
    "TICK_JOB",
    "batch_job_id",
    "cron_times",
    "precompute_batch",
    "precompute_tick",
    "queue_name",
    "redis_settings",
    "run_worker",
    "worker_options",
]

TICK_JOB = "precompute_tick"
SHUTDOWN_TIMEOUT_S = 10.0
BATCH_JOB = "precompute_batch"


def queue_name(settings: Settings) -> str:
    """The arq queue of this deployment (under the settings' key prefix)."""
    return f"{settings.key_prefix}arq:{settings.jobs.queue}"


def batch_job_id(tick_ts: int, index: int) -> str:
    return f"precompute:{tick_ts}:{index}"


def redis_settings(settings: Settings) -> Any:
    """arq's connection settings for ``coord_url``; a clear error if it is not Redis."""
    from arq.connections import RedisSettings

    if not settings.coord_url.startswith(("redis://", "rediss://")):
        raise ConfigurationError(
            f"maestro worker needs a redis:// coord_url (arq queues live in Redis), "
            f"got {settings.coord_url.split('://', 1)[0]}://",
            field="coord_url",
        )
    return RedisSettings.from_dsn(settings.coord_url)


def cron_times(every_s: float) -> dict[str, Any]:
    """arq ``cron`` keywords firing at each aligned tick (or more often; the claim dedupes)."""
    every = int(every_s)
    if every % 60 == 0:
        return {"minute": {m for m in range(60) if (m * 60) % every == 0}, "second": 0}
    step = math.gcd(every, 60)
    return {"second": set(range(0, 60, step))}


async def _startup(ctx: dict[str, Any]) -> None:
    from maestro.engine import Maestro

    settings: Settings = ctx["settings"]
    engine = Maestro.from_settings(settings)
    await engine.start()
    ctx["engine"] = engine
    ctx["precompute"] = Precompute(
        engine.db, engine.clock, engine.coord, settings=settings.recommend
    )


async def _shutdown(ctx: dict[str, Any]) -> None:
    engine = ctx.get("engine")
    if engine is not None:
        # A batch cancelled by SIGTERM can leave a pooled connection checked out;
        # do not let closing the pool keep the process alive.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(engine.close(), timeout=SHUTDOWN_TIMEOUT_S)


async def precompute_tick(ctx: dict[str, Any]) -> dict[str, Any]:
    """Claim the current tick and enqueue its batches (once across all workers)."""
    pre: Precompute = ctx["precompute"]
    tick = pre.tick_of(ctx["engine"].clock.now())
    ts = int(tick.timestamp())
    if not await pre.claim_tick(tick):
        return {"tick": ts, "claimed": False, "batches": 0}
    batches = await pre.plan()
    for b in batches:
        await ctx["redis"].enqueue_job(
            BATCH_JOB, ts, b.index, b.lo, b.hi, _job_id=batch_job_id(ts, b.index)
        )
    return {"tick": ts, "claimed": True, "batches": len(batches)}


async def precompute_batch(
    ctx: dict[str, Any], tick_ts: int, index: int, lo: str, hi: str | None
) -> dict[str, Any]:
    """Refresh one batch of the tick ``tick_ts`` (skipped if already claimed)."""
    pre: Precompute = ctx["precompute"]
    report = await pre.run_batch(Batch(index, lo, hi), datetime.fromtimestamp(tick_ts, tz=UTC))
    return asdict(report)


def worker_options(
    settings: Settings, *, tick_now: bool = False, burst: bool = False
) -> dict[str, Any]:
    """Keyword arguments for ``arq.worker.Worker`` running Maestro's periodic jobs."""
    from arq import cron
    from arq.worker import func

    jobs = settings.jobs
    return {
        "functions": [func(precompute_batch, name=BATCH_JOB)],
        "cron_jobs": [
            cron(
                precompute_tick,
                name=TICK_JOB,
                run_at_startup=tick_now,
                keep_result=3600,
                **cron_times(settings.recommend.precompute_every_s),
            )
        ],
        "redis_settings": redis_settings(settings),
        "queue_name": queue_name(settings),
        "on_startup": _startup,
        "on_shutdown": _shutdown,
        "ctx": {"settings": settings},
        "max_jobs": jobs.worker_max_jobs,
        "job_timeout": jobs.worker_job_timeout_s,
        "keep_result": 3600,
        "burst": burst,
        "timezone": UTC,
        "poll_delay": 0.1,
    }


def run_worker(settings: Settings, *, tick_now: bool = False, burst: bool = False) -> None:
    """Run a worker until SIGINT/SIGTERM (or, with ``burst``, until the queue is empty)."""
    from arq.worker import Worker

    Worker(**worker_options(settings, tick_now=tick_now, burst=burst)).run()
