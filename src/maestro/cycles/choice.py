"""Which strategy an agent writes with: shared evidence, personal taste (seed 000 section A).

The learning problem per brand is a bandit over strategies. The default policy,
``linear-thompson`` (:mod:`maestro.learning.bandits.linear`), models each post's log
engagement with the covariates the studio knows (topic, quality, hour of day) and
follows drift and switches; the plain bandits of :mod:`maestro.learning.bandits`
learn from a post's engagement relative to the brand's running mean, squashed into
[0, 1]. Who learns from what depends on the sharing mode:

- ``hybrid`` (the product, seed 000's Option B): one policy per brand, fed by every
  agent's posts. Each agent draws ``candidates`` strategies from it (independent
  Thompson draws) and writes with the one its own weights favour. When the evidence
  is clear the draws agree and every agent exploits; while it is not, each agent's
  DNA decides among the plausible strategies, so agents explore different ones.
- ``independent`` (Option C): one policy per agent and brand, fed only by that
  agent's posts.
- ``homogeneous`` (Option A taken to its end): one policy per brand and one draw per
  brand per burst that every agent follows.

Pure logic over :mod:`maestro.learning`; the caller persists the policies.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime

from maestro.agents.content import ContentAgent
from maestro.cycles.settings import Sharing
from maestro.errors import ValidationError
from maestro.learning.bandits import LINEAR_POLICY, LearningSettings, LinearThompson, Policy

__all__ = [
    "DEFAULT_MEAN_MEMORY",
    "StrategySelector",
    "covariates",
    "days",
    "prefer",
    "relative_reward",
    "stable_seed",
]

DEFAULT_MEAN_MEMORY = 40.0
"""Posts the running brand mean effectively remembers (a log-scale EWMA of 1/40)."""
ENGAGEMENT_FLOOR = 1e-4
"""Engagement below this is read as this (log engagement of 0 would be -inf)."""


def days(when: datetime) -> float:
    """``when`` in days since the Unix epoch (naive datetimes are UTC): the learners' time."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.timestamp() / 86_400.0


def covariates(topic: str | None, quality: float | None, when: datetime | None) -> dict[str, float]:
    """What the studio knows about a post besides its strategy, as model covariates.

    The topic (one indicator per topic), the examined quality (centred on 0.5) and
    the hour of publication as a daily cycle (cosine and sine).
    """
    out: dict[str, float] = {}
    if topic:
        out[f"topic={topic}"] = 1.0
    if quality is not None and math.isfinite(quality):
        out["quality"] = quality - 0.5
    if when is not None:
        hour = (days(when) % 1.0) * 2 * math.pi
        out["hour_cos"], out["hour_sin"] = math.cos(hour), math.sin(hour)
    return out


def stable_seed(*parts: object) -> int:
    """A seed from ``parts`` that is the same in every process (unlike ``hash``)."""
    text = "\x1f".join(str(p) for p in parts)
    h = 2166136261
    for ch in text.encode():
        h = ((h ^ ch) * 16777619) & 0xFFFFFFFF
    return h


def relative_reward(engagement: float, log_mean: float, sharpness: float) -> float:
    """``1 / (1 + (mean / engagement) ** sharpness)``: 0.5 at the mean, toward 1 above it."""
    if engagement <= 0 or not math.isfinite(engagement):
        return 0.0
    z = sharpness * (math.log(engagement) - log_mean)
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


