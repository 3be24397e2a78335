"""retention day counts and the privacy audit

Revision ID: 0007_privacy_cluster
Revises: 0006_care_day
Create Date: 2026-12-04 17:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_privacy_cluster"
down_revision = "0006_care_day"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mention_daily_counts",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("brand", sa.String(length=200), nullable=False),
        sa.Column("sentiment", sa.String(length=20), nullable=False),
        sa.Column("mentions", sa.Integer(), nullable=False),
        sa.Column("negative_service", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", "brand", "sentiment"),
    )
    op.create_table(
        "privacy_audit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("by", sa.String(length=200), nullable=False),
        sa.Column("selector", sa.String(length=20), nullable=False),
        sa.Column("selector_digest", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=True),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    # Retention selects by age; privacy erase by author and URL.
    op.create_index("ix_mentions_fetched_at", "mentions", ["fetched_at"])
    op.create_index("ix_mentions_author", "mentions", ["author"])


def downgrade() -> None:
    op.drop_index("ix_mentions_author", "mentions")
    op.drop_index("ix_mentions_fetched_at", "mentions")
    op.drop_table("privacy_audit")
    op.drop_table("mention_daily_counts")
