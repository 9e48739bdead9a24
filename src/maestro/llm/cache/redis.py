"""The Redis cache backend: one cache shared by every replica.

Keys of a workspace live under ``<prefix>cache:<workspace>:`` (``b`` below):

* ``b e:<id>`` the entry (JSON, expires after the TTL);
* ``b p1:<l1>`` / ``b p2:<l2>`` pointers to ``<namespace>|<id>`` (same TTL);
* ``b lru`` a sorted set of ``<namespace>|<id>`` by last use (eviction order);
* ``b v:<ns>`` a hash id -> float32 vector, ``b log:<ns>`` the list of ``+id`` /
  ``-id`` changes to it, ``b tok:<ns>`` the log's token.

How the L3 index stays consistent across replicas: every change to a
namespace's vectors (store, eviction, expiry sweep, removal, clear) happens in
one Lua script that also appends ``+id`` or ``-id`` to that namespace's log. Each
replica keeps a NumPy mirror (:class:`~maestro.llm.cache.index.VectorIndex`)
with the log token and the log length it has applied. Before every L3 search
the mirror runs one read-only script that returns the log items it has not seen
(with their vectors), or, when the token changed (the log was compacted after
``log_cap`` items, or expired), the whole hash to reload. So a lookup on any
replica sees every vector written before it, at the cost of one round trip.
A vector whose entry expired by TTL may linger in the hash until swept; a
search that lands on it finds no entry, removes it (logged) and moves on.

Never ``KEYS``: a workspace's entries are enumerated through its LRU set,
which ``max_entries`` bounds.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from maestro.clock import Clock, SystemClock
from maestro.coord import Coordinator, LocalState, Script, ScriptArg
from maestro.errors import ConfigurationError
from maestro.llm.cache.backend import Entry, PointerKind
from maestro.llm.cache.index import VectorIndex, settle_indexes
from maestro.llm.cache.settings import CacheSettings

__all__ = ["DEFAULT_LOG_CAP", "RELOAD_PAGE", "RedisCacheBackend"]

DEFAULT_LOG_CAP = 50_000
_PKG = "maestro.llm.cache.lua"


def _redis_only(state: LocalState, keys: Sequence[str], args: Sequence[ScriptArg]) -> Any:
    raise ConfigurationError(
        "the Redis cache backend needs a redis:// coordinator; use the memory cache backend "
        "with memory://",
        field="cache.backend",
    )


_PUT = Script("cache_put", _redis_only, package=_PKG)
_GET_EXACT = Script("cache_get_exact", _redis_only, package=_PKG)
_MGET = Script("cache_mget", _redis_only, package=_PKG)
_TOUCH = Script("cache_touch", _redis_only, package=_PKG)
_REMOVE = Script("cache_remove", _redis_only, package=_PKG)
_CLEAR = Script("cache_clear", _redis_only, package=_PKG)
_SYNC = Script("cache_vec_sync", _redis_only, package=_PKG)
_SIZE = Script("cache_size", _redis_only, package=_PKG)
_PAGE = Script("cache_vec_page", _redis_only, package=_PKG)
RELOAD_PAGE = 2000
"""Vectors per round trip when a mirror reloads a namespace larger than this (4 MB)."""


@dataclass
class _Mirror:
    index: VectorIndex
    token: bytes = b""
    applied: int = 0
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


def _text(raw: Any) -> str:
    return raw.decode() if isinstance(raw, bytes) else str(raw)


class RedisCacheBackend:
    """Entries, pointers and vectors in Redis; a local L3 mirror kept in step by a log."""

    name = "redis"

    def __init__(
        self,
        coord: Coordinator,
        settings: CacheSettings,
        *,
        dim: int,
        clock: Clock | None = None,
        log_cap: int = DEFAULT_LOG_CAP,
        reload_page: int = RELOAD_PAGE,
    ) -> None:
        if not coord.url.startswith(("redis://", "rediss://")):
            raise ConfigurationError(
                f"the Redis cache backend needs a redis:// coordinator, got {coord.url!r}",
                field="cache.backend",
            )
        self._coord = coord
        self._settings = settings
        self._dim = dim
        self._clock = clock or SystemClock()
        self._log_cap = log_cap
        self._reload_page = reload_page
        self._mirrors: dict[tuple[str, str], _Mirror] = {}

    def _base(self, workspace: str) -> str:
        return self._coord.key("cache", workspace) + ":"

    def _now_ms(self) -> int:
        return int(self._clock.time() * 1000)

    def _ns_keys(self, base: str, namespace: str) -> list[str]:
        return [f"{base}v:{namespace}", f"{base}log:{namespace}", f"{base}tok:{namespace}"]

    async def get_exact(self, workspace: str, l1: str, l2: str) -> tuple[PointerKind, Entry] | None:
        b = self._base(workspace)
        found = await self._coord.run_script(
            _GET_EXACT, [f"{b}p1:{l1}", f"{b}p2:{l2}", f"{b}lru"], [b, self._now_ms()]
        )
        if not found:
            return None
        kind: PointerKind = "l1" if int(found[0]) == 1 else "l2"
        return kind, Entry.from_json(found[1])

    async def get_entries(self, workspace: str, ids: list[str]) -> list[Entry | None]:
        b = self._base(workspace)
        raw = await self._coord.run_script(_MGET, [f"{b}e:{i}" for i in ids])
        return [None if r is None or r is False else Entry.from_json(r) for r in raw]

    async def touch(self, workspace: str, entry: Entry) -> None:
        b = self._base(workspace)
        await self._coord.run_script(
            _TOUCH, [f"{b}lru"], [self._now_ms(), f"{entry.namespace}|{entry.id}"]
        )

    async def put(
        self,
        workspace: str,
        entry: Entry,
        l1: str,
        l2: str,
        vector: npt.NDArray[np.float32] | None,
    ) -> int:
        b = self._base(workspace)
        keys = [f"{b}e:{entry.id}", f"{b}p1:{l1}", f"{b}p2:{l2}", f"{b}lru"]
        vec = b"" if vector is None else np.asarray(vector, dtype="<f4").tobytes()
        args: list[ScriptArg] = [
            b,
            entry.id,
            entry.namespace,
            entry.to_json(),
            max(1, int(self._settings.ttl_s * 1000)),
            self._now_ms(),
            self._settings.max_entries,
            vec,
            self._log_cap,
        ]
        evicted = await self._coord.run_script(_PUT, keys + self._ns_keys(b, entry.namespace), args)
        return int(evicted)

    def _mirror(self, workspace: str, namespace: str) -> _Mirror:
        key = (workspace, namespace)
        mirror = self._mirrors.get(key)
        if mirror is None:
            s = self._settings
            index = VectorIndex(
                self._dim,
                train_at=s.ivf_train_at,
                lists=s.ivf_lists,
                probes=s.ivf_probes,
                list_rows=s.ivf_list_rows,
            )
            mirror = self._mirrors[key] = _Mirror(index)
        return mirror

    async def _sync(self, workspace: str, namespace: str) -> _Mirror:
        mirror = self._mirror(workspace, namespace)
        keys = self._ns_keys(self._base(workspace), namespace)
        async with mirror.lock:
            # A paged reload is followed by one more pass: the log items written while it
            # paged. Bounded: anything later is caught up by the next lookup.
            for _ in range(3):
                token, length, mode, flat = await self._coord.run_script(
                    _SYNC, keys, [mirror.token, mirror.applied, self._reload_page]
                )
                if int(mode) == 2:
                    flat = await self._pages(keys[0])
                if int(mode):
                    await asyncio.to_thread(self._reload, mirror, flat)
                else:
                    self._apply(mirror, flat)
                mirror.token = token if isinstance(token, bytes) else str(token).encode()
                mirror.applied = int(length)
                if int(mode) != 2:
                    break
            if mirror.index.wants_training:
                # Never on the lookup path: the mirror keeps serving its current layout.
                mirror.index.train_in_background()
        return mirror

    async def _pages(self, vkey: str) -> list[bytes]:
        flat: list[bytes] = []
        cursor: Any = b"0"
        while True:
            cursor, items = await self._coord.run_script(_PAGE, [vkey], [cursor, self._reload_page])
            flat.extend(items)
            if _text(cursor) == "0":
                return flat

    def _vector(self, raw: bytes) -> npt.NDArray[np.float32]:
        return np.frombuffer(raw, dtype="<f4").astype(np.float32)

    def _reload(self, mirror: _Mirror, flat: list[bytes]) -> None:
        rows = {_text(flat[i]): flat[i + 1] for i in range(0, len(flat), 2)}  # pages may repeat
        raw = b"".join(rows.values())
        vectors = np.frombuffer(raw, dtype="<f4").astype(np.float32).reshape(len(rows), self._dim)
        mirror.index.replace(list(rows), vectors)

    def _apply(self, mirror: _Mirror, flat: list[bytes]) -> None:
        for i in range(0, len(flat), 2):
            op = _text(flat[i])
            if op.startswith("-"):
                mirror.index.remove(op[1:])
            elif flat[i + 1]:
                mirror.index.add(op[1:], self._vector(flat[i + 1]))

    async def search(
        self, workspace: str, namespace: str, vector: npt.NDArray[np.float32], k: int
    ) -> list[tuple[str, float]]:
        mirror = await self._sync(workspace, namespace)
        return mirror.index.search(vector, k)

    async def remove(self, workspace: str, entry_id: str, namespace: str) -> None:
        b = self._base(workspace)
        vkey, logkey, _ = self._ns_keys(b, namespace)
        await self._coord.run_script(
            _REMOVE,
            [f"{b}lru", f"{b}e:{entry_id}", vkey, logkey],
            [f"{namespace}|{entry_id}", entry_id],
        )

    async def clear(self, workspace: str) -> int:
        b = self._base(workspace)
        return int(await self._coord.run_script(_CLEAR, [f"{b}lru"], [b]))

    async def size(self, workspace: str) -> int:
        b = self._base(workspace)
        raw = await self._coord.run_script(_SIZE, [f"{b}lru"])
        return int(raw)

    async def settle(self, workspace: str, namespaces: Collection[str]) -> None:
        mirrors = [await self._sync(workspace, ns) for ns in namespaces]
        await settle_indexes([m.index for m in mirrors])

    async def close(self) -> None:
        self._mirrors.clear()
