"""ledger trigger refusals raise their own SQLSTATE (issue 11 item 2)

Reviewed by hand. The PostgreSQL ledger guards of 0001, 0002 and 0005 refused with a bare
``RAISE EXCEPTION``, i.e. SQLSTATE P0001 (raise_exception), which any PL/pgSQL error shares.
They now raise ``USING ERRCODE = 'WB001'`` (the approach issue 11 points to in
django-hordak): a code of our own class ``WB`` — PostgreSQL allows any five digits or capitals other than 00000 and
recommends not ending in 000 — so that ``services.transaction`` can tell a ledger guard's
refusal from anything else and answer it as ``DatabaseRefused`` at the first attempt, never
retrying it. The functions keep their names, messages and logic; ``CREATE OR REPLACE`` keeps
the triggers that call them.

One guard is left as it was: 0005's ``posting_check_entry_balanced``, the deferred re-check at
COMMIT that closes a race only raw SQL from two connections can open. tests/test_hardening.py
asserts that it raises psycopg's ``RaiseException`` (P0001), and its refusal comes at commit,
where ``run_in_transaction`` maps P0001 to the same DatabaseRefused.

SQLite's ``RAISE(ABORT, …)`` triggers are unchanged: SQLite reports them as a constraint
failure (an IntegrityError), which is already a refusal.

Downgrade restores the four functions exactly as 0001 installed them.

Revision ID: 0009
Revises: 0008
"""
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

# Keep in step with wastebank.services.transaction.LEDGER_REFUSED.
ERRCODE = "WB001"


def _functions(using: str) -> list[str]:
    """Four of the five ledger guard functions; ``using`` is appended to every RAISE EXCEPTION."""
    return [
        f"""CREATE OR REPLACE FUNCTION ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         RAISE EXCEPTION 'ledger is append-only: % cannot be %', TG_TABLE_NAME, lower(TG_OP){using};
       END $$""",
        f"""CREATE OR REPLACE FUNCTION posting_check_insert() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         IF EXISTS (SELECT 1 FROM journal_entry WHERE id = NEW.entry_id) THEN
           RAISE EXCEPTION 'journal entry % is already written: postings cannot be added', NEW.entry_id{using};
         END IF;
         IF (SELECT unit_id FROM account WHERE id = NEW.account_id) IS DISTINCT FROM NEW.unit_id THEN
           RAISE EXCEPTION 'posting and account belong to different units'{using};
         END IF;
         RETURN NEW;
       END $$""",
        f"""CREATE OR REPLACE FUNCTION journal_entry_check_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         IF (SELECT count(*) FROM posting WHERE entry_id = NEW.id) < 2
            OR (SELECT coalesce(sum(amount), 0) FROM posting WHERE entry_id = NEW.id) <> 0
            OR EXISTS (SELECT 1 FROM posting WHERE entry_id = NEW.id AND unit_id <> NEW.unit_id) THEN
           RAISE EXCEPTION 'unbalanced journal entry %: postings must sum to zero', NEW.id{using};
         END IF;
         RETURN NEW;
       END $$""",
        f"""CREATE OR REPLACE FUNCTION ledger_no_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         RAISE EXCEPTION 'append-only: % cannot be truncated', TG_TABLE_NAME{using};
       END $$""",
    ]


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        for statement in _functions(f" USING ERRCODE = '{ERRCODE}'"):
            op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for statement in _functions(""):
            op.execute(statement)
