"""The default bandit policy: adaptive Thompson sampling with change-point detection.

:class:`AdaptiveThompson` follows both gradual drift (a choice among several
memory lengths, scored by how well each predicts the rewards) and abrupt change
(a Bernoulli GLR change-point test per arm), without being told how often
either happens. It stands alone because it is the largest policy and the
default (``adaptive``), with its own state layout and statistics.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from maestro.errors import ValidationError
from maestro.learning.bandits.base import (
    _KL_EPS,
    DEFAULT_GLR_CHECK_EVERY,
    DEFAULT_GLR_DELTA,
    DEFAULT_GLR_MAX_HISTORY,
    DEFAULT_GLR_MIN_SEGMENT,
    DEFAULT_GLR_SPLITS,
    DEFAULT_MEMORIES,
    DEFAULT_RESTART_MEMORY,
    DEFAULT_SCORE_MEMORY,
    DEFAULT_SWITCH_MARGIN,
    Policy,
    _check_int,
    _check_range,
)

__all__ = ["AdaptiveThompson"]


def _kl_bernoulli(p: Any, q: Any) -> Any:
    p = np.clip(p, _KL_EPS, 1 - _KL_EPS)
    q = np.clip(q, _KL_EPS, 1 - _KL_EPS)
    return p * np.log(p / q) + (1 - p) * np.log((1 - p) / (1 - q))


class AdaptiveThompson(Policy):
    """Thompson sampling over a set of memories, with a GLR change-point test per arm.

    Two mechanisms, one for each kind of change, neither told how often it happens:

    * Gradual drift: the policy keeps Beta evidence under several memories at once
      (``memories``: sliding windows of that many plays, 0 meaning everything since
      the last restart) and scores each by how well it predicted the rewards it was
      shown (a log score that itself forgets over ``score_memory`` steps). It samples
      from the unlimited memory unless a window out-predicts it by more than
      ``switch_margin`` nats: the long memory while the audience is stable, a
      shorter one while it drifts.
    * Abrupt change: every ``check_every`` plays of an arm, the Bernoulli GLR test
      (Besson & Kaufmann 2020) looks for a change point in that arm's recent
      rewards, with false-alarm probability at most ``delta`` per test. On a change
      the arm keeps only its post-change rewards and every other arm's evidence
      shrinks to ``restart_memory`` pseudo observations at its current mean, so the
      policy re-explores at once (finding an arm that improved unplayed).
    """

    name = "adaptive"

    def __init__(
        self,
        n_arms: int,
        *,
        seed: int | None = None,
        memories: list[int] | tuple[int, ...] = DEFAULT_MEMORIES,
        score_memory: int = DEFAULT_SCORE_MEMORY,
        switch_margin: float = DEFAULT_SWITCH_MARGIN,
        delta: float = DEFAULT_GLR_DELTA,
        check_every: int = DEFAULT_GLR_CHECK_EVERY,
        min_segment: int = DEFAULT_GLR_MIN_SEGMENT,
        max_history: int = DEFAULT_GLR_MAX_HISTORY,
        splits: int = DEFAULT_GLR_SPLITS,
        restart_memory: float = DEFAULT_RESTART_MEMORY,
        reset_scores: bool = True,
    ) -> None:
        super().__init__(n_arms, seed=seed)
        self.reset_scores = bool(reset_scores)
        if not memories:
            raise ValidationError("memories must not be empty", field="memories")
        self.memories = [_check_int("memories", m, 0) for m in memories]
        self.score_memory = _check_int("score_memory", score_memory, 1)
        self.switch_margin = _check_range("switch_margin", switch_margin, 0.0, 1e6)
        self.delta = _check_range("delta", delta, 0.0, 1.0, open_lo=True)
        self.check_every = _check_int("check_every", check_every, 1)
        self.min_segment = _check_int("min_segment", min_segment, 1)
        self.max_history = _check_int("max_history", max_history, 2 * self.min_segment)
        self.splits = _check_int("splits", splits, 1)
        self.restart_memory = _check_range("restart_memory", restart_memory, 0.0, 1e6)
        self._windows = [(j, m) for j, m in enumerate(self.memories) if m > 0]
        self._span = max((m for m in self.memories), default=0)
        self._score_decay = 1.0 - 1.0 / self.score_memory
        shape = (len(self.memories), self.n_arms)
        self._s = np.zeros(shape)
        self._f = np.zeros(shape)
        self._arms: list[int] = []
        self._rewards: list[float] = []
        self._score = np.zeros(len(self.memories))
        self._cum: list[list[float]] = [[0.0] for _ in range(self.n_arms)]
        self._since = [0] * self.n_arms
        self.restarts = 0

    def params(self) -> dict[str, Any]:
        return {
            "memories": list(self.memories),
            "score_memory": self.score_memory,
            "switch_margin": self.switch_margin,
            "delta": self.delta,
            "check_every": self.check_every,
            "min_segment": self.min_segment,
            "max_history": self.max_history,
            "splits": self.splits,
            "restart_memory": self.restart_memory,
            "reset_scores": self.reset_scores,
        }

    @property
    def memory(self) -> int:
        """The memory (0 = unlimited) the policy currently samples from."""
        return self.memories[self._current()]

    def _current(self) -> int:
        # The first memory is the default; another must out-predict it by a margin.
        lead = self._score - self._score[0] - self.switch_margin
        lead[0] = 0.0
        return int(np.argmax(lead))

    def _select(self) -> int:
        j = self._current()
        return int(np.argmax(self._rng.beta(1.0 + self._s[j], 1.0 + self._f[j])))

    def _update(self, arm: int, reward: float) -> None:
        s, f = self._s[:, arm], self._f[:, arm]
        p = np.clip((1.0 + s) / (2.0 + s + f), _KL_EPS, 1.0 - _KL_EPS)
        loglik = reward * np.log(p) + (1.0 - reward) * np.log1p(-p)
        self._score = self._score * self._score_decay + loglik
        self._s[:, arm] += reward
        self._f[:, arm] += 1.0 - reward
        self._forget(arm, reward)
        cum = self._cum[arm]
        cum.append(cum[-1] + reward)
        if len(cum) > 2 * self.max_history:
            del cum[: len(cum) - self.max_history - 1]
        self._since[arm] += 1
        if self._since[arm] >= self.check_every:
            self._since[arm] = 0
            split = self._change_point(cum)
            if split is not None:
                self._restart(arm, split)

    def _forget(self, arm: int, reward: float) -> None:
        """Append the play to the ring of recent plays; drop what left each window."""
        if not self._span:
            return
        slot = (self.t - 1) % self._span
        if len(self._arms) < self._span:
            self._arms.append(arm)
            self._rewards.append(reward)
        else:
            self._arms[slot], self._rewards[slot] = arm, reward
        for j, w in self._windows:
            if self.t > w:
                old = (self.t - 1 - w) % self._span
                a, r = self._arms[old], self._rewards[old]
                self._s[j, a] -= r
                self._f[j, a] -= 1.0 - r

    def _change_point(self, cum: list[float]) -> int | None:
        start = max(0, len(cum) - 1 - self.max_history)
        n = len(cum) - 1 - start
        m = self.min_segment
        if n < 2 * m:
            return None
        stride = max(1, (n - 2 * m) // self.splits)
        s = np.arange(m, n - m + 1, stride)
        base = cum[start]
        head = np.array([cum[start + i] for i in s.tolist()]) - base
        total = cum[-1] - base
        mean = total / n
        stat = s * _kl_bernoulli(head / s, mean) + (n - s) * _kl_bernoulli(
            (total - head) / (n - s), mean
        )
        best = int(np.argmax(stat))
        if stat[best] > math.log(3.0 * n**1.5 / self.delta):
            return start + int(s[best])
        return None

    def _restart(self, arm: int, split: int) -> None:
        self.restarts += 1
        kept = self._cum[arm][split:]
        n, total = len(kept) - 1, kept[-1] - kept[0]
        # Only the unlimited memories restart; windows forget by themselves.
        rows = [j for j, m in enumerate(self.memories) if m == 0]
        s, f = self._s[rows], self._f[rows]
        evidence = s + f
        keep = np.minimum(evidence, self.restart_memory)
        mean = np.where(evidence > 0, s / np.maximum(evidence, _KL_EPS), 0.5)
        s, f = mean * keep, (1.0 - mean) * keep
        s[:, arm], f[:, arm] = total, n - total
        self._s[rows], self._f[rows] = s, f
        self._cum = [[0.0] for _ in range(self.n_arms)]
        self._cum[arm] = kept
        if self.reset_scores:
            self._score[:] = 0.0
        self._since = [0] * self.n_arms

    def _dump(self) -> dict[str, Any]:
        return {
            "s": self._s.tolist(),
            "f": self._f.tolist(),
            "score": self._score.tolist(),
            "arms": list(self._arms),
            "rewards": list(self._rewards),
            "cum": [list(c) for c in self._cum],
            "since": list(self._since),
            "restarts": self.restarts,
        }

    def _load(self, data: dict[str, Any]) -> None:
        self._s = np.array(data["s"], dtype=float)
        self._f = np.array(data["f"], dtype=float)
        self._score = np.array(data["score"], dtype=float)
        self._arms = [int(a) for a in data["arms"]]
        self._rewards = [float(r) for r in data["rewards"]]
        self._cum = [[float(x) for x in c] for c in data["cum"]]
        self._since = [int(x) for x in data["since"]]
        self.restarts = int(data["restarts"])
