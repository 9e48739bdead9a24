"""The bucket's pure rules and the in-process store's invariants, driven by hypothesis."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError as PydanticValidationError

from maestro.clock import ManualClock
from maestro.llm.ratelimit import BucketPolicy, RateLimitSettings
from maestro.llm.ratelimit.memory import MemoryBucketStore
from maestro.llm.ratelimit.policy import MAX_CAPACITY, decide, refill, wait_hint
from maestro.llm.types import Priority

POLICY = BucketPolicy()


def test_defaults_are_the_seed_numbers() -> None:
    assert (POLICY.capacity, POLICY.refill_per_minute, POLICY.reserve) == (30, 2.5, 5)
    assert (POLICY.cost, POLICY.defer_seconds, POLICY.skip_threshold) == (1, 1800, 6)
    assert POLICY.fill_seconds() == 720


def test_reserve_must_leave_room_for_others() -> None:
    with pytest.raises(PydanticValidationError, match="reserve 30.0 must be below capacity"):
        BucketPolicy(reserve=30)


def test_share_divides_the_quota_among_replicas() -> None:
    share = POLICY.share(3)
    assert (share.capacity, share.refill_per_minute) == (10, 2.5 / 3)
    assert share.reserve == pytest.approx(5 / 3)
    assert POLICY.share(1) is POLICY


def test_overrides_by_exact_key_win_over_kind() -> None:
    exact, kind = BucketPolicy(capacity=9), BucketPolicy(capacity=7)
    s = RateLimitSettings(overrides={"model:x": exact, "model": kind})
    assert s.policy_for("model:x") is exact
    assert s.policy_for("model:y") is kind
    assert s.policy_for("provider:openai") == BucketPolicy()


@pytest.mark.parametrize(
    ("priority", "tokens", "rank", "queued", "expected"),
    [
        (Priority.P0, 1.0, 0, 1, "grant"),
        (Priority.P0, 0.5, 0, 1, "wait"),
        (Priority.P0, 30.0, 1, 2, "wait"),  # not its turn yet
        (Priority.P1, 6.0, 0, 1, "grant"),
        (Priority.P1, 5.99, 0, 1, "wait"),
        (Priority.P2, 6.0, 0, 0, "grant"),
        (Priority.P2, 5.99, 0, 0, "defer"),
        (Priority.P2, 30.0, 0, 1, "defer"),  # someone is waiting
        (Priority.P3, 6.0, 0, 0, "grant"),
        (Priority.P3, 5.99, 0, 0, "skip"),
        (Priority.P3, 30.0, 0, 1, "skip"),
    ],
)
def test_decide(priority: Priority, tokens: float, rank: int, queued: int, expected: str) -> None:
    assert decide(POLICY, priority, tokens, 1, rank=rank, queued=queued) == expected


def test_wait_hint_counts_the_waiters_ahead() -> None:
    assert wait_hint(POLICY, Priority.P1, 5.0, 1, 0) == pytest.approx(24)
    assert wait_hint(POLICY, Priority.P1, 5.0, 1, 2) == pytest.approx(72)
    assert wait_hint(POLICY, Priority.P0, 0.0, 1, 0) == pytest.approx(24)
    assert wait_hint(POLICY, Priority.P0, 3.0, 1, 0) == 0


@given(
    st.floats(min_value=0, max_value=30),
    st.floats(min_value=0, max_value=10_000),
    st.floats(min_value=0, max_value=10_000),
)
def test_refill_is_additive_and_capped(tokens: float, a: float, b: float) -> None:
    once = refill(POLICY, tokens, a + b)
    twice = refill(POLICY, refill(POLICY, tokens, a), b)
    assert once == pytest.approx(twice)
    assert tokens <= once <= POLICY.capacity


ops = st.lists(
    st.tuples(st.sampled_from(list(Priority)), st.floats(min_value=0, max_value=120)),
    min_size=1,
    max_size=80,
)


@settings(max_examples=200, deadline=None)
@given(ops)
def test_store_never_grants_more_than_capacity_plus_refill(
    calls: list[tuple[Priority, float]],
) -> None:
    """Admitted <= capacity + refill x elapsed; only P0 ever dips into the reserve."""

    async def run() -> None:
        clock = ManualClock(0)
        store = MemoryBucketStore(clock)
        granted = 0
        for priority, gap in calls:
            clock.advance(gap)
            attempt = await store.attempt(
                "k", POLICY, priority, 1, ticket=f"t{granted}-{clock.time()}", first=True
            )
            if attempt.decision == "grant":
                granted += 1
                assert attempt.tokens >= POLICY.floor(priority) - 1e-9
            elif attempt.decision == "wait":
                await store.leave("k", f"t{granted}-{clock.time()}", priority, timed_out=False)
            assert attempt.tokens >= -1e-9
        assert granted <= POLICY.capacity + clock.time() * POLICY.rate + 1e-9

    asyncio.run(run())


def test_capacity_is_bounded_so_the_redis_reply_fits_64_bits() -> None:
    assert MAX_CAPACITY * 1_000_000 < 2**63
    BucketPolicy(capacity=MAX_CAPACITY)
    with pytest.raises(PydanticValidationError):
        BucketPolicy(capacity=MAX_CAPACITY * 10)
