"""The L3 vector index: one per (workspace, namespace), NumPy only.

Below ``train_at`` vectors it is an exact scan of one contiguous matrix. From
then on it is an inverted-file (IVF) index: the vectors are clustered
(:mod:`.kmeans`) into lists of about ``list_rows`` vectors each, every new vector
goes to its nearest centroid, and a search scans only the ``probes`` nearest
lists. The index is clustered again each time it has doubled since the last
clustering, so lists stay short and balanced as a namespace grows (a fixed
64-list layout trained on the first 4,096 vectors made a lookup at 100k scan
~12k rows, up to 19k).

Clustering never runs on a lookup: :meth:`VectorIndex.train_in_background` takes
a snapshot (cheap: views of the lists, copy-on-write for removals), clusters it
on a single background thread, then swaps the new layout in and replays the
adds and removals that happened meanwhile. Searches keep using the old layout
until the swap. Operations take a short threading lock; searches and adds are
sub-millisecond and run on the event loop.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from maestro.llm.cache import kmeans
from maestro.llm.cache.lists import InvertedList, Layout, Matrix, replay, scores

__all__ = ["VectorIndex", "settle_indexes"]

log = logging.getLogger("maestro.llm.cache.index")
_SWAP_REPLAY = 256
"""Changes replayed under the lock at the swap; longer backlogs are replayed before it."""
_trainer: ThreadPoolExecutor | None = None
_trainer_lock = threading.Lock()


def _training_pool() -> ThreadPoolExecutor:
    """One background thread for every index: clusterings queue instead of competing."""
    global _trainer
    with _trainer_lock:
        if _trainer is None:
            _trainer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="maestro-l3-train")
        return _trainer


@dataclass(frozen=True)
class _Snapshot:
    generation: int
    rows: list[Matrix]
    ids: list[str]


class VectorIndex:
    """Cosine search over unit vectors, keyed by string ids."""

    def __init__(
        self,
        dim: int,
        *,
        train_at: int = 4096,
        lists: int = 64,
        probes: int = 16,
        list_rows: int = 128,
    ) -> None:
        self.dim = dim
        self.train_at = train_at
        self.n_lists = lists
        self.probes = probes
        self.list_rows = list_rows
        self._layout = Layout([InvertedList(dim)])
        self._lock = threading.Lock()
        self._trained_size = 0
        self._journal: list[tuple[str, Matrix | None]] | None = None
        """Changes since the running clustering's snapshot; ``None`` when none runs."""
        self._generation = 0
        self._running: Future[bool] | None = None

    def __len__(self) -> int:
        return len(self._layout.where)

    def __contains__(self, item_id: object) -> bool:
        return item_id in self._layout.where

    @property
    def trained(self) -> bool:
        return self._layout.centroids is not None

    @property
    def lists(self) -> int:
        """Inverted lists in the current layout (1 before the first clustering)."""
        return len(self._layout.lists)

    @property
    def wants_training(self) -> bool:
        """No clustering runs and the index reached ``train_at``, or doubled since the last."""
        return self._journal is None and len(self) >= max(self.train_at, 2 * self._trained_size)

    def add(self, item_id: str, vec: Matrix) -> None:
        """Insert or replace ``item_id``."""
        v = np.array(vec, dtype=np.float32).reshape(self.dim)
        with self._lock:
            self._layout.remove(item_id)
            self._layout.add(item_id, v)
            if self._journal is not None:
                self._journal.append((item_id, v))

    def remove(self, item_id: str) -> bool:
        with self._lock:
            if self._journal is not None:
                self._journal.append((item_id, None))
            return self._layout.remove(item_id)

    def clear(self) -> None:
        self.replace([], np.zeros((0, self.dim), dtype=np.float32))

    def replace(self, ids: list[str], vectors: Matrix) -> None:
        """Hold exactly ``ids`` with ``vectors`` (unclustered; e.g. a reload from Redis)."""
        data = np.array(vectors, dtype=np.float32).reshape(len(ids), self.dim)
        layout = Layout([InvertedList(self.dim)])
        if len(set(ids)) == len(ids) and ids:
            layout.lists[0] = InvertedList(self.dim, data, list(ids))
            layout.where = {item_id: (0, pos) for pos, item_id in enumerate(ids)}
        else:
            for item_id, row in zip(ids, data, strict=True):
                layout.remove(item_id)
                layout.add(item_id, row)
        with self._lock:
            self._generation += 1
            self._journal = None
            self._trained_size = 0
            self._layout = layout

    def search(self, vec: Matrix, k: int = 4) -> list[tuple[str, float]]:
        """The ``k`` most similar ids with their cosine, best first."""
        q = np.asarray(vec, dtype=np.float32).reshape(self.dim)
        found: list[tuple[str, float]] = []
        with self._lock:
            layout = self._layout
            probe: list[int] = [0]
            if layout.centroids is not None:
                cs = scores(layout.centroids, q)
                p = min(self.probes, len(cs))
                probe = np.argpartition(-cs, p - 1)[:p].tolist() if p < len(cs) else list(range(p))
            for li in probe:
                lst = layout.lists[li]
                n = len(lst.ids)
                if n == 0:
                    continue
                sims = scores(lst.mat[:n], q)
                top = np.argpartition(-sims, k - 1)[:k].tolist() if n > k else range(n)
                found.extend((lst.ids[i], float(sims[i])) for i in top)
        found.sort(key=lambda t: -t[1])
        return found[:k]

    def train(self, seed: int = 0) -> bool:
        """Cluster now, in the calling thread; False when not due or already running."""
        snapshot = self._claim()
        return snapshot is not None and self._build(snapshot, seed)

    def train_in_background(
        self, seed: int = 0, *, executor: Executor | None = None
    ) -> Future[bool] | None:
        """Cluster on the background thread (or ``executor``) if due.

        The future says whether the new layout was applied (not when a :meth:`clear`
        or :meth:`replace` overtook it).
        """
        snapshot = self._claim()
        if snapshot is None:
            return None
        future = (executor or _training_pool()).submit(self._build, snapshot, seed)
        future.add_done_callback(_log_failure)
        self._running = future
        return future

    def catch_up(self) -> Future[bool] | None:
        """The running background clustering, else a new one if due; ``None``: up to date."""
        running = self._running
        if running is not None and not running.done():
            return running
        return self.train_in_background()

    def _claim(self) -> _Snapshot | None:
        with self._lock:
            if not self.wants_training:
                return None
            self._journal = []
            for lst in self._layout.lists:
                lst.shared = True
            return _Snapshot(
                self._generation,
                [lst.rows() for lst in self._layout.lists],
                [i for lst in self._layout.lists for i in lst.ids],
            )

    def _build(self, snapshot: _Snapshot, seed: int) -> bool:
        try:
            layout = self._cluster(snapshot, seed)
            while True:
                with self._lock:
                    if snapshot.generation != self._generation:
                        return False
                    pending = self._journal or []
                    if len(pending) <= _SWAP_REPLAY:
                        replay(layout, pending)
                        self._layout = layout
                        self._journal = None
                        self._trained_size = len(snapshot.ids)
                        return True
                    self._journal = []
                # The new layout is still private to this thread: catch up without the lock.
                replay(layout, pending)
        except BaseException:
            with self._lock:
                if snapshot.generation == self._generation:
                    self._journal = None
            raise

    def _cluster(self, snapshot: _Snapshot, seed: int) -> Layout:
        """The new layout for the snapshot's vectors (no lock held: CPU work)."""
        n = len(snapshot.ids)
        k = kmeans.lists_for(n, min_lists=self.n_lists, list_rows=self.list_rows)
        rng = np.random.default_rng(seed)
        offsets = np.cumsum([0] + [len(r) for r in snapshot.rows])
        pick = np.sort(rng.choice(n, size=kmeans.sample_size(n, k), replace=False))
        owner = np.searchsorted(offsets, pick, side="right") - 1
        sample = np.concatenate(
            [snapshot.rows[j][pick[owner == j] - offsets[j]] for j in np.unique(owner)]
        )
        centroids = kmeans.spherical_kmeans(sample, k, rng=rng)
        labels = np.concatenate([kmeans.assign(r, centroids) for r in snapshot.rows])
        order = np.argsort(labels, kind="stable")
        dest = np.empty(n, dtype=np.intp)
        dest[order] = np.arange(n)
        data = np.empty((n, self.dim), dtype=np.float32)
        for j, rows in enumerate(snapshot.rows):
            data[dest[offsets[j] : offsets[j + 1]]] = rows
        starts = np.concatenate(([0], np.cumsum(np.bincount(labels, minlength=k))))
        ids = [snapshot.ids[i] for i in order.tolist()]
        lists = [
            InvertedList(self.dim, data[starts[c] : starts[c + 1]], ids[starts[c] : starts[c + 1]])
            for c in range(k)
        ]
        sorted_labels = labels[order]
        positions = np.arange(n) - starts[sorted_labels]
        where = dict(
            zip(ids, zip(sorted_labels.tolist(), positions.tolist(), strict=True), strict=True)
        )
        return Layout(lists, centroids, where)


async def settle_indexes(indexes: list[VectorIndex]) -> None:
    """Wait until none of ``indexes`` is clustering or due to (without blocking the loop)."""
    for index in indexes:
        while (future := index.catch_up()) is not None:
            await asyncio.wrap_future(future)


def _log_failure(future: Future[bool]) -> None:
    if not future.cancelled() and future.exception() is not None:
        log.error("L3 index clustering failed", exc_info=future.exception())
