"""The cycle under a tiny quota: every priority behaves as seed 000 section C says."""

from __future__ import annotations

from tests.integration.cycles.conftest import StudioFactory, days

from maestro.llm.ratelimit.policy import BucketPolicy
from maestro.llm.ratelimit.settings import RateLimitSettings

TINY = RateLimitSettings(
    default=BucketPolicy(capacity=8, refill_per_minute=0.5, reserve=2, p1_timeout=60)
)
"""8 tokens, one every 2 minutes, 2 held for P0; a P1 caller gives up after 60 s."""


async def test_tiny_quota_skips_p3_defers_p2_waits_p1_and_serves_p0(
    make_studio: StudioFactory,
) -> None:
    studio, driver, engine = await make_studio(ratelimit=TINY)
    await driver.run_until(days(2))
    stats = studio.ctx.stats
    state = await engine.limiter.state(studio.ctx.quota_key)
    p = state.priorities

    # P1: the burst waits (and, past its timeout, heals at P0) but no proposal is dropped.
    assert stats.proposals == 2 * 2 * 6
    assert stats.failed == 0
    assert stats.published == stats.proposals
    assert p["P1"].waits > 0
    # P0: every healing retry was served, from the reserve if need be.
    assert stats.healed > 0
    assert p["P0"].calls >= stats.healed
    outcomes = await engine.ledger.outcomes_by_priority(studio.ctx.workspace_id)
    assert set(outcomes["P0"]) == {"ok"}
    # P2: scouting after the burst finds no token, is deferred, and is served later.
    assert stats.deferred["scout"] > 0
    assert stats.served_after_defer["scout"] > 0
    assert p["P2"].defers > 0 and p["P2"].calls > 0
    # P3: research right after the burst is skipped, never waits.
    assert stats.skipped["research"] > 0
    assert p["P3"].waits == 0


async def test_deferred_metrics_are_collected_later(make_studio: StudioFactory) -> None:
    # One token every 20 minutes: metrics collection at 03:00 finds the bucket
    # drained by the burst and its healing, is deferred, then retried.
    slow = RateLimitSettings(
        default=BucketPolicy(capacity=6, refill_per_minute=0.05, reserve=1, p1_timeout=60)
    )
    studio, driver, _ = await make_studio(ratelimit=slow)
    await driver.run_until(days(2))
    stats = studio.ctx.stats
    assert stats.deferred["metrics"] > 0
    assert stats.served_after_defer["metrics"] > 0
    assert stats.metrics_collected > 0
    assert stats.failed == 0
