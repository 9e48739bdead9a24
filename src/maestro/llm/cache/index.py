"""The L3 vector index: one per (workspace, namespace), NumPy only.

Below ``train_at`` vectors it is an exact scan of one contiguous matrix. At
``train_at`` it clusters the vectors once (spherical k-means, a few rounds) into
``lists`` inverted lists; from then on every vector goes to its nearest
centroid and a search scans only the ``probes`` nearest lists (an IVF index).
That keeps a lookup at 100k vectors to a few thousand dot products; the price
is recall, measured against the exact scan in bench/results/cache.md.

Operations take a threading lock: searches and adds are sub-millisecond and run
on the event loop; :meth:`train` (tens of milliseconds, once per namespace) is
meant for ``asyncio.to_thread``.
"""

from __future__ import annotations

import threading

import numpy as np
import numpy.typing as npt

__all__ = ["VectorIndex"]

Matrix = npt.NDArray[np.float32]
_KMEANS_ROUNDS = 6


class _List:
    """A growable matrix of rows with their ids (swap-remove keeps it dense)."""

    def __init__(self, dim: int) -> None:
        self.mat: Matrix = np.zeros((16, dim), dtype=np.float32)
        self.ids: list[str] = []

    def append(self, item_id: str, vec: Matrix) -> int:
        n = len(self.ids)
        if n == self.mat.shape[0]:
            grown = np.zeros((n * 2, self.mat.shape[1]), dtype=np.float32)
            grown[:n] = self.mat
            self.mat = grown
        self.mat[n] = vec
        self.ids.append(item_id)
        return n

    def pop(self, pos: int) -> str | None:
        """Remove row ``pos``; returns the id moved into ``pos``, if any."""
        last = len(self.ids) - 1
        moved = None
        if pos != last:
            self.mat[pos] = self.mat[last]
            self.ids[pos] = self.ids[last]
            moved = self.ids[pos]
        self.ids.pop()
        return moved


class VectorIndex:
    """Cosine search over unit vectors, keyed by string ids."""

    def __init__(self, dim: int, *, train_at: int = 4096, lists: int = 64, probes: int = 8) -> None:
        self.dim = dim
        self.train_at = train_at
        self.n_lists = lists
        self.probes = probes
        self._lists = [_List(dim)]
        self._centroids: Matrix | None = None
        self._where: dict[str, tuple[int, int]] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._where)

    def __contains__(self, item_id: object) -> bool:
        return item_id in self._where

    @property
    def trained(self) -> bool:
        return self._centroids is not None

    @property
    def wants_training(self) -> bool:
        return self._centroids is None and len(self._where) >= self.train_at

    def add(self, item_id: str, vec: Matrix) -> None:
        """Insert or replace ``item_id``."""
        v = np.asarray(vec, dtype=np.float32).reshape(self.dim)
        with self._lock:
            self._remove(item_id)
            li = 0 if self._centroids is None else int(np.argmax(self._centroids @ v))
            self._where[item_id] = (li, self._lists[li].append(item_id, v))

    def remove(self, item_id: str) -> bool:
        with self._lock:
            return self._remove(item_id)

    def _remove(self, item_id: str) -> bool:
        where = self._where.pop(item_id, None)
        if where is None:
            return False
        li, pos = where
        moved = self._lists[li].pop(pos)
        if moved is not None:
            self._where[moved] = (li, pos)
        return True

    def clear(self) -> None:
        with self._lock:
            self._lists = [_List(self.dim)]
            self._centroids = None
            self._where.clear()

    def search(self, vec: Matrix, k: int = 4) -> list[tuple[str, float]]:
        """The ``k`` most similar ids with their cosine, best first."""
        q = np.asarray(vec, dtype=np.float32).reshape(self.dim)
        with self._lock:
            if self._centroids is None:
                probe = [0]
            else:
                cs = self._centroids @ q
                probe = list(np.argpartition(-cs, min(self.probes, len(cs)) - 1)[: self.probes])
            found: list[tuple[str, float]] = []
            for li in probe:
                lst = self._lists[int(li)]
                n = len(lst.ids)
                if n == 0:
                    continue
                scores = lst.mat[:n] @ q
                top = np.argpartition(-scores, k - 1)[:k] if n > k else np.arange(n)
                found.extend((lst.ids[int(i)], float(scores[int(i)])) for i in top)
        found.sort(key=lambda t: -t[1])
        return found[:k]

    def train(self, seed: int = 0) -> None:
        """Cluster the vectors into inverted lists (spherical k-means)."""
        with self._lock:
            if self._centroids is not None or not self._where:
                return
            ids = [i for lst in self._lists for i in lst.ids]
            data = np.concatenate([lst.mat[: len(lst.ids)] for lst in self._lists])
            k = min(self.n_lists, len(ids))
            rng = np.random.default_rng(seed)
            cents = data[rng.choice(len(ids), size=k, replace=False)].copy()
            for _ in range(_KMEANS_ROUNDS):
                assign = np.argmax(data @ cents.T, axis=1)
                for c in range(k):
                    members = data[assign == c]
                    if len(members):
                        mean = members.sum(axis=0)
                        norm = float(np.linalg.norm(mean))
                        if norm > 0:
                            cents[c] = mean / norm
            assign = np.argmax(data @ cents.T, axis=1)
            self._centroids = cents
            self._lists = [_List(self.dim) for _ in range(k)]
            self._where = {}
            for item_id, row, li in zip(ids, data, assign, strict=True):
                self._where[item_id] = (int(li), self._lists[int(li)].append(item_id, row))
