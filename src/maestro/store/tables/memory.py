"""Memory: task history, critiques, learned patterns and published posts with metrics.

``learned_patterns`` has exactly the columns of seed 000 section D.1 (plus
``archived`` from D.2 and ``workspace_id``); its ``metadata`` column is mapped to
the attribute ``meta`` because SQLAlchemy reserves ``metadata``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from maestro.store.base import Base, IdColumn, JSONType, UTCDateTime, new_id

__all__ = ["ContentPostRow", "CritiqueRow", "LearnedPatternRow", "TaskHistoryRow"]


def _workspace_fk() -> Mapped[str]:
    return mapped_column(IdColumn, ForeignKey("workspaces.id", ondelete="CASCADE"))


class TaskHistoryRow(Base):
    """One finished task: what was asked, who did it, how it went (seed 003)."""

    __tablename__ = "task_history"
    __table_args__ = (Index("ix_task_history_workspace_created", "workspace_id", "created_at"),)

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True, default=new_id)
    workspace_id: Mapped[str] = _workspace_fk()
    user_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    task_type: Mapped[str] = mapped_column(String(50))
    goal: Mapped[str] = mapped_column(Text)
    goal_embedding: Mapped[bytes] = mapped_column(LargeBinary)
    embedder: Mapped[str] = mapped_column(String(50))
    agent_sequence: Mapped[list[str]] = mapped_column(JSONType)
    success: Mapped[bool] = mapped_column(Boolean)
    quality: Mapped[float | None] = mapped_column(Float, nullable=True)
    duration_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    meta: Mapped[dict[str, Any]] = mapped_column("metadata", JSONType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CritiqueRow(Base):
    """A critique of one content item: the issues found (seed 003)."""

    __tablename__ = "critiques"
    __table_args__ = (
        Index("ix_critiques_workspace_content", "workspace_id", "content_id"),
        Index("ix_critiques_created_at", "created_at"),
    )

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True, default=new_id)
    workspace_id: Mapped[str] = _workspace_fk()
    content_id: Mapped[str] = mapped_column(String(100))
    critic: Mapped[str | None] = mapped_column(String(50), nullable=True)
    critique: Mapped[str] = mapped_column(Text)
    issues: Mapped[list[str]] = mapped_column(JSONType)
    issue_count: Mapped[int] = mapped_column(Integer)
    scores: Mapped[dict[str, float]] = mapped_column(JSONType)
    quality: Mapped[float | None] = mapped_column(Float, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class LearnedPatternRow(Base):
    """Institutional knowledge shared by all agents (seed 000 D.1)."""

    __tablename__ = "learned_patterns"
    __table_args__ = (
        Index("ix_learned_patterns_lookup", "workspace_id", "brand", "pattern_type", "strategy"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    workspace_id: Mapped[str] = _workspace_fk()
    user_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    pattern_type: Mapped[str] = mapped_column(String(30))
    brand: Mapped[str] = mapped_column(String(50))
    strategy: Mapped[str] = mapped_column(String(30))
    description: Mapped[str] = mapped_column(Text)
    confidence: Mapped[float] = mapped_column(Float)
    evidence_count: Mapped[int] = mapped_column(Integer)
    discovered_by: Mapped[str] = mapped_column(String(50))
    discovered_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_validated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    meta: Mapped[dict[str, Any]] = mapped_column("metadata", JSONType)
    archived: Mapped[bool] = mapped_column(Boolean, default=False)


class ContentPostRow(Base):
    """A published post and its latest engagement: the evidence patterns learn from."""

    __tablename__ = "content_posts"
    __table_args__ = (
        Index(
            "ix_content_posts_workspace_brand_published", "workspace_id", "brand", "published_at"
        ),
    )

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True, default=new_id)
    workspace_id: Mapped[str] = _workspace_fk()
    brand: Mapped[str] = mapped_column(String(50))
    agent_id: Mapped[str] = mapped_column(String(50))
    strategy: Mapped[str] = mapped_column(String(30))
    topic: Mapped[str | None] = mapped_column(String(200), nullable=True)
    content_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime())
    engagement: Mapped[float | None] = mapped_column(Float, nullable=True)
    metrics: Mapped[dict[str, float]] = mapped_column(JSONType)
    metrics_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
