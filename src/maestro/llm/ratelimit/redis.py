"""The Redis bucket store: one Lua script per attempt, on Redis's own clock.

Every replica runs the same script against the same keys, so together they never
exceed the quota, and because the script reads ``TIME`` on the server, replicas
whose clocks disagree still agree on the bucket. A ``time_source`` clock replaces
``TIME`` (the script's "now" override): tests use it to drive refill with a
:class:`~maestro.clock.ManualClock`; in production it is ``None``.
"""

from __future__ import annotations

import hashlib
import math
from importlib import resources
from typing import Any

from maestro.clock import Clock
from maestro.errors import BackendUnavailableError
from maestro.llm.ratelimit.policy import BucketPolicy, Decision
from maestro.llm.ratelimit.store import Attempt, Snapshot, counter_field
from maestro.llm.types import Priority

__all__ = ["RedisBucketStore"]

try:
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import NoScriptError
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


_NAN = float("nan")


def _code(priority: int, cost: int, first: bool) -> int:
    """One int for a kind of call (a cheaper dict key than a tuple holding an enum)."""
    return cost << 3 | priority << 1 | first


def _idle_ms(policy: BucketPolicy) -> int:
    """Milliseconds a bucket lives unused: a full fill time or an hour, plus a minute."""
    return math.ceil(max(policy.fill_seconds(), 3600.0) * 1000) + 60_000


def _source(name: str) -> str:
    return resources.files("maestro.llm.ratelimit.lua").joinpath(f"{name}.lua").read_text("utf-8")


class RedisBucketStore:
    """Buckets in Redis under ``prefix`` (e.g. ``maestro:rl:``), shared by every replica.

    Args:
        client: a ``redis.asyncio.Redis`` client (the coordinator's).
        prefix: the key prefix; a quota key ``model:gpt-4o`` lives in the hash
            ``{prefix}model:gpt-4o:bucket`` and the wait queue ``...:queue``.
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
        self._lease_arg = repr(lease)
        self._time_source = time_source
        self._url = url
        # acquire.lua runs on every call, so it goes out as a bare EVALSHA whose arguments
        # are encoded once per key, policy and kind of call (see _command); the others are
        # rare.
        self._acquire_source = _source("acquire")
        self._acquire_sha = hashlib.sha1(self._acquire_source.encode()).hexdigest().encode()
        self._commands: dict[str, tuple[BucketPolicy, dict[int, tuple[bytes, ...]]]] = {}
        self._leave = client.register_script(_source("leave"))
        self._snapshot = client.register_script(_source("snapshot"))
        self._debit = client.register_script(_source("debit"))

    def _keys(self, key: str) -> list[str]:
        """The bucket hash and the wait queue of ``key``."""
        return [f"{self._prefix}{key}:bucket", f"{self._prefix}{key}:queue"]

    def _command(
        self, key: str, policy: BucketPolicy, priority: Priority, cost: int, first: bool
    ) -> tuple[bytes, ...]:
        """``EVALSHA``, the script, its three keys and ARGV 1 for one kind of call on ``key``.

        ARGV 1 carries the policy and the call together, with the threshold a grant needs
        (floor plus cost, and for P3 the skip threshold) worked out here once, so the
        script's fast path parses one argument and compares one number.
        """
        entry = self._commands.get(key)
        if entry is None or entry[0] is not policy:
            entry = self._commands[key] = (policy, {})
        need = policy.floor(priority) + cost
        if priority == Priority.P3:
            need = max(need, policy.skip_threshold)
        idle = _idle_ms(policy)
        numbers = (policy.capacity, policy.rate, need)
        call = (cost, counter_field("calls", priority), int(first), idle)
        blob = " ".join([*map(repr, numbers), *map(str, call), self._lease_arg, key])
        bucket, queue = self._keys(key)
        command = (
            b"EVALSHA",
            self._acquire_sha,
            b"3",
            bucket.encode(),
            queue.encode(),
            f"{self._prefix}keys".encode(),
            blob.encode(),
        )
        entry[1][_code(priority, cost, first)] = command
        return command

    def _now(self) -> str:
        return "" if self._time_source is None else repr(self._time_source.time())

    def _unavailable(self, exc: BaseException) -> BackendUnavailableError:
        from maestro.urls import redact_url

        return BackendUnavailableError(f"Redis at {redact_url(self._url)} is unreachable: {exc}")

    async def _run(self, script: Any, keys: list[str], args: list[Any]) -> Any:
        try:
            return await script(keys=keys, args=args)
        except _UNAVAILABLE as exc:
            raise self._unavailable(exc) from exc

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
        entry = self._commands.get(key)
        command = None
        if entry is not None and entry[0] is policy:
            command = entry[1].get(_code(priority, cost, first))
        if command is None:
            command = self._command(key, policy, priority, cost, first)
        execute = self._client.execute_command
        # A P2/P3 call on Redis's clock sends nothing else: no ticket, no "now".
        extra: tuple[str, ...] = ()
        if priority <= Priority.P1 or self._time_source is not None:
            extra = (ticket, self._now())
        try:
            try:
                reply = await execute(*command, *extra)
            except NoScriptError:
                # A restarted or flushed server forgot the script: load it and go again.
                await self._client.script_load(self._acquire_source)
                reply = await execute(*command, *extra)
        except _UNAVAILABLE as exc:
            raise self._unavailable(exc) from exc
        if type(reply) is int:
            # A grant: the tokens left, in millionths. The script does not report its
            # clock for a grant (nothing reads it), so ``now`` is NaN.
            return Attempt("grant", reply / 1_000_000, _NAN)
        decision, tokens, at, wait = reply
        return Attempt(_DECISIONS[decision], float(tokens), float(at), float(wait))

    async def leave(self, key: str, ticket: str, priority: Priority, *, timed_out: bool) -> None:
        args = [ticket, int(priority), 1 if timed_out else 0]
        await self._run(self._leave, self._keys(key), args)

    async def snapshot(self, key: str, policy: BucketPolicy) -> Snapshot:
        args = [repr(policy.capacity), repr(policy.rate), self._now()]
        out = await self._run(self._snapshot, self._keys(key), args)
        fields = out[4:]
        named = {fields[i].decode(): int(fields[i + 1]) for i in range(0, len(fields), 2)}
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
            raise self._unavailable(exc) from exc
        return sorted(m.decode() if isinstance(m, bytes) else str(m) for m in members)

    async def debit(
        self, key: str, policy: BucketPolicy, tokens: float, counters: dict[str, int]
    ) -> None:
        bucket = f"{self._prefix}{key}:bucket"
        args: list[Any] = [repr(policy.capacity), repr(policy.rate), repr(tokens)]
        args += [_idle_ms(policy), key, self._now()]
        for name, n in sorted(counters.items()):
            args += [name, n]
        await self._run(self._debit, [bucket, f"{self._prefix}keys"], args)
