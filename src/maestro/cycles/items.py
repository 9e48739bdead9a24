"""The cycle's records: proposals and their fate.

:class:`ItemStore` keeps every proposal of a burst (``cycle_items``) with the
checkpoint's decision and, once published, the post it became in
:class:`~maestro.memory.posts.PostMetricsRepo`. Metrics pushed back through the
API are :mod:`maestro.cycles.inbox`'s.

A held item's life::

    held --human approve (before expires_at)--> approved --retry tick--> published | failed
    held --human reject  (before expires_at)--> rejected
    held --retry tick after expires_at--------> published | failed (timeout outcome approve)
                                                rejected           (timeout outcome reject)

Every move out of ``held`` (and out of ``approved``) is a compare-and-set on the
status, so a human decision and the timeout settlement never overwrite each other,
and of two concurrent human decisions exactly one wins.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Literal

from sqlalchemy import func, literal, or_, select, update

from maestro.clock import Clock
from maestro.cycles.sinks import AwaitingMetrics, MetricReading
from maestro.errors import ConflictError, NotFoundError, ValidationError
from maestro.store.base import UTCDateTime
from maestro.store.db import Database
from maestro.store.tables.cycles import CycleItemRow
from maestro.store.tables.memory import ContentPostRow

__all__ = [
    "ITEM_STATUSES",
    "Decision",
    "DueItems",
    "Harvested",
    "ItemRecord",
    "ItemStatus",
    "ItemStore",
    "NewItem",
]

ItemStatus = Literal["published", "held", "approved", "rejected", "failed"]
"""``approved``: a human approved a held item; the studio publishes it on its next retry tick."""
ITEM_STATUSES: tuple[ItemStatus, ...] = ("held", "approved", "published", "rejected", "failed")
Decision = Literal["approve", "reject"]


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
class ItemRecord(NewItem):
    """A stored proposal and its fate, as listed and decided through the API and the CLI."""

    status: ItemStatus
    rule: str | None
    """What decided: the checkpoint's rule, ``human:approve|reject``, ``timeout:approve|reject``."""
    decided_by: str | None
    note: str | None
    created_at: datetime
    decided_at: datetime | None
    expires_at: datetime | None
    post_id: str | None
    external_id: str | None
    error: str | None


