"""Injectable time.

Everything in Maestro that depends on time (decay, TTLs, token buckets, schedules)
asks a :class:`Clock` instead of the ``time`` module, so tests drive time with a
:class:`ManualClock` and never sleep.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from datetime import UTC, datetime
from typing import Protocol, runtime_checkable

__all__ = ["Clock", "ManualClock", "SystemClock", "utc_from_timestamp"]


def utc_from_timestamp(ts: float) -> datetime:
    """An aware UTC datetime for a POSIX timestamp."""
    return datetime.fromtimestamp(ts, tz=UTC)


@runtime_checkable
class Clock(Protocol):
    """A source of wall time and a way to wait on it."""

    def time(self) -> float:
        """Seconds since the epoch (UTC)."""

    def now(self) -> datetime:
        """The current time as an aware UTC datetime."""

    async def sleep(self, seconds: float) -> None:
        """Wait until ``seconds`` have passed on this clock."""


class SystemClock:
    """The real clock."""

    def time(self) -> float:
        return time.time()

    def now(self) -> datetime:
        return datetime.now(tz=UTC)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


class ManualClock:
    """A clock that moves only when told to.

    ``sleep`` parks the caller until :meth:`advance` moves time past its deadline,
    so code that waits (a P1 caller behind an empty bucket, a scheduler) can be
    tested deterministically.
    """

    def __init__(self, start: float | datetime = 1_700_000_000.0) -> None:
        self._now = start.timestamp() if isinstance(start, datetime) else float(start)
        self._waiters: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()

    def time(self) -> float:
        return self._now

    def now(self) -> datetime:
        return utc_from_timestamp(self._now)

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiters, (self._now + seconds, next(self._seq), fut))
        await fut

    def advance(self, seconds: float) -> None:
        """Move time forward and wake every sleeper whose deadline has passed."""
        if seconds < 0:
            raise ValueError("a ManualClock cannot go backwards")
        self._now += seconds
        while self._waiters and self._waiters[0][0] <= self._now:
            _, _, fut = heapq.heappop(self._waiters)
            if not fut.done():
                fut.set_result(None)

    def set(self, when: float | datetime) -> None:
        """Jump to an absolute time (never backwards)."""
        ts = when.timestamp() if isinstance(when, datetime) else float(when)
        self.advance(max(0.0, ts - self._now))

    @property
    def sleepers(self) -> int:
        """How many coroutines are parked in :meth:`sleep`."""
        return sum(1 for _, _, f in self._waiters if not f.done())
