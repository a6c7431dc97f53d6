"""receipt_shown_at on deposit and withdrawal: only the first view of a receipt is the original

A nullable UTC timestamp, set once by ``UPDATE ... WHERE receipt_shown_at IS NULL`` when a
receipt page is first shown; every later view or PDF is marked SALINAN. Neither table has an
UPDATE-refusing trigger (the append-only guards are on posting, journal_entry and audit_log).

Revision ID: 0006
Revises: 0005
"""
import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    # Plain ALTER TABLE on both databases (SQLite >= 3.35 drops columns in place): no table
    # copy, so the rows, foreign keys and indexes stay as they are.
    for table in ("deposit", "withdrawal"):
        op.add_column(table, sa.Column("receipt_shown_at", sa.DateTime(timezone=True), nullable=True))


def downgrade():
    for table in ("withdrawal", "deposit"):
        op.drop_column(table, "receipt_shown_at")
