"""The multi-level semantic response cache (SPEC section 2, seed 004 item 2).

``SemanticCache.from_settings(settings.cache, coord=coord, clock=clock)`` gives the
cache a deployment describes: the memory backend in one process, the Redis
backend shared by every replica when the coordinator is ``redis://``.
"""

from maestro.llm.cache.backend import CacheBackend, Entry
from maestro.llm.cache.guard import GuardReason, refusal
from maestro.llm.cache.keys import RequestKeys, cacheable, normalize, request_keys
from maestro.llm.cache.memory import MemoryCacheBackend
from maestro.llm.cache.semantic import CacheHit, CacheStats, SemanticCache
from maestro.llm.cache.settings import CacheSettings

__all__ = [
    "CacheBackend",
    "CacheHit",
    "CacheSettings",
    "CacheStats",
    "Entry",
    "GuardReason",
    "MemoryCacheBackend",
    "RequestKeys",
    "SemanticCache",
    "cacheable",
    "normalize",
    "refusal",
    "request_keys",
]
