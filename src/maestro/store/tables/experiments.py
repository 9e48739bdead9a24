"""Experiments (variants, sticky assignments, outcomes) and persisted bandit policy state.

An assignment is unique per (experiment, unit): a unit sees one variant for the
life of the experiment. An outcome's optional idempotency key is unique per
experiment, so a retried write is recorded once. A bandit policy's state is one
JSON document per (workspace, context key), guarded by a version number.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from maestro.store.base import Base, IdColumn, JSONType, UTCDateTime, new_id

__all__ = [
    "BanditStateRow",
    "ExperimentAssignmentRow",
    "ExperimentOutcomeRow",
    "ExperimentRow",
    "ExperimentVariantRow",
]


def _workspace_fk() -> Mapped[str]:
    return mapped_column(IdColumn, ForeignKey("workspaces.id", ondelete="CASCADE"))


def _experiment_fk() -> Mapped[str]:
    return mapped_column(IdColumn, ForeignKey("experiments.id", ondelete="CASCADE"))


class ExperimentRow(Base):
    """One experiment and its design; ``config`` holds the validated spec."""

    __tablename__ = "experiments"
    __table_args__ = (Index("ix_experiments_workspace_created", "workspace_id", "created_at"),)

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True, default=new_id)
    workspace_id: Mapped[str] = _workspace_fk()
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))
    allocation: Mapped[str] = mapped_column(String(16))
    metric_name: Mapped[str] = mapped_column(String(100))
    metric_type: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    config: Mapped[dict[str, Any]] = mapped_column(JSONType)
    winner_variant_id: Mapped[str | None] = mapped_column(IdColumn, nullable=True)
    stop_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class ExperimentVariantRow(Base):
    """A variant: ``position`` is its arm index; ``n``, ``total``, ``total_sq`` sum its outcomes."""

    __tablename__ = "experiment_variants"
    __table_args__ = (
        UniqueConstraint("experiment_id", "name", name="uq_experiment_variants_experiment_name"),
        Index("ix_experiment_variants_experiment", "experiment_id"),
    )

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True, default=new_id)
    workspace_id: Mapped[str] = _workspace_fk()
    experiment_id: Mapped[str] = _experiment_fk()
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")
    factors: Mapped[dict[str, Any]] = mapped_column(JSONType)
    n: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[float] = mapped_column(Float, default=0.0)
    total_sq: Mapped[float] = mapped_column(Float, default=0.0)


class ExperimentAssignmentRow(Base):
    """Which variant a unit (user, post, request) was given; one per experiment and unit."""

    __tablename__ = "experiment_assignments"
    __table_args__ = (
        UniqueConstraint("experiment_id", "unit_id", name="uq_experiment_assignments_unit"),
    )

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True, default=new_id)
    workspace_id: Mapped[str] = _workspace_fk()
    experiment_id: Mapped[str] = _experiment_fk()
    unit_id: Mapped[str] = mapped_column(String(200))
    variant_id: Mapped[str] = mapped_column(
        IdColumn, ForeignKey("experiment_variants.id", ondelete="CASCADE")
    )
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ExperimentOutcomeRow(Base):
    """One observed metric value for a variant."""

    __tablename__ = "experiment_outcomes"
    __table_args__ = (
        UniqueConstraint(
            "experiment_id", "idempotency_key", name="uq_experiment_outcomes_idempotency"
        ),
        Index("ix_experiment_outcomes_experiment_variant", "experiment_id", "variant_id"),
    )

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True, default=new_id)
    workspace_id: Mapped[str] = _workspace_fk()
    experiment_id: Mapped[str] = _experiment_fk()
    variant_id: Mapped[str] = mapped_column(
        IdColumn, ForeignKey("experiment_variants.id", ondelete="CASCADE")
    )
    unit_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    value: Mapped[float] = mapped_column(Float)
    idempotency_key: Mapped[str | None] = mapped_column(String(200), nullable=True)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())


class BanditStateRow(Base):
    """A bandit policy's state (:meth:`maestro.learning.bandits.Policy.state`) for one context."""

    __tablename__ = "bandit_policy_states"
    __table_args__ = (
        UniqueConstraint("workspace_id", "context_key", name="uq_bandit_policy_states_context"),
    )

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True, default=new_id)
    workspace_id: Mapped[str] = _workspace_fk()
    context_key: Mapped[str] = mapped_column(String(300))
    policy: Mapped[str] = mapped_column(String(50))
    n_arms: Mapped[int] = mapped_column(Integer)
    state: Mapped[dict[str, Any]] = mapped_column(JSONType)
    version: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
