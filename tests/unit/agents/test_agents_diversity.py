"""Every diversity rule of seed 000, with populations built to break it."""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from population_builders import NOW, STRATEGIES, make_agent

from maestro.agents.content import ContentAgent, ranked
from maestro.agents.diversity import (
    DiversityPolicy,
    check_mutation,
    check_population,
    population_diversity,
    primary_counts,
    repair,
    repair_population,
    strategy_gaps,
)
from maestro.agents.evolution import found_population
from maestro.errors import ValidationError

POLICY = DiversityPolicy()


def rules(violations: tuple[object, ...]) -> set[str]:
    return {v.rule for v in violations}  # type: ignore[attr-defined]


def founders(size: int = 6, seed: int = 1) -> list[ContentAgent]:
    return found_population(STRATEGIES, now=NOW, rng=random.Random(seed), size=size)


# ---------------------------------------------------------------- detection
def test_founding_population_breaks_no_rule_and_scores_five_sixths() -> None:
    population = founders()
    assert check_population(population) == ()
    assert population_diversity(population) == pytest.approx(5 / 6)


def test_same_unordered_top2_breaks_top2_unique() -> None:
    a = make_agent("a", ["story", "how-to"])
    b = make_agent("b", ["how-to", "story"])
    found = check_population([a, b])
    assert {(v.rule, v.agent_id) for v in found if v.rule == "top2_unique"} == {
        ("top2_unique", "a"),
        ("top2_unique", "b"),
    }
    assert "primary_unique" not in rules(found)


def test_shared_primary_breaks_primary_unique() -> None:
    a = make_agent("a", ["story", "how-to"])
    b = make_agent("b", ["story", "question"], protected="question", top_weights=(0.3, 0.2))
    found = check_population([a, b])
    assert "primary_unique" in rules(found)
    assert "top2_unique" not in rules(found)


def test_shared_primary_is_allowed_when_agents_outnumber_strategies() -> None:
    four = STRATEGIES[:4]
    pairs = [("a0", 0, 1), ("a1", 1, 2), ("a2", 2, 3), ("a3", 3, 0), ("a4", 0, 2)]
    population = [
        make_agent(
            i, [four[p], four[s]], protected=four[k % 4], strategies=four, top_weights=(0.4, 0.3)
        )
        for k, (i, p, s) in enumerate(pairs)
    ]
    found = check_population(population)
    assert "primary_unique" not in rules(found)
    assert "top2_unique" not in rules(found)


def test_protected_strategy_below_floor_breaks_protected_kept() -> None:
    a = make_agent("a", ["story", "how-to"], protected="question", overrides={"question": 0.01})
    found = check_mutation(a, a.weights, [])
    assert rules(found) == {"protected_kept"}


def test_primary_on_another_agents_protected_breaks_protected_reserved() -> None:
    keeper = make_agent("keeper", ["how-to", "story"], protected="listicle")
    taker = make_agent("taker", ["listicle", "question"], protected="question")
    found = check_mutation(taker, taker.weights, [keeper])
    assert "protected_reserved" in rules(found)
    # and the keeper is not blamed for the taker's primary
    assert "protected_reserved" not in rules(check_mutation(keeper, keeper.weights, [taker]))


def claimants() -> list[ContentAgent]:
    """Six agents with primaries STRATEGIES[1..6], protecting their secondaries."""
    return [
        make_agent(f"o{i}", [STRATEGIES[i], STRATEGIES[i + 1]], protected=STRATEGIES[i + 1])
        for i in range(1, 7)
    ]


def test_less_than_20_percent_on_unclaimed_strategies_breaks_unique_share() -> None:
    others = claimants()
    # Unclaimed (no other agent's primary) for x: STRATEGIES[0] and STRATEGIES[7].
    weights = {s: 0.01 for s in STRATEGIES}
    weights.update({STRATEGIES[1]: 0.35, STRATEGIES[3]: 0.3, STRATEGIES[5]: 0.28})
    x = make_agent("x", [STRATEGIES[0], STRATEGIES[7]])
    policy = DiversityPolicy(unique_primaries=False, protected_floor=0.0)
    found = check_mutation(x, weights, others, policy)
    assert rules(found) == {"unique_share"}


