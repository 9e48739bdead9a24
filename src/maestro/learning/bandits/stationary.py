"""Stationary bandit policies: Thompson sampling, UCB1 and epsilon-greedy.

These policies remember every play since they started (a sum of rewards and a
count of plays per arm, :class:`_CountingPolicy`), so they suit audiences that do
not change. They stand alone because they share that counting state and nothing
else with the windowed and adaptive policies.
"""

from __future__ import annotations

import math
from typing import Any, Literal

import numpy as np

from maestro.errors import ValidationError
from maestro.learning.bandits.base import DEFAULT_EPSILON, Policy, _check_range

__all__ = ["UCB1", "EpsilonGreedy", "Thompson"]


class _CountingPolicy(Policy):
    """A policy whose data is a sum of rewards and a count of plays per arm."""

    def __init__(self, n_arms: int, *, seed: int | None = None) -> None:
        super().__init__(n_arms, seed=seed)
        self._sums = np.zeros(self.n_arms)
        self._counts = np.zeros(self.n_arms)

    def _update(self, arm: int, reward: float) -> None:
        self._sums[arm] += reward
        self._counts[arm] += 1

    def _dump(self) -> dict[str, Any]:
        return {"sums": self._sums.tolist(), "counts": self._counts.tolist()}

    def _load(self, data: dict[str, Any]) -> None:
        self._sums = np.array(data["sums"], dtype=float)
        self._counts = np.array(data["counts"], dtype=float)


class Thompson(_CountingPolicy):
    """Thompson sampling with a Beta (Bernoulli-like rewards) or Gaussian posterior."""

    name = "thompson"

    def __init__(
        self,
        n_arms: int,
        *,
        seed: int | None = None,
        likelihood: Literal["beta", "gaussian"] = "beta",
        prior_alpha: float = 1.0,
        prior_beta: float = 1.0,
        sigma: float = 0.5,
    ) -> None:
        super().__init__(n_arms, seed=seed)
        if likelihood not in ("beta", "gaussian"):
            raise ValidationError(
                f"likelihood {likelihood!r} is not 'beta' or 'gaussian'", field="likelihood"
            )
        self.likelihood = likelihood
        self.prior_alpha = _check_range("prior_alpha", prior_alpha, 0.0, 1e6, open_lo=True)
        self.prior_beta = _check_range("prior_beta", prior_beta, 0.0, 1e6, open_lo=True)
        self.sigma = _check_range("sigma", sigma, 0.0, 1e6, open_lo=True)

    def params(self) -> dict[str, Any]:
        return {
            "likelihood": self.likelihood,
            "prior_alpha": self.prior_alpha,
            "prior_beta": self.prior_beta,
            "sigma": self.sigma,
        }

    def _select(self) -> int:
        if self.likelihood == "beta":
            a = self.prior_alpha + self._sums
            b = self.prior_beta + self._counts - self._sums
            return self._argmax(self._rng.beta(a, b))
        # Gaussian posterior with one pseudo observation of 0.5 as the prior.
        n = self._counts + 1.0
        draws = self._rng.normal((self._sums + 0.5) / n, self.sigma / np.sqrt(n))
        return self._argmax(draws)


class UCB1(_CountingPolicy):
    """UCB1 (Auer et al. 2002): mean plus ``c * sqrt(2 ln t / n)``; each arm once first."""

    name = "ucb1"

    def __init__(self, n_arms: int, *, seed: int | None = None, c: float = 1.0) -> None:
        super().__init__(n_arms, seed=seed)
        self.c = _check_range("c", c, 0.0, 1e6)

    def params(self) -> dict[str, Any]:
        return {"c": self.c}

    def _select(self) -> int:
        unplayed = np.flatnonzero(self._counts == 0)
        if unplayed.size:
            return int(unplayed[0])
        total = self._counts.sum()
        bonus = self.c * np.sqrt(2.0 * math.log(total) / self._counts)
        return self._argmax(self._sums / self._counts + bonus)


class EpsilonGreedy(_CountingPolicy):
    """The best mean so far, or a uniformly random arm with probability ``epsilon``."""

    name = "epsilon-greedy"

    def __init__(
        self, n_arms: int, *, seed: int | None = None, epsilon: float = DEFAULT_EPSILON
    ) -> None:
        super().__init__(n_arms, seed=seed)
        self.epsilon = _check_range("epsilon", epsilon, 0.0, 1.0)

    def params(self) -> dict[str, Any]:
        return {"epsilon": self.epsilon}

    def _select(self) -> int:
        if self._rng.random() < self.epsilon:
            return int(self._rng.integers(self.n_arms))
        means = np.where(self._counts > 0, self._sums / np.maximum(self._counts, 1), np.inf)
        return self._argmax(means)
