"""The tenant key where Citus needs it (issue 13 item 7, docs/scaling.md §tenant-keys).

(a) On PostgreSQL every table carrying ``unit_id``, except the ones documented as not
distributed (``wastebank.models.NOT_DISTRIBUTED``), has ``unit_id`` in its primary key and in
every unique constraint and unique index. (b) Every SQL statement of a deposit, a withdrawal and
a monthly statement that touches a distributed table is filtered by ``unit_id`` (a Citus router
query), on both databases.
"""
from __future__ import annotations

import json
import re
import uuid
from contextlib import contextmanager
from datetime import datetime, timezone

import pytest
from sqlalchemy import event, text

from wastebank.extensions import db
from wastebank.models import NOT_DISTRIBUTED
from wastebank.reports.statements import aggregator_statement

from .conftest import IS_POSTGRES, bearer

#: Tables with ``unit_id`` whose keys already are the tenant key (primary key starts with it).
_COUNTERS = ("receipt_counter", "member_counter")


def _distributed_tables() -> set[str]:
    return {name for name, table in db.metadata.tables.items()
            if "unit_id" in table.c and name not in NOT_DISTRIBUTED}


@pytest.mark.skipif(not IS_POSTGRES, reason="reads PostgreSQL's catalog")
def test_unit_id_is_in_every_primary_and_unique_key(app):
    with_unit = {row[0] for row in db.session.execute(text(
        "SELECT table_name FROM information_schema.columns WHERE table_schema = 'public' "
        "AND column_name = 'unit_id'"))}
    assert with_unit == _distributed_tables() | set(NOT_DISTRIBUTED), "a table with unit_id is not classified"
    keys = db.session.execute(text(
        """SELECT t.relname, i.relname, ix.indisprimary,
                  array(SELECT a.attname FROM unnest(ix.indkey) k JOIN pg_attribute a
                          ON a.attrelid = t.oid AND a.attnum = k)
             FROM pg_index ix JOIN pg_class t ON t.oid = ix.indrelid JOIN pg_class i ON i.oid = ix.indexrelid
             JOIN pg_namespace n ON n.oid = t.relnamespace
            WHERE n.nspname = 'public' AND (ix.indisunique OR ix.indisprimary)""")).all()
    db.session.rollback()
    checked, missing, has_pk = 0, [], set()
    for table, index, primary, columns in keys:
        if table not in _distributed_tables():
            continue
        checked += 1
        has_pk |= {table} if primary else set()
        if "unit_id" not in columns:
            missing.append(f"{table}.{index} {columns}")
    assert missing == []
    assert has_pk == _distributed_tables()
    assert checked >= 2 * len(_distributed_tables())  # a primary key and at least one more key each
    # The primary keys as docs/scaling.md says: (id, unit_id), the period table's with its month.
    pks = {row[0]: row[1] for row in db.session.execute(text(
        "SELECT conrelid::regclass::text, pg_get_constraintdef(oid) FROM pg_constraint WHERE contype = 'p'"))}
    db.session.rollback()
    assert pks["posting"] == "PRIMARY KEY (id, unit_id)"
    assert pks["account_period"] == "PRIMARY KEY (account_id, period, unit_id)"
    assert pks["receipt_counter"] == "PRIMARY KEY (unit_id, year)"


_TOUCH = re.compile(r'\b(?:FROM|JOIN|UPDATE|INTO)\s+"?(\w+)"?', re.IGNORECASE)
_NOT_QUERIES = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "PRAGMA")


@contextmanager
def _logged():
    statements: list[str] = []

    def before(conn, cursor, statement, parameters, context, executemany):
        if not statement.lstrip().upper().startswith(_NOT_QUERIES):
            statements.append(" ".join(statement.split()))

    event.listen(db.engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", before)


def _unfiltered(statements: list[str]) -> list[str]:
    """The statements that touch a distributed table without a condition on ``unit_id``: an
    INSERT must write the column, any other statement must name it after WHERE or ON."""
    distributed = _distributed_tables() - set(_COUNTERS) | set(_COUNTERS)
    bad = []
    for sql in statements:
        touched = {t for t in _TOUCH.findall(sql) if t in distributed}
        if not touched:
            continue
        if sql.upper().startswith("INSERT"):
            head = sql.split(")", 1)[0]
            ok = "unit_id" in head
        else:
            conditions = re.split(r"\b(?:WHERE|ON)\b", sql, flags=re.IGNORECASE)[1:]
            ok = any("unit_id" in part for part in conditions)
        if not ok:
            bad.append(sql[:400])
    return bad


def _post(client, url, token, body):
    return client.post(url, data=json.dumps(body), content_type="application/json",
                       headers={**bearer(token), "Idempotency-Key": str(uuid.uuid4())})


def test_deposit_withdrawal_and_statement_filter_by_unit(app, net, client, tokens):
    member_no = net.members_a[0].member_no
    db.session.rollback()
    deposit_body = {"member": member_no, "lines": [{"category": "PET-CLEAN", "quantity": "1,5"},
                                                   {"category": "CARDBOARD", "quantity": "2"}]}
    with _logged() as deposit_sql:
        done = _post(client, "/api/v1/deposits", tokens["op_a"], deposit_body)
    assert done.status_code == 201, done.get_data(as_text=True)
    assert done.get_json()["total_idr"] == 4875 + 4000

    with _logged() as withdrawal_sql:
        paid = _post(client, "/api/v1/withdrawals", tokens["op_a"],
                     {"member": member_no, "amount_idr": 3500, "method": "cash"})
    assert paid.status_code == 201, paid.get_data(as_text=True)
    assert paid.get_json()["balance_idr"] == 4875 + 4000 - 3500

    now = datetime.now(timezone.utc)
    aggregator = net.unit_a.aggregator
    with _logged() as statement_sql:
        statement = aggregator_statement(aggregator, now.year, now.month)
    db.session.rollback()
    assert statement.total.deposit_value_idr >= 4875 + 4000

    assert len(deposit_sql) > 3 and len(withdrawal_sql) > 3 and len(statement_sql) > 1
    assert _unfiltered(deposit_sql) == []
    # Left (docs/scaling.md §tenant-keys): the ORM's own flush UPDATE of the withdrawal row and
    # its refresh of the expired savings account go by the mapper's primary key ``id`` alone.
    # Named here so that any other unfiltered statement fails this test.
    assert [" ".join(sql.split()[:2]) for sql in _unfiltered(withdrawal_sql)] == [
        "UPDATE withdrawal", "SELECT account.balance,"], "\n".join(_unfiltered(withdrawal_sql))
    assert _unfiltered(statement_sql) == [], "\n".join(_unfiltered(statement_sql))
