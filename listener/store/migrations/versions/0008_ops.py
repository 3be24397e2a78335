"""outbox claims name their process, so the next start releases what a killed process had claimed

Revision ID: 0008_ops
Revises: 0007_privacy_cluster
Create Date: 2026-12-04 17:30:00

A row claimed for sending stays "sending" until its claim times out (5 minutes by default) when the
process that claimed it dies. `claimed_by` records host, boot and process (listener/delivery/claims.py), so a
starting daemon releases the claims of processes that no longer exist on its host at once.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_ops"
down_revision = "0007_privacy_cluster"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claimed_by", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_column("claimed_by")
