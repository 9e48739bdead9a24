"""Settings of the content studio cycle (seed 000): its rhythm, its checkpoint and its sink.

Every seed number is a named ``DEFAULT_*`` constant; set them in ``maestro.toml``
under ``[studio]`` or with ``MAESTRO_STUDIO__...`` variables.
"""

from __future__ import annotations

import re
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = [
    "BUILTIN_SINKS",
    "DEFAULT_BURST_EVERY_HOURS",
    "DEFAULT_EVOLUTION_EVERY_DAYS",
    "DEFAULT_FEEDBACK_EVERY_HOURS",
    "DEFAULT_METRICS_EVERY_HOURS",
    "DEFAULT_RESEARCH_EVERY_HOURS",
    "DEFAULT_SCOUT_EVERY_HOURS",
    "Sharing",
    "StudioSettings",
    "WebhookSinkSettings",
]

DEFAULT_BURST_EVERY_HOURS: Final = 24.0
"""Seed 000: one daily burst of proposals."""
DEFAULT_METRICS_EVERY_HOURS: Final = 3.0
"""Seed 000: metrics are collected every 3 hours (P2)."""
DEFAULT_FEEDBACK_EVERY_HOURS: Final = 6.0
"""Seed 000: a feedback cycle (decay, patterns, adaptation) every 6 hours."""
DEFAULT_EVOLUTION_EVERY_DAYS: Final = 7.0
"""Seed 000: weekly selection and spawning."""
DEFAULT_SCOUT_EVERY_HOURS: Final = 6.0
"""Maestro's choice: scouting (P2) four times a day."""
DEFAULT_RESEARCH_EVERY_HOURS: Final = 24.0
"""Maestro's choice: bootstrap research (P3) once a day."""
DEFAULT_RETRY_EVERY_MINUTES: Final = 30.0
"""Seed 000: deferred P2 work is rescheduled for +30 minutes."""
DEFAULT_AUTO_APPROVE_QUALITY: Final = 0.7
"""Maestro's choice: the checkpoint before publishing approves content scoring above this."""

Sharing = Literal["hybrid", "independent", "homogeneous"]
"""How agents share what they learn (seed 000 section A): the recommended hybrid (shared
per-brand evidence and patterns, per-agent weights), fully independent agents, or one
shared policy every agent follows."""
BUILTIN_SINKS: Final = ("simulator", "webhook")
_PLUGIN = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")


