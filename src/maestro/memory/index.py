"""An in-process exact cosine index over unit vectors (one per workspace).

Brute force on purpose: one single-threaded float32 matrix-vector product over
every stored goal, then ``argpartition`` for the top k. It is exact (recall 1.0), needs no
training or tuning, and appending is amortised O(1) (capacity doubles). The
database stays the source of truth; this is a cache of ids and vectors that
:class:`~maestro.memory.tasks.TaskMemory` loads lazily and keeps in sync.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

import numpy as np
import numpy.typing as npt

__all__ = ["VectorIndex"]

_MIN_CAPACITY = 64
G = TypeVar("G", bound=np.generic)


class VectorIndex:
    """Ids with unit vectors, a timestamp, a success flag and a task type per row."""

    def __init__(self, dim: int) -> None:
        self.dim = dim
        self._vecs = np.zeros((_MIN_CAPACITY, dim), dtype=np.float32)
        self._ts = np.zeros(_MIN_CAPACITY, dtype=np.float64)
        self._ok = np.zeros(_MIN_CAPACITY, dtype=np.bool_)
        self._types = np.zeros(_MIN_CAPACITY, dtype=np.int32)
        self._type_codes: dict[str, int] = {}
        self._ids: list[str] = []
        self._known: set[str] = set()
        self.newest_ts = float("-inf")
        """Timestamp of the newest row ever added (the sync high-water mark)."""

    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, row_id: object) -> bool:
        return row_id in self._known

    @property
    def nbytes(self) -> int:
        """Bytes held by the vector matrix (capacity, not just rows in use)."""
        return int(self._vecs.nbytes)

    def add(
        self,
        ids: Sequence[str],
        vectors: npt.NDArray[np.float32],
        timestamps: Sequence[float],
        success: Sequence[bool],
        task_types: Sequence[str],
    ) -> int:
        """Append rows whose id is not already present; returns how many were added."""
        keep = [i for i, row_id in enumerate(ids) if row_id not in self._known]
        if not keep:
            return 0
        n, start = len(keep), len(self._ids)
        self._reserve(start + n)
        end = start + n
        self._vecs[start:end] = vectors[keep]
        self._ts[start:end] = [timestamps[i] for i in keep]
        self._ok[start:end] = [success[i] for i in keep]
        self._types[start:end] = [self._code(task_types[i]) for i in keep]
        for i in keep:
            self._ids.append(ids[i])
            self._known.add(ids[i])
        self.newest_ts = max(self.newest_ts, float(self._ts[start:end].max()))
        return n

    def search(
        self,
        query: npt.NDArray[np.float32],
        k: int,
        *,
        not_before: float = float("-inf"),
        success_only: bool = False,
        task_type: str | None = None,
        min_score: float = -1.0,
    ) -> list[tuple[str, float]]:
        """The ``k`` best ``(id, cosine)`` pairs, best first, among rows passing the filters."""
        n = len(self._ids)
        if n == 0 or k <= 0:
            return []
        # einsum, not ``@``: a matrix-vector product is memory-bound, and multi-threaded
        # BLAS spinning on a busy host was up to 100x slower at 1k rows (docs/memory.md).
        scores = np.einsum("ij,j->i", self._vecs[:n], query.astype(np.float32, copy=False))
        mask = self._ts[:n] >= not_before
        if success_only:
            mask &= self._ok[:n]
        if task_type is not None:
            code = self._type_codes.get(task_type)
            if code is None:
                return []
            mask &= self._types[:n] == code
        mask &= scores >= min_score
        candidates = np.flatnonzero(mask)
        if candidates.size == 0:
            return []
        picked = candidates
        if candidates.size > k:
            part = np.argpartition(-scores[candidates], k - 1)[:k]
            picked = candidates[part]
        order = picked[np.argsort(-scores[picked], kind="stable")]
        return [(self._ids[i], float(scores[i])) for i in order]

    def drop_before(self, ts: float) -> int:
        """Forget rows older than ``ts`` (after a purge); returns how many were dropped."""
        n = len(self._ids)
        keep = np.flatnonzero(self._ts[:n] >= ts)
        dropped = n - keep.size
        if dropped == 0:
            return 0
        m = keep.size
        self._vecs[:m] = self._vecs[keep]
        self._ts[:m] = self._ts[keep]
        self._ok[:m] = self._ok[keep]
        self._types[:m] = self._types[keep]
        self._ids = [self._ids[i] for i in keep]
        self._known = set(self._ids)
        return dropped

    def _code(self, task_type: str) -> int:
        return self._type_codes.setdefault(task_type, len(self._type_codes))

    def _reserve(self, size: int) -> None:
        cap = self._vecs.shape[0]
        if size <= cap:
            return
        while cap < size:
            cap *= 2
        self._vecs = _grow(self._vecs, cap)
        self._ts = _grow(self._ts, cap)
        self._ok = _grow(self._ok, cap)
        self._types = _grow(self._types, cap)


def _grow(arr: npt.NDArray[G], cap: int) -> npt.NDArray[G]:
    out = np.zeros((cap, *arr.shape[1:]), dtype=arr.dtype)
    out[: arr.shape[0]] = arr
    return out
