"""Critiques per content item: the issues a critic found (seed 003).

Kept ``critique_retention_days`` (7): reads never return older critiques and
:meth:`CritiqueStore.purge` deletes them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, delete, select

from maestro.clock import Clock
from maestro.errors import ValidationError
from maestro.memory._store import writing
from maestro.memory.policy import MemorySettings
from maestro.store.db import Database
from maestro.store.tables.memory import CritiqueRow

__all__ = ["Critique", "CritiqueStore"]


@dataclass(frozen=True, slots=True)
class Critique:
    """One critique of one content item."""

    id: str
    workspace_id: str
    content_id: str
    critique: str
    issues: tuple[str, ...]
    scores: Mapping[str, float]
    quality: float | None
    critic: str | None
    created_at: datetime

    @property
    def issue_count(self) -> int:
        return len(self.issues)


class CritiqueStore:
    """Records critiques and returns the retained ones per content item."""

    def __init__(self, db: Database, clock: Clock, settings: MemorySettings | None = None) -> None:
        self._db = db
        self._clock = clock
        self._settings = settings or MemorySettings()

    async def record(
        self,
        workspace_id: str,
        content_id: str,
        *,
        critique: str,
        issues: Sequence[str] = (),
        scores: Mapping[str, float] | None = None,
        quality: float | None = None,
        critic: str | None = None,
    ) -> Critique:
        """Store a critique of ``content_id`` (``scores`` per critiqued aspect, each in [0, 1])."""
        if not content_id or len(content_id) > 100:
            raise ValidationError(
                f"content_id must be 1-100 characters, got {content_id!r}", field="content_id"
            )
        bounded = dict(scores or {})
        if quality is not None:
            bounded["quality"] = quality
        for name, value in bounded.items():
            if not 0.0 <= value <= 1.0:
                raise ValidationError(f"{name} must be in [0, 1], got {value}", field=name)
        row = CritiqueRow(
            workspace_id=workspace_id,
            content_id=content_id,
            critic=critic,
            critique=critique,
            issues=list(issues),
            issue_count=len(issues),
            scores=dict(scores or {}),
            quality=quality,
            created_at=self._clock.now(),
        )
        async with writing(self._db, workspace_id) as session:
            session.add(row)
        return _critique(row)

    async def for_content(self, workspace_id: str, content_id: str) -> list[Critique]:
        """Retained critiques of ``content_id``, newest first."""
        stmt = (
            select(CritiqueRow)
            .where(
                CritiqueRow.workspace_id == workspace_id,
                CritiqueRow.content_id == content_id,
                CritiqueRow.created_at >= self._cutoff(),
            )
            .order_by(CritiqueRow.created_at.desc(), CritiqueRow.id)
        )
        async with self._db.read() as session:
            return [_critique(r) for r in await session.scalars(stmt)]

    async def recent(self, workspace_id: str, limit: int = 50) -> list[Critique]:
        """The newest retained critiques of this workspace."""
        stmt = (
            select(CritiqueRow)
            .where(
                CritiqueRow.workspace_id == workspace_id, CritiqueRow.created_at >= self._cutoff()
            )
            .order_by(CritiqueRow.created_at.desc(), CritiqueRow.id)
            .limit(limit)
        )
        async with self._db.read() as session:
            return [_critique(r) for r in await session.scalars(stmt)]

    async def purge(self, workspace_id: str | None, *, older_than: datetime | None = None) -> int:
        """Delete critiques older than ``older_than`` (default: the retention cutoff).

        ``workspace_id=None`` purges every workspace (the scheduled job).
        """
        stmt = delete(CritiqueRow).where(CritiqueRow.created_at < (older_than or self._cutoff()))
        if workspace_id is not None:
            stmt = stmt.where(CritiqueRow.workspace_id == workspace_id)
        async with self._db.write() as session:
            result = await session.execute(stmt)
        return int(cast("CursorResult[Any]", result).rowcount or 0)

    def _cutoff(self) -> datetime:
        return self._clock.now() - timedelta(days=self._settings.critique_retention_days)


def _critique(row: CritiqueRow) -> Critique:
    return Critique(
        id=row.id,
        workspace_id=row.workspace_id,
        content_id=row.content_id,
        critique=row.critique,
        issues=tuple(row.issues),
        scores=dict(row.scores),
        quality=row.quality,
        critic=row.critic,
        created_at=row.created_at,
    )
