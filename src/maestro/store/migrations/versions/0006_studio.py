"""Studio: content_agents, gene_pool, content_strategies, diversity_history.

Revision ID: 0006_studio
Revises: 0001_tenancy
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from maestro.store.base import UTCDateTime

revision = "0006_studio"
down_revision = "0001_tenancy"
branch_labels = ("studio",)
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
        "content_agents",
        sa.Column("id", sa.String(36), primary_key=True),
        _workspace("content_agents"),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("strategy_weights", _JSON, nullable=False),
        sa.Column("temperature", sa.Float(), nullable=False),
        sa.Column("personality", sa.Text(), nullable=False),
        sa.Column("protected_strategy", sa.String(30), nullable=False),
        sa.Column("primary_strategy", sa.String(30), nullable=False),
        sa.Column("performance", sa.Float(), nullable=False),
        sa.Column("exploration_bonus", sa.Float(), nullable=False),
        sa.Column("survival_score", sa.Float(), nullable=False),
        sa.Column("uses", _JSON, nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("parents", _JSON, nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("born_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("retired_at", UTCDateTime(), nullable=True),
    )
    op.create_index(
        "ix_content_agents_workspace_status", "content_agents", ["workspace_id", "status"]
    )
    op.create_table(
        "gene_pool",
        sa.Column("id", sa.String(36), primary_key=True),
        _workspace("gene_pool"),
        sa.Column("agent_id", sa.String(36), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("dna", _JSON, nullable=False),
        sa.Column("performance", sa.Float(), nullable=False),
        sa.Column("exploration_bonus", sa.Float(), nullable=False),
        sa.Column("survival_score", sa.Float(), nullable=False),
        sa.Column("uses", _JSON, nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("born_at", UTCDateTime(), nullable=False),
        sa.Column("retired_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_gene_pool_workspace_retired", "gene_pool", ["workspace_id", "retired_at"])
    op.create_table(
        "content_strategies",
        sa.Column("id", sa.String(36), primary_key=True),
        _workspace("content_strategies"),
        sa.Column("name", sa.String(30), nullable=False),
        sa.Column("title", sa.String(100), nullable=False),
        sa.Column("prompt_fragment", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("workspace_id", "name", name="uq_content_strategies_workspace_name"),
    )
    op.create_table(
        "diversity_history",
        sa.Column("id", sa.String(36), primary_key=True),
        _workspace("diversity_history"),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        sa.Column("event", sa.String(20), nullable=False),
        sa.Column("diversity", sa.Float(), nullable=False),
        sa.Column("agents", sa.Integer(), nullable=False),
        sa.Column("primaries", _JSON, nullable=False),
    )
    op.create_index(
        "ix_diversity_history_workspace_recorded",
        "diversity_history",
        ["workspace_id", "recorded_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_diversity_history_workspace_recorded", table_name="diversity_history")
    op.drop_table("diversity_history")
    op.drop_table("content_strategies")
    op.drop_index("ix_gene_pool_workspace_retired", table_name="gene_pool")
    op.drop_table("gene_pool")
    op.drop_index("ix_content_agents_workspace_status", table_name="content_agents")
    op.drop_table("content_agents")