class WebhookSinkSettings(BaseModel):
    """The HTTP sink: one JSON POST per published item."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    url: str | None = None
    """Receiver of published items; required when ``sink`` is ``webhook``."""
    attempts: int = Field(default=4, ge=1, le=10)
    """Deliveries tried before the item is marked failed."""
    backoff_seconds: float = Field(default=1.0, ge=0.0)
    """First retry delay (on the injected clock); doubles on each further retry."""
    timeout_seconds: float = Field(default=10.0, gt=0.0)
    """Per-request timeout."""
    secret: str | None = None
    """Sent as ``Authorization: Bearer <secret>`` when set (never logged)."""


class StudioSettings(BaseModel):
    """The content cycle of every workspace and brand."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    brands: tuple[str, ...] = ()
    """Brands the studio writes for (topics from ``topics``, else ``default_topics``)."""
    topics: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    """Topics per brand."""
    default_topics: tuple[str, ...] = ("habits", "sleep", "nutrition", "focus")
    """Topics of a brand missing from ``topics``."""
    voices: dict[str, str] = Field(default_factory=dict)
    """Brand voice per brand, given to every generation prompt."""
    default_voice: str = "clear, warm and practical"
    """Voice of a brand missing from ``voices``."""
    proposals_per_agent: int = Field(default=1, ge=1, le=10)
    """Proposals each agent makes for each brand in a burst."""
    burst_every_hours: float = Field(default=DEFAULT_BURST_EVERY_HOURS, gt=0)
    """Period of the daily burst."""
    metrics_every_hours: float = Field(default=DEFAULT_METRICS_EVERY_HOURS, gt=0)
    """Period of metrics collection (P2)."""
    feedback_every_hours: float = Field(default=DEFAULT_FEEDBACK_EVERY_HOURS, gt=0)
    """Period of the feedback cycle."""
    evolution_every_days: float = Field(default=DEFAULT_EVOLUTION_EVERY_DAYS, gt=0)
    """Period of evolution (selection, gene pool, spawning)."""
    scout_every_hours: float = Field(default=DEFAULT_SCOUT_EVERY_HOURS, gt=0)
    """Period of scouting (P2)."""
    research_every_hours: float = Field(default=DEFAULT_RESEARCH_EVERY_HOURS, gt=0)
    """Period of bootstrap research (P3)."""
    retry_every_minutes: float = Field(default=DEFAULT_RETRY_EVERY_MINUTES, gt=0)
    """How often deferred P2 work is looked at again."""
    approval_poll_seconds: float = Field(default=15.0, gt=0)
    """How often a running studio looks in the database for items a human approved (an
    announcement on the coordinator publishes them sooner, when it reaches the studio)."""
    metrics_maturity_hours: float = Field(default=2.0, ge=0)
    """A post's metrics are collected once it is at least this old."""
    auto_approve_quality: float = Field(default=DEFAULT_AUTO_APPROVE_QUALITY, ge=0, le=1)
    """Checkpoint before publishing: content scoring strictly above this is auto-approved."""
    sharing: Sharing = "hybrid"
    """How agents share evidence; ``hybrid`` is the product, the others are baselines."""
    candidates: int = Field(default=1, ge=1, le=8)
    """Strategies an agent draws from its brand's policy before picking the one it weights most.

    1: the policy decides alone. With 2 independent draws, agents whose adapted weights
    concentrate override a clear policy; on the studio benchmark that cost about 3% of
    engagement against the linear learner, so the default is 1 (see docs/studio.md)."""
    taste_margin: float | None = Field(default=None, ge=0, le=5)
    """With the ``linear-thompson`` policy: an agent draws once and its weights choose among
    the ``candidates`` best drawn strategies within this margin (log engagement) of the
    best. None: ``candidates`` independent draws, as for the plain bandits."""
    reward_sharpness: float = Field(default=4.0, gt=0, le=20)
    """Reward = 1 / (1 + (brand mean / engagement) ** sharpness): engagement relative to the
    brand's running mean, squashed into [0, 1] for the bandit."""
    policy: str = "linear-thompson"
    """Learning policy per brand: ``linear-thompson`` (``maestro.learning.bandits.linear``: log
    engagement with topic, quality and hour as covariates, drift and change aware) or a
    bandit of ``maestro.learning.bandits`` fed the relative reward."""
    quota: Literal["workspace", "provider"] = "workspace"
    """Bucket platform calls (metrics collection) draw on: the workspace's, or the sink's."""
    sink: str = "simulator"
    """Where published items go: ``simulator`` (which also supplies their metrics),
    ``webhook``, or a plug-in ``package.module:factory`` called as
    ``factory(engine, **sink_options)`` that returns a ``maestro.cycles.sinks.Sink``
    (and, if it also is a ``MetricSource``, the metrics source; else metrics arrive
    through ``POST /api/metrics``)."""
    sink_options: dict[str, Any] = Field(default_factory=dict)
    """Keyword arguments of a plug-in sink's factory."""
    webhook: WebhookSinkSettings = WebhookSinkSettings()
    """The HTTP sink (metrics then arrive through ``POST /api/metrics``)."""
    seed: int = 0
    """Seed of every random choice of the cycle (strategy draws, topics, evolution)."""

    @field_validator("sink")
    @classmethod
    def _known_sink(cls, value: str) -> str:
        if value in BUILTIN_SINKS or _PLUGIN.match(value):
            return value
        raise ValueError(
            f"{value!r} is neither {' nor '.join(BUILTIN_SINKS)} nor a plug-in "
            "'package.module:factory'"
        )
