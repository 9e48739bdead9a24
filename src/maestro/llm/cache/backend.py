"""What a cache backend stores, and the protocol every backend implements.

Backends keep entries per workspace: a workspace's keys, vectors and LRU order
are never consulted for another workspace. The levels' logic (what to look up
in which order, the threshold, the guard) lives in
:class:`maestro.llm.cache.SemanticCache`, not here.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import asdict, dataclass
from typing import Literal, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

__all__ = ["CacheBackend", "Entry", "PointerKind"]

PointerKind = Literal["l1", "l2"]


@dataclass(frozen=True)
class Entry:
    """One cached answer."""

    id: str
    namespace: str
    """L3 search space: parameters plus earlier turns (see :mod:`.keys`)."""
    query: str
    """The normalised last user message (what the guard compares)."""
    text: str
    model: str
    prompt_tokens: int
    completion_tokens: int
    template_version: str | None
    created_at: float

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), separators=(",", ":")).encode()

    @classmethod
    def from_json(cls, raw: bytes | str) -> Entry:
        return cls(**json.loads(raw))


@runtime_checkable
class CacheBackend(Protocol):
    """Storage of entries, their L1/L2 pointers and their L3 vectors, per workspace."""

    name: str

    async def get_exact(self, workspace: str, l1: str, l2: str) -> tuple[PointerKind, Entry] | None:
        """The live entry behind the L1 key, else the L2 key (marked as recently used)."""

    async def get_entries(self, workspace: str, ids: list[str]) -> list[Entry | None]:
        """Live entries by id, ``None`` for expired or evicted ones (not marked used)."""

    async def touch(self, workspace: str, entry: Entry) -> None:
        """Mark ``entry`` as recently used."""

    async def put(
        self,
        workspace: str,
        entry: Entry,
        l1: str,
        l2: str,
        vector: npt.NDArray[np.float32] | None,
    ) -> int:
        """Store ``entry`` under both keys (and its vector); returns how many were evicted."""

    async def search(
        self, workspace: str, namespace: str, vector: npt.NDArray[np.float32], k: int
    ) -> list[tuple[str, float]]:
        """Ids of the ``k`` nearest vectors in ``namespace`` with their cosine, best first."""

    async def remove(self, workspace: str, entry_id: str, namespace: str) -> None:
        """Forget an entry (used when a search finds a vector whose entry has gone)."""

    async def clear(self, workspace: str) -> int:
        """Forget every entry of ``workspace``; returns how many there were."""

    async def size(self, workspace: str) -> int:
        """Entries held for ``workspace`` (possibly counting expired, not yet swept ones)."""

    async def settle(self, workspace: str, namespaces: Collection[str]) -> None:
        """Bring this replica's L3 index of ``namespaces`` up to date and clustered.

        Waits for a clustering that is running or due; a Redis replica first syncs
        its mirror. Called after a bulk fill, so the first lookups run at full speed.
        """

    async def close(self) -> None: ...
