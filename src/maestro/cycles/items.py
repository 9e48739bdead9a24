"""The cycle's records: proposals and their fate, and metrics pushed through the API.

:class:`ItemStore` keeps every proposal of a burst (``cycle_items``) with the
checkpoint's decision and, once published, the post it became in
:class:`~maestro.memory.posts.PostMetricsRepo`. :class:`MetricsInbox` applies metrics
reports idempotently: the first report under a client key is applied, a repeat
returns the original, a different report under the same key is a conflict.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from maestro.clock import Clock
from maestro.cycles.sinks import AwaitingMetrics, MetricReading
from maestro.errors import ConflictError, NotFoundError, ValidationError
from maestro.store.db import Database
from maestro.store.tables.cycles import CycleItemRow, IngestedMetricRow
from maestro.store.tables.memory import ContentPostRow

__all__ = ["Harvested", "Ingested", "ItemStatus", "ItemStore", "MetricsInbox", "NewItem"]

ItemStatus = Literal["published", "held", "rejected", "failed"]


@dataclass(frozen=True, slots=True)
class NewItem:
    """A proposal after examination and self-correction."""

    id: str
    seq: int
    brand: str
    agent_id: str
    strategy: str
    topic: str
    text: str
    quality: float
    drafts: int


@dataclass(frozen=True, slots=True)
class Harvested:
    """A published post whose engagement has just become known to the cycle."""

    item_id: str
    agent_id: str
    brand: str
    strategy: str
    topic: str
    engagement: float
    published_at: datetime
    quality: float | None = None
    """The examined quality the item was published with."""


@dataclass(frozen=True, slots=True)
class Ingested:
    """The outcome of one ``POST /api/metrics``."""

    client_key: str
    post_id: str
    engagement: float
    received_at: datetime
    duplicate: bool


class ItemStore:
    """``cycle_items`` of one database; every method takes the workspace id."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def add(
        self,
        workspace_id: str,
        item: NewItem,
        *,
        status: ItemStatus,
        rule: str | None = None,
        post_id: str | None = None,
        external_id: str | None = None,
        error: str | None = None,
        expires_at: datetime | None = None,
    ) -> None:
        """Record a decided proposal."""
        now = self._clock.now()
        async with self._db.write() as session:
            session.add(
                CycleItemRow(
                    id=item.id,
                    workspace_id=workspace_id,
                    seq=item.seq,
                    brand=item.brand,
                    agent_id=item.agent_id,
                    strategy=item.strategy,
                    topic=item.topic,
                    text=item.text,
                    quality=item.quality,
                    drafts=item.drafts,
                    status=status,
                    rule=rule,
                    post_id=post_id,
                    external_id=external_id,
                    error=error,
                    created_at=now,
                    decided_at=None if status == "held" else now,
                    expires_at=expires_at,
                )
            )

    async def expired_held(self, workspace_id: str) -> list[NewItem]:
        """Held items whose approval window has closed, oldest first."""
        now = self._clock.now()
        async with self._db.read() as session:
            rows = await session.scalars(
                select(CycleItemRow)
                .where(
                    CycleItemRow.workspace_id == workspace_id,
                    CycleItemRow.status == "held",
                    CycleItemRow.expires_at <= now,
                )
                .order_by(CycleItemRow.seq)
            )
            return [_new_item(r) for r in rows]

    async def decide(
        self,
        workspace_id: str,
        item_id: str,
        status: ItemStatus,
        *,
        rule: str | None = None,
        post_id: str | None = None,
        external_id: str | None = None,
        error: str | None = None,
    ) -> None:
        """Settle a held item (approved and published, rejected, or failed)."""
        async with self._db.write() as session:
            result = await session.execute(
                update(CycleItemRow)
                .where(CycleItemRow.workspace_id == workspace_id, CycleItemRow.id == item_id)
                .values(
                    status=status,
                    rule=rule,
                    post_id=post_id,
                    external_id=external_id,
                    error=error,
                    decided_at=self._clock.now(),
                )
            )
            if getattr(result, "rowcount", 1) == 0:
                raise NotFoundError(f"cycle item {item_id!r} not found", field="item_id")

    async def awaiting_metrics(
        self, workspace_id: str, brands: Sequence[str], *, published_before: datetime
    ) -> list[AwaitingMetrics]:
        """Published posts of ``brands`` without engagement yet, published before the cutoff."""
        stmt = (
            select(CycleItemRow, ContentPostRow.published_at)
            .join(ContentPostRow, ContentPostRow.id == CycleItemRow.post_id)
            .where(
                CycleItemRow.workspace_id == workspace_id,
                CycleItemRow.brand.in_(list(brands)),
                CycleItemRow.status == "published",
                CycleItemRow.metrics_at.is_(None),
                ContentPostRow.workspace_id == workspace_id,
                ContentPostRow.engagement.is_(None),
                ContentPostRow.published_at <= published_before,
            )
            .order_by(CycleItemRow.seq)
        )
        async with self._db.read() as session:
            rows = (await session.execute(stmt)).all()
        return [
            AwaitingMetrics(
                post_id=str(r.post_id),
                item_id=r.id,
                brand=r.brand,
                strategy=r.strategy,
                topic=r.topic,
                quality=r.quality,
                published_at=published_at,
            )
            for r, published_at in rows
        ]

    async def harvest(self, workspace_id: str) -> list[Harvested]:
        """Published items whose post now has engagement, marked as seen (each is returned once)."""
        now = self._clock.now()
        stmt = (
            select(CycleItemRow, ContentPostRow.engagement, ContentPostRow.published_at)
            .join(ContentPostRow, ContentPostRow.id == CycleItemRow.post_id)
            .where(
                CycleItemRow.workspace_id == workspace_id,
                CycleItemRow.status == "published",
                CycleItemRow.metrics_at.is_(None),
                ContentPostRow.workspace_id == workspace_id,
                ContentPostRow.engagement.is_not(None),
            )
            .order_by(CycleItemRow.seq)
        )
        async with self._db.read() as session:
            rows = (await session.execute(stmt)).all()
        if rows:
            async with self._db.write() as session:
                await session.execute(
                    update(CycleItemRow)
                    .where(
                        CycleItemRow.workspace_id == workspace_id,
                        CycleItemRow.id.in_([r.id for r, _, _ in rows]),
                        CycleItemRow.metrics_at.is_(None),
                    )
                    .values(metrics_at=now)
                )
        return [
            Harvested(
                item_id=r.id,
                agent_id=r.agent_id,
                brand=r.brand,
                strategy=r.strategy,
                topic=r.topic,
                engagement=float(engagement or 0.0),
                published_at=published_at,
                quality=r.quality,
            )
            for r, engagement, published_at in rows
        ]

    async def record_readings(self, workspace_id: str, readings: Sequence[MetricReading]) -> int:
        """Store a batch of collected engagement on its posts in one transaction.

        The same effect as :meth:`PostMetricsRepo.record_metrics` per reading, without a
        commit per post (a collection brings a whole day of posts at once).
        """
        for r in readings:
            if not math.isfinite(r.engagement) or r.engagement < 0:
                raise ValidationError(
                    f"engagement of post {r.post_id!r} must be a finite number >= 0, "
                    f"got {r.engagement}",
                    field="engagement",
                )
        if not readings:
            return 0
        now = self._clock.now()
        by_id = {r.post_id: r for r in readings}
        async with self._db.write() as session:
            rows = await session.scalars(
                select(ContentPostRow).where(
                    ContentPostRow.workspace_id == workspace_id,
                    ContentPostRow.id.in_(list(by_id)),
                )
            )
            found = 0
            for row in rows:
                reading = by_id[row.id]
                row.engagement = reading.engagement
                if reading.metrics:
                    row.metrics = {str(k): float(v) for k, v in reading.metrics.items()}
                row.metrics_updated_at = now
                found += 1
        return found

    async def counts(self, workspace_id: str) -> dict[str, int]:
        """Items by status."""
        async with self._db.read() as session:
            rows = (
                await session.execute(
                    select(CycleItemRow.status, func.count())
                    .where(CycleItemRow.workspace_id == workspace_id)
                    .group_by(CycleItemRow.status)
                )
            ).all()
        return {str(s): int(n) for s, n in rows}


