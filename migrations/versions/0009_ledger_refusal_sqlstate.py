"""ledger trigger refusals raise their own SQLSTATE (issue 11 item 2)

Placeholder in the revision chain: its owner fills in upgrade() and downgrade().

Revision ID: 0009
Revises: 0008
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
