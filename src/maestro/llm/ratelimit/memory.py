"""The in-process bucket store: plain Python state, time from the injected clock.

Used on ``memory://`` and as the local fallback when Redis is unreachable. It
follows the same steps as ``lua/acquire.lua``; there is no lock because every
attempt runs without an ``await`` in the middle (one event loop, one atomic step).
"""

from __future__ import annotations

from collections import deque

from maestro.clock import Clock
from maestro.llm.ratelimit.policy import BucketPolicy, decide, refill, wait_hint
from maestro.llm.ratelimit.store import Attempt, Snapshot, counter_field
from maestro.llm.types import Priority

__all__ = ["MemoryBucketStore"]

_MINUTES = 60


class _Bucket:
    __slots__ = ("counters", "minutes", "queues", "tokens", "ts", "waiting")

    def __init__(self, tokens: float, now: float) -> None:
        self.tokens = tokens
        self.ts = now
        self.queues: tuple[deque[str], deque[str]] = (deque(), deque())
        """P0 waiters, then P1 waiters, each in arrival order."""
        self.waiting: dict[str, int] = {}
        self.counters: dict[str, int] = {}
        self.minutes: dict[int, int] = {}
        """Grants per minute since the epoch, for "calls in the last hour"."""

    def rank(self, ticket: str, priority: int) -> int:
        if priority == 0:
            return self.queues[0].index(ticket)
        return len(self.queues[0]) + self.queues[1].index(ticket)

    def count(self, kind: str, priority: int) -> None:
        name = counter_field(kind, priority)
        self.counters[name] = self.counters.get(name, 0) + 1

    def record_call(self, now: float) -> None:
        minute = int(now // 60)
        self.minutes[minute] = self.minutes.get(minute, 0) + 1
        if len(self.minutes) > _MINUTES + 1:
            for m in [m for m in self.minutes if m <= minute - _MINUTES]:
                del self.minutes[m]

    def calls_last_hour(self, now: float) -> int:
        minute = int(now // 60)
        return sum(n for m, n in self.minutes.items() if m > minute - _MINUTES)


class MemoryBucketStore:
    """Buckets in this process, timed by ``clock``."""

    name = "memory"

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}

    def _bucket(self, key: str, policy: BucketPolicy, now: float) -> _Bucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(policy.capacity, now)
        elif now > bucket.ts:
            bucket.tokens = refill(policy, bucket.tokens, now - bucket.ts)
            bucket.ts = now
        return bucket

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
        now = self._clock.time()
        b = self._bucket(key, policy, now)
        p = int(priority)
        if p <= 1:
            if ticket not in b.waiting:
                if not b.waiting and decide(policy, priority, b.tokens, cost, rank=0, queued=0) == (
                    "grant"
                ):
                    return self._grant(b, p, cost, now)
                b.queues[p].append(ticket)
                b.waiting[ticket] = p
                if first:
                    b.count("waits", p)
            rank = b.rank(ticket, p)
            if decide(policy, priority, b.tokens, cost, rank=rank, queued=len(b.waiting)) == (
                "grant"
            ):
                b.queues[p].popleft()
                del b.waiting[ticket]
                return self._grant(b, p, cost, now)
            hint = wait_hint(policy, priority, b.tokens, cost, rank)
            return Attempt("wait", b.tokens, now, hint)
        decision = decide(policy, priority, b.tokens, cost, rank=0, queued=len(b.waiting))
        if decision == "grant":
            return self._grant(b, p, cost, now)
        b.count("defers" if decision == "defer" else "skips", p)
        return Attempt(decision, b.tokens, now)

    @staticmethod
    def _grant(b: _Bucket, p: int, cost: int, now: float) -> Attempt:
        b.tokens -= cost
        b.count("calls", p)
        b.record_call(now)
        return Attempt("grant", b.tokens, now)

    async def leave(self, key: str, ticket: str, priority: Priority, *, timed_out: bool) -> None:
        bucket = self._buckets.get(key)
        if bucket is None:
            return
        p = bucket.waiting.pop(ticket, None)
        if p is not None:
            bucket.queues[p].remove(ticket)
        if timed_out:
            bucket.count("timeouts", int(priority))

    async def snapshot(self, key: str, policy: BucketPolicy) -> Snapshot:
        now = self._clock.time()
        b = self._buckets.get(key)
        if b is None:
            return Snapshot(tokens=policy.capacity, queued=0, calls_last_hour=0, now=now)
        tokens = refill(policy, b.tokens, now - b.ts)
        return Snapshot(
            tokens=tokens,
            queued=len(b.waiting),
            calls_last_hour=b.calls_last_hour(now),
            now=now,
            counters=dict(b.counters),
        )

    async def keys(self) -> list[str]:
        return sorted(self._buckets)
