"""Prometheus metrics of the rate limiter (process-wide, on the default registry)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

__all__ = ["ACQUISITIONS", "DEGRADED", "TOKENS", "WAITS"]

DEGRADED = Gauge(
    "maestro_ratelimit_degraded",
    "1 while the limiter cannot reach its shared backend and applies its fallback policy",
    ["backend"],
)
ACQUISITIONS = Counter(
    "maestro_ratelimit_acquisitions",
    "Finished acquisitions by priority and outcome (granted, deferred, skipped, timed_out)",
    ["priority", "outcome"],
)
WAITS = Counter(
    "maestro_ratelimit_waits",
    "Acquisitions that had to wait for tokens, by priority",
    ["priority"],
)
TOKENS = Gauge(
    "maestro_ratelimit_tokens",
    "Tokens left in a bucket after the last acquisition on it",
    ["key"],
)
