"""Attacks on the SQLite deposit that writes at a fresh snapshot (db_setup.fresh_snapshot_for_writes,
run_in_transaction(rechecks_under_lock=True); docs/rules.md §concurrency). Something commits in
another thread (its own app context, session and connection) between the deposit's reads and its
first write; what the deposit answers and what the ledger holds afterwards must be as if the
deposit had run after it. SQLite only: PostgreSQL takes row locks instead."""
from __future__ import annotations

import json
import re
import threading
import uuid

import pytest
from sqlalchemy import func, select

from tests.conftest import IS_POSTGRES, bearer
from tests.interleave import after_quote, in_thread
from wastebank.extensions import db
from wastebank.models import Account, Deposit, ReceiptCounter, Unit, User
from wastebank.services import deposits as deposits_service
from wastebank.services.ledger import verify_ledger

pytestmark = pytest.mark.skipif(IS_POSTGRES, reason="SQLite snapshots only")

_BODY = {"lines": [{"category": "PET-CLEAN", "quantity": "1,5"}, {"category": "CARDBOARD", "quantity": "2"}]}
_TOTAL = 4875 + 4000  # PET-CLEAN Rp 3.250/kg × 1,5 + CARDBOARD Rp 2.000/kg × 2 (RW05, fee 0)


def _deposit(client, token, member_no, key, body=None):
    return client.post("/api/v1/deposits", data=json.dumps({"member": member_no, **(body or _BODY)}),
                       content_type="application/json", headers={**bearer(token), "Idempotency-Key": key})


def _close_today(app, unit_id):
    from wastebank.services.cashbook import close_day, expected_cash
    from wastebank.timeutil import local_today

    def close():
        with app.app_context():
            unit = db.session.get(Unit, unit_id)
            manager = db.session.scalar(select(User).where(User.username == "mgr_a"))
            close_day(unit, local_today(), str(expected_cash(unit, local_today())), manager)
            db.session.commit()
            db.session.remove()
    return close


def _count(model, **where) -> int:
    query = select(func.count()).select_from(model)
    for name, value in where.items():
        query = query.where(getattr(model, name) == value)
    return db.session.scalar(query)


def _savings(member_id) -> int:
    return db.session.scalar(select(Account.balance).where(Account.key == f"savings:{member_id}")) or 0


def _ok_ledger(unit_id=None):
    report = verify_ledger(unit_id)
    assert report.ok, report.faults


def test_a_twin_then_a_close_between_the_reads_and_the_writes_is_answered_as_the_twin(app, net, client, tokens,
                                                                                      monkeypatch):
    """The same key twice at once (a tablet retrying), then the day closed, both committed after
    this request looked the key up and before it wrote. The key's deposit was recorded: this
    request must answer its receipt, not "the day is closed" (the tablet would show the member
    a refusal for savings that were credited, and the operator would record them again)."""
    member, unit_id, key = net.members_a[0], net.unit_a.id, str(uuid.uuid4())
    db.session.rollback()
    before = _savings(member.id)
    twin: list = []

    def send_twin():
        with app.test_client() as own:
            twin.append(_deposit(own, tokens["op_a"], member.member_no, key))

    after_quote(monkeypatch, send_twin, _close_today(app, unit_id))
    answer = _deposit(client, tokens["op_a"], member.member_no, key)
    assert twin[0].status_code == 201, twin[0].get_data(as_text=True)
    assert answer.status_code == 201, answer.get_data(as_text=True)
    assert answer.headers.get("Idempotent-Replayed") == "true"
    assert answer.get_json() == twin[0].get_json()
    db.session.rollback()
    assert _count(Deposit, unit_id=unit_id) == 1
    assert _savings(member.id) == before + _TOTAL
    _ok_ledger()


