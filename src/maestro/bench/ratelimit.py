"""Benchmark: Maestro's priority token bucket against ``limits`` and a raw Redis PING.

Three measurements, each Maestro and its peer side by side in one run:

1. In-process: acquisitions per second of ``RateLimiter`` on ``MemoryBucketStore``
   against ``limits``' in-memory moving window (``MovingWindowRateLimiter`` +
   ``MemoryStorage``). Both get a quota larger than the run, so every call is
   admitted and only the bookkeeping is timed.
2. Redis, at 1 and 50 concurrent asyncio tasks: Maestro's Lua acquisition against a
   raw ``PING`` loop on the *same* redis-py client (same connection pool, same socket
   timeouts: the floor of one round trip for that client) and against ``limits``'
   async Redis moving window (its own client, as a user of ``limits`` would have it).
   A third loop on the same client, ``EVALSHA`` of an empty script (``return 1``) with
   the same keys and argument shape as Maestro's call, shows the floor of any one-script
   acquisition: what a script call costs before the script does anything.
3. Overshoot: 4 OS processes share one Redis bucket (capacity 30, 10 tokens/s)
   and together offer 5x what it can admit, paced evenly; admitted calls must
   never exceed ``capacity + refill x elapsed``. ``limits``' Redis moving window
   (30 per 3 s, the same average rate) runs the same load against its own bound.

Method (parts 1 and 2): every contender is warmed up first; then several rounds, each
running every contender once in a rotating order, so that load from other work on
the host hits them alike. Throughput is timed over the whole round with no per-call
timer (a timer call would cost as much as an in-process acquisition); p50/p99
latency comes from a separate, timed pass. The ratio reported is the median over
rounds of the per-round ratio (each round's contenders ran back to back), with the
lowest and highest per-round ratio as its spread; the best round of each contender is
reported too.

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
import statistics
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


def _latency(latencies_ns: list[int]) -> dict[str, float]:
    ordered = sorted(latencies_ns)
    return {
        "p50_us": round(_percentile(ordered, 0.50), 2),
        "p99_us": round(_percentile(ordered, 0.99), 2),
    }


def _compare(
    rates: dict[str, list[float]], latency: dict[str, dict[str, float]], ours: str, peer: str
) -> dict[str, Any]:
    """Best round per contender, and the median/min/max of the per-round ratio."""
    ratios = sorted(a / b for a, b in zip(rates[ours], rates[peer], strict=True))
    return {
        "maestro": {"ops_per_s": round(max(rates[ours]), 1), **latency[ours]},
        "peer": {"ops_per_s": round(max(rates[peer]), 1), **latency[peer]},
        "ratio": round(statistics.median(ratios), 2),
        "ratio_min": round(ratios[0], 2),
        "ratio_max": round(ratios[-1], 2),
        "ratio_of_best": round(max(rates[ours]) / max(rates[peer]), 2),
    }


def _rotations(names: list[str], rounds: int) -> list[list[str]]:
    """Each round runs every contender once, the starting one rotating."""
    return [names[r % len(names) :] + names[: r % len(names)] for r in range(rounds)]


# --- 1. in-process ------------------------------------------------------------------------


def _big_policy(n: int) -> BucketPolicy:
    return BucketPolicy(capacity=float(n * 10), refill_per_minute=1.0, reserve=0.0)


class _MaestroMemory:
    """Maestro in-process: one ``await acquire`` and one check per call."""

    def __init__(self, n: int) -> None:
        self.limiter = RateLimiter(
            MemoryBucketStore(SystemClock()),
            settings=RateLimitSettings(default=_big_policy(n)),
        )

    async def rate(self, n: int) -> float:
        acquire = self.limiter.acquire
        start = time.perf_counter()
        for _ in range(n):
            if type(await acquire(KEY, Priority.P2)) is not Granted:
                raise RuntimeError("in-process bucket refused a call")
        return n / (time.perf_counter() - start)

    async def latency(self, n: int) -> list[int]:
        acquire = self.limiter.acquire
        lat: list[int] = []
        clock = time.perf_counter_ns
        for _ in range(n):
            t0 = clock()
            outcome = await acquire(KEY, Priority.P2)
            lat.append(clock() - t0)
            if type(outcome) is not Granted:
                raise RuntimeError("in-process bucket refused a call")
        return lat


class _LimitsMemory:
    """limits in-process: one ``hit`` and one check per call (its API is synchronous)."""

    def __init__(self, n: int) -> None:
        from limits import RateLimitItemPerHour
        from limits.storage import MemoryStorage
        from limits.strategies import MovingWindowRateLimiter

        self.limiter = MovingWindowRateLimiter(MemoryStorage())
        self.item = RateLimitItemPerHour(n * 10)

    def rate(self, n: int) -> float:
        hit, item = self.limiter.hit, self.item
        start = time.perf_counter()
        for _ in range(n):
            if not hit(item, KEY):
                raise RuntimeError("limits refused a call")
        return n / (time.perf_counter() - start)

    def latency(self, n: int) -> list[int]:
        hit, item = self.limiter.hit, self.item
        lat: list[int] = []
        clock = time.perf_counter_ns
        for _ in range(n):
            t0 = clock()
            ok = hit(item, KEY)
            lat.append(clock() - t0)
            if not ok:
                raise RuntimeError("limits refused a call")
        return lat


async def _in_process(n: int, rounds: int) -> dict[str, Any]:
    # A fresh limiter per round: limits' moving window keeps every hit, and a window
    # that grew over earlier rounds would make its later rounds slower.
    await _MaestroMemory(n).rate(n // 10)  # warm-up
    _LimitsMemory(n).rate(n // 10)
    rates: dict[str, list[float]] = {"maestro": [], "limits": []}
    for order in _rotations(list(rates), rounds):
        for name in order:
            if name == "maestro":
                rates[name].append(await _MaestroMemory(n).rate(n))
            else:
                rates[name].append(_LimitsMemory(n).rate(n))
    latency = {
        "maestro": _latency(await _MaestroMemory(n).latency(n)),
        "limits": _latency(_LimitsMemory(n).latency(n)),
    }
    cmp = _compare(rates, latency, "maestro", "limits")
    return {
        "calls_per_round": n,
        "rounds": rounds,
        "maestro": cmp["maestro"],
        "limits_moving_window": cmp["peer"],
        "ratio": cmp["ratio"],
        "ratio_min": cmp["ratio_min"],
        "ratio_max": cmp["ratio_max"],
        "ratio_of_best": cmp["ratio_of_best"],
        "target": ">= 2x",
    }


# --- 2. Redis -------------------------------------------------------------------------------


async def _concurrent_rate(
    op: Callable[[], Awaitable[object]], total: int, concurrency: int
) -> float:
    per_task = total // concurrency

    async def worker() -> None:
        for _ in range(per_task):
            await op()

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return per_task * concurrency / (time.perf_counter() - start)


async def _concurrent_latency(
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

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return _latency(lat)


async def _redis(total: int, rounds: int) -> dict[str, Any]:
    from limits import RateLimitItemPerHour
    from limits.aio.storage import RedisStorage
    from limits.aio.strategies import MovingWindowRateLimiter

    from maestro.coord.redis import RedisCoordinator

    prefix = f"bench:{uuid.uuid4().hex[:8]}:"
    coord = RedisCoordinator(REDIS_URL, prefix=prefix)
    client = coord.client
    storage = RedisStorage(
        "async+" + REDIS_URL, implementation="redispy", key_prefix=prefix + "limits"
    )
    peer = MovingWindowRateLimiter(storage)
    out: dict[str, Any] = {"total_calls": total, "rounds": rounds}
    empty_sha = (await client.script_load("return 1")).encode()

    def contenders(n: int, key: str) -> dict[str, Callable[[], Awaitable[object]]]:
        """Maestro, PING and the empty script on Maestro's client, and limits, on ``key``."""
        limiter = RateLimiter.from_coordinator(coord, RateLimitSettings(default=_big_policy(n)))
        item = RateLimitItemPerHour(n * 10)
        # Maestro's call: EVALSHA, the script, 3 keys and one argument, all pre-encoded.
        rl = f"{prefix}rl:"
        argv = f"{float(n * 10)!r} {1 / 60!r} 1.0 1 calls:2 1 3660000 15.0 {key}"
        empty = (
            b"EVALSHA",
            empty_sha,
            b"3",
            *(k.encode() for k in (f"{rl}{key}:bucket", f"{rl}{key}:queue", f"{rl}keys")),
            argv.encode(),
        )
        execute: Callable[..., Awaitable[object]] = client.execute_command  # type: ignore[no-untyped-call]

        async def floor() -> object:
            return await execute(*empty)

        async def ours() -> object:
            return await limiter.acquire(key, Priority.P2)

        async def theirs() -> object:
            return await peer.hit(item, key)

        return {"maestro": ours, "ping": client.ping, "empty_script": floor, "limits": theirs}

    try:
        for concurrency in (1, 50):
            n = total if concurrency == 50 else max(concurrency, total // 4)
            for op in contenders(n, f"{KEY}:{concurrency}:warm").values():
                await _concurrent_rate(op, max(concurrency, n // 10), concurrency)
            rates: dict[str, list[float]] = {
                "maestro": [],
                "ping": [],
                "empty_script": [],
                "limits": [],
            }
            for r, order in enumerate(_rotations(list(rates), rounds)):
                ops = contenders(n, f"{KEY}:{concurrency}:{r}")
                for name in order:
                    rates[name].append(await _concurrent_rate(ops[name], n, concurrency))
            ops = contenders(n, f"{KEY}:{concurrency}:latency")
            latency = {
                name: await _concurrent_latency(op, n, concurrency) for name, op in ops.items()
            }
            vs_ping = _compare(rates, latency, "maestro", "ping")
            vs_limits = _compare(rates, latency, "maestro", "limits")
            floor_vs_ping = _compare(rates, latency, "empty_script", "ping")
            vs_floor = _compare(rates, latency, "maestro", "empty_script")
            out[f"c{concurrency}"] = {
                "calls": n,
                "maestro": vs_ping["maestro"],
                "redis_ping": vs_ping["peer"],
                "limits_moving_window": vs_limits["peer"],
                "ratio_vs_ping": vs_ping["ratio"],
                "ratio_vs_ping_min": vs_ping["ratio_min"],
                "ratio_vs_ping_max": vs_ping["ratio_max"],
                "ratio_vs_ping_of_best": vs_ping["ratio_of_best"],
                "ratio_vs_limits": vs_limits["ratio"],
                "empty_script": floor_vs_ping["maestro"],
                "empty_script_vs_ping": floor_vs_ping["ratio"],
                "empty_script_vs_ping_min": floor_vs_ping["ratio_min"],
                "empty_script_vs_ping_max": floor_vs_ping["ratio_max"],
                "ratio_vs_empty_script": vs_floor["ratio"],
                "target_vs_ping": ">= 0.8x",
            }
    finally:
        keys = [k async for k in client.scan_iter(match=f"{prefix}*", count=500)]
        if keys:
            await client.delete(*keys)
        await coord.close()
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


_METHOD = (
    "Method: every contender is warmed up, then runs once per round in a rotating order, "
    "so load from other work on the host hits them alike. Throughput is timed over a whole "
    "round with no per-call timer; p50/p99 come from a separate timed pass. **Ratio** is "
    "the median over rounds of the per-round ratio (contenders ran back to back), with the "
    "lowest-highest per-round ratio as its spread; ops/s is each contender's best round. "
    "Maestro's in-process API is async, so its figure includes one `await` per call; "
    "`limits`' memory limiter is called synchronously. Redis PING runs on the same client "
    "(connection pool, socket timeouts) as Maestro; `limits` uses its own client. The "
    "empty script (`EVALSHA` of `return 1` with the same keys and argument shape as "
    "Maestro's call, same client) is the floor of any acquisition done as one script."
)


def _ratio(value: float, low: float, high: float, target: str) -> str:
    return f"**{value}x** ({low}-{high}; target {target})"


def _markdown(result: dict[str, Any]) -> str:
    mem = result["in_process"]
    host = result["host"]
    lines = [
        "# Rate limit: Maestro's priority token bucket vs `limits`",
        "",
        f"In-process: {mem['calls_per_round']} admitted calls per round, {mem['rounds']} "
        f"rounds. Redis: {result['redis'].get('rounds', '-')} rounds.",
        "",
        _METHOD,
        "",
        "| measure | Maestro | peer | peer | Maestro / peer (spread) |",
        "|---|---|---|---|---|",
        "| in-process acquisitions/s | {} | limits memory moving window | {} | {} |".format(
            mem["maestro"]["ops_per_s"],
            mem["limits_moving_window"]["ops_per_s"],
            _ratio(mem["ratio"], mem["ratio_min"], mem["ratio_max"], ">= 2x"),
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
            ping = _ratio(
                r["ratio_vs_ping"], r["ratio_vs_ping_min"], r["ratio_vs_ping_max"], ">= 0.8x"
            )
            lines += [
                f"| Redis, {conc} tasks, ops/s | {r['maestro']['ops_per_s']} | raw PING, "
                f"same client | {r['redis_ping']['ops_per_s']} | {ping} |",
                f"| Redis, {conc} tasks, ops/s | {r['maestro']['ops_per_s']} | limits async "
                f"moving window | {r['limits_moving_window']['ops_per_s']} | "
                f"{r['ratio_vs_limits']}x |",
                f"| Redis, {conc} tasks, p50 / p99 (µs) | {r['maestro']['p50_us']} / "
                f"{r['maestro']['p99_us']} | raw PING, same client | {r['redis_ping']['p50_us']}"
                f" / {r['redis_ping']['p99_us']} | |",
                f"| Redis, {conc} tasks, floor: ops/s | {r['maestro']['ops_per_s']} | empty "
                f"script, same keys and arguments, same client | "
                f"{r['empty_script']['ops_per_s']} | {r['ratio_vs_empty_script']}x (empty "
                f"script vs PING: {r['empty_script_vs_ping']}x, "
                f"{r['empty_script_vs_ping_min']}-{r['empty_script_vs_ping_max']}) |",
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
    lines += [
        "",
        f"Host: {host['cpus']} CPUs, Python {host['python']}, load average "
        f"{host['load_average_1m']} at the start and {host.get('load_average_1m_end', '-')} "
        "at the end (other work on the host skews timings; compare the spread).",
    ]
    return "\n".join(lines) + "\n"


async def run(out: Path, quick: bool = False) -> dict[str, Any]:
    """Run every part, write ``ratelimit.json`` and ``ratelimit.md`` in ``out``."""
    import platform

    # Many rounds: on a shared host a burst of other work then spoils a few per-round
    # ratios, which the median sets aside. A round stays 20,000 calls in-process:
    # limits' moving window costs more per hit the more hits it holds, so shorter
    # rounds would change what is compared.
    n_mem = 2_000 if quick else 20_000
    rounds = 2 if quick else 11
    redis_rounds = 2 if quick else 11
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
        result["redis"] = await _redis(300 if quick else 2_500, redis_rounds)
        result["overshoot"] = await _overshoot(1.0 if quick else 6.0, quick)
    else:
        reason = f"Redis not reachable at {REDIS_URL}"
        result["redis"] = {"skipped": reason}
        result["overshoot"] = {"skipped": reason}
    result["host"]["load_average_1m_end"] = round(os.getloadavg()[0], 2)
    await asyncio.to_thread(_write, out, result)
    return result


def _write(out: Path, result: dict[str, Any]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "ratelimit.json").write_text(json.dumps(result, indent=2) + "\n")
    (out / "ratelimit.md").write_text(_markdown(result))
