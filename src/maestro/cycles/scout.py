"""Scouting (P2) and bootstrap research (P3): notes that feed the generation prompts.

Both ask the model one short question per brand. Scouting is normal priority: with
no token now it is deferred and retried by the studio's retry job. Research is low
priority: under 20% of the bucket it is skipped and waits for its next scheduled
run (seed 000, "graceful degradation").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Literal

from maestro.cycles.context import CycleContext
from maestro.errors import BudgetExceededError, DeferredError, SkippedError
from maestro.llm.templates import render
from maestro.llm.types import CompletionRequest, Priority

__all__ = ["RESEARCH_TEMPLATE", "SCOUT_TEMPLATE", "research", "scout"]

SCOUT_TEMPLATE = "content-scout-v1"
RESEARCH_TEMPLATE = "content-research-v1"
_SENTENCE = re.compile(r"[^.!?\n]+[.!?]?")


async def scout(ctx: CycleContext, tick: datetime, brands: Sequence[str] | None = None) -> int:
    """One scouting call per brand at P2; how many brands were served."""
    return await _ask(ctx, tick, "scout", brands or ctx.brands, Priority.P2)


async def research(ctx: CycleContext, tick: datetime) -> int:
    """One research call per brand at P3; how many brands were served."""
    return await _ask(ctx, tick, "research", ctx.brands, Priority.P3)


async def _ask(
    ctx: CycleContext,
    tick: datetime,
    kind: Literal["scout", "research"],
    brands: Sequence[str],
    priority: Priority,
) -> int:
    template = SCOUT_TEMPLATE if kind == "scout" else RESEARCH_TEMPLATE
    day = int(tick.timestamp() // 86_400)
    served = 0
    for brand in brands:
        topics = ctx.topics(brand)
        prompt = render(
            template, brand=brand, voice=ctx.voice(brand), topic=topics[day % len(topics)]
        )
        request = CompletionRequest.of(
            prompt.text, temperature=0.0, template_version=prompt.template_version
        )
        try:
            result = await ctx.gateway.complete(
                request,
                workspace=ctx.workspace_id,
                agent=kind,
                purpose=f"studio_{kind}",
                priority=priority,
            )
        except DeferredError as exc:
            ctx.defer("scout", brand, exc.retry_at)
            continue
        except SkippedError:
            ctx.stats.skipped[kind] += 1
            continue
        except BudgetExceededError:
            ctx.stats.refused_over_budget[kind] += 1
            continue
        if kind == "scout" and ctx.deferred.pop(("scout", brand), None) is not None:
            ctx.stats.served_after_defer["scout"] += 1
        first = _SENTENCE.search(result.text)
        note = (first.group(0) if first else result.text).strip()[:240]
        ctx.notes.setdefault(brand, {})[kind] = f"{kind.capitalize()}: {note}"
        served += 1
        if kind == "scout":
            ctx.stats.scouted += 1
        else:
            ctx.stats.researched += 1
    return served
