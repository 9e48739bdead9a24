"""Memory: task history, critiques, post metrics and learned patterns, per workspace.

- :class:`TaskMemory`: task results (30 days) and similar-goal search.
- :class:`CritiqueStore`: critiques per content item (7 days).
- :class:`PostMetricsRepo`: published posts and decay-weighted performance.
- :class:`PatternStore`: the ``learned_patterns`` lifecycle and prompt injection.
- :class:`MemoryManager`: all of the above over one database.
"""

from maestro.memory.critiques import Critique, CritiqueStore
from maestro.memory.lifecycle import GLOBAL_BRAND, PatternType, effective_confidence
from maestro.memory.manager import MemoryManager, PurgeReport
from maestro.memory.patterns import KNOWLEDGE_TEMPLATE, FeedbackReport, Pattern, PatternStore
from maestro.memory.policy import MemorySettings, PatternPolicy
from maestro.memory.posts import Post, PostMetricsRepo
from maestro.memory.tasks import AgentPerformance, NewTask, SimilarTask, TaskMemory, TaskRecord
from maestro.memory.weighted import PostSample, WeightedStat, decay_weight, weighted_mean

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