@dataclass(frozen=True, slots=True)
class DueItems:
    """What the studio's retry tick has to do with held items."""

    approved: list[NewItem]
    """Approved by a human, to publish (oldest first)."""
    expired: list[NewItem]
    """Still held past their approval window: the timeout outcome applies (oldest first)."""


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

    async def due(self, workspace_id: str) -> DueItems:
        """Approved items and expired held ones, in one query on ``(workspace_id, status)``."""
        now = self._clock.now()
        async with self._db.read() as session:
            rows = list(
                await session.scalars(
                    select(CycleItemRow)
                    .where(
                        CycleItemRow.workspace_id == workspace_id,
                        CycleItemRow.status.in_(["approved", "held"]),
                        or_(CycleItemRow.status == "approved", CycleItemRow.expires_at <= now),
                    )
                    .order_by(CycleItemRow.created_at, CycleItemRow.seq, CycleItemRow.id)
                )
            )
        return DueItems(
            approved=[_new_item(r) for r in rows if r.status == "approved"],
            expired=[_new_item(r) for r in rows if r.status == "held"],
        )

    async def list_items(
        self,
        workspace_id: str,
        *,
        status: ItemStatus | None = None,
        brand: str | None = None,
        limit: int = 100,
    ) -> list[ItemRecord]:
        """Items of the workspace, newest first; ``status``/``brand`` None means any.

        Raises:
            ValidationError: ``limit`` below 1 or ``status`` unknown.
        """
        if limit < 1:
            raise ValidationError(f"limit must be at least 1, got {limit}", field="limit")
        if status is not None and status not in ITEM_STATUSES:
            raise ValidationError(
                f"status must be one of {', '.join(ITEM_STATUSES)}, got {status!r}",
                field="status",
            )
        stmt = select(CycleItemRow).where(CycleItemRow.workspace_id == workspace_id)
        if status is not None:
            stmt = stmt.where(CycleItemRow.status == status)
        if brand is not None:
            stmt = stmt.where(CycleItemRow.brand == brand)
        stmt = stmt.order_by(
            CycleItemRow.created_at.desc(), CycleItemRow.seq.desc(), CycleItemRow.id.desc()
        ).limit(limit)
        async with self._db.read() as session:
            return [_record(r) for r in await session.scalars(stmt)]

    async def get(self, workspace_id: str, item_id: str) -> ItemRecord:
        """One item of the workspace.

        Raises:
            NotFoundError: no such item in this workspace (another workspace's is not found).
        """
        async with self._db.read() as session:
            row = await session.scalar(
                select(CycleItemRow).where(
                    CycleItemRow.workspace_id == workspace_id, CycleItemRow.id == item_id
                )
            )
            if row is None:
                raise NotFoundError(
                    f"no studio item {item_id!r} in this workspace", field="item_id"
                )
            return _record(row)

    async def human_decision(
        self,
        workspace_id: str,
        item_id: str,
        decision: Decision,
        *,
        by: str,
        note: str | None = None,
    ) -> ItemRecord:
        """A human approves (``approved``: the studio then publishes it) or rejects.

        A compare-and-set on ``status = 'held' AND expires_at > now``: of concurrent
        deciders exactly one wins, and a decision never races the timeout. The same
        decision again returns the item unchanged (clients retry).

        Raises:
            NotFoundError: no such item in this workspace.
            ConflictError: a human or the timeout already decided otherwise, the approval
                window closed (the timeout outcome applies), or the item was never held.
            ValidationError: unknown decision, ``by`` empty or over 100 characters,
                ``note`` over 2000 characters.
        """
        if decision not in ("approve", "reject"):
            raise ValidationError(
                f"decision must be approve or reject, got {decision!r}", field="decision"
            )
        if not 1 <= len(by) <= 100:
            raise ValidationError("by must be 1-100 characters", field="by")
        if note is not None and len(note) > 2000:
            raise ValidationError("note must be at most 2000 characters", field="note")
        now = self._clock.now()
        rule = f"human:{decision}"
        async with self._db.write() as session:
            result = await session.execute(
                update(CycleItemRow)
                .where(
                    CycleItemRow.workspace_id == workspace_id,
                    CycleItemRow.id == item_id,
                    CycleItemRow.status == "held",
                    or_(CycleItemRow.expires_at.is_(None), CycleItemRow.expires_at > now),
                )
                .values(
                    status="approved" if decision == "approve" else "rejected",
                    rule=rule,
                    decided_by=by,
                    note=note,
                    decided_at=now,
                )
            )
        current = await self.get(workspace_id, item_id)
        if getattr(result, "rowcount", 0) == 1 or current.rule == rule:
            return current  # decided now, or the same human decision repeated
        raise ConflictError(_refusal(current, decision, now), field="item_id")

    async def decide(
        self,
        workspace_id: str,
        item_id: str,
        status: ItemStatus,
        *,
        expect: ItemStatus,
        rule: str | None = None,
        post_id: str | None = None,
        external_id: str | None = None,
        error: str | None = None,
    ) -> bool:
        """Settle an item that is still ``expect``; False (nothing written) if it no longer is.

        ``held`` -> published/rejected/failed (the timeout outcome), ``approved`` ->
        published/failed (a human's approval carried out). ``decided_at`` keeps the
        moment of a human decision, ``decided_by`` and ``note`` the human's; an item
        nobody decided is marked ``decided_by="timeout"``.
        """
        now = literal(self._clock.now(), UTCDateTime())
        async with self._db.write() as session:
            result = await session.execute(
                update(CycleItemRow)
                .where(
                    CycleItemRow.workspace_id == workspace_id,
                    CycleItemRow.id == item_id,
                    CycleItemRow.status == expect,
                )
                .values(
                    status=status,
                    rule=rule,
                    post_id=post_id,
                    external_id=external_id,
                    error=error,
                    decided_at=func.coalesce(CycleItemRow.decided_at, now),
                    decided_by=func.coalesce(CycleItemRow.decided_by, literal("timeout")),
                )
            )
            return bool(getattr(result, "rowcount", 0))

    async def last_seq(self, workspace_id: str) -> int:
        """The highest proposal number so far (0 for none): a reopened studio counts on."""
        async with self._db.read() as session:
            found = await session.scalar(
                select(func.max(CycleItemRow.seq)).where(CycleItemRow.workspace_id == workspace_id)
            )
        return int(found or 0)

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
        found = await self._measured(workspace_id, unseen=True)
        if found:
            async with self._db.write() as session:
                await session.execute(
                    update(CycleItemRow)
                    .where(
                        CycleItemRow.workspace_id == workspace_id,
                        CycleItemRow.id.in_([h.item_id for h in found]),
                        CycleItemRow.metrics_at.is_(None),
                    )
                    .values(metrics_at=self._clock.now())
                )
        return found

    async def measured(self, workspace_id: str) -> list[Harvested]:
        """The items already harvested, in publishing order: what the policies learned from.

        Relearning from these and leaving the rest to :meth:`harvest` counts each once.
        """
        return await self._measured(workspace_id, unseen=False)

    async def _measured(self, workspace_id: str, *, unseen: bool) -> list[Harvested]:
        stmt = (
            select(CycleItemRow, ContentPostRow.engagement, ContentPostRow.published_at)
            .join(ContentPostRow, ContentPostRow.id == CycleItemRow.post_id)
            .where(
                CycleItemRow.workspace_id == workspace_id,
                CycleItemRow.status == "published",
                ContentPostRow.workspace_id == workspace_id,
                ContentPostRow.engagement.is_not(None),
            )
            .order_by(ContentPostRow.published_at, CycleItemRow.seq, CycleItemRow.id)
        )
        seen = CycleItemRow.metrics_at.is_(None) if unseen else CycleItemRow.metrics_at.is_not(None)
        stmt = stmt.where(seen)
        async with self._db.read() as session:
            rows = (await session.execute(stmt)).all()
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


