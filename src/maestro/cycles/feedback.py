"""Metrics collection (P2, every 3 hours) and the feedback cycle (every 6 hours).

Collection asks the metric source for the engagement of posts old enough to be
measured; a pulling source costs one P2 token per brand and batch, and a brand
that finds the bucket empty is deferred (retried by the studio's retry job). Every
engagement that reaches the cycle, pulled or pushed through the API, updates the
learning policy of its context once.

The feedback cycle runs the learned-pattern lifecycle per brand (validate or
weaken, discover, archive: :meth:`~maestro.memory.patterns.PatternStore.feedback`)
and adapts every agent's weights toward the strategies that worked for it,
relative to each brand's decay-weighted average, under the diversity rules.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from maestro.agents.adaptation import adapt_population
from maestro.cycles.context import CycleContext, MetricsEvent
from maestro.cycles.items import Harvested
from maestro.cycles.sinks import AwaitingMetrics
from maestro.llm.ratelimit.policy import Deferred
from maestro.llm.types import Priority
from maestro.memory.weighted import weighted_by, weighted_mean

log = logging.getLogger("maestro.cycles")

__all__ = ["FeedbackSummary", "collect_metrics", "feedback_cycle", "load_policies", "save_policies"]


@dataclass(frozen=True, slots=True)
class FeedbackSummary:
    """What one feedback cycle changed."""

    validated: int
    weakened: int
    discovered: int
    archived: int
    diversity: float


async def collect_metrics(
    ctx: CycleContext, tick: datetime, brands: Sequence[str] | None = None
) -> int:
    """Collect what the source has for mature posts, learn from it; how many readings arrived."""
    cutoff = ctx.clock.now() - timedelta(hours=ctx.settings.metrics_maturity_hours)
    chosen = list(brands or ctx.brands)
    waiting: dict[str, list[AwaitingMetrics]] = {}
    if ctx.source.pulls:
        for post in await ctx.items.awaiting_metrics(
            ctx.workspace_id, chosen, published_before=cutoff
        ):
            waiting.setdefault(post.brand, []).append(post)
    readings = 0
    for brand in chosen:
        if waiting.get(brand):
            outcome = await ctx.limiter.acquire(ctx.quota_key, Priority.P2)
            if isinstance(outcome, Deferred):
                ctx.defer("metrics", brand, outcome.retry_at)
                continue
            collected = await ctx.source.collect(waiting[brand])
            readings += await ctx.items.record_readings(ctx.workspace_id, collected)
        if ctx.deferred.pop(("metrics", brand), None) is not None:
            ctx.stats.served_after_defer["metrics"] += 1
    await learn(ctx)
    ctx.stats.metrics_collected += readings
    return readings


async def learn(ctx: CycleContext) -> int:
    """Feed every newly measured post to its policy once; persist the touched policies."""
    harvested = await ctx.items.harvest(ctx.workspace_id)
    for h in harvested:
        reward = _observe(ctx, h)
        ctx.emit_metrics(
            MetricsEvent(
                agent_id=h.agent_id,
                brand=h.brand,
                strategy=h.strategy,
                engagement=h.engagement,
                reward=reward,
                published_at=h.published_at,
            )
        )
    await save_policies(ctx)
    return len(harvested)


def _observe(ctx: CycleContext, h: Harvested) -> float:
    """Feed one measured post to its learning context; its relative reward."""
    return ctx.selector.observe(
        h.agent_id,
        h.brand,
        h.strategy,
        h.engagement,
        topic=h.topic,
        quality=h.quality,
        at=h.published_at,
    )


async def save_policies(ctx: CycleContext) -> None:
    for context in ctx.selector.take_touched():
        await ctx.policies.save(ctx.workspace_id, context, ctx.selector.policy(context))


async def load_policies(ctx: CycleContext) -> int:
    """Continue from the policies stored for this studio's sharing mode; how many were found.

    A stored policy that no longer fits (a strategy was added to the catalog, or
    ``studio.policy`` names another learner) is not thrown away with its evidence:
    every policy is relearned from the measured posts in the database, in the order
    they were published, and saved.
    """
    prefix = f"studio:{ctx.settings.sharing}:"
    found = stale = 0
    for key in await ctx.policies.keys(ctx.workspace_id, prefix=prefix):
        stored = await ctx.policies.get(ctx.workspace_id, key)
        if stored is None:
            continue
        if ctx.selector.fits(stored.policy):
            ctx.selector.load(key, stored.policy)
            found += 1
        else:
            stale += 1
    if stale:
        ctx.selector.policies.clear()
        history = await ctx.items.measured(ctx.workspace_id)
        for h in history:
            _observe(ctx, h)
        await save_policies(ctx)
        log.info(
            "relearned the studio's policies from %d measured posts: %d stored ones no longer "
            "fit %s over %d strategies",
            len(history),
            stale,
            ctx.selector.policy_name,
            len(ctx.selector.strategies),
            extra={"fields": {"workspace_id": ctx.workspace_id}},
        )
    return found


async def feedback_cycle(ctx: CycleContext, tick: datetime) -> FeedbackSummary:
    """Patterns per brand, then adaptation of every agent (diversity rules kept)."""
    now = ctx.clock.now()
    decay = ctx.memory.settings.metrics_decay_days
    lifts: dict[str, dict[str, list[tuple[float, float]]]] = {}
    relative: dict[str, list[tuple[float, float]]] = {}
    counts = [0, 0, 0, 0]
    for brand in ctx.brands:
        samples = await ctx.memory.posts.samples(ctx.workspace_id, brand)
        if not samples:
            continue
        report = await ctx.memory.patterns.feedback(ctx.workspace_id, brand, samples)
        for i, part in enumerate(
            (report.validated, report.weakened, report.discovered, report.archived)
        ):
            counts[i] += len(part)
        overall = weighted_mean(((s.value, s.published_at) for s in samples), now, decay)
        if overall is None or overall.mean <= 0:
            continue
        by_pair = weighted_by(samples, lambda s: (s.agent_id, s.strategy), now, decay)
        for (agent_id, strategy), stat in by_pair.items():
            lift = stat.mean / overall.mean
            lifts.setdefault(agent_id, {}).setdefault(strategy, []).append((lift, stat.weight))
            relative.setdefault(agent_id, []).append((lift, stat.weight))
    scores = {
        agent_id: {s: _weighted(values) for s, values in per.items()}
        for agent_id, per in lifts.items()
    }
    policy = ctx.population_settings
    adapted, _ = adapt_population(
        ctx.agents,
        scores,
        policy=policy.adaptation_policy(),
        diversity=policy.diversity_policy(),
    )
    ctx.agents = [
        a.with_performance(_performance(relative[a.id])) if a.id in relative else a for a in adapted
    ]
    await ctx.population.save_agents(ctx.workspace_id, ctx.agents)
    point = await ctx.population.record_diversity(ctx.workspace_id, ctx.agents, "adaptation")
    ctx.stats.feedback_cycles += 1
    ctx.stats.patterns_discovered += counts[2]
    return FeedbackSummary(
        validated=counts[0],
        weakened=counts[1],
        discovered=counts[2],
        archived=counts[3],
        diversity=point.diversity,
    )


def _weighted(values: list[tuple[float, float]]) -> float:
    total = math.fsum(w for _, w in values)
    if total <= 0:
        return math.fsum(v for v, _ in values) / len(values)
    return math.fsum(v * w for v, w in values) / total


def _performance(values: list[tuple[float, float]]) -> float:
    """An agent's lift over its brands' averages mapped into [0, 1] (0.5 = average)."""
    lift = max(_weighted(values), 0.0)
    return lift / (1.0 + lift)
