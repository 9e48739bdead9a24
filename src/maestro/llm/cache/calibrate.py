"""The L3 threshold from a measured precision/recall curve.

Every base of a :class:`~maestro.llm.cache.workload.Workload` is stored, every
query is looked up the way :class:`~maestro.llm.cache.SemanticCache` does (L1,
L2, then the nearest guard-approved L3 candidate), and for each threshold we
count:

* precision: right answers over answers served;
* recall: right answers over queries that should hit;
* false-hit rate: wrong answers over answers served (``1 - precision``).

The threshold chosen is the highest one that meets ``target_false_hit_rate``
while keeping recall within ``recall_slack`` of the best recall that meets it:
where the guard already keeps false hits out, a higher threshold is a margin
against near-misses the workload does not model, bought at no measured recall.

Exact search, so the curve measures the embedder and the guard, not the index.
CPU-bound: call it from a thread.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from maestro.embeddings import Embedder
from maestro.llm.cache.guard import refusal
from maestro.llm.cache.keys import request_keys
from maestro.llm.cache.workload import KINDS, Workload
from maestro.llm.types import CompletionRequest

__all__ = ["DEFAULT_GRID", "Calibration", "CurvePoint", "calibrate"]

DEFAULT_GRID = tuple(round(0.40 + 0.025 * i, 3) for i in range(25))
_CANDIDATES = 8


@dataclass(frozen=True)
class CurvePoint:
    threshold: float
    precision: float
    recall: float
    false_hit_rate: float
    hits: int
    false_hits: int
    hit_rate_by_kind: dict[str, float]


@dataclass(frozen=True)
class Calibration:
    embedder: str
    guard: bool
    target_false_hit_rate: float
    chosen: float | None
    """``None`` when no threshold on the grid meets the target."""
    points: list[CurvePoint]

    def at(self, threshold: float) -> CurvePoint:
        return min(self.points, key=lambda p: abs(p.threshold - threshold))


@dataclass(frozen=True)
class _Outcome:
    kind: str
    exact: bool
    """Answered at L1/L2 (threshold-independent)."""
    score: float
    """Similarity of the best admissible L3 candidate (-1 when none)."""
    correct: bool


def _outcomes(workload: Workload, embedder: Embedder, guard: bool) -> list[_Outcome]:
    stored = [request_keys(CompletionRequest.of(b)) for b in workload.bases]
    by_l1 = {k.l1: i for i, k in enumerate(stored)}
    by_l2 = {k.l2: i for i, k in enumerate(stored)}
    matrix = embedder.embed_sync([k.query for k in stored])
    keys = [request_keys(CompletionRequest.of(q.text)) for q in workload.queries]
    vectors = embedder.embed_sync([k.query for k in keys])
    sims = vectors @ matrix.T
    outcomes: list[_Outcome] = []
    for q, k, row in zip(workload.queries, keys, sims, strict=True):
        exact = by_l1.get(k.l1, by_l2.get(k.l2))
        if exact is not None:
            outcomes.append(_Outcome(q.kind, True, 1.0, q.positive and exact == q.base))
            continue
        best, correct = -1.0, False
        for j in np.argsort(-row)[:_CANDIDATES]:
            if guard and refusal(k.query, stored[int(j)].query) is not None:
                continue
            best, correct = float(row[int(j)]), q.positive and int(j) == q.base
            break
        outcomes.append(_Outcome(q.kind, False, best, correct))
    return outcomes


def _point(outcomes: list[_Outcome], threshold: float, positives: int) -> CurvePoint:
    hits = [o for o in outcomes if o.exact or o.score >= threshold]
    right = sum(o.correct for o in hits)
    per_kind = Counter(o.kind for o in hits)
    totals = Counter(o.kind for o in outcomes)
    return CurvePoint(
        threshold=threshold,
        precision=right / len(hits) if hits else 1.0,
        recall=right / positives if positives else 0.0,
        false_hit_rate=(len(hits) - right) / len(hits) if hits else 0.0,
        hits=len(hits),
        false_hits=len(hits) - right,
        hit_rate_by_kind={k: per_kind[k] / totals[k] for k in KINDS if totals[k]},
    )


def calibrate(
    workload: Workload,
    embedder: Embedder,
    *,
    guard: bool = True,
    grid: tuple[float, ...] = DEFAULT_GRID,
    target_false_hit_rate: float = 0.005,
    recall_slack: float = 0.005,
) -> Calibration:
    """The precision/recall curve over ``grid`` and the threshold it recommends."""
    outcomes = _outcomes(workload, embedder, guard)
    positives = sum(q.positive for q in workload.queries)
    points = [_point(outcomes, t, positives) for t in grid]
    ok = [p for p in points if p.false_hit_rate <= target_false_hit_rate]
    best = max((p.recall for p in ok), default=0.0)
    near_best = [p.threshold for p in ok if p.recall >= best - recall_slack]
    return Calibration(
        embedder=embedder.name,
        guard=guard,
        target_false_hit_rate=target_false_hit_rate,
        chosen=max(near_best) if near_best else None,
        points=points,
    )
