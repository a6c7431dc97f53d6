"""month lock, tutup buku (issue 12 item 6; docs/month-lock.md)

``month_lock``: one row per lock period of a unit's local month (first day in ``month``), with
who locked it and when, and once unlocked who, when and why. A partial unique index allows one
active (not unlocked) row per unit and month; old periods stay as history.

Revision ID: 0012
Revises: 0011
"""
import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "month_lock",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("locked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_by_id", sa.Integer(), nullable=True),
        sa.Column("unlocked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("unlocked_by_id", sa.Integer(), nullable=True),
        sa.Column("unlock_reason", sa.String(length=300), server_default="", nullable=False),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"], name=op.f("fk_month_lock_unit_id_unit")),
        sa.ForeignKeyConstraint(["locked_by_id"], ["user.id"], name=op.f("fk_month_lock_locked_by_id_user")),
        sa.ForeignKeyConstraint(["unlocked_by_id"], ["user.id"], name=op.f("fk_month_lock_unlocked_by_id_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_month_lock")),
    )
    op.create_index("uq_month_lock_active", "month_lock", ["unit_id", "month"], unique=True,
                    sqlite_where=sa.text("unlocked_at IS NULL"), postgresql_where=sa.text("unlocked_at IS NULL"))


def downgrade():
    op.drop_index("uq_month_lock_active", table_name="month_lock")
    op.drop_table("month_lock")
