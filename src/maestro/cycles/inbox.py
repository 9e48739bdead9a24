"""Metrics pushed through ``POST /api/metrics``, applied once per client key.

:class:`MetricsInbox` applies a report to its post idempotently: the first report
under a client key is applied, a repeat returns the original, a different report
under the same key is a conflict (409).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from maestro.clock import Clock
from maestro.errors import ConflictError, NotFoundError, ValidationError
from maestro.store.db import Database
from maestro.store.tables.cycles import CycleItemRow, IngestedMetricRow
from maestro.store.tables.memory import ContentPostRow

__all__ = ["Ingested", "MetricsInbox"]


@dataclass(frozen=True, slots=True)
class Ingested:
    """The outcome of one ``POST /api/metrics``."""

    client_key: str
    post_id: str
    engagement: float
    received_at: datetime
    duplicate: bool


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
        engagement: float,
        post_id: str | None = None,
        item_id: str | None = None,
        metrics: Mapping[str, float] | None = None,
    ) -> Ingested:
        """Apply one report; a repeat under the same key changes nothing and says so.

        The post is named by its ``post_id`` or by the ``item_id`` the webhook sink
        sent when it published it (exactly one of the two).

        Raises:
            ValidationError: engagement negative or not finite; not exactly one of
                ``post_id`` and ``item_id``.
            NotFoundError: no such post (or published item) in this workspace.
            ConflictError: the key was already used for a different report.
        """
        if not math.isfinite(engagement) or engagement < 0:
            raise ValidationError(
                f"engagement must be a finite number >= 0, got {engagement}", field="engagement"
            )
        if (post_id is None) == (item_id is None):
            raise ValidationError("give exactly one of post_id and item_id", field="post_id")
        if post_id is None:
            post_id = await self._post_of(workspace_id, str(item_id))
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

    async def _post_of(self, workspace_id: str, item_id: str) -> str:
        async with self._db.read() as session:
            post_id = await session.scalar(
                select(CycleItemRow.post_id).where(
                    CycleItemRow.workspace_id == workspace_id, CycleItemRow.id == item_id
                )
            )
        if post_id is None:
            raise NotFoundError(f"no published item {item_id!r}", field="item_id")
        return str(post_id)

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
