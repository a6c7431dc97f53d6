"""The hot path's prepared statements on the driver's cursor (services/direct.py, issue 13
item 1): they write exactly what SQLAlchemy's own execution writes, the hot path really takes
that way, what needs more falls back to SQLAlchemy, and DBAPI errors reach the retry rules
wrapped as SQLAlchemy's. Both databases."""
from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import bindparam, insert, select, text
from sqlalchemy.exc import IntegrityError

from wastebank.extensions import db
from wastebank.models import AuditLog, Deposit, DepositLine, IdempotencyRecord, JournalEntry, Member, Posting
from wastebank.services import direct, transaction
from wastebank.services.transaction import is_unique_violation, prepared, run_core

from .conftest import bearer

LINES = [{"category": "PET-CLEAN", "quantity": "1,5"}, {"category": "CARDBOARD", "quantity": "2"},
         {"category": "HDPE-RIGID", "quantity": "0,75"}]


def _deposit(client, token, member_no, recorded_at):
    body = {"member": member_no, "lines": LINES, "recorded_at": recorded_at}
    response = client.post("/api/v1/deposits", data=json.dumps(body), content_type="application/json",
                           headers={**bearer(token), "Idempotency-Key": str(uuid.uuid4())})
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


def _stored(receipt_no: str) -> dict:
    """Everything the deposit wrote, as values (ids and numbers replaced by what they name)."""
    db.session.expire_all()
    deposit = db.session.scalar(select(Deposit).where(Deposit.receipt_no == receipt_no))
    entry = db.session.get(JournalEntry, deposit.entry_id)
    postings = db.session.scalars(select(Posting).where(Posting.entry_id == entry.id)).all()
    lines = db.session.scalars(select(DepositLine).where(DepositLine.deposit_id == deposit.id)
                               .order_by(DepositLine.id)).all()
    audit = db.session.scalar(select(AuditLog).where(AuditLog.action == "deposit.record",
                                                     AuditLog.object_id == receipt_no))
    record = db.session.scalar(select(IdempotencyRecord).where(
        IdempotencyRecord.operation == "deposit", IdempotencyRecord.response_body.contains(receipt_no)))
    answer = json.loads(record.response_body)
    details = json.loads(audit.details)
    return {
        "deposit": (deposit.total_idr, deposit.fee_idr, deposit.credited_idr, deposit.recorded_at,
                    deposit.posted_at.tzinfo is not None, deposit.balance_after_idr > 0),
        "lines": [(l.category_id, l.quantity_milli, l.gross_milli, l.tare_milli, l.container_id,
                   l.unit_price_idr, l.amount_idr, l.recorded_at) for l in lines],
        "entry": (entry.kind, entry.memo.split()[0], entry.recorded_at, entry.posted_at == deposit.posted_at,
                  entry.reverses_id, entry.reason),
        "postings": sorted(((p.amount, p.quantity_milli) for p in postings), key=lambda p: p[0]),
        "audit": ({k: v for k, v in details.items() if k not in ("member_no", "entry_id")},
                  details["entry_id"] == entry.id, audit.created_at.tzinfo is not None),
        "answer": {k: v for k, v in answer.items() if k not in _PER_DEPOSIT},
        "status": record.status_code,
    }


# What differs between two deposits of the same lines by two members.
_PER_DEPOSIT = ("id", "receipt_no", "member", "member_no", "member_name", "balance_idr", "posted_at", "receipt_url",
                "receipt_pdf_url")


def _raw(receipt_no: str) -> list[tuple]:
    """The stored time columns as the driver gives them back, untyped (on SQLite the text a
    range query compares): a value written without its bind processor would differ here."""
    rows = db.session.execute(text(
        "SELECT d.recorded_at, d.posted_at, e.recorded_at, e.posted_at, l.recorded_at, a.created_at "
        "FROM deposit d JOIN journal_entry e ON e.id = d.entry_id JOIN deposit_line l ON l.deposit_id = d.id "
        "JOIN audit_log a ON a.object_id = d.receipt_no AND a.action = 'deposit.record' "
        "WHERE d.receipt_no = :receipt_no"), {"receipt_no": receipt_no}).all()
    return [tuple(_shape(value) for value in row) for row in rows]


def _shape(value):
    """A stored time reduced to its form: digits become 9 (text), or its type and zone."""
    if isinstance(value, str):
        return "".join("9" if ch.isdigit() else ch for ch in value)
    return (type(value).__name__, getattr(value, "tzinfo", None) is not None)


