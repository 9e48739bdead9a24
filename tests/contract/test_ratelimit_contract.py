"""One behaviour for the priority token bucket on every backend (memory:// and real Redis).

Time is a ManualClock on both: the in-process store reads it directly; the Redis
store passes it to the Lua script as its "now" override (``redis_clock="client"``),
which replaces Redis ``TIME`` only in this mode. test_server_clock_* covers ``TIME``.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from tests.conftest import REDIS_URL, require_server

from maestro.clock import ManualClock
from maestro.coord import Coordinator, connect
from maestro.errors import RateLimitedError, ValidationError
from maestro.llm.ratelimit import (
    BucketPolicy,
    Deferred,
    Granted,
    RateLimiter,
    RateLimitSettings,
    Skipped,
    model_key,
)
from maestro.llm.ratelimit.redis import RedisBucketStore
from maestro.llm.types import Priority

KEY = model_key("m1")
P0, P1, P2, P3 = Priority.P0, Priority.P1, Priority.P2, Priority.P3

MakeLimiter = Callable[..., RateLimiter]


@pytest.fixture
def make_limiter(coord: Coordinator, clock: ManualClock) -> MakeLimiter:
    def make(**policy: Any) -> RateLimiter:
        settings = RateLimitSettings(default=BucketPolicy(**policy), redis_clock="client")
        return RateLimiter.from_coordinator(coord, settings, clock)

    return make


async def settle(clock: ManualClock, tasks: Sequence[asyncio.Task[Any]]) -> None:
    """Let every waiter finish its attempt and park on the clock again (or finish)."""
    deadline = time.monotonic() + 10
    while True:
        await asyncio.sleep(0)
        pending = [t for t in tasks if not t.done()]
        if clock.sleepers >= len(pending):
            # One more round so nobody is mid-flight between two sleeps.
            for _ in range(3):
                await asyncio.sleep(0)
            if clock.sleepers >= len([t for t in tasks if not t.done()]):
                return
        assert time.monotonic() < deadline, "waiters never parked on the clock"


async def run_clock(
    clock: ManualClock, seconds: float, tasks: Sequence[asyncio.Task[Any]], step: float = 1.0
) -> None:
    """Advance ``seconds`` in ``step``s, letting waiters act between steps."""
    await settle(clock, tasks)
    moved = 0.0
    while moved < seconds - 1e-9:
        clock.advance(min(step, seconds - moved))
        moved += step
        await settle(clock, tasks)


async def drain(limiter: RateLimiter, n: int, priority: Priority = P2) -> None:
    for _ in range(n):
        assert isinstance(await limiter.acquire(KEY, priority), Granted)


# --- P2: served now or deferred --------------------------------------------------------


async def test_p2_gets_capacity_minus_reserve_then_is_deferred_30_minutes(
    make_limiter: MakeLimiter, clock: ManualClock
) -> None:
    limiter = make_limiter()
    await drain(limiter, 25)
    outcome = await limiter.acquire(KEY, P2)
    assert isinstance(outcome, Deferred)
    assert outcome.retry_at.timestamp() == pytest.approx(clock.time() + 1800)
    assert outcome.tokens == pytest.approx(5.0)


async def test_concurrent_acquisitions_admit_exactly_the_quota(make_limiter: MakeLimiter) -> None:
    limiter = make_limiter()
    outcomes = await asyncio.gather(*(limiter.acquire(KEY, P2) for _ in range(200)))
    assert sum(isinstance(o, Granted) for o in outcomes) == 25
    assert sum(isinstance(o, Deferred) for o in outcomes) == 175
    state = await limiter.state(KEY)
    assert state.tokens == pytest.approx(5.0)
    assert state.priorities["P2"].calls == 25
    assert state.priorities["P2"].defers == 175


# --- P0: the reserve ---------------------------------------------------------------------


async def test_p0_may_spend_the_reserve_nobody_else_may(make_limiter: MakeLimiter) -> None:
    limiter = make_limiter(p1_timeout=1)
    await drain(limiter, 25)
    assert isinstance(await limiter.acquire(KEY, P3), Skipped)
    assert isinstance(await limiter.acquire(KEY, P2), Deferred)
    for _ in range(5):
        assert isinstance(await limiter.acquire(KEY, P0), Granted)
    assert (await limiter.state(KEY)).tokens == pytest.approx(0.0)


async def test_p0_waits_for_a_token_when_even_the_reserve_is_gone(
    make_limiter: MakeLimiter, clock: ManualClock
) -> None:
    limiter = make_limiter()
    await drain(limiter, 30, P0)
    task = asyncio.create_task(limiter.acquire(KEY, P0))
    await run_clock(clock, 23, [task])
    assert not task.done(), "one token takes 24 s at 2.5/min"
    await run_clock(clock, 1, [task])
    outcome = task.result()
    assert isinstance(outcome, Granted)
    assert outcome.waited == pytest.approx(24.0)


# --- P1: waits with backpressure, FIFO behind P0, up to a timeout ------------------------


async def test_p1_waits_for_refill_above_the_reserve(
    make_limiter: MakeLimiter, clock: ManualClock
) -> None:
    limiter = make_limiter()
    await drain(limiter, 25)
    task = asyncio.create_task(limiter.acquire(KEY, P1))
    await run_clock(clock, 23, [task])
    assert not task.done()
    await run_clock(clock, 1, [task])
    outcome = task.result()
    assert isinstance(outcome, Granted) and outcome.waited == pytest.approx(24.0)
    state = await limiter.state(KEY)
    assert state.priorities["P1"].waits == 1 and state.priorities["P1"].calls == 1
    assert state.waiting == 0


async def test_p1_times_out_with_rate_limited_error_and_leaves_the_queue(
    make_limiter: MakeLimiter, clock: ManualClock
) -> None:
    limiter = make_limiter(p1_timeout=10)
    await drain(limiter, 25)
    task = asyncio.create_task(limiter.acquire(KEY, P1))
    await settle(clock, [task])
    assert (await limiter.state(KEY)).waiting == 1
    await run_clock(clock, 10, [task])
    with pytest.raises(RateLimitedError, match="timeout of 10s") as err:
        task.result()
    assert err.value.field == "p1_timeout"
    state = await limiter.state(KEY)
    assert state.waiting == 0
    assert state.priorities["P1"].timeouts == 1
    assert state.priorities["P1"].calls == 0


async def test_p1_waiters_are_served_in_arrival_order_behind_waiting_p0(
    make_limiter: MakeLimiter, clock: ManualClock
) -> None:
    limiter = make_limiter(p1_timeout=3600)
    await drain(limiter, 30, P0)
    order: list[str] = []

    async def call(name: str, priority: Priority) -> None:
        await limiter.acquire(KEY, priority)
        order.append(name)

    tasks: list[asyncio.Task[None]] = []
    for name, priority in [("a", P1), ("b", P1), ("c", P0), ("d", P1), ("e", P0)]:
        tasks.append(asyncio.create_task(call(name, priority)))
        await settle(clock, tasks)
    assert (await limiter.state(KEY)).waiting == 5
    await run_clock(clock, 24 * 10, tasks, step=2.0)
    assert order == ["c", "e", "a", "b", "d"]


async def test_a_later_p1_never_overtakes_even_when_it_needs_fewer_tokens(
    make_limiter: MakeLimiter, clock: ManualClock
) -> None:
    limiter = make_limiter(p1_timeout=3600)
    await drain(limiter, 30, P0)
    order: list[str] = []

    async def call(name: str, cost: int) -> None:
        await limiter.acquire(KEY, P1, cost=cost)
        order.append(name)

    big = asyncio.create_task(call("big", 4))  # needs 9 tokens
    await run_clock(clock, 1, [big])
    small = asyncio.create_task(call("small", 1))  # needs 6: possible much earlier
    await run_clock(clock, 24 * 9 + 30, [big, small])
    assert order == ["big", "small"]


async def test_p2_and_p3_do_not_jump_a_queue_of_waiters(
    make_limiter: MakeLimiter, clock: ManualClock
) -> None:
    limiter = make_limiter(p1_timeout=3600)
    await drain(limiter, 30, P0)
    waiter = asyncio.create_task(limiter.acquire(KEY, P1, cost=3))  # needs 5 + 3 tokens
    await run_clock(clock, 168, [waiter])  # 7 tokens: enough for a P2 or a P3, not for it
    assert not waiter.done()
    assert (await limiter.state(KEY)).tokens == pytest.approx(7.0)
    assert isinstance(await limiter.acquire(KEY, P2), Deferred)
    assert isinstance(await limiter.acquire(KEY, P3), Skipped)
    await run_clock(clock, 24, [waiter])
    assert isinstance(waiter.result(), Granted)
    assert isinstance(await limiter.acquire(KEY, P3), Skipped)  # 5 tokens left


async def test_cancelled_waiter_gives_up_its_place(
    make_limiter: MakeLimiter, clock: ManualClock
) -> None:
    limiter = make_limiter()
    await drain(limiter, 25)
    task = asyncio.create_task(limiter.acquire(KEY, P1))
    await settle(clock, [task])
    assert (await limiter.state(KEY)).waiting == 1
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert (await limiter.state(KEY)).waiting == 0
    clock.advance(60)
    assert isinstance(await limiter.acquire(KEY, P2), Granted)


# --- P3: skipped under 20% -----------------------------------------------------------------


async def test_p3_is_skipped_when_less_than_20_percent_remains(
    make_limiter: MakeLimiter, clock: ManualClock
) -> None:
    limiter = make_limiter()
    await drain(limiter, 24)  # 6 tokens = exactly 20% of 30
    assert isinstance(await limiter.acquire(KEY, P3), Granted)
    outcome = await limiter.acquire(KEY, P3)  # 5 < 6
    assert isinstance(outcome, Skipped) and outcome.tokens == pytest.approx(5.0)
    clock.advance(23)  # 5.958 tokens: still under 20%
    assert isinstance(await limiter.acquire(KEY, P3), Skipped)
    clock.advance(1)
    assert isinstance(await limiter.acquire(KEY, P3), Granted)
    state = await limiter.state(KEY)
    assert state.priorities["P3"].skips == 2 and state.priorities["P3"].calls == 2


# --- refill, state, validation ---------------------------------------------------------------


async def test_refill_is_continuous_and_capped_at_capacity(
    make_limiter: MakeLimiter, clock: ManualClock
) -> None:
    limiter = make_limiter()
    await drain(limiter, 25)
    clock.advance(60)
    assert (await limiter.state(KEY)).tokens == pytest.approx(7.5)
    clock.advance(6)
    assert (await limiter.state(KEY)).tokens == pytest.approx(7.75)
    clock.advance(3600)
    assert (await limiter.state(KEY)).tokens == pytest.approx(30.0)
    await drain(limiter, 25)
    assert isinstance(await limiter.acquire(KEY, P2), Deferred)


async def test_state_counts_calls_in_the_last_hour(
    make_limiter: MakeLimiter, clock: ManualClock
) -> None:
    limiter = make_limiter()
    await drain(limiter, 3)
    clock.advance(30 * 60)
    await drain(limiter, 2, P0)
    state = await limiter.state(KEY)
    assert state.calls_last_hour == 5
    assert state.priorities["P2"].calls == 3 and state.priorities["P0"].calls == 2
    assert state.capacity == 30 and state.reserve == 5 and state.refill_per_minute == 2.5
    assert not state.degraded
    clock.advance(31 * 60)
    assert (await limiter.state(KEY)).calls_last_hour == 2
    clock.advance(30 * 60)
    assert (await limiter.state(KEY)).calls_last_hour == 0


async def test_keys_are_independent_and_listed(make_limiter: MakeLimiter) -> None:
    limiter = make_limiter()
    await drain(limiter, 25)
    assert isinstance(await limiter.acquire("workspace:w1", P2), Granted)
    assert await limiter.keys() == [KEY, "workspace:w1"]


async def test_costs_that_can_never_be_served_are_refused(make_limiter: MakeLimiter) -> None:
    limiter = make_limiter()
    with pytest.raises(ValidationError) as err:
        await limiter.acquire(KEY, P1, cost=26)
    assert err.value.field == "cost"
    with pytest.raises(ValidationError):
        await limiter.acquire(KEY, P2, cost=0)
    assert isinstance(await limiter.acquire(KEY, P0, cost=30), Granted)


async def test_per_key_overrides_apply(coord: Coordinator, clock: ManualClock) -> None:
    settings = RateLimitSettings(
        overrides={"workspace": BucketPolicy(capacity=3, reserve=0)},
        redis_clock="client",
    )
    limiter = RateLimiter.from_coordinator(coord, settings, clock)
    outcomes = [await limiter.acquire("workspace:w", P2) for _ in range(4)]
    assert [type(o) for o in outcomes] == [Granted, Granted, Granted, Deferred]


# --- Redis only: its own clock, other replicas ------------------------------------------------


@pytest.fixture
def redis_coord(coord: Coordinator) -> Coordinator:
    if not coord.url.startswith("redis"):
        pytest.skip("Redis-only behaviour")
    return coord


async def test_server_clock_ignores_a_skewed_client_clock(redis_coord: Coordinator) -> None:
    skewed = ManualClock(1_000_000_000.0)  # 2001: far off
    limiter = RateLimiter.from_coordinator(redis_coord, RateLimitSettings(), skewed)
    outcome = await limiter.acquire(KEY, P2)
    state = await limiter.state(KEY)
    assert isinstance(outcome, Granted)
    assert abs(state.as_of.timestamp() - time.time()) < 60, "time comes from Redis TIME"


async def test_a_crashed_replicas_waiter_loses_its_place_after_its_lease(
    redis_coord: Coordinator, clock: ManualClock
) -> None:
    settings = RateLimitSettings(redis_clock="client", waiter_lease=15)
    limiter = RateLimiter.from_coordinator(redis_coord, settings, clock)
    await drain(limiter, 25)
    # Another replica queued a P1 waiter, then died: it never asks again or leaves.
    other = RedisBucketStore(
        redis_coord.client,  # type: ignore[attr-defined]
        redis_coord.key("rl", ""),
        lease=15,
        time_source=clock,
    )
    attempt = await other.attempt(
        KEY, limiter.policy(KEY), P1, 1, ticket=uuid.uuid4().hex, first=True
    )
    assert attempt.decision == "wait"
    assert (await limiter.state(KEY)).waiting == 1
    clock.advance(16)
    assert (await limiter.state(KEY)).waiting == 1, "purged by the next attempt, not by reads"
    clock.advance(60)
    assert isinstance(await limiter.acquire(KEY, P2), Granted)
    assert (await limiter.state(KEY)).waiting == 0


def _process_acquire(url: str, prefix: str, attempts: int) -> int:
    async def main() -> int:
        coord = connect(url, prefix=prefix)
        policy = BucketPolicy(capacity=30, reserve=0, refill_per_minute=0.0001)
        limiter = RateLimiter.from_coordinator(coord, RateLimitSettings(default=policy))
        try:
            outcomes = await asyncio.gather(*(limiter.acquire(KEY, P2) for _ in range(attempts)))
        finally:
            await coord.close()
        return sum(isinstance(o, Granted) for o in outcomes)

    return asyncio.run(main())


async def test_two_processes_on_one_key_admit_exactly_capacity(
    redis_coord: Coordinator,
) -> None:
    require_server("redis", REDIS_URL, 6379)
    ctx = multiprocessing.get_context("spawn")
    loop = asyncio.get_running_loop()
    with ctx.Pool(2) as pool:
        results = await loop.run_in_executor(
            None,
            lambda: pool.starmap(_process_acquire, [(REDIS_URL, redis_coord.prefix, 40)] * 2),
        )
    assert sum(results) == 30, results