def test_a_twin_with_another_body_then_a_close_is_a_key_conflict(app, net, client, tokens, monkeypatch):
    """The same key with another request, committed after the key was looked up, then the day
    closed: 409 ``idempotency_key_reused`` (not ``day_closed``), only the twin's deposit."""
    member, unit_id, key = net.members_a[0], net.unit_a.id, str(uuid.uuid4())
    db.session.rollback()
    other = {"lines": [{"category": "CARDBOARD", "quantity": "3"}]}
    twin: list = []

    def send_twin():
        with app.test_client() as own:
            twin.append(_deposit(own, tokens["op_a"], member.member_no, key, other))

    after_quote(monkeypatch, send_twin, _close_today(app, unit_id))
    answer = _deposit(client, tokens["op_a"], member.member_no, key)
    assert twin[0].status_code == 201 and twin[0].get_json()["total_idr"] == 6000
    assert answer.status_code == 409, answer.get_data(as_text=True)
    assert answer.get_json()["error"]["code"] == "idempotency_key_reused"
    db.session.rollback()
    assert _count(Deposit, unit_id=unit_id) == 1
    assert _savings(member.id) == 6000
    _ok_ledger()


def test_counter_form_saved_twice_then_the_day_closed_shows_the_first_receipt(app, net, client, tokens, login,
                                                                             monkeypatch):
    """The counter's save pressed twice (two tabs, one form), the first save committed and the
    day closed while the second was between its reads and its writes: the second shows the
    first one's receipt, not "today is already closed, nothing was saved"."""
    from tests.conftest import RequestIsolatingClient, csrf_token

    member, unit_id = net.members_a[0], net.unit_a.id
    login("op_a")
    html = client.get(f"/counter/member/{member.member_no}/deposit").get_data(as_text=True)
    form = {"csrf_token": csrf_token(html), "action": "save", "lines-0-category": "PET-CLEAN",
            "lines-0-quantity": "1,5", "expected_credited": "4875",
            "idempotency_key": re.search(r'name="idempotency_key" type="hidden" value="([0-9a-f]+)"',
                                         html).group(1)}
    db.session.rollback()
    first: list = []

    def first_save():
        own = RequestIsolatingClient(app, app.response_class, use_cookies=True)
        own._cookies = client._cookies  # the same browser session (its login and CSRF token)
        first.append(own.post(f"/counter/member/{member.member_no}/deposit", data=form))

    after_quote(monkeypatch, first_save, _close_today(app, unit_id))
    second = client.post(f"/counter/member/{member.member_no}/deposit", data=form)
    assert first[0].status_code == 302, first[0].get_data(as_text=True)[:300]
    assert second.status_code == 302, second.get_data(as_text=True)[:2000]
    assert second.headers["Location"] == first[0].headers["Location"]
    db.session.rollback()
    stored = db.session.scalars(select(Deposit).where(Deposit.unit_id == unit_id)).all()
    assert [(d.receipt_no, d.total_idr) for d in stored] == [(first[0].headers["Location"].split("/")[-1]
                                                              .split("?")[0], 4875)]
    _ok_ledger()


def _last_month_evening():
    """23:00 local on the last day of the previous month, as an aware time (an offline capture
    of last month, less than 31 days old)."""
    from datetime import datetime, time, timedelta

    from wastebank.timeutil import local_today, local_zone

    first = local_today().replace(day=1)
    return datetime.combine(first - timedelta(days=1), time(23, 0), tzinfo=local_zone())


def test_a_month_locked_between_the_reads_and_the_writes_refuses_the_deposit(app, net, client, tokens,
                                                                             monkeypatch):
    """An offline capture of last month, synced while an admin locks last month: the lock
    committed after the deposit's reads is seen (409 ``month_locked``), nothing written, the
    receipt number given back."""
    from wastebank.services.month_close import lock_month

    member, unit_id = net.members_a[0], net.unit_a.id
    captured = _last_month_evening()
    db.session.rollback()

    def lock_last_month():
        with app.app_context():
            admin = db.session.scalar(select(User).where(User.username == "admin"))
            lock_month([db.session.get(Unit, unit_id)], captured.year, captured.month, admin)
            db.session.commit()
            db.session.remove()

    after_quote(monkeypatch, lock_last_month)
    answer = _deposit(client, tokens["op_a"], member.member_no, str(uuid.uuid4()),
                      {**_BODY, "recorded_at": captured.isoformat()})
    assert answer.status_code == 409, answer.get_data(as_text=True)
    assert answer.get_json()["error"]["code"] == "month_locked"
    db.session.rollback()
    assert _count(Deposit, unit_id=unit_id) == 0
    assert _count(ReceiptCounter, unit_id=unit_id) == 0
    assert _savings(member.id) == 0
    # A deposit of today still goes through, with the first receipt number of the year.
    made = _deposit(client, tokens["op_a"], member.member_no, str(uuid.uuid4()))
    assert made.status_code == 201 and made.get_json()["receipt_no"].endswith("-000001")
    _ok_ledger()


