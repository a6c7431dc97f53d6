"""member_counter: member numbers taken from a counter row, like receipt numbers

One row per unit with the last standard member number (``<UNIT CODE>-<n>``) issued. Two
registrations at once used to compute "highest existing + 1" each and collide on
``uq_member_unit_id_member_no`` (issue 10 item 2); now the second waits on the first's row
lock. No rows are seeded here: ``services.members.next_member_no`` creates a unit's row on
first use from the highest standard number its members already have.

Revision ID: 0007
Revises: 0006
"""
import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "member_counter",
        sa.Column("unit_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_no", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"], name=op.f("fk_member_counter_unit_id_unit")),
        sa.PrimaryKeyConstraint("unit_id", name=op.f("pk_member_counter")),
    )


def downgrade():
    op.drop_table("member_counter")
