"""``maestro demo --recommend``: simulated users get a tip a day; what did the agents earn?

Runs on its own manual clock so simulated days pass in seconds: each day the
precompute ticks (every 15 simulated minutes) refresh the snippets, each user asks for a tip
(spaced in simulated time so the offline provider's token bucket is respected),
reacts as their hidden taste says, and at the end the reward report is printed
next to the simulator's truth. Headless: progress goes to a callback.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from maestro.clock import ManualClock
from maestro.config import Settings
from maestro.engine import Maestro
from maestro.llm.offline import OFFLINE_MODEL
from maestro.llm.ratelimit.keys import provider_key
from maestro.recommend.precompute import Precompute
from maestro.recommend.report import RewardReport, from_db, summarise
from maestro.recommend.service import Recommender
from maestro.recommend.store import UserStateRepo
from maestro.sim.users import UserSimulator

__all__ = ["DemoReport", "run_demo"]

START = 1_767_254_400.0  # 2026-01-01T08:00:00Z


@dataclass(frozen=True)
class DemoReport:
    users: int
    days: int
    tips: int
    fallback_tips: int
    outputs_computed: int
    report: RewardReport
    truth: dict[str, int]
    """How many simulated users secretly respond best to each agent's findings."""
    sample_tip: str


async def run_demo(
    settings: Settings,
    *,
    users: int = 100,
    days: int = 3,
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
) -> DemoReport:
    """Simulate ``days`` of daily tips for ``users`` simulated users on ``settings``' storage."""
    clock = ManualClock(START)
    async with Maestro.from_settings(settings, clock=clock) as engine:
        workspace = await engine.tenancy.create_workspace(f"recommend-demo-{int(clock.time())}")
        sim = UserSimulator(seed)
        people = sim.users(users)
        repo = UserStateRepo(engine.db, clock)
        await sim.populate(repo, workspace.id, people, clock.now())
        pre = Precompute(engine.db, clock, engine.coord, settings=settings.recommend)
        rec = Recommender(engine.db, clock, engine.gateway, settings=settings.recommend)
        refill = settings.ratelimit.policy_for(provider_key(OFFLINE_MODEL)).refill_per_minute
        spacing = 60.0 / refill * 1.05
        tips = fallback = computed = 0
        sample = ""
        last_tick = None
        for day in range(days):
            for i, person in enumerate(people):
                if (tick := pre.tick_of(clock.now())) != last_tick:
                    computed += (await pre.run_tick(tick)).computed
                    last_tick = tick
                tip = await rec.recommend(workspace.id, person.key)
                tips += 1
                fallback += tip.fallback
                sample = sample or tip.text
                reaction = sim.react(person, tip.agents, draw=day)
                await rec.feedback(workspace.id, tip.id, reaction)
                clock.advance(spacing)
                if progress is not None:
                    progress(day * users + i + 1, days * users)
            clock.set(START + (day + 1) * 86400)
            await sim.populate(repo, workspace.id, people, clock.now())
        report = summarise(await from_db(engine.db, workspace_id=workspace.id))
    return DemoReport(
        users=users,
        days=days,
        tips=tips,
        fallback_tips=fallback,
        outputs_computed=computed,
        report=report,
        truth=dict(Counter(p.likes for p in people)),
        sample_tip=sample,
    )