def test_a_day_reopened_between_the_reads_and_the_writes_takes_the_deposit(app, net, client, tokens, monkeypatch):
    """The day was closed when the deposit read; a manager reopened it before its first write:
    the closed day is read in the write batch, so the deposit is recorded (not refused stale)."""
    from wastebank.services.cashbook import reopen_day
    from wastebank.timeutil import local_today

    member, unit_id = net.members_a[0], net.unit_a.id
    db.session.rollback()
    in_thread(_close_today(app, unit_id))

    def reopen():
        with app.app_context():
            manager = db.session.scalar(select(User).where(User.username == "mgr_a"))
            reopen_day(db.session.get(Unit, unit_id), local_today(), "salah hitung", manager)
            db.session.commit()
            db.session.remove()

    after_quote(monkeypatch, reopen)
    answer = _deposit(client, tokens["op_a"], member.member_no, str(uuid.uuid4()))
    assert answer.status_code == 201, answer.get_data(as_text=True)
    assert (answer.get_json()["total_idr"], answer.get_json()["balance_idr"]) == (_TOTAL, _TOTAL)
    db.session.rollback()
    assert _count(Deposit, unit_id=unit_id) == 1
    _ok_ledger()


def test_first_deposits_of_a_new_member_at_once_open_one_account(app, net, client, tokens, monkeypatch):
    """A member without a savings account yet: another deposit for them (another key) opens the
    account and commits after this one found no account and before its insert-or-ignore. One
    account, both credited, this one's balance after counts the other."""
    from sqlalchemy import insert

    from wastebank.models import Member

    unit_id = net.unit_a.id
    new_id = db.session.execute(insert(Member).values(unit_id=unit_id, member_no="RW05-FRESH",
                                                      name="Anggota Baru").returning(Member.id)).scalar_one()
    db.session.commit()
    other: list = []

    def send_other():
        with app.test_client() as own:
            other.append(_deposit(own, tokens["op_a"], "RW05-FRESH", str(uuid.uuid4()),
                                  {"lines": [{"category": "CARDBOARD", "quantity": "1"}]}))

    after_quote(monkeypatch, send_other)
    answer = _deposit(client, tokens["op_a"], "rw05-fresh", str(uuid.uuid4()))
    assert other[0].status_code == 201 and other[0].get_json()["balance_idr"] == 2000
    assert answer.status_code == 201, answer.get_data(as_text=True)
    assert answer.get_json()["balance_idr"] == 2000 + _TOTAL
    db.session.rollback()
    rows = db.session.execute(select(Account.balance, Account.held).where(
        Account.unit_id == unit_id, Account.key == f"savings:{new_id}")).all()
    assert [tuple(r) for r in rows] == [(2000 + _TOTAL, 0)]
    _ok_ledger()


