"""ledger guards on PostgreSQL: balance re-checked at commit, TRUNCATE refused

Reviewed by hand. An adversarial review found two ways around the guards of 0001 on
PostgreSQL: (1) a concurrent transaction could add a posting to an entry that another,
not yet committed transaction was writing (the "entry already written" check cannot see
uncommitted rows); a deferred constraint trigger now re-checks, at commit, that the entry of
every new posting still sums to zero. (2) TRUNCATE bypasses row triggers; statement triggers
now refuse it on posting, journal_entry and audit_log. SQLite needs neither: one writer at a
time (BEGIN IMMEDIATE), no TRUNCATE; its INSERT OR REPLACE hole is closed by
``PRAGMA recursive_triggers`` in wastebank/db_setup.py.

Revision ID: 0005
Revises: 0004
"""
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

UP = [
    """CREATE FUNCTION posting_check_entry_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         IF (SELECT coalesce(sum(amount), 0) FROM posting WHERE entry_id = NEW.entry_id) <> 0 THEN
           RAISE EXCEPTION 'unbalanced journal entry %: postings must sum to zero', NEW.entry_id;
         END IF;
         RETURN NULL;
       END $$""",
    """CREATE CONSTRAINT TRIGGER posting_balanced_at_commit AFTER INSERT ON posting
       DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION posting_check_entry_balanced()""",
    """CREATE FUNCTION ledger_no_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         RAISE EXCEPTION 'append-only: % cannot be truncated', TG_TABLE_NAME;
       END $$""",
    """CREATE TRIGGER posting_no_truncate BEFORE TRUNCATE ON posting
       FOR EACH STATEMENT EXECUTE FUNCTION ledger_no_truncate()""",
    """CREATE TRIGGER journal_entry_no_truncate BEFORE TRUNCATE ON journal_entry
       FOR EACH STATEMENT EXECUTE FUNCTION ledger_no_truncate()""",
    """CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
       FOR EACH STATEMENT EXECUTE FUNCTION ledger_no_truncate()""",
]

DOWN = [
    "DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log",
    "DROP TRIGGER IF EXISTS journal_entry_no_truncate ON journal_entry",
    "DROP TRIGGER IF EXISTS posting_no_truncate ON posting",
    "DROP FUNCTION IF EXISTS ledger_no_truncate()",
    "DROP TRIGGER IF EXISTS posting_balanced_at_commit ON posting",
    "DROP FUNCTION IF EXISTS posting_check_entry_balanced()",
]


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        for statement in UP:
            op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for statement in DOWN:
            op.execute(statement)
