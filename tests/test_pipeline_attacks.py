"""Attacks on the deposit's write batch sent together on PostgreSQL (81586e3: services/direct.py
send_together, _Pending, end_sending_together and the engine/pool listeners; transaction
send_together/session_connection; deposits._post_deposit; ledger JournalPlan.post;
numbering.take_receipt_no). Through the API and the services, on SQLite and PostgreSQL (per
DATABASE_URL): an ORM flush inside the batch (the member's message), refusals of the books
(closed day, locked month), a database refusal in every table the batch writes, the same key
twice at once, the backend killed mid-request, withdrawals/sales/voids after pipelined
deposits, many deposits on one connection, savepoints, a session closed with the batch open.
Every refusal: the documented 409 (or a clean 500 JSON), nothing stored, the receipt counter
unchanged, the connection usable for the next request."""
from __future__ import annotations

import gc
import json
import threading
import uuid
from contextlib import contextmanager
from datetime import UTC, datetime

import psycopg
import pytest
import requests
from sqlalchemy import create_engine, event, func, insert, select, text
from sqlalchemy.pool import NullPool, Pool

from wastebank.auth.tokens import create_token
from wastebank.extensions import db
from wastebank.models import (Account, AuditLog, Deposit, DepositLine, IdempotencyRecord, JournalEntry, Member,
                              Notification, Posting, ReceiptCounter, Unit, User, Withdrawal, clock_at)
from wastebank.services import deposits as deposits_service
from wastebank.services import direct, ledger
from wastebank.services.deposits import LineInput, record_deposit
from wastebank.services.ledger import verify_ledger
from wastebank.services.numbering import take_receipt_no
from wastebank.services.transaction import prepared, run_core, run_in_transaction, send_together, session_connection

from .conftest import DATABASE_URL, IS_POSTGRES, LiveServer, bearer

postgres_only = pytest.mark.skipif(not IS_POSTGRES, reason="psycopg's pipeline mode: PostgreSQL only")

PHONE = "+6281234567890"
LINES = [{"category": "PET-CLEAN", "quantity": "1,5"}, {"category": "CARDBOARD", "quantity": "2"}]
TOTAL = 4875 + 4000  # RW05: PET-CLEAN Rp 3.250/kg × 1,5 + CARDBOARD Rp 2.000/kg × 2, no fee


def _key() -> str:
    return f"pipe-{uuid.uuid4().hex}"


def _post(client, token, member_no, key=None, body=None):
    return client.post("/api/v1/deposits", data=json.dumps({"member": member_no, "lines": LINES, **(body or {})}),
                       content_type="application/json",
                       headers={**bearer(token), "Idempotency-Key": key or _key()})


def _state() -> dict:
    """Every row count the deposit writes, the receipt counters and every cached balance."""
    counts = {model.__tablename__: db.session.scalar(select(func.count()).select_from(model))
              for model in (Deposit, DepositLine, JournalEntry, Posting, IdempotencyRecord, AuditLog, Notification,
                            Withdrawal)}
    counts["receipt_counter"] = sorted(db.session.execute(
        select(ReceiptCounter.unit_id, ReceiptCounter.year, ReceiptCounter.last_no)).all())
    counts["balances"] = sorted(db.session.execute(select(Account.id, Account.balance)).all())
    db.session.rollback()
    return counts


def _savings(member_id: int) -> int:
    balance = db.session.scalar(select(Account.balance).where(Account.key == f"savings:{member_id}")) or 0
    db.session.rollback()
    return balance


def _last_no(unit_id: int) -> int:
    number = db.session.scalar(select(func.max(ReceiptCounter.last_no)).where(ReceiptCounter.unit_id == unit_id)) or 0
    db.session.rollback()
    return number


def _ok_ledger():
    report = verify_ledger()
    db.session.rollback()
    assert report.ok, report.faults


def _number(receipt_no: str) -> int:
    return int(receipt_no.rsplit("-", 1)[1])


def _opt_in(net, member):
    net.unit_a.notify_enabled = True
    member.phone, member.notify_consent = PHONE, True
    db.session.commit()


# --- 1. an ORM flush inside the batch: the member's message -------------------------------------


def test_a_deposit_with_the_members_message_is_stored_once_with_its_message(app, net, client, tokens):
    """The unit sends messages and the member consented: queue_for_deposit's ORM read and flush run
    in the middle of the batch (ending it). The deposit, its lines, audit row, key and message are
    each stored once, the answer is the stored deposit's, and a replay adds nothing."""
    member = net.members_a[0]
    _opt_in(net, member)
    before = _state()
    key = _key()
    answer = _post(client, tokens["op_a"], member.member_no, key)
    assert answer.status_code == 201, answer.get_data(as_text=True)
    body = answer.get_json()
    assert (body["credited_idr"], body["balance_idr"]) == (TOTAL, TOTAL)
    assert not direct.sending_together(db.session.connection())
    db.session.rollback()
    stored = db.session.scalar(select(Deposit).where(Deposit.receipt_no == body["receipt_no"]))
    assert (stored.id, stored.credited_idr, stored.balance_after_idr, len(stored.lines)) == \
        (body["id"], TOTAL, TOTAL, 2)
    notes = list(db.session.scalars(select(Notification).where(Notification.source_type == "deposit",
                                                               Notification.source_id == stored.id)))
    assert [(n.member_id, n.phone, n.status) for n in notes] == [(member.id, PHONE, "queued")]
    assert body["receipt_no"] in notes[0].body and "Rp 8.875" in notes[0].body
    db.session.rollback()
    after = _state()
    for table, grown in (("deposit", 1), ("deposit_line", 2), ("journal_entry", 1), ("posting", 3),
                         ("idempotency_record", 1), ("audit_log", 1), ("notification", 1)):
        assert after[table] == before[table] + grown, table
    replay = _post(client, tokens["op_a"], member.member_no, key)
    assert replay.status_code == 201 and replay.headers.get("Idempotent-Replayed") == "true"
    assert replay.get_json() == body
    assert _state() == after
    assert _savings(member.id) == TOTAL
    _ok_ledger()


