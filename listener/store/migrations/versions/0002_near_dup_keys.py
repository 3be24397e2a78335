"""near-duplicate keys: MinHash LSH band keys of canonical mentions

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 09:50:00

Mentions stored before this revision have no keys: they still dedup by exact content hash, and as copies are
only linked within a 14-day window (listener/dedup.py), the gap closes by itself.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "near_dup_keys",
        sa.Column("band_key", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("mention_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.ForeignKeyConstraint(["mention_id"], ["mentions.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("band_key", "mention_id"),
        sqlite_with_rowid=False,
    )
    with op.batch_alter_table("near_dup_keys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_near_dup_keys_mention_id"), ["mention_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("near_dup_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_near_dup_keys_mention_id"))
    op.drop_table("near_dup_keys")
