"""containers and gross/tare/net deposit lines (issue 12 item 5)

``container`` (a unit's sacks, baskets, buckets with their empty weight in grams) and, on
``deposit_line``, ``gross_milli`` (what the scale showed), ``tare_milli`` (the container's
weight, 0 without one), ``container_id`` and ``container_name`` (copied at the time).
``quantity_milli`` stays the net, priced and credited. Existing lines become gross = quantity,
tare 0, so the CHECK ``gross_milli = quantity_milli + tare_milli`` holds for every row.
See docs/tare.md.

Revision ID: 0015
Revises: 0014
"""
import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "container",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("tare_g", sa.BigInteger(), nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.CheckConstraint("tare_g > 0", name=op.f("ck_container_tare_positive")),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"], name=op.f("fk_container_unit_id_unit")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_container")),
        sa.UniqueConstraint("unit_id", "name", name=op.f("uq_container_unit_id_name")),
    )
    with op.batch_alter_table("container", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_container_unit_id"), ["unit_id"], unique=False)

    # Batch mode: SQLite copies deposit_line; PostgreSQL alters it in place.
    with op.batch_alter_table("deposit_line", schema=None) as batch_op:
        batch_op.add_column(sa.Column("gross_milli", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("tare_milli", sa.BigInteger(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("container_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("container_name", sa.String(length=40), nullable=True))
    op.execute("UPDATE deposit_line SET gross_milli = quantity_milli, tare_milli = 0")
    with op.batch_alter_table("deposit_line", schema=None) as batch_op:
        batch_op.alter_column("gross_milli", existing_type=sa.BigInteger(), nullable=False)
        batch_op.create_foreign_key(batch_op.f("fk_deposit_line_container_id_container"), "container",
                                    ["container_id"], ["id"])
        batch_op.create_check_constraint(
            op.f("ck_deposit_line_gross_tare_net"), "tare_milli >= 0 AND gross_milli = quantity_milli + tare_milli")


def downgrade():
    with op.batch_alter_table("deposit_line", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_deposit_line_gross_tare_net"), type_="check")
        batch_op.drop_constraint(batch_op.f("fk_deposit_line_container_id_container"), type_="foreignkey")
        batch_op.drop_column("container_name")
        batch_op.drop_column("container_id")
        batch_op.drop_column("tare_milli")
        batch_op.drop_column("gross_milli")
    with op.batch_alter_table("container", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_container_unit_id"))
    op.drop_table("container")
