"""The content cycle: every proposal the studio wrote, and metrics pushed through the API.

``cycle_items`` keeps each proposal with its examined quality and what the checkpoint
decided (published, held for a human, approved by one, rejected, failed to publish) and,
for a human decision, who made it and the note. ``ingested_metrics`` makes
``POST /api/metrics`` idempotent: one row per client-supplied key. ``studio_runners``
holds the lease of the process that runs each workspace's studio.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from maestro.store.base import Base, IdColumn, JSONType, UTCDateTime, new_id

__all__ = ["CycleItemRow", "IngestedMetricRow", "StudioRunnerRow"]


def _workspace_fk() -> Mapped[str]:
    return mapped_column(IdColumn, ForeignKey("workspaces.id", ondelete="CASCADE"))


class CycleItemRow(Base):
    """One proposal of a daily burst and its fate."""

    __tablename__ = "cycle_items"
    __table_args__ = (
        Index("ix_cycle_items_workspace_status", "workspace_id", "status"),
        Index("ix_cycle_items_workspace_brand_created", "workspace_id", "brand", "created_at"),
    )

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True, default=new_id)
    workspace_id: Mapped[str] = _workspace_fk()
    seq: Mapped[int] = mapped_column(Integer)
    brand: Mapped[str] = mapped_column(String(50))
    agent_id: Mapped[str] = mapped_column(String(50))
    strategy: Mapped[str] = mapped_column(String(30))
    topic: Mapped[str] = mapped_column(String(100))
    text: Mapped[str] = mapped_column(Text)
    quality: Mapped[float] = mapped_column(Float)
    drafts: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(12))
    rule: Mapped[str | None] = mapped_column(String(100), nullable=True)
    post_id: Mapped[str | None] = mapped_column(IdColumn, nullable=True)
    external_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    decided_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    """Who decided a held item by hand (None for the checkpoint's rules and the timeout)."""
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    """The human's note on the decision."""
    metrics_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class IngestedMetricRow(Base):
    """A metrics report received through the API, kept by its client key."""

    __tablename__ = "ingested_metrics"
    __table_args__ = (
        UniqueConstraint("workspace_id", "client_key", name="uq_ingested_metrics_workspace_key"),
    )

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True, default=new_id)
    workspace_id: Mapped[str] = _workspace_fk()
    client_key: Mapped[str] = mapped_column(String(200))
    post_id: Mapped[str] = mapped_column(IdColumn)
    engagement: Mapped[float] = mapped_column(Float)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSONType)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())


class StudioRunnerRow(Base):
    """The lease of the process running a workspace's studio (one row while it runs)."""

    __tablename__ = "studio_runners"

    workspace_id: Mapped[str] = mapped_column(
        IdColumn, ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True
    )
    holder: Mapped[str] = mapped_column(String(200))
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
