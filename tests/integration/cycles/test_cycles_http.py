"""HTTP plug-ins: the webhook sink against a real local server; metrics pushed back via the API."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from tests.conftest import client_for
from tests.integration.cycles.conftest import StudioFactory, days

from maestro.clock import ManualClock
from maestro.cycles.settings import StudioSettings, WebhookSinkSettings
from maestro.cycles.sinks import HttpWebhookSink, PublishedItem
from maestro.errors import ProviderError


class Receiver:
    """A real HTTP server on 127.0.0.1 that records every POST and answers from a script."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], dict[str, Any]]] = []
        self.script: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                status = receiver.script.pop(0) if receiver.script else 200
                if status == 200:
                    receiver.received.append((dict(self.headers), json.loads(body)))
                payload = json.dumps({"id": f"ext-{len(receiver.received)}"}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as r:
        yield r


def _item(n: int = 1) -> PublishedItem:
    return PublishedItem(
        item_id=f"item-{n}",
        workspace_id="ws",
        brand="alpha",
        agent_id="agent",
        strategy="story",
        topic="sleep",
        text="Last week a reader asked us about sleep.",
        quality=0.9,
        published_at=datetime(2026, 1, 1, 9, tzinfo=UTC),
    )


async def test_webhook_receives_each_item_with_its_idempotency_key(receiver: Receiver) -> None:
    settings = WebhookSinkSettings(url=receiver.url, backoff_seconds=0, secret="s3cret")
    sink = HttpWebhookSink(settings, clock=ManualClock())
    try:
        external = await sink.publish(_item())
    finally:
        await sink.close()
    assert external == "ext-1"
    headers, body = receiver.received[0]
    assert headers["Idempotency-Key"] == "item-1"
    assert headers["Authorization"] == "Bearer s3cret"
    assert body["text"].startswith("Last week") and body["strategy"] == "story"
    assert body["published_at"] == "2026-01-01T09:00:00+00:00"


async def test_webhook_retries_server_errors_but_not_client_errors(receiver: Receiver) -> None:
    sink = HttpWebhookSink(
        WebhookSinkSettings(url=receiver.url, backoff_seconds=0, attempts=3), clock=ManualClock()
    )
    try:
        receiver.script = [503, 502]
        assert await sink.publish(_item(1)) == "ext-1"
        receiver.script = [400]
        with pytest.raises(ProviderError, match="HTTP 400") as caught:
            await sink.publish(_item(2))
        assert caught.value.field == "studio.webhook.url"
        receiver.script = [503, 503, 503]
        with pytest.raises(ProviderError, match="HTTP 503"):
            await sink.publish(_item(3))
    finally:
        await sink.close()
    assert [b["item_id"] for _, b in receiver.received] == ["item-1"]


async def test_studio_publishes_to_webhook_and_learns_from_pushed_metrics(
    make_studio: StudioFactory, receiver: Receiver
) -> None:
    studio, driver, engine = await make_studio(
        studio=StudioSettings(
            brands=("alpha",),
            sink="webhook",
            webhook=WebhookSinkSettings(url=receiver.url, backoff_seconds=0),
        )
    )
    await driver.run_until(days(0.5))
    assert len(receiver.received) == 6  # one brand x six agents, all approved
    ws = studio.ctx.workspace_id
    async with await client_for(engine, ws) as client:
        items = {b["item_id"] for _, b in receiver.received}
        posts = [p for p in await studio.ctx.memory.posts.samples(ws)]
        assert posts == []  # nothing measured yet: the webhook sink pulls nothing
        for n, item_id in enumerate(sorted(items)):  # what the platform knows: the item id
            report = {"key": f"m-{n}", "item_id": item_id, "engagement": 0.1 + n / 100}
            r = await client.post("/api/metrics", json=report)
            assert r.status_code == 201, r.text
    await driver.run_until(days(1))
    assert sum(studio.ctx.selector.observed.values()) == 6
    assert len(await studio.ctx.memory.posts.samples(ws)) == 6
