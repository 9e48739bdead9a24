"""Memory settings and the learned-pattern policy (seed 000 B/D, seed 003).

Every number that comes from a seed is a named ``DEFAULT_*`` constant and a
field a user can override (``MAESTRO_MEMORY__PATTERNS__INJECT_THRESHOLD=0.4``).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "DEFAULT_ARCHIVE_THRESHOLD",
    "DEFAULT_CRITIQUE_RETENTION_DAYS",
    "DEFAULT_DECAY_DAYS",
    "DEFAULT_DISCOVERY_LIFT",
    "DEFAULT_INITIAL_CONFIDENCE",
    "DEFAULT_INJECT_THRESHOLD",
    "DEFAULT_MAX_INJECTED",
    "DEFAULT_MIN_DISCOVERY_POSTS",
    "DEFAULT_TASK_RETENTION_DAYS",
    "DEFAULT_VALIDATION_BOOST",
    "DEFAULT_WEAKEN_PENALTY",
    "MemorySettings",
    "PatternPolicy",
]

DEFAULT_DECAY_DAYS = 30.0
"""Seed 000: the 30 in ``exp(-days / 30)`` (an e-folding time; the seed calls it a half-life)."""
DEFAULT_INJECT_THRESHOLD = 0.3
"""Seed 000 D.1: patterns with effective confidence above this go into prompts."""
DEFAULT_ARCHIVE_THRESHOLD = 0.1
"""Seed 000 B/D.2: patterns with effective confidence below this are archived."""
DEFAULT_DISCOVERY_LIFT = 0.30
"""Seed 000 D.1: a strategy must beat the brand average by 30% ..."""
DEFAULT_MIN_DISCOVERY_POSTS = 5
"""Seed 000 D.1: ... over at least 5 posts."""
DEFAULT_TASK_RETENTION_DAYS = 30.0
"""Seed 003: task history TTL."""
DEFAULT_CRITIQUE_RETENTION_DAYS = 7.0
"""Seed 003: critique TTL."""
DEFAULT_INITIAL_CONFIDENCE = 0.5
"""Maestro's choice: a new pattern starts half-believed (injected, not yet proven)."""
DEFAULT_VALIDATION_BOOST = 0.1
"""Maestro's choice: confidence gained per validating feedback cycle."""
DEFAULT_WEAKEN_PENALTY = 0.15
"""Maestro's choice: confidence lost per contradicting feedback cycle."""
DEFAULT_MAX_INJECTED = 8
"""Maestro's choice: at most this many patterns in one prompt (highest confidence first)."""


class PatternPolicy(BaseModel):
    """The lifecycle of a learned pattern: discover, validate or weaken, decay, archive."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    decay_days: float = Field(default=DEFAULT_DECAY_DAYS, gt=0)
    """``effective_confidence = confidence * exp(-days_since_validated / decay_days)``."""
    inject_threshold: float = Field(default=DEFAULT_INJECT_THRESHOLD, ge=0, le=1)
    """Effective confidence strictly above which a pattern is injected into prompts."""
    archive_threshold: float = Field(default=DEFAULT_ARCHIVE_THRESHOLD, ge=0, le=1)
    """Effective confidence strictly below which a pattern is archived."""
    discovery_lift: float = Field(default=DEFAULT_DISCOVERY_LIFT, ge=0)
    """Relative margin over the brand average an agent's strategy needs to become a pattern."""
    min_discovery_posts: int = Field(default=DEFAULT_MIN_DISCOVERY_POSTS, ge=1)
    """Posts an agent must have published with a strategy before it can found a pattern."""
    initial_confidence: float = Field(default=DEFAULT_INITIAL_CONFIDENCE, gt=0, le=1)
    """Confidence of a newly discovered pattern."""
    validation_lift: float = Field(default=0.0, ge=0)
    """Relative margin over the brand average that counts as validation (0: any outperformance)."""
    validation_boost: float = Field(default=DEFAULT_VALIDATION_BOOST, ge=0, le=1)
    """Confidence added when a feedback cycle validates a pattern (capped at 1)."""
    weaken_penalty: float = Field(default=DEFAULT_WEAKEN_PENALTY, ge=0, le=1)
    """Confidence removed when a feedback cycle contradicts a pattern (floored at 0)."""
    max_injected: int = Field(default=DEFAULT_MAX_INJECTED, ge=1)
    """Most patterns rendered into one institutional-knowledge section."""

    @model_validator(mode="after")
    def _thresholds_ordered(self) -> PatternPolicy:
        if self.archive_threshold > self.inject_threshold:
            raise ValueError(
                f"archive_threshold {self.archive_threshold} must not exceed "
                f"inject_threshold {self.inject_threshold}"
            )
        return self


class MemorySettings(BaseModel):
    """Task history, critiques, weighted metrics and learned patterns."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    task_retention_days: float = Field(default=DEFAULT_TASK_RETENTION_DAYS, gt=0)
    """Task results older than this are invisible to reads and removed by the purge job."""
    critique_retention_days: float = Field(default=DEFAULT_CRITIQUE_RETENTION_DAYS, gt=0)
    """Critiques older than this are invisible to reads and removed by the purge job."""
    metrics_decay_days: float = Field(default=DEFAULT_DECAY_DAYS, gt=0)
    """Post metrics are weighted by ``exp(-days_since_published / metrics_decay_days)``."""
    index_sync_overlap_seconds: float = Field(default=120.0, ge=0)
    """How far back the similarity index re-reads when syncing rows other replicas wrote."""
    patterns: PatternPolicy = PatternPolicy()
    """The learned-pattern lifecycle."""
