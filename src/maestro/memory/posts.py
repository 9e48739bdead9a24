"""Published posts and their engagement: the evidence metrics and patterns learn from.

The content cycle records a post when it is published and its metrics each time
they are collected; :class:`PostMetricsRepo` turns them into decay-weighted
performance per strategy and per agent (no hard lookback window).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from maestro.clock import Clock
from maestro.errors import NotFoundError, ValidationError
from maestro.memory._store import bounded, writing
from maestro.memory.policy import MemorySettings
from maestro.memory.weighted import (
    PostSample,
    WeightedStat,
    weighted_by_agent,
    weighted_by_strategy,
)
from maestro.store.db import Database
from maestro.store.tables.memory import ContentPostRow

__all__ = ["Post", "PostMetricsRepo"]


@dataclass(frozen=True, slots=True)
class Post:
    """A published post; ``engagement`` is None until metrics arrive."""

    id: str
    workspace_id: str
    brand: str
    agent_id: str
    strategy: str
    topic: str | None
    content_id: str | None
    published_at: datetime
    engagement: float | None
    metrics: Mapping[str, float]
    metrics_updated_at: datetime | None


class PostMetricsRepo:
    """Posts per workspace and brand, with decay-weighted performance queries."""

    def __init__(self, db: Database, clock: Clock, settings: MemorySettings | None = None) -> None:
        self._db = db
        self._clock = clock
        self._settings = settings or MemorySettings()

    async def record_post(
        self,
        workspace_id: str,
        *,
        brand: str,
        agent_id: str,
        strategy: str,
        published_at: datetime | None = None,
        topic: str | None = None,
        content_id: str | None = None,
        engagement: float | None = None,
        metrics: Mapping[str, float] | None = None,
    ) -> Post:
        """Record a published post (``published_at`` defaults to now)."""
        bounded("brand", brand, 50)
        bounded("agent_id", agent_id, 50)
        bounded("strategy", strategy, 30)
        if engagement is not None:
            _check_engagement(engagement)
        now = self._clock.now()
        row = ContentPostRow(
            workspace_id=workspace_id,
            brand=brand,
            agent_id=agent_id,
            strategy=strategy,
            topic=topic,
            content_id=content_id,
            published_at=published_at or now,
            engagement=engagement,
            metrics=dict(metrics or {}),
            metrics_updated_at=now if engagement is not None or metrics else None,
        )
        async with writing(self._db, workspace_id) as session:
            session.add(row)
        return _post(row)

    async def record_metrics(
        self,
        workspace_id: str,
        post_id: str,
        *,
        engagement: float,
        metrics: Mapping[str, float] | None = None,
    ) -> Post:
        """Replace a post's engagement (and raw metrics) with the latest collected values."""
        _check_engagement(engagement)
        async with self._db.write() as session:
            row = await session.scalar(
                select(ContentPostRow).where(
                    ContentPostRow.workspace_id == workspace_id, ContentPostRow.id == post_id
                )
            )
            if row is None:
                raise NotFoundError(f"post {post_id!r} not found", field="post_id")
            row.engagement = engagement
            if metrics is not None:
                row.metrics = dict(metrics)
            row.metrics_updated_at = self._clock.now()
        return _post(row)

    async def get(self, workspace_id: str, post_id: str) -> Post:
        async with self._db.read() as session:
            row = await session.scalar(
                select(ContentPostRow).where(
                    ContentPostRow.workspace_id == workspace_id, ContentPostRow.id == post_id
                )
            )
        if row is None:
            raise NotFoundError(f"post {post_id!r} not found", field="post_id")
        return _post(row)

    async def brands(self, workspace_id: str) -> list[str]:
        """Brands with at least one post in this workspace."""
        async with self._db.read() as session:
            rows = await session.scalars(
                select(ContentPostRow.brand)
                .where(ContentPostRow.workspace_id == workspace_id)
                .distinct()
                .order_by(ContentPostRow.brand)
            )
            return list(rows)

    async def samples(
        self, workspace_id: str, brand: str | None = None, *, since: datetime | None = None
    ) -> list[PostSample]:
        """Posts with engagement, oldest first, as evidence for metrics and patterns."""
        stmt = select(
            ContentPostRow.agent_id,
            ContentPostRow.strategy,
            ContentPostRow.engagement,
            ContentPostRow.published_at,
            ContentPostRow.topic,
        ).where(ContentPostRow.workspace_id == workspace_id, ContentPostRow.engagement.is_not(None))
        if brand is not None:
            stmt = stmt.where(ContentPostRow.brand == brand)
        if since is not None:
            stmt = stmt.where(ContentPostRow.published_at > since)
        stmt = stmt.order_by(ContentPostRow.published_at, ContentPostRow.id)
        async with self._db.read() as session:
            rows = (await session.execute(stmt)).all()
        return [
            PostSample(agent_id=a, strategy=s, value=float(v or 0.0), published_at=p, topic=t)
            for a, s, v, p, t in rows
        ]

    async def strategy_performance(
        self, workspace_id: str, brand: str | None = None
    ) -> dict[str, WeightedStat]:
        """Decay-weighted mean engagement per strategy (all of history, recent counts most)."""
        samples = await self.samples(workspace_id, brand)
        return weighted_by_strategy(samples, self._clock.now(), self._settings.metrics_decay_days)

    async def agent_performance(
        self, workspace_id: str, brand: str | None = None
    ) -> dict[str, WeightedStat]:
        """Decay-weighted mean engagement per agent."""
        samples = await self.samples(workspace_id, brand)
        return weighted_by_agent(samples, self._clock.now(), self._settings.metrics_decay_days)


def _check_engagement(value: float) -> None:
    if not value >= 0.0:  # also rejects NaN
        raise ValidationError(
            f"engagement must be a non-negative number, got {value}", field="engagement"
        )


def _post(row: ContentPostRow) -> Post:
    return Post(
        id=row.id,
        workspace_id=row.workspace_id,
        brand=row.brand,
        agent_id=row.agent_id,
        strategy=row.strategy,
        topic=row.topic,
        content_id=row.content_id,
        published_at=row.published_at,
        engagement=row.engagement,
        metrics=dict(row.metrics),
        metrics_updated_at=row.metrics_updated_at,
    )
