"""Embedders: text to unit vectors, behind one protocol.

``hashing`` (default) hashes word uni/bi-grams and character trigrams into a
fixed-size vector with NumPy only: no weights, no network, deterministic. It
measures surface similarity, not meaning. ``minilm`` (extra ``semantic``) is
registered by :mod:`maestro.llm.cache` helpers when installed.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

__all__ = ["DEFAULT_DIM", "Embedder", "HashingEmbedder", "cosine"]

DEFAULT_DIM = 512
Vector = npt.NDArray[np.float32]
_WORD = re.compile(r"[a-z0-9']+")


@runtime_checkable
class Embedder(Protocol):
    name: str
    dim: int

    def embed_sync(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """Unit vectors, one row per text (CPU work: call from a thread)."""

    async def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """Unit vectors, computed off the event loop."""


class HashingEmbedder:
    """Signed feature hashing of word 1-2 grams and char 3-grams, L2-normalised."""

    name = "hashing"

    def __init__(self, dim: int = DEFAULT_DIM) -> None:
        self.dim = dim

    def _features(self, text: str) -> list[tuple[str, float]]:
        words = _WORD.findall(text.lower())
        feats: list[tuple[str, float]] = [(f"w:{w}", 1.0) for w in words]
        feats += [(f"b:{a}_{b}", 1.0) for a, b in zip(words, words[1:], strict=False)]
        joined = " ".join(words)
        feats += [(f"c:{joined[i:i + 3]}", 0.3) for i in range(max(0, len(joined) - 2))]
        return feats

    def _one(self, text: str) -> Vector:
        vec = np.zeros(self.dim, dtype=np.float32)
        for feat, weight in self._features(text):
            h = int.from_bytes(hashlib.blake2b(feat.encode(), digest_size=8).digest(), "little")
            vec[h % self.dim] += weight if (h >> 63) & 1 else -weight
        norm = float(np.linalg.norm(vec))
        return vec / norm if norm > 0 else vec

    def embed_sync(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self._one(t) for t in texts])

    async def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        return await asyncio.to_thread(self.embed_sync, list(texts))


def cosine(a: Vector, b: Vector) -> float:
    """Cosine similarity of two unit vectors."""
    return float(np.dot(a, b))
