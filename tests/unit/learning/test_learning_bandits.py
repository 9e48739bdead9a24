"""Bandit policies: invariants (hypothesis), exact state round trips, learning, bad input."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from maestro.errors import ValidationError
from maestro.learning.bandits import (
    DEFAULT_POLICY,
    POLICY_NAMES,
    AdaptiveThompson,
    LearningSettings,
    make_policy,
    restore_policy,
)

rewards = st.lists(st.floats(min_value=0.0, max_value=1.0), min_size=0, max_size=120)


def _drive(policy_name: str, n_arms: int, seed: int, history: list[float]) -> object:
    policy = make_policy(policy_name, n_arms, seed=seed)
    for r in history:
        arm = policy.select()
        assert 0 <= arm < n_arms and isinstance(arm, int)
        policy.update(arm, r)
    return policy


@settings(max_examples=40, deadline=None)
@given(
    name=st.sampled_from(POLICY_NAMES),
    n_arms=st.integers(min_value=1, max_value=8),
    seed=st.integers(min_value=0, max_value=2**32 - 1),
    history=rewards,
    future=rewards,
)
def test_every_choice_is_a_valid_arm_and_a_json_round_trip_continues_identically(
    name: str, n_arms: int, seed: int, history: list[float], future: list[float]
) -> None:
    policy = make_policy(name, n_arms, seed=seed)
    for r in history:
        arm = policy.select()
        assert isinstance(arm, int) and 0 <= arm < n_arms
        policy.update(arm, r)
    clone = restore_policy(json.loads(json.dumps(policy.state())))
    for r in future:
        a, b = policy.select(), clone.select()
        assert a == b
        policy.update(a, r)
        clone.update(b, r)
    assert clone.state() == policy.state()


@settings(max_examples=25, deadline=None)
@given(name=st.sampled_from(POLICY_NAMES), seed=st.integers(0, 2**31), history=rewards)
def test_the_same_seed_gives_the_same_decisions(name: str, seed: int, history: list[float]) -> None:
    a = make_policy(name, 4, seed=seed)
    b = make_policy(name, 4, seed=seed)
    for r in history:
        x, y = a.select(), b.select()
        assert x == y
        a.update(x, r)
        b.update(y, r)


@pytest.mark.parametrize("name", POLICY_NAMES)
def test_each_policy_learns_the_best_arm_of_a_stationary_problem(name: str) -> None:
    rng = np.random.default_rng(11)
    means = [0.2, 0.35, 0.8]
    policy = make_policy(name, 3, seed=5)
    late = []
    for t in range(3000):
        arm = policy.select()
        policy.update(arm, float(rng.random() < means[arm]))
        if t >= 2500:
            late.append(arm)
    assert late.count(2) / len(late) > 0.8


def _after_swap(name: str) -> tuple[float, object]:
    """Share of the new best arm in the 1,000 plays after an abrupt swap at t = 4,000."""
    rng = np.random.default_rng(2)
    policy = make_policy(name, 3, seed=3)
    picks = []
    for t in range(5000):
        means = [0.8, 0.5, 0.2] if t < 4000 else [0.2, 0.5, 0.8]
        arm = policy.select()
        policy.update(arm, float(rng.random() < means[arm]))
        if t >= 4000:
            picks.append(arm)
    return picks.count(2) / len(picks), policy


def test_adaptive_follows_an_abrupt_swap_without_being_told() -> None:
    share, policy = _after_swap("adaptive")
    assert isinstance(policy, AdaptiveThompson) and policy.restarts >= 1
    assert share > 0.6
    stationary_share, _ = _after_swap("thompson")
    assert stationary_share < 0.3  # the contrast: plain Thompson sampling lags far behind


def test_adaptive_does_not_restart_on_a_stationary_audience() -> None:
    rng = np.random.default_rng(9)
    policy = make_policy("adaptive", 4, seed=9)
    assert isinstance(policy, AdaptiveThompson)
    for _ in range(10_000):
        arm = policy.select()
        policy.update(arm, float(rng.random() < [0.3, 0.4, 0.5, 0.6][arm]))
    assert policy.restarts <= 1
    assert policy.memory == 0


def test_the_default_policy_is_adaptive() -> None:
    assert DEFAULT_POLICY == "adaptive"
    assert LearningSettings().make(3).name == "adaptive"
    assert LearningSettings(policy_params={"adaptive": {"delta": 0.001}}).make(3).params()[
        "delta"
    ] == pytest.approx(0.001)


def test_an_unknown_policy_name_is_a_validation_error_naming_the_field() -> None:
    with pytest.raises(ValidationError) as err:
        make_policy("softmax-of-doom", 3)
    assert err.value.field == "policy"
    assert "thompson" in err.value.message


def test_an_unknown_parameter_is_named() -> None:
    with pytest.raises(ValidationError) as err:
        make_policy("ucb1", 3, window=10)
    assert err.value.field == "window"


@pytest.mark.parametrize("n_arms", [0, -1, True])
def test_n_arms_must_be_a_positive_integer(n_arms: int) -> None:
    with pytest.raises(ValidationError) as err:
        make_policy("thompson", n_arms)
    assert err.value.field == "n_arms"


@pytest.mark.parametrize("name", POLICY_NAMES)
@pytest.mark.parametrize("arm", [-1, 3, 99, 1.0, "0", None, True])
def test_an_arm_out_of_range_is_rejected_and_nothing_is_recorded(name: str, arm: object) -> None:
    policy = make_policy(name, 3, seed=1)
    policy.update(0, 1.0)
    before = policy.state()
    with pytest.raises(ValidationError) as err:
        policy.update(arm, 0.5)  # type: ignore[arg-type]
    assert err.value.field == "arm"
    assert policy.state() == before


@pytest.mark.parametrize("name", POLICY_NAMES)
@pytest.mark.parametrize("reward", [-0.01, 1.01, math.nan, math.inf, "1", None, False])
def test_a_reward_outside_0_1_is_rejected_and_nothing_is_recorded(
    name: str, reward: object
) -> None:
    policy = make_policy(name, 3, seed=1)
    policy.update(1, 0.0)
    before = policy.state()
    with pytest.raises(ValidationError) as err:
        policy.update(0, reward)  # type: ignore[arg-type]
    assert err.value.field == "reward"
    assert policy.state() == before


@pytest.mark.parametrize(
    ("name", "params", "field"),
    [
        ("epsilon-greedy", {"epsilon": 1.5}, "epsilon"),
        ("discounted-thompson", {"gamma": 0.0}, "gamma"),
        ("sliding-window-thompson", {"window": 0}, "window"),
        ("thompson", {"likelihood": "cauchy"}, "likelihood"),
        ("adaptive", {"delta": 2.0}, "delta"),
        ("adaptive", {"memories": []}, "memories"),
    ],
)
def test_out_of_range_parameters_name_the_field(
    name: str, params: dict[str, object], field: str
) -> None:
    with pytest.raises(ValidationError) as err:
        make_policy(name, 3, **params)
    assert err.value.field == field


def test_a_corrupt_state_is_a_validation_error() -> None:
    state = make_policy("thompson", 2, seed=1).state()
    del state["data"]
    with pytest.raises(ValidationError) as err:
        restore_policy(state)
    assert err.value.field == "state"


def test_gaussian_thompson_prefers_the_higher_mean() -> None:
    rng = np.random.default_rng(4)
    policy = make_policy("thompson", 2, seed=4, likelihood="gaussian")
    picks = []
    for _ in range(2000):
        arm = policy.select()
        policy.update(arm, float(np.clip(rng.normal([0.3, 0.6][arm], 0.1), 0, 1)))
        picks.append(arm)
    assert picks[-500:].count(1) > 450
