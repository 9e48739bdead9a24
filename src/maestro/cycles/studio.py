"""The studio: one workspace's content cycle over its brands, on a scheduler.

``Studio.open(engine, workspace_id)`` loads (or founds) the workspace's population,
picks the sink and metric source the settings name, restores the learning policies,
and :meth:`Studio.register` puts the jobs on a :class:`~maestro.jobs.scheduler.Scheduler`:

=============  ===========================  ==========  ==========================================
job            period (default)             priority    what it does
=============  ===========================  ==========  ==========================================
``burst``      24 h                         P1 (P0)     proposals, self-correction, checkpoint,
                                                        publishing (failed calls healed at P0)
``metrics``    3 h                          P2          engagement of mature posts, learning
``feedback``   6 h                          (no call)   pattern lifecycle, adaptation
``evolution``  7 days                       (no call)   selection, gene pool, spawning
``scout``      6 h                          P2          a note per brand for the next prompts
``research``   24 h                         P3          background note per brand
``retry``      30 min                       P2          deferred metrics/scouting; approval timeouts
=============  ===========================  ==========  ==========================================

The jobs of one studio run one at a time (:attr:`CycleContext.lock`). The same code
runs on the wall clock (``scheduler.start()``) and on simulated time
(:class:`~maestro.cycles.simclock.SimulationDriver`).
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from maestro.agents.evolution import found_population
from maestro.agents.population_store import PopulationStore
from maestro.cycles.burst import BurstReport, run_burst, settle_held
from maestro.cycles.choice import StrategySelector, stable_seed
from maestro.cycles.context import CycleContext
from maestro.cycles.evolve import evolve_population
from maestro.cycles.feedback import collect_metrics, feedback_cycle, learn, load_policies
from maestro.cycles.items import ItemStore
from maestro.cycles.scout import research, scout
from maestro.cycles.settings import StudioSettings
from maestro.cycles.sinks import (
    HttpWebhookSink,
    MetricSource,
    PushedMetrics,
    SimulatorSink,
    Sink,
    load_sink,
)
from maestro.errors import ConfigurationError
from maestro.jobs.scheduler import Job, Scheduler
from maestro.learning.policy_store import PolicyStore
from maestro.llm.ratelimit.keys import quota_key, workspace_key
from maestro.memory.manager import MemoryManager
from maestro.sim.audience import AudienceSimulator

if TYPE_CHECKING:
    from maestro.engine import Maestro

__all__ = ["Studio"]


class Studio:
    """The content cycle of one workspace."""

    def __init__(self, ctx: CycleContext) -> None:
        self.ctx = ctx

    @classmethod
    async def open(
        cls,
        engine: Maestro,
        workspace_id: str,
        *,
        settings: StudioSettings | None = None,
        simulator: AudienceSimulator | None = None,
        sink: Sink | None = None,
        source: MetricSource | None = None,
    ) -> Studio:
        """The studio of ``workspace_id``, its population founded on first use.

        Raises:
            ConfigurationError: no brands, or a webhook sink without a URL.
        """
        cfg = settings or engine.settings.studio
        if not cfg.brands:
            raise ConfigurationError(
                "the studio needs at least one brand: set studio.brands ([studio] "
                'brands = ["acme"] in maestro.toml, or MAESTRO_STUDIO__BRANDS=\'["acme"]\')',
                field="studio.brands",
            )
        population = PopulationStore(engine.db, engine.clock)
        catalog = await population.catalog(workspace_id)
        if sink is None:
            sink, source = _default_sink(engine, cfg, catalog.names(), simulator)
        if source is None:
            source = sink if isinstance(sink, SimulatorSink) else PushedMetrics()
        key = (
            workspace_key(workspace_id)
            if cfg.quota == "workspace"
            else quota_key("provider", sink.name)
        )
        ctx = CycleContext(
            workspace_id=workspace_id,
            settings=cfg,
            population_settings=engine.settings.population,
            orchestration=engine.settings.orchestration,
            clock=engine.clock,
            db=engine.db,
            gateway=engine.gateway,
            limiter=engine.limiter,
            memory=MemoryManager(engine.db, engine.clock, settings=engine.settings.memory),
            items=ItemStore(engine.db, engine.clock),
            population=population,
            policies=PolicyStore(engine.db, engine.clock, engine.settings.learning),
            catalog=catalog,
            selector=StrategySelector(
                catalog.names(),
                sharing=cfg.sharing,
                candidates=cfg.candidates,
                taste=cfg.taste_margin,
                sharpness=cfg.reward_sharpness,
                policy=cfg.policy,
                seed=cfg.seed,
                learning=engine.settings.learning,
            ),
            sink=sink,
            source=source,
            quota_key=key,
            brands=cfg.brands,
            rng=random.Random(stable_seed(cfg.seed, "studio")),
        )
        ctx.agents = await population.list_agents(workspace_id)
        known = [a.with_strategies(catalog.names()) for a in ctx.agents]
        if known != ctx.agents:  # strategies were added to the catalog since
            ctx.agents = known
            await population.save_agents(workspace_id, known)
        if not ctx.agents:
            ctx.agents = found_population(
                catalog.names(),
                now=engine.clock.now(),
                rng=ctx.rng,
                size=engine.settings.population.size,
                diversity=engine.settings.population.diversity_policy(),
            )
            await population.save_agents(workspace_id, ctx.agents)
            await population.record_diversity(workspace_id, ctx.agents, "founding")
        ctx.seq = await ctx.items.last_seq(workspace_id)
        await load_policies(ctx)
        return cls(ctx)

    # ------------------------------------------------------------------ jobs
    async def burst(self, tick: datetime) -> BurstReport:
        async with self.ctx.lock:
            return await run_burst(self.ctx, tick)

    async def metrics(self, tick: datetime) -> int:
        async with self.ctx.lock:
            return await collect_metrics(self.ctx, tick)

    async def feedback(self, tick: datetime) -> object:
        async with self.ctx.lock:
            return await feedback_cycle(self.ctx, tick)

    async def evolution(self, tick: datetime) -> object:
        async with self.ctx.lock:
            return await evolve_population(self.ctx, tick)

    async def scouting(self, tick: datetime) -> int:
        async with self.ctx.lock:
            return await scout(self.ctx, tick)

    async def research(self, tick: datetime) -> int:
        async with self.ctx.lock:
            return await research(self.ctx, tick)

    async def retry(self, tick: datetime) -> dict[str, int]:
        """Deferred work whose time has come; then held items: what a human approved is
        published, what timed out gets the timeout outcome (found in the database, so
        items held by an earlier process and decisions made through the API count)."""
        async with self.ctx.lock:
            now = self.ctx.clock.now()
            due = sorted(k for k, at in self.ctx.deferred.items() if at <= now)
            metrics = [b for kind, b in due if kind == "metrics"]
            scouts = [b for kind, b in due if kind == "scout"]
            out = {"metrics": 0, "scout": 0, "settled": 0}
            if metrics:
                out["metrics"] = await collect_metrics(self.ctx, tick, brands=metrics)
            elif not self.ctx.source.pulls:
                await learn(self.ctx)  # metrics pushed through the API reach the policies
            if scouts:
                out["scout"] = await scout(self.ctx, tick, brands=scouts)
            out["settled"] = await settle_held(self.ctx)
            return out

    async def release(self, tick: datetime) -> int:
        """Now rather than at the next retry tick: publish what a human approved."""
        async with self.ctx.lock:
            return await settle_held(self.ctx)

    def jobs(self) -> dict[str, tuple[timedelta, Callable[[datetime], Awaitable[Any]]]]:
        """Job name -> (period, function), in the order ties run."""
        s = self.ctx.settings
        prefix = f"studio:{self.ctx.workspace_id}"
        return {
            f"{prefix}:burst": (timedelta(hours=s.burst_every_hours), self.burst),
            f"{prefix}:metrics": (timedelta(hours=s.metrics_every_hours), self.metrics),
            f"{prefix}:feedback": (timedelta(hours=s.feedback_every_hours), self.feedback),
            f"{prefix}:evolution": (timedelta(days=s.evolution_every_days), self.evolution),
            f"{prefix}:scout": (timedelta(hours=s.scout_every_hours), self.scouting),
            f"{prefix}:research": (timedelta(hours=s.research_every_hours), self.research),
            f"{prefix}:retry": (timedelta(minutes=s.retry_every_minutes), self.retry),
        }

    def register(self, scheduler: Scheduler) -> list[Job]:
        """Put every job of this studio on ``scheduler``."""
        return [scheduler.register(name, every, fn) for name, (every, fn) in self.jobs().items()]

    async def close(self) -> None:
        """Release the sink's connections."""
        closer = getattr(self.ctx.sink, "close", None)
        if closer is not None:
            await closer()


def _default_sink(
    engine: Maestro,
    cfg: StudioSettings,
    strategies: tuple[str, ...],
    simulator: AudienceSimulator | None,
) -> tuple[Sink, MetricSource]:
    if cfg.sink == "webhook":
        return HttpWebhookSink(cfg.webhook, clock=engine.clock), PushedMetrics()
    if cfg.sink != "simulator":
        plugin = load_sink(cfg.sink, engine, cfg.sink_options)
        return plugin, plugin if isinstance(plugin, MetricSource) else PushedMetrics()
    if simulator is None:
        topics: list[str] = []
        for brand in cfg.brands:
            for topic in cfg.topics.get(brand) or cfg.default_topics:
                if topic not in topics:
                    topics.append(topic)
        simulator = AudienceSimulator.from_settings(
            engine.settings.simulator, brands=cfg.brands, strategies=strategies, topics=topics
        )
    sim = SimulatorSink(simulator)
    return sim, sim
