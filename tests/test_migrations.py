"""Models and migrations match, on SQLite and PostgreSQL (whichever DATABASE_URL selects)."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from wastebank.extensions import db
from wastebank.models.tenant import include_for_dialect


def _diff():
    # Constraints that exist on one database only (``ddl_if``, wastebank/models/tenant.py) are
    # compared on that database only.
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={
            "compare_type": True, "include_object": include_for_dialect(conn.dialect.name)})
        return compare_metadata(context, db.metadata)


def test_models_match_migrations(app):
    assert _diff() == []


def test_ledger_triggers_are_installed(app):
    if db.engine.dialect.name == "sqlite":
        names = {row[0] for row in db.session.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'"))}
        assert {"journal_entry_balanced", "posting_no_update", "posting_no_delete", "posting_entry_open"} <= names
    else:
        names = {row[0] for row in db.session.execute(text("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"))}
        assert {"journal_entry_check_balanced", "posting_append_only", "journal_entry_append_only",
                "posting_check_insert"} <= names
    db.session.rollback()


def test_downgrade_to_base_and_upgrade_again(app):
    db.session.close()
    downgrade(revision="base")
    db.engine.dispose()
    assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
    upgrade()
    db.engine.dispose()
    assert _diff() == []
