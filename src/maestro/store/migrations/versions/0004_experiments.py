"""Experiments, variants, assignments, outcomes and bandit policy state.

Revision ID: 0004_experiments
Revises: 0001_tenancy
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from maestro.store.base import JSONType, UTCDateTime

revision = "0004_experiments"
down_revision = "0001_tenancy"
branch_labels = ("experiments",)
depends_on = None


def _workspace(table: str) -> sa.Column[str]:
    return sa.Column(
        "workspace_id",
        sa.String(36),
        sa.ForeignKey(
            "workspaces.id", ondelete="CASCADE", name=f"fk_{table}_workspace_id_workspaces"
        ),
        nullable=False,
    )


def _experiment(table: str) -> sa.Column[str]:
    return sa.Column(
        "experiment_id",
        sa.String(36),
        sa.ForeignKey(
            "experiments.id", ondelete="CASCADE", name=f"fk_{table}_experiment_id_experiments"
        ),
        nullable=False,
    )


def _variant(table: str) -> sa.Column[str]:
    return sa.Column(
        "variant_id",
        sa.String(36),
        sa.ForeignKey(
            "experiment_variants.id",
            ondelete="CASCADE",
            name=f"fk_{table}_variant_id_experiment_variants",
        ),
        nullable=False,
    )


def upgrade() -> None:
    op.create_table(
        "experiments",
        sa.Column("id", sa.String(36), primary_key=True),
        _workspace("experiments"),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("allocation", sa.String(16), nullable=False),
        sa.Column("metric_name", sa.String(100), nullable=False),
        sa.Column("metric_type", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("config", JSONType, nullable=False),
        sa.Column("winner_variant_id", sa.String(36), nullable=True),
        sa.Column("stop_reason", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=True),
        sa.Column("completed_at", UTCDateTime(), nullable=True),
    )
    op.create_index(
        "ix_experiments_workspace_created", "experiments", ["workspace_id", "created_at"]
    )
    op.create_table(
        "experiment_variants",
        sa.Column("id", sa.String(36), primary_key=True),
        _workspace("experiment_variants"),
        _experiment("experiment_variants"),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("factors", JSONType, nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("total", sa.Float(), nullable=False),
        sa.Column("total_sq", sa.Float(), nullable=False),
        sa.UniqueConstraint("experiment_id", "name", name="uq_experiment_variants_experiment_name"),
    )
    op.create_index("ix_experiment_variants_experiment", "experiment_variants", ["experiment_id"])
    op.create_table(
        "experiment_assignments",
        sa.Column("id", sa.String(36), primary_key=True),
        _workspace("experiment_assignments"),
        _experiment("experiment_assignments"),
        sa.Column("unit_id", sa.String(200), nullable=False),
        _variant("experiment_assignments"),
        sa.Column("assigned_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("experiment_id", "unit_id", name="uq_experiment_assignments_unit"),
    )
    op.create_table(
        "experiment_outcomes",
        sa.Column("id", sa.String(36), primary_key=True),
        _workspace("experiment_outcomes"),
        _experiment("experiment_outcomes"),
        _variant("experiment_outcomes"),
        sa.Column("unit_id", sa.String(200), nullable=True),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("idempotency_key", sa.String(200), nullable=True),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint(
            "experiment_id", "idempotency_key", name="uq_experiment_outcomes_idempotency"
        ),
    )
    op.create_index(
        "ix_experiment_outcomes_experiment_variant",
        "experiment_outcomes",
        ["experiment_id", "variant_id"],
    )
    op.create_table(
        "bandit_policy_states",
        sa.Column("id", sa.String(36), primary_key=True),
        _workspace("bandit_policy_states"),
        sa.Column("context_key", sa.String(300), nullable=False),
        sa.Column("policy", sa.String(50), nullable=False),
        sa.Column("n_arms", sa.Integer(), nullable=False),
        sa.Column("state", JSONType, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("workspace_id", "context_key", name="uq_bandit_policy_states_context"),
    )


def downgrade() -> None:
    op.drop_table("bandit_policy_states")
    op.drop_index("ix_experiment_outcomes_experiment_variant", table_name="experiment_outcomes")
    op.drop_table("experiment_outcomes")
    op.drop_table("experiment_assignments")
    op.drop_index("ix_experiment_variants_experiment", table_name="experiment_variants")
    op.drop_table("experiment_variants")
    op.drop_index("ix_experiments_workspace_created", table_name="experiments")
    op.drop_table("experiments")
