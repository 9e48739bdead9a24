"""Where published content goes and where its metrics come from: plug-ins.

A :class:`Sink` publishes one approved item; a :class:`MetricSource` reports the
engagement of published posts. Two pairs ship with Maestro:

- :class:`SimulatorSink`: the embedded default. Publishing is instant and the
  :class:`~maestro.sim.audience.AudienceSimulator` is the audience; collecting asks
  it for each post's engagement (one platform call per brand, at P2).
- :class:`HttpWebhookSink` + :class:`PushedMetrics`: every published item is POSTed
  as JSON to a webhook (retried with backoff on the injected clock); the platform
  reports metrics back through ``POST /api/metrics``, so collection has nothing to
  pull and costs no token.

Any other sink is a plug-in named in the settings (``studio.sink =
"package.module:factory"``) and built by :func:`load_sink`.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

import httpx

from maestro.clock import Clock
from maestro.cycles.settings import WebhookSinkSettings
from maestro.errors import ConfigurationError, ProviderError
from maestro.sim.audience import AudienceSimulator

__all__ = [
    "AwaitingMetrics",
    "HttpWebhookSink",
    "MetricReading",
    "MetricSource",
    "PublishedItem",
    "PushedMetrics",
    "SimulatorSink",
    "Sink",
    "load_sink",
]


@dataclass(frozen=True, slots=True)
class PublishedItem:
    """An approved piece of content on its way out."""

    item_id: str
    workspace_id: str
    brand: str
    agent_id: str
    strategy: str
    topic: str
    text: str
    quality: float
    published_at: datetime

    def payload(self) -> dict[str, Any]:
        """The JSON body the webhook receives."""
        data = asdict(self)
        data["published_at"] = self.published_at.isoformat()
        return data


@dataclass(frozen=True, slots=True)
class AwaitingMetrics:
    """A published post whose metrics have not been collected yet."""

    post_id: str
    item_id: str
    brand: str
    strategy: str
    topic: str
    quality: float
    published_at: datetime


@dataclass(frozen=True, slots=True)
class MetricReading:
    """A post's engagement as the platform reports it."""

    post_id: str
    engagement: float
    metrics: Mapping[str, float] = field(default_factory=dict)


@runtime_checkable
class Sink(Protocol):
    """Publishes approved items."""

    name: str

    async def publish(self, item: PublishedItem) -> str:
        """Publish ``item``; the platform's id for it."""
        ...


@runtime_checkable
class MetricSource(Protocol):
    """Reports engagement of published posts."""

    pulls: bool
    """True when collecting asks the platform (an API call that draws a P2 token)."""

    async def collect(self, posts: Sequence[AwaitingMetrics]) -> list[MetricReading]:
        """Readings for those of ``posts`` that have metrics now."""
        ...


def load_sink(path: str, engine: Any, options: Mapping[str, Any]) -> Sink:
    """The plug-in ``package.module:factory``, built as ``factory(engine, **options)``.

    Raises:
        ConfigurationError: (field ``studio.sink``) the module or name does not
            exist, the factory fails, or what it returns is not a :class:`Sink`.
    """
    module_name, _, attr = path.partition(":")
    try:
        factory = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise ConfigurationError(
            f"sink plug-in {path!r} cannot be loaded: {exc}", field="studio.sink"
        ) from exc
    try:
        sink = factory(engine, **options)
    except Exception as exc:
        raise ConfigurationError(
            f"sink plug-in {path!r} failed to start: {exc.__class__.__name__}: {exc}",
            field="studio.sink",
        ) from exc
    if not isinstance(sink, Sink):
        raise ConfigurationError(
            f"sink plug-in {path!r} returned {type(sink).__name__}, which has no "
            "'name' and 'async publish(item)'",
            field="studio.sink",
        )
    return sink


class SimulatorSink:
    """The audience simulator as both the publishing target and the metrics source."""

    name = "simulator"
    pulls = True

    def __init__(self, simulator: AudienceSimulator) -> None:
        self.simulator = simulator

    async def publish(self, item: PublishedItem) -> str:
        return f"sim:{item.item_id}"

    async def collect(self, posts: Sequence[AwaitingMetrics]) -> list[MetricReading]:
        out: list[MetricReading] = []
        for p in posts:
            rate = self.simulator.engagement(
                p.brand, p.strategy, p.topic, p.published_at.hour, p.quality, p.published_at
            )
            out.append(MetricReading(post_id=p.post_id, engagement=rate))
        return out


class PushedMetrics:
    """Metrics pushed by the platform through ``POST /api/metrics``: nothing to pull."""

    pulls = False

    async def collect(self, posts: Sequence[AwaitingMetrics]) -> list[MetricReading]:
        return []


_RETRYABLE = frozenset({408, 425, 429, 500, 502, 503, 504})


class HttpWebhookSink:
    """POSTs each published item as JSON; retries transient failures with backoff.

    The item id goes in an ``Idempotency-Key`` header so a receiver can drop the
    duplicate a retry after a lost response would cause.
    """

    name = "webhook"

    def __init__(
        self,
        settings: WebhookSinkSettings,
        *,
        clock: Clock,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        if not settings.url:
            raise ConfigurationError(
                "the webhook sink needs studio.webhook.url", field="studio.webhook.url"
            )
        self.url = settings.url
        self.settings = settings
        self._clock = clock
        self._client = client or httpx.AsyncClient(timeout=settings.timeout_seconds)
        self._owned = client is None

    async def publish(self, item: PublishedItem) -> str:
        headers = {"Idempotency-Key": item.item_id}
        if self.settings.secret:
            headers["Authorization"] = f"Bearer {self.settings.secret}"
        problem = ""
        for attempt in range(1, self.settings.attempts + 1):
            try:
                response = await self._client.post(self.url, json=item.payload(), headers=headers)
            except httpx.HTTPError as exc:
                problem = f"{exc.__class__.__name__}: {exc}"
            else:
                if response.is_success:
                    return _external_id(response, item.item_id)
                problem = f"HTTP {response.status_code}"
                if response.status_code not in _RETRYABLE:
                    break
            if attempt < self.settings.attempts:
                await self._clock.sleep(self.settings.backoff_seconds * 2 ** (attempt - 1))
        raise ProviderError(
            f"webhook {self.url} did not accept item {item.item_id}: {problem}",
            field="studio.webhook.url",
        )

    async def close(self) -> None:
        if self._owned:
            await self._client.aclose()


def _external_id(response: httpx.Response, default: str) -> str:
    try:
        data = response.json()
    except ValueError:
        return default
    if isinstance(data, dict) and isinstance(data.get("id"), str | int):
        return str(data["id"])[:200]
    return default
