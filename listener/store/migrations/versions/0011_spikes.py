"""spikes: fired spikes, their cooldown/re-arm state, spike alerts in the outbox, mentions by seen time

Revision ID: 0011_spikes
Revises: 0010_care_inbox
Create Date: 2026-12-04 17:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_spikes"
down_revision = "0010_care_inbox"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "spikes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("watch", sa.String(length=200), nullable=False),
        sa.Column("brand", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("window_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("observed", sa.Integer(), nullable=False),
        sa.Column("expected", sa.Double(), nullable=False),
        sa.Column("ratio", sa.Double(), nullable=False),
        sa.Column("p_value", sa.Double(), nullable=False),
        sa.Column("history_weeks", sa.Integer(), nullable=False),
        sa.Column("mentions", sa.Integer(), nullable=False),
        sa.Column("share", sa.Float(), nullable=True),
        sa.Column("baseline_share", sa.Float(), nullable=True),
        sa.Column("themes", sa.JSON(), nullable=False),
        sa.Column("top_mention_ids", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_spikes_brand_kind_window", "spikes", ["brand", "kind", "window_end"])
    op.create_table(
        "spike_arms",
        sa.Column("watch", sa.String(length=200), nullable=False),
        sa.Column("brand", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("armed", sa.Boolean(), nullable=False),
        sa.Column("last_fired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("history_from", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("watch", "brand", "kind"),
    )
    with op.batch_alter_table("alerts") as batch:
        batch.add_column(sa.Column("spike_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_alerts_spike_id_spikes", "spikes", ["spike_id"], ["id"])
    op.create_index("ix_mentions_seen_at", "mentions", [sa.text("coalesce(published_at, fetched_at)")])


def downgrade() -> None:
    op.drop_index("ix_mentions_seen_at", table_name="mentions")
    with op.batch_alter_table("alerts") as batch:
        batch.drop_constraint("fk_alerts_spike_id_spikes", type_="foreignkey")
        batch.drop_column("spike_id")
    op.drop_table("spike_arms")
    op.drop_index("ix_spikes_brand_kind_window", table_name="spikes")
    op.drop_table("spikes")
