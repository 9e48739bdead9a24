"""Accounting of LLM calls.

Revision ID: 0002_gateway
Revises: 0001_tenancy
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from maestro.store.base import UTCDateTime

revision = "0002_gateway"
down_revision = "0001_tenancy"
branch_labels = ("gateway",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "llm_calls",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column(
            "workspace_id",
            sa.String(36),
            sa.ForeignKey(
                "workspaces.id", ondelete="CASCADE", name="fk_llm_calls_workspace_id_workspaces"
            ),
            nullable=False,
        ),
        sa.Column("agent", sa.String(100), nullable=False),
        sa.Column("purpose", sa.String(100), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("prompt_tokens", sa.Integer(), nullable=False),
        sa.Column("completion_tokens", sa.Integer(), nullable=False),
        sa.Column("cost_usd", sa.Float(), nullable=False),
        sa.Column("latency_ms", sa.Float(), nullable=False),
        sa.Column("cache_level", sa.String(4), nullable=True),
        sa.Column("outcome", sa.String(32), nullable=False),
        sa.Column("template_version", sa.String(100), nullable=True),
        sa.Column("correlation_id", sa.String(64), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_llm_calls_ws_created", "llm_calls", ["workspace_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_llm_calls_ws_created", table_name="llm_calls")
    op.drop_table("llm_calls")