class MetricsInbox:
    """Applies metrics reports to posts, once per client key."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def ingest(
        self,
        workspace_id: str,
        *,
        client_key: str,
        post_id: str,
        engagement: float,
        metrics: Mapping[str, float] | None = None,
    ) -> Ingested:
        """Apply one report; a repeat under the same key changes nothing and says so.

        Raises:
            ValidationError: engagement negative or not finite.
            NotFoundError: no such post in this workspace.
            ConflictError: the key was already used for a different report.
        """
        if not math.isfinite(engagement) or engagement < 0:
            raise ValidationError(
                f"engagement must be a finite number >= 0, got {engagement}", field="engagement"
            )
        raw = {str(k): float(v) for k, v in (metrics or {}).items()}
        for _attempt in range(2):
            found = await self._existing(workspace_id, client_key)
            if found is not None:
                return _repeat(found, post_id, engagement)
            try:
                return await self._apply(workspace_id, client_key, post_id, engagement, raw)
            except IntegrityError:
                continue  # another request stored this key between our read and write
        raise ConflictError(f"metrics key {client_key!r} is being written", field="client_key")

    async def _existing(self, workspace_id: str, client_key: str) -> IngestedMetricRow | None:
        async with self._db.read() as session:
            row: IngestedMetricRow | None = await session.scalar(
                select(IngestedMetricRow).where(
                    IngestedMetricRow.workspace_id == workspace_id,
                    IngestedMetricRow.client_key == client_key,
                )
            )
            return row

    async def _apply(
        self,
        workspace_id: str,
        client_key: str,
        post_id: str,
        engagement: float,
        metrics: dict[str, float],
    ) -> Ingested:
        now = self._clock.now()
        async with self._db.write() as session:
            post = await session.scalar(
                select(ContentPostRow).where(
                    ContentPostRow.workspace_id == workspace_id, ContentPostRow.id == post_id
                )
            )
            if post is None:
                raise NotFoundError(f"post {post_id!r} not found", field="post_id")
            session.add(
                IngestedMetricRow(
                    workspace_id=workspace_id,
                    client_key=client_key,
                    post_id=post_id,
                    engagement=engagement,
                    metrics=metrics,
                    received_at=now,
                )
            )
            post.engagement = engagement
            post.metrics = {**post.metrics, **metrics}
            post.metrics_updated_at = now
            await session.flush()
        return Ingested(client_key, post_id, engagement, now, duplicate=False)


def _repeat(row: IngestedMetricRow, post_id: str, engagement: float) -> Ingested:
    if row.post_id != post_id or not math.isclose(row.engagement, engagement):
        raise ConflictError(
            f"metrics key {row.client_key!r} was already used for post {row.post_id!r} "
            f"with engagement {row.engagement}",
            field="client_key",
        )
    return Ingested(row.client_key, row.post_id, row.engagement, row.received_at, duplicate=True)


def _new_item(r: CycleItemRow) -> NewItem:
    return NewItem(
        id=r.id,
        seq=r.seq,
        brand=r.brand,
        agent_id=r.agent_id,
        strategy=r.strategy,
        topic=r.topic,
        text=r.text,
        quality=r.quality,
        drafts=r.drafts,
    )
