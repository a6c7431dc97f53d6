"""gold savings and bill payment payouts (issue 12 item 4)

Placeholder in the revision chain: its owner fills in upgrade() and downgrade().

Revision ID: 0014
Revises: 0013
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
