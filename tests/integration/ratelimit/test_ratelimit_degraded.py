"""Redis goes away mid-run: the configured policy holds, the limiter says it is
degraded, and it returns to Redis once Redis answers again.

Each test starts its own throwaway ``redis-server`` on a free port and kills it.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Iterator

import pytest
from prometheus_client import REGISTRY

from maestro.clock import ManualClock
from maestro.coord import Coordinator, connect
from maestro.errors import BackendUnavailableError
from maestro.llm.ratelimit import (
    Deferred,
    Granted,
    RateLimiter,
    RateLimitSettings,
    Skipped,
    model_key,
)
from maestro.llm.ratelimit.settings import OnUnavailable
from maestro.llm.types import Priority

pytestmark = pytest.mark.redis
KEY = model_key("m1")


class Server:
    """A redis-server subprocess that can be stopped and started on the same port."""

    def __init__(self) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), 0.2):
                    return
            except OSError:
                time.sleep(0.02)  # waiting for a process to listen, not for a TTL
        raise RuntimeError(f"redis-server did not start on port {self.port}")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None


@pytest.fixture
def server() -> Iterator[Server]:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    srv = Server()
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture
async def coord(server: Server) -> AsyncIterator[Coordinator]:
    c = connect(server.url, prefix="t:")
    yield c
    await c.close()


def limiter_for(coord: Coordinator, clock: ManualClock, mode: OnUnavailable) -> RateLimiter:
    settings = RateLimitSettings(
        on_unavailable=mode, replicas=2, probe_backoff=5, redis_clock="client"
    )
    return RateLimiter.from_coordinator(coord, settings, clock)


def gauge() -> float | None:
    return REGISTRY.get_sample_value("maestro_ratelimit_degraded", {"backend": "redis"})


async def test_local_share_then_back_to_redis(
    server: Server, coord: Coordinator, clock: ManualClock
) -> None:
    limiter = limiter_for(coord, clock, "local_share")
    for _ in range(10):
        assert isinstance(await limiter.acquire(KEY, Priority.P2), Granted)
    assert not limiter.degraded and gauge() == 0

    server.stop()
    outcomes = [await limiter.acquire(KEY, Priority.P2) for _ in range(14)]
    # This replica's share: capacity 15, reserve 2.5, so 12 P2 calls, then deferred.
    assert sum(isinstance(o, Granted) for o in outcomes) == 12
    assert isinstance(outcomes[-1], Deferred)
    assert limiter.degraded and gauge() == 1
    state = await limiter.state(KEY)
    assert state.degraded and state.backend == "local" and state.capacity == 15

    clock.advance(5)  # the back-off: the next call probes Redis, which is still down
    assert isinstance(await limiter.acquire(KEY, Priority.P0), Granted)
    assert limiter.degraded

    server.start()
    clock.advance(5)
    outcome = await limiter.acquire(KEY, Priority.P2)
    assert isinstance(outcome, Granted)
    assert not limiter.degraded and gauge() == 0
    state = await limiter.state(KEY)
    assert state.backend == "redis" and state.capacity == 30 and not state.degraded
    # The restarted Redis lost the bucket (it would start full), but the local share's
    # shortfall was taken from it first: 13 calls less 10 s of the share's refill
    # (1.25/min), then this call.
    local_shortfall = 13 - 10 * 1.25 / 60
    assert outcome.tokens == pytest.approx(30 - local_shortfall - 1)
    assert state.priorities["P2"].calls == 12 + 1 and state.priorities["P0"].calls == 1
    assert state.priorities["P2"].defers == 2


async def test_recovery_does_not_admit_a_full_burst_on_top_of_the_local_share(
    server: Server, coord: Coordinator, clock: ManualClock
) -> None:
    limiter = limiter_for(coord, clock, "local_share")
    server.stop()
    local = [await limiter.acquire(KEY, Priority.P2) for _ in range(15)]
    assert sum(isinstance(o, Granted) for o in local) == 12
    server.start()  # empty: the shared bucket would start full
    clock.advance(5)
    shared = [await limiter.acquire(KEY, Priority.P2) for _ in range(30)]
    # The whole quota above the reserve is 25 calls; the local share took 12 of them.
    # 5 s refill 0.1 token per bucket, so nothing more fits.
    assert sum(isinstance(o, Granted) for o in shared) == 25 - 12
    assert not limiter.degraded


async def test_fail_closed_refuses_everyone(
    server: Server, coord: Coordinator, clock: ManualClock
) -> None:
    limiter = limiter_for(coord, clock, "fail_closed")
    server.stop()
    with pytest.raises(BackendUnavailableError) as err:
        await limiter.acquire(KEY, Priority.P1)
    assert err.value.field == "ratelimit.on_unavailable"
    deferred = await limiter.acquire(KEY, Priority.P2)
    assert isinstance(deferred, Deferred)
    assert deferred.retry_at.timestamp() == pytest.approx(clock.time() + 1800)
    assert isinstance(await limiter.acquire(KEY, Priority.P3), Skipped)
    with pytest.raises(BackendUnavailableError):
        await limiter.acquire(KEY, Priority.P0)
    assert limiter.degraded


async def test_fail_open_allows_everyone(
    server: Server, coord: Coordinator, clock: ManualClock
) -> None:
    limiter = limiter_for(coord, clock, "fail_open")
    server.stop()
    outcomes = [await limiter.acquire(KEY, Priority.P3) for _ in range(100)]
    assert all(isinstance(o, Granted) and o.tokens is None for o in outcomes)
    assert limiter.degraded and gauge() == 1
