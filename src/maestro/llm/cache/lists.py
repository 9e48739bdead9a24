"""Storage of the L3 index: inverted lists of unit vectors and the layout that holds them.

A :class:`Layout` is what a search reads: one list (exact scan) or one list per
centroid. :mod:`.index` owns a layout, builds the next one when it clusters and
swaps it in; this module only keeps rows dense and ids findable.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

__all__ = ["InvertedList", "Layout", "Matrix", "replay", "scores"]

Matrix = npt.NDArray[np.float32]
_MIN_CAPACITY = 16


def scores(mat: Matrix, q: Matrix) -> Matrix:
    """Cosines of the unit rows of ``mat`` with the unit vector ``q``.

    ``einsum`` is NumPy's own single-threaded loop, not BLAS: a matrix-vector
    product over a few hundred rows would wake BLAS's worker threads, and on busy
    cores their hand-offs cost tens of milliseconds (measured at 100k entries and
    load 2 on 2 cores: lookup p99 35 ms with threaded BLAS, 3 ms without). The scan
    is memory-bound, so one thread is as fast.
    """
    out: Matrix = np.einsum("ij,j->i", mat, q)
    return out


class InvertedList:
    """A growable matrix of rows with their ids (swap-remove keeps it dense).

    ``shared`` marks a list whose rows a clustering snapshot is reading: a removal
    copies the matrix first. Appends write past the snapshot's rows (or into a
    grown copy), so they need no copy.
    """

    def __init__(self, dim: int, mat: Matrix | None = None, ids: list[str] | None = None) -> None:
        self.mat: Matrix = np.zeros((_MIN_CAPACITY, dim), dtype=np.float32) if mat is None else mat
        self.ids: list[str] = [] if ids is None else ids
        self.shared = False

    def rows(self) -> Matrix:
        return self.mat[: len(self.ids)]

    def append(self, item_id: str, vec: Matrix) -> int:
        n = len(self.ids)
        if n == self.mat.shape[0]:
            grown = np.zeros((max(_MIN_CAPACITY, n * 2), self.mat.shape[1]), dtype=np.float32)
            grown[:n] = self.mat[:n]
            self.mat = grown
            self.shared = False
        self.mat[n] = vec
        self.ids.append(item_id)
        return n

    def pop(self, pos: int) -> str | None:
        """Remove row ``pos``; returns the id moved into ``pos``, if any."""
        if self.shared:
            self.mat = self.mat.copy()
            self.shared = False
        last = len(self.ids) - 1
        moved = None
        if pos != last:
            self.mat[pos] = self.mat[last]
            self.ids[pos] = self.ids[last]
            moved = self.ids[pos]
        self.ids.pop()
        return moved


@dataclass
class Layout:
    """Lists, their centroids (``None``: one list, exact scan) and where each id sits."""

    lists: list[InvertedList]
    centroids: Matrix | None = None
    where: dict[str, tuple[int, int]] = field(default_factory=dict)

    def add(self, item_id: str, v: Matrix) -> None:
        li = 0 if self.centroids is None else int(np.argmax(scores(self.centroids, v)))
        self.put(item_id, v, li)

    def put(self, item_id: str, v: Matrix, li: int) -> None:
        self.where[item_id] = (li, self.lists[li].append(item_id, v))

    def remove(self, item_id: str) -> bool:
        where = self.where.pop(item_id, None)
        if where is None:
            return False
        li, pos = where
        moved = self.lists[li].pop(pos)
        if moved is not None:
            self.where[moved] = (li, pos)
        return True


def replay(layout: Layout, changes: list[tuple[str, Matrix | None]]) -> None:
    """Apply adds (vector) and removals (``None``) in order; one product for all the adds."""
    added = [v for _, v in changes if v is not None]
    labels: list[int] = []
    if added and layout.centroids is not None:
        labels = np.argmax(np.stack(added) @ layout.centroids.T, axis=1).tolist()
    nth = 0
    for item_id, v in changes:
        layout.remove(item_id)
        if v is not None:
            layout.put(item_id, v, labels[nth] if labels else 0)
            nth += 1
