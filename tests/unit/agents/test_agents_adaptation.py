from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from population_builders import NOW, STRATEGIES, make_agent

from maestro.agents.adaptation import AdaptationPolicy, adapt, adapt_population, propose_weights
from maestro.agents.diversity import check_population, population_diversity
from maestro.agents.evolution import found_population
from maestro.errors import ValidationError


def test_weights_move_toward_the_best_scoring_strategy() -> None:
    agent = make_agent("a", ["story", "how-to"])
    scores = {s: 0.02 for s in STRATEGIES} | {"question": 0.09, "stat-hook": 0.005}
    new = propose_weights(agent.weights, scores)
    assert new["question"] > agent.weights["question"]
    assert new["stat-hook"] < agent.weights["stat-hook"]
    assert sum(new.values()) == pytest.approx(1.0)


def test_strategies_without_scores_keep_their_weight() -> None:
    agent = make_agent("a", ["story", "how-to"])
    new = propose_weights(agent.weights, {"story": 0.01, "question": 0.05, "listicle": 0.02})
    for s in STRATEGIES:
        if s not in ("story", "question", "listicle"):
            assert new[s] == pytest.approx(agent.weights[s])
    scored = ("story", "question", "listicle")
    assert sum(new[s] for s in scored) == pytest.approx(sum(agent.weights[s] for s in scored))


def test_equal_scores_or_a_single_score_change_nothing() -> None:
    agent = make_agent("a", ["story", "how-to"])
    assert propose_weights(agent.weights, dict.fromkeys(STRATEGIES, 0.3)) == pytest.approx(
        dict(agent.weights)
    )
    assert propose_weights(agent.weights, {"story": 9.0}) == pytest.approx(dict(agent.weights))


def test_scores_only_matter_relative_to_each_other() -> None:
    agent = make_agent("a", ["story", "how-to"])
    scores = {s: float(i) for i, s in enumerate(STRATEGIES)}
    shifted = {s: 1000 + 50 * v for s, v in scores.items()}
    assert propose_weights(agent.weights, scores) == pytest.approx(
        propose_weights(agent.weights, shifted)
    )


def test_min_weight_keeps_every_strategy_alive() -> None:
    agent = make_agent("a", ["story", "how-to"])
    scores = {s: 0.0 for s in STRATEGIES} | {"story": 1.0}
    weights = dict(agent.weights)
    for _ in range(200):
        weights = propose_weights(weights, scores, AdaptationPolicy(learning_rate=0.5))
    assert min(weights.values()) >= 0.02 / 1.2
    assert weights["story"] > 0.8


def test_non_finite_scores_are_rejected() -> None:
    agent = make_agent("a", ["story", "how-to"])
    with pytest.raises(ValidationError) as exc:
        propose_weights(agent.weights, {"story": float("inf"), "how-to": 1.0})
    assert exc.value.field == "scores"


def test_everyone_chasing_one_winner_keeps_diversity_and_one_primary_holder() -> None:
    population = found_population(STRATEGIES, now=NOW, rng=random.Random(5))
    winner = "how-to"
    scores = {s: 0.02 for s in STRATEGIES} | {winner: 0.10}
    for _ in range(60):
        population, _changes = adapt_population(population, {a.id: scores for a in population})
        assert check_population(population) == ()
        assert population_diversity(population) >= 0.6
    holders = [a for a in population if a.primary == winner]
    assert len(holders) == 1
    # everyone else still learned: the winner is their secondary
    assert all(a.top(2)[1] == winner for a in population if a.primary != winner)


def test_an_agent_is_pulled_toward_its_own_evidence() -> None:
    population = found_population(STRATEGIES, now=NOW, rng=random.Random(2))
    agent = population[0]
    unclaimed = next(s for s in STRATEGIES if s not in {a.primary for a in population})
    scores = {s: 0.01 for s in STRATEGIES} | {unclaimed: 0.2}
    for _ in range(40):
        change = adapt(agent, scores, population)
        population = [change.after if a.id == agent.id else a for a in population]
        agent = change.after
    assert agent.primary == unclaimed
    assert agent.weights[agent.protected_strategy] >= 0.1 - 1e-9
    assert check_population(population) == ()


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 1000),
    size=st.integers(2, 8),
    cycles=st.lists(
        st.lists(st.floats(0.0, 1.0, allow_nan=False), min_size=8, max_size=8),
        min_size=1,
        max_size=6,
    ),
)
def test_adaptation_never_breaks_a_rule(seed: int, size: int, cycles: list[list[float]]) -> None:
    population = found_population(STRATEGIES, now=NOW, rng=random.Random(seed), size=size)
    for raw in cycles:
        scores = dict(zip(STRATEGIES, raw, strict=True))
        population, changes = adapt_population(population, {a.id: scores for a in population})
        assert check_population(population) == ()
        assert all(c.repair.unresolved == () for c in changes)
