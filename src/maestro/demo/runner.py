"""Run the studio for simulated days on the embedded default and record what happened.

The engine is the embedded default (a fresh SQLite file in the output folder,
in-process coordination, the offline model, the hashing embedder) with one change
that makes it seed 000's studio: every call of the workspace, model or platform,
draws on one bucket of 150 calls per hour (``gateway.quota_keys = ("workspace",)``).

While the studio runs, a recorder scores each publication against the
simulator's ground truth: the expected engagement of the strategy chosen, of a
strategy chosen uniformly at random, and of the best strategy (the oracle), for
the same brand, topic, hour and quality. These truths are read only for
evaluation; the studio sees nothing but sampled engagement.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Final, cast

from maestro.agents.diversity import population_diversity
from maestro.config import Settings
from maestro.cycles.context import PublishEvent
from maestro.cycles.settings import Sharing, StudioSettings
from maestro.cycles.simclock import SimulatedClock, SimulationDriver
from maestro.cycles.studio import Studio
from maestro.demo import DEFAULT_DAYS
from maestro.engine import Maestro
from maestro.jobs.scheduler import Scheduler
from maestro.llm.cache import SemanticCache
from maestro.llm.gateway import ResponseCache
from maestro.llm.settings import GatewaySettings
from maestro.sim.audience import DEFAULT_START, AudienceSimulator, Mode, SimulatorSettings

__all__ = [
    "DEFAULT_BRANDS",
    "DEFAULT_DAYS",
    "DayRecord",
    "DemoConfig",
    "DemoRun",
    "Recorder",
    "run_demo",
]

"""Simulated days of ``maestro demo`` (about a minute on 2 cores)."""
DEFAULT_BRANDS: Final[dict[str, tuple[str, tuple[str, ...]]]] = {
    "longevitycollege": ("calm, evidence-first", ("sleep", "nutrition", "movement", "stress")),
    "healthycollege": ("upbeat and practical", ("nutrition", "habits", "movement", "hydration")),
    "mindfulstudio": ("gentle and reflective", ("stress", "focus", "sleep", "habits")),
    "strongcoach": ("direct and energetic", ("movement", "strength", "habits", "recovery")),
    "focuslab": ("crisp and nerdy", ("focus", "habits", "stress", "tools")),
}
"""Seed 000's studio: five brands, each with its voice and topics."""


@dataclass(frozen=True, kw_only=True)
class DemoConfig:
    """What to run."""

    days: float = DEFAULT_DAYS
    """Simulated days."""
    seed: int = 7
    """Seed of the audience and of every choice the studio makes."""
    audience: Mode = "drifting"
    """How the hidden preferences move: ``stationary``, ``drifting`` or ``switching``."""
    out: Path = Path("demo-out")
    """Folder for the database, report and plot."""
    brands: int = 5
    """How many of the default brands to use (1-5)."""
    sharing: Sharing = "hybrid"
    """The studio (``hybrid``) or a baseline population (``independent``, ``homogeneous``)."""
    switch_every_days: float = 14.0
    """Days between preference switches in ``switching`` mode."""


@dataclass
class DayRecord:
    """One simulated day of publications, scored against the truth."""

    posts: int = 0
    studio: float = 0.0
    """Sum of expected engagement of what the studio published."""
    oracle: float = 0.0
    """Sum of the best strategy's expected engagement on the same slots."""
    random: float = 0.0
    """Sum of a uniformly random strategy's expected engagement on the same slots."""
    quality: float = 0.0
    best_share: float = 0.0
    """Posts that used the brand's best strategy in truth."""
    behaviour: dict[str, dict[str, int]] = field(default_factory=dict)
    """Per brand: how many agents wrote with each strategy."""
    diversity: float | None = None
    """Population diversity at the end of the day's burst."""


