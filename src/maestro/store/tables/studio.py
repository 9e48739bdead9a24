"""The content studio's population: agents, gene pool, custom strategies, diversity history.

``gene_pool.agent_id`` is deliberately not a foreign key: a retired agent's DNA
must outlive the agent row (seed 000: DNA survives agent death).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from maestro.store.base import Base, IdColumn, JSONType, UTCDateTime, new_id

__all__ = ["ContentAgentRow", "ContentStrategyRow", "DiversityPointRow", "GenePoolRow"]


def _workspace_fk() -> Mapped[str]:
    return mapped_column(IdColumn, ForeignKey("workspaces.id", ondelete="CASCADE"))


class ContentAgentRow(Base):
    """A content agent: DNA plus its life record."""

    __tablename__ = "content_agents"
    __table_args__ = (Index("ix_content_agents_workspace_status", "workspace_id", "status"),)

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True, default=new_id)
    workspace_id: Mapped[str] = _workspace_fk()
    name: Mapped[str] = mapped_column(String(100))
    strategy_weights: Mapped[dict[str, float]] = mapped_column(JSONType)
    temperature: Mapped[float] = mapped_column(Float)
    personality: Mapped[str] = mapped_column(Text)
    protected_strategy: Mapped[str] = mapped_column(String(30))
    primary_strategy: Mapped[str] = mapped_column(String(30))
    performance: Mapped[float] = mapped_column(Float)
    exploration_bonus: Mapped[float] = mapped_column(Float)
    survival_score: Mapped[float] = mapped_column(Float)
    uses: Mapped[dict[str, int]] = mapped_column(JSONType)
    generation: Mapped[int] = mapped_column(Integer)
    parents: Mapped[list[str]] = mapped_column(JSONType)
    status: Mapped[str] = mapped_column(String(10))
    born_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class GenePoolRow(Base):
    """A retired agent's DNA, kept for crossover."""

    __tablename__ = "gene_pool"
    __table_args__ = (Index("ix_gene_pool_workspace_retired", "workspace_id", "retired_at"),)

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True, default=new_id)
    workspace_id: Mapped[str] = _workspace_fk()
    agent_id: Mapped[str] = mapped_column(IdColumn)
    name: Mapped[str] = mapped_column(String(100))
    dna: Mapped[dict[str, Any]] = mapped_column(JSONType)
    performance: Mapped[float] = mapped_column(Float)
    exploration_bonus: Mapped[float] = mapped_column(Float)
    survival_score: Mapped[float] = mapped_column(Float)
    uses: Mapped[dict[str, int]] = mapped_column(JSONType)
    generation: Mapped[int] = mapped_column(Integer)
    born_at: Mapped[datetime] = mapped_column(UTCDateTime())
    retired_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ContentStrategyRow(Base):
    """A workspace's custom strategy (the eight defaults live in code)."""

    __tablename__ = "content_strategies"
    __table_args__ = (
        UniqueConstraint("workspace_id", "name", name="uq_content_strategies_workspace_name"),
    )

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True, default=new_id)
    workspace_id: Mapped[str] = _workspace_fk()
    name: Mapped[str] = mapped_column(String(30))
    title: Mapped[str] = mapped_column(String(100))
    prompt_fragment: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class DiversityPointRow(Base):
    """Population diversity at one moment (after adaptation or evolution)."""

    __tablename__ = "diversity_history"
    __table_args__ = (
        Index("ix_diversity_history_workspace_recorded", "workspace_id", "recorded_at"),
    )

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True, default=new_id)
    workspace_id: Mapped[str] = _workspace_fk()
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    event: Mapped[str] = mapped_column(String(20))
    diversity: Mapped[float] = mapped_column(Float)
    agents: Mapped[int] = mapped_column(Integer)
    primaries: Mapped[dict[str, int]] = mapped_column(JSONType)
