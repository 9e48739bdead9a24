"""Recommendation pipeline: users, user_tasks, user_events, agent_outputs, tips, tip_feedback.

Revision ID: 0007_recommend
Revises: 0001_tenancy
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from maestro.store.base import UTCDateTime

revision = "0007_recommend"
down_revision = "0001_tenancy"
branch_labels = ("recommend",)
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


def _user(table: str, type_: sa.types.TypeEngine[str] | None = None) -> sa.Column[str]:
    return sa.Column(
        "user_id",
        type_ if type_ is not None else sa.String(36),
        sa.ForeignKey("users.id", ondelete="CASCADE", name=f"fk_{table}_user_id_users"),
        nullable=False,
    )


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.String(36), primary_key=True),
        _workspace("users"),
        sa.Column("key", sa.String(100), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("focus_areas", _JSON, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("workspace_id", "key", name="uq_users_workspace_key"),
    )
    op.create_table(
        "user_tasks",
        sa.Column("id", sa.String(36), primary_key=True),
        _workspace("user_tasks"),
        _user("user_tasks"),
        sa.Column("key", sa.String(100), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("due_at", UTCDateTime(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("area", sa.String(50), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_user_tasks_user", "user_tasks", ["user_id"])
    op.create_table(
        "user_events",
        sa.Column("id", sa.String(36), primary_key=True),
        _workspace("user_events"),
        _user("user_events"),
        sa.Column("key", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("occurred_at", UTCDateTime(), nullable=False),
        sa.Column("task_key", sa.String(100), nullable=True),
        sa.Column("area", sa.String(50), nullable=True),
        sa.Column("duration_min", sa.Float(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_user_events_user_occurred", "user_events", ["user_id", "occurred_at"])
    # agent_outputs: the seed's columns (ADR-0013) plus workspace_id.
    op.create_table(
        "agent_outputs",
        sa.Column("id", sa.Text(), primary_key=True),
        _workspace("agent_outputs"),
        _user("agent_outputs", sa.Text()),
        sa.Column("agent_id", sa.Text(), nullable=False),
        sa.Column("prompt_text", sa.Text(), nullable=False),
        sa.Column("signals_snapshot", _JSON, nullable=True),
        sa.Column("computed_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("agent_version", sa.Text(), nullable=False),
    )
    op.create_index(
        "idx_agent_outputs_user_agent_exp",
        "agent_outputs",
        ["user_id", "agent_id", sa.text("expires_at DESC")],
    )
    op.create_table(
        "tips",
        sa.Column("id", sa.String(36), primary_key=True),
        _workspace("tips"),
        _user("tips"),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("template_version", sa.String(50), nullable=False),
        sa.Column("agents", _JSON, nullable=False),
        sa.Column("inputs", _JSON, nullable=False),
        sa.Column("prompt", sa.Text(), nullable=False),
        sa.Column("model", sa.String(100), nullable=False),
        sa.Column("fallback", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_index(
        "ix_tips_workspace_user_created", "tips", ["workspace_id", "user_id", "created_at"]
    )
    op.create_table(
        "tip_feedback",
        sa.Column("id", sa.String(36), primary_key=True),
        _workspace("tip_feedback"),
        sa.Column(
            "tip_id",
            sa.String(36),
            sa.ForeignKey("tips.id", ondelete="CASCADE", name="fk_tip_feedback_tip_id_tips"),
            nullable=False,
        ),
        _user("tip_feedback"),
        sa.Column("key", sa.String(100), nullable=False),
        sa.Column("reaction", sa.String(16), nullable=False),
        sa.Column("reward_milli", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("tip_id", "key", name="uq_tip_feedback_tip_key"),
    )
    op.create_index(
        "ix_tip_feedback_workspace_created", "tip_feedback", ["workspace_id", "created_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_tip_feedback_workspace_created", table_name="tip_feedback")
    op.drop_table("tip_feedback")
    op.drop_index("ix_tips_workspace_user_created", table_name="tips")
    op.drop_table("tips")
    op.drop_index("idx_agent_outputs_user_agent_exp", table_name="agent_outputs")
    op.drop_table("agent_outputs")
    op.drop_index("ix_user_events_user_occurred", table_name="user_events")
    op.drop_table("user_events")
    op.drop_index("ix_user_tasks_user", table_name="user_tasks")
    op.drop_table("user_tasks")
    op.drop_table("users")
