"""The recommendation pipeline (seed 001, ADR-0013).

- Snippet agents (:mod:`maestro.recommend.agents`) read a user's state and write
  a short paragraph plus the signals they used into ``agent_outputs``.
- :class:`Precompute` refreshes expired and outdated outputs in batches, once
  per tick across every process (in-process scheduler or arq workers).
- :class:`Recommender` turns a user's fresh snippets into one tip with one
  gateway call, and records feedback with :func:`infer_reward`.

The settings and pure parts import eagerly; the parts that touch storage load
on first attribute access, so ``maestro.config`` can import the settings
without an import cycle.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from maestro.recommend.rewards import REACTIONS, REWARD_MILLI, Reaction, infer_reward
from maestro.recommend.settings import RecommendSettings

if TYPE_CHECKING:
    from maestro.recommend.agents import REGISTRY, Snippet, SnippetAgent
    from maestro.recommend.outputs import AgentOutput, OutputStore
    from maestro.recommend.precompute import Batch, BatchReport, Precompute, TickReport
    from maestro.recommend.service import Feedback, Recommender, Tip
    from maestro.recommend.state import EventIn, TaskIn, UserIn, UserState
    from maestro.recommend.store import IngestReport, UserInfo, UserStateRepo

_LAZY = {
    "REGISTRY": "agents",
    "Snippet": "agents",
    "SnippetAgent": "agents",
    "AgentOutput": "outputs",
    "OutputStore": "outputs",
    "Batch": "precompute",
    "BatchReport": "precompute",
    "Precompute": "precompute",
    "TickReport": "precompute",
    "Feedback": "service",
    "Recommender": "service",
    "Tip": "service",
    "EventIn": "state",
    "TaskIn": "state",
    "UserIn": "state",
    "UserState": "state",
    "IngestReport": "store",
    "UserInfo": "store",
    "UserStateRepo": "store",
}

__all__ = [
    "REACTIONS",
    "REGISTRY",
    "REWARD_MILLI",
    "AgentOutput",
    "Batch",
    "BatchReport",
    "EventIn",
    "Feedback",
    "IngestReport",
    "OutputStore",
    "Precompute",
    "Reaction",
    "RecommendSettings",
    "Recommender",
    "Snippet",
    "SnippetAgent",
    "TaskIn",
    "TickReport",
    "Tip",
    "UserIn",
    "UserInfo",
    "UserState",
    "UserStateRepo",
    "infer_reward",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'maestro.recommend' has no attribute {name!r}")
    return getattr(importlib.import_module(f"maestro.recommend.{module}"), name)
