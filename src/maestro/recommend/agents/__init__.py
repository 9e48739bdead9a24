"""The snippet agents (seed 001). Adding one: a module here and one line in ``REGISTRY``."""

from __future__ import annotations

from collections.abc import Sequence

from maestro.errors import ConfigurationError
from maestro.recommend.agents.base import Signal, Snippet, SnippetAgent
from maestro.recommend.agents.focus_area import FocusAreaAgent
from maestro.recommend.agents.momentum import MomentumAgent
from maestro.recommend.agents.overdue_task import OverdueTaskAgent
from maestro.recommend.agents.recent_patterns import RecentPatternsAgent
from maestro.recommend.agents.time_of_day import TimeOfDayAgent

__all__ = [
    "REGISTRY",
    "FocusAreaAgent",
    "MomentumAgent",
    "OverdueTaskAgent",
    "RecentPatternsAgent",
    "Signal",
    "Snippet",
    "SnippetAgent",
    "TimeOfDayAgent",
    "check_registry",
]

REGISTRY: tuple[SnippetAgent, ...] = (
    OverdueTaskAgent(),
    MomentumAgent(),
    TimeOfDayAgent(),
    RecentPatternsAgent(),
    FocusAreaAgent(),
)
"""Every agent the precompute job runs and the orchestrator reads, in prompt order."""


def check_registry(agents: Sequence[SnippetAgent]) -> tuple[SnippetAgent, ...]:
    """``agents`` as a tuple; a :class:`ConfigurationError` if two share an id."""
    seen: set[str] = set()
    for a in agents:
        if a.id in seen:
            raise ConfigurationError(f"two snippet agents share the id {a.id!r}", field="agents")
        seen.add(a.id)
    return tuple(agents)
