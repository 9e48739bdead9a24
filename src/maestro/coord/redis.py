"""``redis://``: state shared by every replica through one Redis server.

Compound operations run as Lua scripts (EVALSHA, loaded once per client), so no
read-modify-write ever spans round trips. Connection failures surface as
:class:`~maestro.errors.BackendUnavailableError`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from typing import Any

from maestro.coord.base import Script, ScriptArg
from maestro.coord.locks import LeaseLock
from maestro.errors import BackendUnavailableError, ConfigurationError

__all__ = ["RedisCoordinator"]

try:
    import redis.asyncio as aioredis
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError
except ImportError as exc:  # pragma: no cover - redis is a core dependency
    raise ConfigurationError("redis:// needs the 'redis' package: pip install redis") from exc

_UNAVAILABLE = (RedisConnectionError, RedisTimeoutError, OSError)


class _RedisSubscription:
    def __init__(self, pubsub: Any) -> None:
        self._pubsub = pubsub

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while True:
            msg = await self.next(timeout=None)
            if msg is not None:
                yield msg

    async def next(self, timeout: float | None = None) -> bytes | None:
        async def _one() -> bytes:
            while True:
                m = await self._pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
                if m is not None and m["type"] == "message":
                    data = m["data"]
                    return data if isinstance(data, bytes) else str(data).encode()

        try:
            return await asyncio.wait_for(_one(), timeout)
        except TimeoutError:
            return None

    async def close(self) -> None:
        await self._pubsub.aclose()


class RedisCoordinator:
    """A coordinator on a Redis server (``redis://`` or ``rediss://``)."""

    def __init__(self, url: str, *, prefix: str = "maestro:", socket_timeout: float = 2.0) -> None:
        self.url = url
        self.prefix = prefix
        self.client: aioredis.Redis = aioredis.Redis.from_url(
            url, socket_timeout=socket_timeout, socket_connect_timeout=socket_timeout
        )
        self._scripts: dict[str, Any] = {}

    def key(self, *parts: str) -> str:
        return self.prefix + ":".join(parts)

    def _unavailable(self, exc: BaseException) -> BackendUnavailableError:
        from maestro.urls import redact_url

        return BackendUnavailableError(f"Redis at {redact_url(self.url)} is unreachable: {exc}")

    async def _call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        try:
            return await getattr(self.client, name)(*args, **kwargs)
        except _UNAVAILABLE as exc:
            raise self._unavailable(exc) from exc

    async def ping(self) -> bool:
        try:
            return bool(await self.client.ping())
        except Exception:
            return False

    async def get(self, key: str) -> bytes | None:
        value = await self._call("get", key)
        return value if value is None or isinstance(value, bytes) else str(value).encode()

    async def set(
        self, key: str, value: bytes | str, *, ttl: float | None = None, nx: bool = False
    ) -> bool:
        px = None if ttl is None else max(1, int(ttl * 1000))
        return bool(await self._call("set", key, value, px=px, nx=nx))

    async def delete(self, *keys: str) -> int:
        return int(await self._call("delete", *keys)) if keys else 0

    async def incr(self, key: str, amount: int = 1, *, ttl: float | None = None) -> int:
        try:
            async with self.client.pipeline(transaction=True) as pipe:
                pipe.incrby(key, amount)
                if ttl is not None:
                    pipe.pexpire(key, max(1, int(ttl * 1000)), nx=True)
                result = await pipe.execute()
        except _UNAVAILABLE as exc:
            raise self._unavailable(exc) from exc
        return int(result[0])

    async def ttl(self, key: str) -> float | None:
        ms = int(await self._call("pttl", key))
        return None if ms < 0 else ms / 1000.0

    async def run_script(
        self, script: Script, keys: Sequence[str], args: Sequence[ScriptArg] = ()
    ) -> Any:
        registered = self._scripts.get(script.name)
        if registered is None:
            registered = self.client.register_script(script.source)
            self._scripts[script.name] = registered
        try:
            return await registered(keys=list(keys), args=list(args))
        except _UNAVAILABLE as exc:
            raise self._unavailable(exc) from exc

    def lock(self, name: str, *, ttl: float = 30.0) -> LeaseLock:
        return LeaseLock(self, name, ttl)

    async def publish(self, channel: str, message: bytes | str) -> int:
        return int(await self._call("publish", channel, message))

    async def subscribe(self, channel: str) -> _RedisSubscription:
        pubsub = self.client.pubsub()
        try:
            await pubsub.subscribe(channel)
        except _UNAVAILABLE as exc:
            raise self._unavailable(exc) from exc
        return _RedisSubscription(pubsub)

    async def close(self) -> None:
        await self.client.aclose()
