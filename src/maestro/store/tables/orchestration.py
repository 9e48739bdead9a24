"""Orchestration: custom experts, their performance, routing decisions, runs, steps, approvals.

A run's steps are rows of their own so that completing one step is one small
``UPDATE``; an approval is decided with one compare-and-set
(``UPDATE ... WHERE status = 'pending'``) so concurrent decisions cannot both win.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from maestro.store.base import Base, IdColumn, JSONType, UTCDateTime, new_id

__all__ = [
    "ApprovalRow",
    "ExpertAgentRow",
    "ExpertPerformanceRow",
    "RoutingDecisionRow",
    "RunRow",
    "RunStepRow",
]


def _workspace_fk() -> Mapped[str]:
    return mapped_column(IdColumn, ForeignKey("workspaces.id", ondelete="CASCADE"))


class ExpertAgentRow(Base):
    """A custom expert registered in one workspace (the defaults live in code)."""

    __tablename__ = "expert_agents"
    __table_args__ = (UniqueConstraint("workspace_id", "agent_id"),)

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True, default=new_id)
    workspace_id: Mapped[str] = _workspace_fk()
    agent_id: Mapped[str] = mapped_column(String(50))
    profile: Mapped[dict[str, Any]] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ExpertPerformanceRow(Base):
    """Running mean of an expert's recorded scores on one task type."""

    __tablename__ = "expert_performance"
    __table_args__ = (UniqueConstraint("workspace_id", "agent_id", "task_type"),)

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True, default=new_id)
    workspace_id: Mapped[str] = _workspace_fk()
    agent_id: Mapped[str] = mapped_column(String(50))
    task_type: Mapped[str] = mapped_column(String(50))
    count: Mapped[int] = mapped_column(Integer)
    mean_score: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class RoutingDecisionRow(Base):
    """Which agents were chosen for a goal, why, and (later) how it went."""

    __tablename__ = "routing_decisions"
    __table_args__ = (
        Index("ix_routing_decisions_workspace_created", "workspace_id", "created_at"),
    )

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True, default=new_id)
    workspace_id: Mapped[str] = _workspace_fk()
    correlation_id: Mapped[str] = mapped_column(String(64))
    goal: Mapped[str] = mapped_column(Text)
    task_type: Mapped[str] = mapped_column(String(50))
    source: Mapped[str] = mapped_column(String(20))
    agent_sequence: Mapped[list[str]] = mapped_column(JSONType)
    confidence: Mapped[float] = mapped_column(Float)
    similar_task_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    detail: Mapped[dict[str, Any]] = mapped_column(JSONType)
    run_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    success: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    quality: Mapped[float | None] = mapped_column(Float, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    outcome_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class RunRow(Base):
    """A workflow, self-correction or debate run: its spec, context, state and result."""

    __tablename__ = "orchestration_runs"
    __table_args__ = (
        Index("ix_orchestration_runs_workspace_created", "workspace_id", "created_at"),
        Index("ix_orchestration_runs_status", "status"),
    )

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True, default=new_id)
    workspace_id: Mapped[str] = _workspace_fk()
    kind: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))
    goal: Mapped[str] = mapped_column(Text)
    spec: Mapped[dict[str, Any]] = mapped_column(JSONType)
    context: Mapped[dict[str, Any]] = mapped_column(JSONType)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    lease_owner: Mapped[str | None] = mapped_column(String(64), nullable=True)
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class RunStepRow(Base):
    """One step of a run; ``completed`` is final and never re-executed on resume."""

    __tablename__ = "orchestration_steps"
    __table_args__ = (UniqueConstraint("run_id", "name"),)

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True, default=new_id)
    workspace_id: Mapped[str] = _workspace_fk()
    run_id: Mapped[str] = mapped_column(
        IdColumn, ForeignKey("orchestration_runs.id", ondelete="CASCADE")
    )
    stage: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(100))
    position: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    output: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    quality: Mapped[float | None] = mapped_column(Float, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ApprovalRow(Base):
    """A checkpoint's decision: pending until a human (or a rule, or the timeout) decides."""

    __tablename__ = "approvals"
    __table_args__ = (
        UniqueConstraint("run_id", "checkpoint", "scope"),
        Index("ix_approvals_workspace_status", "workspace_id", "status"),
    )

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True, default=new_id)
    workspace_id: Mapped[str] = _workspace_fk()
    run_id: Mapped[str] = mapped_column(
        IdColumn, ForeignKey("orchestration_runs.id", ondelete="CASCADE")
    )
    checkpoint: Mapped[str] = mapped_column(String(100))
    scope: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))
    description: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSONType)
    timeout_outcome: Mapped[str] = mapped_column(String(10))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    decided_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    notification: Mapped[str | None] = mapped_column(Text, nullable=True)
