"""The Redis bucket store: one Lua script per attempt, on Redis's own clock.

Every replica runs the same script against the same keys, so together they never
exceed the quota, and because the script reads ``TIME`` on the server, replicas
whose clocks disagree still agree on the bucket. A ``time_source`` clock replaces
``TIME`` (the script's "now" override): tests use it to drive refill with a
:class:`~maestro.clock.ManualClock`; in production it is ``None``.
"""

from __future__ import annotations

import math
from importlib import resources
from typing import Any

from maestro.clock import Clock
from maestro.errors import BackendUnavailableError
from maestro.llm.ratelimit.policy import BucketPolicy, Decision
from maestro.llm.ratelimit.store import Attempt, Snapshot
from maestro.llm.types import Priority

__all__ = ["RedisBucketStore"]

try:
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError
except ImportError as exc:  # pragma: no cover - redis is a core dependency
    from maestro.errors import ConfigurationError

    raise ConfigurationError("redis:// needs the 'redis' package: pip install redis") from exc

_UNAVAILABLE = (RedisConnectionError, RedisTimeoutError, OSError)
_DECISIONS: dict[bytes, Decision] = {
    b"grant": "grant",
    b"wait": "wait",
    b"defer": "defer",
    b"skip": "skip",
}
_SUFFIXES = ("bucket", "queue", "leases", "counters", "minutes")


def _source(name: str) -> str:
    return resources.files("maestro.llm.ratelimit.lua").joinpath(f"{name}.lua").read_text("utf-8")


class RedisBucketStore:
    """Buckets in Redis under ``prefix`` (e.g. ``maestro:rl:``), shared by every replica.

    Args:
        client: a ``redis.asyncio.Redis`` client (the coordinator's).
        prefix: the key prefix; a quota key ``model:gpt-4o`` lives under
            ``{prefix}model:gpt-4o:bucket`` and four siblings.
        lease: seconds a waiter keeps its place without asking again.
        time_source: when set, its time replaces Redis ``TIME`` (tests only).
        url: shown in error messages (without password).
    """

    name = "redis"

    def __init__(
        self,
        client: Any,
        prefix: str,
        *,
        lease: float = 15.0,
        time_source: Clock | None = None,
        url: str = "redis://",
    ) -> None:
        self._client = client
        self._prefix = prefix
        self._lease = lease
        self._time_source = time_source
        self._url = url
        self._acquire = client.register_script(_source("acquire"))
        self._leave = client.register_script(_source("leave"))
        self._snapshot = client.register_script(_source("snapshot"))

    def _keys(self, key: str) -> list[str]:
        return [f"{self._prefix}{key}:{s}" for s in _SUFFIXES]

    def _now(self) -> str:
        return "" if self._time_source is None else repr(self._time_source.time())

    async def _run(self, script: Any, keys: list[str], args: list[Any]) -> Any:
        try:
            return await script(keys=keys, args=args)
        except _UNAVAILABLE as exc:
            from maestro.urls import redact_url

            raise BackendUnavailableError(
                f"Redis at {redact_url(self._url)} is unreachable: {exc}"
            ) from exc

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
        idle_ms = math.ceil(max(policy.fill_seconds(), 3600.0) * 1000) + 60_000
        keys = [*self._keys(key), f"{self._prefix}keys"]
        args = [
            key,
            repr(policy.capacity),
            repr(policy.rate),
            repr(policy.reserve),
            cost,
            int(priority),
            repr(policy.skip_threshold),
            ticket,
            1 if first else 0,
            repr(self._lease),
            idle_ms,
            self._now(),
        ]
        decision, tokens, now, wait = await self._run(self._acquire, keys, args)
        return Attempt(_DECISIONS[decision], float(tokens), float(now), float(wait))

    async def leave(self, key: str, ticket: str, priority: Priority, *, timed_out: bool) -> None:
        _, queue, leases, counters, _ = self._keys(key)
        args = [ticket, int(priority), 1 if timed_out else 0]
        await self._run(self._leave, [queue, leases, counters], args)

    async def snapshot(self, key: str, policy: BucketPolicy) -> Snapshot:
        bucket, queue, _, counters, minutes = self._keys(key)
        args = [repr(policy.capacity), repr(policy.rate), self._now()]
        out = await self._run(self._snapshot, [bucket, queue, counters, minutes], args)
        fields = out[4:]
        named = {
            fields[i].decode(): int(fields[i + 1])
            for i in range(0, len(fields), 2)
            if fields[i] != b"seq"
        }
        return Snapshot(
            tokens=float(out[0]),
            queued=int(out[2]),
            calls_last_hour=int(out[3]),
            now=float(out[1]),
            counters=named,
        )

    async def keys(self) -> list[str]:
        try:
            members = await self._client.smembers(f"{self._prefix}keys")
        except _UNAVAILABLE as exc:
            raise BackendUnavailableError(f"Redis is unreachable: {exc}") from exc
        return sorted(m.decode() if isinstance(m, bytes) else str(m) for m in members)
