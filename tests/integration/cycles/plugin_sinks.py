"""Plug-in sinks the tests name in ``studio.sink`` (``tests.integration.cycles.plugin_sinks:X``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from maestro.cycles.sinks import AwaitingMetrics, MetricReading, PublishedItem


class RecordingSink:
    """Keeps what it publishes and reports a fixed engagement for it: a sink and a source."""

    name = "recording"
    pulls = True

    def __init__(self, engine: Any, *, engagement: float = 0.05) -> None:
        self.engine = engine
        self.engagement = engagement
        self.items: list[PublishedItem] = []

    async def publish(self, item: PublishedItem) -> str:
        self.items.append(item)
        return f"rec-{len(self.items)}"

    async def collect(self, posts: Sequence[AwaitingMetrics]) -> list[MetricReading]:
        return [MetricReading(p.post_id, self.engagement) for p in posts]


class PublishOnly:
    """A sink without metrics: they come back through ``POST /api/metrics``."""

    name = "publish-only"

    def __init__(self, engine: Any) -> None:
        self.published = 0

    async def publish(self, item: PublishedItem) -> str:
        self.published += 1
        return item.item_id


def not_a_sink(engine: Any) -> object:
    return object()


def broken(engine: Any) -> object:
    raise RuntimeError("no credentials")
