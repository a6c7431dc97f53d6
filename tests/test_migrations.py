"""Models and migrations match, on SQLite and PostgreSQL (whichever DATABASE_URL selects)."""
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from wastebank.extensions import db
from wastebank.models.tenant import include_for_dialect

# SQLite's reflection cannot read expression indexes (ix_member_unit_upper_no), so there the
# comparison skips them with this warning; PostgreSQL compares them, and
# test_member_number_lookup_uses_its_expression_index checks the index on both.
pytestmark = [
    pytest.mark.filterwarnings(
        "ignore:Skipped unsupported reflection of expression-based index:sqlalchemy.exc.SAWarning"),
    pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression-based index:UserWarning"),
]


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


def test_member_number_lookup_uses_its_expression_index(app, net):
    """The case-insensitive member lookup (scope.member_in_unit) reads the expression index
    on (unit_id, upper(member_no)) of migration 0020, on either database."""
    member = net.members_a[0]
    params = {"unit": member.unit_id, "no": member.member_no.lower().upper()}
    query = "SELECT id FROM member WHERE unit_id = :unit AND upper(member_no) = :no"
    if db.engine.dialect.name == "sqlite":
        # With a handful of rows SQLite prefers its covering unique index; INDEXED BY fails
        # ("no query solution") unless this index can answer the lookup.
        query = query.replace("FROM member", "FROM member INDEXED BY ix_member_unit_upper_no")
        plan = " ".join(str(row[-1]) for row in db.session.execute(text("EXPLAIN QUERY PLAN " + query), params))
    else:
        db.session.execute(text("SET LOCAL enable_seqscan = off"))  # a tiny test table: ask for the index
        plan = " ".join(row[0] for row in db.session.execute(text("EXPLAIN " + query), params))
    assert "ix_member_unit_upper_no" in plan, plan
    assert db.session.execute(text(query), params).scalar() == member.id
    db.session.rollback()
