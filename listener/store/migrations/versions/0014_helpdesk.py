"""helpdesk hand-off: one ticket per task and helpdesk channel, the comments posted to it, webhook deliveries seen

Revision ID: 0014_helpdesk
Revises: 0012_contacts
Create Date: 2026-12-20 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014_helpdesk"
down_revision = "0013_surveys"  # was 0012_contacts on its own branch; re-chained after the surveys at merge
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "helpdesk_handoffs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=200), nullable=False),
        sa.Column("external_id", sa.String(length=200), nullable=False),
        sa.Column("ticket_id", sa.String(length=100), nullable=True),
        sa.Column("ticket_url", sa.Text(), nullable=True),
        sa.Column("requester_ref", sa.String(length=200), nullable=True),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("helpdesk_status", sa.String(length=50), nullable=True),
        sa.Column("responded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("claimed_by", sa.String(length=200), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["task_id"], ["tasks.id"], name="fk_helpdesk_handoffs_task_id_tasks",
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("task_id", "channel", name="uq_helpdesk_handoffs_task_channel"),
    )
    op.create_index("ix_helpdesk_handoffs_channel_state", "helpdesk_handoffs", ["channel", "state"])
    op.create_index("ix_helpdesk_handoffs_channel_ticket", "helpdesk_handoffs", ["channel", "ticket_id"])
    op.create_table(
        "helpdesk_posts",
        sa.Column("handoff_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=250), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("remote_id", sa.String(length=100), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("posted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["handoff_id"], ["helpdesk_handoffs.id"],
                                name="fk_helpdesk_posts_handoff_id_helpdesk_handoffs", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("handoff_id", "key"),
    )
    op.create_table(
        "helpdesk_webhook_deliveries",
        sa.Column("channel", sa.String(length=200), nullable=False),
        sa.Column("delivery_id", sa.String(length=200), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("channel", "delivery_id"),
    )
    op.create_index("ix_helpdesk_webhook_deliveries_received", "helpdesk_webhook_deliveries", ["received_at"])


def downgrade() -> None:
    op.drop_index("ix_helpdesk_webhook_deliveries_received", table_name="helpdesk_webhook_deliveries")
    op.drop_table("helpdesk_webhook_deliveries")
    op.drop_table("helpdesk_posts")
    op.drop_index("ix_helpdesk_handoffs_channel_ticket", table_name="helpdesk_handoffs")
    op.drop_index("ix_helpdesk_handoffs_channel_state", table_name="helpdesk_handoffs")
    op.drop_table("helpdesk_handoffs")
