"""Lease locks shared by both backends: ``SET NX`` plus two scripts."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from maestro.coord.base import LocalState, Script, ScriptArg

if TYPE_CHECKING:
    from maestro.coord.base import Coordinator

__all__ = ["LeaseLock"]

_POLL_SECONDS = 0.01


def _release_local(state: LocalState, keys: Sequence[str], args: Sequence[ScriptArg]) -> int:
    if state.get(keys[0]) == _b(args[0]):
        state.delete(keys[0])
        return 1
    return 0


def _extend_local(state: LocalState, keys: Sequence[str], args: Sequence[ScriptArg]) -> int:
    if state.get(keys[0]) == _b(args[0]):
        state.expire(keys[0], float(args[1]) / 1000.0)
        return 1
    return 0


def _b(v: ScriptArg) -> bytes:
    return v if isinstance(v, bytes) else str(v).encode()


RELEASE = Script("lock_release", _release_local)
EXTEND = Script("lock_extend", _extend_local)


class LeaseLock:
    """A lock that expires after ``ttl`` seconds unless extended.

    Each holder writes a random token, so a holder whose lease ran out cannot
    release a lock someone else now holds. Waiting polls; lock waits are short.
    """

    def __init__(self, coord: Coordinator, name: str, ttl: float) -> None:
        self._coord = coord
        self.key = coord.key("lock", name)
        self.ttl = ttl
        self._token = secrets.token_hex(16)

    async def acquire(self, *, blocking: bool = True, timeout: float | None = None) -> bool:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            if await self._coord.set(self.key, self._token, ttl=self.ttl, nx=True):
                return True
            if not blocking or (deadline is not None and time.monotonic() >= deadline):
                return False
            await asyncio.sleep(_POLL_SECONDS)

    async def release(self) -> bool:
        return bool(await self._coord.run_script(RELEASE, [self.key], [self._token]))

    async def extend(self, ttl: float) -> bool:
        return bool(
            await self._coord.run_script(EXTEND, [self.key], [self._token, int(ttl * 1000)])
        )

    async def __aenter__(self) -> LeaseLock:
        await self.acquire()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.release()