# --- 2. refusals of the books -------------------------------------------------------------------


def _close_today(net, ids=None):
    from wastebank.services.cashbook import close_day, expected_cash
    from wastebank.timeutil import local_today

    unit_id, manager_id = ids or (net.unit_a.id, net.users["mgr_a"].id)
    unit = db.session.get(Unit, unit_id)
    manager = db.session.get(User, manager_id)
    run_in_transaction(lambda: close_day(unit, local_today(), str(expected_cash(unit, local_today())), manager))


def _reopen_today(net):
    from wastebank.services.cashbook import reopen_day
    from wastebank.timeutil import local_today

    unit = db.session.get(Unit, net.unit_a.id)
    manager = db.session.get(User, net.users["mgr_a"].id)
    run_in_transaction(lambda: reopen_day(unit, local_today(), "koreksi setoran", manager))


@pytest.mark.parametrize("notify", [False, True], ids=["no_message", "with_message"])
def test_a_deposit_on_a_closed_day_is_409_and_stores_nothing(app, net, client, tokens, notify):
    member = net.members_a[0]
    if notify:
        _opt_in(net, member)
    first = _post(client, tokens["op_a"], member.member_no)
    assert first.status_code == 201
    _close_today(net)
    before = _state()
    key = _key()
    for _ in range(3):  # the same refusal each time, on the same connection
        refused = _post(client, tokens["op_a"], member.member_no, key)
        assert refused.status_code == 409, refused.get_data(as_text=True)
        assert refused.get_json()["error"]["code"] == "day_closed"
        assert not direct.sending_together(db.session.connection())
        db.session.rollback()
        assert _state() == before
    # Another unit on the same connection meanwhile: its deposit goes through.
    other = _post(client, tokens["op_b"], net.members_b[0].member_no)
    assert other.status_code == 201, other.get_data(as_text=True)
    # Reopened: the same key now records, with the next number (no gap from the refusals).
    _reopen_today(net)
    again = _post(client, tokens["op_a"], member.member_no, key)
    assert again.status_code == 201, again.get_data(as_text=True)
    assert _number(again.get_json()["receipt_no"]) == _number(first.get_json()["receipt_no"]) + 1
    assert _savings(member.id) == 2 * TOTAL
    _ok_ledger()


def test_a_deposit_into_a_locked_month_is_409_and_stores_nothing(app, net, client):
    from zoneinfo import ZoneInfo

    from wastebank.services.month_close import lock_month, units_of

    wib = ZoneInfo("Asia/Jakarta")
    nov, dec = datetime(2025, 11, 20, 10, 0, tzinfo=wib), datetime(2025, 12, 2, 9, 0, tzinfo=wib)
    member = net.members_a[1]
    _opt_in(net, member)  # the message would be queued after the batch: it must not be
    with clock_at(nov):
        token = create_token(db.session.get(User, net.users["op_a"].id), "tablet")
        db.session.commit()
        first = _post(client, token, member.member_no)
        assert first.status_code == 201, first.get_data(as_text=True)
    with clock_at(dec):
        run_in_transaction(lambda: lock_month(units_of(net.unit_a.aggregator), 2025, 11,
                                              db.session.get(User, net.users["agg"].id)))
        before = _state()
        late = {"recorded_at": "2025-11-30T21:15:00+07:00"}
        for _ in range(2):
            refused = _post(client, token, member.member_no, body=late)
            assert refused.status_code == 409, refused.get_data(as_text=True)
            assert refused.get_json()["error"]["code"] == "month_locked"
            assert "November 2025" in refused.get_json()["error"]["message"]
            assert not direct.sending_together(db.session.connection())
            db.session.rollback()
            assert _state() == before
        ok = _post(client, token, member.member_no)
        assert ok.status_code == 201, ok.get_data(as_text=True)
        assert _number(ok.get_json()["receipt_no"]) == _number(first.get_json()["receipt_no"]) + 1
    _ok_ledger()


# --- 3. a database refusal in every table the batch writes -----------------------------------------

# (table, trigger timing, PostgreSQL WHEN, SQLite WHEN): each refuses the deposit's own row only.
REFUSING = [
    ("receipt_counter", "BEFORE UPDATE", "true", "1"),
    ("account", "BEFORE UPDATE", "NEW.key LIKE 'savings:%'", "NEW.key LIKE 'savings:%'"),
    ("posting", "BEFORE INSERT", "true", "1"),
    ("journal_entry", "BEFORE INSERT", "NEW.kind = 'deposit'", "NEW.kind = 'deposit'"),
    ("deposit", "BEFORE INSERT", "true", "1"),
    ("deposit_line", "BEFORE INSERT", "true", "1"),
    ("audit_log", "BEFORE INSERT", "NEW.action = 'deposit.record'", "NEW.action = 'deposit.record'"),
    ("idempotency_record", "BEFORE INSERT", "NEW.operation = 'deposit'", "NEW.operation = 'deposit'"),
    ("notification", "BEFORE INSERT", "true", "1"),
]


