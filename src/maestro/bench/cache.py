"""``maestro bench cache``: Maestro's semantic cache against GPTCache, same embedder.

Method (one run, both systems side by side):

1. Calibrate the L3 threshold on a generated labelled workload (seed 0):
   precision/recall curve with and without the meaning guard; plot it.
2. Quality on a held-out workload (seed 1): store every base, look up every
   query; hit rate per level, recall on the queries that should hit, and the
   false-hit rate (wrong answers over answers served). GPTCache gets the same
   hashing embedder, an hnswlib vector store (faiss-free, in memory; a NumPy
   VectorBase when hnswlib is absent), a SQLite scalar store and
   ``SearchDistanceEvaluation``, at (a) the same cosine threshold as Maestro and
   (b) the cosine its own unguarded curve needs for the false-hit target.
3. Latency: fill each cache to 10k and 100k entries (workload bases plus
   filler prompts, one namespace), then time every held-out lookup; p50/p99 of
   all lookups and of those that reached L3, plus the hit rates at that size
   (the IVF index's recall shows here). When Redis answers at
   ``MAESTRO_BENCH_REDIS_URL`` (default ``redis://127.0.0.1:6379/14``), the same
   for Maestro on the Redis backend (``maestro-redis``: entries stored through the
   Lua scripts, lookups from the replica that stored them, whose mirror ``warm()``
   synced and clustered); its keys are removed afterwards.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from maestro.clock import ManualClock
from maestro.coord import connect
from maestro.embeddings import HashingEmbedder
from maestro.errors import MaestroError
from maestro.llm.cache import CacheSettings, MemoryCacheBackend, SemanticCache
from maestro.llm.cache.backend import CacheBackend
from maestro.llm.cache.calibrate import Calibration, calibrate
from maestro.llm.cache.redis import RedisCacheBackend
from maestro.llm.cache.workload import KINDS, Workload, filler_prompts, generate
from maestro.llm.types import CompletionRequest

__all__ = ["run"]

TARGET_FALSE_HIT = 0.01
REDIS_URL = os.environ.get("MAESTRO_BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")


def _load() -> list[float]:
    """1, 5 and 15 minute load averages: latency on a shared machine depends on them."""
    return [round(x, 2) for x in os.getloadavg()]


def _percentiles(samples: list[float]) -> dict[str, float]:
    arr = np.array(samples) * 1000.0
    return {"p50_ms": float(np.percentile(arr, 50)), "p99_ms": float(np.percentile(arr, 99))}


def _score(workload: Workload, answers: list[tuple[str | None, int | None]]) -> dict[str, Any]:
    """answers[i] = (level or None, base index answered or None)."""
    by_kind: Counter[str] = Counter()
    hits_by_kind: Counter[str] = Counter()
    levels: Counter[str] = Counter()
    served = right = 0
    for q, (level, base) in zip(workload.queries, answers, strict=True):
        by_kind[q.kind] += 1
        if level is None:
            continue
        served += 1
        hits_by_kind[q.kind] += 1
        levels[level] += 1
        right += int(q.positive and base == q.base)
    positives = sum(q.positive for q in workload.queries)
    return {
        "lookups": len(workload.queries),
        "hits": served,
        "hit_rate": served / len(workload.queries),
        "recall": right / positives,
        "false_hits": served - right,
        "false_hit_rate": (served - right) / served if served else 0.0,
        "hits_by_level": dict(levels),
        "hit_rate_by_kind": {k: hits_by_kind[k] / by_kind[k] for k in KINDS if by_kind[k]},
    }


async def _maestro(
    workload: Workload,
    threshold: float,
    fillers: list[str],
    size_label: str,
    redis_url: str | None = None,
) -> dict[str, Any]:
    """Fill and query Maestro's cache: in memory, or on Redis at ``redis_url``."""
    emb = HashingEmbedder()
    settings = CacheSettings(
        threshold=threshold, max_entries=len(fillers) + len(workload.bases) + 1
    )
    clock = ManualClock()
    coord = None
    backend: CacheBackend
    if redis_url is None:
        backend = MemoryCacheBackend(settings, dim=emb.dim, clock=clock)
    else:
        coord = connect(redis_url, prefix=f"bench-cache-{uuid.uuid4().hex[:8]}:", clock=clock)
        backend = RedisCacheBackend(coord, settings, dim=emb.dim, clock=clock)
    cache = SemanticCache(backend, emb, settings, clock=clock)
    try:
        t0 = time.perf_counter()
        await cache.warm("bench", [(CompletionRequest.of(f), "filler") for f in fillers])
        await cache.warm(
            "bench", [(CompletionRequest.of(b), str(i)) for i, b in enumerate(workload.bases)]
        )
        fill_s = time.perf_counter() - t0
        answers: list[tuple[str | None, int | None]] = []
        all_t: list[float] = []
        l3_t: list[float] = []
        for q in workload.queries:
            t = time.perf_counter()
            hit = await cache.lookup(CompletionRequest.of(q.text), "bench")
            dt = time.perf_counter() - t
            all_t.append(dt)
            if hit is None or hit.level == "L3":
                l3_t.append(dt)
            base = int(hit.text) if hit is not None and hit.text.isdigit() else None
            answers.append((None if hit is None else hit.level, base))
    finally:
        if coord is not None:
            await cache.clear("bench")
            await coord.close()
            await _drop_keys(REDIS_URL, coord.key(""))
    return {
        "system": "maestro" if redis_url is None else "maestro-redis",
        "entries": size_label,
        "threshold": threshold,
        "fill_s": fill_s,
        "latency_all": _percentiles(all_t),
        "latency_l3_path": _percentiles(l3_t),
        **_score(workload, answers),
    }


