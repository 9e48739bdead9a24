"""Prometheus metrics of the rate limiter (process-wide, on the default registry).

Acquisition outcomes are counted in a plain dict and exported by a collector at
scrape time: an acquisition is a few microseconds in-process, and a
``prometheus_client`` counter increment (a lock plus two calls) would be a large
share of it.
"""

from __future__ import annotations

from collections import Counter as Tally
from collections.abc import Iterator

from prometheus_client import REGISTRY, Counter, Gauge
from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector

__all__ = ["DEGRADED", "OUTCOMES", "TOKENS", "WAITS"]

OUTCOMES: Tally[tuple[int, str]] = Tally()
"""Finished acquisitions by (priority number, outcome); exported as a counter."""

DEGRADED = Gauge(
    "maestro_ratelimit_degraded",
    "1 while the limiter cannot reach its shared backend and applies its fallback policy",
    ["backend"],
)
WAITS = Counter(
    "maestro_ratelimit_waits",
    "Acquisitions that had to wait for tokens, by priority",
    ["priority"],
)
TOKENS = Gauge(
    "maestro_ratelimit_tokens",
    "Tokens in a bucket when its state was last read (GET /api/rate-limit, dashboard)",
    ["key"],
)


class _OutcomeCollector(Collector):
    def collect(self) -> Iterator[CounterMetricFamily]:
        family = CounterMetricFamily(
            "maestro_ratelimit_acquisitions",
            "Finished acquisitions by priority and outcome (granted, deferred, skipped, timed_out)",
            labels=["priority", "outcome"],
        )
        for (priority, outcome), n in sorted(OUTCOMES.items()):
            family.add_metric([f"P{priority}", outcome], n)
        yield family


REGISTRY.register(_OutcomeCollector())