def test_two_agents_protecting_one_strategy_break_protected_unique() -> None:
    a = make_agent("a", ["story", "how-to"], protected="question", overrides={"question": 0.15})
    b = make_agent("b", ["listicle", "how-to"], protected="question", overrides={"question": 0.15})
    assert "protected_unique" in rules(check_population([a, b]))


def test_retired_agents_are_ignored_by_the_rules() -> None:
    a = make_agent("a", ["story", "how-to"])
    b = make_agent("b", ["story", "how-to"]).retire(NOW)
    assert check_population([a, b]) == ()


# ------------------------------------------------------------------ repair
def test_a_proposal_that_breaks_no_rule_is_applied_unchanged() -> None:
    population = founders()
    agent = population[0]
    proposal = dict(agent.weights)
    proposal[agent.top(2)[1]] += 0.05
    result = repair(agent, proposal, population)
    assert not result.modified
    assert result.weights == pytest.approx(result.proposed)


def test_copying_the_winner_is_modified_to_keep_the_next_best_unique_primary() -> None:
    population = founders()
    agent, winner_holder = population[0], population[1]
    winner = winner_holder.primary
    proposal = {s: 0.02 for s in STRATEGIES}
    proposal[winner] = 0.7
    proposal[agent.primary] = 0.1
    result = repair(agent, proposal, population)
    assert {"primary_unique", "protected_reserved"} <= rules(result.violations)
    assert result.unresolved == ()
    assert check_mutation(agent, result.weights, population) == ()
    # modified, not discarded: the agent still moves toward the winner ...
    assert result.weights[winner] > agent.weights[winner] + 0.1
    # ... but its primary is the proposal's best strategy nobody else holds
    assert ranked(result.weights)[0] == agent.primary
    assert result.weights[agent.protected_strategy] >= POLICY.protected_floor


def test_repair_breaks_a_duplicate_top2_pair() -> None:
    a = make_agent("a", ["story", "how-to"])
    b = make_agent("b", ["how-to", "question"], protected="how-to")
    proposal = dict(b.weights)
    proposal["story"] = 0.29  # b's top-2 would become {how-to, story}: a's pair
    result = repair(b, proposal, [a, b])
    assert "top2_unique" in rules(result.violations)
    assert check_mutation(b, result.weights, [a]) == ()
    assert frozenset(ranked(result.weights)[:2]) != frozenset(a.top(2))


def test_repair_restores_the_protected_floor() -> None:
    a = make_agent("a", ["story", "how-to"], protected="question", overrides={"question": 0.15})
    proposal = dict(a.weights)
    proposal["question"] = 0.0
    result = repair(a, proposal, [a])
    assert rules(result.violations) == {"protected_kept"}
    assert result.weights["question"] >= POLICY.protected_floor
    assert ranked(result.weights)[:2] == ("story", "how-to")


def test_repair_lifts_weight_on_unclaimed_strategies_to_20_percent() -> None:
    others = claimants()
    x = make_agent("x", [STRATEGIES[0], STRATEGIES[7]], protected=STRATEGIES[0])
    proposal = {s: 0.01 for s in STRATEGIES}
    proposal.update({STRATEGIES[1]: 0.35, STRATEGIES[3]: 0.3, STRATEGIES[5]: 0.28})
    policy = DiversityPolicy(unique_primaries=False, protected_floor=0.0)
    result = repair(x, proposal, others, policy)
    assert "unique_share" in rules(result.violations)
    unclaimed = result.weights[STRATEGIES[0]] + result.weights[STRATEGIES[7]]
    assert unclaimed >= 0.2 - 1e-9
    assert check_mutation(x, result.weights, others, policy) == ()


