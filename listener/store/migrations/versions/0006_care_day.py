"""the care team's working day: escalations and grouped messages in the outbox, silences, task assignees

Revision ID: 0006_care_day
Revises: 0005_source_targets
Create Date: 2026-12-04 17:30:00

Outbox rows gain a kind (task | escalation | group), the escalation step and the group flush they carry; a grouped
message belongs to no single mention, so alerts.mention_id becomes nullable. Tasks gain an assignee and the silence
that muted them.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_care_day"
down_revision = "0005_source_targets"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alert_groups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rule", sa.String(length=200), nullable=False),
        sa.Column("group_key", sa.String(length=1000), nullable=False),
        sa.Column("labels", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_flush_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_flush_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("flushes", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("rule", "group_key", name="uq_alert_groups_rule_key"),
    )
    op.create_index("ix_alert_groups_next_flush", "alert_groups", ["next_flush_at"])
    op.create_table(
        "alert_group_members",
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("flush_seq", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["task_id"], ["tasks.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["group_id"], ["alert_groups.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("task_id", "group_id"),
    )
    op.create_index("ix_alert_group_members_group_seq", "alert_group_members", ["group_id", "flush_seq"])
    op.create_table(
        "silences",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("brand", sa.String(length=200), nullable=True),
        sa.Column("category", sa.String(length=100), nullable=True),
        sa.Column("rule", sa.String(length=200), nullable=True),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("assignee", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("silenced_by", sa.Integer(), nullable=True))
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.alter_column("mention_id", existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(sa.Column("kind", sa.String(length=20), nullable=False, server_default="task"))
        batch_op.add_column(sa.Column("step", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("group_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("group_seq", sa.Integer(), nullable=True))
        batch_op.create_foreign_key("fk_alerts_group_id", "alert_groups", ["group_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_constraint("fk_alerts_group_id", type_="foreignkey")
        batch_op.drop_column("group_seq")
        batch_op.drop_column("group_id")
        batch_op.drop_column("step")
        batch_op.drop_column("kind")
        batch_op.alter_column("mention_id", existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.drop_column("silenced_by")
        batch_op.drop_column("assignee")
    op.drop_table("silences")
    op.drop_index("ix_alert_group_members_group_seq", table_name="alert_group_members")
    op.drop_table("alert_group_members")
    op.drop_index("ix_alert_groups_next_flush", table_name="alert_groups")
    op.drop_table("alert_groups")