def test_a_withdrawal_and_a_void_between_the_reads_and_the_writes_are_in_the_balance(app, net, client, tokens,
                                                                                     monkeypatch):
    """The member's earlier deposit voided and a withdrawal paid from their savings, both
    committed between this deposit's reads and its writes: the balance after it answers counts
    both, and the savings equal their postings."""
    member, unit_id = net.members_a[0], net.unit_a.id
    db.session.rollback()
    seed = [_deposit(client, tokens["op_a"], member.member_no, str(uuid.uuid4()),
                     {"lines": [{"category": "CARDBOARD", "quantity": q}]}) for q in ("10", "2")]
    assert [s.get_json()["balance_idr"] for s in seed] == [20_000, 24_000]

    def withdraw():
        with app.test_client() as own:
            paid = own.post("/api/v1/withdrawals", headers={**bearer(tokens["op_a"]),
                                                             "Idempotency-Key": str(uuid.uuid4())},
                            json={"member": member.member_no, "amount_idr": 15_000, "method": "cash"})
            assert paid.status_code == 201, paid.get_data(as_text=True)

    def void_second():
        with app.test_client() as own:
            voided = own.post(f"/api/v1/deposits/{seed[1].get_json()['id']}/void",
                              headers={**bearer(tokens["mgr_a"]), "Idempotency-Key": str(uuid.uuid4())},
                              json={"reason": "salah timbang"})
            assert voided.status_code == 200, voided.get_data(as_text=True)

    after_quote(monkeypatch, withdraw, void_second)
    answer = _deposit(client, tokens["op_a"], member.member_no, str(uuid.uuid4()))
    assert answer.status_code == 201, answer.get_data(as_text=True)
    assert answer.get_json()["balance_idr"] == 24_000 - 15_000 - 4_000 + _TOTAL
    assert answer.get_json()["receipt_no"].endswith("-000004")  # 2 deposits and the withdrawal before
    db.session.rollback()
    assert _savings(member.id) == 5_000 + _TOTAL
    stored = db.session.scalars(select(Deposit).where(Deposit.unit_id == unit_id).order_by(Deposit.id)).all()
    assert [d.balance_after_idr for d in stored] == [20_000, 24_000, 5_000 + _TOTAL]
    _ok_ledger()


def test_a_deposit_committed_between_takes_the_previous_entry_id_and_receipt(app, net, client, tokens,
                                                                            monkeypatch):
    """Another member's deposit commits between this one's reads and writes: the entry id
    (max + 1 on SQLite) and the receipt number are taken in the write batch, so they follow it."""
    from wastebank.models import JournalEntry

    members = net.members_a
    other_no = members[1].member_no
    db.session.rollback()
    other: list = []

    def send_other():
        with app.test_client() as own:
            other.append(_deposit(own, tokens["op_a"], other_no, str(uuid.uuid4())))

    after_quote(monkeypatch, send_other)
    answer = _deposit(client, tokens["op_a"], members[0].member_no, str(uuid.uuid4()))
    assert other[0].status_code == 201 and answer.status_code == 201, answer.get_data(as_text=True)
    assert [other[0].get_json()["receipt_no"][-6:], answer.get_json()["receipt_no"][-6:]] == ["000001", "000002"]
    db.session.rollback()
    entries = db.session.scalars(select(Deposit.entry_id).order_by(Deposit.id)).all()
    assert len(set(entries)) == 2 and entries[1] == entries[0] + 1
    assert entries[1] == db.session.scalar(select(func.max(JournalEntry.id)))
    assert [_savings(members[1].id), _savings(members[0].id)] == [_TOTAL, _TOTAL]
    _ok_ledger()


def _at_once(app, sends):
    """Run every ``send(client)`` of ``sends`` in its own thread with its own test client, all
    released together; returns their answers in the order of ``sends``."""
    barrier = threading.Barrier(len(sends), timeout=30)
    answers: list = [None] * len(sends)
    errors: list[BaseException] = []

    def run(i, send):
        try:
            with app.test_client() as own:
                barrier.wait()
                answers[i] = send(own)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i, send)) for i, send in enumerate(sends)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert errors == [] and None not in answers, errors
    return answers


def test_one_key_from_five_tablets_at_once_is_one_deposit_and_five_equal_answers(app, net, tokens):
    member, unit_id, key = net.members_a[0], net.unit_a.id, str(uuid.uuid4())
    member_no = member.member_no
    db.session.rollback()
    answers = _at_once(app, [lambda own: _deposit(own, tokens["op_a"], member_no, key)] * 5)
    assert [a.status_code for a in answers] == [201] * 5, [a.get_data(as_text=True) for a in answers]
    assert sorted(a.headers.get("Idempotent-Replayed", "") for a in answers) == ["", "true", "true", "true", "true"]
    bodies = {json.dumps(a.get_json(), sort_keys=True) for a in answers}
    assert len(bodies) == 1
    body = answers[0].get_json()
    assert (body["total_idr"], body["balance_idr"], body["receipt_no"][-6:]) == (_TOTAL, _TOTAL, "000001")
    db.session.rollback()
    assert _count(Deposit, unit_id=unit_id) == 1
    assert _savings(member.id) == _TOTAL
    _ok_ledger()


