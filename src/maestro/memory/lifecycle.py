"""The learned-pattern lifecycle as pure rules (seed 000 sections B and D).

Discover -> validate or weaken -> decay -> archive. These functions decide; the
:class:`~maestro.memory.patterns.PatternStore` keeps the state. Everything takes
``now`` explicitly so tests drive it with plain datetimes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal

from maestro.memory.policy import PatternPolicy
from maestro.memory.weighted import PostSample, age_days, weighted_by, weighted_mean

__all__ = [
    "GLOBAL_BRAND",
    "PATTERN_TYPES",
    "Discovery",
    "Judgement",
    "PatternType",
    "Verdict",
    "effective_confidence",
    "find_discoveries",
    "judge",
    "validated_confidence",
    "weakened_confidence",
]

PatternType = Literal["strategy_performance", "topic_affinity", "timing", "format"]
PATTERN_TYPES: tuple[PatternType, ...] = (
    "strategy_performance",
    "topic_affinity",
    "timing",
    "format",
)
GLOBAL_BRAND = "_global_"
"""The ``brand`` of a pattern that applies to every brand of the workspace."""

Verdict = Literal["validated", "weakened", "inconclusive"]


def effective_confidence(
    confidence: float, last_validated_at: datetime, now: datetime, decay_days: float
) -> float:
    """``confidence * exp(-days_since_validated / decay_days)``, computed at read time."""
    return confidence * math.exp(-age_days(last_validated_at, now) / decay_days)


@dataclass(frozen=True, slots=True)
class Discovery:
    """A strategy that beat its brand's average by the policy's lift."""

    strategy: str
    agent_id: str
    lift: float
    mean: float
    brand_mean: float
    sample_size: int
    evidence_count: int
    last_evidence_at: datetime


def find_discoveries(
    samples: Sequence[PostSample],
    now: datetime,
    policy: PatternPolicy,
    *,
    known_strategies: frozenset[str] = frozenset(),
) -> list[Discovery]:
    """Strategies some agent made beat the brand average by ``discovery_lift`` over enough posts.

    ``samples`` are one brand's posts. Means are decay-weighted. When several
    agents qualify with the same strategy, the largest lift names the discoverer
    and every qualifying agent's posts count as evidence. Strategies in
    ``known_strategies`` already have an active pattern and are skipped. A
    discovery whose newest evidence is so old that it would be born archived is
    dropped: old wins are history, not knowledge.
    """
    brand = weighted_mean(((s.value, s.published_at) for s in samples), now, policy.decay_days)
    if brand is None or brand.mean <= 0:
        return []
    groups = weighted_by(samples, lambda s: (s.agent_id, s.strategy), now, policy.decay_days)
    newest: dict[tuple[str, str], datetime] = {}
    for s in samples:
        key = (s.agent_id, s.strategy)
        if key not in newest or s.published_at > newest[key]:
            newest[key] = s.published_at
    best: dict[str, Discovery] = {}
    for (agent_id, strategy), stat in sorted(groups.items()):
        if strategy in known_strategies or stat.count < policy.min_discovery_posts:
            continue
        lift = stat.mean / brand.mean - 1.0
        if lift < policy.discovery_lift:
            continue
        last = min(newest[(agent_id, strategy)], now)
        born = effective_confidence(policy.initial_confidence, last, now, policy.decay_days)
        if born < policy.archive_threshold:
            continue
        prev = best.get(strategy)
        evidence = stat.count + (prev.evidence_count if prev else 0)
        latest = max(last, prev.last_evidence_at) if prev else last
        if prev is None or lift > prev.lift:
            best[strategy] = Discovery(
                strategy=strategy,
                agent_id=agent_id,
                lift=lift,
                mean=stat.mean,
                brand_mean=brand.mean,
                sample_size=stat.count,
                evidence_count=evidence,
                last_evidence_at=latest,
            )
        else:
            best[strategy] = replace(prev, evidence_count=evidence, last_evidence_at=latest)
    return sorted(best.values(), key=lambda d: (-d.lift, d.strategy))


@dataclass(frozen=True, slots=True)
class Judgement:
    """What new evidence says about a strategy pattern."""

    verdict: Verdict
    lift: float | None
    sample_size: int
    last_evidence_at: datetime | None


def judge(
    strategy: str, samples: Sequence[PostSample], now: datetime, policy: PatternPolicy
) -> Judgement:
    """Validate or weaken a strategy pattern from one brand's *new* posts.

    Validated when the strategy's decay-weighted mean beats the brand's by more
    than ``validation_lift``; weakened otherwise. Inconclusive when the strategy
    has no new posts, or no other strategy has any to compare against.
    """
    own = [s for s in samples if s.strategy == strategy]
    latest = max((s.published_at for s in own), default=None)
    if not own or len(own) == len(samples):
        return Judgement("inconclusive", None, len(own), latest)
    brand = weighted_mean(((s.value, s.published_at) for s in samples), now, policy.decay_days)
    mine = weighted_mean(((s.value, s.published_at) for s in own), now, policy.decay_days)
    assert brand is not None and mine is not None  # both groups are non-empty
    if brand.mean <= 0:  # nobody engaged: nothing to learn
        return Judgement("inconclusive", None, len(own), latest)
    lift = mine.mean / brand.mean - 1.0
    verdict: Verdict = "validated" if lift > policy.validation_lift else "weakened"
    return Judgement(verdict, lift, len(own), latest)


def validated_confidence(confidence: float, policy: PatternPolicy) -> float:
    """Confidence after a validating cycle (capped at 1)."""
    return min(1.0, confidence + policy.validation_boost)


def weakened_confidence(confidence: float, policy: PatternPolicy) -> float:
    """Confidence after a contradicting cycle (floored at 0)."""
    return max(0.0, confidence - policy.weaken_penalty)
