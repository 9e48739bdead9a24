"""Bayesian analysis and the always-valid sequential stopping rule."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from maestro.learning.bayes import VariantStats, analyze, confidence_sequence, sequential_winner


def _stats(x: np.ndarray) -> list[VariantStats]:
    return [VariantStats(len(col), float(col.sum()), float((col**2).sum())) for col in x.T]


def _sequential_run(
    rates: list[float], horizon: int, seed: int, alpha: float, check_every: int = 1
) -> int | None:
    """Feed round-robin Bernoulli outcomes, checking the rule after every round."""
    rng = np.random.default_rng(seed)
    x = (rng.random((horizon, len(rates))) < rates).astype(float)
    sums = np.cumsum(x, axis=0)
    for n in range(check_every, horizon + 1, check_every):
        s = [
            VariantStats(n, float(sums[n - 1, k]), float(sums[n - 1, k])) for k in range(len(rates))
        ]
        winner = sequential_winner(s, alpha=alpha, bounds=(0.0, 1.0), planned_n=100)
        if winner is not None:
            return winner
    return None


@pytest.mark.slow
def test_on_a_a_data_a_winner_is_declared_no_more_often_than_alpha() -> None:
    alpha, runs = 0.05, 400
    declared = sum(
        _sequential_run([0.3, 0.3, 0.3], 1500, seed, alpha, check_every=5) is not None
        for seed in range(runs)
    )
    assert declared <= alpha * runs


def test_a_planted_winner_is_found_at_the_stated_error_rate() -> None:
    winners = [
        _sequential_run([0.1, 0.1, 0.3], 3000, seed, 0.05, check_every=10) for seed in range(30)
    ]
    assert winners.count(2) >= 29


def test_the_confidence_sequence_shrinks_and_covers_the_mean() -> None:
    wide = confidence_sequence(VariantStats(10, 5.0, 5.0), alpha=0.05, sigma=0.5, rho=10.0)
    narrow = confidence_sequence(
        VariantStats(10_000, 5_000.0, 5_000.0), alpha=0.05, sigma=0.5, rho=10.0
    )
    assert wide[0] < narrow[0] < 0.5 < narrow[1] < wide[1]
    assert narrow[1] - narrow[0] < 0.05
    assert confidence_sequence(VariantStats(0, 0.0, 0.0), alpha=0.05, sigma=0.5, rho=1.0) == (
        -np.inf,
        np.inf,
    )


def test_binary_analysis_ranks_a_planted_winner() -> None:
    rng = np.random.default_rng(1)
    x = (rng.random((2000, 3)) < [0.10, 0.12, 0.20]).astype(float)
    post = analyze(_stats(x), "binary", confidence=0.95, draws=20_000, seed=1)
    assert sum(p.prob_best for p in post) == pytest.approx(1.0)
    assert post[2].prob_best > 0.99
    assert post[2].expected_loss < 0.001 < post[0].expected_loss
    assert post[2].ci_low < 0.20 < post[2].ci_high


def test_continuous_analysis_uses_the_t_posterior() -> None:
    rng = np.random.default_rng(2)
    x = np.column_stack([rng.normal(10.0, 2.0, 400), rng.normal(10.6, 2.0, 400)])
    post = analyze(_stats(x), "continuous", confidence=0.9, draws=20_000, seed=2)
    assert post[1].prob_best > 0.99
    for p, mu in zip(post, (10.0, 10.6), strict=True):
        assert p.ci_low < mu < p.ci_high
        assert p.ci_high - p.ci_low == pytest.approx(2 * 1.649 * 2.0 / 20.0, rel=0.15)


def test_analysis_with_no_data_is_uninformative() -> None:
    empty = [VariantStats(0, 0.0, 0.0)] * 2
    for metric in ("binary", "continuous"):
        post = analyze(empty, metric, confidence=0.95, draws=10_000, seed=0)  # type: ignore[arg-type]
        assert post[0].prob_best == pytest.approx(0.5, abs=0.03)


@settings(max_examples=30, deadline=None)
@given(
    n=st.integers(1, 5000),
    p=st.floats(0.0, 1.0),
    alpha=st.floats(0.001, 0.2),
)
def test_confidence_sequence_radius_is_monotone_in_alpha(n: int, p: float, alpha: float) -> None:
    s = VariantStats(n, n * p, n * p)
    lo1, hi1 = confidence_sequence(s, alpha=alpha, sigma=0.5, rho=20.0)
    lo2, hi2 = confidence_sequence(s, alpha=alpha / 2, sigma=0.5, rho=20.0)
    assert lo2 <= lo1 <= p <= hi1 <= hi2
