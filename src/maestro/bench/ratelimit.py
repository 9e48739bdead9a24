"""Benchmark: Maestro's priority token bucket against ``limits`` and a raw Redis PING.

Three measurements, each Maestro and its peer side by side in one run:

1. In-process: acquisitions per second and per-call p50/p99 latency of
   ``RateLimiter`` on ``MemoryBucketStore`` against ``limits``' in-memory moving
   window (``MovingWindowRateLimiter`` + ``MemoryStorage``). Both get a quota larger
   than the run, so every call is admitted and only the bookkeeping is timed.
   Rounds alternate between the two; the best round of each is reported.
2. Redis, at 1 and 50 concurrent asyncio tasks on one client: Maestro's Lua
   acquisition against a raw ``PING`` loop on the same kind of redis-py client
   (the floor of one round trip) and against ``limits``' async Redis moving window.
3. Overshoot: 4 OS processes share one Redis bucket (capacity 30, 10 tokens/s)
   and together offer 5x what it can admit, paced evenly; admitted calls must
   never exceed ``capacity + refill x elapsed``. ``limits``' Redis moving window
   (30 per 3 s, the same average rate) runs the same load against its own bound.

Redis comes from ``MAESTRO_BENCH_REDIS_URL`` (default ``redis://127.0.0.1:6379/14``);
keys live under a unique prefix that is deleted afterwards. Without Redis, parts 2
and 3 are reported as skipped.
"""

from __future__ import annotations

import asyncio
import json
import math
import multiprocessing
import os
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from maestro.clock import SystemClock
from maestro.llm.ratelimit import (
    BucketPolicy,
    Granted,
    MemoryBucketStore,
    RateLimiter,
    RateLimitSettings,
)
from maestro.llm.types import Priority

__all__ = ["run"]

