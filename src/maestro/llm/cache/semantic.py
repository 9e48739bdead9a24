"""The multi-level semantic response cache: L1 exact, L2 normalised, L3 semantic.

A lookup tries the levels in order and stops at the first hit:

1. L1: the canonical request (model, every message, parameters, template version).
2. L2: the same with every message normalised (case, whitespace, punctuation,
   filler words); same model and parameters.
3. L3: the last user message's embedding against the namespace of entries with
   the same parameters and the same (normalised) earlier turns, cosine at least
   ``threshold``, and the meaning guard (:mod:`.guard`) agreeing.

Only cacheable requests take part (:func:`~maestro.llm.cache.keys.cacheable`).
Every lookup is counted per level in ``maestro_cache_lookups_total`` and in
:meth:`SemanticCache.stats`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from maestro.clock import Clock, SystemClock
from maestro.coord import Coordinator
from maestro.embeddings import Embedder, make_embedder
from maestro.errors import ConfigurationError
from maestro.llm.cache.backend import CacheBackend, Entry
from maestro.llm.cache.guard import GuardReason, refusal
from maestro.llm.cache.keys import RequestKeys, cacheable, request_keys
from maestro.llm.cache.memory import MemoryCacheBackend
from maestro.llm.cache.metrics import CACHE_EVICTIONS, CACHE_GUARD_REFUSALS, CACHE_LOOKUPS
from maestro.llm.cache.settings import CacheSettings
from maestro.llm.types import CacheLevel, CompletionRequest, CompletionResult, ProviderReply, Usage

__all__ = ["CacheHit", "CacheStats", "SemanticCache"]

_CANDIDATES = 4


@dataclass(frozen=True)
class CacheHit:
    """A cached answer and how it was found."""

    level: CacheLevel
    text: str
    model: str
    usage: Usage
    similarity: float
    """Cosine for L3; 1.0 for L1 and L2."""
    entry_id: str
    template_version: str | None


@dataclass(frozen=True)
class CacheStats:
    """Counts since the cache object was created (this process only)."""

    hits: dict[CacheLevel, int]
    misses: dict[CacheLevel, int]
    skipped: int
    """Lookups of requests that may not be cached (bypass, sampled, cache disabled)."""
    stores: int
    evictions: int
    guard_refusals: dict[GuardReason, int]

    @property
    def lookups(self) -> int:
        return self.hits["L1"] + self.misses["L1"]

    @property
    def hit_rate(self) -> float:
        """Hits at any level over cacheable lookups."""
        return sum(self.hits.values()) / self.lookups if self.lookups else 0.0


@dataclass
class _Counts:
    hits: Counter[CacheLevel] = field(default_factory=Counter)
    misses: Counter[CacheLevel] = field(default_factory=Counter)
    refusals: Counter[GuardReason] = field(default_factory=Counter)
    skipped: int = 0
    stores: int = 0
    evictions: int = 0


class SemanticCache:
    """Response cache namespaced per workspace; never returns another workspace's entry."""

    def __init__(
        self,
        backend: CacheBackend,
        embedder: Embedder,
        settings: CacheSettings | None = None,
        *,
        clock: Clock | None = None,
    ) -> None:
        self.backend = backend
        self.embedder = embedder
        self.settings = settings or CacheSettings()
        self._clock = clock or SystemClock()
        self._counts = _Counts()

    @classmethod
    def from_settings(
        cls,
        settings: CacheSettings,
        *,
        coord: Coordinator | None = None,
        clock: Clock | None = None,
        embedder: Embedder | None = None,
    ) -> SemanticCache:
        """The cache ``settings`` describe; ``auto`` shares it through a redis:// ``coord``."""
        emb = embedder or make_embedder(settings.embedder)
        shared = coord is not None and coord.url.startswith(("redis://", "rediss://"))
        backend: CacheBackend
        if settings.backend == "redis" or (settings.backend == "auto" and shared):
            if coord is None:
                raise ConfigurationError(
                    "cache.backend 'redis' needs a redis:// coordinator", field="cache.backend"
                )
            from maestro.llm.cache.redis import RedisCacheBackend

            backend = RedisCacheBackend(coord, settings, dim=emb.dim, clock=clock)
        else:
            backend = MemoryCacheBackend(settings, dim=emb.dim, clock=clock)
        return cls(backend, emb, settings, clock=clock)

    def _count(self, level: CacheLevel, hit: bool) -> None:
        (self._counts.hits if hit else self._counts.misses)[level] += 1
        CACHE_LOOKUPS.labels(level=level, result="hit" if hit else "miss").inc()

    def _hit(self, level: CacheLevel, entry: Entry, similarity: float) -> CacheHit:
        return CacheHit(
            level=level,
            text=entry.text,
            model=entry.model,
            usage=Usage(
                prompt_tokens=entry.prompt_tokens, completion_tokens=entry.completion_tokens
            ),
            similarity=similarity,
            entry_id=entry.id,
            template_version=entry.template_version,
        )

    def eligible(self, request: CompletionRequest) -> bool:
        """Whether ``request`` takes part in the cache at all."""
        return self.settings.enabled and cacheable(request)

    async def lookup(self, request: CompletionRequest, workspace: str) -> CacheHit | None:
        """The cached answer for ``request`` in ``workspace``, or ``None``."""
        if not self.eligible(request):
            self._counts.skipped += 1
            CACHE_LOOKUPS.labels(level="none", result="skipped").inc()
            return None
        keys = request_keys(request)
        exact = await self.backend.get_exact(workspace, keys.l1, keys.l2)
        if exact is not None and exact[0] == "l1":
            self._count("L1", True)
            return self._hit("L1", exact[1], 1.0)
        self._count("L1", False)
        if exact is not None:
            self._count("L2", True)
            return self._hit("L2", exact[1], 1.0)
        self._count("L2", False)
        if not self.settings.semantic or not keys.query:
            return None
        hit = await self._semantic(keys, workspace)
        self._count("L3", hit is not None)
        return hit

    async def _semantic(self, keys: RequestKeys, workspace: str) -> CacheHit | None:
        vector = (await self.embedder.embed([keys.query]))[0]
        found = await self.backend.search(workspace, keys.namespace, vector, _CANDIDATES)
        above = [(i, s) for i, s in found if s >= self.settings.threshold]
        if not above:
            return None
        entries = await self.backend.get_entries(workspace, [i for i, _ in above])
        for (entry_id, score), entry in zip(above, entries, strict=True):
            if entry is None:
                await self.backend.remove(workspace, entry_id, keys.namespace)
                continue
            if self.settings.guard:
                reason = refusal(keys.query, entry.query)
                if reason is not None:
                    self._counts.refusals[reason] += 1
                    CACHE_GUARD_REFUSALS.labels(reason=reason).inc()
                    continue
            await self.backend.touch(workspace, entry)
            return self._hit("L3", entry, score)
        return None

    async def store(
        self,
        request: CompletionRequest,
        workspace: str,
        result: CompletionResult | ProviderReply,
    ) -> bool:
        """Remember ``result`` for ``request``; False when the request may not be cached."""
        if not self.eligible(request):
            return False
        keys = request_keys(request)
        vector = None
        if self.settings.semantic and keys.query:
            vector = (await self.embedder.embed([keys.query]))[0]
        await self._put(workspace, request, keys, result.text, result.model, result.usage, vector)
        return True

    async def _put(
        self,
        workspace: str,
        request: CompletionRequest,
        keys: RequestKeys,
        text: str,
        model: str,
        usage: Usage,
        vector: npt.NDArray[np.float32] | None,
    ) -> None:
        entry = Entry(
            id=keys.l1,
            namespace=keys.namespace,
            query=keys.query,
            text=text,
            model=model,
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
            template_version=request.template_version,
            created_at=self._clock.time(),
        )
        evicted = await self.backend.put(workspace, entry, keys.l1, keys.l2, vector)
        self._counts.stores += 1
        if evicted:
            self._counts.evictions += evicted
            CACHE_EVICTIONS.inc(evicted)

    async def warm(
        self, workspace: str, requests_and_texts: Iterable[tuple[CompletionRequest, str]]
    ) -> int:
        """Pre-fill ``workspace`` with known answers; returns how many were stored.

        Queries are embedded in one batch. Requests that may not be cached are skipped.
        Returns once this replica's L3 index of the filled namespaces is current and
        clustered (:meth:`CacheBackend.settle`).
        """
        items = [(r, t) for r, t in requests_and_texts if self.eligible(r)]
        keyed = [(r, t, request_keys(r)) for r, t in items]
        vectors = None
        if self.settings.semantic and keyed:
            vectors = await self.embedder.embed([k.query for _, _, k in keyed])
        for i, (request, text, keys) in enumerate(keyed):
            vector = vectors[i] if vectors is not None and keys.query else None
            await self._put(workspace, request, keys, text, request.model, Usage(), vector)
        # A bulk fill can leave the L3 index re-clustering in the background; return when
        # the entries are searchable at full speed rather than slow the first lookups.
        if vectors is not None:
            await self.backend.settle(workspace, {k.namespace for _, _, k in keyed if k.query})
        return len(keyed)

    def stats(self) -> CacheStats:
        c = self._counts
        levels: tuple[CacheLevel, ...] = ("L1", "L2", "L3")
        return CacheStats(
            hits={lv: c.hits[lv] for lv in levels},
            misses={lv: c.misses[lv] for lv in levels},
            skipped=c.skipped,
            stores=c.stores,
            evictions=c.evictions,
            guard_refusals=dict(c.refusals),
        )

    async def clear(self, workspace: str) -> int:
        """Forget every entry of ``workspace``; returns how many there were."""
        return await self.backend.clear(workspace)

    async def close(self) -> None:
        await self.backend.close()
