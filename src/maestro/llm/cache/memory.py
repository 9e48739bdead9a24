"""The in-process cache backend: one replica, TTLs on the injected clock."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Collection
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from maestro.clock import Clock, SystemClock
from maestro.llm.cache.backend import Entry, PointerKind
from maestro.llm.cache.index import VectorIndex, settle_indexes
from maestro.llm.cache.settings import CacheSettings

__all__ = ["MemoryCacheBackend"]


@dataclass
class _Workspace:
    entries: OrderedDict[str, Entry] = field(default_factory=OrderedDict)
    """In least-recently-used-first order."""
    pointers: dict[tuple[PointerKind, str], str] = field(default_factory=dict)
    keys_of: dict[str, tuple[str, str]] = field(default_factory=dict)
    indexes: dict[str, VectorIndex] = field(default_factory=dict)


class MemoryCacheBackend:
    """Entries in an LRU-ordered dict per workspace, vectors in a :class:`VectorIndex`."""

    name = "memory"

    def __init__(self, settings: CacheSettings, *, dim: int, clock: Clock | None = None) -> None:
        self._settings = settings
        self._dim = dim
        self._clock = clock or SystemClock()
        self._spaces: dict[str, _Workspace] = {}

    def _space(self, workspace: str) -> _Workspace:
        return self._spaces.setdefault(workspace, _Workspace())

    def _live(self, space: _Workspace, entry_id: str) -> Entry | None:
        entry = space.entries.get(entry_id)
        if entry is None:
            return None
        if self._clock.time() - entry.created_at >= self._settings.ttl_s:
            self._drop(space, entry_id)
            return None
        return entry

    def _drop(self, space: _Workspace, entry_id: str) -> None:
        entry = space.entries.pop(entry_id, None)
        l1, l2 = space.keys_of.pop(entry_id, ("", ""))
        p1: tuple[PointerKind, str] = ("l1", l1)
        p2: tuple[PointerKind, str] = ("l2", l2)
        for pointer in (p1, p2):
            if space.pointers.get(pointer) == entry_id:
                del space.pointers[pointer]
        if entry is not None and entry.namespace in space.indexes:
            space.indexes[entry.namespace].remove(entry_id)

    async def get_exact(self, workspace: str, l1: str, l2: str) -> tuple[PointerKind, Entry] | None:
        space = self._space(workspace)
        pointers: tuple[tuple[PointerKind, str], ...] = (("l1", l1), ("l2", l2))
        for pointer in pointers:
            entry_id = space.pointers.get(pointer)
            entry = None if entry_id is None else self._live(space, entry_id)
            if entry is not None:
                space.entries.move_to_end(entry.id)
                return pointer[0], entry
        return None

    async def get_entries(self, workspace: str, ids: list[str]) -> list[Entry | None]:
        space = self._space(workspace)
        return [self._live(space, i) for i in ids]

    async def touch(self, workspace: str, entry: Entry) -> None:
        space = self._space(workspace)
        if entry.id in space.entries:
            space.entries.move_to_end(entry.id)

    async def put(
        self,
        workspace: str,
        entry: Entry,
        l1: str,
        l2: str,
        vector: npt.NDArray[np.float32] | None,
    ) -> int:
        space = self._space(workspace)
        self._drop(space, entry.id)
        space.entries[entry.id] = entry
        space.pointers[("l1", l1)] = entry.id
        space.pointers[("l2", l2)] = entry.id
        space.keys_of[entry.id] = (l1, l2)
        if vector is not None:
            index = space.indexes.get(entry.namespace)
            if index is None:
                s = self._settings
                index = VectorIndex(
                    self._dim,
                    train_at=s.ivf_train_at,
                    lists=s.ivf_lists,
                    probes=s.ivf_probes,
                    list_rows=s.ivf_list_rows,
                )
                space.indexes[entry.namespace] = index
            index.add(entry.id, vector)
            if index.wants_training:
                # Clustering takes up to seconds at 100k vectors: it runs on the index's
                # background thread while searches keep using the current layout.
                index.train_in_background()
        evicted = 0
        while len(space.entries) > self._settings.max_entries:
            self._drop(space, next(iter(space.entries)))
            evicted += 1
        return evicted

    async def search(
        self, workspace: str, namespace: str, vector: npt.NDArray[np.float32], k: int
    ) -> list[tuple[str, float]]:
        index = self._space(workspace).indexes.get(namespace)
        return [] if index is None else index.search(vector, k)

    async def remove(self, workspace: str, entry_id: str, namespace: str) -> None:
        self._drop(self._space(workspace), entry_id)

    async def clear(self, workspace: str) -> int:
        space = self._spaces.pop(workspace, None)
        return 0 if space is None else len(space.entries)

    async def size(self, workspace: str) -> int:
        space = self._spaces.get(workspace)
        return 0 if space is None else len(space.entries)

    async def settle(self, workspace: str, namespaces: Collection[str]) -> None:
        indexes = self._space(workspace).indexes
        await settle_indexes([indexes[ns] for ns in namespaces if ns in indexes])

    async def close(self) -> None:
        self._spaces.clear()
