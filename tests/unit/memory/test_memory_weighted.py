"""Exponentially weighted metrics against hand-computed values (seed 000 section B)."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from maestro.errors import ValidationError
from maestro.memory.weighted import (
    PostSample,
    age_days,
    decay_weight,
    weighted_by_agent,
    weighted_by_strategy,
    weighted_mean,
)

NOW = datetime(2026, 3, 1, tzinfo=UTC)


def days_ago(d: float) -> datetime:
    return NOW - timedelta(days=d)


@pytest.mark.parametrize(
    ("days", "weight"), [(0, 1.00), (7, 0.79), (14, 0.63), (30, 0.37), (60, 0.14), (90, 0.05)]
)
def test_decay_weight_matches_the_seed_table(days: float, weight: float) -> None:
    assert decay_weight(days) == pytest.approx(weight, abs=0.005)


def test_a_viral_post_from_45_days_ago_keeps_22_percent() -> None:
    assert decay_weight(45) == pytest.approx(0.22, abs=0.005)


def test_future_posts_weigh_as_today_and_bad_decay_is_rejected() -> None:
    assert age_days(NOW + timedelta(days=2), NOW) == 0.0
    assert decay_weight(-3) == 1.0
    with pytest.raises(ValidationError) as err:
        decay_weight(1, 0)
    assert err.value.field == "decay_days"


def test_weighted_mean_by_hand() -> None:
    # 100 today (w=1), 40 thirty days ago (w=e^-1)
    stat = weighted_mean([(100.0, NOW), (40.0, days_ago(30))], NOW)
    w = math.exp(-1)
    assert stat is not None
    assert stat.mean == pytest.approx((100 + 40 * w) / (1 + w))
    assert stat.weight == pytest.approx(1 + w)
    assert stat.count == 2
    assert weighted_mean([], NOW) is None


def test_weighted_mean_has_no_cliff_unlike_a_14_day_window() -> None:
    # A hard 14-day window would ignore the 15-day-old post entirely.
    stat = weighted_mean([(10.0, days_ago(1)), (1000.0, days_ago(15))], NOW)
    assert stat is not None
    w1, w15 = math.exp(-1 / 30), math.exp(-15 / 30)
    assert stat.mean == pytest.approx((10 * w1 + 1000 * w15) / (w1 + w15))


def test_per_strategy_and_per_agent_by_hand() -> None:
    samples = [
        PostSample("ada", "curiosity", 120.0, NOW),
        PostSample("ada", "stat", 60.0, days_ago(60)),
        PostSample("bob", "curiosity", 30.0, days_ago(30)),
    ]
    e1, e2 = math.exp(-1), math.exp(-2)
    by_strategy = weighted_by_strategy(samples, NOW)
    assert by_strategy["curiosity"].mean == pytest.approx((120 + 30 * e1) / (1 + e1))
    assert by_strategy["stat"].mean == pytest.approx(60.0)
    assert by_strategy["curiosity"].count == 2
    by_agent = weighted_by_agent(samples, NOW)
    assert by_agent["ada"].mean == pytest.approx((120 + 60 * e2) / (1 + e2))
    assert by_agent["bob"].weight == pytest.approx(e1)


def test_a_shorter_decay_favours_recent_posts_more() -> None:
    rows = [(100.0, NOW), (0.0, days_ago(10))]
    slow, fast = weighted_mean(rows, NOW, 30), weighted_mean(rows, NOW, 3)
    assert slow is not None and fast is not None
    assert fast.mean > slow.mean


@given(
    st.lists(
        st.tuples(st.floats(min_value=0, max_value=1e6), st.floats(min_value=0, max_value=365)),
        min_size=1,
        max_size=30,
    )
)
def test_weighted_mean_stays_between_min_and_max(rows: list[tuple[float, float]]) -> None:
    stat = weighted_mean([(v, days_ago(d)) for v, d in rows], NOW)
    assert stat is not None
    values = [v for v, _ in rows]
    assert min(values) - 1e-6 <= stat.mean <= max(values) + 1e-6


@given(st.lists(st.floats(min_value=0, max_value=1e6), min_size=1, max_size=20))
def test_same_age_means_plain_average(values: list[float]) -> None:
    stat = weighted_mean([(v, days_ago(5)) for v in values], NOW)
    assert stat is not None
    assert stat.mean == pytest.approx(sum(values) / len(values), rel=1e-9, abs=1e-6)
