"""expression index on (unit_id, upper(member_no)): member numbers are looked up without regard
to case on the counter's hot path (issue 13 item 3)

Revision ID: 0020
Revises: 0019
"""
import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_member_unit_upper_no", "member", ["unit_id", sa.text("upper(member_no)")])


def downgrade():
    op.drop_index("ix_member_unit_upper_no", table_name="member")
