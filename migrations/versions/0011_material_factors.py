"""waste_category.kg_factor_g and kg_factor_source: pieces and litres converted to kilograms

The government tonnage export (issue 12 item 2, ``reports/sipsn.py``) reports kilograms per
material group. A category weighed in kg needs no factor (1 kg = 1000 g); a category counted
in pieces or measured in litres carries ``kg_factor_g``, the integer grams of one piece or one
litre, with ``kg_factor_source`` naming where the figure comes from (``data/catalogue.csv``,
docs/exports.md). NULL = no factor yet: the export refuses until the catalogue gives one.
Existing rows get NULL and an empty source; ``flask category load`` fills them in.

Revision ID: 0011
Revises: 0010
"""
import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("waste_category", sa.Column("kg_factor_g", sa.Integer(), nullable=True))
    op.add_column("waste_category", sa.Column("kg_factor_source", sa.String(length=200), nullable=False,
                                              server_default=""))


def downgrade():
    # batch mode: SQLite before 3.35 cannot drop a column in place.
    with op.batch_alter_table("waste_category") as batch_op:
        batch_op.drop_column("kg_factor_source")
        batch_op.drop_column("kg_factor_g")
