"""The deposit's write batch sent together on PostgreSQL (services/direct.py §Sent together,
issue 13 item 1): the same statements and the same stored values, fewer waits for the
database, and a statement that fails inside the batch still fails the operation as
SQLAlchemy's error (at the read of an answer, at the next SQLAlchemy statement or at the
commit) with nothing stored. On SQLite the batch is a no-op."""
from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest
from psycopg import waiting
from psycopg._enums import Wait
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError

from wastebank.extensions import db
from wastebank.models import Deposit, IdempotencyRecord, ReceiptCounter
from wastebank.services import direct
from wastebank.services.ledger import member_savings_account
from wastebank.services.numbering import take_receipt_no
from wastebank.services.transaction import is_unique_violation, prepared, run_core, send_together

from .conftest import IS_POSTGRES, bearer

postgres_only = pytest.mark.skipif(not IS_POSTGRES, reason="psycopg's pipeline mode: PostgreSQL only")

LINES = [{"category": "PET-CLEAN", "quantity": "1,5"}, {"category": "CARDBOARD", "quantity": "2"},
         {"category": "HDPE-RIGID", "quantity": "0,75"}]
# Waits for the database in one API deposit (psycopg's Connection.wait: each a round trip):
# the connection's ping, the token, the member, the idempotency read, then the write batch in
# three (receipt number + open books + accounts; postings + entry + deposit id; the rest with
# the end of the pipeline) and COMMIT; psycopg's BEGIN is a wait of its own. Statement by
# statement: the same five, the twelve statements and COMMIT.
WAITS_PER_DEPOSIT = 9
WAITS_ONE_BY_ONE = 15


def _deposit(client, token, member_no) -> dict:
    response = client.post("/api/v1/deposits", data=json.dumps({"member": member_no, "lines": LINES}),
                           content_type="application/json",
                           headers={**bearer(token), "Idempotency-Key": str(uuid.uuid4())})
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


def _counting_waits(monkeypatch) -> list:
    """Count the times psycopg waits to read from the server (its generators yield Wait.R
    when they need an answer): one per round trip."""
    reads: list = []
    wait = waiting.wait

    def counted(gen, *args, **kwargs):
        return wait(_reads_of(gen, reads), *args, **kwargs)
    monkeypatch.setattr(waiting, "wait", counted)
    return reads


def _reads_of(gen, reads: list):
    try:
        wanted = next(gen)
        while True:
            if wanted == Wait.R:
                reads.append(1)
            wanted = gen.send((yield wanted))
    except StopIteration as stop:
        return stop.value


def _idempotency_row(unit_id: int, key: str) -> dict:
    return dict(unit_id=unit_id, key=key, operation="deposit", request_hash="x", status_code=201,
                response_body="{}", user_id=None, created_at=datetime.now(UTC))


_INSERT = "idempotency.insert"


def _insert_stmt():
    return prepared(_INSERT, lambda _: insert(IdempotencyRecord.__table__))


@postgres_only
def test_a_deposit_waits_less_and_stores_the_same(app, net, client, tokens, monkeypatch):
    db.session.rollback()
    member_no, token = net.members_a[0].member_no, tokens["op_a"]
    _deposit(client, token, member_no)  # warm: plans, caches (the member's account), prepared statements
    with monkeypatch.context() as apart:
        apart.setattr(direct, "send_together", lambda conn: None)
        waits = _counting_waits(apart)
        one_by_one = _deposit(client, token, member_no)
        waits_one_by_one = len(waits)
    waits = _counting_waits(monkeypatch)
    together = _deposit(client, token, member_no)
    assert (len(waits), waits_one_by_one) == (WAITS_PER_DEPOSIT, WAITS_ONE_BY_ONE)
    # The same answer but for the deposit's own number, time and balance: Rp 4.875 + 4.000 + 1.875.
    per_deposit = ("id", "receipt_no", "posted_at", "recorded_at", "balance_idr", "receipt_url", "receipt_pdf_url")
    assert {k: v for k, v in together.items() if k not in per_deposit} == \
        {k: v for k, v in one_by_one.items() if k not in per_deposit}
    assert together["credited_idr"] == 10750
    assert together["balance_idr"] == one_by_one["balance_idr"] + 10750
    first, second = (int(answer["receipt_no"].rsplit("-", 1)[1]) for answer in (one_by_one, together))
    assert second == first + 1  # gapless: the number was read from its own answer
    db.session.expire_all()
    stored = db.session.scalar(select(Deposit).where(Deposit.receipt_no == together["receipt_no"]))
    assert (stored.id, stored.credited_idr, stored.balance_after_idr, len(stored.lines)) == \
        (together["id"], 10750, together["balance_idr"], 3)
    assert member_savings_account(stored.member).balance == together["balance_idr"]
    assert db.session.scalar(select(func.count()).select_from(Deposit).where(
        Deposit.member_id == stored.member_id)) == 3


