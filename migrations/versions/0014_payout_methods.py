"""gold savings and bill payment payouts (issue 12 item 4)

``withdrawal`` gains the fields of two payout methods (docs/payouts.md): ``gold`` (*tabungan
emas*: ``gold_price_idr`` rupiah per gram, ``gold_mg`` whole milligrams bought, ``provider`` and
the member's ``account_no`` there) and ``bill`` (``bill_kind`` electricity/water/bpjs,
``provider``, the customer number in ``account_no``, the 20-digit electricity ``token_no``); the
payment reference reuses ``reference``. The method CHECK admits the two methods; two new CHECKs
keep ``bill_kind`` to its values and make the gold figures present (and positive) exactly on a
gold payout. Text columns are NOT NULL with server default ``''`` so existing rows stay valid.

Batch mode: SQLite cannot alter a CHECK constraint, so the table is copied (with its data);
PostgreSQL alters it in place.

Revision ID: 0014
Revises: 0013
"""
import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

_OLD_METHODS = "method IN ('cash', 'transfer', 'goods', 'donation')"
_NEW_METHODS = "method IN ('cash', 'transfer', 'goods', 'donation', 'gold', 'bill')"
_BILL_KIND = "bill_kind IN ('', 'electricity', 'water', 'bpjs')"
_GOLD_FIGURES = ("(method = 'gold') = (gold_price_idr IS NOT NULL AND gold_mg IS NOT NULL)"
                 " AND (gold_price_idr IS NULL OR gold_price_idr > 0) AND (gold_mg IS NULL OR gold_mg > 0)")


def upgrade():
    with op.batch_alter_table("withdrawal", schema=None) as batch_op:
        batch_op.add_column(sa.Column("provider", sa.String(length=100), server_default="", nullable=False))
        batch_op.add_column(sa.Column("account_no", sa.String(length=30), server_default="", nullable=False))
        batch_op.add_column(sa.Column("bill_kind", sa.String(length=12), server_default="", nullable=False))
        batch_op.add_column(sa.Column("token_no", sa.String(length=20), server_default="", nullable=False))
        batch_op.add_column(sa.Column("gold_price_idr", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("gold_mg", sa.BigInteger(), nullable=True))
        batch_op.drop_constraint(op.f("ck_withdrawal_method"), type_="check")
        batch_op.create_check_constraint(op.f("ck_withdrawal_method"), sa.text(_NEW_METHODS))
        batch_op.create_check_constraint(op.f("ck_withdrawal_bill_kind"), sa.text(_BILL_KIND))
        batch_op.create_check_constraint(op.f("ck_withdrawal_gold_figures"), sa.text(_GOLD_FIGURES))


def downgrade():
    # Gold and bill payouts cannot be expressed in the old schema: refuse rather than lose them.
    bind = op.get_bind()
    left = bind.execute(sa.text("SELECT count(*) FROM withdrawal WHERE method IN ('gold', 'bill')")).scalar()
    if left:
        raise RuntimeError(f"{left} gold or bill withdrawals exist; downgrading 0014 would lose their details")
    with op.batch_alter_table("withdrawal", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_withdrawal_gold_figures"), type_="check")
        batch_op.drop_constraint(op.f("ck_withdrawal_bill_kind"), type_="check")
        batch_op.drop_constraint(op.f("ck_withdrawal_method"), type_="check")
        batch_op.create_check_constraint(op.f("ck_withdrawal_method"), sa.text(_OLD_METHODS))
        batch_op.drop_column("gold_mg")
        batch_op.drop_column("gold_price_idr")
        batch_op.drop_column("token_no")
        batch_op.drop_column("bill_kind")
        batch_op.drop_column("account_no")
        batch_op.drop_column("provider")
