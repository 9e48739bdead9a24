"""The hot paths behave exactly like the general ones they shortcut.

* ``granted()`` builds the same ``Granted`` the dataclass constructor does;
* the in-process fast path (``MemoryBucketStore.take``) gives the same outcomes and
  state as full attempts through the store protocol;
* on Redis the bucket hash stays small (the per-minute history is one field), calls in
  the last hour stay exact across minutes, and a server that forgot the script
  (``SCRIPT FLUSH``, restart) is served after reloading it.
"""

from __future__ import annotations

import dataclasses
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from maestro.clock import Clock, ManualClock
from maestro.coord import Coordinator, connect
from maestro.llm.ratelimit import BucketPolicy, Granted, RateLimiter, RateLimitSettings
from maestro.llm.ratelimit.memory import MemoryBucketStore
from maestro.llm.ratelimit.policy import granted
from maestro.llm.ratelimit.store import Attempt
from maestro.llm.types import Priority

KEY = "model:fast"


def test_granted_is_the_same_object_the_dataclass_builds() -> None:
    for tokens, waited in ((3.5, 0.0), (None, 0.0), (0.0, 12.25)):
        fast, slow = granted(tokens, waited), Granted(tokens=tokens, waited=waited)
        assert type(fast) is Granted
        assert fast == slow
        assert repr(fast) == repr(slow)
        assert hash(fast) == hash(slow)
        assert dataclasses.astuple(fast) == dataclasses.astuple(slow)
    with pytest.raises(dataclasses.FrozenInstanceError):
        granted(1.0).tokens = 2.0  # type: ignore[misc]


class _GeneralStore(MemoryBucketStore):
    """The in-process store seen only through the ``BucketStore`` protocol.

    The limiter takes its shortcuts for ``MemoryBucketStore`` itself, not for a
    subclass, so this runs every call through ``attempt``.
    """

    async def attempt(self, *args: Any, **kwargs: Any) -> Attempt:
        return await super().attempt(*args, **kwargs)


def _limiter(store: MemoryBucketStore, clock: Clock, policy: BucketPolicy) -> RateLimiter:
    return RateLimiter(store, settings=RateLimitSettings(default=policy), clock=clock)


@settings(max_examples=60, deadline=None)
@given(
    capacity=st.integers(min_value=6, max_value=40),
    reserve=st.integers(min_value=0, max_value=3),
    steps=st.lists(
        st.tuples(
            st.sampled_from([Priority.P2, Priority.P3]),
            st.integers(min_value=1, max_value=3),
            st.floats(min_value=0, max_value=90, allow_nan=False),
        ),
        min_size=1,
        max_size=60,
    ),
)
def test_the_in_process_fast_path_matches_full_attempts(
    capacity: int, reserve: int, steps: list[tuple[Priority, int, float]]
) -> None:
    import asyncio

    policy = BucketPolicy(capacity=capacity, reserve=reserve, refill_per_minute=6)
    clock = ManualClock(1_700_000_000.0)
    fast_store, general_store = MemoryBucketStore(clock), _GeneralStore(clock)
    fast = _limiter(fast_store, clock, policy)
    general = _limiter(general_store, clock, policy)
    assert fast._take is not None and general._take is None  # the paths under test

    async def run() -> None:
        for priority, cost, advance in steps:
            clock.advance(advance)
            a = await fast.acquire(KEY, priority, cost=cost)
            b = await general.acquire(KEY, priority, cost=cost)
            assert a == b
        sa, sb = await fast.state(KEY), await general.state(KEY)
        assert sa.model_dump(exclude={"backend"}) == sb.model_dump(exclude={"backend"})

    asyncio.run(run())


# --- Redis ------------------------------------------------------------------------------


@pytest.fixture
def redis_coord(coord: Coordinator) -> Coordinator:
    if not coord.url.startswith("redis"):
        pytest.skip("Redis-only behaviour")
    return coord


async def test_the_bucket_hash_stays_small_and_counts_the_last_hour(
    redis_coord: Coordinator, clock: ManualClock
) -> None:
    policy = BucketPolicy(capacity=1000, reserve=0, refill_per_minute=1)
    settings_ = RateLimitSettings(default=policy, redis_clock="client")
    limiter = RateLimiter.from_coordinator(redis_coord, settings_, clock)
    memory = RateLimiter(MemoryBucketStore(clock), settings=settings_, clock=clock)
    client = redis_coord.client  # type: ignore[attr-defined]
    bucket = redis_coord.key("rl", f"{KEY}:bucket")
    # Three grants a minute for 90 minutes: the window slides over filed minutes.
    for minute in range(90):
        for _ in range(3):
            assert isinstance(await limiter.acquire(KEY, Priority.P2), Granted)
            assert isinstance(await memory.acquire(KEY, Priority.P2), Granted)
        redis_state, memory_state = await limiter.state(KEY), await memory.state(KEY)
        assert redis_state.calls_last_hour == memory_state.calls_last_hour, minute
        clock.advance(60)
    # The window is now minutes 31-90, and minute 90 has no grants yet.
    assert (await limiter.state(KEY)).calls_last_hour == 59 * 3
    assert await client.hlen(bucket) < 12, await client.hkeys(bucket)
    assert await client.pttl(bucket) > 0, "an idle bucket expires"


@pytest.fixture
def throwaway_redis() -> Iterator[str]:
    """A redis-server of this test's own, so SCRIPT FLUSH touches nobody else."""
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        ["redis-server", "--port", str(port), "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), 0.2):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.02)  # waiting for the server to listen, not for a TTL
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.kill()
        proc.wait()


@pytest.mark.redis
async def test_a_server_that_forgot_the_script_is_served_after_a_reload(
    throwaway_redis: str,
) -> None:
    coord = connect(throwaway_redis, prefix="t:")
    try:
        limiter = RateLimiter.from_coordinator(coord)
        assert isinstance(await limiter.acquire(KEY, Priority.P2), Granted)
        await coord.client.script_flush()  # type: ignore[attr-defined]
        outcome = await limiter.acquire(KEY, Priority.P2)
        assert isinstance(outcome, Granted)
        assert outcome.tokens == pytest.approx(28.0, abs=0.01)
        assert not limiter.degraded
    finally:
        await coord.close()