def test_one_key_with_two_bodies_at_once_records_one_and_refuses_the_other(app, net, tokens):
    member, unit_id, key = net.members_a[0], net.unit_a.id, str(uuid.uuid4())
    member_no = member.member_no
    db.session.rollback()
    small = {"lines": [{"category": "CARDBOARD", "quantity": "1"}]}
    sends = [lambda own: _deposit(own, tokens["op_a"], member_no, key)] * 3 + \
        [lambda own: _deposit(own, tokens["op_a"], member_no, key, small)] * 2
    answers = _at_once(app, sends)
    db.session.rollback()
    stored = db.session.scalars(select(Deposit).where(Deposit.unit_id == unit_id)).all()
    assert len(stored) == 1
    won = [0, 1, 2] if stored[0].total_idr == _TOTAL else [3, 4]
    assert stored[0].total_idr == (_TOTAL if won == [0, 1, 2] else 2000)
    for i, answer in enumerate(answers):
        if i in won:
            assert answer.status_code == 201 and answer.get_json()["receipt_no"] == stored[0].receipt_no
        else:
            assert answer.status_code == 409, answer.get_data(as_text=True)
            assert answer.get_json()["error"]["code"] == "idempotency_key_reused"
    assert _savings(member.id) == stored[0].total_idr
    _ok_ledger()


def test_a_token_due_for_its_sliding_expiry_used_by_five_requests_at_once(app, net, tokens):
    """Five deposits at once with a token last used two hours ago: each request's loader slides
    the expiry (a guarded UPDATE at a fresh snapshot) before the deposit. All five recorded,
    the token slid once (its expiry 30 days after its last use), five receipts."""
    from datetime import timedelta

    from sqlalchemy import update

    from wastebank.auth.tokens import _digest
    from wastebank.models import ApiToken, utcnow

    member_no = net.members_a[0].member_no
    token = tokens["op_a"]
    started = utcnow()
    db.session.execute(update(ApiToken).where(ApiToken.token_hash == _digest(token)).values(
        last_used_at=started - timedelta(hours=2), expires_at=started + timedelta(days=1)))
    db.session.commit()
    answers = _at_once(app, [lambda own: _deposit(own, token, member_no, str(uuid.uuid4()))] * 5)
    assert [a.status_code for a in answers] == [201] * 5, [a.get_data(as_text=True) for a in answers]
    assert sorted(a.get_json()["receipt_no"][-6:] for a in answers) == [f"{n:06d}" for n in range(1, 6)]
    assert sorted(a.get_json()["balance_idr"] for a in answers) == [n * _TOTAL for n in range(1, 6)]
    db.session.rollback()
    row = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(token)))
    assert row.last_used_at >= started.replace(tzinfo=row.last_used_at.tzinfo)
    assert row.expires_at - row.last_used_at == timedelta(days=30)
    _ok_ledger()


def _writer_lock_free() -> bool:
    """No connection of this process holds a writer lock (every in-process half is free)."""
    from wastebank import db_setup

    return not any(lock.locked() for lock in db_setup._process_locks.values())


def test_a_first_write_that_fails_releases_the_lock_and_the_next_deposit_goes_through(app, net, client, tokens,
                                                                                    monkeypatch):
    """The deposit's first write (here, in place of the receipt counter's upsert) fails at the
    database after the lock was taken and the read transaction ended: rolled back, the lock
    released, the connection reused; another worker's deposit does not wait for it."""
    from sqlalchemy import text

    from wastebank.services.transaction import run_core

    member_no, unit_id = net.members_a[0].member_no, net.unit_a.id
    db.session.rollback()

    def broken_counter(unit, moment):
        run_core(text("INSERT INTO no_such_table (x) VALUES (1)"))

    monkeypatch.setattr(deposits_service, "take_receipt_no", broken_counter)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    failed = _deposit(client, tokens["op_a"], member_no, str(uuid.uuid4()))
    assert failed.status_code == 500
    assert _writer_lock_free()
    monkeypatch.undo()
    answers = _at_once(app, [lambda own: _deposit(own, tokens["op_a"], member_no, str(uuid.uuid4()))])
    assert answers[0].status_code == 201 and answers[0].get_json()["receipt_no"].endswith("-000001")
    again = _deposit(client, tokens["op_a"], member_no, str(uuid.uuid4()))  # the first one's connection
    assert again.status_code == 201 and again.get_json()["balance_idr"] == 2 * _TOTAL
    assert _writer_lock_free()
    db.session.rollback()
    assert _count(Deposit, unit_id=unit_id) == 2
    _ok_ledger()


