"""What a bucket store must do, whichever backend keeps the state.

A store runs one *attempt* atomically: refill, look at the wait queue, apply
:func:`~maestro.llm.ratelimit.policy.decide`, record counters. Waiting itself
(sleeping between attempts, timeouts, fallback) belongs to the limiter, so both
stores stay small and identical in behaviour.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple, Protocol

from maestro.llm.ratelimit.policy import BucketPolicy, Decision
from maestro.llm.types import Priority

__all__ = ["COUNTER_KINDS", "Attempt", "BucketStore", "Snapshot", "counter_field"]

COUNTER_KINDS = ("calls", "waits", "defers", "skips", "timeouts")
"""Per-priority counters every store keeps for each key."""


def counter_field(kind: str, priority: Priority | int) -> str:
    """The name a counter is stored under, e.g. ``calls:1`` (the Lua script uses the same)."""
    return f"{kind}:{int(priority)}"


class Attempt(NamedTuple):
    """The result of one atomic attempt (a tuple: cheap to build on the hot path)."""

    decision: Decision
    tokens: float
    """Tokens in the bucket after the attempt."""
    now: float
    """The store's time when it decided (Redis's own clock on Redis). NaN for a grant on
    Redis: nothing reads it there, and leaving it out keeps the script's reply one integer."""
    wait: float = 0.0
    """For ``wait``: seconds until this waiter's tokens should be there."""


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A read-only view of one key's bucket."""

    tokens: float
    queued: int
    calls_last_hour: int
    now: float
    counters: dict[str, int] = field(default_factory=dict)


class BucketStore(Protocol):
    """Where buckets live: in this process, or in Redis for every replica."""

    name: str
    """``memory`` or ``redis`` (a metrics label)."""

    async def attempt(
        self,
        key: str,
        policy: BucketPolicy,
        priority: Priority,
        cost: int,
        *,
        ticket: str,
        first: bool,
    ) -> Attempt:
        """Try to take ``cost`` tokens; P0/P1 that must wait hold a place under ``ticket``."""

    async def leave(self, key: str, ticket: str, priority: Priority, *, timed_out: bool) -> None:
        """Give up a place in the wait queue (timeout or cancellation)."""

    async def snapshot(self, key: str, policy: BucketPolicy) -> Snapshot:
        """The bucket as it stands now, without changing it."""

    async def keys(self) -> list[str]:
        """Every quota key this store has a bucket for."""

    async def debit(
        self, key: str, policy: BucketPolicy, tokens: float, counters: dict[str, int]
    ) -> None:
        """Take ``tokens`` (never below empty) and add ``counters``, in one atomic step.

        How a replica hands the usage of its local share back to the shared bucket when
        the shared store answers again.
        """
