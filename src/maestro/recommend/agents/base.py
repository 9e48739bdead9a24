"""What a snippet agent is: a pure function from a user's state to a short paragraph.

Agents do not write tips. Each looks at one angle of the user's state and says
what it found in a sentence or two, plus the signals it used (stored as
``signals_snapshot``). They are pure: same state and time, same snippet; no I/O,
so the precompute job can run thousands of them per second.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import ClassVar

from maestro.recommend.state import UserState

__all__ = ["Signal", "Snippet", "SnippetAgent", "plural"]

Signal = str | int | float | bool | None | list[str]


@dataclass(frozen=True)
class Snippet:
    """An agent's finding: ``text`` goes into the orchestrator prompt, ``signals`` into storage."""

    text: str
    signals: dict[str, Signal] = field(default_factory=dict)


class SnippetAgent(ABC):
    """A snippet agent. Subclasses set the class attributes and implement :meth:`run`.

    Bump ``version`` whenever the logic changes: outputs of an older version are
    recomputed on the next tick and are not used by the orchestrator meanwhile.
    """

    id: ClassVar[str]
    """Stable id stored in ``agent_outputs.agent_id`` (seed 001), e.g. ``overdue-task``."""
    version: ClassVar[str]
    """Stored in ``agent_outputs.agent_version``."""
    ttl: ClassVar[timedelta]
    """How long an output stays valid (seed 001's per-agent TTL)."""
    description: ClassVar[str]
    """One line for docs and the dashboard."""

    @abstractmethod
    def run(self, state: UserState, now: datetime) -> Snippet:
        """What this agent finds in ``state`` at ``now``."""


def plural(n: int, word: str, many: str | None = None) -> str:
    """``1 task``, ``3 tasks``."""
    return f"{n} {word if n == 1 else (many or word + 's')}"
