"""Configuration of the semantic response cache (seed 004, item 2)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "DEFAULT_IVF_LISTS",
    "DEFAULT_IVF_LIST_ROWS",
    "DEFAULT_IVF_PROBES",
    "DEFAULT_IVF_TRAIN_AT",
    "DEFAULT_MAX_ENTRIES",
    "DEFAULT_THRESHOLD",
    "DEFAULT_TTL_S",
    "CacheSettings",
]

DEFAULT_THRESHOLD = 0.725
"""Chosen from the measured precision/recall curve (docs/cache.md, bench/results/cache.md)."""
DEFAULT_TTL_S = 24 * 3600.0
DEFAULT_MAX_ENTRIES = 10_000
DEFAULT_IVF_TRAIN_AT = 4096
DEFAULT_IVF_LISTS = 64
DEFAULT_IVF_PROBES = 16
DEFAULT_IVF_LIST_ROWS = 128


class CacheSettings(BaseModel):
    """The semantic response cache: levels, lifetime, size and the L3 embedder."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    enabled: bool = True
    """Consult and fill the cache at all (requests can still bypass it one by one)."""
    backend: Literal["auto", "memory", "redis"] = "auto"
    """``auto``: Redis when ``coord_url`` is ``redis://`` (shared by replicas), else memory."""
    embedder: str = "hashing"
    """L3 embedder: ``hashing`` (NumPy only) or ``minilm`` (extra ``maestro-engine[semantic]``)."""
    threshold: float = Field(default=DEFAULT_THRESHOLD, gt=0.0, le=1.0)
    """Minimum cosine similarity for an L3 hit."""
    semantic: bool = True
    """Use L3 (embedding similarity); off leaves the exact and normalised levels."""
    guard: bool = True
    """Refuse L3 candidates whose meaning differs (negation, antonyms, numbers, content words)."""
    ttl_s: float = Field(default=DEFAULT_TTL_S, gt=0.0)
    """Seconds an entry lives after it was stored."""
    max_entries: int = Field(default=DEFAULT_MAX_ENTRIES, ge=1)
    """Entries kept per workspace; the least recently used go first."""
    ivf_train_at: int = Field(default=DEFAULT_IVF_TRAIN_AT, ge=16)
    """Vectors in one namespace before the L3 index clusters them (exact scan below)."""
    ivf_lists: int = Field(default=DEFAULT_IVF_LISTS, ge=1)
    """Fewest clusters of the L3 index once trained (more as the namespace grows)."""
    ivf_list_rows: int = Field(default=DEFAULT_IVF_LIST_ROWS, ge=1)
    """Vectors per cluster the L3 index aims for when it clusters (again, on each doubling)."""
    ivf_probes: int = Field(default=DEFAULT_IVF_PROBES, ge=1)
    """Clusters scanned per L3 lookup once trained (recall against latency)."""
