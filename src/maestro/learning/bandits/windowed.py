"""Forgetting bandit policies: discounted and sliding-window Thompson sampling, SW-UCB.

For audiences that drift: :class:`DiscountedThompson` decays all evidence by a
fixed factor per play, and the sliding-window policies (:class:`_WindowPolicy`)
remember only the last ``window`` plays. They stand alone because each forgets
at a rate fixed in advance, unlike the stationary policies (which never forget)
and :class:`~maestro.learning.bandits.adaptive.AdaptiveThompson` (which chooses
its memory from the data).
"""

from __future__ import annotations

import math
from collections import deque
from typing import Any

import numpy as np

from maestro.learning.bandits.base import (
    DEFAULT_GAMMA,
    DEFAULT_SW_UCB_XI,
    DEFAULT_WINDOW,
    Policy,
    _check_int,
    _check_range,
)

__all__ = ["DiscountedThompson", "SlidingWindowThompson", "SlidingWindowUCB"]


class DiscountedThompson(Policy):
    """Discounted Thompson sampling (Raj & Kalyani 2017): all evidence decays by ``gamma``."""

    name = "discounted-thompson"

    def __init__(
        self,
        n_arms: int,
        *,
        seed: int | None = None,
        gamma: float = DEFAULT_GAMMA,
        prior_alpha: float = 1.0,
        prior_beta: float = 1.0,
    ) -> None:
        super().__init__(n_arms, seed=seed)
        self.gamma = _check_range("gamma", gamma, 0.0, 1.0, open_lo=True)
        self.prior_alpha = _check_range("prior_alpha", prior_alpha, 0.0, 1e6, open_lo=True)
        self.prior_beta = _check_range("prior_beta", prior_beta, 0.0, 1e6, open_lo=True)
        self._s = np.zeros(self.n_arms)
        self._f = np.zeros(self.n_arms)

    def params(self) -> dict[str, Any]:
        return {"gamma": self.gamma, "prior_alpha": self.prior_alpha, "prior_beta": self.prior_beta}

    def _select(self) -> int:
        draws = self._rng.beta(self.prior_alpha + self._s, self.prior_beta + self._f)
        return self._argmax(draws)

    def _update(self, arm: int, reward: float) -> None:
        self._s *= self.gamma
        self._f *= self.gamma
        self._s[arm] += reward
        self._f[arm] += 1.0 - reward

    def _dump(self) -> dict[str, Any]:
        return {"s": self._s.tolist(), "f": self._f.tolist()}

    def _load(self, data: dict[str, Any]) -> None:
        self._s = np.array(data["s"], dtype=float)
        self._f = np.array(data["f"], dtype=float)


class _WindowPolicy(Policy):
    """A policy that only remembers the last ``window`` plays."""

    def __init__(self, n_arms: int, *, seed: int | None = None, window: int) -> None:
        super().__init__(n_arms, seed=seed)
        self.window = _check_int("window", window, 1)
        self._plays: deque[tuple[int, float]] = deque()
        self._sums = np.zeros(self.n_arms)
        self._counts = np.zeros(self.n_arms)

    def _update(self, arm: int, reward: float) -> None:
        self._plays.append((arm, reward))
        self._sums[arm] += reward
        self._counts[arm] += 1
        if len(self._plays) > self.window:
            old_arm, old_reward = self._plays.popleft()
            self._sums[old_arm] -= old_reward
            self._counts[old_arm] -= 1
            if self._counts[old_arm] == 0:
                self._sums[old_arm] = 0.0  # no floating residue once an arm leaves the window

    def _dump(self) -> dict[str, Any]:
        return {"plays": [[a, r] for a, r in self._plays]}

    def _load(self, data: dict[str, Any]) -> None:
        self._plays = deque()
        self._sums = np.zeros(self.n_arms)
        self._counts = np.zeros(self.n_arms)
        for arm, reward in data["plays"]:
            self._plays.append((int(arm), float(reward)))
            self._sums[int(arm)] += float(reward)
            self._counts[int(arm)] += 1


class SlidingWindowThompson(_WindowPolicy):
    """Beta Thompson sampling over the last ``window`` plays."""

    name = "sliding-window-thompson"

    def __init__(
        self, n_arms: int, *, seed: int | None = None, window: int = DEFAULT_WINDOW
    ) -> None:
        super().__init__(n_arms, seed=seed, window=window)

    def params(self) -> dict[str, Any]:
        return {"window": self.window}

    def _select(self) -> int:
        a = 1.0 + self._sums
        b = 1.0 + np.maximum(self._counts - self._sums, 0.0)
        return self._argmax(self._rng.beta(a, b))


class SlidingWindowUCB(_WindowPolicy):
    """SW-UCB (Garivier & Moulines 2011): windowed mean + ``sqrt(xi ln(min(t, W)) / n)``."""

    name = "sliding-window-ucb"

    def __init__(
        self,
        n_arms: int,
        *,
        seed: int | None = None,
        window: int = DEFAULT_WINDOW,
        xi: float = DEFAULT_SW_UCB_XI,
    ) -> None:
        super().__init__(n_arms, seed=seed, window=window)
        self.xi = _check_range("xi", xi, 0.0, 1e6)

    def params(self) -> dict[str, Any]:
        return {"window": self.window, "xi": self.xi}

    def _select(self) -> int:
        unseen = np.flatnonzero(self._counts == 0)
        if unseen.size:
            return int(unseen[0])
        horizon = max(2, min(self.t, self.window))
        bonus = np.sqrt(self.xi * math.log(horizon) / self._counts)
        return self._argmax(self._sums / self._counts + bonus)
