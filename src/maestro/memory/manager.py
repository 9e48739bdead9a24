"""MemoryManager: the memory parts wired together (seed 003's name, seed 000's feedback)."""

from __future__ import annotations

from dataclasses import dataclass

from maestro.clock import Clock
from maestro.embeddings import Embedder, HashingEmbedder
from maestro.memory.critiques import CritiqueStore
from maestro.memory.patterns import FeedbackReport, PatternStore
from maestro.memory.policy import MemorySettings
from maestro.memory.posts import PostMetricsRepo
from maestro.memory.tasks import TaskMemory
from maestro.store.db import Database

__all__ = ["MemoryManager", "PurgeReport"]


@dataclass(frozen=True, slots=True)
class PurgeReport:
    """Rows removed by one run of the retention job."""

    tasks: int
    critiques: int


class MemoryManager:
    """Task memory, critiques, post metrics and learned patterns over one database."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        *,
        embedder: Embedder | None = None,
        settings: MemorySettings | None = None,
    ) -> None:
        self.settings = settings or MemorySettings()
        self.tasks = TaskMemory(db, clock, embedder or HashingEmbedder(), self.settings)
        self.critiques = CritiqueStore(db, clock, self.settings)
        self.posts = PostMetricsRepo(db, clock, self.settings)
        self.patterns = PatternStore(db, clock, self.settings.patterns)

    async def feedback_cycle(self, workspace_id: str, brand: str) -> FeedbackReport:
        """Validate, weaken, discover and archive ``brand``'s patterns from its posts."""
        samples = await self.posts.samples(workspace_id, brand)
        return await self.patterns.feedback(workspace_id, brand, samples)

    async def purge_expired(self, workspace_id: str | None = None) -> PurgeReport:
        """The retention job: drop tasks and critiques past their retention (all workspaces
        when ``workspace_id`` is None)."""
        return PurgeReport(
            tasks=await self.tasks.purge(workspace_id),
            critiques=await self.critiques.purge(workspace_id),
        )
