"""The in-process bucket store: plain Python state, time from the injected clock.

Used on ``memory://`` and as the local fallback when Redis is unreachable. It
follows the same steps as ``lua/acquire.lua``; there is no lock because every
attempt runs without an ``await`` in the middle (one event loop, one atomic step).
"""

from __future__ import annotations

import time
from collections import deque

from maestro.clock import Clock, SystemClock
from maestro.llm.ratelimit.policy import EPSILON, BucketPolicy, decide, refill, wait_hint
from maestro.llm.ratelimit.store import COUNTER_KINDS, Attempt, Snapshot, counter_field
from maestro.llm.types import Priority

__all__ = ["MemoryBucketStore"]

_MINUTES = 60
_FIELDS = {kind: tuple(counter_field(kind, p) for p in Priority) for kind in COUNTER_KINDS}
_CALLS = _FIELDS["calls"]


class _Bucket:
    __slots__ = (
        "capacity",
        "counters",
        "fast_floor",
        "minutes",
        "policy",
        "queues",
        "rate",
        "tokens",
        "ts",
        "waiting",
    )

    def __init__(self, tokens: float, now: float) -> None:
        self.tokens = tokens
        self.ts = now
        self.policy: BucketPolicy | None = None
        self.capacity = self.rate = self.fast_floor = 0.0
        self.queues: tuple[deque[str], deque[str]] = (deque(), deque())
        """P0 waiters, then P1 waiters, each in arrival order."""
        self.waiting: dict[str, int] = {}
        self.counters: dict[str, int] = {}
        self.minutes: dict[int, int] = {}
        """Grants per minute since the epoch, for "calls in the last hour"."""

    def use(self, policy: BucketPolicy) -> None:
        """Cache the policy's numbers (read on every attempt)."""
        self.policy = policy
        self.capacity = policy.capacity
        self.rate = policy.rate
        # Above this, any P2 or P3 call is granted (P3 also needs 20% of capacity).
        self.fast_floor = max(policy.reserve, policy.skip_threshold)

    def rank(self, ticket: str, priority: int) -> int:
        if priority == 0:
            return self.queues[0].index(ticket)
        return len(self.queues[0]) + self.queues[1].index(ticket)

    def count(self, kind: str, priority: int) -> None:
        name = _FIELDS[kind][priority]
        self.counters[name] = self.counters.get(name, 0) + 1

    def grant(self, p: int, cost: int, now: float) -> Attempt:
        self.spend(p, cost, now)
        return Attempt("grant", self.tokens, now)

    def spend(self, p: int, cost: int, now: float) -> None:
        """Take ``cost`` tokens and count the grant."""
        self.tokens -= cost
        counters = self.counters
        name = _CALLS[p]
        counters[name] = counters.get(name, 0) + 1
        minutes = self.minutes
        minute = int(now // 60)
        if minute in minutes:
            minutes[minute] += 1
        else:
            minutes[minute] = 1
            if len(minutes) > _MINUTES + 1:
                for m in [m for m in minutes if m <= minute - _MINUTES]:
                    del minutes[m]

    def calls_last_hour(self, now: float) -> int:
        minute = int(now // 60)
        return sum(n for m, n in self.minutes.items() if m > minute - _MINUTES)


class MemoryBucketStore:
    """Buckets in this process, timed by ``clock``."""

    name = "memory"

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        # SystemClock.time is time.time behind one more call; read it directly then.
        self._time = time.time if type(clock) is SystemClock else clock.time
        self._buckets: dict[str, _Bucket] = {}

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
        return self.attempt_now(key, policy, priority, cost, ticket, first)

    def attempt_now(
        self,
        key: str,
        policy: BucketPolicy,
        priority: Priority,
        cost: int,
        ticket: str,
        first: bool,
    ) -> Attempt:
        """:meth:`attempt` without the coroutine (the limiter calls it directly)."""
        now = self._time()
        b = self._refilled(key, policy, now)
        # The common case (P2/P3, nobody waiting, tokens there) without the general path.
        if priority >= 2 and not b.waiting and b.tokens + EPSILON >= b.fast_floor + cost:
            return b.grant(priority, cost, now)
        p = int(priority)
        if p <= 1:
            if ticket not in b.waiting:
                if not b.waiting and decide(policy, priority, b.tokens, cost, rank=0, queued=0) == (
                    "grant"
                ):
                    return b.grant(p, cost, now)
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
                return b.grant(p, cost, now)
            hint = wait_hint(policy, priority, b.tokens, cost, rank)
            return Attempt("wait", b.tokens, now, hint)
        decision = decide(policy, priority, b.tokens, cost, rank=0, queued=len(b.waiting))
        if decision == "grant":
            return b.grant(p, cost, now)
        b.count("defers" if decision == "defer" else "skips", p)
        return Attempt(decision, b.tokens, now)

    def take(self, key: str, policy: BucketPolicy, priority: Priority, cost: int) -> float | None:
        """The common case of :meth:`attempt_now` alone: a P2/P3 call granted at once.

        Returns the tokens left after the grant, or ``None`` (nothing taken, nothing
        counted) when anyone waits or the tokens are not there; the caller then makes a
        full attempt. Saves building an :class:`Attempt` on the in-process hot path.
        """
        now = self._time()
        b = self._refilled(key, policy, now)
        if not b.waiting and b.tokens + EPSILON >= b.fast_floor + cost:
            b.spend(priority, cost, now)
            return b.tokens
        return None

    def _refilled(self, key: str, policy: BucketPolicy, now: float) -> _Bucket:
        """``key``'s bucket (created full if new), refilled up to ``now``."""
        b = self._buckets.get(key)
        if b is None:
            b = self._buckets[key] = _Bucket(policy.capacity, now)
        if b.policy is not policy:
            b.use(policy)
        if now > b.ts:
            b.tokens = min(b.capacity, b.tokens + (now - b.ts) * b.rate)
            b.ts = now
        return b

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

    async def debit(
        self, key: str, policy: BucketPolicy, tokens: float, counters: dict[str, int]
    ) -> None:
        b = self._refilled(key, policy, self._time())
        b.tokens = max(min(b.tokens, 0.0), b.tokens - tokens)
        for name, n in counters.items():
            b.counters[name] = b.counters.get(name, 0) + n

    def usage(self) -> list[tuple[str, float, dict[str, int]]]:
        """Per key: tokens below full (refilled up to now) and the counters.

        The limiter hands these back to the shared bucket after an outage (the local
        bucket holds this replica's share, so its shortfall is what the replica took
        beyond what the share has refilled since).
        """
        now = self._time()
        out = []
        for key, b in self._buckets.items():
            if b.policy is None:
                continue
            tokens = refill(b.policy, b.tokens, now - b.ts)
            out.append((key, max(0.0, b.policy.capacity - tokens), dict(b.counters)))
        return out

    def forget(self, key: str) -> None:
        """Drop ``key``'s bucket (its usage was handed back); local waiters lose nothing,
        they try the shared store next."""
        self._buckets.pop(key, None)
