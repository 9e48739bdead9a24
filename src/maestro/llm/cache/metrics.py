"""The cache's Prometheus metrics (process-wide, in the default registry)."""

from __future__ import annotations

from prometheus_client import Counter

__all__ = ["CACHE_EVICTIONS", "CACHE_GUARD_REFUSALS", "CACHE_LOOKUPS"]

CACHE_LOOKUPS = Counter(
    "maestro_cache_lookups",
    "Response cache lookups by level (L1, L2, L3; 'none' for skipped requests) and result.",
    ["level", "result"],
)
CACHE_GUARD_REFUSALS = Counter(
    "maestro_cache_guard_refusals",
    "L3 candidates above the threshold refused by the meaning guard, by reason.",
    ["reason"],
)
CACHE_EVICTIONS = Counter(
    "maestro_cache_evictions",
    "Entries evicted because a workspace held more than max_entries.",
)
