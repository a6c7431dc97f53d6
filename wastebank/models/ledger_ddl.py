"""Database-side guards of the ledger (LEDGER.md I1, I7, I10), for SQLite and PostgreSQL.

Written by the migrations; the code path (``services.ledger.post_journal``) checks the same
rules first, so these fire only when something bypasses it (raw SQL, a bug, a console).

Protocol: postings are inserted first (their foreign key to the entry is deferred), then the
journal entry; the entry's insert trigger refuses it unless its postings sum to zero, number at
least two and all belong to the entry's unit. A posting for an entry that already exists is
refused, and neither table accepts UPDATE or DELETE.
"""
from __future__ import annotations

SQLITE_UP = [
    """CREATE TRIGGER posting_no_update BEFORE UPDATE ON posting
       BEGIN SELECT RAISE(ABORT, 'ledger is append-only: postings cannot be updated'); END""",
    """CREATE TRIGGER posting_no_delete BEFORE DELETE ON posting
       BEGIN SELECT RAISE(ABORT, 'ledger is append-only: postings cannot be deleted'); END""",
    """CREATE TRIGGER journal_entry_no_update BEFORE UPDATE ON journal_entry
       BEGIN SELECT RAISE(ABORT, 'ledger is append-only: journal entries cannot be updated'); END""",
    """CREATE TRIGGER journal_entry_no_delete BEFORE DELETE ON journal_entry
       BEGIN SELECT RAISE(ABORT, 'ledger is append-only: journal entries cannot be deleted'); END""",
    """CREATE TRIGGER posting_entry_open BEFORE INSERT ON posting
       WHEN EXISTS (SELECT 1 FROM journal_entry WHERE id = NEW.entry_id)
       BEGIN SELECT RAISE(ABORT, 'journal entry is already written: postings cannot be added'); END""",
    """CREATE TRIGGER posting_same_unit BEFORE INSERT ON posting
       WHEN (SELECT unit_id FROM account WHERE id = NEW.account_id) IS NOT NEW.unit_id
       BEGIN SELECT RAISE(ABORT, 'posting and account belong to different units'); END""",
    """CREATE TRIGGER journal_entry_balanced AFTER INSERT ON journal_entry
       WHEN (SELECT count(*) FROM posting WHERE entry_id = NEW.id) < 2
         OR (SELECT coalesce(sum(amount), 0) FROM posting WHERE entry_id = NEW.id) <> 0
         OR EXISTS (SELECT 1 FROM posting WHERE entry_id = NEW.id AND unit_id <> NEW.unit_id)
       BEGIN SELECT RAISE(ABORT, 'unbalanced journal entry: postings must sum to zero'); END""",
]

SQLITE_DOWN = [
    f"DROP TRIGGER IF EXISTS {name}"
    for name in (
        "posting_no_update", "posting_no_delete", "journal_entry_no_update",
        "journal_entry_no_delete", "posting_entry_open", "posting_same_unit", "journal_entry_balanced",
    )
]

POSTGRESQL_UP = [
    """CREATE FUNCTION ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         RAISE EXCEPTION 'ledger is append-only: % cannot be %', TG_TABLE_NAME, lower(TG_OP);
       END $$""",
    """CREATE TRIGGER posting_append_only BEFORE UPDATE OR DELETE ON posting
       FOR EACH ROW EXECUTE FUNCTION ledger_append_only()""",
    """CREATE TRIGGER journal_entry_append_only BEFORE UPDATE OR DELETE ON journal_entry
       FOR EACH ROW EXECUTE FUNCTION ledger_append_only()""",
    """CREATE FUNCTION posting_check_insert() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         IF EXISTS (SELECT 1 FROM journal_entry WHERE id = NEW.entry_id) THEN
           RAISE EXCEPTION 'journal entry % is already written: postings cannot be added', NEW.entry_id;
         END IF;
         IF (SELECT unit_id FROM account WHERE id = NEW.account_id) IS DISTINCT FROM NEW.unit_id THEN
           RAISE EXCEPTION 'posting and account belong to different units';
         END IF;
         RETURN NEW;
       END $$""",
    """CREATE TRIGGER posting_check_insert BEFORE INSERT ON posting
       FOR EACH ROW EXECUTE FUNCTION posting_check_insert()""",
    """CREATE FUNCTION journal_entry_check_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         IF (SELECT count(*) FROM posting WHERE entry_id = NEW.id) < 2
            OR (SELECT coalesce(sum(amount), 0) FROM posting WHERE entry_id = NEW.id) <> 0
            OR EXISTS (SELECT 1 FROM posting WHERE entry_id = NEW.id AND unit_id <> NEW.unit_id) THEN
           RAISE EXCEPTION 'unbalanced journal entry %: postings must sum to zero', NEW.id;
         END IF;
         RETURN NEW;
       END $$""",
    """CREATE TRIGGER journal_entry_check_balanced AFTER INSERT ON journal_entry
       FOR EACH ROW EXECUTE FUNCTION journal_entry_check_balanced()""",
]

POSTGRESQL_DOWN = [
    "DROP TRIGGER IF EXISTS journal_entry_check_balanced ON journal_entry",
    "DROP TRIGGER IF EXISTS posting_check_insert ON posting",
    "DROP TRIGGER IF EXISTS journal_entry_append_only ON journal_entry",
    "DROP TRIGGER IF EXISTS posting_append_only ON posting",
    "DROP FUNCTION IF EXISTS journal_entry_check_balanced()",
    "DROP FUNCTION IF EXISTS posting_check_insert()",
    "DROP FUNCTION IF EXISTS ledger_append_only()",
]


def statements(dialect: str, direction: str = "up") -> list[str]:
    """The DDL for ``dialect`` (``sqlite`` or ``postgresql``) and ``direction`` (up/down).

    Raises KeyError for another dialect.
    """
    table = {
        ("sqlite", "up"): SQLITE_UP, ("sqlite", "down"): SQLITE_DOWN,
        ("postgresql", "up"): POSTGRESQL_UP, ("postgresql", "down"): POSTGRESQL_DOWN,
    }
    return table[(dialect, direction)]
