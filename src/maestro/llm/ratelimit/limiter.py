"""The rate limiter: waiting, timeouts and the fallback around a bucket store.

The store decides each attempt atomically; the limiter turns ``wait`` decisions
into sleeps on the injected clock (never a busy loop: the store says how long the
tokens will take, and local grants wake local waiters early), raises
:class:`~maestro.errors.RateLimitedError` when a waiter's timeout runs out, and
falls back to its ``on_unavailable`` policy while Redis cannot be reached.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import math
import uuid

from maestro.clock import Clock, SystemClock, utc_from_timestamp
from maestro.coord.base import Coordinator
from maestro.errors import (
    BackendUnavailableError,
    ConfigurationError,
    RateLimitedError,
    ValidationError,
)
from maestro.llm.ratelimit import metrics
from maestro.llm.ratelimit.keys import check_key
from maestro.llm.ratelimit.memory import MemoryBucketStore
from maestro.llm.ratelimit.policy import (
    BucketPolicy,
    Deferred,
    Granted,
    Outcome,
    Skipped,
    granted,
)
from maestro.llm.ratelimit.settings import RateLimitSettings
from maestro.llm.ratelimit.state import BucketState, PriorityStats
from maestro.llm.ratelimit.store import COUNTER_KINDS, Attempt, BucketStore, counter_field
from maestro.llm.types import Priority

__all__ = ["RateLimiter"]

_GRANTED = tuple((int(p), "granted") for p in Priority)
"""``metrics.OUTCOMES`` keys of a grant, by priority, built once."""

_P1, _P2 = Priority.P1, Priority.P2

_MIN_POLL = 0.05
"""Seconds a waiter that is not first in line sleeps when tokens are already there."""


class RateLimiter:
    """Priority token buckets per quota key, on one store, with a local fallback.

    Args:
        store: where the buckets live (``MemoryBucketStore`` or ``RedisBucketStore``).
        settings: policies and the behaviour while the store is unreachable.
        clock: times waits and timeouts (and the fallback bucket).
    """

    def __init__(
        self,
        store: BucketStore,
        *,
        settings: RateLimitSettings | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.settings = settings or RateLimitSettings()
        self._clock = clock or SystemClock()
        self._store = store
        self._local = MemoryBucketStore(self._clock)
        self._degraded = False
        self._probe_at = 0.0
        self._policies: dict[str, BucketPolicy] = {}
        self._wakers: dict[str, asyncio.Event] = {}
        self._max_step = self.settings.waiter_lease / 3
        self._id = uuid.uuid4().hex[:12] + ":"
        self._tickets = itertools.count()
        # Only the exact in-process store: a subclass may override ``attempt``.
        memory = store if type(store) is MemoryBucketStore else None
        self._attempt_now = memory.attempt_now if memory is not None else None
        self._take = memory.take if memory is not None else None
        metrics.DEGRADED.labels(store.name).set(0)

    @classmethod
    def from_coordinator(
        cls,
        coord: Coordinator,
        settings: RateLimitSettings | None = None,
        clock: Clock | None = None,
    ) -> RateLimiter:
        """The limiter on ``coord``'s backend: Redis for ``redis://``, else in-process."""
        settings = settings or RateLimitSettings()
        clock = clock or SystemClock()
        if coord.url.split("://", 1)[0] not in ("redis", "rediss"):
            return cls(MemoryBucketStore(clock), settings=settings, clock=clock)
        from maestro.coord.redis import RedisCoordinator
        from maestro.llm.ratelimit.redis import RedisBucketStore

        if not isinstance(coord, RedisCoordinator):
            raise ConfigurationError(
                f"coordinator for {coord.url!r} is not a RedisCoordinator", field="coord_url"
            )
        store = RedisBucketStore(
            coord.client,
            coord.key("rl", ""),
            lease=settings.waiter_lease,
            time_source=clock if settings.redis_clock == "client" else None,
            url=coord.url,
        )
        return cls(store, settings=settings, clock=clock)

    @property
    def backend(self) -> str:
        """The store's name: ``memory`` or ``redis``."""
        return self._store.name

    @property
    def degraded(self) -> bool:
        """True while the store is unreachable and ``on_unavailable`` applies."""
        return self._degraded

    def policy(self, key: str) -> BucketPolicy:
        """The policy of quota key ``key``."""
        policy = self._policies.get(key)
        if policy is None:
            policy = self._policies[key] = self.settings.policy_for(check_key(key))
        return policy

    async def acquire(self, key: str, priority: Priority, *, cost: int | None = None) -> Outcome:
        """Take ``cost`` tokens (the policy's cost by default) from ``key``'s bucket.

        Returns ``Granted`` (P0/P1 after waiting if they must), ``Deferred`` (P2, no
        tokens now) or ``Skipped`` (P3, quota low). Raises
        :class:`~maestro.errors.RateLimitedError` when a waiter's timeout runs out and
        :class:`~maestro.errors.BackendUnavailableError` for P0/P1 under ``fail_closed``.
        """
        policy = self._policies.get(key) or self.policy(key)
        if type(priority) is not Priority:
            priority = Priority(priority)
        if cost is None:
            cost = policy.cost
        else:
            _check_cost(policy, priority, cost)
        if self._take is not None and priority >= _P2:
            # In-process P2/P3 with tokens there and nobody waiting: no Attempt, no await.
            tokens = self._take(key, policy, priority, cost)
            if tokens is not None:
                metrics.OUTCOMES[_GRANTED[priority]] += 1
                return granted(tokens)
        ticket = f"{self._id}{next(self._tickets)}" if priority <= _P1 else ""
        store: BucketStore | None = self._store
        if self._attempt_now is not None:
            # In-process: the attempt is plain code, so no coroutine frames at all.
            attempt = self._attempt_now(key, policy, priority, cost, ticket, True)
        elif not self._degraded:
            # _attempt's first branch, inlined: one coroutine frame less per call.
            try:
                attempt = await self._store.attempt(
                    key, policy, priority, cost, ticket=ticket, first=True
                )
            except BackendUnavailableError:
                self._set_degraded(True)
                store, attempt = await self._fallback(key, policy, priority, cost, ticket, True)
        else:
            store, attempt = await self._attempt(key, policy, priority, cost, ticket, True)
        decision = attempt.decision
        if decision == "grant":
            metrics.OUTCOMES[_GRANTED[priority]] += 1
            return granted(_known(attempt.tokens))
        if decision == "defer":
            metrics.OUTCOMES[int(priority), "deferred"] += 1
            retry_at = utc_from_timestamp(attempt.now + policy.defer_seconds)
            return Deferred(retry_at=retry_at, tokens=_known(attempt.tokens))
        if decision == "skip":
            metrics.OUTCOMES[int(priority), "skipped"] += 1
            return Skipped(tokens=_known(attempt.tokens))
        return await self._wait_turn(key, policy, priority, cost, ticket, store, attempt)

    async def _wait_turn(
        self,
        key: str,
        policy: BucketPolicy,
        priority: Priority,
        cost: int,
        ticket: str,
        store: BucketStore | None,
        attempt: Attempt,
    ) -> Granted:
        """Queue until it is this caller's turn and the tokens are there, or time runs out."""
        metrics.WAITS.labels(priority.name).inc()
        started = self._clock.time()
        timeout = policy.p1_timeout if priority == Priority.P1 else policy.p0_timeout
        queued_in: set[BucketStore] = set()
        granted_by: BucketStore | None = None
        try:
            while True:
                if store is not None:
                    queued_in.add(store)
                delay = min(attempt.wait if attempt.wait > 0 else _MIN_POLL, self._max_step)
                if timeout is not None:
                    remaining = started + timeout - self._clock.time()
                    if remaining <= 0:
                        if store is not None:
                            queued_in.discard(store)
                            with contextlib.suppress(BackendUnavailableError):
                                await store.leave(key, ticket, priority, timed_out=True)
                        metrics.OUTCOMES[int(priority), "timed_out"] += 1
                        raise RateLimitedError(
                            f"{priority.name} call on quota key {key!r} got no tokens within "
                            f"its timeout of {timeout:g}s",
                            field="p1_timeout" if priority == Priority.P1 else "p0_timeout",
                        )
                    delay = min(delay, remaining)
                await self._pause(key, delay)
                store, attempt = await self._attempt(key, policy, priority, cost, ticket, False)
                if attempt.decision == "grant":
                    granted_by = store
                    return self._granted(key, priority, attempt, self._clock.time() - started)
        finally:
            for other in queued_in - {granted_by}:
                with contextlib.suppress(BackendUnavailableError):
                    await other.leave(key, ticket, priority, timed_out=False)
            # The line moved: whoever is next here need not sleep out its full delay.
            self._wake(key)

    async def state(self, key: str) -> BucketState:
        """Tokens, queue, calls in the last hour and counters by priority of ``key``."""
        policy = self.policy(key)
        snap = None
        if not self._degraded:
            try:
                snap = await self._store.snapshot(key, policy)
            except BackendUnavailableError:
                self._set_degraded(True)
        backend = self._store.name
        if snap is None:
            backend = "local"
            policy = self._local_policy(policy)
            snap = await self._local.snapshot(key, policy)
        metrics.TOKENS.labels(key).set(snap.tokens)
        priorities = {
            p.name: PriorityStats(
                **{kind: snap.counters.get(counter_field(kind, p), 0) for kind in COUNTER_KINDS}
            )
            for p in Priority
        }
        return BucketState(
            key=key,
            tokens=round(snap.tokens, 6),
            capacity=policy.capacity,
            reserve=policy.reserve,
            refill_per_minute=policy.refill_per_minute,
            waiting=snap.queued,
            calls_last_hour=snap.calls_last_hour,
            priorities=priorities,
            degraded=self._degraded,
            backend=backend,
            as_of=utc_from_timestamp(snap.now),
        )

    async def keys(self) -> list[str]:
        """Every quota key with a bucket (the local fallback's while degraded)."""
        if not self._degraded:
            try:
                return await self._store.keys()
            except BackendUnavailableError:
                self._set_degraded(True)
        return await self._local.keys()

    # -- internals ---------------------------------------------------------------

    async def _attempt(
        self,
        key: str,
        policy: BucketPolicy,
        priority: Priority,
        cost: int,
        ticket: str,
        first: bool,
    ) -> tuple[BucketStore | None, Attempt]:
        if not self._degraded:
            try:
                attempt = await self._store.attempt(
                    key, policy, priority, cost, ticket=ticket, first=first
                )
                return self._store, attempt
            except BackendUnavailableError:
                self._set_degraded(True)
        elif self._clock.time() >= self._probe_at:
            # One caller per back-off window tries the shared store again.
            self._probe_at = self._clock.time() + self.settings.probe_backoff
            with contextlib.suppress(BackendUnavailableError):
                await self._hand_back()
                attempt = await self._store.attempt(
                    key, policy, priority, cost, ticket=ticket, first=first
                )
                self._set_degraded(False)
                return self._store, attempt
        return await self._fallback(key, policy, priority, cost, ticket, first)

    async def _fallback(
        self,
        key: str,
        policy: BucketPolicy,
        priority: Priority,
        cost: int,
        ticket: str,
        first: bool,
    ) -> tuple[BucketStore | None, Attempt]:
        mode = self.settings.on_unavailable
        now = self._clock.time()
        if mode == "fail_open":
            return None, Attempt("grant", float("nan"), now)
        if mode == "fail_closed":
            if priority <= Priority.P1:
                raise BackendUnavailableError(
                    f"rate limiter backend {self._store.name} is unreachable and ratelimit."
                    f"on_unavailable is fail_closed; {priority.name} call on {key!r} refused",
                    field="ratelimit.on_unavailable",
                )
            return None, Attempt("defer" if priority == Priority.P2 else "skip", float("nan"), now)
        local = self._local_policy(policy)
        attempt = await self._local.attempt(key, local, priority, cost, ticket=ticket, first=first)
        return self._local, attempt

    async def _hand_back(self) -> None:
        """Take what the local shares granted while degraded from the shared buckets.

        Each local bucket holds this replica's share of its key's quota, so how far it is
        below full (after its own refill) is what this replica spent beyond that refill.
        Taking that from the shared bucket, never below empty, stops the shared bucket from
        admitting its own full burst on top of what the local shares just admitted; the
        counters move along so monitoring sees the calls. A key is forgotten locally as soon
        as its usage is handed back, so a failure half-way never counts anything twice.
        """
        for key, shortfall, counters in self._local.usage():
            if shortfall > 0 or counters:
                await self._store.debit(key, self.policy(key), shortfall, counters)
            self._local.forget(key)

    def _local_policy(self, policy: BucketPolicy) -> BucketPolicy:
        return policy.share(self.settings.replicas)

    def _set_degraded(self, degraded: bool) -> None:
        if degraded and not self._degraded:
            self._probe_at = self._clock.time() + self.settings.probe_backoff
        self._degraded = degraded
        metrics.DEGRADED.labels(self._store.name).set(1 if degraded else 0)

    async def _pause(self, key: str, delay: float) -> None:
        """Sleep ``delay`` on the clock, or less if a local waiter on ``key`` moves the line."""
        waker = self._wakers.get(key)
        if waker is None:
            waker = self._wakers[key] = asyncio.Event()
        sleeper = asyncio.ensure_future(self._clock.sleep(delay))
        woken = asyncio.ensure_future(waker.wait())
        try:
            await asyncio.wait((sleeper, woken), return_when=asyncio.FIRST_COMPLETED)
        finally:
            sleeper.cancel()
            woken.cancel()

    def _wake(self, key: str) -> None:
        waker = self._wakers.pop(key, None)
        if waker is not None:
            waker.set()

    def _granted(self, key: str, priority: Priority, attempt: Attempt, waited: float) -> Granted:
        metrics.OUTCOMES[_GRANTED[priority]] += 1
        return granted(_known(attempt.tokens), waited)


def _known(tokens: float) -> float | None:
    """``None`` for the NaN a store-less fallback reports (tokens unknown)."""
    return None if math.isnan(tokens) else tokens


def _check_cost(policy: BucketPolicy, priority: Priority, cost: int) -> None:
    if cost < 1:
        raise ValidationError(f"cost {cost} must be at least 1", field="cost")
    if cost + policy.floor(priority) > policy.capacity:
        raise ValidationError(
            f"cost {cost} can never be served to {priority.name}: capacity {policy.capacity:g} "
            f"minus the {policy.floor(priority):g} tokens it may not touch is less",
            field="cost",
        )