class StrategySelector:
    """Bandit policies per learning context and the rule that turns them into choices."""

    def __init__(
        self,
        strategies: Sequence[str],
        *,
        sharing: Sharing = "hybrid",
        candidates: int = 1,
        sharpness: float = 4.0,
        taste: float | None = None,
        policy: str = LINEAR_POLICY,
        seed: int = 0,
        learning: LearningSettings | None = None,
    ) -> None:
        if len(strategies) < 2:
            raise ValidationError(
                f"a selector needs at least 2 strategies, got {list(strategies)}",
                field="strategies",
            )
        self.strategies = tuple(strategies)
        self.sharing: Sharing = sharing
        self.candidates = candidates
        self.sharpness = sharpness
        self.taste = taste
        self.policy_name = policy
        self.seed = seed
        self._learning = learning or LearningSettings()
        self.policies: dict[str, Policy] = {}
        self.log_means: dict[str, float] = {}
        self.observed: dict[str, int] = {}
        self._burst: dict[str, str] = {}
        self._pending: dict[str, list[int]] = {}
        self.touched: set[str] = set()

    # ----------------------------------------------------------------- contexts
    def context(self, agent_id: str, brand: str) -> str:
        """The key of the policy that learns from ``agent_id``'s posts on ``brand``."""
        if self.sharing == "independent":
            return f"studio:independent:agent={agent_id}:brand={brand}"
        return f"studio:{self.sharing}:brand={brand}"

    def policy(self, context: str) -> Policy:
        found = self.policies.get(context)
        if found is None:
            found = self._learning.make(
                len(self.strategies), name=self.policy_name, seed=stable_seed(self.seed, context)
            )
            self.policies[context] = found
        return found

    def fits(self, policy: Policy) -> bool:
        """Whether a stored policy can continue here: same kind, one arm per strategy."""
        return policy.name == self.policy_name and policy.n_arms == len(self.strategies)

    def load(self, context: str, policy: Policy) -> None:
        """Continue from a stored policy (same kind, same strategies in the same order)."""
        if not self.fits(policy):
            raise ValidationError(
                f"stored policy {context!r} is {policy.name} over {policy.n_arms} strategies; "
                f"this studio learns with {self.policy_name} over {len(self.strategies)}",
                field="strategies",
            )
        self.policies[context] = policy

    # ----------------------------------------------------------------- choosing
    def begin_burst(self) -> None:
        """Forget the per-burst draws and the burst's pending posts."""
        self._burst.clear()
        self._pending.clear()

    def choose(self, agent: ContentAgent, brand: str, at: datetime | None = None) -> str:
        """The strategy ``agent`` writes its next ``brand`` post (published at ``at``) with.

        A linear policy draws knowing what the burst already chose for this context
        (posts not measured yet), so the burst's exploration spreads over several
        strategies instead of piling onto one.
        """
        context = self.context(agent.id, brand)
        policy = self.policy(context)
        if self.sharing == "homogeneous":
            if brand not in self._burst:
                self._burst[brand] = self.strategies[_draw(policy, at)]
            return self._burst[brand]
        pending = self._pending.setdefault(context, [])
        if isinstance(policy, LinearThompson) and self.taste is not None:
            chosen = prefer(agent.weights, self._close_calls(policy, at, pending))
        else:
            drawn = [self.strategies[_draw(policy, at, pending)] for _ in range(self.candidates)]
            chosen = prefer(agent.weights, drawn)
        pending.append(self.strategies.index(chosen))
        return chosen

    def _close_calls(
        self, policy: LinearThompson, at: datetime | None, pending: Sequence[int]
    ) -> list[str]:
        """The ``candidates`` best of one draw that are within ``taste`` of the best, best first.

        An agent's weights only decide between strategies the evidence cannot tell
        apart (the drawn effects differ by less than ``taste``, log scale): personal
        taste costs little, and once the evidence is clear it yields.
        """
        drawn = policy.draw(None if at is None else days(at), pending)
        order = sorted(range(len(drawn)), key=lambda i: (-drawn[i], i))[: self.candidates]
        top = drawn[order[0]]
        return [self.strategies[i] for i in order if top - drawn[i] <= (self.taste or 0.0)]

    # ----------------------------------------------------------------- learning
    def observe(
        self,
        agent_id: str,
        brand: str,
        strategy: str,
        engagement: float,
        *,
        topic: str | None = None,
        quality: float | None = None,
        at: datetime | None = None,
    ) -> float:
        """Learn from one post's engagement; its reward relative to the brand's running mean.

        A :class:`~maestro.learning.bandits.linear.LinearThompson` policy learns the log
        engagement with the post's ``topic``, ``quality`` and publication time ``at``
        as covariates; a plain bandit learns the relative reward.
        """
        if strategy not in self.strategies:
            return 0.0
        ctx = self.context(agent_id, brand)
        mean = self.log_means.get(ctx)
        if mean is None and engagement > 0:
            mean = math.log(engagement)
        reward = relative_reward(engagement, mean if mean is not None else 0.0, self.sharpness)
        policy = self.policy(ctx)
        arm = self.strategies.index(strategy)
        if isinstance(policy, LinearThompson):
            value = (
                math.log(max(engagement, ENGAGEMENT_FLOOR)) if math.isfinite(engagement) else None
            )
            if value is not None:
                policy.observe(
                    arm,
                    value,
                    covariates(topic, quality, at),
                    at=None if at is None else days(at),
                )
        else:
            policy.update(arm, reward)
        if engagement > 0 and mean is not None:
            step = 1.0 / min(DEFAULT_MEAN_MEMORY, self.observed.get(ctx, 0) + 1.0)
            self.log_means[ctx] = mean + step * (math.log(engagement) - mean)
        self.observed[ctx] = self.observed.get(ctx, 0) + 1
        self.touched.add(ctx)
        return reward

    def take_touched(self) -> list[str]:
        """Contexts updated since the last call (to persist), sorted."""
        out = sorted(self.touched)
        self.touched.clear()
        return out


def _draw(policy: Policy, at: datetime | None, pending: Sequence[int] = ()) -> int:
    """One draw from ``policy``; a linear model draws at ``at`` knowing the ``pending`` posts."""
    if isinstance(policy, LinearThompson):
        return policy.choose(None if at is None else days(at), pending)
    return policy.select()


def prefer(weights: Mapping[str, float], drawn: Iterable[str]) -> str:
    """The drawn strategy ``weights`` favour most; ties go to the earlier draw."""
    best: str | None = None
    for s in drawn:
        if best is None or weights.get(s, 0.0) > weights.get(best, 0.0):
            best = s
    if best is None:
        raise ValidationError("no strategy was drawn", field="candidates")
    return best
