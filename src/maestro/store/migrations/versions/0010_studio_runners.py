"""Cycles: the lease of the process running each workspace's studio.

Revision ID: 0010_studio_runners
Revises: 0009_cycle_decisions
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from maestro.store.base import UTCDateTime

revision = "0010_studio_runners"
down_revision = "0009_cycle_decisions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "studio_runners",
        sa.Column(
            "workspace_id",
            sa.String(36),
            sa.ForeignKey("workspaces.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("holder", sa.String(200), nullable=False),
        sa.Column("claimed_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("studio_runners")
