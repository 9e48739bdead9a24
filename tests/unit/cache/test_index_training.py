"""The L3 index's clustering: in the background, on growth, without losing changes."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Any

import numpy as np
import numpy.typing as npt

from maestro.embeddings import HashingEmbedder
from maestro.llm.cache import kmeans
from maestro.llm.cache.index import VectorIndex

DIM = 32


class Deferred(Executor):
    """Runs submitted work only when the test says so: the moment of the swap is explicit."""

    def __init__(self) -> None:
        self.queue: list[tuple[Future[Any], Callable[..., Any], tuple[Any, ...]]] = []

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        self.queue.append((future, fn, args))
        return future

    def run(self) -> None:
        for future, fn, args in self.queue:
            future.set_result(fn(*args))
        self.queue.clear()


def _unit(rng: np.random.Generator, n: int) -> npt.NDArray[np.float32]:
    m = rng.standard_normal((n, DIM)).astype(np.float32)
    return m / np.linalg.norm(m, axis=1, keepdims=True)


def _index() -> VectorIndex:
    # probes above the list count: every list is scanned, so a search is exact.
    return VectorIndex(DIM, train_at=64, lists=4, list_rows=16, probes=1000)


def _each_finds_itself(index: VectorIndex, vectors: dict[str, npt.NDArray[np.float32]]) -> None:
    for item_id, v in vectors.items():
        assert index.search(v, 1)[0][0] == item_id


def test_changes_made_while_clustering_survive_the_swap() -> None:
    rng = np.random.default_rng(0)
    index = _index()
    live = {str(i): v for i, v in enumerate(_unit(rng, 64))}
    for item_id, v in live.items():
        index.add(item_id, v)
    pool = Deferred()
    future = index.train_in_background(executor=pool)
    assert future is not None and not index.wants_training
    assert index.train_in_background(executor=pool) is None  # one clustering at a time
    for i, v in enumerate(_unit(rng, 20), start=64):
        index.add(str(i), v)
        live[str(i)] = v
    for gone in ("3", "10", "70"):
        assert index.remove(gone)
        del live[gone]
    live["5"] = _unit(rng, 1)[0]
    index.add("5", live["5"])
    _each_finds_itself(index, live)  # the old layout still serves searches
    assert not index.trained
    pool.run()
    assert future.result() is True
    assert index.trained and index.lists == 4 and len(index) == len(live)
    assert "3" not in index and "70" not in index
    _each_finds_itself(index, live)


def test_a_clear_overtakes_a_running_clustering() -> None:
    rng = np.random.default_rng(1)
    index = _index()
    for i, v in enumerate(_unit(rng, 64)):
        index.add(str(i), v)
    pool = Deferred()
    future = index.train_in_background(executor=pool)
    assert future is not None
    index.clear()
    pool.run()
    assert future.result() is False
    assert len(index) == 0 and not index.trained


def test_the_index_clusters_again_each_time_it_doubles() -> None:
    rng = np.random.default_rng(2)
    index = _index()
    data = _unit(rng, 256)
    for i in range(64):
        index.add(str(i), data[i])
    assert index.train()
    assert not index.wants_training
    for i in range(64, 127):
        index.add(str(i), data[i])
    assert not index.wants_training
    index.add("127", data[127])
    assert index.wants_training and index.train()
    assert index.lists == 128 // 16
    _each_finds_itself(index, {str(i): data[i] for i in range(128)})


def test_replace_loads_a_whole_namespace_unclustered() -> None:
    rng = np.random.default_rng(3)
    data = _unit(rng, 80)
    index = _index()
    index.add("old", data[0])
    index.replace([f"r{i}" for i in range(80)], data)
    assert "old" not in index and len(index) == 80 and not index.trained
    assert index.wants_training and index.train()
    _each_finds_itself(index, {f"r{i}": data[i] for i in range(80)})


def test_lists_grow_with_the_namespace_within_bounds() -> None:
    assert kmeans.lists_for(4096, min_lists=64, list_rows=128) == 64
    assert kmeans.lists_for(65_536, min_lists=64, list_rows=128) == 512
    assert kmeans.lists_for(10_000_000, min_lists=64, list_rows=128) == kmeans.MAX_LISTS
    assert kmeans.lists_for(10, min_lists=64, list_rows=128) == 10
    assert kmeans.sample_size(100_000, 512) <= 32_768


async def test_hashing_embeddings_are_the_same_inline_and_in_a_thread() -> None:
    emb = HashingEmbedder()
    short = ["how do i reset my password"]
    long = ["reset my password " * 200]
    np.testing.assert_array_equal(await emb.embed(short), emb.embed_sync(short))
    np.testing.assert_array_equal(await emb.embed(long), emb.embed_sync(long))
    assert abs(float(np.linalg.norm(emb.embed_sync(short)[0])) - 1.0) < 1e-6
