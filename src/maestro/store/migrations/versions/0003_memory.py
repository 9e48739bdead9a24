"""Memory: task_history, critiques, learned_patterns, content_posts.

Revision ID: 0003_memory
Revises: 0001_tenancy
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from maestro.store.base import UTCDateTime

revision = "0003_memory"
down_revision = "0001_tenancy"
branch_labels = ("memory",)
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


def upgrade() -> None:
    op.create_table(
        "task_history",
        sa.Column("id", sa.String(36), primary_key=True),
        _workspace("task_history"),
        sa.Column("user_id", sa.String(100), nullable=True),
        sa.Column("task_type", sa.String(50), nullable=False),
        sa.Column("goal", sa.Text(), nullable=False),
        sa.Column("goal_embedding", sa.LargeBinary(), nullable=False),
        sa.Column("embedder", sa.String(50), nullable=False),
        sa.Column("agent_sequence", _JSON, nullable=False),
        sa.Column("success", sa.Boolean(), nullable=False),
        sa.Column("quality", sa.Float(), nullable=True),
        sa.Column("duration_s", sa.Float(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("metadata", _JSON, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_index(
        "ix_task_history_workspace_created", "task_history", ["workspace_id", "created_at"]
    )
    op.create_table(
        "critiques",
        sa.Column("id", sa.String(36), primary_key=True),
        _workspace("critiques"),
        sa.Column("content_id", sa.String(100), nullable=False),
        sa.Column("critic", sa.String(50), nullable=True),
        sa.Column("critique", sa.Text(), nullable=False),
        sa.Column("issues", _JSON, nullable=False),
        sa.Column("issue_count", sa.Integer(), nullable=False),
        sa.Column("scores", _JSON, nullable=False),
        sa.Column("quality", sa.Float(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_critiques_workspace_content", "critiques", ["workspace_id", "content_id"])
    op.create_index("ix_critiques_created_at", "critiques", ["created_at"])
    op.create_table(
        "learned_patterns",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        _workspace("learned_patterns"),
        sa.Column("user_id", sa.String(100), nullable=True),
        sa.Column("pattern_type", sa.String(30), nullable=False),
        sa.Column("brand", sa.String(50), nullable=False),
        sa.Column("strategy", sa.String(30), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("evidence_count", sa.Integer(), nullable=False),
        sa.Column("discovered_by", sa.String(50), nullable=False),
        sa.Column("discovered_at", UTCDateTime(), nullable=False),
        sa.Column("last_validated_at", UTCDateTime(), nullable=False),
        sa.Column("metadata", _JSON, nullable=False),
        sa.Column("archived", sa.Boolean(), nullable=False),
    )
    op.create_index(
        "ix_learned_patterns_lookup",
        "learned_patterns",
        ["workspace_id", "brand", "pattern_type", "strategy"],
    )
    op.create_table(
        "content_posts",
        sa.Column("id", sa.String(36), primary_key=True),
        _workspace("content_posts"),
        sa.Column("brand", sa.String(50), nullable=False),
        sa.Column("agent_id", sa.String(50), nullable=False),
        sa.Column("strategy", sa.String(30), nullable=False),
        sa.Column("topic", sa.String(200), nullable=True),
        sa.Column("content_id", sa.String(100), nullable=True),
        sa.Column("published_at", UTCDateTime(), nullable=False),
        sa.Column("engagement", sa.Float(), nullable=True),
        sa.Column("metrics", _JSON, nullable=False),
        sa.Column("metrics_updated_at", UTCDateTime(), nullable=True),
    )
    op.create_index(
        "ix_content_posts_workspace_brand_published",
        "content_posts",
        ["workspace_id", "brand", "published_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_content_posts_workspace_brand_published", table_name="content_posts")
    op.drop_table("content_posts")
    op.drop_index("ix_learned_patterns_lookup", table_name="learned_patterns")
    op.drop_table("learned_patterns")
    op.drop_index("ix_critiques_created_at", table_name="critiques")
    op.drop_index("ix_critiques_workspace_content", table_name="critiques")
    op.drop_table("critiques")
    op.drop_index("ix_task_history_workspace_created", table_name="task_history")
    op.drop_table("task_history")