def test_direct_writes_what_sqlalchemy_writes(app, net, client, tokens, monkeypatch):
    recorded_at = (datetime.now(UTC) - timedelta(minutes=5)).replace(microsecond=123456)
    stamp = recorded_at.isoformat()
    first, second = net.members_a[0].member_no, net.members_a[1].member_no
    db.session.rollback()
    with monkeypatch.context() as off:
        off.setattr(direct, "execute", lambda conn, stmt, params: None)  # SQLAlchemy executes all
        by_sqlalchemy = _deposit(client, tokens["op_a"], first, stamp)
    by_direct = _deposit(client, tokens["op_a"], second, stamp)

    old, new = _stored(by_sqlalchemy["receipt_no"]), _stored(by_direct["receipt_no"])
    assert new == old
    assert _raw(by_direct["receipt_no"]) == _raw(by_sqlalchemy["receipt_no"])
    assert len(_raw(by_direct["receipt_no"])) == 3
    # Real values, not two empty dicts: Rp 4.875 + 4.000 + 1.875, the capture time to the µs in UTC.
    assert new["deposit"][:4] == (10750, 0, 10750, recorded_at)
    assert [line[-1] for line in new["lines"]] == [recorded_at] * 3
    assert [line[1] for line in new["lines"]] == [1500, 2000, 750]
    assert new["postings"] == sorted([(-10750, None), *_stock_legs(new)], key=lambda p: p[0])
    assert by_direct["balance_idr"] == 10750 and by_sqlalchemy["balance_idr"] == 10750


def _stock_legs(stored: dict):
    """The stock legs at cost as the lines say (buying price × kg: what the member is paid)."""
    return [(line[6], line[1]) for line in stored["lines"]]


def test_the_hot_path_takes_the_direct_way(app, net, client, tokens):
    db.session.rollback()
    _deposit(client, tokens["op_a"], net.members_a[0].member_no, None)
    names = {id(stmt): name for (name, _dialect), stmt in transaction._PREPARED.items()}
    taken = {names[sid] for (sid, _d, _k, _n), plan in direct._PLANS.items()
             if plan is not direct._INELIGIBLE and sid in names}
    hot = {"receipt_counter.next", "ledger.open_books", "ledger.postings", "ledger.entry", "deposit.insert",
           "deposit.lines", "audit.insert", "idempotency.record", "idempotency.insert"}
    assert hot <= taken, f"through SQLAlchemy instead: {sorted(hot - taken)}"
    assert any(name.startswith("ledger.apply_legs") for name in taken)


def test_what_needs_more_goes_through_sqlalchemy(app, net):
    """An expanding IN list is not taken directly: run_core answers through SQLAlchemy."""
    stmt = prepared("test.direct.expanding", lambda _: select(Member.name).where(
        Member.id.in_(bindparam("ids", expanding=True))).order_by(Member.id))
    ids = [m.id for m in net.members_a[:2]]
    assert direct.execute(db.session.connection(), stmt, {"ids": ids}) is None
    assert [row[0] for row in run_core(stmt, {"ids": ids})] == [m.name for m in net.members_a[:2]]


def test_a_duplicate_key_is_sqlalchemys_unique_violation(app, net):
    """The idempotency record's unique key, written twice through the direct way: the error is
    SQLAlchemy's IntegrityError that run_in_transaction retries as a twin's race."""
    table = IdempotencyRecord.__table__
    stmt = prepared("idempotency.insert", lambda _: insert(table))
    row = dict(unit_id=net.unit_a.id, key="direct-twin", operation="deposit", request_hash="x", status_code=201,
               response_body="{}", user_id=None, created_at=datetime.now(UTC))
    run_core(stmt, row)
    with pytest.raises(IntegrityError) as raised:
        run_core(stmt, dict(row))
    assert is_unique_violation(raised.value)
    db.session.rollback()
    assert db.session.scalar(select(IdempotencyRecord).where(IdempotencyRecord.key == "direct-twin")) is None


def test_a_new_connection_gets_a_new_cursor(app, net):
    """The cursor kept per DBAPI connection does not outlive it: after the connection is
    invalidated the next statement runs on a cursor of the new one."""
    stmt = prepared("test.direct.name", lambda _: select(Member.name).where(Member.id == bindparam("id")))
    member = net.members_a[0]
    assert run_core(stmt, {"id": member.id}).scalar_one() == member.name
    old = db.session.connection().connection.info[direct._CURSOR]
    db.session.connection().invalidate()
    db.session.rollback()
    assert run_core(stmt, {"id": member.id}).scalar_one() == member.name
    new = db.session.connection().connection.info[direct._CURSOR]
    assert new is not old


def test_a_savepoint_rolled_back_takes_the_direct_writes_with_it(app, net):
    """run_core keeps the session's connection for the transaction (transaction.session_connection),
    but a savepoint begun since is emitted before its first statement: rolling it back undoes
    what ran inside, and what ran before it stays."""
    table = IdempotencyRecord.__table__
    stmt = prepared("idempotency.insert", lambda _: insert(table))
    row = dict(unit_id=net.unit_a.id, operation="deposit", request_hash="x", status_code=201,
               response_body="{}", user_id=None, created_at=datetime.now(UTC))
    run_core(stmt, dict(row, key="direct-before-savepoint"))
    savepoint = db.session.begin_nested()
    run_core(stmt, dict(row, key="direct-in-savepoint"))
    savepoint.rollback()
    run_core(stmt, dict(row, key="direct-after-savepoint"))
    db.session.commit()
    keys = set(db.session.scalars(select(IdempotencyRecord.key).where(IdempotencyRecord.key.like("direct-%"))))
    assert keys == {"direct-before-savepoint", "direct-after-savepoint"}
