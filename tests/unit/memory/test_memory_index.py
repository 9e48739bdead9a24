"""The exact cosine index: same answers as a brute-force reference, with filters."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from hypothesis import given, settings
from hypothesis import strategies as st

from maestro.memory.index import VectorIndex


def unit_rows(rng: np.random.Generator, n: int, dim: int) -> npt.NDArray[np.float32]:
    v = rng.standard_normal((n, dim)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def build(n: int, dim: int = 16, seed: int = 0) -> tuple[VectorIndex, npt.NDArray[np.float32]]:
    rng = np.random.default_rng(seed)
    vecs = unit_rows(rng, n, dim)
    index = VectorIndex(dim)
    index.add(
        [f"t{i}" for i in range(n)],
        vecs,
        [float(i) for i in range(n)],
        [i % 2 == 0 for i in range(n)],
        ["blog" if i % 3 == 0 else "email" for i in range(n)],
    )
    return index, vecs


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 300), k=st.integers(1, 20), seed=st.integers(0, 10_000))
def test_top_k_equals_brute_force(n: int, k: int, seed: int) -> None:
    index, vecs = build(n, seed=seed)
    q = unit_rows(np.random.default_rng(seed + 1), 1, 16)[0]
    hits = index.search(q, k, min_score=-1.0)
    expected = np.argsort(-(vecs @ q), kind="stable")[: min(k, n)]
    assert [h[0] for h in hits] == [f"t{i}" for i in expected]
    scores = [s for _, s in hits]
    assert scores == sorted(scores, reverse=True)


def test_filters_by_age_success_type_and_score() -> None:
    index, vecs = build(200)
    q = vecs[10]
    assert index.search(q, 1)[0] == ("t10", index.search(q, 1)[0][1])
    recent = index.search(q, 300, not_before=150.0, min_score=-1.0)
    assert len(recent) == 50 and all(int(i[1:]) >= 150 for i, _ in recent)
    ok = index.search(q, 300, success_only=True, min_score=-1.0)
    assert len(ok) == 100 and all(int(i[1:]) % 2 == 0 for i, _ in ok)
    blogs = index.search(q, 300, task_type="blog", min_score=-1.0)
    assert all(int(i[1:]) % 3 == 0 for i, _ in blogs)
    assert index.search(q, 5, task_type="unknown") == []
    assert all(s >= 0.5 for _, s in index.search(q, 300, min_score=0.5))


def test_grows_past_capacity_skips_known_ids_and_drops_old_rows() -> None:
    index, vecs = build(1000)
    assert len(index) == 1000 and "t999" in index
    assert index.add(["t0"], vecs[:1], [0.0], [True], ["blog"]) == 0
    assert index.drop_before(900.0) == 900
    assert len(index) == 100 and "t0" not in index
    hit, score = index.search(vecs[950], 1)[0]
    assert hit == "t950" and score > 0.999
    assert index.search(vecs[5], 3, min_score=-1.0)[0][0] != "t5"


def test_empty_index_answers_nothing() -> None:
    index = VectorIndex(8)
    assert index.search(np.ones(8, dtype=np.float32), 5) == []
