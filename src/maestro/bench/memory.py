"""Benchmark: similar-goal search in task memory as history grows (1k, 10k, 100k tasks).

One workspace in a fresh SQLite file is filled with synthetic goals ("write a
blog post about pricing for CTOs", ...) through :meth:`TaskMemory.record_many`
(hashing embedder, 512 dimensions). Then, for each size:

- ``cold load``: the first :meth:`TaskMemory.similar`, which builds the
  in-process index from the database;
- ``maestro e2e``: warm :meth:`TaskMemory.similar` (embed the query, top up the
  index from the database, search, fetch the k rows);
- ``maestro index``: the exact index search alone (:class:`VectorIndex`);
- ``sklearn brute``: scikit-learn ``NearestNeighbors(metric="cosine",
  algorithm="brute")`` on the same vectors (the exact reference);
- ``hnswlib``: an HNSW graph (the approximate index GPTCache-style stacks use),
  ``M=16, ef_construction=100, ef=50``, with its build time and recall@k;
- ``no index``: what a stateless implementation does: read every embedding of
  the workspace from the database and score it, per query.

Latencies are medians (p50) and p95 over the same queries, on one thread.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import platform
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import select

from maestro.clock import ManualClock
from maestro.embeddings import HashingEmbedder
from maestro.memory.index import VectorIndex
from maestro.memory.tasks import NewTask, TaskMemory
from maestro.store.db import Database
from maestro.store.tables.memory import TaskHistoryRow
from maestro.store.tables.tenancy import WorkspaceRow

__all__ = ["make_goals", "run"]

K = 10
FULL_SIZES = (1_000, 10_000, 100_000)
QUICK_SIZES = (500,)
BATCH = 5_000

_VERBS = ("write", "draft", "create", "plan", "summarise", "research", "outline", "review")
_FORMATS = ("blog post", "newsletter", "reel script", "landing page", "email", "thread", "report")
_TOPICS = (
    "pricing", "onboarding", "AI trends", "longevity", "sleep", "churn", "hiring", "security",
    "nutrition", "fundraising", "retention", "SEO", "product launch", "remote work", "burnout",
)  # fmt: skip
_AUDIENCES = ("CTOs", "founders", "nurses", "students", "marketers", "parents", "developers")


def make_goals(n: int, seed: int) -> list[str]:
    """``n`` synthetic task goals from a seed."""
    rng = np.random.default_rng(seed)
    picks = [rng.integers(0, len(w), n) for w in (_VERBS, _FORMATS, _TOPICS, _AUDIENCES)]
    return [
        f"{_VERBS[a]} a {_FORMATS[b]} about {_TOPICS[c]} for {_AUDIENCES[d]} #{i}"
        for i, (a, b, c, d) in enumerate(zip(*picks, strict=True))
    ]


def _timed(fn: Callable[[], Any]) -> float:
    t = time.perf_counter()
    fn()
    return (time.perf_counter() - t) * 1000


async def _atimed(fn: Callable[[], Awaitable[Any]]) -> float:
    t = time.perf_counter()
    await fn()
    return (time.perf_counter() - t) * 1000


def _stats(ms: list[float]) -> dict[str, float]:
    ordered = sorted(ms)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {"p50_ms": statistics.median(ordered), "p95_ms": p95, "n": len(ordered)}


async def _fill(memory: TaskMemory, clock: ManualClock, ws: str, n: int) -> float:
    goals = make_goals(n, seed=n)
    t = time.perf_counter()
    for start in range(0, n, BATCH):
        clock.advance(600)  # history accumulates over time, one batch per 10 minutes
        batch = [
            NewTask(g, ["research", "writer"], success=i % 4 != 0, quality=0.8)
            for i, g in enumerate(goals[start : start + BATCH])
        ]
        await memory.record_many(ws, batch)
    return time.perf_counter() - t


async def _matrix(db: Database, ws: str) -> tuple[list[str], npt.NDArray[np.float32]]:
    async with db.read() as session:
        rows = (
            await session.execute(
                select(TaskHistoryRow.id, TaskHistoryRow.goal_embedding).where(
                    TaskHistoryRow.workspace_id == ws
                )
            )
        ).all()
    vecs = np.frombuffer(b"".join(r[1] for r in rows), dtype="<f4").reshape(len(rows), -1)
    return [r[0] for r in rows], vecs.astype(np.float32)


async def _one_size(n: int, queries: list[str], workdir: Path) -> dict[str, Any]:
    db = Database(f"sqlite+aiosqlite:///{workdir / f'memory_{n}.db'}")
    await db.upgrade()
    clock = ManualClock(datetime(2026, 1, 1, tzinfo=UTC))
    embedder = HashingEmbedder()
    async with db.write() as session:
        session.add(WorkspaceRow(id="bench", name="bench", created_at=clock.now()))
    writer = TaskMemory(db, clock, embedder)
    fill_s = await _fill(writer, clock, "bench", n)

    clock.advance(3600)  # the history was written earlier; now it is being searched
    memory = TaskMemory(db, clock, embedder)  # a fresh replica: its index is cold
    t = time.perf_counter()
    await memory.similar("bench", queries[0], K)
    cold_ms = (time.perf_counter() - t) * 1000
    e2e = [await _atimed(partial(memory.similar, "bench", q, K)) for q in queries]
    live: list[float] = []  # another replica writes one task before each query
    for i, q in enumerate(queries):
        clock.advance(1)
        await writer.record("bench", goal=f"{q} (live {i})", agent_sequence=["w"], success=True)
        live.append(await _atimed(partial(memory.similar, "bench", q, K)))

    ids, vecs = await _matrix(db, "bench")
    qvecs = embedder.embed_sync(queries)
    index = VectorIndex(embedder.dim)
    index.add(ids, vecs, [0.0] * len(ids), [True] * len(ids), ["general"] * len(ids))
    maestro_hits = [[h[0] for h in index.search(q, K, min_score=-1.0)] for q in qvecs]
    index_ms = [_timed(partial(index.search, q, K)) for q in qvecs]

    from sklearn.neighbors import NearestNeighbors

    nn = NearestNeighbors(n_neighbors=K, metric="cosine", algorithm="brute").fit(vecs)
    sk_ms = [_timed(partial(nn.kneighbors, q[None, :])) for q in qvecs]
    truth = _TrueScores(ids, vecs, qvecs)
    recall = truth.recall(maestro_hits)

    hnsw = _hnsw(vecs, qvecs, ids, truth)

    async def scan(q: npt.NDArray[np.float32]) -> None:
        _, m = await _matrix(db, "bench")
        np.argsort(-(m @ q))[:K]

    scan_queries = qvecs[: max(3, len(qvecs) // 10)] if n >= 100_000 else qvecs
    scan_ms = [await _atimed(partial(scan, q)) for q in scan_queries]
    await db.dispose()
    return {
        "tasks": n,
        "fill_seconds": fill_s,
        "index_mb": index.nbytes / 2**20,
        "cold_load_ms": cold_ms,
        "maestro_e2e": _stats(e2e),
        "maestro_e2e_with_writes": _stats(live),
        "maestro_index": _stats(index_ms),
        "maestro_recall_at_k": recall,
        "sklearn_brute": _stats(sk_ms),
        "hnswlib": hnsw,
        "no_index_db_scan": _stats(scan_ms),
    }


class _TrueScores:
    """Float64 cosine scores: recall@k that counts a tie with the k-th best as a hit."""

    def __init__(
        self, ids: list[str], vecs: npt.NDArray[np.float32], qvecs: npt.NDArray[np.float32]
    ) -> None:
        self._pos = {row_id: i for i, row_id in enumerate(ids)}
        self._scores = qvecs.astype(np.float64) @ vecs.astype(np.float64).T
        self._kth = -np.partition(-self._scores, K - 1, axis=1)[:, K - 1]

    def recall(self, found: list[list[str]]) -> float:
        hits = [
            sum(self._scores[qi, self._pos[row_id]] >= self._kth[qi] - 1e-6 for row_id in ids)
            for qi, ids in enumerate(found)
        ]
        return float(np.mean(hits) / K)


def _hnsw(
    vecs: npt.NDArray[np.float32],
    qvecs: npt.NDArray[np.float32],
    ids: list[str],
    truth: _TrueScores,
) -> dict[str, Any]:
    try:
        hnswlib: Any = importlib.import_module("hnswlib")
    except ImportError:
        return {"available": False}
    t = time.perf_counter()
    graph = hnswlib.Index(space="cosine", dim=vecs.shape[1])
    graph.init_index(max_elements=len(vecs), ef_construction=100, M=16)
    graph.add_items(vecs, np.arange(len(vecs)), num_threads=1)
    graph.set_ef(50)
    build_s = time.perf_counter() - t
    found = [[ids[i] for i in graph.knn_query(q[None, :], k=K)[0][0]] for q in qvecs]
    recall = truth.recall(found)
    ms = [_timed(partial(graph.knn_query, q[None, :], k=K)) for q in qvecs]
    return {"available": True, "build_seconds": build_s, "recall_at_k": recall, **_stats(ms)}


def _markdown(result: dict[str, Any]) -> str:
    lines = [
        "# Memory: similar-goal search",
        "",
        f"k={K}, hashing embedder (512 dims), SQLite, {result['queries']} queries per size, "
        f"{result['machine']}.",
        "",
        "| tasks | maestro e2e p50 / p95 (ms) | e2e with a concurrent writer p50 (ms) "
        "| maestro index p50 (ms) | sklearn brute p50 (ms) "
        "| sklearn / maestro index | hnswlib p50 (ms) | hnswlib recall@10 | hnswlib build (s) "
        "| no-index DB scan p50 (ms) | scan / maestro e2e | cold load (ms) | index MiB |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in result["sizes"]:
        e2e, idx, sk, scan, h = (
            r["maestro_e2e"],
            r["maestro_index"],
            r["sklearn_brute"],
            r["no_index_db_scan"],
            r["hnswlib"],
        )
        hn = (
            (f"{h['p50_ms']:.3f}", f"{h['recall_at_k']:.3f}", f"{h['build_seconds']:.1f}")
            if h.get("available")
            else ("n/a", "n/a", "n/a")
        )
        lines.append(
            f"| {r['tasks']:,} | {e2e['p50_ms']:.2f} / {e2e['p95_ms']:.2f} "
            f"| {r['maestro_e2e_with_writes']['p50_ms']:.2f} | {idx['p50_ms']:.3f} "
            f"| {sk['p50_ms']:.3f} | {sk['p50_ms'] / idx['p50_ms']:.1f}x | {hn[0]} | {hn[1]} "
            f"| {hn[2]} | {scan['p50_ms']:.1f} | {scan['p50_ms'] / e2e['p50_ms']:.0f}x "
            f"| {r['cold_load_ms']:.0f} | {r['index_mb']:.1f} |"
        )
    lines += [
        "",
        "Recall@10 counts a result tied with the true 10th best as a hit (float64 scores). "
        "Maestro's index is exact: its recall is "
        + ", ".join(f"{r['maestro_recall_at_k']:.3f}" for r in result["sizes"])
        + ".",
    ]
    return "\n".join(lines) + "\n"


async def run(out: Path, quick: bool = False) -> dict[str, Any]:
    """Run the benchmark and write ``memory.json`` and ``memory.md`` into ``out``."""
    sizes = QUICK_SIZES if quick else FULL_SIZES
    queries = make_goals(10 if quick else 50, seed=7)
    queries = [q.rsplit(" #", 1)[0] for q in queries]
    results = []
    with tempfile.TemporaryDirectory(prefix="maestro-bench-memory-") as tmp:
        for n in sizes:
            results.append(await _one_size(n, queries, Path(tmp)))
    result: dict[str, Any] = {
        "benchmark": "memory",
        "k": K,
        "queries": len(queries),
        "quick": quick,
        "machine": f"{platform.machine()}, {platform.python_implementation()} "
        f"{platform.python_version()}",
        "sizes": results,
    }
    await asyncio.to_thread(_write, out, result)
    return result


def _write(out: Path, result: dict[str, Any]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "memory.json").write_text(json.dumps(result, indent=2) + "\n")
    (out / "memory.md").write_text(_markdown(result))


if __name__ == "__main__":
    import sys

    asyncio.run(run(Path("bench/results"), quick="--quick" in sys.argv))
