"""The monitoring view of one bucket (what ``GET /api/rate-limit`` returns)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

__all__ = ["BucketState", "PriorityStats"]


class PriorityStats(BaseModel):
    """Counters of one priority on one bucket since the bucket was created."""

    model_config = ConfigDict(frozen=True)

    calls: int = 0
    """Acquisitions granted."""
    waits: int = 0
    """Acquisitions that had to queue for tokens (P0/P1)."""
    defers: int = 0
    """P2 acquisitions answered with ``Deferred``."""
    skips: int = 0
    """P3 acquisitions answered with ``Skipped``."""
    timeouts: int = 0
    """Waits that ran out of time (``RateLimitedError``)."""


class BucketState(BaseModel):
    """One quota key's bucket as it stands."""

    model_config = ConfigDict(frozen=True)

    key: str
    """The quota key, e.g. ``model:gpt-4o-mini``."""
    tokens: float
    """Tokens in the bucket now (after refill)."""
    capacity: float
    """Most tokens the bucket holds."""
    reserve: float
    """Tokens only P0 may spend."""
    refill_per_minute: float
    """Refill rate."""
    waiting: int
    """Callers queued for tokens right now."""
    calls_last_hour: int
    """Grants in the last 60 minutes (minute resolution)."""
    priorities: dict[str, PriorityStats]
    """Counters by priority name (``P0`` .. ``P3``)."""
    degraded: bool
    """True while Redis is unreachable and the fallback policy applies."""
    backend: str
    """``memory``, ``redis``, or ``local`` (the fallback while degraded)."""
    as_of: datetime
    """When the state was read, on the store's clock."""
