"""Orchestration: expert_agents, expert_performance, routing_decisions, runs, steps, approvals.

Revision ID: 0005_orchestration
Revises: 0001_tenancy
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from maestro.store.base import UTCDateTime

revision = "0005_orchestration"
down_revision = "0001_tenancy"
branch_labels = ("orchestration",)
depends_on = None

_JSON = sa.JSON().with_variant(JSONB(), "postgresql")


def _workspace(table: str) -> sa.Column[str]:
    return sa.Column(
        "workspace_id",
        sa.String(36),
        sa.ForeignKey(
            "workspaces.id", ondelete="CASCADE", name=f"fk_{table}_workspace_id_workspaces"
        ),
        nullable=False,
    )


def _run_fk(table: str) -> sa.Column[str]:
    return sa.Column(
        "run_id",
        sa.String(36),
        sa.ForeignKey(
            "orchestration_runs.id",
            ondelete="CASCADE",
            name=f"fk_{table}_run_id_orchestration_runs",
        ),
        nullable=False,
    )


def upgrade() -> None:
    op.create_table(
        "expert_agents",
        sa.Column("id", sa.String(36), primary_key=True),
        _workspace("expert_agents"),
        sa.Column("agent_id", sa.String(50), nullable=False),
        sa.Column("profile", _JSON, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("workspace_id", "agent_id", name="uq_expert_agents_workspace_id"),
    )
    op.create_table(
        "expert_performance",
        sa.Column("id", sa.String(36), primary_key=True),
        _workspace("expert_performance"),
        sa.Column("agent_id", sa.String(50), nullable=False),
        sa.Column("task_type", sa.String(50), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("mean_score", sa.Float(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint(
            "workspace_id", "agent_id", "task_type", name="uq_expert_performance_workspace_id"
        ),
    )
    op.create_table(
        "routing_decisions",
        sa.Column("id", sa.String(36), primary_key=True),
        _workspace("routing_decisions"),
        sa.Column("correlation_id", sa.String(64), nullable=False),
        sa.Column("goal", sa.Text(), nullable=False),
        sa.Column("task_type", sa.String(50), nullable=False),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("agent_sequence", _JSON, nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("similar_task_id", sa.String(36), nullable=True),
        sa.Column("detail", _JSON, nullable=False),
        sa.Column("run_id", sa.String(36), nullable=True),
        sa.Column("success", sa.Boolean(), nullable=True),
        sa.Column("quality", sa.Float(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("outcome_at", UTCDateTime(), nullable=True),
    )
    op.create_index(
        "ix_routing_decisions_workspace_created",
        "routing_decisions",
        ["workspace_id", "created_at"],
    )
    op.create_table(
        "orchestration_runs",
        sa.Column("id", sa.String(36), primary_key=True),
        _workspace("orchestration_runs"),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("goal", sa.Text(), nullable=False),
        sa.Column("spec", _JSON, nullable=False),
        sa.Column("context", _JSON, nullable=False),
        sa.Column("result", _JSON, nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("lease_owner", sa.String(64), nullable=True),
        sa.Column("lease_expires_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
    )
    op.create_index(
        "ix_orchestration_runs_workspace_created",
        "orchestration_runs",
        ["workspace_id", "created_at"],
    )
    op.create_index("ix_orchestration_runs_status", "orchestration_runs", ["status"])
    op.create_table(
        "orchestration_steps",
        sa.Column("id", sa.String(36), primary_key=True),
        _workspace("orchestration_steps"),
        _run_fk("orchestration_steps"),
        sa.Column("stage", sa.String(100), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("output", _JSON, nullable=True),
        sa.Column("quality", sa.Float(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("run_id", "name", name="uq_orchestration_steps_run_id"),
    )
    op.create_table(
        "approvals",
        sa.Column("id", sa.String(36), primary_key=True),
        _workspace("approvals"),
        _run_fk("approvals"),
        sa.Column("checkpoint", sa.String(100), nullable=False),
        sa.Column("scope", sa.String(100), nullable=False),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("data", _JSON, nullable=False),
        sa.Column("timeout_outcome", sa.String(10), nullable=False),
        sa.Column("requested_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("decided_at", UTCDateTime(), nullable=True),
        sa.Column("decided_by", sa.String(100), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("notification", sa.Text(), nullable=True),
        sa.UniqueConstraint("run_id", "checkpoint", "scope", name="uq_approvals_run_id"),
    )
    op.create_index("ix_approvals_workspace_status", "approvals", ["workspace_id", "status"])


def downgrade() -> None:
    op.drop_index("ix_approvals_workspace_status", table_name="approvals")
    op.drop_table("approvals")
    op.drop_table("orchestration_steps")
    op.drop_index("ix_orchestration_runs_status", table_name="orchestration_runs")
    op.drop_index("ix_orchestration_runs_workspace_created", table_name="orchestration_runs")
    op.drop_table("orchestration_runs")
    op.drop_index("ix_routing_decisions_workspace_created", table_name="routing_decisions")
    op.drop_table("routing_decisions")
    op.drop_table("expert_performance")
    op.drop_table("expert_agents")
