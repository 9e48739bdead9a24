"""Exponentially weighted metrics: recent posts count more, old posts never vanish.

Seed 000 section B replaces the hard ``days_back=14`` lookback with a weight of
``exp(-days_since_published / 30)`` per post, so a viral post from 45 days ago
still contributes 22% of its weight instead of nothing. Everything here is pure:
plain values in, plain values out, ``now`` passed explicitly.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from maestro.errors import ValidationError
from maestro.memory.policy import DEFAULT_DECAY_DAYS

__all__ = [
    "PostSample",
    "WeightedStat",
    "age_days",
    "decay_weight",
    "weighted_by",
    "weighted_by_agent",
    "weighted_by_strategy",
    "weighted_mean",
]

_SECONDS_PER_DAY = 86_400.0
K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True, slots=True)
class PostSample:
    """One published post's outcome: the unit of evidence for metrics and patterns."""

    agent_id: str
    strategy: str
    value: float
    published_at: datetime
    topic: str | None = None


@dataclass(frozen=True, slots=True)
class WeightedStat:
    """A decay-weighted mean over ``count`` posts whose weights sum to ``weight``."""

    mean: float
    weight: float
    count: int


def age_days(when: datetime, now: datetime) -> float:
    """Days from ``when`` to ``now``; future timestamps count as age 0."""
    return max(0.0, (now - when).total_seconds() / _SECONDS_PER_DAY)


def decay_weight(days: float, decay_days: float = DEFAULT_DECAY_DAYS) -> float:
    """``exp(-days / decay_days)``: 1.0 today, 0.37 after ``decay_days``."""
    if decay_days <= 0:
        raise ValidationError(f"decay_days must be positive, got {decay_days}", field="decay_days")
    return math.exp(-max(0.0, days) / decay_days)


def weighted_mean(
    rows: Iterable[tuple[float, datetime]],
    now: datetime,
    decay_days: float = DEFAULT_DECAY_DAYS,
) -> WeightedStat | None:
    """The decay-weighted mean of ``(value, published_at)`` rows; None when there are none."""
    total = weight_sum = 0.0
    count = 0
    for value, published_at in rows:
        w = decay_weight(age_days(published_at, now), decay_days)
        total += w * value
        weight_sum += w
        count += 1
    if count == 0:
        return None
    if weight_sum == 0.0:  # every row is so old that its weight underflowed
        return WeightedStat(mean=0.0, weight=0.0, count=count)
    return WeightedStat(mean=total / weight_sum, weight=weight_sum, count=count)


def weighted_by(
    samples: Iterable[PostSample],
    key: Callable[[PostSample], K],
    now: datetime,
    decay_days: float = DEFAULT_DECAY_DAYS,
) -> dict[K, WeightedStat]:
    """Decay-weighted mean engagement per ``key(sample)``."""
    groups: dict[K, list[tuple[float, datetime]]] = {}
    for s in samples:
        groups.setdefault(key(s), []).append((s.value, s.published_at))
    out: dict[K, WeightedStat] = {}
    for k, rows in groups.items():
        stat = weighted_mean(rows, now, decay_days)
        if stat is not None:
            out[k] = stat
    return out


def weighted_by_strategy(
    samples: Iterable[PostSample], now: datetime, decay_days: float = DEFAULT_DECAY_DAYS
) -> dict[str, WeightedStat]:
    """Decay-weighted mean engagement per strategy."""
    return weighted_by(samples, lambda s: s.strategy, now, decay_days)


def weighted_by_agent(
    samples: Iterable[PostSample], now: datetime, decay_days: float = DEFAULT_DECAY_DAYS
) -> dict[str, WeightedStat]:
    """Decay-weighted mean engagement per agent."""
    return weighted_by(samples, lambda s: s.agent_id, now, decay_days)