class Recorder:
    """Scores every publication against the simulator's ground truth."""

    def __init__(self, simulator: AudienceSimulator, start: datetime) -> None:
        self.simulator = simulator
        self.start = start
        self.days: dict[int, DayRecord] = {}

    def day_of(self, when: datetime) -> int:
        return int((when - self.start).total_seconds() // 86_400)

    def on_publish(self, event: PublishEvent) -> None:
        item = event.item
        sim = self.simulator
        t = item.published_at
        hour = t.hour
        values = {
            s: sim.expected(item.brand, s, item.topic, hour, item.quality, t)
            for s in sim.strategies
        }
        rec = self.days.setdefault(self.day_of(t), DayRecord())
        rec.posts += 1
        rec.studio += values[item.strategy]
        rec.oracle += max(values.values())
        rec.random += sum(values.values()) / len(values)
        rec.quality += item.quality
        rec.best_share += item.strategy == sim.best_strategies(item.brand, t, k=1)[0]
        per_brand = rec.behaviour.setdefault(item.brand, {})
        per_brand[item.strategy] = per_brand.get(item.strategy, 0) + 1


@dataclass
class DemoRun:
    """A finished run: the studio (still open) and what was recorded."""

    config: DemoConfig
    engine: Maestro
    studio: Studio
    simulator: AudienceSimulator
    recorder: Recorder
    cache: SemanticCache | None
    started: datetime
    ended: datetime
    wall_seconds: float
    jobs: dict[str, dict[str, int]]

    async def close(self) -> None:
        await self.studio.close()
        await self.engine.close()


def demo_settings(config: DemoConfig, database: Path) -> Settings:
    """The embedded default, with seed 000's single studio bucket and the demo's studio."""
    names = list(DEFAULT_BRANDS)[: max(1, min(config.brands, len(DEFAULT_BRANDS)))]
    return Settings.load(
        database_url=f"sqlite+aiosqlite:///{database}",
        database_schema=None,
        coord_url="memory://",
        auto_migrate=True,
        gateway=GatewaySettings(quota_keys=("workspace",)),
        simulator=SimulatorSettings(
            seed=config.seed, mode=config.audience, switch_every_days=config.switch_every_days
        ),
        studio=StudioSettings(
            brands=tuple(names),
            topics={n: DEFAULT_BRANDS[n][1] for n in names},
            voices={n: DEFAULT_BRANDS[n][0] for n in names},
            sharing=config.sharing,
            seed=config.seed,
        ),
    )


async def run_demo(
    config: DemoConfig, *, on_progress: Callable[[float], None] | None = None
) -> DemoRun:
    """Run the studio for ``config.days``; the caller reports and closes the run.

    ``on_progress`` receives the simulated days elapsed whenever the clock moves.
    """
    database = await asyncio.to_thread(_fresh_database, config.out, config.sharing)
    settings = demo_settings(config, database)
    clock = SimulatedClock(DEFAULT_START)
    engine = Maestro.from_settings(settings, clock=clock)
    await engine.start()
    current = engine.gateway.cache
    cache = current if isinstance(current, SemanticCache) else None
    if current is None and settings.cache.enabled:
        # An engine whose gateway has no response cache gets one for the demo.
        cache = SemanticCache.from_settings(settings.cache, coord=engine.coord, clock=clock)
        engine.gateway.cache = cast("ResponseCache", cache)
    workspace = await engine.tenancy.create_workspace("demo-studio")
    studio = await Studio.open(engine, workspace.id)
    sink_sim = getattr(studio.ctx.sink, "simulator", None)
    if not isinstance(sink_sim, AudienceSimulator):
        raise AssertionError("the demo runs on the simulator sink")
    # The recorder reads the truth from its own copy, so evaluation draws no samples.
    truth = AudienceSimulator.from_settings(
        settings.simulator,
        brands=sink_sim.brands,
        strategies=sink_sim.strategies,
        topics=sink_sim.topics,
    )
    recorder = Recorder(truth, DEFAULT_START)
    studio.ctx.on_publish.append(recorder.on_publish)
    scheduler = Scheduler(clock)
    studio.register(scheduler)
    burst_name = next(n for n in scheduler.jobs if n.endswith(":burst"))

    def progress(now: float) -> None:
        day = (now - DEFAULT_START.timestamp()) / 86_400
        job = scheduler.jobs[burst_name]
        if job.last_tick is not None and not job.running:
            rec = recorder.days.setdefault(recorder.day_of(job.last_tick), DayRecord())
            if rec.diversity is None:
                rec.diversity = population_diversity(studio.ctx.active_agents())
        if on_progress is not None:
            on_progress(day)

    driver = SimulationDriver(clock, scheduler)
    started = time.perf_counter()
    end = DEFAULT_START.timestamp() + config.days * 86_400
    await driver.run_until(end, on_advance=progress)
    wall = time.perf_counter() - started
    jobs = {
        name.rsplit(":", 1)[1]: {"runs": j.runs, "failures": j.failures, "missed": j.missed}
        for name, j in scheduler.jobs.items()
    }
    return DemoRun(
        config=config,
        engine=engine,
        studio=studio,
        simulator=truth,
        recorder=recorder,
        cache=cache,
        started=DEFAULT_START,
        ended=clock.now(),
        wall_seconds=wall,
        jobs=jobs,
    )


def _fresh_database(out: Path, name: str) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    database = out / f"demo-{name}.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    return database
