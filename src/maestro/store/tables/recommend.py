"""The recommendation pipeline: user state, agent outputs, tips and their feedback (seed 001).

``agent_outputs`` has exactly the seed's columns and index (ADR-0013) plus
``workspace_id``. It holds one row per (user, agent): the id is derived from both,
so a refresh is an upsert and the table never grows with time.

Ids of users, tasks and events are derived from the workspace and the client's
own keys (:func:`maestro.recommend.state.row_id`), which is what makes every
ingestion endpoint idempotent with one ``INSERT ... ON CONFLICT``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from maestro.store.base import Base, IdColumn, JSONType, UTCDateTime

__all__ = ["AgentOutputRow", "RecUserRow", "TaskRow", "TipFeedbackRow", "TipRow", "UserEventRow"]


def _workspace_fk() -> Mapped[str]:
    return mapped_column(IdColumn, ForeignKey("workspaces.id", ondelete="CASCADE"))


def _user_fk() -> Mapped[str]:
    return mapped_column(IdColumn, ForeignKey("users.id", ondelete="CASCADE"))


class RecUserRow(Base):
    """A user of the workspace's app (the seed's ``users``); ``key`` is the client's id."""

    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("workspace_id", "key", name="uq_users_workspace_key"),)

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True)
    workspace_id: Mapped[str] = _workspace_fk()
    key: Mapped[str] = mapped_column(String(100))
    timezone: Mapped[str] = mapped_column(String(64))
    focus_areas: Mapped[list[str]] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class TaskRow(Base):
    """One of a user's tasks."""

    __tablename__ = "user_tasks"
    __table_args__ = (Index("ix_user_tasks_user", "user_id"),)

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True)
    workspace_id: Mapped[str] = _workspace_fk()
    user_id: Mapped[str] = _user_fk()
    key: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(200))
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    status: Mapped[str] = mapped_column(String(16))
    area: Mapped[str | None] = mapped_column(String(50), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class UserEventRow(Base):
    """Something the user did: a completion or a focus session."""

    __tablename__ = "user_events"
    __table_args__ = (Index("ix_user_events_user_occurred", "user_id", "occurred_at"),)

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True)
    workspace_id: Mapped[str] = _workspace_fk()
    user_id: Mapped[str] = _user_fk()
    key: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    task_key: Mapped[str | None] = mapped_column(String(100), nullable=True)
    area: Mapped[str | None] = mapped_column(String(50), nullable=True)
    duration_min: Mapped[float | None] = mapped_column(Float, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AgentOutputRow(Base):
    """A snippet agent's latest output for one user (seed 001, ``agent_outputs``)."""

    __tablename__ = "agent_outputs"

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    workspace_id: Mapped[str] = _workspace_fk()
    user_id: Mapped[str] = mapped_column(Text, ForeignKey("users.id", ondelete="CASCADE"))
    agent_id: Mapped[str] = mapped_column(Text)
    prompt_text: Mapped[str] = mapped_column(Text)
    signals_snapshot: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    agent_version: Mapped[str] = mapped_column(Text)


Index(
    "idx_agent_outputs_user_agent_exp",
    AgentOutputRow.user_id,
    AgentOutputRow.agent_id,
    AgentOutputRow.expires_at.desc(),
)


class TipRow(Base):
    """A tip served by ``POST /api/recommend`` and what went into it (explainability)."""

    __tablename__ = "tips"
    __table_args__ = (
        Index("ix_tips_workspace_user_created", "workspace_id", "user_id", "created_at"),
    )

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True)
    workspace_id: Mapped[str] = _workspace_fk()
    user_id: Mapped[str] = _user_fk()
    text: Mapped[str] = mapped_column(Text)
    template_version: Mapped[str] = mapped_column(String(50))
    agents: Mapped[list[str]] = mapped_column(JSONType)
    inputs: Mapped[list[dict[str, Any]]] = mapped_column(JSONType)
    prompt: Mapped[str] = mapped_column(Text)
    model: Mapped[str] = mapped_column(String(100))
    fallback: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class TipFeedbackRow(Base):
    """A user's reaction to a tip; ``key`` makes a repeated report a no-op."""

    __tablename__ = "tip_feedback"
    __table_args__ = (
        UniqueConstraint("tip_id", "key", name="uq_tip_feedback_tip_key"),
        Index("ix_tip_feedback_workspace_created", "workspace_id", "created_at"),
    )

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True)
    workspace_id: Mapped[str] = _workspace_fk()
    tip_id: Mapped[str] = mapped_column(IdColumn, ForeignKey("tips.id", ondelete="CASCADE"))
    user_id: Mapped[str] = _user_fk()
    key: Mapped[str] = mapped_column(String(100))
    reaction: Mapped[str] = mapped_column(String(16))
    reward_milli: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
