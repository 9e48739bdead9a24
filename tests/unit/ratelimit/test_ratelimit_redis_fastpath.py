"""The Redis script's fast path is only a shortcut: it never changes an outcome.

The fast path trusts a flag in the bucket hash ("q" = '0': the wait queue is empty)
instead of looking at the queue. These tests hold it to that: the flag never hides a
waiter (also one queued by an older version that did not write the flag), a stale
"maybe queued" only costs a slow attempt, and long random runs of P2/P3 calls give the
same outcomes and state on Redis as in-process. A replica's hand-back after an outage
(``debit``) is checked on both stores.
"""

from __future__ import annotations

import math
import random
import uuid

import pytest

from maestro.clock import ManualClock
from maestro.coord import Coordinator
from maestro.llm.ratelimit import (
    BucketPolicy,
    Deferred,
    Granted,
    MemoryBucketStore,
    RateLimiter,
    RateLimitSettings,
    Skipped,
)
from maestro.llm.ratelimit.redis import RedisBucketStore
from maestro.llm.types import Priority

KEY = "model:flag"
POLICY = BucketPolicy(capacity=30, reserve=5, refill_per_minute=6)


@pytest.fixture
def redis_coord(coord: Coordinator) -> Coordinator:
    if not coord.url.startswith("redis"):
        pytest.skip("Redis-only behaviour")
    return coord


def _limiter(coord: Coordinator, clock: ManualClock) -> RateLimiter:
    settings = RateLimitSettings(default=POLICY, redis_clock="client")
    return RateLimiter.from_coordinator(coord, settings, clock)


def _names(coord: Coordinator) -> tuple[str, str]:
    return coord.key("rl", f"{KEY}:bucket"), coord.key("rl", f"{KEY}:queue")


async def test_a_waiter_queued_by_an_older_version_is_not_overtaken(
    redis_coord: Coordinator, clock: ManualClock
) -> None:
    client = redis_coord.client  # type: ignore[attr-defined]
    bucket, queue = _names(redis_coord)
    now = clock.time()
    ticket = uuid.uuid4().hex
    # What the previous script left: no "q" field, one live waiter in the queue.
    await client.hset(
        bucket,
        mapping={
            "tokens": "20",
            "ts": repr(now),
            "minute": str(math.floor(now / 60)),
            "grants": "3",
            f"l:{ticket}": repr(now + 15),
        },
    )
    await client.zadd(queue, {ticket: 1_000_000_000_001})
    limiter = _limiter(redis_coord, clock)
    assert isinstance(await limiter.acquire(KEY, Priority.P2), Deferred)
    assert isinstance(await limiter.acquire(KEY, Priority.P3), Skipped)
    assert await client.hget(bucket, "q") == b"1"


async def test_a_stale_maybe_queued_flag_costs_one_slow_attempt(
    redis_coord: Coordinator, clock: ManualClock
) -> None:
    client = redis_coord.client  # type: ignore[attr-defined]
    bucket, queue = _names(redis_coord)
    limiter = _limiter(redis_coord, clock)
    assert isinstance(await limiter.acquire(KEY, Priority.P2), Granted)
    assert await client.hget(bucket, "q") == b"0"
    store = RedisBucketStore(client, redis_coord.key("rl", ""), time_source=clock)
    # Another replica's P1 cannot be served now (21 tokens after 9 calls, it needs 22)...
    for _ in range(8):
        assert isinstance(await limiter.acquire(KEY, Priority.P2), Granted)
    waiting = await store.attempt(KEY, POLICY, Priority.P1, 17, ticket="t1", first=True)
    assert waiting.decision == "wait"
    assert await client.hget(bucket, "q") == b"1"
    # ...and its queue vanishes (expired, flushed) without anyone clearing the flag.
    await client.delete(queue)
    assert isinstance(await limiter.acquire(KEY, Priority.P2), Granted)
    assert await client.hget(bucket, "q") == b"0"
    assert (await limiter.state(KEY)).tokens == pytest.approx(21.0 - 1)


async def test_random_p2_p3_runs_match_the_in_process_store(
    redis_coord: Coordinator, clock: ManualClock
) -> None:
    rng = random.Random(20261201)
    redis_limiter = _limiter(redis_coord, clock)
    memory = RateLimiter(
        MemoryBucketStore(clock), settings=RateLimitSettings(default=POLICY), clock=clock
    )
    for step in range(400):
        clock.advance(rng.choice([0.0, 0.0, 0.5, 3.0, 17.0, 61.0]))
        priority = rng.choice([Priority.P2, Priority.P3])
        cost = rng.choice([1, 1, 2, 4])
        a = await redis_limiter.acquire(KEY, priority, cost=cost)
        b = await memory.acquire(KEY, priority, cost=cost)
        assert type(a) is type(b), step
        assert a.tokens == pytest.approx(b.tokens, abs=1e-6), step
    sa, sb = await redis_limiter.state(KEY), await memory.state(KEY)
    assert sa.tokens == pytest.approx(sb.tokens, abs=1e-6)
    assert sa.priorities == sb.priorities
    assert sa.calls_last_hour == sb.calls_last_hour


@pytest.mark.parametrize("backend", ["memory", "redis"])
async def test_debit_takes_tokens_never_below_empty_and_adds_counters(
    backend: str, coord: Coordinator, clock: ManualClock
) -> None:
    limiter = _limiter(coord, clock)
    if backend == "memory":
        limiter = RateLimiter(
            MemoryBucketStore(clock), settings=RateLimitSettings(default=POLICY), clock=clock
        )
    elif not coord.url.startswith("redis"):
        pytest.skip("Redis-only behaviour")
    store = limiter._store
    assert isinstance(await limiter.acquire(KEY, Priority.P2), Granted)
    await store.debit(KEY, POLICY, 10.0, {"calls:2": 4, "defers:2": 1})
    state = await limiter.state(KEY)
    assert state.tokens == pytest.approx(19.0)
    assert state.priorities["P2"].calls == 5 and state.priorities["P2"].defers == 1
    await store.debit(KEY, POLICY, 100.0, {})
    assert (await limiter.state(KEY)).tokens == pytest.approx(0.0)
