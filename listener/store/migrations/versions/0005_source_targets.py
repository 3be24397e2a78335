"""source targets: the health record lists a source's failing targets (pages, countries, hashtags …)

Revision ID: 0005_source_targets
Revises: 0004
Create Date: 2026-12-04 17:30:00

A source with several targets used to fail as a whole when one of them failed (one page without schema.org
data failed every page of a `reviews` source). Now the other targets are polled and stored, and the failing
ones are kept here with their errors until a later poll reads them fine.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_source_targets"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("source_health", schema=None) as batch_op:
        batch_op.add_column(sa.Column("failing_targets", sa.JSON(), nullable=False, server_default="{}"))


def downgrade() -> None:
    with op.batch_alter_table("source_health", schema=None) as batch_op:
        batch_op.drop_column("failing_targets")
