"""hot-path indexes and cache versions (issue 13 item 1): unit.cache_version, bumped with every
price or catalogue change, keys the deposit hot path's per-process caches

Revision ID: 0017
Revises: 0016
"""
import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("unit", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cache_version", sa.Integer(), server_default="0", nullable=False))


def downgrade():
    with op.batch_alter_table("unit", schema=None) as batch_op:
        batch_op.drop_column("cache_version")
