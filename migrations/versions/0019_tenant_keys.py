"""the tenant key in the keys (issue 13 item 7): PostgreSQL keys of distributed tables include unit_id

Reviewed by hand. Citus distributes a table by one column (``unit_id`` here) and requires it in
every primary key, every unique key and every foreign key between distributed tables
(docs/scaling.md §tenant-keys). On PostgreSQL this migration

- makes the primary key of each table in ``TABLES`` ``(id, unit_id)`` (``account_period``:
  ``(account_id, period, unit_id)``); ``id`` first, so every existing lookup by id alone keeps
  its index, and the ``(unit_id, …)`` indexes already serve the unit-wide scans;
- gives each unique key in ``UNIQUES`` a trailing ``unit_id``;
- makes each foreign key in ``FKS`` between two distributed tables composite,
  ``(x_id, unit_id) → (id, unit_id)``, with the same name (the naming convention names a
  foreign key by its first column); the posting → entry key stays ``DEFERRABLE INITIALLY
  DEFERRED`` (postings are written before their entry);
- rewrites 0016's ``journal_entry_period()`` trigger function: its ``ON CONFLICT (account_id,
  period)`` needs a unique index on exactly those columns, which is now the primary key with
  ``unit_id``; and it reads the entry's postings by ``(entry_id, unit_id)``.

The other guards (0001, 0002, 0005, 0009) name no constraint and are not touched. SQLite is not
changed: it keeps its rowid primary keys and single-column keys (it is never distributed),
which the models say with ``ddl_if`` (wastebank/models/tenant.py).

Revision ID: 0019
Revises: 0018
"""
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

#: Tables whose primary key ``(id)`` becomes ``(id, unit_id)``.
TABLES = ("member", "member_card", "member_import", "account", "journal_entry", "posting", "deposit",
          "deposit_line", "idempotency_record", "price", "container", "withdrawal", "offtaker", "sale",
          "sale_line", "day_close", "month_lock", "notification")

#: (table, columns) of unique keys that gain a trailing ``unit_id``.
UNIQUES = (
    ("account", ("member_id",)),
    ("journal_entry", ("reverses_id",)),
    ("member_card", ("token",)),
    ("deposit", ("receipt_no",)), ("deposit", ("entry_id",)), ("deposit", ("void_entry_id",)),
    ("withdrawal", ("receipt_no",)), ("withdrawal", ("entry_id",)), ("withdrawal", ("void_entry_id",)),
    ("sale", ("sale_no",)), ("sale", ("entry_id",)),
    ("day_close", ("entry_id",)),
    ("notification", ("event", "source_type", "source_id")),
)

#: (table, column, referred table, deferred) of foreign keys between distributed tables.
FKS = (
    ("account", "member_id", "member", False),
    ("account_period", "account_id", "account", False),
    ("journal_entry", "reverses_id", "journal_entry", False),
    ("posting", "entry_id", "journal_entry", True),
    ("posting", "account_id", "account", False),
    ("member_card", "member_id", "member", False),
    ("deposit", "member_id", "member", False),
    ("deposit", "entry_id", "journal_entry", False),
    ("deposit", "void_entry_id", "journal_entry", False),
    ("deposit_line", "deposit_id", "deposit", False),
    ("deposit_line", "container_id", "container", False),
    ("withdrawal", "member_id", "member", False),
    ("withdrawal", "entry_id", "journal_entry", False),
    ("withdrawal", "void_entry_id", "journal_entry", False),
    ("sale", "offtaker_id", "offtaker", False),
    ("sale", "entry_id", "journal_entry", False),
    ("sale_line", "sale_id", "sale", False),
    ("day_close", "entry_id", "journal_entry", False),
    ("notification", "member_id", "member", False),
)

PERIOD_FUNCTION = """CREATE OR REPLACE FUNCTION journal_entry_period() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         INSERT INTO account_period (account_id, period, unit_id, amount, quantity_milli)
         SELECT account_id, to_char(NEW.recorded_at AT TIME ZONE 'UTC', 'YYYY-MM'), unit_id, sum(amount),
                coalesce(sum(quantity_milli), 0)
           FROM posting WHERE entry_id = NEW.id AND unit_id = NEW.unit_id
          GROUP BY account_id, unit_id ORDER BY account_id
         ON CONFLICT ({conflict}) DO UPDATE
           SET amount = account_period.amount + EXCLUDED.amount,
               quantity_milli = account_period.quantity_milli + EXCLUDED.quantity_milli;
         RETURN NULL;
       END $$"""


def _fk_name(table: str, column: str, referred: str) -> str:
    return f"fk_{table}_{column}_{referred}"


def _uq_name(table: str, columns) -> str:
    return f"uq_{table}_{'_'.join(columns)}"


def _quoted(columns) -> str:
    return ", ".join(f'"{c}"' for c in columns)


def _switch(tenant: bool) -> None:
    """Rebuild the keys with ``unit_id`` (``tenant`` True) or without it (False)."""
    extra = ("unit_id",) if tenant else ()
    for table, column, referred, _deferred in FKS:
        op.execute(f'ALTER TABLE "{table}" DROP CONSTRAINT "{_fk_name(table, column, referred)}"')
    for table, columns in UNIQUES:
        old, new = (columns, columns + extra) if tenant else (columns + ("unit_id",), columns)
        op.execute(f'ALTER TABLE "{table}" DROP CONSTRAINT "{_uq_name(table, old)}"')
        op.execute(f'ALTER TABLE "{table}" ADD CONSTRAINT "{_uq_name(table, new)}" UNIQUE ({_quoted(new)})')
    for table in TABLES:
        op.execute(f'ALTER TABLE "{table}" DROP CONSTRAINT "pk_{table}"')
        op.execute(f'ALTER TABLE "{table}" ADD CONSTRAINT "pk_{table}" PRIMARY KEY ({_quoted(("id",) + extra)})')
    op.execute('ALTER TABLE "account_period" DROP CONSTRAINT "pk_account_period"')
    op.execute('ALTER TABLE "account_period" ADD CONSTRAINT "pk_account_period" '
               f'PRIMARY KEY ({_quoted(("account_id", "period") + extra)})')
    op.execute(PERIOD_FUNCTION.format(conflict=", ".join(("account_id", "period") + extra)))
    for table, column, referred, deferred in FKS:
        op.execute(f'ALTER TABLE "{table}" ADD CONSTRAINT "{_fk_name(table, column, referred)}" '
                   f'FOREIGN KEY ({_quoted((column,) + extra)}) REFERENCES "{referred}" ({_quoted(("id",) + extra)})'
                   + (" DEFERRABLE INITIALLY DEFERRED" if deferred else ""))


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        _switch(tenant=True)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        _switch(tenant=False)
