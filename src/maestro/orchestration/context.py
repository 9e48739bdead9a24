"""The context every agent step receives (seed 003 ``AgentContext``).

It travels with a run: it is persisted with the run so a resumed run sees the
same context, and :func:`bound` puts its correlation id into
:data:`maestro.logs.correlation_id` so every log line of the run carries it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from maestro.logs import correlation_id

__all__ = ["AgentContext", "bound", "new_correlation_id"]


def new_correlation_id() -> str:
    """A fresh id that ties together every log line and record of one run."""
    return uuid.uuid4().hex


class AgentContext(BaseModel):
    """Who asks, for which brand and audience, with what history and limits."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    workspace_id: str
    """The tenant; every read and write of the run is scoped to it."""
    correlation_id: str = Field(default_factory=new_correlation_id)
    """Appears in every log line of the run and on every record it writes."""
    user_id: str | None = None
    """The human the run acts for (trusted users may be auto-approved)."""
    brand_voice: dict[str, str] = Field(default_factory=dict)
    """Tone, style and similar voice traits given to every agent."""
    target_icps: list[str] = Field(default_factory=list)
    """Ideal customer profiles the content is for."""
    past_successes: list[dict[str, Any]] = Field(default_factory=list)
    """Similar successful tasks found in memory (goal, agents, quality)."""
    preferences: dict[str, Any] = Field(default_factory=dict)
    """User or workspace preferences."""
    task_history: list[dict[str, Any]] = Field(default_factory=list)
    """Recent tasks of the workspace (goal, agents, success)."""
    performance_data: dict[str, float] = Field(default_factory=dict)
    """Success rate per agent for this task type."""
    quality_thresholds: dict[str, float] = Field(default_factory=dict)
    """E.g. ``{"content_quality": 0.8}``; ``content_quality`` overrides self-correction's."""
    budget_constraints: dict[str, float] = Field(default_factory=dict)
    """E.g. ``{"max_api_calls": 100}``: given to agents and actions as a constraint."""

    def summary(self) -> dict[str, Any]:
        """The part worth showing in an API answer (sizes, not full histories)."""
        return {
            "correlation_id": self.correlation_id,
            "user_id": self.user_id,
            "past_successes": len(self.past_successes),
            "task_history": len(self.task_history),
            "performance_data": self.performance_data,
        }


@contextmanager
def bound(context: AgentContext) -> Iterator[AgentContext]:
    """Bind the context's correlation id to the logs for the duration of the block."""
    token = correlation_id.set(context.correlation_id)
    try:
        yield context
    finally:
        correlation_id.reset(token)