@postgres_only
def test_answers_read_later_are_each_their_own(app, net):
    """Two receipt numbers taken in one batch and read in the opposite order: each its own."""
    db.session.rollback()
    unit = db.session.get(type(net.unit_a), net.unit_a.id)  # loaded before: an ORM load ends the batch
    send_together()
    first, second = take_receipt_no(unit, datetime.now(UTC)), take_receipt_no(unit, datetime.now(UTC))
    assert direct.sending_together(db.session.connection())
    later, earlier = second(), first()
    assert int(later.rsplit("-", 1)[1]) == int(earlier.rsplit("-", 1)[1]) + 1
    db.session.rollback()


@postgres_only
def test_a_sqlalchemy_statement_ends_the_batch_and_sees_its_writes(app, net):
    db.session.rollback()
    unit_id = net.unit_a.id
    send_together()
    run_core(_insert_stmt(), _idempotency_row(unit_id, "sent-together-seen"))
    conn = db.session.connection()
    assert direct.sending_together(conn)
    seen = db.session.scalar(select(IdempotencyRecord.operation).where(
        IdempotencyRecord.unit_id == unit_id, IdempotencyRecord.key == "sent-together-seen"))
    assert seen == "deposit"
    assert not direct.sending_together(conn)
    db.session.rollback()


@postgres_only
def test_a_duplicate_in_the_batch_fails_the_commit_and_stores_nothing(app, net):
    """The twin's race of the idempotency key: sent together its unique violation is known only
    at the commit, still as SQLAlchemy's IntegrityError that run_in_transaction retries."""
    db.session.rollback()
    unit = db.session.get(type(net.unit_a), net.unit_a.id)
    before = db.session.scalar(select(ReceiptCounter.last_no).where(ReceiptCounter.unit_id == unit.id))
    send_together()
    number = take_receipt_no(unit, datetime.now(UTC))
    run_core(_insert_stmt(), _idempotency_row(unit.id, "sent-together-twin"))
    run_core(_insert_stmt(), _idempotency_row(unit.id, "sent-together-twin"))
    with pytest.raises(IntegrityError) as raised:
        db.session.commit()
    assert is_unique_violation(raised.value)
    db.session.rollback()
    assert number is not None
    # Nothing of the batch stayed, and the connection works as before.
    assert db.session.scalar(select(func.count()).select_from(IdempotencyRecord).where(
        IdempotencyRecord.key == "sent-together-twin")) == 0
    assert db.session.scalar(select(ReceiptCounter.last_no).where(ReceiptCounter.unit_id == unit.id)) == before
    assert not direct.sending_together(db.session.connection())


@postgres_only
def test_a_failed_read_raises_and_a_rollback_clears_the_batch(app, net):
    """The duplicate read back at once (its answer waited for): the error comes at the read;
    the rollback that follows ends the batch without raising again."""
    db.session.rollback()
    table = IdempotencyRecord.__table__
    returning = prepared("test.sent_together.returning", lambda _: insert(table).returning(table.c.id))
    unit_id = net.unit_a.id
    send_together()
    run_core(returning, _idempotency_row(unit_id, "sent-together-read"))
    answer = run_core(returning, _idempotency_row(unit_id, "sent-together-read"))
    with pytest.raises(IntegrityError):
        answer.scalar_one()
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(IdempotencyRecord).where(
        IdempotencyRecord.key == "sent-together-read")) == 0


@pytest.mark.skipif(IS_POSTGRES, reason="SQLite answers at once")
def test_on_sqlite_nothing_is_sent_together(app, net):
    db.session.rollback()
    unit = db.session.get(type(net.unit_a), net.unit_a.id)
    send_together()
    assert not direct.sending_together(db.session.connection())
    number = take_receipt_no(unit, datetime.now(UTC))
    assert number().startswith(f"{unit.code}-")
    db.session.rollback()


@postgres_only
def test_a_failure_sent_inside_a_savepoint_is_settled_by_the_savepoint(app, net):
    """A statement sent together inside a savepoint that fails is known only when the savepoint
    ends: released, the savepoint is rolled back and the error raised from the block; rolled back,
    the rollback succeeds. Either way the transaction goes on and keeps what ran outside."""
    db.session.rollback()
    unit_id = net.unit_a.id
    run_core(_insert_stmt(), _idempotency_row(unit_id, "sp-outer"))
    with pytest.raises(IntegrityError) as raised, db.session.begin_nested():
        send_together()
        run_core(_insert_stmt(), _idempotency_row(unit_id, "sp-inner"))
        run_core(_insert_stmt(), _idempotency_row(unit_id, "sp-outer"))  # refused; not read
    assert is_unique_violation(raised.value)
    savepoint = db.session.begin_nested()
    send_together()
    run_core(_insert_stmt(), _idempotency_row(unit_id, "sp-rolled"))
    run_core(_insert_stmt(), _idempotency_row(unit_id, "sp-outer"))
    savepoint.rollback()
    run_core(_insert_stmt(), _idempotency_row(unit_id, "sp-after"))
    db.session.commit()
    keys = set(db.session.scalars(select(IdempotencyRecord.key).where(IdempotencyRecord.key.like("sp-%"))))
    assert keys == {"sp-outer", "sp-after"}
