"""per-category kilogram factors and material groups (issue 12 item 2)

Placeholder in the revision chain: its owner fills in upgrade() and downgrade().

Revision ID: 0011
Revises: 0010
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