async def _drop_keys(url: str, prefix: str) -> None:
    """Delete what the run left (pointers outlive a clear until their TTL); SCAN, bench only."""
    import redis.asyncio as aioredis

    client = aioredis.Redis.from_url(url)
    try:
        batch: list[bytes] = []
        async for key in client.scan_iter(match=f"{prefix}*", count=1000):
            batch.append(key)
            if len(batch) >= 1000:
                await client.delete(*batch)
                batch.clear()
        if batch:
            await client.delete(*batch)
    finally:
        await client.aclose()


async def _redis_reachable() -> str | None:
    """``None`` when the benchmark's Redis answers, else why the Redis runs are skipped."""
    coord = connect(REDIS_URL)
    try:
        return None if await coord.ping() else f"Redis at {REDIS_URL} did not answer"
    except MaestroError as exc:
        return f"Redis at {REDIS_URL}: {exc}"
    finally:
        await coord.close()


def _gptcache(
    workload: Workload, cosine: float, fillers: list[str], size_label: str, tmp: Path
) -> dict[str, Any]:
    gc: Any = importlib.import_module("gptcache")
    api: Any = importlib.import_module("gptcache.adapter.api")
    mgr: Any = importlib.import_module("gptcache.manager")
    pre: Any = importlib.import_module("gptcache.processor.pre")
    dist: Any = importlib.import_module("gptcache.similarity_evaluation.distance")

    emb = HashingEmbedder()
    n = len(fillers) + len(workload.bases)
    store = "hnswlib" if importlib.util.find_spec("hnswlib") else "numpy"
    if store == "hnswlib":
        inner = mgr.VectorBase(
            "hnswlib",
            dimension=emb.dim,
            max_elements=n + 10,
            index_path=str(tmp / f"h{size_label}.bin"),
        )
        vectors = _vector_store(inner, emb.dim)
    else:
        vectors = _vector_store(None, emb.dim)
    manager = mgr.get_data_manager(
        mgr.CacheBase("sqlite", sql_url=f"sqlite:///{tmp}/g{size_label}.db"), vectors
    )
    cache = gc.Cache()
    # GPTCache compares rank = 4 - squared L2 = 2 + 2 cos against 4 * threshold.
    cache.init(
        pre_embedding_func=pre.get_prompt,
        embedding_func=lambda text, **_: emb.embed_sync([text])[0],
        data_manager=manager,
        similarity_evaluation=dist.SearchDistanceEvaluation(),
        config=gc.Config(similarity_threshold=(1.0 + cosine) / 2.0),
    )
    t0 = time.perf_counter()
    texts = fillers + workload.bases
    answers_in = ["filler"] * len(fillers) + [str(i) for i in range(len(workload.bases))]
    embs = emb.embed_sync(texts)
    manager.import_data(texts, answers_in, list(embs), [None] * len(texts))
    fill_s = time.perf_counter() - t0
    answers: list[tuple[str | None, int | None]] = []
    all_t: list[float] = []
    for q in workload.queries:
        t = time.perf_counter()
        got = api.get(q.text, cache_obj=cache)
        all_t.append(time.perf_counter() - t)
        level = None if got is None else "semantic"
        answers.append((level, int(got) if isinstance(got, str) and got.isdigit() else None))
    return {
        "system": "gptcache",
        "vector_store": store,
        "entries": size_label,
        "threshold": cosine,
        "fill_s": fill_s,
        "latency_all": _percentiles(all_t),
        **_score(workload, answers),
    }


