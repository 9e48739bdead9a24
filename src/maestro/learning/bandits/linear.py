"""Thompson sampling on a linear model of log engagement that follows a moving audience.

The studio knows more about each post than which strategy wrote it: it chose the
topic and the hour and it measured the quality. A bandit that only sees a squashed
reward treats those known effects as noise and needs many more posts to tell
strategies apart. :class:`LinearThompson` instead models the value it is shown
(the studio feeds log engagement) as::

    value = intercept + effect[strategy] + sum(coef[name] * covariate[name]) + noise

and keeps a Gaussian belief over all the coefficients, updated by a Kalman filter.
Three mechanisms make it fit an audience that moves:

* Drift: before each observation the belief about every strategy effect widens by
  a drift variance per day elapsed, so old evidence fades and unplayed strategies
  become worth a new look. How fast the audience drifts is not known in advance,
  so the policy runs one filter per rate in ``drifts`` (0 = stationary) on the
  same observations and samples from the one whose recent predictions were best
  (a log score forgetting over ``score_memory`` observations). A stable audience
  keeps its evidence; a drifting one is followed.
* Change: a one-sided CUSUM per strategy accumulates how far below the prediction
  its outcomes fall, in standard deviations. When it crosses ``change_threshold``
  every strategy's belief widens by ``change_spread`` (variance) and the
  population re-explores at once: a switch costs days, not weeks.
* Exploration: :meth:`LinearThompson.select` draws the coefficients from the belief
  and picks the strategy whose drawn effect is highest; covariates are common to
  every strategy and cancel out of the choice.

Covariate names are open-ended (``topic=sleep``, ``quality``...): a name seen for
the first time joins the model with a zero-mean prior of ``covariate_spread``. The
whole state is JSON-able and restoring it continues the same random stream.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from maestro.errors import ValidationError
from maestro.learning.bandits.base import Policy, _check_arm, _check_range
from maestro.learning.kalman import Array, KalmanFilter

__all__ = ["DEFAULT_DYNAMICS", "LINEAR_POLICY", "LinearThompson"]

LINEAR_POLICY = "linear-thompson"
DEFAULT_NOISE = 0.35
"""Prior guess of the noise (log scale) around the model; learned from the residuals."""
DEFAULT_EFFECT_SPREAD = 0.5
"""Prior sigma of a strategy effect: strategies differ by tens of percent."""
DEFAULT_COVARIATE_SPREAD = 0.3
DEFAULT_INTERCEPT_SPREAD = 2.0
DEFAULT_DYNAMICS: tuple[tuple[float, float], ...] = ((0.0, 0.0), (0.01, 0.0), (0.03, 0.0))
"""Candidate (drift, accel): variance per day of a strategy effect, and of its velocity.

A stable audience, a slowly and a fast drifting one. A local linear trend (accel > 0)
is available but did not beat the random walks in the studio replay, so it is off."""
DEFAULT_VELOCITY_SPREAD = 0.1
DEFAULT_SCORE_MEMORY = 60.0
DEFAULT_CHANGE_THRESHOLD = 3.0
"""CUSUM alarm level, in standard deviations of shortfall beyond the slack."""
DEFAULT_CHANGE_SPREAD = 0.3
"""Variance added to every strategy effect on an alarm (sigma ~0.55: all plausible again)."""
DEFAULT_EXPLORATION = 0.6
"""Scale of a Thompson draw's deviation from the mean (1 = the posterior itself).