REDIS_URL = os.environ.get("MAESTRO_BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
KEY = "model:bench"
PROCESSES = 4
OFFER_FACTOR = 5
OVERSHOOT_CAPACITY = 30.0
OVERSHOOT_RATE = 10.0
"""Tokens per second in the overshoot run (600 per minute), so a short run refills."""


def _percentile(sorted_ns: list[int], q: float) -> float:
    index = min(len(sorted_ns) - 1, max(0, math.ceil(q * len(sorted_ns)) - 1))
    return sorted_ns[index] / 1000.0


def _summary(latencies_ns: list[int], wall: float) -> dict[str, float]:
    ordered = sorted(latencies_ns)
    return {
        "ops_per_s": round(len(ordered) / wall, 1),
        "p50_us": round(_percentile(ordered, 0.50), 2),
        "p99_us": round(_percentile(ordered, 0.99), 2),
    }


# --- 1. in-process ------------------------------------------------------------------------


def _big_policy(n: int) -> BucketPolicy:
    return BucketPolicy(capacity=float(n * 10), refill_per_minute=1.0, reserve=0.0)


async def _maestro_memory_round(n: int) -> dict[str, float]:
    limiter = RateLimiter(
        MemoryBucketStore(SystemClock()),
        settings=RateLimitSettings(default=_big_policy(n)),
    )
    lat: list[int] = []
    clock = time.perf_counter_ns
    start = time.perf_counter()
    for _ in range(n):
        t0 = clock()
        outcome = await limiter.acquire(KEY, Priority.P2)
        lat.append(clock() - t0)
        if not isinstance(outcome, Granted):
            raise RuntimeError(f"in-process bucket refused a call: {outcome}")
    return _summary(lat, time.perf_counter() - start)


def _limits_memory_round(n: int) -> dict[str, float]:
    from limits import RateLimitItemPerHour
    from limits.storage import MemoryStorage
    from limits.strategies import MovingWindowRateLimiter

    limiter = MovingWindowRateLimiter(MemoryStorage())
    item = RateLimitItemPerHour(n * 10)
    lat: list[int] = []
    clock = time.perf_counter_ns
    start = time.perf_counter()
    for _ in range(n):
        t0 = clock()
        ok = limiter.hit(item, KEY)
        lat.append(clock() - t0)
        if not ok:
            raise RuntimeError("limits refused a call")
    return _summary(lat, time.perf_counter() - start)


async def _in_process(n: int, rounds: int) -> dict[str, Any]:
    ours: list[dict[str, float]] = []
    theirs: list[dict[str, float]] = []
    for _ in range(rounds):
        ours.append(await _maestro_memory_round(n))
        theirs.append(_limits_memory_round(n))
    best_ours = max(ours, key=lambda r: r["ops_per_s"])
    best_theirs = max(theirs, key=lambda r: r["ops_per_s"])
    return {
        "calls_per_round": n,
        "rounds": rounds,
        "maestro": best_ours,
        "limits_moving_window": best_theirs,
        "ratio": round(best_ours["ops_per_s"] / best_theirs["ops_per_s"], 2),
        "target": ">= 2x",
    }


# --- 2. Redis -------------------------------------------------------------------------------


async def _concurrent(
    op: Callable[[], Awaitable[object]], total: int, concurrency: int
) -> dict[str, float]:
    lat: list[int] = []
    per_task = total // concurrency
    clock = time.perf_counter_ns

    async def worker() -> None:
        for _ in range(per_task):
            t0 = clock()
            await op()
            lat.append(clock() - t0)

    await op()  # warm up: connection, script load
    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return _summary(lat, time.perf_counter() - start)


async def _redis(total: int) -> dict[str, Any]:
    import redis.asyncio as aioredis
    from limits import RateLimitItemPerHour
    from limits.aio.storage import RedisStorage
    from limits.aio.strategies import MovingWindowRateLimiter

    from maestro.coord.redis import RedisCoordinator

    prefix = f"bench:{uuid.uuid4().hex[:8]}:"
    coord = RedisCoordinator(REDIS_URL, prefix=prefix)
    ping_client = aioredis.Redis.from_url(REDIS_URL)
    storage = RedisStorage(
        "async+" + REDIS_URL, implementation="redispy", key_prefix=prefix + "limits"
    )
    peer = MovingWindowRateLimiter(storage)
    out: dict[str, Any] = {"total_calls": total}
    try:
        for concurrency in (1, 50):
            n = total if concurrency == 50 else max(concurrency, total // 4)
            limiter = RateLimiter.from_coordinator(
                coord, RateLimitSettings(default=_big_policy(n * 2))
            )
            item = RateLimitItemPerHour(n * 10)
            key = f"{KEY}:{concurrency}"

            async def ours(limiter: RateLimiter = limiter, key: str = key) -> object:
                return await limiter.acquire(key, Priority.P2)

            async def theirs(item: Any = item, key: str = key) -> object:
                return await peer.hit(item, key)

            maestro = await _concurrent(ours, n, concurrency)
            ping = await _concurrent(ping_client.ping, n, concurrency)
            limits_ = await _concurrent(theirs, n, concurrency)
            out[f"c{concurrency}"] = {
                "calls": n,
                "maestro": maestro,
                "redis_ping": ping,
                "limits_moving_window": limits_,
                "ratio_vs_ping": round(maestro["ops_per_s"] / ping["ops_per_s"], 2),
                "ratio_vs_limits": round(maestro["ops_per_s"] / limits_["ops_per_s"], 2),
                "target_vs_ping": ">= 0.8x",
            }
    finally:
        keys = [k async for k in coord.client.scan_iter(match=f"{prefix}*", count=500)]
        if keys:
            await coord.client.delete(*keys)
        await coord.close()
        await ping_client.aclose()
    return out


# --- 3. overshoot across processes -----------------------------------------------------------


def _overshoot_worker(
    kind: str, url: str, prefix: str, attempts: int, duration: float, start_at: float
) -> dict[str, float]:
    """One process: ``attempts`` calls evenly spread over ``duration`` from ``start_at``."""

    async def main() -> dict[str, float]:
        call: Callable[[], Awaitable[bool]]
        cleanup: Callable[[], Awaitable[None]]
        if kind == "maestro":
            from maestro.coord.redis import RedisCoordinator

            coord = RedisCoordinator(url, prefix=prefix)
            policy = BucketPolicy(
                capacity=OVERSHOOT_CAPACITY,
                refill_per_minute=OVERSHOOT_RATE * 60,
                reserve=0.0,
            )
            limiter = RateLimiter.from_coordinator(coord, RateLimitSettings(default=policy))

            async def call() -> bool:
                return isinstance(await limiter.acquire(KEY, Priority.P2), Granted)

            cleanup = coord.close
        else:
            from limits import RateLimitItemPerSecond
            from limits.aio.storage import RedisStorage
            from limits.aio.strategies import MovingWindowRateLimiter

            storage = RedisStorage("async+" + url, implementation="redispy", key_prefix=prefix)
            peer = MovingWindowRateLimiter(storage)
            window = OVERSHOOT_CAPACITY / OVERSHOOT_RATE
            item = RateLimitItemPerSecond(int(OVERSHOOT_CAPACITY), int(window))

            async def call() -> bool:
                return bool(await peer.hit(item, KEY))

            async def cleanup() -> None:
                return None

        await asyncio.sleep(max(0.0, start_at - time.time()))
        interval = duration / attempts
        first = time.time()

        async def at(i: int) -> bool:
            await asyncio.sleep(max(0.0, first + i * interval - time.time()))
            return await call()

        results = await asyncio.gather(*(at(i) for i in range(attempts)))
        last = time.time()
        await cleanup()
        return {"admitted": float(sum(results)), "first": first, "last": last}

    return asyncio.run(main())


async def _overshoot(duration: float, quick: bool) -> dict[str, Any]:
    quota = OVERSHOOT_CAPACITY + OVERSHOOT_RATE * duration
    per_process = math.ceil(OFFER_FACTOR * quota / PROCESSES)
    ctx = multiprocessing.get_context("spawn")
    out: dict[str, Any] = {
        "processes": PROCESSES,
        "duration_s": duration,
        "capacity": OVERSHOOT_CAPACITY,
        "refill_per_s": OVERSHOOT_RATE,
        "offered": per_process * PROCESSES,
    }
    loop = asyncio.get_running_loop()
    for kind in ("maestro",) if quick else ("maestro", "limits"):
        prefix = f"bench:{uuid.uuid4().hex[:8]}:"
        # Spawned interpreters need a moment to import before the common start.
        start_at = time.time() + (2.5 if quick else 5.0)
        args = [(kind, REDIS_URL, prefix, per_process, duration, start_at)] * PROCESSES
        with ctx.Pool(PROCESSES) as pool:
            parts = await loop.run_in_executor(None, pool.starmap, _overshoot_worker, args)
        admitted = int(sum(p["admitted"] for p in parts))
        elapsed = max(p["last"] for p in parts) - min(p["first"] for p in parts)
        if kind == "maestro":
            bound = OVERSHOOT_CAPACITY + OVERSHOOT_RATE * elapsed
            rule = "capacity + refill x elapsed"
        else:
            window = OVERSHOOT_CAPACITY / OVERSHOOT_RATE
            bound = OVERSHOOT_CAPACITY * math.ceil(elapsed / window)
            rule = "limit x windows touched"
        out[kind] = {
            "admitted": admitted,
            "elapsed_s": round(elapsed, 3),
            "bound": round(bound, 1),
            "bound_rule": rule,
            "overshoot": max(0, admitted - math.floor(bound)),
        }
        await _delete_prefix(prefix)
    return out


async def _delete_prefix(prefix: str) -> None:
    import redis.asyncio as aioredis

    client = aioredis.Redis.from_url(REDIS_URL)
    try:
        keys = [k async for k in client.scan_iter(match=f"{prefix}*", count=500)]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


async def _redis_reachable() -> bool:
    import redis.asyncio as aioredis

    client = aioredis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        return bool(await client.ping())
    except Exception:
        return False
    finally:
        await client.aclose()


# --- report ------------------------------------------------------------------------------------


def _markdown(result: dict[str, Any]) -> str:
    mem = result["in_process"]
    lines = [
        "# Rate limit: Maestro's priority token bucket vs `limits`",
        "",
        f"In-process, {mem['calls_per_round']} admitted calls, best of {mem['rounds']} rounds.",
        "",
        "| measure | Maestro | peer | peer | Maestro / peer |",
        "|---|---|---|---|---|",
        "| in-process acquisitions/s | {} | limits memory moving window | {} | **{}x** "
        "(target >= 2x) |".format(
            mem["maestro"]["ops_per_s"], mem["limits_moving_window"]["ops_per_s"], mem["ratio"]
        ),
        "| in-process p50 / p99 (µs) | {} / {} | limits memory moving window | {} / {} | |".format(
            mem["maestro"]["p50_us"],
            mem["maestro"]["p99_us"],
            mem["limits_moving_window"]["p50_us"],
            mem["limits_moving_window"]["p99_us"],
        ),
    ]
    redis_part = result["redis"]
    if "skipped" in redis_part:
        lines.append(f"| Redis | skipped: {redis_part['skipped']} | | | |")
    else:
        for c in ("c1", "c50"):
            r = redis_part[c]
            conc = c[1:]
            lines += [
                f"| Redis, {conc} tasks, ops/s | {r['maestro']['ops_per_s']} | raw PING | "
                f"{r['redis_ping']['ops_per_s']} | **{r['ratio_vs_ping']}x** (target >= 0.8x) |",
                f"| Redis, {conc} tasks, ops/s | {r['maestro']['ops_per_s']} | limits async "
                f"moving window | {r['limits_moving_window']['ops_per_s']} | "
                f"{r['ratio_vs_limits']}x |",
                f"| Redis, {conc} tasks, p50 / p99 (µs) | {r['maestro']['p50_us']} / "
                f"{r['maestro']['p99_us']} | raw PING | {r['redis_ping']['p50_us']} / "
                f"{r['redis_ping']['p99_us']} | |",
            ]
    over = result["overshoot"]
    lines += ["", "## Overshoot across processes", ""]
    if "skipped" in over:
        lines.append(f"skipped: {over['skipped']}")
    else:
        lines += [
            f"{over['processes']} processes offered {over['offered']} calls in "
            f"{over['duration_s']} s to a bucket of {over['capacity']:g} tokens refilling "
            f"{over['refill_per_s']:g}/s ({OFFER_FACTOR}x what it can admit).",
            "",
            "| limiter | admitted | bound | rule | elapsed (s) | overshoot |",
            "|---|---|---|---|---|---|",
        ]
        for kind in ("maestro", "limits"):
            if kind not in over:
                continue
            o = over[kind]
            lines.append(
                f"| {kind} | {o['admitted']} | {o['bound']} | {o['bound_rule']} | "
                f"{o['elapsed_s']} | {o['overshoot']} |"
            )
    host = result["host"]
    lines += [
        "",
        f"Host: {host['cpus']} CPUs, Python {host['python']}, load average "
        f"{host['load_average_1m']} at the start (other work on the host skews timings).",
    ]
    return "\n".join(lines) + "\n"


async def run(out: Path, quick: bool = False) -> dict[str, Any]:
    """Run every part, write ``ratelimit.json`` and ``ratelimit.md`` in ``out``."""
    import platform

    n_mem = 2_000 if quick else 20_000
    rounds = 2 if quick else 5
    result: dict[str, Any] = {
        "quick": quick,
        "host": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_average_1m": round(os.getloadavg()[0], 2),
        },
        "in_process": await _in_process(n_mem, rounds),
    }
    if await _redis_reachable():
        result["redis"] = await _redis(300 if quick else 10_000)
        result["overshoot"] = await _overshoot(1.0 if quick else 6.0, quick)
    else:
        reason = f"Redis not reachable at {REDIS_URL}"
        result["redis"] = {"skipped": reason}
        result["overshoot"] = {"skipped": reason}
    await asyncio.to_thread(_write, out, result)
    return result


def _write(out: Path, result: dict[str, Any]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "ratelimit.json").write_text(json.dumps(result, indent=2) + "\n")
    (out / "ratelimit.md").write_text(_markdown(result))
