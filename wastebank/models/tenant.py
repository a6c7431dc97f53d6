"""The tenant key ``unit_id`` in the keys of the distributed tables (issue 13 item 7; docs/scaling.md §tenant-keys).

Citus distributes a table by one column and requires that column in every primary key, unique
key and foreign key between distributed tables. For wastebank the column is ``unit_id``. On
PostgreSQL the distributed tables therefore have the primary key ``(id, unit_id)``, their
unique keys end in ``unit_id`` and a foreign key from one distributed table to another is
``(x_id, unit_id) → (id, unit_id)`` (which also lets the database refuse a row that points into
another unit). SQLite keeps its rowid primary key ``id`` and single-column keys: it is never
distributed, and SQLAlchemy refuses an autoincrement column inside a composite primary key on
SQLite.

How the models say it (one metadata, the right DDL on each database):

- the **primary key** stays ``id`` in the metadata, so the ORM identity, ``session.get``,
  ``INSERT … RETURNING id`` and every relationship stay exactly as they were; a table marked
  ``info={"tenant_key": True}`` has ``unit_id`` appended to its PRIMARY KEY clause when the
  DDL is compiled for PostgreSQL (:func:`_primary_key_postgresql`). The id sequence keeps the id
  unique on its own; the key only adds the tenant column Citus needs;
- **unique keys** and **foreign keys** come in pairs from :func:`tenant_unique` and
  :func:`tenant_fk`, each side limited to its database with ``Constraint.ddl_if(dialect=…)``
  (SQLAlchemy 2.0); :func:`include_for_dialect` makes Alembic's comparison
  (``tests/test_migrations.py``, ``migrations/env.py``) honour the same limit, which
  autogenerate does not read by itself.

Relationships to a distributed table join on both columns and mark only the id column as
foreign (``primaryjoin="and_(Parent.id == foreign(Child.parent_id), Parent.unit_id ==
Child.unit_id)"``), so the ORM never writes ``unit_id`` through a relationship and every lazy
load carries the tenant key.
"""
from __future__ import annotations

from sqlalchemy import ForeignKeyConstraint, PrimaryKeyConstraint, UniqueConstraint
from sqlalchemy.ext.compiler import compiles

#: ``__table_args__`` entry of a table whose PostgreSQL primary key ends in ``unit_id``.
TENANT_KEY = {"info": {"tenant_key": True}}

#: Tables that carry ``unit_id`` and are *not* distributed (Citus reference tables, or kept as
#: they are): their keys stay as they were. ``user`` belongs to at most one unit and logs in
#: across units; ``sponsorship`` links a collaborator to many units and is read across them;
#: ``audit_log`` has rows without a unit (admin actions), so ``unit_id`` cannot enter its
#: primary key yet (docs/scaling.md §tenant-keys says what is left for it). ``receipt_counter``
#: and ``member_counter`` already have ``unit_id`` in their primary key.
NOT_DISTRIBUTED = ("user", "sponsorship", "audit_log")


@compiles(PrimaryKeyConstraint, "postgresql")
def _primary_key_postgresql(constraint, compiler, **kw):
    """``PRIMARY KEY (id)`` → ``PRIMARY KEY (id, unit_id)`` for tables marked TENANT_KEY."""
    ddl = compiler.visit_primary_key_constraint(constraint, **kw)
    table = constraint.table
    if ddl and table.info.get("tenant_key") and "unit_id" not in constraint.columns:
        ddl = ddl[:-1] + ", " + compiler.preparer.quote("unit_id") + ")"
    return ddl


def tenant_unique(*columns: str) -> tuple[UniqueConstraint, UniqueConstraint]:
    """A unique key on ``columns``: as is on SQLite, ``(*columns, unit_id)`` on PostgreSQL.

    ``unit_id`` goes last so that a lookup by the old columns alone (a receipt number, a card
    token) still uses the index. Names follow the naming convention
    (``uq_deposit_receipt_no`` / ``uq_deposit_receipt_no_unit_id``)."""
    return (UniqueConstraint(*columns).ddl_if(dialect="sqlite"),
            UniqueConstraint(*columns, "unit_id").ddl_if(dialect="postgresql"))


def tenant_fk(column: str, target: str, **kw) -> tuple[ForeignKeyConstraint, ForeignKeyConstraint]:
    """The foreign key ``column`` → ``target.id`` between two distributed tables.

    SQLite: ``column → target(id)``; PostgreSQL: ``(column, unit_id) → target(id, unit_id)``
    (the referenced key is the target's primary key there). Both have the same name under the
    naming convention (``fk_posting_entry_id_journal_entry``). ``kw`` (``deferrable``,
    ``initially``) applies to both."""
    return (ForeignKeyConstraint([column], [f"{target}.id"], **kw).ddl_if(dialect="sqlite"),
            ForeignKeyConstraint([column, "unit_id"], [f"{target}.id", f"{target}.unit_id"],
                                 **kw).ddl_if(dialect="postgresql"))


def include_for_dialect(dialect_name: str):
    """An Alembic ``include_object`` hook that skips metadata constraints and indexes whose
    ``ddl_if`` names another dialect (Alembic's comparison does not read ``ddl_if``)."""
    def include_object(obj, name, type_, reflected, compare_to):
        ddl_if = getattr(obj, "_ddl_if", None)
        if reflected or ddl_if is None or ddl_if.dialect is None:
            return True
        return ddl_if.dialect == dialect_name
    return include_object
