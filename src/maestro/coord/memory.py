"""``memory://``: a real in-process coordinator (one replica, no server)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

from maestro.clock import Clock, SystemClock
from maestro.coord.base import Script, ScriptArg
from maestro.coord.locks import LeaseLock

__all__ = ["MemoryCoordinator"]


class _State:
    """The store: values plus absolute expiry times on the coordinator's clock."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self.data: dict[str, Any] = {}
        self.expiry: dict[str, float] = {}

    @property
    def now(self) -> float:
        return self._clock.time()

    def _live(self, key: str) -> bool:
        exp = self.expiry.get(key)
        if exp is not None and exp <= self.now:
            self.data.pop(key, None)
            self.expiry.pop(key, None)
        return key in self.data

    def get(self, key: str) -> Any:
        return self.data[key] if self._live(key) else None

    def set(self, key: str, value: Any, ttl: float | None = None) -> None:
        self.data[key] = value
        if ttl is None:
            self.expiry.pop(key, None)
        else:
            self.expiry[key] = self.now + ttl

    def delete(self, key: str) -> bool:
        live = self._live(key)
        self.data.pop(key, None)
        self.expiry.pop(key, None)
        return live

    def expire(self, key: str, ttl: float) -> bool:
        if not self._live(key):
            return False
        self.expiry[key] = self.now + ttl
        return True

    def ttl(self, key: str) -> float | None:
        if not self._live(key) or key not in self.expiry:
            return None
        return self.expiry[key] - self.now


def _encode(value: bytes | str) -> bytes:
    return value if isinstance(value, bytes) else value.encode()


class _MemorySubscription:
    def __init__(self, queue: asyncio.Queue[bytes], detach: Callable[[], None]) -> None:
        self._queue = queue
        self._detach = detach

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while True:
            yield await self._queue.get()

    async def next(self, timeout: float | None = None) -> bytes | None:
        try:
            return await asyncio.wait_for(self._queue.get(), timeout)
        except TimeoutError:
            return None

    async def close(self) -> None:
        self._detach()


class MemoryCoordinator:
    """Everything in one process; TTLs follow the injected clock."""

    def __init__(
        self, url: str = "memory://", *, prefix: str = "maestro:", clock: Clock | None = None
    ) -> None:
        self.url = url
        self.prefix = prefix
        self.clock = clock or SystemClock()
        self._state = _State(self.clock)
        self._mutex = threading.Lock()
        self._subscribers: dict[str, set[asyncio.Queue[bytes]]] = {}

    def key(self, *parts: str) -> str:
        return self.prefix + ":".join(parts)

    async def ping(self) -> bool:
        return True

    async def get(self, key: str) -> bytes | None:
        with self._mutex:
            value = self._state.get(key)
        return value if isinstance(value, bytes) else None

    async def set(
        self, key: str, value: bytes | str, *, ttl: float | None = None, nx: bool = False
    ) -> bool:
        with self._mutex:
            if nx and self._state.get(key) is not None:
                return False
            self._state.set(key, _encode(value), ttl)
            return True

    async def delete(self, *keys: str) -> int:
        with self._mutex:
            return sum(self._state.delete(k) for k in keys)

    async def incr(self, key: str, amount: int = 1, *, ttl: float | None = None) -> int:
        with self._mutex:
            current = self._state.get(key)
            value = int(current or 0) + amount
            if current is None:
                self._state.set(key, str(value).encode(), ttl)
            else:
                self._state.data[key] = str(value).encode()
            return value

    async def ttl(self, key: str) -> float | None:
        with self._mutex:
            return self._state.ttl(key)

    async def run_script(
        self, script: Script, keys: Sequence[str], args: Sequence[ScriptArg] = ()
    ) -> Any:
        with self._mutex:
            return script.local(self._state, keys, args)

    def lock(self, name: str, *, ttl: float = 30.0) -> LeaseLock:
        return LeaseLock(self, name, ttl)

    async def publish(self, channel: str, message: bytes | str) -> int:
        queues = self._subscribers.get(channel, set())
        for q in queues:
            q.put_nowait(_encode(message))
        return len(queues)

    async def subscribe(self, channel: str) -> _MemorySubscription:
        queue: asyncio.Queue[bytes] = asyncio.Queue()
        self._subscribers.setdefault(channel, set()).add(queue)
        return _MemorySubscription(queue, lambda: self._subscribers[channel].discard(queue))

    async def close(self) -> None:
        self._subscribers.clear()