@contextmanager
def refusing_trigger(table: str, timing: str, pg_when: str, sqlite_when: str, errcode: str = "WB001"):
    """A trigger that refuses the row as the ledger guards do (PostgreSQL: SQLSTATE ``errcode``;
    SQLite: RAISE(ABORT)), dropped again at the end (on PostgreSQL the schema outlives the test)."""
    if IS_POSTGRES:
        engine = create_engine(DATABASE_URL, isolation_level="AUTOCOMMIT", poolclass=NullPool)
        with engine.connect() as conn:
            conn.execute(text(
                "CREATE OR REPLACE FUNCTION wb_attack_refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                f"RAISE EXCEPTION 'attack: % refused', TG_TABLE_NAME USING ERRCODE = '{errcode}'; END $$"))
            conn.execute(text(f"CREATE TRIGGER wb_attack {timing} ON {table} FOR EACH ROW WHEN ({pg_when}) "
                              "EXECUTE FUNCTION wb_attack_refuse()"))
        try:
            yield
        finally:
            with engine.connect() as conn:
                conn.execute(text(f"DROP TRIGGER IF EXISTS wb_attack ON {table}"))
                conn.execute(text("DROP FUNCTION IF EXISTS wb_attack_refuse()"))
            engine.dispose()
    else:
        db.session.execute(text(f"CREATE TRIGGER wb_attack {timing} ON {table} FOR EACH ROW WHEN {sqlite_when} "
                                "BEGIN SELECT RAISE(ABORT, 'attack: refused'); END"))
        db.session.commit()
        try:
            yield
        finally:
            db.session.rollback()
            db.session.execute(text("DROP TRIGGER IF EXISTS wb_attack"))
            db.session.commit()


@pytest.mark.parametrize("notify", [False, True], ids=["no_message", "with_message"])
@pytest.mark.parametrize("refusal", REFUSING, ids=[r[0] for r in REFUSING])
def test_a_database_refusal_in_the_batch_is_409_and_stores_nothing(app, net, client, tokens, refusal, notify):
    """Wherever in the batch the database refuses (the first wait, the second, the end of the
    pipeline at the message's ORM read or at COMMIT): 409 ``refused_by_database`` at the first
    attempt, nothing stored, the counter unchanged; the next deposit gets the next number."""
    table = refusal[0]
    if table == "notification" and not notify:
        pytest.skip("no message, no notification row")
    member = net.members_a[0]
    if notify:
        _opt_in(net, member)
    first = _post(client, tokens["op_a"], member.member_no)
    assert first.status_code == 201
    before = _state()
    key = _key()
    with refusing_trigger(*refusal):
        refused = _post(client, tokens["op_a"], member.member_no, key)
        assert refused.status_code == 409, refused.get_data(as_text=True)
        assert refused.get_json()["error"]["code"] == "refused_by_database"
        assert not direct.sending_together(db.session.connection())
        db.session.rollback()
        assert _state() == before
    again = _post(client, tokens["op_a"], member.member_no, key)
    assert again.status_code == 201, again.get_data(as_text=True)
    assert _number(again.get_json()["receipt_no"]) == _number(first.get_json()["receipt_no"]) + 1
    assert _savings(member.id) == 2 * TOTAL
    _ok_ledger()


@postgres_only
def test_an_entry_id_already_written_is_refused_by_posting_check_insert(app, net, client, tokens):
    """The entry id sequence set back (the sequence restored from an old dump): nextval gives an
    entry already written, posting_check_insert refuses the postings (WB001) in the batch's
    second wait; the deposit's own id is read there, after the refused statement."""
    member = net.members_a[0]
    first = _post(client, tokens["op_a"], member.member_no)
    assert first.status_code == 201
    entry_id = db.session.scalar(select(func.max(JournalEntry.id)))
    sequence = "journal_entry_id_seq"  # ledger._open_books_select's nextval
    db.session.execute(text("SELECT setval(:s, :v, false)"), {"s": sequence, "v": entry_id})
    db.session.commit()
    before = _state()
    refused = _post(client, tokens["op_a"], member.member_no)
    assert refused.status_code == 409, refused.get_data(as_text=True)
    assert refused.get_json()["error"]["code"] == "refused_by_database"
    assert _state() == before
    db.session.execute(text("SELECT setval(:s, :v, true)"), {"s": sequence, "v": entry_id + 10})
    db.session.commit()
    again = _post(client, tokens["op_a"], member.member_no)
    assert again.status_code == 201, again.get_data(as_text=True)
    _ok_ledger()


# --- 4. the same key twice at once, against a live server ----------------------------------------


@pytest.fixture
def quiet_live(app, database_url, net):
    """The live server (conftest.live_server) answering an unexpected error as production does
    (the 500 JSON of the one error handler, not the exception raised into werkzeug). Yields the
    LiveServer."""
    db.session.commit()
    for obj in list(db.session.identity_map.values()):
        db.session.refresh(obj)
    db.session.expunge_all()
    db.session.close()
    live = LiveServer(database_url)
    live.app.config["PROPAGATE_EXCEPTIONS"] = False
    try:
        yield live
    finally:
        live.stop(10)


def _token(net, name="op_a") -> str:
    token = create_token(db.session.get(User, net.users[name].id), "attack")
    db.session.commit()
    db.session.close()
    return token


@pytest.mark.parametrize("notify", [False, True], ids=["no_message", "with_message"])
@pytest.mark.parametrize("lockstep", [False, True], ids=["at_once", "both_past_the_lookup"])
def test_the_same_key_from_two_tablets_at_once_is_one_deposit(app, net, notify, lockstep, request, monkeypatch,
                                                              caplog):
    """Two threads send one deposit with one key at the same moment (``both_past_the_lookup``: each
    held before its first write until both found the key free). The loser's unique violation on
    the key surfaces at COMMIT (or at the message's ORM read), is retried and replays the winner's
    answer. One deposit, one message, one receipt number taken, both answers the same."""
    import logging

    caplog.set_level(logging.INFO, logger="wastebank.services.transaction")
    if lockstep:
        both = threading.Barrier(2, timeout=20)
        take = deposits_service.take_receipt_no
        calls: list = []

        def lockstep_take(unit, moment):
            calls.append(1)
            if len(calls) <= 2:
                both.wait()
            return take(unit, moment)
        monkeypatch.setattr(deposits_service, "take_receipt_no", lockstep_take)
    member = db.session.get(Member, net.members_a[0].id)
    if notify:
        _opt_in(net, member)
    member_no, member_id, unit_id = member.member_no, member.id, net.unit_a.id
    token = _token(net)
    before = _state()
    live = request.getfixturevalue("quiet_live")
    key = _key()
    barrier = threading.Barrier(2, timeout=30)
    answers: list = []

    def tablet():
        with requests.Session() as session:
            barrier.wait()
            response = session.post(f"{live.url}/api/v1/deposits", timeout=60,
                                    json={"member": member_no, "lines": LINES},
                                    headers={**bearer(token), "Idempotency-Key": key})
            answers.append((response.status_code, response.json(), response.headers.get("Idempotent-Replayed")))

    threads = [threading.Thread(target=tablet) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=90)
    assert sorted(a[0] for a in answers) == [201, 201], answers
    assert answers[0][1] == answers[1][1]
    assert sorted(a[2] or "" for a in answers) == ["", "true"]
    after = _state()
    assert after["deposit"] == before["deposit"] + 1
    assert after["idempotency_record"] == before["idempotency_record"] + 1
    assert after["notification"] == before["notification"] + (1 if notify else 0)
    assert _last_no(unit_id) == _number(answers[0][1]["receipt_no"]) == 1
    assert _savings(member_id) == TOTAL
    if lockstep:
        retried = [r.getMessage() for r in caplog.records if "transient conflict" in r.getMessage()]
        assert len(retried) == 1 and "idempotency_record" in retried[0], retried
    _ok_ledger()


# --- 5. the backend killed while a request holds the batch ---------------------------------------


def _terminate(pid: int) -> None:
    with psycopg.connect(DATABASE_URL.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        assert conn.execute("SELECT pg_terminate_backend(%s)", (pid,)).fetchone()[0] is True


@postgres_only
@pytest.mark.parametrize("where", ["before_the_first_read", "before_the_commit"])
def test_the_backend_killed_inside_the_batch_is_a_clean_500_and_nothing_is_stored(app, net, monkeypatch, where,
                                                                               request):
    """A request is held inside its batch (statements sent, answers not read: before the open books'
    answer is read, or after the lines and audit row were sent and before the commit); its backend
    is terminated from another connection. The client gets the 500 JSON at once (no hang), nothing
    of the request is stored, the next request works on a new connection."""
    member = net.members_a[0]
    member_no, member_id, unit_id = member.member_no, member.id, net.unit_a.id
    token = _token(net)
    before = _state()
    held, go, pids, sending = threading.Event(), threading.Event(), [], []

    def hold():
        if not held.is_set():
            conn = session_connection()
            sending.append(direct.sending_together(conn))
            pids.append(conn.connection.dbapi_connection.info.backend_pid)
            held.set()
            assert go.wait(30)

    if where == "before_the_first_read":
        check = ledger._check_open_books

        def holding_check(*args):
            hold()
            return check(*args)
        monkeypatch.setattr(ledger, "_check_open_books", holding_check)
    else:
        queue = deposits_service.queue_for_deposit

        def holding_queue(deposit):
            hold()
            return queue(deposit)
        monkeypatch.setattr(deposits_service, "queue_for_deposit", holding_queue)
    live = request.getfixturevalue("quiet_live")
    answers: list = []

    def tablet():
        try:
            answers.append(requests.post(f"{live.url}/api/v1/deposits", timeout=30,
                                         json={"member": member_no, "lines": LINES},
                                         headers={**bearer(token), "Idempotency-Key": _key()}))
        except Exception as exc:  # asserted below
            answers.append(exc)

    thread = threading.Thread(target=tablet)
    thread.start()
    assert held.wait(30)
    assert sending == [True]
    _terminate(pids[0])
    go.set()
    thread.join(timeout=30)
    assert not thread.is_alive(), "the request hangs after its backend was killed"
    (answer,) = answers
    assert isinstance(answer, requests.Response), answer
    assert answer.status_code == 500, answer.text
    assert answer.json()["error"]["code"] == "server_error"
    assert _state() == before
    # The next request: a new connection, the first receipt number.
    ok = requests.post(f"{live.url}/api/v1/deposits", timeout=30, json={"member": member_no, "lines": LINES},
                       headers={**bearer(token), "Idempotency-Key": _key()})
    assert ok.status_code == 201, ok.text
    assert _number(ok.json()["receipt_no"]) == _last_no(unit_id) == 1
    assert _savings(member_id) == TOTAL
    _ok_ledger()


# --- 6. withdrawals, sales, voids after pipelined deposits --------------------------------------


def test_withdrawal_sale_and_void_after_pipelined_deposits_move_exactly_what_they_say(app, net, client, tokens):
    """post_journal's other callers are not sent together: after two API deposits (Rp 8.875 each),
    a withdrawal over the balance is refused with nothing moved, one of exactly the balance minus
    Rp 1 pays, the void of a deposit now spent is refused, a sale of its stock goes through, and
    every balance equals its postings."""
    from wastebank.models import Offtaker
    from wastebank.services.sales import SaleLineInput, create_offtaker, record_sale

    member = net.members_a[2]
    token, manager = tokens["op_a"], tokens["mgr_a"]
    deposits = [_post(client, token, member.member_no) for _ in range(2)]
    assert [d.status_code for d in deposits] == [201, 201]
    assert deposits[1].get_json()["balance_idr"] == 2 * TOTAL
    before = _state()
    over = client.post("/api/v1/withdrawals", json={"member": member.member_no, "amount_idr": 2 * TOTAL + 1,
                                                    "method": "cash"},
                       headers={**bearer(token), "Idempotency-Key": _key()})
    assert over.status_code == 409 and over.get_json()["error"]["code"] == "insufficient_balance"
    after_refusal = _state()
    # A stored refusal (replayable) is its key and its audit row only: no money moved.
    assert after_refusal["balances"] == before["balances"] and after_refusal["posting"] == before["posting"]
    assert after_refusal["withdrawal"] == before["withdrawal"]
    paid = client.post("/api/v1/withdrawals", json={"member": member.member_no, "amount_idr": 2 * TOTAL - 1,
                                                    "method": "cash"},
                       headers={**bearer(token), "Idempotency-Key": _key()})
    assert paid.status_code == 201, paid.get_data(as_text=True)
    assert _savings(member.id) == 1
    spent = _state()
    void = client.post(f"/api/v1/deposits/{deposits[0].get_json()['id']}/void", json={"reason": "salah timbang"},
                       headers={**bearer(manager), "Idempotency-Key": _key()})
    assert void.status_code == 409 and void.get_json()["error"]["code"] == "insufficient_balance", void.get_data(
        as_text=True)
    assert _state()["balances"] == spent["balances"]
    buyer = run_in_transaction(lambda: create_offtaker(db.session.get(Unit, net.unit_a.id), "CV Uji Serang",
                                                       user=db.session.get(User, net.users["mgr_a"].id)).id)
    sold = run_in_transaction(lambda: record_sale(
        db.session.get(Unit, net.unit_a.id), db.session.get(Offtaker, buyer), [SaleLineInput("CARDBOARD", "4", "",
                                                                                             "2500")],
        "cash", user=db.session.get(User, net.users["mgr_a"].id), idempotency_key=_key()))
    assert sold.status == 201 and sold.body["total_idr"] == 10_000
    # Another deposit after all that, sent together again: the next number, the right balance.
    last = _post(client, token, member.member_no)
    assert last.status_code == 201 and last.get_json()["balance_idr"] == 1 + TOTAL
    assert not direct.sending_together(db.session.connection())
    db.session.rollback()
    _ok_ledger()


def test_a_withdrawal_in_the_same_transaction_as_a_pipelined_deposit_sees_its_credit(app, net):
    """A deposit and a withdrawal of its whole credit in one transaction (a CLI or import doing
    both): the withdrawal's savepoint and ORM flush end the batch; the withdrawal sees the credit,
    one more rupiah is refused and rolled back to its savepoint, the deposit stays."""
    from wastebank.services.withdrawals import WithdrawalInput, record_withdrawal

    member = db.session.get(Member, net.members_a[1].id)
    unit = db.session.get(Unit, net.unit_a.id)
    op = db.session.get(User, net.users["op_a"].id)

    def both():
        record_deposit(unit, member, [LineInput("CARDBOARD", "2")], operator_id=op.id, idempotency_key=_key())
        refused = record_withdrawal(unit, member, WithdrawalInput("cash", 4001), user=op, idempotency_key=_key())
        paid = record_withdrawal(unit, member, WithdrawalInput("cash", 4000), user=op, idempotency_key=_key())
        return refused, paid

    refused, paid = run_in_transaction(both)
    assert (refused.status, refused.body["error"]["code"]) == (409, "insufficient_balance")
    assert paid.status == 201
    assert _savings(member.id) == 0
    _ok_ledger()


# --- 7. many deposits on one connection ------------------------------------------------------------


def test_many_deposits_leave_no_pipeline_and_a_bounded_driver_state(app, net, client, tokens):
    """60 API deposits of 1 to 12 lines (many statement shapes) on the test's one connection:
    after each, nothing is sent together any more when the connection goes back to the pool (the
    commit ended it, not the pool's reset), the driver is out of pipeline mode, psycopg's prepared
    statements stay within its bound and match the server's, and its cursors are not kept."""
    codes = ["PET-CLEAN", "CARDBOARD", "PET-DIRTY", "PET-COLOUR", "PP-CUP", "CAP", "HDPE-RIGID"]
    at_reset: list = []

    def spy(dbapi_connection, record, reset_state):
        at_reset.append((direct._PIPELINE in record.info, getattr(dbapi_connection, "_pipeline", None)))
    event.listen(Pool, "reset", spy, insert=True)  # before direct's own listener
    try:
        member = net.members_a[0]
        _post(client, tokens["op_a"], member.member_no)  # warm
        gc.collect()
        cursors_before = sum(isinstance(o, psycopg.Cursor) for o in gc.get_objects()) if IS_POSTGRES else 0
        total = 0
        for i in range(60):
            lines = [{"category": codes[j % len(codes)], "quantity": f"{j + 1}"} for j in range(i % 12 + 1)]
            answer = _post(client, tokens["op_a"], member.member_no, body={"lines": lines})
            assert answer.status_code == 201, answer.get_data(as_text=True)
            total += answer.get_json()["credited_idr"]
            conn = db.session.connection()
            assert not direct.sending_together(conn)
            if IS_POSTGRES:
                raw = conn.connection.dbapi_connection
                assert raw._pipeline is None and raw.pgconn.pipeline_status == 0
            db.session.rollback()
        assert at_reset and all(state == (False, None) for state in at_reset), at_reset[:5]
        if IS_POSTGRES:
            # (Read before any rollback: psycopg forgets its prepared statements at a rollback.)
            raw = db.session.connection().connection.dbapi_connection
            names = len(raw._prepared._names)
            on_server = db.session.scalar(text("SELECT count(*) FROM pg_prepared_statements"))
            assert 10 < names <= raw._prepared.prepared_max and on_server == names, (names, on_server)
            gc.collect()
            cursors_after = sum(isinstance(o, psycopg.Cursor) for o in gc.get_objects())
            assert cursors_after - cursors_before <= 2, (cursors_before, cursors_after)
            db.session.rollback()
        assert _savings(member.id) == TOTAL + total
    finally:
        event.remove(Pool, "reset", spy)
    _ok_ledger()


# --- 8. savepoints, a closed session, answers read late, outside a request ---------------------------


_INSERT = "idempotency.insert"


def _row(unit_id: int, key: str) -> dict:
    return dict(unit_id=unit_id, key=key, operation="deposit", request_hash="x", status_code=201,
                response_body="{}", user_id=None, created_at=datetime.now(UTC))


def _insert_stmt():
    return prepared(_INSERT, lambda _: insert(IdempotencyRecord.__table__))


def _keys(prefix: str) -> set:
    keys = set(db.session.scalars(select(IdempotencyRecord.key).where(IdempotencyRecord.key.like(f"{prefix}%"))))
    db.session.rollback()
    return keys


def test_a_failure_inside_a_savepoint_is_undone_by_the_savepoint(app, net):
    """Without sending together (the way every savepoint of the app works today, and SQLite): a
    duplicate inside a savepoint raises at its statement, the savepoint's rollback undoes it, and
    what ran before and after the savepoint commits."""
    from sqlalchemy.exc import IntegrityError

    unit_id = net.unit_a.id
    run_core(_insert_stmt(), _row(unit_id, "spx-before"))
    run_core(_insert_stmt(), _row(unit_id, "spx-dup"))
    try:
        with db.session.begin_nested():
            run_core(_insert_stmt(), _row(unit_id, "spx-dup"))
    except IntegrityError:
        pass
    run_core(_insert_stmt(), _row(unit_id, "spx-after"))
    db.session.commit()
    assert _keys("spx-") == {"spx-before", "spx-dup", "spx-after"}


# Found by these tests at 81586e3: the failure surfaced at RELEASE / ROLLBACK TO SAVEPOINT
# (direct._end_before_sqlalchemy, failing=False), SQLAlchemy then never emitted the ROLLBACK TO
# SAVEPOINT and the whole transaction stayed aborted. Fixed in b0562fc (rollback_savepoint and
# release_savepoint listeners).


@postgres_only
def test_a_batch_inside_a_savepoint_that_fails_is_caught_by_the_savepoint(app, net):
    """The same with the savepoint's statements sent together (a deposit recorded inside a
    savepoint: an import doing one savepoint per row): the error comes at the savepoint's RELEASE,
    the ``with`` block raises it; the savepoint must then still be undone and the transaction go on."""
    from sqlalchemy.exc import IntegrityError

    unit_id = net.unit_a.id
    run_core(_insert_stmt(), _row(unit_id, "sp-before"))
    run_core(_insert_stmt(), _row(unit_id, "sp-dup"))
    with pytest.raises(IntegrityError), db.session.begin_nested():
        send_together()
        run_core(_insert_stmt(), _row(unit_id, "sp-dup"))  # refused; the answer not read
    run_core(_insert_stmt(), _row(unit_id, "sp-after"))  # before b0562fc: InFailedSqlTransaction
    db.session.commit()
    assert _keys("sp-") == {"sp-before", "sp-dup", "sp-after"}


@postgres_only
def test_a_savepoint_rolled_back_with_a_failed_batch_inside(app, net):
    """The same batch, the savepoint rolled back before its RELEASE (the work raised a domain
    error after the refused statement was sent): the ROLLBACK TO SAVEPOINT must undo the batch, not
    raise the batch's error instead of rolling back."""
    unit_id = net.unit_a.id
    run_core(_insert_stmt(), _row(unit_id, "sprb-before"))
    run_core(_insert_stmt(), _row(unit_id, "sprb-dup"))
    savepoint = db.session.begin_nested()
    send_together()
    run_core(_insert_stmt(), _row(unit_id, "sprb-dup"))
    savepoint.rollback()  # before b0562fc: raised the IntegrityError, nothing rolled back
    run_core(_insert_stmt(), _row(unit_id, "sprb-after"))
    db.session.commit()
    assert _keys("sprb-") == {"sprb-before", "sprb-dup", "sprb-after"}


def test_a_savepoint_begun_while_sending_together_ends_the_batch_first(app, net):
    unit_id = net.unit_a.id
    send_together()
    run_core(_insert_stmt(), _row(unit_id, "spb-outer"))
    conn = session_connection()
    savepoint = db.session.begin_nested()
    run_core(_insert_stmt(), _row(unit_id, "spb-inner"))  # SAVEPOINT emitted first: the batch ends
    assert not direct.sending_together(conn)
    savepoint.rollback()
    db.session.commit()
    assert _keys("spb-") == {"spb-outer"}


@pytest.mark.parametrize("how", ["close", "remove", "rollback"])
def test_a_session_ended_with_the_batch_open_stores_nothing_and_leaves_a_clean_connection(app, net, how):
    unit = db.session.get(Unit, net.unit_a.id)
    before = _last_no(unit.id)
    unit = db.session.get(Unit, net.unit_a.id)
    send_together()
    number = take_receipt_no(unit, datetime.now(UTC))
    run_core(_insert_stmt(), _row(unit.id, f"end-{how}"))
    raw = session_connection().connection.dbapi_connection
    getattr(db.session, how)()
    if IS_POSTGRES:
        assert raw.closed or (raw._pipeline is None and raw.pgconn.pipeline_status == 0)
    # The answer was read when the batch ended: a number that was never committed.
    assert _number(number()) == before + 1
    assert _keys(f"end-{how}") == set() and _last_no(unit.id) == before
    # The next transaction takes that number again.
    unit = db.session.get(Unit, net.unit_a.id)
    assert _number(take_receipt_no(unit, datetime.now(UTC))()) == before + 1
    db.session.rollback()


@postgres_only
def test_an_answer_after_a_failed_batch_was_rolled_back_raises_a_database_error(app, net):
    """An answer sent after a refused statement and read only after the rollback: an error of the
    database (SQLAlchemy's), never a value; the next transaction works."""
    from sqlalchemy.exc import DBAPIError

    unit = db.session.get(Unit, net.unit_a.id)
    before = _last_no(unit.id)
    unit = db.session.get(Unit, net.unit_a.id)
    send_together()
    number = take_receipt_no(unit, datetime.now(UTC))
    run_core(_insert_stmt(), _row(unit.id, "late-twin"))
    run_core(_insert_stmt(), _row(unit.id, "late-twin"))  # refused: the next statement is aborted
    table = IdempotencyRecord.__table__
    returning = prepared("test.pipeline_attacks.returning", lambda _: insert(table).returning(table.c.id))
    try:
        aborted = run_core(returning, _row(unit.id, "late-other"))
    except DBAPIError:
        aborted = None  # the refusal had already arrived: raised at this send (see below)
    db.session.rollback()
    assert _number(number()) == before + 1  # answered before the refusal: a number never committed
    if aborted is not None:
        with pytest.raises(DBAPIError):
            aborted.scalar_one()
        db.session.rollback()
    assert _keys("late-") == set() and _last_no(unit.id) == before


@postgres_only
def test_a_refusal_already_answered_is_raised_at_the_next_statement_sent(app, net):
    """The server sends an error at once: psycopg raises it at the next statement sent together,
    whichever it is. It is still SQLAlchemy's IntegrityError of the refused statement's SQLSTATE
    (what run_in_transaction classifies), but it carries the SQL of the statement being sent."""
    import time

    from sqlalchemy.exc import IntegrityError

    unit = db.session.get(Unit, net.unit_a.id)
    send_together()
    run_core(_insert_stmt(), _row(unit.id, "next-twin"))
    run_core(_insert_stmt(), _row(unit.id, "next-twin"))
    time.sleep(0.2)  # the refusal arrives
    with pytest.raises(IntegrityError) as raised:
        take_receipt_no(unit, datetime.now(UTC))
    assert raised.value.orig.sqlstate == "23505" and "next-twin" in str(raised.value.orig)
    assert "receipt_counter" in raised.value.statement  # the statement sent, not the refused one
    db.session.rollback()
    assert _keys("next-") == set()


def test_run_core_outside_a_request_in_an_app_context_of_its_own(app, net):
    """A worker's or CLI's app context of its own (another thread: its own session and connection):
    two deposits in one transaction through the services, sent together on PostgreSQL, commit;
    the cached connection is dropped with the transaction; the test's own session is untouched."""
    db.session.commit()
    unit_id, member_id = net.unit_a.id, net.members_a[0].id
    seen: list = []

    def worker():
        with app.app_context():
            def two():
                unit, member = db.session.get(Unit, unit_id), db.session.get(Member, member_id)
                first = record_deposit(unit, member, [LineInput("CARDBOARD", "3")], operator_id=None,
                                       idempotency_key=_key())
                second = record_deposit(unit, member, [LineInput("CARDBOARD", "1")], operator_id=None,
                                        idempotency_key=_key())
                return first, second
            first, second = run_in_transaction(two)
            seen.append((first.body["balance_idr"], second.body["balance_idr"],
                         _number(second.body["receipt_no"]) - _number(first.body["receipt_no"]),
                         "wb_connection" in db.session.info))
            db.session.remove()

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join(30)
    db.session.rollback()  # SQLite: the ids above were read in a transaction begun before the worker's
    assert seen == [(6000, 8000, 1, False)]
    assert _savings(member_id) == 8000
    _ok_ledger()


# --- 9. a bug of ours in the middle of the batch ------------------------------------------------------


@pytest.mark.parametrize("where", ["memo", "answer_body", "message"])
def test_a_python_error_inside_the_batch_is_a_500_and_stores_nothing(app, net, client, tokens, monkeypatch, where):
    """An exception of our own code while statements are sent and not read (building the memo
    from the receipt's answer, building the answer, queueing the message): the production 500
    JSON, nothing stored, the counter unchanged, no pipeline left; the next deposit gets the
    next number."""
    app.config["PROPAGATE_EXCEPTIONS"] = False
    member = net.members_a[0]
    _opt_in(net, member)
    first = _post(client, tokens["op_a"], member.member_no)
    assert first.status_code == 201
    before = _state()

    def boom(*args, **kwargs):
        raise RuntimeError("bug")
    if where == "memo":
        take = deposits_service.take_receipt_no

        def broken_take(unit, moment):
            number = take(unit, moment)
            calls: list = []

            def read():
                calls.append(1)
                if len(calls) == 1:
                    boom()
                return number()
            return read
        monkeypatch.setattr(deposits_service, "take_receipt_no", broken_take)
    elif where == "answer_body":
        monkeypatch.setattr(deposits_service, "deposit_body", boom)
    else:
        monkeypatch.setattr(deposits_service, "queue_for_deposit", boom)
    broken = _post(client, tokens["op_a"], member.member_no)
    assert broken.status_code == 500 and broken.get_json()["error"]["code"] == "server_error"
    assert not direct.sending_together(db.session.connection())
    db.session.rollback()
    assert _state() == before
    monkeypatch.undo()
    again = _post(client, tokens["op_a"], member.member_no)
    assert again.status_code == 201, again.get_data(as_text=True)
    assert _number(again.get_json()["receipt_no"]) == _number(first.get_json()["receipt_no"]) + 1
    _ok_ledger()


# --- 10. the day closed while a deposit holds its batch ---------------------------------------------


@postgres_only
def test_a_close_while_a_deposit_holds_its_batch_waits_for_it(app, net, monkeypatch, request):
    """A deposit held after its batch's first statements were sent (the books' answer not read);
    the manager closes the day meanwhile. The close waits for the deposit (its books lock), the
    deposit is recorded, the close counts it; a deposit after the close is refused."""
    from wastebank.models import DayClose

    member_no, unit_id, manager_id = net.members_a[0].member_no, net.unit_a.id, net.users["mgr_a"].id
    token = _token(net)
    held, go = threading.Event(), threading.Event()
    check = ledger._check_open_books

    def holding_check(*args):
        if not held.is_set():
            held.set()
            assert go.wait(30)
        return check(*args)
    monkeypatch.setattr(ledger, "_check_open_books", holding_check)
    live = request.getfixturevalue("quiet_live")
    answers, closed = [], []

    def tablet():
        answers.append(requests.post(f"{live.url}/api/v1/deposits", timeout=30,
                                     json={"member": member_no, "lines": LINES},
                                     headers={**bearer(token), "Idempotency-Key": _key()}))

    def manager():
        with app.app_context():
            _close_today(net, (unit_id, manager_id))
            closed.append(True)
            db.session.remove()

    deposit_thread = threading.Thread(target=tablet)
    deposit_thread.start()
    assert held.wait(30)
    close_thread = threading.Thread(target=manager)
    close_thread.start()
    close_thread.join(1.0)
    waited = close_thread.is_alive() and not closed
    go.set()
    assert waited, "the close did not wait for the deposit in flight"
    deposit_thread.join(30)
    close_thread.join(30)
    assert answers[0].status_code == 201, answers[0].text
    assert closed == [True]
    late = requests.post(f"{live.url}/api/v1/deposits", timeout=30, json={"member": member_no, "lines": LINES},
                         headers={**bearer(token), "Idempotency-Key": _key()})
    assert late.status_code == 409 and late.json()["error"]["code"] == "day_closed"
    posted = db.session.scalar(select(Deposit.posted_at).where(Deposit.receipt_no == answers[0].json()["receipt_no"]))
    closed_at = db.session.scalar(select(DayClose.closed_at).where(DayClose.unit_id == unit_id))
    db.session.rollback()
    assert posted < closed_at
    assert _state()["deposit"] == 1
    _ok_ledger()


def test_a_batch_that_succeeds_inside_a_savepoint_is_released_and_kept(app, net):
    """The fix's other side (b0562fc): a savepoint whose statements were sent together and all
    succeeded is released as usual, their answers readable afterwards, and committed."""
    unit = db.session.get(Unit, net.unit_a.id)
    before = _last_no(unit.id)
    unit = db.session.get(Unit, net.unit_a.id)
    with db.session.begin_nested():
        send_together()
        number = take_receipt_no(unit, datetime.now(UTC))
        run_core(_insert_stmt(), _row(unit.id, "spok-inside"))
    assert not direct.sending_together(session_connection())
    assert _number(number()) == before + 1
    db.session.commit()
    assert _keys("spok-") == {"spok-inside"} and _last_no(unit.id) == before + 1


@postgres_only
def test_a_failure_in_an_inner_savepoint_sent_together_leaves_the_outer_one_usable(app, net):
    from sqlalchemy.exc import IntegrityError

    unit_id = net.unit_a.id
    run_core(_insert_stmt(), _row(unit_id, "spn-dup"))
    with db.session.begin_nested():
        run_core(_insert_stmt(), _row(unit_id, "spn-outer"))
        with pytest.raises(IntegrityError), db.session.begin_nested():
            send_together()
            run_core(_insert_stmt(), _row(unit_id, "spn-inner"))
            run_core(_insert_stmt(), _row(unit_id, "spn-dup"))
        run_core(_insert_stmt(), _row(unit_id, "spn-outer-after"))
    db.session.commit()
    assert _keys("spn-") == {"spn-dup", "spn-outer", "spn-outer-after"}
