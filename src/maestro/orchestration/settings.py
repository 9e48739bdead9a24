"""Orchestration settings: every seed number is a named default a user can change.

Set them in ``maestro.toml`` under ``[orchestration]`` or with environment
variables such as ``MAESTRO_ORCHESTRATION__ROUTING_CONFIDENCE=0.75``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "DEFAULT_APPROVAL_TIMEOUT_SECONDS",
    "DEFAULT_CRITIQUE_ASPECTS",
    "DEFAULT_DEBATE_ROUNDS",
    "DEFAULT_IMPROVEMENT_THRESHOLD",
    "DEFAULT_MAX_ITERATIONS",
    "DEFAULT_MAX_STEP_ATTEMPTS",
    "DEFAULT_QUALITY_THRESHOLD",
    "DEFAULT_ROUTING_CONFIDENCE",
    "ConsensusStrategy",
    "DebateSettings",
    "OrchestrationSettings",
    "SelfCorrectionConfig",
    "TimeoutOutcome",
    "WebhookSettings",
]

DEFAULT_ROUTING_CONFIDENCE = 0.8
"""Seed 003: reuse a remembered agent sequence when confidence exceeds this."""
DEFAULT_QUALITY_THRESHOLD = 0.8
"""Seed 003: self-correction stops once quality reaches this."""
DEFAULT_MAX_ITERATIONS = 3
"""Seed 003: self-correction evaluates at most this many drafts."""
DEFAULT_IMPROVEMENT_THRESHOLD = 0.1
"""Seed 003: self-correction stops when a revision improves quality by less than this."""
DEFAULT_CRITIQUE_ASPECTS = ("clarity", "persuasiveness", "brand_alignment")
"""Seed 003: the aspects the critique scores (its example configuration)."""
DEFAULT_APPROVAL_TIMEOUT_SECONDS = 3600.0
"""Seed 003: a pending approval times out after one hour."""
DEFAULT_DEBATE_ROUNDS = 2
"""Seed 002: rounds of proposal -> critique -> refinement in its example."""
DEFAULT_MAX_STEP_ATTEMPTS = 3
"""Maestro's choice: a step is tried at most this many times (1 at P1, then P0 healing)."""

ConsensusStrategy = Literal["majority_vote", "weighted_vote", "synthesis", "moderator"]
TimeoutOutcome = Literal["approve", "reject"]


class SelfCorrectionConfig(BaseModel):
    """Generate, critique, revise (seed 003 ``SelfCorrectionConfig``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_iterations: int = Field(default=DEFAULT_MAX_ITERATIONS, ge=1, le=10)
    """Most drafts evaluated (the first generation counts as one)."""
    min_quality_score: float = Field(default=DEFAULT_QUALITY_THRESHOLD, ge=0.0, le=1.0)
    """Stop as soon as a draft's quality reaches this."""
    improvement_threshold: float = Field(default=DEFAULT_IMPROVEMENT_THRESHOLD, ge=0.0, le=1.0)
    """Stop when a revision improves quality by less than this."""
    critique_aspects: tuple[str, ...] = Field(default=DEFAULT_CRITIQUE_ASPECTS, min_length=1)
    """What the critic scores, one score in [0, 1] each."""
    store_failures: bool = True
    """Store drafts below the threshold in task memory and their critiques."""


class DebateSettings(BaseModel):
    """Multi-agent debates (seed 002 ``AgentDebateOrchestrator``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    rounds: int = Field(default=DEFAULT_DEBATE_ROUNDS, ge=1, le=5)
    """Rounds of proposal (or refinement) then critique."""
    max_agents: int = Field(default=6, ge=2, le=12)
    """Most agents in one debate (critiques grow with the square of this)."""
    consensus: ConsensusStrategy = "synthesis"
    """How the final decision is reached; seed 002 recommends synthesis."""
    moderator: str = "brand_guardian"
    """The agent that decides under the ``moderator`` strategy."""


class WebhookSettings(BaseModel):
    """Where approval requests and notifications are POSTed."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    url: str | None = None
    """Receiver of checkpoint notifications (JSON POST); none: not sent."""
    attempts: int = Field(default=4, ge=1, le=10)
    """Deliveries tried before giving up (the failure is recorded on the approval)."""
    backoff_seconds: float = Field(default=0.5, ge=0.0)
    """First retry delay; doubles on each further retry."""
    timeout_seconds: float = Field(default=5.0, gt=0.0)
    """Per-request timeout."""


class OrchestrationSettings(BaseModel):
    """Routing, durable workflows, self-correction, debates and checkpoints."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    routing_confidence: float = Field(default=DEFAULT_ROUTING_CONFIDENCE, ge=0.0, le=1.0)
    """Reuse a similar task's agent sequence when its confidence is strictly above this."""
    routing_candidates: int = Field(default=5, ge=1, le=50)
    """Similar successful tasks considered when routing."""
    max_plan_agents: int = Field(default=6, ge=1, le=20)
    """Longest agent sequence the planner may propose; longer plans are truncated."""
    max_concurrency: int = Field(default=8, ge=1, le=256)
    """Stages of one run executing at the same time."""
    max_step_attempts: int = Field(default=DEFAULT_MAX_STEP_ATTEMPTS, ge=1, le=10)
    """Tries per step: the first at P1, every retry ("healing") at P0."""
    heal_backoff_seconds: float = Field(default=0.0, ge=0.0)
    """Wait before a healing retry (the gateway already backs off on transient errors)."""
    lease_seconds: float = Field(default=60.0, gt=0.0)
    """A worker's claim on a run; a run whose lease lapsed may be taken over."""
    approval_timeout_seconds: float = Field(default=DEFAULT_APPROVAL_TIMEOUT_SECONDS, gt=0.0)
    """Default time a checkpoint waits for a human decision."""
    approval_timeout_outcome: TimeoutOutcome = "reject"
    """What a timed-out approval becomes unless its checkpoint says otherwise."""
    trusted_users: tuple[str, ...] = ()
    """Users auto-approved at every checkpoint (seed 003 ``auto_approve_for_users``)."""
    self_correction: SelfCorrectionConfig = SelfCorrectionConfig()
    """Defaults of the self-correction loop."""
    debate: DebateSettings = DebateSettings()
    """Defaults of debates."""
    webhook: WebhookSettings = WebhookSettings()
    """Checkpoint notifications."""
    agents_file: str | None = None
    """A TOML or YAML file of custom expert profiles loaded into every workspace's registry."""
