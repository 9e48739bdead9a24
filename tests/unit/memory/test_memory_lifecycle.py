"""The learned-pattern rules: discovery, judgement, decay (pure, no database)."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

from maestro.memory.lifecycle import (
    effective_confidence,
    find_discoveries,
    judge,
    validated_confidence,
    weakened_confidence,
)
from maestro.memory.policy import PatternPolicy
from maestro.memory.weighted import PostSample

NOW = datetime(2026, 3, 1, tzinfo=UTC)
POLICY = PatternPolicy()


def posts(agent: str, strategy: str, value: float, n: int, at: datetime = NOW) -> list[PostSample]:
    return [PostSample(agent, strategy, value, at) for _ in range(n)]


def test_effective_confidence_decays_exponentially_at_read_time() -> None:
    assert effective_confidence(0.8, NOW, NOW, 30) == pytest.approx(0.8)
    assert effective_confidence(0.8, NOW - timedelta(days=30), NOW, 30) == pytest.approx(
        0.8 * math.exp(-1)
    )
    # seed D.2: validated within 7 days keeps 79%+, 90 days leaves 5%
    assert effective_confidence(1.0, NOW - timedelta(days=7), NOW, 30) >= 0.79
    assert effective_confidence(1.0, NOW - timedelta(days=90), NOW, 30) == pytest.approx(
        0.0498, abs=1e-3
    )


def test_discovered_when_a_strategy_beats_the_brand_by_30_percent_over_5_posts() -> None:
    samples = posts("ada", "curiosity", 200, 5) + posts("bob", "stat", 100, 5)
    (d,) = find_discoveries(samples, NOW, POLICY)
    assert (d.strategy, d.agent_id, d.sample_size) == ("curiosity", "ada", 5)
    assert d.brand_mean == pytest.approx(150)
    assert d.lift == pytest.approx(200 / 150 - 1)


def test_not_discovered_with_4_posts_or_below_30_percent() -> None:
    assert (
        find_discoveries(
            posts("ada", "curiosity", 200, 4) + posts("bob", "stat", 100, 4), NOW, POLICY
        )
        == []
    )
    # 5 posts at 129 vs 5 at 70: brand mean 99.5, lift 29.6%
    assert (
        find_discoveries(
            posts("ada", "curiosity", 129, 5) + posts("bob", "stat", 70, 5), NOW, POLICY
        )
        == []
    )
    # exactly at the threshold counts ("by 30% or more")
    exact = posts("ada", "curiosity", 130, 5) + posts("bob", "stat", 70, 5)
    assert [d.strategy for d in find_discoveries(exact, NOW, POLICY)] == ["curiosity"]


def test_known_strategies_and_stale_evidence_are_not_rediscovered() -> None:
    samples = posts("ada", "curiosity", 200, 5) + posts("bob", "stat", 100, 5)
    assert find_discoveries(samples, NOW, POLICY, known_strategies=frozenset({"curiosity"})) == []
    old = NOW - timedelta(days=60)  # 0.5 * e^-2 = 0.068 < 0.1: would be born archived
    stale = posts("ada", "curiosity", 200, 5, old) + posts("bob", "stat", 100, 5, old)
    assert find_discoveries(stale, NOW, POLICY) == []


def test_two_agents_with_the_same_winning_strategy_make_one_pattern() -> None:
    samples = (
        posts("ada", "curiosity", 300, 5)
        + posts("cy", "curiosity", 250, 6)
        + posts("bob", "stat", 50, 10)
    )
    (d,) = find_discoveries(samples, NOW, POLICY)
    assert d.agent_id == "ada"
    assert d.evidence_count == 11


def test_the_lift_and_post_count_are_configuration() -> None:
    samples = posts("ada", "curiosity", 120, 3) + posts("bob", "stat", 100, 3)
    assert find_discoveries(samples, NOW, POLICY) == []
    loose = PatternPolicy(discovery_lift=0.05, min_discovery_posts=3)
    assert [d.strategy for d in find_discoveries(samples, NOW, loose)] == ["curiosity"]


def test_judge_validates_weakens_or_abstains() -> None:
    win = posts("ada", "curiosity", 150, 2) + posts("bob", "stat", 100, 2)
    assert judge("curiosity", win, NOW, POLICY).verdict == "validated"
    lose = posts("ada", "curiosity", 80, 2) + posts("bob", "stat", 100, 2)
    assert judge("curiosity", lose, NOW, POLICY).verdict == "weakened"
    assert judge("curiosity", posts("bob", "stat", 100, 2), NOW, POLICY).verdict == "inconclusive"
    alone = posts("ada", "curiosity", 100, 3)
    assert judge("curiosity", alone, NOW, POLICY).verdict == "inconclusive"


def test_confidence_moves_within_bounds() -> None:
    assert validated_confidence(0.5, POLICY) == pytest.approx(0.6)
    assert validated_confidence(0.95, POLICY) == 1.0
    assert weakened_confidence(0.5, POLICY) == pytest.approx(0.35)
    assert weakened_confidence(0.1, POLICY) == 0.0


def test_archive_threshold_cannot_exceed_inject_threshold() -> None:
    from pydantic import ValidationError as PydanticValidationError

    with pytest.raises(PydanticValidationError):
        PatternPolicy(archive_threshold=0.5, inject_threshold=0.3)
