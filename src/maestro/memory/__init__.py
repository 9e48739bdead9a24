"""Memory: task history, critiques, post metrics and learned patterns, per workspace.

- :class:`TaskMemory`: task results (30 days) and similar-goal search.
- :class:`CritiqueStore`: critiques per content item (7 days).
- :class:`PostMetricsRepo`: published posts and decay-weighted performance.
- :class:`PatternStore`: the ``learned_patterns`` lifecycle and prompt injection.
- :class:`MemoryManager`: all of the above over one database.

The settings and pure rules import eagerly; the repositories (which import the
storage layer, which imports :mod:`maestro.config`) load on first attribute
access, so ``maestro.config`` can import :class:`MemorySettings` without a cycle.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from maestro.memory.lifecycle import GLOBAL_BRAND, PatternType, effective_confidence
from maestro.memory.policy import MemorySettings, PatternPolicy
from maestro.memory.weighted import PostSample, WeightedStat, decay_weight, weighted_mean

if TYPE_CHECKING:
    from maestro.memory.critiques import Critique, CritiqueStore
    from maestro.memory.manager import MemoryManager, PurgeReport
    from maestro.memory.patterns import KNOWLEDGE_TEMPLATE, FeedbackReport, Pattern, PatternStore
    from maestro.memory.posts import Post, PostMetricsRepo
    from maestro.memory.tasks import (
        AgentPerformance,
        NewTask,
        SimilarTask,
        TaskMemory,
        TaskRecord,
    )

_LAZY = {
    "Critique": "critiques",
    "CritiqueStore": "critiques",
    "MemoryManager": "manager",
    "PurgeReport": "manager",
    "KNOWLEDGE_TEMPLATE": "patterns",
    "FeedbackReport": "patterns",
    "Pattern": "patterns",
    "PatternStore": "patterns",
    "Post": "posts",
    "PostMetricsRepo": "posts",
    "AgentPerformance": "tasks",
    "NewTask": "tasks",
    "SimilarTask": "tasks",
    "TaskMemory": "tasks",
    "TaskRecord": "tasks",
}

__all__ = [
    "GLOBAL_BRAND",
    "KNOWLEDGE_TEMPLATE",
    "AgentPerformance",
    "Critique",
    "CritiqueStore",
    "FeedbackReport",
    "MemoryManager",
    "MemorySettings",
    "NewTask",
    "Pattern",
    "PatternPolicy",
    "PatternStore",
    "PatternType",
    "Post",
    "PostMetricsRepo",
    "PostSample",
    "PurgeReport",
    "SimilarTask",
    "TaskMemory",
    "TaskRecord",
    "WeightedStat",
    "decay_weight",
    "effective_confidence",
    "weighted_mean",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'maestro.memory' has no attribute {name!r}")
    return getattr(importlib.import_module(f"maestro.memory.{module}"), name)
