"""Health: every component checked, degraded vs down, probes reused, alerts on status changes."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from maestro.api.app import create_app
from maestro.clock import ManualClock
from maestro.config import Settings
from maestro.engine import Maestro


class AlertReceiver:
    """A real HTTP server on 127.0.0.1 that records every JSON body POSTed to it."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        bodies = self.bodies

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                bodies.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/alerts"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)


@pytest.fixture
def receiver() -> Iterator[AlertReceiver]:
    r = AlertReceiver()
    r.thread.start()
    yield r
    r.server.shutdown()
    r.server.server_close()


def _engine(tmp_path: Path, clock: ManualClock, **health: Any) -> Maestro:
    settings = Settings.load(database_url=f"sqlite+aiosqlite:///{tmp_path / 'h.db'}", health=health)
    return Maestro.from_settings(settings, clock=clock)


@pytest.fixture
async def engine(tmp_path: Path, clock: ManualClock) -> AsyncIterator[Maestro]:
    async with _engine(tmp_path, clock) as eng:
        yield eng


async def _ready(engine: Maestro) -> httpx.Response:
    app = create_app(engine, manage_engine=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        return await c.get("/health/ready")


async def test_readiness_checks_every_component_of_the_gateway(engine: Maestro) -> None:
    r = await _ready(engine)
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ok"
    comps = body["components"]
    assert set(comps) >= {"database", "coordination", "limiter", "cache", "llm"}
    assert comps["limiter"] == {"ok": True, "degraded": False, "backend": "memory"}
    assert comps["llm"]["model"] == "offline"
    assert comps["llm"]["latency_ms"] < comps["llm"]["limit_ms"] == 500.0
    assert "hit_rate" in comps["cache"]


async def test_provider_probe_is_reused_within_its_period(
    engine: Maestro, clock: ManualClock
) -> None:
    first = (await engine.health())["llm"]
    again = (await engine.health())["llm"]
    assert "cached" not in first and again["cached"] is True
    assert again["latency_ms"] == first["latency_ms"]
    clock.advance(61)
    assert "cached" not in (await engine.health())["llm"]


async def test_a_provider_slower_than_the_limit_is_degraded_but_still_ready(
    tmp_path: Path, clock: ManualClock
) -> None:
    async with _engine(tmp_path, clock, provider_latency_ms=1e-9) as eng:
        r = await _ready(eng)
    assert r.status_code == 200
    assert r.json()["status"] == "degraded"
    assert r.json()["components"]["llm"]["degraded"] is True


async def test_a_check_that_hangs_is_down_after_the_check_timeout(
    tmp_path: Path, clock: ManualClock
) -> None:
    async with _engine(tmp_path, clock, check_timeout_seconds=0.05) as eng:
        never = asyncio.Event()

        async def hangs() -> dict[str, Any]:
            await never.wait()
            return {"ok": True}

        eng.health_checks["vector-index"] = hangs
        r = await _ready(eng)
    assert r.status_code == 503
    assert r.json()["status"] == "down"
    assert r.json()["components"]["vector-index"] == {
        "ok": False,
        "error": "no answer within 0.05 s",
    }
    assert r.json()["components"]["database"]["ok"] is True


async def test_every_status_change_is_posted_to_the_alert_webhook(
    tmp_path: Path, clock: ManualClock, receiver: AlertReceiver
) -> None:
    async with _engine(tmp_path, clock, alert={"url": receiver.url}) as eng:
        await eng.health()  # ok at start: nothing to say
        await eng.monitor.drain()
        assert receiver.bodies == []

        async def broken() -> dict[str, Any]:
            raise ConnectionError("index shard 3 unreachable")

        eng.health_checks["vector-index"] = broken
        await eng.health()
        await eng.health()  # still down: no second alert
        del eng.health_checks["vector-index"]
        await eng.health()
        await eng.monitor.drain()
    assert [(b["event"], b["previous"], b["status"]) for b in receiver.bodies] == [
        ("health.status", "ok", "down"),
        ("health.status", "down", "ok"),
    ]
    failing = receiver.bodies[0]["components"]
    assert failing == {
        "vector-index": {"ok": False, "error": "ConnectionError: index shard 3 unreachable"}
    }
    assert eng.monitor.alerts_sent == 2


async def test_the_provider_probe_takes_its_token_at_p0_from_the_shared_bucket(
    engine: Maestro,
) -> None:
    await engine.health()
    state = await engine.limiter.state("provider:offline")
    assert state.priorities["P0"].calls == 1
    await engine.health()  # reused: no second token
    assert (await engine.limiter.state("provider:offline")).priorities["P0"].calls == 1
