"""replies: replies posted to the platforms from the care inbox, and what a mention needs to be answered

Revision ID: 0012_replies
Revises: 0011_spikes
Create Date: 2026-12-10 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_replies"
down_revision = "0011_spikes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # plain ALTER TABLE (SQLite ≥ 3.35 drops columns too): a batch copy of `mentions` would lose its expression
    # index ix_mentions_seen_at
    op.add_column("mentions", sa.Column("reply_ref", sa.JSON(), nullable=False, server_default="{}"))
    op.create_table(
        "replies",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("task_id", sa.Integer(), sa.ForeignKey("tasks.id", ondelete="CASCADE"), nullable=False),
        sa.Column("mention_id", sa.Integer(), sa.ForeignKey("mentions.id", ondelete="CASCADE"), nullable=False),
        sa.Column("source_name", sa.String(length=200), nullable=False),
        sa.Column("source_kind", sa.String(length=50), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False, unique=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("claimed_by", sa.String(length=200), nullable=True),
        sa.Column("in_doubt", sa.Boolean(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("platform_id", sa.String(length=1000), nullable=True),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("author", sa.String(length=200), nullable=False),
        sa.Column("approver", sa.String(length=200), nullable=True),
        sa.Column("review_note", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("posted_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_replies_status_next", "replies", ["status", "next_attempt_at"])
    op.create_index("ix_replies_task", "replies", ["task_id"])
    op.create_index("ix_replies_platform", "replies", ["source_kind", "platform_id"])


def downgrade() -> None:
    op.drop_index("ix_replies_platform", "replies")
    op.drop_index("ix_replies_task", "replies")
    op.drop_index("ix_replies_status_next", "replies")
    op.drop_table("replies")
    op.drop_column("mentions", "reply_ref")