def _vector_store(inner: Any, dim: int) -> Any:
    """A GPTCache VectorBase: ``inner`` (hnswlib) with plain-int ids, or NumPy brute force.

    GPTCache's hnswlib store returns NumPy ``uint64`` ids, which its SQLAlchemy
    scalar store does not match against integer keys under NumPy 2 (every lookup
    misses); this wrapper hands back Python ints.
    """
    base: Any = importlib.import_module("gptcache.manager.vector_data.base")

    class Store(base.VectorBase):  # type: ignore[misc]
        def __init__(self) -> None:
            self.ids: list[int] = []
            self.rows: list[np.ndarray] = []

        def mul_add(self, datas: Any) -> None:
            if inner is not None:
                inner.mul_add(datas)
                return
            for d in datas:
                self.ids.append(int(d.id))
                self.rows.append(np.asarray(d.data, dtype=np.float32))

        def search(self, data: Any, top_k: int = -1) -> Any:
            k = max(1, top_k)
            if inner is not None:
                return [(float(d), int(i)) for d, i in inner.search(data, k)]
            if not self.rows:
                return []
            m = np.stack(self.rows)
            dist = ((m - np.asarray(data, dtype=np.float32)) ** 2).sum(axis=1)
            return [(float(dist[i]), self.ids[int(i)]) for i in np.argsort(dist)[:k]]

        def rebuild(self, ids: Any = None) -> bool:
            return True

        def delete(self, ids: Any) -> bool:
            return True

    return Store()


