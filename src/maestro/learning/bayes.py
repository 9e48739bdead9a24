"""Analysis of experiments: Bayesian posteriors and an always-valid stopping rule.

Bayesian analysis (reported by ``analyze``): binary metrics get a Beta(1, 1) prior
and a Beta posterior; continuous metrics the Jeffreys prior, whose posterior for
the mean is Student's t with ``n - 1`` degrees of freedom around the sample mean.
Monte Carlo draws from the posteriors give each variant's probability to be best
and expected loss ``E[max_k theta_k - theta_i]``; credible intervals are exact
quantiles.

Sequential stopping (what may end an experiment early): each variant's mean gets
a time-uniform confidence sequence (Robbins' normal mixture, Howard et al. 2021)
for outcomes bounded in ``[lo, hi]``, at level ``alpha / K``. With probability at
least ``1 - alpha`` every sequence holds at every sample size simultaneously,
whatever the allocation and however often one looks. A winner is declared only
when its lower bound is above every other variant's upper bound, so the chance of
ever declaring a variant that is not the best (in particular, any winner at all
in an A/A test) is at most ``alpha``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

__all__ = [
    "Analysis",
    "MetricType",
    "Posterior",
    "VariantResult",
    "VariantStats",
    "analyze",
    "confidence_sequence",
    "mixture_rho",
    "sequential_winner",
]

MetricType = Literal["binary", "continuous"]


@dataclass(frozen=True)
class VariantStats:
    """Sufficient statistics of one variant's outcomes."""

    n: int
    total: float
    total_sq: float

    @property
    def mean(self) -> float | None:
        return self.total / self.n if self.n else None


@dataclass(frozen=True)
class Posterior:
    """What the data say about one variant's mean."""

    mean: float
    ci_low: float
    ci_high: float
    prob_best: float
    expected_loss: float


@dataclass(frozen=True)
class VariantResult:
    """One variant in an :class:`Analysis`."""

    variant_id: str
    name: str
    n: int
    mean: float | None
    ci_low: float
    ci_high: float
    prob_best: float
    expected_loss: float


@dataclass(frozen=True)
class Analysis:
    """What an experiment's data say now.

    ``bayesian_winner_variant_id`` is the leader once every variant has
    ``min_sample_size`` outcomes, its probability to be best reaches the confidence
    level and its expected loss is at most ``min_effect_size`` of its mean (a
    fixed-horizon rule: peeking at it repeatedly has no error guarantee).
    ``sequential_winner_variant_id`` is the always-valid decision of
    :func:`sequential_winner`.
    """

    experiment_id: str
    status: str
    metric_type: str
    confidence_level: float
    outcomes: int
    variants: list[VariantResult]
    leader_variant_id: str
    bayesian_winner_variant_id: str | None
    sequential_winner_variant_id: str | None
    winner_variant_id: str | None


def _continuous_params(s: VariantStats, pooled_sd: float) -> tuple[float, float, float]:
    """(location, scale, dof) of the t posterior of the mean; vague when n < 2."""
    if s.n >= 2:
        var = max(s.total_sq - s.total**2 / s.n, 0.0) / (s.n - 1)
        sd = math.sqrt(var) if var > 0 else pooled_sd / s.n
        return s.total / s.n, sd / math.sqrt(s.n), float(s.n - 1)
    location = s.total if s.n == 1 else 0.0
    return location, max(pooled_sd, 1e-9) * 10.0, 1.0


def _pooled_sd(stats: Sequence[VariantStats]) -> float:
    n = sum(s.n for s in stats)
    if n < 2:
        return 1.0
    total = sum(s.total for s in stats)
    var = max(sum(s.total_sq for s in stats) - total**2 / n, 0.0) / (n - 1)
    return math.sqrt(var) if var > 0 else 1.0


def analyze(
    stats: Sequence[VariantStats],
    metric: MetricType,
    *,
    confidence: float,
    draws: int,
    seed: int,
) -> list[Posterior]:
    """Posterior summaries of every variant (CPU work: call it in a thread)."""
    from scipy import stats as sps  # heavy: imported on use, not with the CLI

    rng = np.random.default_rng(seed)
    tail = (1.0 - confidence) / 2.0
    samples = np.empty((draws, len(stats)))
    bounds: list[tuple[float, float, float]] = []
    if metric == "binary":
        for k, s in enumerate(stats):
            a, b = 1.0 + s.total, 1.0 + max(s.n - s.total, 0.0)
            samples[:, k] = rng.beta(a, b, size=draws)
            lo, hi = sps.beta.ppf([tail, 1.0 - tail], a, b)
            bounds.append((a / (a + b), float(lo), float(hi)))
    else:
        pooled = _pooled_sd(stats)
        for k, s in enumerate(stats):
            loc, scale, dof = _continuous_params(s, pooled)
            samples[:, k] = loc + scale * rng.standard_t(dof, size=draws)
            q = float(sps.t.ppf(1.0 - tail, dof))
            bounds.append((loc, loc - q * scale, loc + q * scale))
    best = samples.max(axis=1)
    wins = np.bincount(samples.argmax(axis=1), minlength=len(stats)) / draws
    loss = (best[:, None] - samples).mean(axis=0)
    return [
        Posterior(mean=m, ci_low=lo, ci_high=hi, prob_best=float(w), expected_loss=float(e))
        for (m, lo, hi), w, e in zip(bounds, wins, loss, strict=True)
    ]


def mixture_rho(planned_n: int, alpha: float, sigma: float) -> float:
    """The mixture parameter that makes the boundary tightest near ``planned_n`` samples."""
    log_term = -2.0 * math.log(alpha)
    return sigma**2 * planned_n / (log_term + math.log(1.0 + log_term))


def confidence_sequence(
    s: VariantStats, *, alpha: float, sigma: float, rho: float
) -> tuple[float, float]:
    """A time-uniform ``1 - alpha`` confidence interval for the mean after ``s.n`` outcomes.

    Robbins' normal mixture for ``sigma``-sub-Gaussian outcomes (bounded in an
    interval of width ``2 * sigma``): ``|S_n - n mu| <= sqrt((v + rho) ln((v + rho) /
    (rho alpha^2)))`` with ``v = sigma^2 n``, for all n at once with probability
    at least ``1 - alpha`` (Ville's inequality on the mixture martingale).
    """
    if s.n == 0:
        return -math.inf, math.inf
    v = sigma**2 * s.n
    radius = math.sqrt((v + rho) * math.log((v + rho) / (rho * alpha**2))) / s.n
    mean = s.total / s.n
    return mean - radius, mean + radius


def sequential_winner(
    stats: Sequence[VariantStats],
    *,
    alpha: float,
    bounds: tuple[float, float],
    planned_n: int,
) -> int | None:
    """The index of a variant proven best at error rate ``alpha``, or None (see module doc)."""
    k = len(stats)
    sigma = (bounds[1] - bounds[0]) / 2.0
    per_variant = alpha / k
    rho = mixture_rho(planned_n, per_variant, sigma)
    intervals = [confidence_sequence(s, alpha=per_variant, sigma=sigma, rho=rho) for s in stats]
    for i, (low, _) in enumerate(intervals):
        if all(low > high for j, (_, high) in enumerate(intervals) if j != i):
            return i
    return None
