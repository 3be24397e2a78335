"""mention labels: the care team's own verdicts on mentions, to measure and retrain the model on

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 20:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mention_labels",
        sa.Column("mention_id", sa.Integer(), nullable=False),
        sa.Column("sentiment", sa.String(length=20), nullable=False),
        sa.Column("service_categories", sa.JSON(), nullable=False),
        sa.Column("labelled_by", sa.String(length=200), nullable=True),
        sa.Column("labelled_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["mention_id"], ["mentions.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("mention_id"),
    )


def downgrade() -> None:
    op.drop_table("mention_labels")
