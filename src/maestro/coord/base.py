"""The coordination protocol: what replicas share.

Rate limits, cache entries, locks and events live here so every replica sees the
same state. Two real implementations, chosen by URL (:func:`maestro.coord.connect`):
``memory://`` (one process) and ``redis://`` (all replicas).

Compound operations are :class:`Script` objects: a Lua file shipped in
``maestro/coord/lua/`` that Redis runs atomically, and a Python function with the
same semantics that the memory backend runs under its lock. The contract suite
(tests/contract/test_coord.py) holds both to one behaviour.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, Protocol, runtime_checkable

__all__ = ["Coordinator", "LocalState", "Lock", "Script", "ScriptArg", "Subscription"]

ScriptArg = str | int | float | bytes


class LocalState(Protocol):
    """The synchronous view of the memory store that a script's Python twin gets.

    Values are ``bytes`` (strings), ``dict[bytes, bytes]`` (hashes) or
    ``list[bytes]`` (lists); ``now`` is the coordinator clock's time in seconds.
    """

    @property
    def now(self) -> float: ...

    def get(self, key: str) -> Any: ...
    def set(self, key: str, value: Any, ttl: float | None = None) -> None: ...
    def delete(self, key: str) -> bool: ...
    def expire(self, key: str, ttl: float) -> bool: ...
    def ttl(self, key: str) -> float | None: ...


@dataclass(frozen=True)
class Script:
    """An atomic compound operation with a Lua body and a Python twin.

    Attributes:
        name: file name (without ``.lua``) in ``maestro/coord/lua`` or in ``package``.
        local: the Python twin, ``local(state, keys, args) -> result``; it must
            return what the Lua script returns (ints, bytes, lists of those).
        package: where the ``.lua`` file lives (a package with a resources folder).
    """

    name: str
    local: Callable[[LocalState, Sequence[str], Sequence[ScriptArg]], Any]
    package: str = "maestro.coord.lua"
    _source: list[str] = field(default_factory=list, compare=False, repr=False)

    @property
    def source(self) -> str:
        if not self._source:
            self._source.append(
                resources.files(self.package).joinpath(f"{self.name}.lua").read_text("utf-8")
            )
        return self._source[0]


@runtime_checkable
class Lock(Protocol):
    """A lock with expiry, safe against release by a holder whose lease ran out."""

    key: str
    """The coordinator key that exists while someone holds the lock."""

    async def acquire(self, *, blocking: bool = True, timeout: float | None = None) -> bool: ...
    async def release(self) -> bool: ...
    async def extend(self, ttl: float) -> bool: ...
    async def __aenter__(self) -> Lock: ...
    async def __aexit__(self, *exc: object) -> None: ...


@runtime_checkable
class Subscription(Protocol):
    """Messages on one channel, registered from the moment ``subscribe`` returned."""

    def __aiter__(self) -> AsyncIterator[bytes]: ...
    async def next(self, timeout: float | None = None) -> bytes | None:
        """The next message, or ``None`` after ``timeout`` seconds."""

    async def close(self) -> None: ...


@runtime_checkable
class Coordinator(Protocol):
    """State shared by all replicas. Keys passed in are full keys; use :meth:`key`."""

    url: str
    prefix: str

    def key(self, *parts: str) -> str:
        """The full key for ``parts`` under the configured prefix."""

    async def ping(self) -> bool:
        """True when the backend answers; never raises."""

    async def get(self, key: str) -> bytes | None: ...
    async def set(
        self, key: str, value: bytes | str, *, ttl: float | None = None, nx: bool = False
    ) -> bool:
        """Store a value; with ``nx`` only if absent. Returns whether it was written."""

    async def delete(self, *keys: str) -> int: ...
    async def incr(self, key: str, amount: int = 1, *, ttl: float | None = None) -> int:
        """Add to a counter; ``ttl`` is set when the counter is created."""

    async def ttl(self, key: str) -> float | None:
        """Seconds left, ``None`` if the key has no expiry or does not exist."""

    async def run_script(
        self, script: Script, keys: Sequence[str], args: Sequence[ScriptArg] = ()
    ) -> Any:
        """Run ``script`` atomically."""

    def lock(self, name: str, *, ttl: float = 30.0) -> Lock:
        """A lock named ``name`` whose lease lasts ``ttl`` seconds unless extended."""

    async def publish(self, channel: str, message: bytes | str) -> int:
        """Send ``message`` to every current subscriber of ``channel`` on any replica."""

    async def subscribe(self, channel: str) -> Subscription:
        """Messages published on ``channel`` from now on, until closed."""

    async def close(self) -> None: ...
