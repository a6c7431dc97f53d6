"""The tenant key where Citus needs it (issue 13 item 7, docs/scaling.md §tenant-keys).

(a) On PostgreSQL every table carrying ``unit_id``, except the ones documented as not
distributed (``wastebank.models.NOT_DISTRIBUTED``), has ``unit_id`` in its primary key and in
every unique constraint and unique index. (b) Every SQL statement of a deposit, a withdrawal, a
monthly statement and the other money and day operations (a void, a sale, the approval path,
a member's balance and counter page, the daily close and reopen, the month lock and unlock)
that touches a distributed table is filtered by ``unit_id`` (a Citus router query), on both
databases.
"""
from __future__ import annotations

import json
import re
import uuid
from contextlib import contextmanager
from datetime import datetime, timezone

import pytest
from sqlalchemy import event, select, text

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
    assert _unfiltered(withdrawal_sql) == [], "\n".join(_unfiltered(withdrawal_sql))
    # The paid withdrawal is written once, already paid, and its balance comes from the update
    # that moved it (post_journal's ``balances``): no UPDATE by id, no re-read of the account.
    assert not [sql for sql in withdrawal_sql if sql.startswith("UPDATE withdrawal")]
    assert _unfiltered(statement_sql) == [], "\n".join(_unfiltered(statement_sql))


#: Statements on a distributed table that may lack ``unit_id``, by operation: none. The one table
#: with ``unit_id`` that is not distributed, ``audit_log`` (admin rows have no unit), is not
#: checked at all: docs/scaling.md §tenant-keys.
_EXCEPTIONS: dict[str, list[str]] = {}


def _user(net, name):
    from wastebank.models import User

    return db.session.get(User, net.users[name].id)


