"""public transparency page settings (issue 12 item 7)

Placeholder in the revision chain: its owner fills in upgrade() and downgrade().

Revision ID: 0013
Revises: 0012
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
