"""What every job of one studio shares: the engine's parts, the population, the counters.

A studio is one workspace's content cycle over its brands. Its jobs (burst, metrics,
feedback, evolution, scouting, research) run one at a time under :attr:`CycleContext.lock`:
they share the population and the policies, and on one workspace the order of their
writes is then the order of their ticks.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from maestro.agents.content import ContentAgent
from maestro.agents.evolution import PopulationSettings
from maestro.agents.population_store import PopulationStore
from maestro.agents.strategies import StrategyCatalog
from maestro.clock import Clock
from maestro.cycles.choice import StrategySelector
from maestro.cycles.items import ItemStore
from maestro.cycles.settings import StudioSettings
from maestro.cycles.sinks import MetricSource, PublishedItem, Sink
from maestro.learning.policy_store import PolicyStore
from maestro.llm.ratelimit.limiter import RateLimiter
from maestro.llm.types import Gateway
from maestro.memory.manager import MemoryManager
from maestro.orchestration.settings import OrchestrationSettings
from maestro.store.db import Database

__all__ = ["CycleContext", "CycleStats", "DeferredKind", "MetricsEvent", "PublishEvent"]

DeferredKind = Literal["metrics", "scout"]


@dataclass(frozen=True, slots=True)
class PublishEvent:
    """Emitted when an item is published (the demo and benchmarks listen)."""

    item: PublishedItem
    drafts: int


@dataclass(frozen=True, slots=True)
class MetricsEvent:
    """Emitted when a post's engagement reaches the cycle."""

    agent_id: str
    brand: str
    strategy: str
    engagement: float
    reward: float
    published_at: datetime


@dataclass
class CycleStats:
    """Counters of what the cycle did (the engine stays headless: callers render them)."""

    proposals: int = 0
    generations: int = 0
    examinations: int = 0
    revisions: int = 0
    published: int = 0
    held: int = 0
    rejected: int = 0
    """Held items rejected by the approval timeout (a human's rejections are in the database)."""
    released: int = 0
    """Held items published after their approval window (timeout outcome ``approve``)."""
    released_by_human: int = 0
    """Held items a human approved that the retry job sent to the sink (a sink error also
    counts in ``failed``)."""
    failed: int = 0
    healed: int = 0
    drafts_to_threshold: Counter[int] = field(default_factory=Counter)
    deferred: Counter[str] = field(default_factory=Counter)
    served_after_defer: Counter[str] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)
    refused_over_budget: Counter[str] = field(default_factory=Counter)
    metrics_collected: int = 0
    feedback_cycles: int = 0
    evolutions: int = 0
    patterns_discovered: int = 0
    scouted: int = 0
    researched: int = 0

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {}
        for name, value in vars(self).items():
            out[name] = dict(sorted(value.items())) if isinstance(value, Counter) else value
        return out


@dataclass
class CycleContext:
    """One studio's state and parts."""

    workspace_id: str
    settings: StudioSettings
    population_settings: PopulationSettings
    orchestration: OrchestrationSettings
    clock: Clock
    db: Database
    gateway: Gateway
    limiter: RateLimiter
    memory: MemoryManager
    items: ItemStore
    population: PopulationStore
    policies: PolicyStore
    catalog: StrategyCatalog
    selector: StrategySelector
    sink: Sink
    source: MetricSource
    quota_key: str
    brands: tuple[str, ...]
    agents: list[ContentAgent] = field(default_factory=list)
    rng: random.Random = field(default_factory=random.Random)
    stats: CycleStats = field(default_factory=CycleStats)
    notes: dict[str, dict[str, str]] = field(default_factory=dict)
    """Latest scouting and research notes per brand, given to generation prompts."""
    deferred: dict[tuple[DeferredKind, str], datetime] = field(default_factory=dict)
    """Deferred P2 work: (kind, brand) -> when to try again."""
    on_publish: list[Callable[[PublishEvent], None]] = field(default_factory=list)
    on_metrics: list[Callable[[MetricsEvent], None]] = field(default_factory=list)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    seq: int = 0
    """Items created so far (orders items deterministically within a tick)."""

    def topics(self, brand: str) -> tuple[str, ...]:
        return self.settings.topics.get(brand) or self.settings.default_topics

    def voice(self, brand: str) -> str:
        return self.settings.voices.get(brand, self.settings.default_voice)

    def active_agents(self) -> list[ContentAgent]:
        return [a for a in self.agents if a.active]

    def defer(self, kind: DeferredKind, brand: str, retry_at: datetime) -> None:
        self.stats.deferred[kind] += 1
        self.deferred[(kind, brand)] = retry_at

    def emit_publish(self, event: PublishEvent) -> None:
        for listener in self.on_publish:
            listener(event)

    def emit_metrics(self, event: MetricsEvent) -> None:
        for listener in self.on_metrics:
            listener(event)