def test_begin_immediate_refused_by_an_outside_writer_leaves_no_lock_and_no_half_write(app, net, client, tokens,
                                                                                     monkeypatch):
    """A process that does not take the writer lock (the sqlite3 shell) holds the database's
    write lock: the deposit's COMMIT of its reads succeeds, its BEGIN IMMEDIATE times out.
    The deposit is refused (retried, then 500 "nothing was saved"), nothing is written, the lock is free, and
    once the outsider is gone the next deposit on the same connections is recorded."""
    import sqlite3

    from wastebank import db_setup

    member_no, unit_id = net.members_a[0].member_no, net.unit_a.id
    path = db.engine.url.database
    db.session.remove()
    monkeypatch.setattr(db_setup, "SQLITE_BUSY_TIMEOUT_MS", 150)
    db.engine.dispose()  # new connections take the short busy timeout
    app.config["PROPAGATE_EXCEPTIONS"] = False
    outsider = sqlite3.connect(path, isolation_level=None)
    try:
        outsider.execute("BEGIN IMMEDIATE")
        refused = _deposit(client, tokens["op_a"], member_no, str(uuid.uuid4()))
        assert refused.status_code == 500, refused.get_data(as_text=True)
        assert _writer_lock_free()
    finally:
        outsider.rollback()
        outsider.close()
    made = _deposit(client, tokens["op_a"], member_no, str(uuid.uuid4()))
    assert made.status_code == 201, made.get_data(as_text=True)
    assert (made.get_json()["receipt_no"][-6:], made.get_json()["balance_idr"]) == ("000001", _TOTAL)
    db.session.rollback()
    assert _count(Deposit, unit_id=unit_id) == 1
    assert _writer_lock_free()
    _ok_ledger()




def test_a_connection_returned_to_the_pool_after_its_fresh_write_writes_nothing_and_frees_the_lock(lock_engine):
    from sqlalchemy import text

    from wastebank import db_setup

    with db_setup.fresh_snapshot_for_writes():
        conn = lock_engine.connect()
        conn.begin()
        assert conn.execute(text("SELECT x FROM t")).scalar() == 0
        conn.execute(text("UPDATE t SET x = 7 WHERE id = 1"))
        lock = conn.connection.info[db_setup._KEY]
        assert lock.held and lock.thread_lock.locked()
        conn.close()  # back to the pool mid-transaction: reset (rolled back)
        assert not lock.held and not lock.thread_lock.locked()
    done: list[int] = []

    def other_writer():
        with lock_engine.begin() as other:
            other.execute(text("UPDATE t SET x = x + 1 WHERE id = 1"))
            done.append(1)

    in_thread(other_writer)
    assert done == [1]
    with lock_engine.connect() as check:
        assert check.execute(text("SELECT x FROM t")).scalar() == 1


def test_a_savepoint_of_an_earlier_read_only_transaction_does_not_stop_the_next_from_writing_fresh(lock_engine):
    """The savepoint mark is per transaction: a read-only transaction that opened (and
    released) a savepoint, then committed, leaves the connection's next transaction free to
    write at a fresh snapshot (its write is not refused stale)."""
    from sqlalchemy import text

    from wastebank import db_setup

    with lock_engine.connect() as conn, lock_engine.connect() as other, db_setup.fresh_snapshot_for_writes():
        conn.begin()
        conn.exec_driver_sql("SAVEPOINT s1")
        conn.execute(text("SELECT x FROM t")).scalar()
        conn.exec_driver_sql("RELEASE SAVEPOINT s1")
        conn.commit()
        conn.begin()
        assert conn.execute(text("SELECT x FROM t")).scalar() == 0
        with other.begin():
            other.execute(text("UPDATE t SET x = 5 WHERE id = 1"))
        conn.execute(text("UPDATE t SET x = x * 10 WHERE id = 1"))  # at the newest snapshot
        conn.commit()
        assert other.execute(text("SELECT x FROM t")).scalar() == 50
