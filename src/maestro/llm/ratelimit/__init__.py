"""The priority token bucket (SPEC section 2), shared by every replica on Redis.

::

    limiter = RateLimiter.from_coordinator(coord, settings.ratelimit, clock)
    outcome = await limiter.acquire(model_key("gpt-4o-mini"), Priority.P2)
    match outcome:
        case Granted(): ...
        case Deferred(retry_at=when): ...   # reschedule
        case Skipped(): ...                 # low priority, quota low

P0/P1 wait for their turn; a P1 (or a P0 with ``p0_timeout``) that waits too long
raises :class:`~maestro.errors.RateLimitedError`.
"""

from maestro.llm.ratelimit.keys import model_key, provider_key, quota_key, workspace_key
from maestro.llm.ratelimit.limiter import RateLimiter
from maestro.llm.ratelimit.memory import MemoryBucketStore
from maestro.llm.ratelimit.policy import (
    DEFAULT_CAPACITY,
    DEFAULT_COST,
    DEFAULT_DEFER_SECONDS,
    DEFAULT_P1_TIMEOUT,
    DEFAULT_REFILL_PER_MINUTE,
    DEFAULT_RESERVE,
    DEFAULT_SKIP_BELOW,
    BucketPolicy,
    Deferred,
    Granted,
    Outcome,
    Skipped,
)
from maestro.llm.ratelimit.settings import RateLimitSettings
from maestro.llm.ratelimit.state import BucketState, PriorityStats
from maestro.llm.ratelimit.store import BucketStore

__all__ = [
    "DEFAULT_CAPACITY",
    "DEFAULT_COST",
    "DEFAULT_DEFER_SECONDS",
    "DEFAULT_P1_TIMEOUT",
    "DEFAULT_REFILL_PER_MINUTE",
    "DEFAULT_RESERVE",
    "DEFAULT_SKIP_BELOW",
    "BucketPolicy",
    "BucketState",
    "BucketStore",
    "Deferred",
    "Granted",
    "MemoryBucketStore",
    "Outcome",
    "PriorityStats",
    "RateLimitSettings",
    "RateLimiter",
    "Skipped",
    "model_key",
    "provider_key",
    "quota_key",
    "workspace_key",
]
