"""public transparency page settings (issue 12 item 7)

``unit.public_page_enabled`` (on by default, so every existing unit's page is on after the
upgrade, as the issue asks), ``collection_days`` and ``collection_place`` (free text shown on
``/u/<code>``; empty by default). NOT NULL with server defaults so existing rows stay valid.

Revision ID: 0013
Revises: 0012
"""
import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade():
    # Batch mode: SQLite copies the (small) unit table; PostgreSQL alters it in place.
    with op.batch_alter_table("unit", schema=None) as batch_op:
        batch_op.add_column(sa.Column("public_page_enabled", sa.Boolean(), server_default=sa.true(),
                                      nullable=False))
        batch_op.add_column(sa.Column("collection_days", sa.String(length=200), server_default="",
                                      nullable=False))
        batch_op.add_column(sa.Column("collection_place", sa.String(length=300), server_default="",
                                      nullable=False))


def downgrade():
    with op.batch_alter_table("unit", schema=None) as batch_op:
        batch_op.drop_column("collection_place")
        batch_op.drop_column("collection_days")
        batch_op.drop_column("public_page_enabled")
