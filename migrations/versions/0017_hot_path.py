"""hot-path indexes and cache versions (issue 13 item 1) — placeholder, filled in by the deposit hot-path change

Revision ID: 0017
Revises: 0016
"""

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
