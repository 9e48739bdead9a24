"""Cycles: who decided a held cycle item by hand, and the note.

Revision ID: 0009_cycle_decisions
Revises: 0008_cycles
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_cycle_decisions"
down_revision = "0008_cycles"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cycle_items") as batch:
        batch.add_column(sa.Column("decided_by", sa.String(100), nullable=True))
        batch.add_column(sa.Column("note", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cycle_items") as batch:
        batch.drop_column("note")
        batch.drop_column("decided_by")
