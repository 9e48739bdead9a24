"""One Gaussian belief over a linear model's coefficients, updated one outcome at a time.

The building block of :class:`maestro.learning.bandits.linear.LinearThompson`. Coefficient
0 is the intercept, 1..n_arms the strategy effects, the rest named covariates. The
filter also learns its noise from its residuals and watches each strategy for a
drop (CUSUM), because both depend on its own predictions.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["Array", "KalmanFilter"]

Array = npt.NDArray[np.float64]

NOISE_MEMORY = 200.0
"""Observations the noise estimate effectively remembers."""
CUSUM_SLACK = 0.5
"""Shortfall (in sigmas) a single outcome may have before it counts toward a change."""


class KalmanFilter:
    """Mean and covariance of the coefficients, the noise variance and a CUSUM per arm.

    ``drift`` is the variance a strategy effect gains per day (a random walk). With
    ``accel`` > 0 every effect also has a velocity (coefficients ``1 + n_arms ..
    2 * n_arms``) that moves it each day and itself gains ``accel`` variance per day
    (a local linear trend): an effect that has been rising is expected to go on
    rising, which tracks smooth drift with less lag than a random walk.
    """

    def __init__(
        self,
        n_arms: int,
        mean: Array,
        cov: Array,
        var: float,
        floor: float,
        *,
        drift: float,
        accel: float,
    ) -> None:
        self.n_arms = n_arms
        self.mean = mean
        self.cov = cov
        self.var = var
        self.floor = floor
        self.drift = drift
        self.accel = accel
        self.cusum: Array = np.zeros(n_arms)

    @property
    def trend(self) -> bool:
        return self.accel > 0

    @property
    def size(self) -> int:
        """Coefficients before the covariates."""
        return 1 + self.n_arms * (2 if self.trend else 1)

    @classmethod
    def fresh(
        cls,
        n_arms: int,
        *,
        intercept_spread: float,
        effect_spread: float,
        velocity_spread: float,
        noise: float,
        drift: float,
        accel: float,
    ) -> KalmanFilter:
        """The prior: a free intercept, strategy effects around 0, noise ``noise``."""
        spreads = [intercept_spread**2] + [effect_spread**2] * n_arms
        if accel > 0:
            spreads += [velocity_spread**2] * n_arms
        cov = np.diag(spreads)
        return cls(
            n_arms,
            np.zeros(len(spreads)),
            cov,
            noise**2,
            (noise / 4.0) ** 2,
            drift=drift,
            accel=accel,
        )

    def predicted(self, elapsed: float) -> tuple[Array, Array]:
        """Mean and covariance ``elapsed`` days ahead (the state itself is unchanged)."""
        mean, cov = self.mean, self.cov
        if elapsed <= 0:
            return mean, cov
        k = self.n_arms
        eff = np.arange(1, 1 + k)
        if self.trend:
            vel = eff + k
            f = np.eye(len(mean))
            f[eff, vel] = elapsed
            mean = f @ mean
            cov = f @ cov @ f.T
            cov[vel, vel] += self.accel * elapsed
        else:
            cov = cov.copy()
        cov[eff, eff] += self.drift * elapsed
        return mean, cov

    def advance(self, elapsed: float) -> None:
        """Move the belief ``elapsed`` days forward."""
        self.mean, self.cov = self.predicted(elapsed)

    def effects(self) -> Array:
        return self.mean[1 : 1 + self.n_arms].copy()

    def spreads(self) -> Array:
        idx = np.arange(1, 1 + self.n_arms)
        return np.sqrt(np.maximum(self.cov[idx, idx], 0.0))

    def draw(
        self,
        rng: np.random.Generator,
        scale: float,
        ahead: float = 0.0,
        pending: Sequence[int] = (),
    ) -> Array:
        """Strategy effects ``ahead`` days on, drawn from the belief (deviations x ``scale``).

        ``pending`` are strategies already chosen for posts not measured yet: the
        belief is first narrowed as if each had returned its predicted value (the
        "kriging believer"), so a batch of draws does not pile onto one uncertain
        strategy while the mean, and with it a clear winner, stays where it is.
        """
        mean, full = self.predicted(ahead)
        for arm in pending:
            x = np.zeros(len(mean))
            x[0], x[1 + arm] = 1.0, 1.0
            cov_x = full @ x
            full = full - np.outer(cov_x, cov_x) / (float(x @ cov_x) + self.var)
        k = slice(1, 1 + self.n_arms)
        cov = full[k, k]
        try:
            chol = np.linalg.cholesky(cov + 1e-12 * np.eye(self.n_arms))
        except np.linalg.LinAlgError:
            chol = np.diag(np.sqrt(np.maximum(np.diag(cov), 0.0)))
        drawn: Array = mean[k] + scale * (chol @ rng.standard_normal(self.n_arms))
        return drawn

    def grow(self, spread: float) -> None:
        """Add a covariate with a zero-mean prior of sigma ``spread``."""
        n = len(self.mean)
        cov = np.zeros((n + 1, n + 1))
        cov[:n, :n] = self.cov
        cov[n, n] = spread**2
        self.cov = cov
        self.mean = np.append(self.mean, 0.0)

    def widen(self, variance: float) -> None:
        """Let every strategy effect move by ``variance`` (drift or a detected change)."""
        if variance > 0:
            idx = np.arange(1, 1 + self.n_arms)
            self.cov[idx, idx] += variance

    def update(self, x: Array, value: float, seen: int) -> tuple[float, float]:
        """Condition on ``value`` at features ``x``; (standardised residual, log likelihood)."""
        cov_x = self.cov @ x
        predicted = float(self.mean @ x)
        variance = float(x @ cov_x) + self.var
        residual = value - predicted
        gain = cov_x / variance
        self.mean = self.mean + gain * residual
        self.cov = self.cov - np.outer(gain, cov_x)
        self.cov = (self.cov + self.cov.T) / 2.0
        loglik = -0.5 * (math.log(2 * math.pi * variance) + residual * residual / variance)
        # Noise: squared residuals beyond what the coefficients' uncertainty explains.
        excess = residual * residual - (variance - self.var)
        step = 1.0 / min(NOISE_MEMORY, seen + 10.0)
        self.var = max(self.floor, self.var + step * (excess - self.var))
        return residual / math.sqrt(variance), loglik

    def watch(self, arm: int, z: float, threshold: float, spread: float) -> bool:
        """Accumulate ``arm``'s shortfall; on an alarm widen every effect. True on an alarm."""
        if threshold <= 0:
            return False
        self.cusum[arm] = max(0.0, self.cusum[arm] - z - CUSUM_SLACK)
        if self.cusum[arm] <= threshold:
            return False
        self.widen(spread)
        self.cusum[:] = 0.0
        return True

    def dump(self) -> dict[str, Any]:
        return {
            "mean": self.mean.tolist(),
            "cov": self.cov.tolist(),
            "var": self.var,
            "floor": self.floor,
            "cusum": self.cusum.tolist(),
            "drift": self.drift,
            "accel": self.accel,
        }

    @classmethod
    def load(cls, data: dict[str, Any], covariates: int) -> KalmanFilter:
        mean = np.array(data["mean"], dtype=float)
        cov = np.array(data["cov"], dtype=float)
        cusum = np.array(data["cusum"], dtype=float)
        n_arms = len(cusum)
        n = 1 + n_arms * (2 if float(data["accel"]) > 0 else 1) + covariates
        if mean.shape != (n,) or cov.shape != (n, n):
            raise ValueError(f"linear model state does not have {n} coefficients")
        f = cls(
            n_arms,
            mean,
            cov,
            float(data["var"]),
            float(data["floor"]),
            drift=float(data["drift"]),
            accel=float(data["accel"]),
        )
        f.cusum = cusum
        return f