def test_repair_population_fixes_a_population_that_copied_the_winner() -> None:
    population = [
        make_agent(f"a{i}", ["story", STRATEGIES[i]], protected=STRATEGIES[i])
        for i in range(6)
        if STRATEGIES[i] != "story"
    ]
    assert population_diversity(population) == 0.0
    fixed = repair_population(population)
    assert check_population(fixed) == ()
    assert population_diversity(fixed) >= 0.6


# --------------------------------------------------------------- invariants
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    size=st.integers(2, 8),
    which=st.integers(0, 7),
    raw=st.lists(st.floats(0.0, 1.0), min_size=8, max_size=8),
    power=st.sampled_from([1.0, 3.0, 8.0]),
)
def test_every_repaired_mutation_keeps_every_rule(
    seed: int, size: int, which: int, raw: list[float], power: float
) -> None:
    population = founders(size, seed)
    agent = population[which % size]
    proposal = {s: v**power + 1e-6 for s, v in zip(STRATEGIES, raw, strict=True)}
    result = repair(agent, proposal, population)
    assert result.unresolved == ()
    assert check_mutation(agent, result.weights, population) == ()
    assert sum(result.weights.values()) == pytest.approx(1.0)
    assert min(result.weights.values()) >= 0.0
    updated = [agent.with_weights(result.weights) if a is agent else a for a in population]
    assert check_population(updated) == ()


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    tops=st.lists(
        st.tuples(st.integers(0, 7), st.integers(0, 7)).filter(lambda t: t[0] != t[1]),
        min_size=2,
        max_size=8,
    ),
)
def test_repair_population_makes_any_population_valid(
    seed: int, tops: list[tuple[int, int]]
) -> None:
    protected = random.Random(seed).sample(STRATEGIES, len(tops))
    population = [
        make_agent(
            f"a{i}",
            [STRATEGIES[p], STRATEGIES[s]],
            protected=protected[i],
            overrides={protected[i]: 0.12}
            if protected[i] not in (STRATEGIES[p], STRATEGIES[s])
            else None,
        )
        for i, (p, s) in enumerate(tops)
    ]
    fixed = repair_population(population)
    assert check_population(fixed) == ()
    assert population_diversity(fixed) == pytest.approx(1 - 1 / len(fixed))


# ------------------------------------------------------------------ metrics
@pytest.mark.parametrize(
    ("primaries", "expected"),
    [
        (("story", "how-to", "question", "listicle", "stat-hook", "contrarian"), 5 / 6),
        (("story", "story", "story", "listicle", "stat-hook", "contrarian"), 0.5),
        (("story", "story", "question", "question", "stat-hook", "contrarian"), 2 / 3),
        (("story",) * 6, 0.0),
    ],
)
def test_population_diversity_follows_the_seed_formula(
    primaries: tuple[str, ...], expected: float
) -> None:
    population = [
        make_agent(f"a{i}", [p, "social-proof" if p != "social-proof" else "story"])
        for i, p in enumerate(primaries)
    ]
    assert population_diversity(population) == pytest.approx(expected)
    assert sum(primary_counts(population).values()) == 6


def test_population_diversity_of_nobody_is_zero() -> None:
    assert population_diversity([]) == 0.0


def test_strategy_gaps_lists_unclaimed_primaries_least_represented_first() -> None:
    population = [
        make_agent("a", ["story", "how-to"]),
        make_agent("b", ["how-to", "question"], overrides={"listicle": 0.1}),
    ]
    gaps = strategy_gaps(population, STRATEGIES)
    assert "story" not in gaps and "how-to" not in gaps
    assert "question" in gaps
    assert gaps[-1] == "question"  # 0.2 of b's weight: the best represented gap
    assert gaps.index("listicle") > gaps.index("contrarian")


def test_policy_rejects_out_of_range_values() -> None:
    with pytest.raises(ValidationError) as exc:
        DiversityPolicy(min_unique_share=0.8)
    assert exc.value.field == "min_unique_share"
