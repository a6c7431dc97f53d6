"""account movements per month (issue 13 item 4): ``account_period`` kept by a trigger

Reviewed by hand. ``account_period`` holds one row per account and **UTC** month of the entry's
capture time ``recorded_at``: the net signed rupiah (``amount``) and quantity in thousandths of
the account's postings in it. An ``AFTER INSERT`` trigger on ``journal_entry`` adds the new
entry's postings (``post_journal`` writes the postings first and then the entry; 0001's guards
refuse postings added later, so every posting is counted exactly once, by its entry's
trigger). No statement is added on the client side of the deposit path, and the rows it
touches are those of accounts whose rows ``post_journal`` has already locked, in id order
(I13), so no new lock order appears. The month is the UTC one because a trigger cannot know
the deployment's ``TIMEZONE``; statements add the hours between the UTC and the local month
boundary from the postings (``services/period_balances.py``). Existing postings are summed
into the table by the upgrade. ``flask ledger verify`` proves that every row equals its
postings.

Revision ID: 0016
Revises: 0015
"""
import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

#: The UTC month ``'YYYY-MM'`` of a ``recorded_at`` (SQLite stores naive UTC text).
MONTH = {"sqlite": "substr({col}, 1, 7)", "postgresql": "to_char({col} AT TIME ZONE 'UTC', 'YYYY-MM')"}

TRIGGER_SQLITE = """CREATE TRIGGER journal_entry_period AFTER INSERT ON journal_entry
       BEGIN
         INSERT INTO account_period (account_id, period, unit_id, amount, quantity_milli)
         SELECT account_id, substr(NEW.recorded_at, 1, 7), unit_id, sum(amount), coalesce(sum(quantity_milli), 0)
           FROM posting WHERE entry_id = NEW.id GROUP BY account_id, unit_id
         ON CONFLICT (account_id, period) DO UPDATE
           SET amount = amount + excluded.amount, quantity_milli = quantity_milli + excluded.quantity_milli;
       END"""

FUNCTION_PG = """CREATE FUNCTION journal_entry_period() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         INSERT INTO account_period (account_id, period, unit_id, amount, quantity_milli)
         SELECT account_id, to_char(NEW.recorded_at AT TIME ZONE 'UTC', 'YYYY-MM'), unit_id, sum(amount),
                coalesce(sum(quantity_milli), 0)
           FROM posting WHERE entry_id = NEW.id GROUP BY account_id, unit_id ORDER BY account_id
         ON CONFLICT (account_id, period) DO UPDATE
           SET amount = account_period.amount + EXCLUDED.amount,
               quantity_milli = account_period.quantity_milli + EXCLUDED.quantity_milli;
         RETURN NULL;
       END $$"""

TRIGGER_PG = """CREATE TRIGGER journal_entry_period AFTER INSERT ON journal_entry
       FOR EACH ROW EXECUTE FUNCTION journal_entry_period()"""

BACKFILL = """INSERT INTO account_period (account_id, period, unit_id, amount, quantity_milli)
       SELECT p.account_id, {month}, p.unit_id, sum(p.amount), coalesce(sum(p.quantity_milli), 0)
         FROM posting p JOIN journal_entry je ON je.id = p.entry_id
        GROUP BY p.account_id, {month}, p.unit_id"""


def upgrade():
    op.create_table(
        "account_period",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("quantity_milli", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"], name=op.f("fk_account_period_account_id_account")),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"], name=op.f("fk_account_period_unit_id_unit")),
        sa.PrimaryKeyConstraint("account_id", "period", name=op.f("pk_account_period")),
    )
    op.create_index("ix_account_period_unit_period", "account_period", ["unit_id", "period"], unique=False)
    dialect = op.get_bind().dialect.name
    op.execute(BACKFILL.format(month=MONTH[dialect].format(col="je.recorded_at")))
    if dialect == "postgresql":
        op.execute(FUNCTION_PG)
        op.execute(TRIGGER_PG)
    else:
        op.execute(TRIGGER_SQLITE)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS journal_entry_period ON journal_entry")
        op.execute("DROP FUNCTION IF EXISTS journal_entry_period()")
    else:
        op.execute("DROP TRIGGER IF EXISTS journal_entry_period")
    op.drop_index("ix_account_period_unit_period", table_name="account_period")
    op.drop_table("account_period")