def _plot(cal: Calibration, raw: Calibration, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for c, label in ((cal, "with meaning guard"), (raw, "embedding only")):
        t = [p.threshold for p in c.points]
        ax.plot(t, [p.precision for p in c.points], "-o", ms=3, label=f"precision, {label}")
        ax.plot(t, [p.recall for p in c.points], "--", label=f"recall, {label}")
    if cal.chosen is not None:
        ax.axvline(cal.chosen, color="grey", lw=1)
        ax.text(cal.chosen, 0.52, f" chosen {cal.chosen}", color="grey")
    ax.set_xlabel("L3 cosine threshold (hashing embedder)")
    ax.set_ylim(0.5, 1.01)
    ax.set_title("Semantic cache: precision/recall on the labelled workload (seed 0)")
    ax.legend(fontsize=7, loc="lower left")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _markdown(result: dict[str, Any]) -> str:
    lines = [
        "# Semantic cache: Maestro vs GPTCache (same hashing embedder)",
        "",
        f"Command: `{result['command']}`. Workload: {result['workload']}.",
        "",
        f"Load average (1/5/15 min) on {result['load_avg']['cpus']} CPUs: "
        f"{result['load_avg']['start']} at the start, {result['load_avg']['end']} at the end; "
        "after each run in the table's last column.",
        "",
        "Redis runs (maestro-redis): "
        + (
            f"at {result['redis']['url']}."
            if result["redis"]["skipped"] is None
            else f"skipped ({result['redis']['skipped']})."
        ),
        "",
        "## Calibration (seed 0), with the meaning guard",
        "",
        "| threshold | precision | recall | false-hit rate |",
        "|---|---|---|---|",
    ]
    for p in result["calibration"]["guarded"]:
        lines.append(
            f"| {p['threshold']:.3f} | {p['precision']:.4f} | {p['recall']:.4f} "
            f"| {p['false_hit_rate']:.4f} |"
        )
    lines += [
        "",
        f"Chosen threshold: **{result['calibration']['chosen']}** (guarded); the embedding alone "
        f"needs {result['calibration']['chosen_unguarded']} for the same false-hit target.",
        "",
        "## Quality and latency (held-out seed 1)",
        "",
        "| system | entries | threshold | hit rate | recall | false-hit rate "
        "| L1/L2/L3 hits | p50 ms | p99 ms | L3-path p99 ms | load after |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in result["runs"]:
        lv = r["hits_by_level"]
        levels = (
            "/".join(str(lv.get(k, 0)) for k in ("L1", "L2", "L3"))
            if r["system"].startswith("maestro")
            else str(lv.get("semantic", 0))
        )
        l3 = r.get("latency_l3_path", {}).get("p99_ms")
        lines.append(
            f"| {r['system']} | {r['entries']} | {r['threshold']:.3f} | {r['hit_rate']:.3f} "
            f"| {r['recall']:.3f} "
            f"| {r['false_hit_rate']:.4f} | {levels} | {r['latency_all']['p50_ms']:.3f} "
            f"| {r['latency_all']['p99_ms']:.3f} | {'' if l3 is None else f'{l3:.3f}'} "
            f"| {r['load_avg_after'][0]} |"
        )
    lines += [
        "",
        "## Ratios (Maestro / GPTCache at the same entries)",
        "",
        "| entries | comparison | recall ratio | false-hit rate (M vs G) | p99 ratio |",
        "|---|---|---|---|---|",
    ]
    for ratio in result["ratios"]:
        lines.append(
            f"| {ratio['entries']} | {ratio['vs']} | {ratio['recall_ratio']:.2f} | "
            f"{ratio['maestro_fhr']:.4f} vs {ratio['gptcache_fhr']:.4f} "
            f"| {ratio['p99_ratio']:.2f} |"
        )
    lines += [
        "",
        "Hit rate by kind (Maestro, largest size):",
        "",
        "```",
        json.dumps(result["runs"][-1]["hit_rate_by_kind"], indent=1),
        "```",
        "",
    ]
    return "\n".join(lines)


async def run(out: Path, quick: bool = False) -> dict[str, Any]:
    """Run the benchmark; writes cache.json, cache.md and cache_curve.png into ``out``."""
    load_start = _load()
    n_bases = 40 if quick else 400
    sizes = [400] if quick else [10_000, 100_000]
    emb = HashingEmbedder()
    calib_wl = generate(n_bases, seed=0)
    held_out = generate(n_bases, seed=1)
    cal = await asyncio.to_thread(calibrate, calib_wl, emb, target_false_hit_rate=0.005)
    raw = await asyncio.to_thread(
        calibrate, calib_wl, emb, guard=False, target_false_hit_rate=0.005
    )
    threshold = cal.chosen if cal.chosen is not None else CacheSettings().threshold
    raw_threshold = raw.chosen if raw.chosen is not None else 1.0
    await asyncio.to_thread(out.mkdir, parents=True, exist_ok=True)
    await asyncio.to_thread(_plot, cal, raw, out / "cache_curve.png")
    all_fillers = filler_prompts(max(sizes) - n_bases)
    runs: list[dict[str, Any]] = []
    redis_skipped = await _redis_reachable()
    ratios: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmpdir:
        for size in sizes:
            fillers = all_fillers[: size - n_bases]
            label = f"{size // 1000}k" if size >= 1000 else str(size)
            m = await _maestro(held_out, threshold, fillers, label)
            m["load_avg_after"] = _load()
            g_same = await asyncio.to_thread(
                _gptcache, held_out, threshold, fillers, label + "a", Path(tmpdir)
            )
            g_same["load_avg_after"] = _load()
            g_own = await asyncio.to_thread(
                _gptcache, held_out, raw_threshold, fillers, label + "b", Path(tmpdir)
            )
            g_own["load_avg_after"] = _load()
            g_same["entries"] = g_own["entries"] = label
            if redis_skipped is None:
                r = await _maestro(held_out, threshold, fillers, label, REDIS_URL)
                r["load_avg_after"] = _load()
                runs.append(r)
            runs += [g_same, g_own, m]
            for g, vs in (
                (g_same, "same threshold"),
                (g_own, "GPTCache at its own calibrated threshold"),
            ):
                ratios.append(
                    {
                        "entries": label,
                        "vs": vs,
                        "recall_ratio": m["recall"] / g["recall"] if g["recall"] else float("inf"),
                        "maestro_fhr": m["false_hit_rate"],
                        "gptcache_fhr": g["false_hit_rate"],
                        "p99_ratio": m["latency_all"]["p99_ms"] / g["latency_all"]["p99_ms"],
                    }
                )
    result: dict[str, Any] = {
        "command": "maestro bench cache" + (" --quick" if quick else ""),
        "workload": f"{n_bases} stored bases; {len(held_out.queries)} held-out queries "
        f"({dict(Counter(q.kind for q in held_out.queries))})",
        "embedder": emb.name,
        "calibration": {
            "chosen": cal.chosen,
            "chosen_unguarded": raw.chosen,
            "target_false_hit_rate": 0.005,
            "guarded": [_point_dict(p) for p in cal.points],
            "unguarded": [_point_dict(p) for p in raw.points],
        },
        "runs": runs,
        "ratios": ratios,
        "load_avg": {"start": load_start, "end": _load(), "cpus": os.cpu_count()},
        "redis": {"url": REDIS_URL, "skipped": redis_skipped},
        "targets": {
            "false_hit_rate_below": TARGET_FALSE_HIT,
            "l3_p99_ms_below_at_100k": 5.0,
        },
    }
    await asyncio.to_thread(_write, out, result)
    return result


def _write(out: Path, result: dict[str, Any]) -> None:
    (out / "cache.json").write_text(json.dumps(result, indent=2) + "\n")
    (out / "cache.md").write_text(_markdown(result))


def _point_dict(p: Any) -> dict[str, Any]:
    return {
        "threshold": p.threshold,
        "precision": p.precision,
        "recall": p.recall,
        "false_hit_rate": p.false_hit_rate,
        "hit_rate_by_kind": p.hit_rate_by_kind,
    }