Below 1 because a burst makes several posts from one belief: independent full draws
spend too many of them on strategies that are only plausible (the replay of the
studio's slots scored 0.6 best among 0.3-1.0)."""


class LinearThompson(Policy):
    """Kalman-filtered linear models over strategy effects and named covariates."""

    name = LINEAR_POLICY

    def __init__(
        self,
        n_arms: int,
        *,
        seed: int | None = None,
        noise: float = DEFAULT_NOISE,
        effect_spread: float = DEFAULT_EFFECT_SPREAD,
        covariate_spread: float = DEFAULT_COVARIATE_SPREAD,
        intercept_spread: float = DEFAULT_INTERCEPT_SPREAD,
        dynamics: Sequence[Sequence[float]] = DEFAULT_DYNAMICS,
        velocity_spread: float = DEFAULT_VELOCITY_SPREAD,
        score_memory: float = DEFAULT_SCORE_MEMORY,
        change_threshold: float = DEFAULT_CHANGE_THRESHOLD,
        change_spread: float = DEFAULT_CHANGE_SPREAD,
        exploration: float = DEFAULT_EXPLORATION,
    ) -> None:
        super().__init__(n_arms, seed=seed)
        self.noise = _check_range("noise", noise, 0.0, 100.0, open_lo=True)
        self.effect_spread = _check_range("effect_spread", effect_spread, 0.0, 100.0, open_lo=True)
        self.covariate_spread = _check_range(
            "covariate_spread", covariate_spread, 0.0, 100.0, open_lo=True
        )
        self.intercept_spread = _check_range(
            "intercept_spread", intercept_spread, 0.0, 1e3, open_lo=True
        )
        if not dynamics or any(len(d) != 2 for d in dynamics):
            raise ValidationError("dynamics must be (drift, accel) pairs", field="dynamics")
        self.dynamics = [
            (_check_range("drift", d, 0.0, 100.0), _check_range("accel", a, 0.0, 100.0))
            for d, a in dynamics
        ]
        self.velocity_spread = _check_range(
            "velocity_spread", velocity_spread, 0.0, 100.0, open_lo=True
        )
        self.score_memory = _check_range("score_memory", score_memory, 1.0, 1e9)
        self.change_threshold = _check_range("change_threshold", change_threshold, 0.0, 1e6)
        self.change_spread = _check_range("change_spread", change_spread, 0.0, 100.0)
        self.exploration = _check_range("exploration", exploration, 0.0, 10.0)
        self.covariates: list[str] = []
        self.changes = 0
        self._filters = [
            KalmanFilter.fresh(
                n_arms,
                intercept_spread=intercept_spread,
                effect_spread=effect_spread,
                velocity_spread=velocity_spread,
                noise=noise,
                drift=d,
                accel=a,
            )
            for d, a in self.dynamics
        ]
        self._score: Array = np.zeros(len(self.dynamics))
        self._at: float | None = None

    def params(self) -> dict[str, Any]:
        return {
            "noise": self.noise,
            "effect_spread": self.effect_spread,
            "covariate_spread": self.covariate_spread,
            "intercept_spread": self.intercept_spread,
            "dynamics": [list(d) for d in self.dynamics],
            "velocity_spread": self.velocity_spread,
            "score_memory": self.score_memory,
            "change_threshold": self.change_threshold,
            "change_spread": self.change_spread,
            "exploration": self.exploration,
        }

    # ------------------------------------------------------------------ beliefs
    @property
    def current(self) -> tuple[float, float]:
        """(drift, accel) of the filter the policy currently samples from."""
        return self.dynamics[self._current()]

    def effects(self) -> Array:
        """Posterior mean of every strategy effect (relative: only differences matter)."""
        return self._filters[self._current()].effects()

    def spreads(self) -> Array:
        """Posterior sigma of every strategy effect."""
        return self._filters[self._current()].spreads()

    def draw(self, at: float | None = None, pending: Sequence[int] = ()) -> Array:
        """One Thompson draw of the strategy effects at ``at`` (days; default: the last outcome).

        ``pending``: strategies already chosen for posts whose outcome is not known
        yet (the rest of a burst); see :meth:`KalmanFilter.draw`.
        """
        ahead = 0.0
        if at is not None and self._at is not None and math.isfinite(at):
            ahead = max(0.0, at - self._at)
        for arm in pending:
            _check_arm(arm, self.n_arms)
        f = self._filters[self._current()]
        return f.draw(self._rng, self.exploration, ahead, pending)

    def choose(self, at: float | None = None, pending: Sequence[int] = ()) -> int:
        """The strategy to write with at ``at`` (days): the best of one Thompson draw."""
        return self._argmax(self.draw(at, pending))

    def _current(self) -> int:
        return int(np.argmax(self._score))

    # ------------------------------------------------------------------ learning
    def observe(
        self,
        arm: int,
        value: float,
        covariates: Mapping[str, float] | None = None,
        *,
        at: float | None = None,
    ) -> float:
        """Learn that ``arm`` with ``covariates`` at ``at`` (days) gave ``value``.

        Returns:
            The surprise ``(value - prediction) / predictive sigma`` of the filter
            the policy samples from.
        """
        a = _check_arm(arm, self.n_arms)
        if not math.isfinite(value):
            raise ValidationError(f"value {value!r} is not finite", field="value")
        cov = dict(covariates or {})
        for name, v in cov.items():
            if not math.isfinite(v):
                raise ValidationError(f"covariate {name!r} is not finite", field="covariates")
        for name in sorted(cov):
            if name not in self.covariates:
                self.covariates.append(name)
                for f in self._filters:
                    f.grow(self.covariate_spread)
        self.t += 1
        elapsed = 0.0
        if at is not None and math.isfinite(at):
            if self._at is not None and at > self._at:
                elapsed = at - self._at
            self._at = at if self._at is None else max(self._at, at)
        current = self._current()
        decay = 1.0 - 1.0 / self.score_memory
        surprise = 0.0
        for j, f in enumerate(self._filters):
            x = np.zeros(len(f.mean))
            x[0], x[1 + a] = 1.0, 1.0
            for name, v in cov.items():
                x[f.size + self.covariates.index(name)] = float(v)
            f.advance(elapsed)
            if self.t == 1:
                f.mean[0] = value  # the first outcome sets the level the effects move around
            z, loglik = f.update(x, value, self.t)
            self._score[j] = self._score[j] * decay + loglik
            if f.watch(a, z, self.change_threshold, self.change_spread) and j == current:
                self.changes += 1
            if j == current:
                surprise = z
        return surprise

    def _update(self, arm: int, reward: float) -> None:
        # The plain bandit interface: a reward is a value without covariates or time.
        self.t -= 1  # observe() counts the play itself
        self.observe(arm, reward)

    def _select(self) -> int:
        return self._argmax(self.draw())

    # ------------------------------------------------------------------ state
    def _dump(self) -> dict[str, Any]:
        return {
            "covariates": list(self.covariates),
            "filters": [f.dump() for f in self._filters],
            "score": self._score.tolist(),
            "at": self._at,
            "changes": self.changes,
        }

    def _load(self, data: dict[str, Any]) -> None:
        self.covariates = [str(c) for c in data["covariates"]]
        filters = [KalmanFilter.load(d, len(self.covariates)) for d in data["filters"]]
        if len(filters) != len(self.dynamics):
            raise ValueError(f"{len(filters)} filters stored for {len(self.dynamics)} dynamics")
        self._filters = filters
        self._score = np.array(data["score"], dtype=float)
        self._at = None if data["at"] is None else float(data["at"])
        self.changes = int(data["changes"])