def _refusal(item: ItemRecord, decision: Decision, now: datetime) -> str:
    """Why a human decision on ``item`` cannot be applied (for the 409)."""
    name = f"studio item {item.id!r}"
    if item.status == "held":
        return (
            f"the approval window of {name} closed at {_iso(item.expires_at)}: "
            f"it is no longer open to a {decision}; the timeout outcome applies"
        )
    rule = item.rule or ""
    if rule.startswith("human:"):
        who = f" by {item.decided_by}" if item.decided_by else ""
        return f"{name} was already decided{who}: {rule.removeprefix('human:')} ({item.status})"
    if rule.startswith("timeout:"):
        return (
            f"{name} was already decided by the approval timeout: "
            f"{rule.removeprefix('timeout:')} ({item.status})"
        )
    return f"{name} was never held for approval: {item.status} by rule {rule or 'none'}"


def _iso(at: datetime | None) -> str:
    return at.isoformat(timespec="seconds") if at is not None else "?"


def _record(r: CycleItemRow) -> ItemRecord:
    values = {f.name: getattr(r, f.name) for f in fields(ItemRecord)}
    return ItemRecord(**{**values, "status": _status(r.status)})


def _status(value: str) -> ItemStatus:
    for status in ITEM_STATUSES:
        if status == value:
            return status
    raise ValueError(f"unknown cycle item status {value!r}")


def _new_item(r: CycleItemRow) -> NewItem:
    return NewItem(**{f.name: getattr(r, f.name) for f in fields(NewItem)})
