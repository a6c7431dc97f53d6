"""notification outbox, unit.notify_enabled and member.notify_consent (issue 12 item 1)

``notification`` holds one message per money event (deposit, paid withdrawal, void), written in
the money's own transaction; ``notifications.drain.send_pending`` drains it. Both switches
are NOT NULL with a false server default: after the upgrade no unit sends anything and no
member has consented until someone says so (docs/notifications.md).

Revision ID: 0010
Revises: 0009
"""
import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "notification",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("event", sa.String(length=20), nullable=False),
        sa.Column("source_type", sa.String(length=20), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("phone", sa.String(length=30), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=500), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("event IN ('deposit', 'withdrawal', 'void')", name=op.f("ck_notification_event")),
        sa.CheckConstraint("source_type IN ('deposit', 'withdrawal')", name=op.f("ck_notification_source_type")),
        sa.CheckConstraint("status IN ('queued', 'sent', 'failed')", name=op.f("ck_notification_status")),
        sa.CheckConstraint("attempts >= 0", name=op.f("ck_notification_attempts_nonnegative")),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"], name=op.f("fk_notification_member_id_member")),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"], name=op.f("fk_notification_unit_id_unit")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification")),
        sa.UniqueConstraint("event", "source_type", "source_id",
                            name=op.f("uq_notification_event_source_type_source_id")),
    )
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.create_index("ix_notification_status_next", ["status", "next_attempt_at"], unique=False)
        batch_op.create_index("ix_notification_member_sent", ["member_id", "sent_at"], unique=False)
        batch_op.create_index("ix_notification_unit_created", ["unit_id", "created_at"], unique=False)
    # Batch mode: SQLite copies the (small) tables; PostgreSQL alters them in place.
    with op.batch_alter_table("unit", schema=None) as batch_op:
        batch_op.add_column(sa.Column("notify_enabled", sa.Boolean(), server_default=sa.false(), nullable=False))
    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.add_column(sa.Column("notify_consent", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade():
    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.drop_column("notify_consent")
    with op.batch_alter_table("unit", schema=None) as batch_op:
        batch_op.drop_column("notify_enabled")
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.drop_index("ix_notification_unit_created")
        batch_op.drop_index("ix_notification_member_sent")
        batch_op.drop_index("ix_notification_status_next")
    op.drop_table("notification")
