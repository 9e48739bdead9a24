"""Recommendation settings (seed 001, ADR-0013).

Every number that comes from the seed is a named ``DEFAULT_*`` constant and a
field a user can override, e.g. ``MAESTRO_RECOMMEND__PRECOMPUTE_EVERY_S=600`` or
``MAESTRO_RECOMMEND__AGENT_TTL_S='{"momentum": 3600}'``.
"""

from __future__ import annotations

from typing import Final

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "DEFAULT_EVENT_WINDOW_DAYS",
    "DEFAULT_MAX_BULK",
    "DEFAULT_MODEL_ALIAS",
    "DEFAULT_PRECOMPUTE_EVERY_S",
    "DEFAULT_REFRESH_AHEAD_S",
    "DEFAULT_TEMPLATE",
    "FALLBACK_TEMPLATE",
    "RecommendSettings",
]

DEFAULT_PRECOMPUTE_EVERY_S: Final = 15 * 60.0
"""Seed 001: the precompute job runs every 15 minutes."""
DEFAULT_TEMPLATE: Final = "v4-orchestrator"
"""Seed 001: the orchestrator prompt template."""
DEFAULT_MODEL_ALIAS: Final = "tip-generator"
"""Seed 001: the LiteLLM alias the orchestrator calls."""
FALLBACK_TEMPLATE: Final = "v1-raw-signals"
"""Maestro's choice: the prompt used when a user has no unexpired agent outputs."""
DEFAULT_BATCH_SIZE: Final = 500
"""Maestro's choice: users per precompute batch (one claim, one bulk upsert)."""
DEFAULT_REFRESH_AHEAD_S: Final = 60.0
"""Maestro's choice: a tick also refreshes outputs expiring this soon, so an output
whose TTL equals the tick interval (``time-of-day``) never lapses while the tick runs."""
DEFAULT_EVENT_WINDOW_DAYS: Final = 28
"""Maestro's choice: how much event history the agents read."""
DEFAULT_MAX_BULK: Final = 1000
"""Maestro's choice: items per bulk ingestion request."""


class RecommendSettings(BaseModel):
    """The recommendation pipeline."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    precompute_every_s: float = Field(default=DEFAULT_PRECOMPUTE_EVERY_S, gt=0)
    """Seconds between precompute ticks; must divide an hour (ticks align to the clock)."""
    batch_size: int = Field(default=DEFAULT_BATCH_SIZE, ge=1, le=10_000)
    """Users per precompute batch."""
    refresh_ahead_s: float = Field(default=DEFAULT_REFRESH_AHEAD_S, ge=0)
    """A tick refreshes outputs that expire within this many seconds of the tick."""
    event_window_days: int = Field(default=DEFAULT_EVENT_WINDOW_DAYS, ge=1, le=366)
    """Days of events loaded into a user's state for the agents."""
    agent_ttl_s: dict[str, float] = Field(default_factory=dict)
    """Per-agent TTL overrides in seconds, by agent id (defaults: each agent's seed TTL)."""
    template: str = DEFAULT_TEMPLATE
    """Orchestrator prompt template (its name is its version)."""
    fallback_template: str = FALLBACK_TEMPLATE
    """Prompt template used when the user has no unexpired outputs."""
    model: str = DEFAULT_MODEL_ALIAS
    """Model alias of the orchestrator call."""
    max_tokens: int = Field(default=120, ge=16)
    """Upper bound on the tip's length in tokens."""
    max_bulk: int = Field(default=DEFAULT_MAX_BULK, ge=1)
    """Items accepted in one bulk ingestion request."""

    @field_validator("precompute_every_s")
    @classmethod
    def _divides_an_hour(cls, v: float) -> float:
        if v != int(v) or 3600 % int(v) != 0:
            raise ValueError(
                f"precompute_every_s={v} must be a whole number of seconds dividing 3600"
            )
        return v

    @field_validator("agent_ttl_s")
    @classmethod
    def _positive_ttls(cls, v: dict[str, float]) -> dict[str, float]:
        bad = {k: t for k, t in v.items() if t <= 0}
        if bad:
            raise ValueError(f"agent TTLs must be positive, got {bad}")
        return v
