"""Clustering for the L3 index: spherical k-means over unit vectors, NumPy only.

The inverted lists of :class:`~maestro.llm.cache.index.VectorIndex` are the
clusters computed here. Everything in this module is CPU work of tens of
milliseconds to a few seconds, so the index only calls it from its background
training thread, never on a lookup.

Why a sample: k-means on every vector costs ``rows x lists x dim`` per round; a
sample of a few dozen vectors per centroid places the centroids as well for a
fraction of the cost, and every vector is then assigned once.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["MAX_LISTS", "ROUNDS", "assign", "lists_for", "sample_size", "spherical_kmeans"]

Matrix = npt.NDArray[np.float32]
ROUNDS = 6
"""Lloyd rounds; the lists only steer which vectors a search scans, so rough is enough."""
MAX_LISTS = 1024
"""Upper bound on lists: assigning every vector costs ``rows x lists``."""
_SAMPLE_PER_LIST = 40
_MAX_SAMPLE = 32_768
_ASSIGN_CHUNK = 8192


def lists_for(rows: int, *, min_lists: int, list_rows: int) -> int:
    """How many lists to cluster ``rows`` vectors into.

    About ``list_rows`` vectors per list, so a search scans a number of rows that
    grows with the namespace only through the probes; never fewer than
    ``min_lists`` (nor more vectors than there are), never more than ``MAX_LISTS``.
    """
    wanted = max(min_lists, rows // max(1, list_rows))
    return max(1, min(wanted, MAX_LISTS, rows))


def sample_size(rows: int, lists: int) -> int:
    """Vectors k-means looks at: a few dozen per centroid, bounded."""
    return min(rows, max(lists * _SAMPLE_PER_LIST, 1), _MAX_SAMPLE)


def assign(data: Matrix, centroids: Matrix) -> npt.NDArray[np.intp]:
    """The nearest centroid of every row (chunked so the score matrix stays small)."""
    out = np.empty(len(data), dtype=np.intp)
    for start in range(0, len(data), _ASSIGN_CHUNK):
        block = data[start : start + _ASSIGN_CHUNK]
        out[start : start + len(block)] = np.argmax(block @ centroids.T, axis=1)
    return out


def spherical_kmeans(
    data: Matrix, k: int, *, rounds: int = ROUNDS, rng: np.random.Generator
) -> Matrix:
    """``k`` unit centroids of the unit rows of ``data`` (cosine k-means, random init).

    A centroid that loses every member keeps its previous position.
    """
    centroids = data[rng.choice(len(data), size=k, replace=False)].copy()
    for _ in range(rounds):
        labels = assign(data, centroids)
        order = np.argsort(labels, kind="stable")
        present, starts = np.unique(labels[order], return_index=True)
        sums = np.add.reduceat(data[order], starts, axis=0)
        norms = np.linalg.norm(sums, axis=1)
        keep = norms > 0
        centroids[present[keep]] = sums[keep] / norms[keep, None]
    return centroids
