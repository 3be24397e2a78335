"""score failures: mentions the model could not score are retried a few times, then parked

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 12:20:00

A mention whose text makes the model fail used to fail its whole batch on every scoring run, so nothing
behind it was scored. Now the batch is retried one mention at a time; the ones that still fail count an
attempt and keep the error, and after MAX_SCORE_ATTEMPTS they are skipped until `listener score --retry-failed`.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("mentions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("score_attempts", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("score_error", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("mentions", schema=None) as batch_op:
        batch_op.drop_column("score_error")
        batch_op.drop_column("score_attempts")