def test_money_and_day_operations_filter_by_unit(app, net, client, tokens, login):
    """The other money and day operations (issue 13 item 7): a deposit's void, a sale, the
    withdrawal approval path (request, approve, pay; request, reject), a member's balance by
    API and the counter's member page, the daily close and its reopen, the month lock and its
    unlock. Every statement on a distributed table is filtered by ``unit_id``, but for the
    exceptions named in ``_EXCEPTIONS`` (docs/scaling.md §tenant-keys)."""
    from datetime import timedelta

    from wastebank.models import Account, Deposit, Notification, Posting, Withdrawal
    from wastebank.services.cashbook import close_day, reopen_day
    from wastebank.services.month_close import lock_month, units_of, unlock_month
    from wastebank.services.sales import SaleLineInput, create_offtaker, get_offtaker, record_sale
    from wastebank.services.scope import in_unit
    from wastebank.services.transaction import run_in_transaction
    from wastebank.services.withdrawals import approve_withdrawal, pay_withdrawal, reject_withdrawal
    from wastebank.timeutil import local_today

    unit_id, member_no = net.unit_a.id, net.members_a[0].member_no
    net.unit_a.approval_threshold_idr = 5_000
    # Messages on: each money event also queues the member's notification (its own lookup).
    net.unit_a.notify_enabled = True
    net.members_a[0].notify_consent, net.members_a[0].phone = True, "0812 3456 7890"
    db.session.commit()
    body = {"member": member_no, "lines": [{"category": "PET-CLEAN", "quantity": "4"},
                                           {"category": "CARDBOARD", "quantity": "5"}]}
    for _ in range(3):
        assert _post(client, "/api/v1/deposits", tokens["op_a"], body).status_code == 201
    deposit_id = _post(client, "/api/v1/deposits", tokens["op_a"], body).get_json()["id"]
    offtaker = run_in_transaction(lambda: create_offtaker(net.unit_a, "CV Daur Ulang Jaya", user=_user(net, "mgr_a")))
    offtaker_id = offtaker.id
    db.session.rollback()
    logged: dict[str, list[str]] = {}

    with _logged() as logged["void of a deposit"]:
        voided = _post(client, f"/api/v1/deposits/{deposit_id}/void", tokens["mgr_a"], {"reason": "salah timbang"})
    assert voided.status_code == 200, voided.get_data(as_text=True)
    # The void's answer is built from what it posted, not read back: the same as the rows.
    answer = voided.get_json()
    written = db.session.execute(select(Account.key, Posting.amount, Posting.quantity_milli)
                                 .join(Account, Account.id == Posting.account_id)
                                 .where(Posting.entry_id == answer["void_entry_id"]).order_by(Posting.id)).all()
    assert [(p["account"], p["amount_idr"], p["quantity_milli"]) for p in answer["postings"]] == [
        tuple(row) for row in written]
    shown = client.get(f"/api/v1/members/{member_no}", headers=bearer(tokens["op_a"])).get_json()
    assert answer["balance_idr"] == shown["balance_idr"] == 3 * (13_000 + 10_000)
    db.session.rollback()

    with _logged() as logged["sale"]:
        sale = run_in_transaction(lambda: record_sale(
            net.unit_a, get_offtaker(unit_id, offtaker_id), [SaleLineInput("PET-CLEAN", "2", None, "4500")],
            "cash", user=_user(net, "mgr_a"), idempotency_key=str(uuid.uuid4())))
    assert sale.status == 201, sale.body
    db.session.rollback()

    ids = []
    for i in range(2):
        with _logged() as logged[f"withdrawal pending approval {i}"]:
            asked = _post(client, "/api/v1/withdrawals", tokens["op_a"],
                          {"member": member_no, "amount_idr": 6_000, "method": "cash"})
        assert asked.status_code == 202, asked.get_data(as_text=True)
        ids.append(asked.get_json()["id"])
    with _logged() as logged["approve"]:
        run_in_transaction(lambda: approve_withdrawal(in_unit(Withdrawal, unit_id, ids[0]), user=_user(net, "mgr_a")))
    with _logged() as logged["pay approved"]:
        run_in_transaction(lambda: pay_withdrawal(in_unit(Withdrawal, unit_id, ids[0]), user=_user(net, "op_a")))
    with _logged() as logged["reject"]:
        run_in_transaction(lambda: reject_withdrawal(in_unit(Withdrawal, unit_id, ids[1]), user=_user(net, "mgr_a")))
    db.session.rollback()
    assert in_unit(Withdrawal, unit_id, ids[0]).status == "paid"
    assert in_unit(Deposit, unit_id, deposit_id).void_entry_id is not None
    queued = db.session.scalars(select(Notification.event).where(Notification.unit_id == unit_id)).all()
    assert sorted(queued) == ["deposit"] * 4 + ["void", "withdrawal"]
    db.session.rollback()

    with _logged() as logged["member by API"]:
        shown = client.get(f"/api/v1/members/{member_no}", headers=bearer(tokens["op_a"]))
    assert shown.status_code == 200
    login("op_a")
    with _logged() as logged["counter member page"]:
        page = client.get(f"/counter/member/{member_no}")
    assert page.status_code == 200

    today = local_today()
    with _logged() as logged["daily close of a past day"]:
        run_in_transaction(lambda: close_day(net.unit_a, today - timedelta(days=1), "0", _user(net, "mgr_a")))
    with _logged() as logged["daily close"]:
        run_in_transaction(lambda: close_day(net.unit_a, today, "1.000", _user(net, "mgr_a")))
    with _logged() as logged["reopen"]:
        run_in_transaction(lambda: reopen_day(net.unit_a, today, "setoran susulan", _user(net, "mgr_a")))
    last_month = today.replace(day=1) - timedelta(days=1)
    aggregator = net.unit_a.aggregator
    with _logged() as logged["month lock"]:
        run_in_transaction(lambda: lock_month(units_of(aggregator), last_month.year, last_month.month,
                                              _user(net, "agg")))
    with _logged() as logged["month unlock"]:
        run_in_transaction(lambda: unlock_month(units_of(aggregator), last_month.year, last_month.month,
                                                _user(net, "admin"), "koreksi"))
    db.session.rollback()

    found = {name: _unfiltered(sql) for name, sql in logged.items()}
    assert all(logged.values()), [name for name, sql in logged.items() if not sql]
    assert {name: bad for name, bad in found.items() if bad} == _EXCEPTIONS, "\n".join(
        f"{name}: {sql}" for name, bad in found.items() for sql in bad)
