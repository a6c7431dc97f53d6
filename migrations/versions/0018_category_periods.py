"""deposit lines carry their deposit's capture time (issue 13 item 4): the category breakdown by period

Reviewed by hand. ``deposit_line.recorded_at`` is a copy of ``deposit.recorded_at``, the
capture time that decides a deposit's day and month (``reports/period.py``, docs/periods.md).
With the index ``(unit_id, recorded_at)`` the category figures of a period are a range scan of
the period's own lines of its units, instead of a join from the period's deposits to every
line of those units (the hash join over the whole history measured in bench/README.md). The
instant itself is stored, not a month key, so the same ``captured_in(start, end)`` bounds serve
local days, local months (WIB midnights, which are not UTC month boundaries) and years, and
the figures are exactly those of the join.

The deposit path writes the copy in the same multi-row INSERT as the lines (no statement
added). A ``BEFORE INSERT`` trigger refuses a line whose copy (or ``unit_id``, which the index
leads with) differs from its deposit's, and
``BEFORE UPDATE OF recorded_at`` triggers refuse changing either copy, on SQLite and
PostgreSQL, so the two can never disagree. Existing lines are filled from their deposits by the
upgrade.

Revision ID: 0018
Revises: 0017
"""
import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

BACKFILL = {
    "sqlite": "UPDATE deposit_line SET recorded_at = (SELECT d.recorded_at FROM deposit d WHERE d.id = deposit_line.deposit_id)",
    "postgresql": "UPDATE deposit_line l SET recorded_at = d.recorded_at FROM deposit d WHERE d.id = l.deposit_id",
}

GUARDS_SQLITE = [
    """CREATE TRIGGER deposit_line_recorded_at_copy BEFORE INSERT ON deposit_line
       WHEN NOT EXISTS (SELECT 1 FROM deposit WHERE id = NEW.deposit_id AND unit_id = NEW.unit_id
                                                AND recorded_at = NEW.recorded_at)
       BEGIN SELECT RAISE(ABORT, 'a deposit line carries its deposit''s unit_id and recorded_at'); END""",
    """CREATE TRIGGER deposit_line_recorded_at_fixed BEFORE UPDATE OF recorded_at ON deposit_line
       WHEN NEW.recorded_at IS NOT OLD.recorded_at
       BEGIN SELECT RAISE(ABORT, 'recorded_at of a deposit line cannot change'); END""",
    """CREATE TRIGGER deposit_recorded_at_fixed BEFORE UPDATE OF recorded_at ON deposit
       WHEN NEW.recorded_at IS NOT OLD.recorded_at
       BEGIN SELECT RAISE(ABORT, 'recorded_at of a deposit cannot change'); END""",
]

GUARDS_PG = [
    """CREATE FUNCTION deposit_line_recorded_at_copy() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         IF NOT EXISTS (SELECT 1 FROM deposit WHERE id = NEW.deposit_id AND unit_id = NEW.unit_id
                                                 AND recorded_at = NEW.recorded_at) THEN
           RAISE EXCEPTION 'a deposit line carries its deposit''s unit_id and recorded_at (deposit %)', NEW.deposit_id;
         END IF;
         RETURN NEW;
       END $$""",
    """CREATE TRIGGER deposit_line_recorded_at_copy BEFORE INSERT ON deposit_line
       FOR EACH ROW EXECUTE FUNCTION deposit_line_recorded_at_copy()""",
    """CREATE FUNCTION recorded_at_fixed() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         RAISE EXCEPTION 'recorded_at of a % cannot change', TG_TABLE_NAME;
       END $$""",
    """CREATE TRIGGER deposit_line_recorded_at_fixed BEFORE UPDATE OF recorded_at ON deposit_line
       FOR EACH ROW WHEN (NEW.recorded_at IS DISTINCT FROM OLD.recorded_at) EXECUTE FUNCTION recorded_at_fixed()""",
    """CREATE TRIGGER deposit_recorded_at_fixed BEFORE UPDATE OF recorded_at ON deposit
       FOR EACH ROW WHEN (NEW.recorded_at IS DISTINCT FROM OLD.recorded_at) EXECUTE FUNCTION recorded_at_fixed()""",
]

DROP_SQLITE = ["DROP TRIGGER IF EXISTS deposit_recorded_at_fixed", "DROP TRIGGER IF EXISTS deposit_line_recorded_at_fixed",
               "DROP TRIGGER IF EXISTS deposit_line_recorded_at_copy"]
DROP_PG = ["DROP TRIGGER IF EXISTS deposit_recorded_at_fixed ON deposit",
           "DROP TRIGGER IF EXISTS deposit_line_recorded_at_fixed ON deposit_line",
           "DROP TRIGGER IF EXISTS deposit_line_recorded_at_copy ON deposit_line",
           "DROP FUNCTION IF EXISTS recorded_at_fixed()", "DROP FUNCTION IF EXISTS deposit_line_recorded_at_copy()"]


def upgrade():
    dialect = op.get_bind().dialect.name
    # Batch mode: SQLite copies deposit_line; PostgreSQL alters it in place.
    with op.batch_alter_table("deposit_line", schema=None) as batch_op:
        batch_op.add_column(sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(BACKFILL[dialect])
    with op.batch_alter_table("deposit_line", schema=None) as batch_op:
        batch_op.alter_column("recorded_at", existing_type=sa.DateTime(timezone=True), nullable=False)
        batch_op.create_index("ix_deposit_line_unit_recorded", ["unit_id", "recorded_at"], unique=False)
    for sql in GUARDS_PG if dialect == "postgresql" else GUARDS_SQLITE:
        op.execute(sql)


def downgrade():
    dialect = op.get_bind().dialect.name
    for sql in DROP_PG if dialect == "postgresql" else DROP_SQLITE:
        op.execute(sql)
    with op.batch_alter_table("deposit_line", schema=None) as batch_op:
        batch_op.drop_index("ix_deposit_line_unit_recorded")
        batch_op.drop_column("recorded_at")
