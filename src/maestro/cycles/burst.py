"""The daily burst: every agent proposes for every brand; the good ones are published.

One proposal is one generation and one examination call at P1 (seed 000). Below
the quality threshold the proposal is self-corrected (revise, examine again: two
more P1 calls per round) under the seed 003 rules: stop at the threshold, after
``max_iterations`` drafts, or when a revision improved quality by less than
``improvement_threshold``. A call that fails is retried at P0 ("healing").

Before publishing, the checkpoint applies the auto-approval rules of
:mod:`maestro.orchestration.checkpoints`: content scoring above
``studio.auto_approve_quality`` is approved; the rest is held for a human
(``GET/POST /api/studio/items``, ``maestro studio items``). :func:`settle_held`,
run by the retry job, publishes what a human approved and gives items nobody
decided within the approval timeout the configured timeout outcome.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from maestro.agents.content import ContentAgent
from maestro.agents.evolution import record_use
from maestro.cycles.choice import stable_seed
from maestro.cycles.context import CycleContext, PublishEvent
from maestro.cycles.items import ItemStatus, NewItem
from maestro.cycles.sinks import PublishedItem
from maestro.errors import ProviderError, RateLimitedError
from maestro.llm.templates import render
from maestro.llm.types import CompletionRequest, CompletionResult, Priority
from maestro.orchestration.calls import Verdict, parse_verdict
from maestro.orchestration.checkpoints import Evidence, auto_approval
from maestro.orchestration.spec import AutoApproveRules, CheckpointSpec
from maestro.store.base import new_id

__all__ = [
    "EXAMINE_TEMPLATE",
    "GENERATE_TEMPLATE",
    "REVISE_TEMPLATE",
    "BurstReport",
    "call",
    "publish_checkpoint",
    "run_burst",
    "settle_held",
]

GENERATE_TEMPLATE = "content-generate-v1"
EXAMINE_TEMPLATE = "content-examine-v1"
REVISE_TEMPLATE = "content-revise-v1"


@dataclass(frozen=True, slots=True)
class BurstReport:
    """What one burst did."""

    proposals: int
    published: int
    held: int
    failed: int


def publish_checkpoint(ctx: CycleContext) -> CheckpointSpec:
    """The checkpoint every proposal passes before publishing."""
    return CheckpointSpec(
        name="before-publish",
        description="Approve content before it reaches the audience",
        condition="before_execution",
        action="request_approval",
        auto_approve_if=AutoApproveRules(quality_above=ctx.settings.auto_approve_quality),
        timeout_seconds=ctx.orchestration.approval_timeout_seconds,
        timeout_outcome=ctx.orchestration.approval_timeout_outcome,
    )


async def call(
    ctx: CycleContext,
    request: CompletionRequest,
    *,
    agent: str,
    purpose: str,
    priority: Priority = Priority.P1,
) -> CompletionResult:
    """One gateway call; a failed P1 call is retried at P0 (healing) up to the step limit."""
    attempts = max(1, ctx.orchestration.max_step_attempts)
    for attempt in range(1, attempts + 1):
        try:
            return await ctx.gateway.complete(
                request, workspace=ctx.workspace_id, agent=agent, purpose=purpose, priority=priority
            )
        except (ProviderError, RateLimitedError) as exc:
            # Deferred/Skipped (P2/P3) are for the caller to reschedule, not to heal.
            if priority > Priority.P1 or attempt == attempts:
                raise
            if isinstance(exc, RateLimitedError) and priority == Priority.P0:
                raise
            priority = Priority.P0
            ctx.stats.healed += 1
    raise AssertionError("unreachable")


async def run_burst(ctx: CycleContext, tick: datetime) -> BurstReport:
    """Every active agent proposes ``proposals_per_agent`` posts for every brand."""
    ctx.selector.begin_burst()
    day = int(tick.timestamp() // (ctx.settings.burst_every_hours * 3600))
    checkpoint = publish_checkpoint(ctx)
    published = held = failed = proposals = 0
    strategies = ctx.catalog.names()
    for b, brand in enumerate(ctx.brands):
        knowledge = None
        if ctx.settings.sharing != "independent":
            section = await ctx.memory.patterns.knowledge_section(ctx.workspace_id, brand)
            knowledge = section.text if section else None
        topics = ctx.topics(brand)
        for i, agent in enumerate(list(ctx.active_agents())):
            for n in range(ctx.settings.proposals_per_agent):
                strategy = ctx.selector.choose(agent, brand, ctx.clock.now())
                topic = topics[(day + i + b + n) % len(topics)]
                _replace_agent(ctx, record_use(agent, strategy, ctx.agents, strategies))
                agent = next(a for a in ctx.agents if a.id == agent.id)
                proposals += 1
                item = await _propose(ctx, agent, brand, topic, strategy, knowledge, (day, n))
                if item is None:
                    failed += 1
                    continue
                outcome = await _checkpoint(ctx, checkpoint, item)
                published += outcome == "published"
                held += outcome == "held"
                failed += outcome == "failed"
    await ctx.population.save_agents(ctx.workspace_id, ctx.agents)
    return BurstReport(proposals=proposals, published=published, held=held, failed=failed)


def _replace_agent(ctx: CycleContext, agent: ContentAgent) -> None:
    ctx.agents = [agent if a.id == agent.id else a for a in ctx.agents]


async def _propose(
    ctx: CycleContext,
    agent: ContentAgent,
    brand: str,
    topic: str,
    strategy: str,
    knowledge: str | None,
    slot: tuple[int, int],
) -> NewItem | None:
    """Generate, examine and self-correct one proposal; None if a step failed for good."""
    ctx.stats.proposals += 1
    notes = [v for _, v in sorted(ctx.notes.get(brand, {}).items())]
    prompt = render(
        GENERATE_TEMPLATE,
        brand=brand,
        voice=ctx.voice(brand),
        topic=topic,
        strategy=strategy,
        fragment=ctx.catalog.fragment(strategy),
        agent=agent.name,
        personality=agent.dna.personality,
        notes=notes,
        knowledge=knowledge,
    )
    request = CompletionRequest.of(
        prompt.text,
        temperature=agent.dna.temperature,
        seed=stable_seed(ctx.settings.seed, brand, agent.id, *slot),
        template_version=prompt.template_version,
    )
    try:
        draft = await call(ctx, request, agent=agent.name, purpose="studio_generate")
        ctx.stats.generations += 1
        text, drafts = draft.text, 1
        verdict = await _examine(ctx, brand, topic, text)
        best_text, best = text, verdict
        config = ctx.orchestration.self_correction
        while best.quality < config.min_quality_score and drafts < config.max_iterations:
            revised = await _revise(ctx, agent, brand, topic, strategy, text, verdict)
            drafts += 1
            previous, text = verdict.quality, revised
            verdict = await _examine(ctx, brand, topic, text)
            if verdict.quality > best.quality:
                best_text, best = text, verdict
            if verdict.quality - previous < config.improvement_threshold:
                break
    except (ProviderError, RateLimitedError):
        ctx.stats.failed += 1
        return None
    ctx.stats.drafts_to_threshold[drafts] += 1
    ctx.seq += 1
    return NewItem(
        id=new_id(),
        seq=ctx.seq,
        brand=brand,
        agent_id=agent.id,
        strategy=strategy,
        topic=topic,
        text=best_text,
        quality=round(best.quality, 4),
        drafts=drafts,
    )


async def _examine(ctx: CycleContext, brand: str, topic: str, content: str) -> Verdict:
    aspects = list(ctx.orchestration.self_correction.critique_aspects)
    prompt = render(
        EXAMINE_TEMPLATE,
        brand=brand,
        topic=topic,
        voice=ctx.voice(brand),
        aspects=aspects,
        content=content,
    )
    request = CompletionRequest.of(
        prompt.text, temperature=0.0, template_version=prompt.template_version
    )
    attempts = max(1, ctx.orchestration.max_step_attempts)
    priority = Priority.P1
    for attempt in range(1, attempts + 1):
        result = await call(
            ctx, request, agent="examiner", purpose="studio_examine", priority=priority
        )
        ctx.stats.examinations += 1
        try:
            return parse_verdict(result.text, aspects)
        except ProviderError:
            if attempt == attempts:
                raise
            # An unreadable verdict is a failed step: heal it at P0, bypassing the cache.
            request = request.model_copy(update={"cache": "bypass", "seed": attempt})
            priority = Priority.P0
            ctx.stats.healed += 1
    raise AssertionError("unreachable")


async def _revise(
    ctx: CycleContext,
    agent: ContentAgent,
    brand: str,
    topic: str,
    strategy: str,
    content: str,
    verdict: Verdict,
) -> str:
    prompt = render(
        REVISE_TEMPLATE,
        brand=brand,
        voice=ctx.voice(brand),
        topic=topic,
        strategy=strategy,
        issues=(verdict.issues + verdict.suggestions) or ["raise the overall quality"],
        content=content,
    )
    request = CompletionRequest.of(
        prompt.text,
        temperature=agent.dna.temperature,
        seed=stable_seed(ctx.settings.seed, "revise", agent.id, content),
        template_version=prompt.template_version,
    )
    result = await call(ctx, request, agent=agent.name, purpose="studio_revise")
    ctx.stats.revisions += 1
    return result.text


async def _checkpoint(ctx: CycleContext, checkpoint: CheckpointSpec, item: NewItem) -> str:
    evidence = Evidence(quality=item.quality, success_rate=None, user_id=None)
    rule = auto_approval(checkpoint, evidence, ctx.orchestration.trusted_users)
    if rule is None:
        timeout = checkpoint.timeout_seconds or ctx.orchestration.approval_timeout_seconds
        expires = ctx.clock.now() + timedelta(seconds=timeout)
        await ctx.items.add(ctx.workspace_id, item, status="held", expires_at=expires)
        ctx.stats.held += 1
        return "held"
    return await _publish(ctx, item, rule, held=False)


async def _publish(
    ctx: CycleContext, item: NewItem, rule: str, *, held: bool, expect: ItemStatus = "held"
) -> str:
    """Publish through the sink and record the outcome.

    ``held``: the item is already stored (status ``expect``) and is settled by a
    compare-and-set on that status; otherwise it is added now.
    """
    now = ctx.clock.now()
    out = PublishedItem(
        item_id=item.id,
        workspace_id=ctx.workspace_id,
        brand=item.brand,
        agent_id=item.agent_id,
        strategy=item.strategy,
        topic=item.topic,
        text=item.text,
        quality=item.quality,
        published_at=now,
    )
    try:
        external = await ctx.sink.publish(out)
    except ProviderError as exc:
        ctx.stats.failed += 1
        if held:
            await ctx.items.decide(
                ctx.workspace_id, item.id, "failed", expect=expect, rule=rule, error=exc.message
            )
        else:
            await ctx.items.add(
                ctx.workspace_id, item, status="failed", rule=rule, error=exc.message
            )
        return "failed"
    post = await ctx.memory.posts.record_post(
        ctx.workspace_id,
        brand=item.brand,
        agent_id=item.agent_id,
        strategy=item.strategy,
        topic=item.topic,
        content_id=item.id,
        published_at=now,
    )
    if held:
        await ctx.items.decide(
            ctx.workspace_id,
            item.id,
            "published",
            expect=expect,
            rule=rule,
            post_id=post.id,
            external_id=external,
        )
    else:
        await ctx.items.add(
            ctx.workspace_id,
            item,
            status="published",
            rule=rule,
            post_id=post.id,
            external_id=external,
        )
    ctx.stats.published += 1
    ctx.emit_publish(PublishEvent(item=out, drafts=item.drafts))
    return "published"


async def settle_held(ctx: CycleContext) -> int:
    """Publish what a human approved; give items held past their window the timeout outcome.

    One query finds both (the database, not this process's counters, knows what is
    held: items of an earlier process, decisions made through the API). Every change
    is a compare-and-set on the status the item was read with, so an item a human
    decided a moment ago is not settled again. Returns how many items were settled.
    """
    due = await ctx.items.due(ctx.workspace_id)
    settled = 0
    for item in due.approved:
        await _publish(ctx, item, "human:approve", held=True, expect="approved")
        ctx.stats.released_by_human += 1
        settled += 1
    outcome = ctx.orchestration.approval_timeout_outcome
    for item in due.expired:
        if outcome == "approve":
            await _publish(ctx, item, "timeout:approve", held=True)
            ctx.stats.released += 1
            settled += 1
        elif await ctx.items.decide(
            ctx.workspace_id, item.id, "rejected", expect="held", rule="timeout:reject"
        ):
            ctx.stats.rejected += 1
            settled += 1
    return settled
