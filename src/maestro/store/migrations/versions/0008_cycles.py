"""Cycles: cycle_items, ingested_metrics.

Revision ID: 0008_cycles
Revises: 0001_tenancy
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from maestro.store.base import UTCDateTime

revision = "0008_cycles"
down_revision = "0001_tenancy"
branch_labels = ("cycles",)
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
        "cycle_items",
        sa.Column("id", sa.String(36), primary_key=True),
        _workspace("cycle_items"),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("brand", sa.String(50), nullable=False),
        sa.Column("agent_id", sa.String(50), nullable=False),
        sa.Column("strategy", sa.String(30), nullable=False),
        sa.Column("topic", sa.String(100), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("quality", sa.Float(), nullable=False),
        sa.Column("drafts", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("rule", sa.String(100), nullable=True),
        sa.Column("post_id", sa.String(36), nullable=True),
        sa.Column("external_id", sa.String(200), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("decided_at", UTCDateTime(), nullable=True),
        sa.Column("expires_at", UTCDateTime(), nullable=True),
        sa.Column("metrics_at", UTCDateTime(), nullable=True),
    )
    op.create_index("ix_cycle_items_workspace_status", "cycle_items", ["workspace_id", "status"])
    op.create_index(
        "ix_cycle_items_workspace_brand_created",
        "cycle_items",
        ["workspace_id", "brand", "created_at"],
    )
    op.create_table(
        "ingested_metrics",
        sa.Column("id", sa.String(36), primary_key=True),
        _workspace("ingested_metrics"),
        sa.Column("client_key", sa.String(200), nullable=False),
        sa.Column("post_id", sa.String(36), nullable=False),
        sa.Column("engagement", sa.Float(), nullable=False),
        sa.Column("metrics", _JSON, nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("workspace_id", "client_key", name="uq_ingested_metrics_workspace_key"),
    )


def downgrade() -> None:
    op.drop_table("ingested_metrics")
    op.drop_index("ix_cycle_items_workspace_brand_created", table_name="cycle_items")
    op.drop_index("ix_cycle_items_workspace_status", table_name="cycle_items")
    op.drop_table("cycle_items")
