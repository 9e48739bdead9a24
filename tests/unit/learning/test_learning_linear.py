"""LinearThompson: learns strategy effects despite known covariates, follows change, restores."""

from __future__ import annotations

import json

import numpy as np
import pytest

from maestro.errors import ValidationError
from maestro.learning.bandits import LinearThompson, make_policy, restore_policy

EFFECTS = np.array([0.0, 0.4, -0.3, 0.1])
TOPICS = {"a": -0.4, "b": 0.0, "c": 0.5}


def _feed(
    policy: LinearThompson,
    rng: np.random.Generator,
    effects: np.ndarray,
    days: range,
    per_day: int = 6,
) -> None:
    """Posts on every strategy; the topic, not the strategy, explains most of the spread."""
    for d in days:
        for i in range(per_day):
            arm = int(rng.integers(len(effects)))
            topic = list(TOPICS)[(d + i) % len(TOPICS)]
            quality = float(rng.uniform(0.6, 1.0))
            value = -3.0 + effects[arm] + TOPICS[topic] + 0.8 * (quality - 0.5)
            value += float(rng.normal(0.0, 0.3))
            policy.observe(arm, value, {f"topic={topic}": 1.0, "quality": quality - 0.5}, at=d)


def test_learns_the_strategy_effects_and_the_covariates() -> None:
    policy = LinearThompson(4, seed=1)
    _feed(policy, np.random.default_rng(1), EFFECTS, range(30))
    effects = policy.effects()
    assert int(np.argmax(effects)) == 1
    diffs = effects - effects[0]
    assert np.allclose(diffs, EFFECTS - EFFECTS[0], atol=0.15)
    assert set(policy.covariates) == {"quality", "topic=a", "topic=b", "topic=c"}
    picks = [policy.choose(30.0) for _ in range(200)]
    assert picks.count(1) > 150


def test_a_switch_is_detected_and_the_new_best_found() -> None:
    policy = LinearThompson(4, seed=2)
    rng = np.random.default_rng(2)
    _feed(policy, rng, EFFECTS, range(20))
    switched = np.array([0.0, -0.5, 0.6, 0.1])
    for d in range(20, 30):
        for i in range(6):
            arm = policy.choose(float(d))
            topic = list(TOPICS)[(d + i) % len(TOPICS)]
            value = -3.0 + switched[arm] + TOPICS[topic] + float(rng.normal(0.0, 0.3))
            policy.observe(arm, value, {f"topic={topic}": 1.0}, at=float(d))
    assert policy.changes >= 1
    assert int(np.argmax(policy.effects())) == 2


def test_uncertainty_grows_with_elapsed_days_in_a_drifting_filter() -> None:
    policy = LinearThompson(3, seed=3, dynamics=[(0.05, 0.0)], exploration=1.0)
    for d in range(5):
        for arm in range(3):
            policy.observe(arm, -2.0 + 0.1 * arm, at=float(d))
    near = np.std([policy.draw(5.0)[0] - policy.draw(5.0)[1] for _ in range(400)])
    far = np.std([policy.draw(25.0)[0] - policy.draw(25.0)[1] for _ in range(400)])
    assert far > 1.5 * near


def test_a_trend_filter_extrapolates_a_rising_effect() -> None:
    policy = LinearThompson(2, seed=4, dynamics=[(0.0, 0.01)], exploration=0.0)
    for d in range(10):
        policy.observe(0, 0.0, at=float(d))
        policy.observe(1, -0.5 + 0.1 * d, at=float(d))
    now, later = policy.draw(9.0), policy.draw(14.0)
    assert later[1] - later[0] > now[1] - now[0] + 0.3


def test_state_round_trips_through_json_and_continues_identically() -> None:
    policy = LinearThompson(4, seed=5)
    _feed(policy, np.random.default_rng(5), EFFECTS, range(4))
    copy = restore_policy(json.loads(json.dumps(policy.state())))
    assert isinstance(copy, LinearThompson)
    assert [policy.choose(4.0) for _ in range(20)] == [copy.choose(4.0) for _ in range(20)]
    policy.observe(2, -3.1, {"topic=new": 1.0}, at=4.5)
    copy.observe(2, -3.1, {"topic=new": 1.0}, at=4.5)
    assert np.allclose(policy.effects(), copy.effects())


def test_restore_still_reads_plain_bandits() -> None:
    bandit = make_policy("thompson", 3, seed=1)
    bandit.update(1, 1.0)
    assert restore_policy(bandit.state()).state() == bandit.state()


def test_corrupt_state_is_a_validation_error() -> None:
    state = LinearThompson(3, seed=1).state()
    state["data"]["filters"] = state["data"]["filters"][:1]
    with pytest.raises(ValidationError):
        restore_policy(state)


def test_plain_bandit_interface_learns_rewards() -> None:
    policy = LinearThompson(3, seed=6, exploration=0.0)
    for _ in range(30):
        policy.update(0, 0.2)
        policy.update(1, 0.8)
        policy.update(2, 0.5)
    assert policy.select() == 1


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"noise": 0.0}, "noise"),
        ({"dynamics": []}, "dynamics"),
        ({"exploration": -1.0}, "exploration"),
    ],
)
def test_bad_parameters_are_rejected(params: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as err:
        LinearThompson(3, **params)  # type: ignore[arg-type]
    assert err.value.field == field


def test_bad_observations_are_rejected() -> None:
    policy = LinearThompson(3)
    with pytest.raises(ValidationError):
        policy.observe(3, 0.0)
    with pytest.raises(ValidationError):
        policy.observe(0, float("nan"))
    with pytest.raises(ValidationError):
        policy.observe(0, 0.0, {"quality": float("inf")})
