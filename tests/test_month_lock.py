"""Month lock, tutup buku (issue 12 item 6; docs/month-lock.md).

November 2025 is locked for aggregator JKT on 2 December: nothing dated (``recorded_at``) or
posted into November is accepted any more — refused with 409 ``month_locked`` and the month
named, writing nothing — while December works; a void of a November deposit posts in
December naming the original; only an admin with a reason unlocks, audited; ``ledger verify``
flags a posting written around ``post_journal`` into a locked month after its lock.
"""
from __future__ import annotations

import json
import uuid
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, insert, select, text

from wastebank.auth.tokens import create_token
from wastebank.extensions import db
from wastebank.models import (Account, AuditLog, Deposit, IdempotencyRecord, JournalEntry, MonthLock, Posting,
                              Sale, User, Withdrawal, clock_at)
from wastebank.services.audit import ACTION_LABELS
from wastebank.services.deposits import LineInput, record_deposit
from wastebank.services.errors import Conflict, Forbidden, MonthLocked, ValidationFailed
from wastebank.services.ledger import Leg, post_journal, system_account, verify_ledger
from wastebank.services.month_close import lock_month, may_lock, units_of, unlock_month
from wastebank.services.month_lock import active_lock, month_label
from wastebank.services.org import create_unit, create_user
from wastebank.services.sales import SaleLineInput, create_offtaker, record_sale
from wastebank.services.stock import adjust_stock
from wastebank.services.transaction import run_in_transaction
from wastebank.services.withdrawals import WithdrawalInput, record_withdrawal, void_deposit

from .factories import PASSWORD

WIB = ZoneInfo("Asia/Jakarta")
NOV = datetime(2025, 11, 20, 10, 0, tzinfo=WIB)
DEC = datetime(2025, 12, 2, 9, 0, tzinfo=WIB)
LOCKED_TEXT = "Bulan November 2025 sudah ditutup buku"


def _user(net, name) -> User:
    return db.session.get(User, net.users[name].id)


def _counts() -> tuple:
    counts = tuple(db.session.scalar(select(func.count(m.id)))
                   for m in (Deposit, Withdrawal, Sale, JournalEntry, Posting, IdempotencyRecord, AuditLog))
    db.session.rollback()
    return counts


def _deposit(net, member, qty, key, recorded_at=None):
    """CARDBOARD is Rp 2.000/kg at RW05 (no fee)."""
    return run_in_transaction(lambda: record_deposit(net.unit_a, member, [LineInput("CARDBOARD", qty)],
                                                     operator_id=net.users["op_a"].id, idempotency_key=key,
                                                     recorded_at=recorded_at))


def _lock_november(net):
    jkt = net.unit_a.aggregator
    return run_in_transaction(lambda: lock_month(units_of(jkt), 2025, 11, _user(net, "agg")))


@pytest.fixture
def november(net):
    """A Rp 10.000 November deposit at RW05, November locked on 2 December by the aggregator."""
    with clock_at(NOV):
        first = _deposit(net, net.members_a[0], "5", "nov-deposit-1")
    with clock_at(DEC):
        locks = _lock_november(net)
    return first, locks


def test_month_label_is_indonesian(app):
    assert month_label(date(2026, 11, 1)) == "November 2026"
    assert month_label(date(2026, 2, 1), "en") == "February 2026"


def test_aggregator_locks_all_its_units_once_audited(net, november):
    _first, locks = november
    assert sorted(lock.unit_id for lock in locks) == sorted([net.unit_a.id, net.unit_b.id])
    for lock in locks:
        assert lock.month == date(2025, 11, 1)
        assert lock.locked_at == DEC.astimezone(timezone.utc) and lock.locked_by_id == net.users["agg"].id
    rows = db.session.scalars(select(AuditLog).where(AuditLog.action == "month.lock").order_by(AuditLog.unit_id))
    assert [(r.unit_id, json.loads(r.details)["month"]) for r in rows] == [
        (net.unit_a.id, "2025-11"), (net.unit_b.id, "2025-11")]
    assert "month.lock" in ACTION_LABELS and "month.unlock" in ACTION_LABELS
    # Locking again changes nothing.
    with clock_at(DEC):
        assert _lock_november(net) == []
    assert db.session.scalar(select(func.count(MonthLock.id))) == 2


def test_a_month_not_over_cannot_be_locked(net):
    with clock_at(datetime(2025, 11, 30, 23, 0, tzinfo=WIB)), pytest.raises(Conflict) as refused:
        _lock_november(net)
    assert refused.value.code == "month_not_over" and "November 2025" in str(refused.value.message)
    assert db.session.scalar(select(func.count(MonthLock.id))) == 0


def test_who_may_lock(net):
    jkt = net.unit_a.aggregator
    alone = create_unit("RT01", "Bank Sampah Mandiri RT 01")
    mgr_alone = create_user("mgr_alone", "unit_manager", PASSWORD, unit=alone)
    db.session.commit()
    assert may_lock(_user(net, "agg"), aggregator=jkt)
    assert may_lock(_user(net, "admin"), aggregator=jkt) and may_lock(_user(net, "admin"), unit=alone)
    assert not may_lock(_user(net, "mgr_a"), unit=net.unit_a)  # RW05 belongs to JKT: its staff lock it
    assert not may_lock(_user(net, "op_a"), unit=net.unit_a)
    assert not may_lock(_user(net, "agg"), unit=alone)
    assert may_lock(mgr_alone, unit=alone) and not may_lock(mgr_alone, unit=net.unit_a)


def test_offline_deposit_from_a_locked_month_is_refused_and_writes_nothing(net, november):
    before = _counts()
    with clock_at(DEC), pytest.raises(MonthLocked) as refused:
        _deposit(net, net.members_a[1], "2", "nov-late-capture-1",
                 recorded_at=datetime(2025, 11, 30, 20, 0, tzinfo=WIB))
    assert refused.value.status == 409 and refused.value.code == "month_locked"
    assert LOCKED_TEXT in str(refused.value.message)
    assert _counts() == before
    # The open month works: the same capture dated today goes through (another key).
    with clock_at(DEC):
        ok = _deposit(net, net.members_a[1], "2", "dec-capture-1")
    assert ok.status == 201 and ok.body["credited_idr"] == 4000
    assert verify_ledger().ok, verify_ledger().faults


def test_api_answers_409_month_locked_and_the_key_stays_free(net, november, client):
    with clock_at(DEC):
        token = create_token(_user(net, "op_a"), "tablet")
        db.session.commit()
        before = _counts()
        key = str(uuid.uuid4())
        body = {"member": net.members_a[1].member_no, "lines": [{"category": "CARDBOARD", "quantity": "1,5"}],
                "recorded_at": "2025-11-30T21:15:00+07:00"}
        answer = client.post("/api/v1/deposits", data=json.dumps(body), content_type="application/json",
                             headers={"Authorization": f"Bearer {token}", "Idempotency-Key": key})
        assert answer.status_code == 409, answer.get_data(as_text=True)
        error = answer.get_json()["error"]
        assert error["code"] == "month_locked" and LOCKED_TEXT in error["message"]
        assert _counts()[:-1] == before[:-1]
    # After an admin unlocks November the same key goes through (nothing was remembered).
    with clock_at(datetime(2025, 12, 3, 9, 0, tzinfo=WIB)):
        run_in_transaction(lambda: unlock_month(units_of(net.unit_a.aggregator), 2025, 11, _user(net, "admin"),
                                                "Setoran offline RW05 tertinggal"))
        again = client.post("/api/v1/deposits", data=json.dumps(body), content_type="application/json",
                            headers={"Authorization": f"Bearer {token}", "Idempotency-Key": key})
        assert again.status_code == 201 and again.get_json()["credited_idr"] == 3000


def _lock_today(net):
    """A lock on the current month (December), written directly: the service locks only a month
    that is over, but the rule must hold for whatever is locked."""
    for unit in (net.unit_a, net.unit_b):
        db.session.add(MonthLock(unit_id=unit.id, month=date(2025, 12, 1), locked_at=DEC.astimezone(timezone.utc)))
    db.session.commit()


def test_withdrawal_sale_and_stock_adjustment_into_a_locked_month_are_refused(net):
    m0 = net.members_a[0]
    with clock_at(datetime(2025, 12, 1, 9, 0, tzinfo=WIB)):
        _deposit(net, m0, "10", "dec-stock-1")  # Rp 20.000 savings, 10 kg CARDBOARD in stock
        buyer = run_in_transaction(lambda: create_offtaker(net.unit_a, "CV Daur Ulang Jaya", user=_user(net, "mgr_a")))
    with clock_at(DEC):
        _lock_today(net)
        before = _counts()
        balances = {a.key: (a.balance, a.quantity_milli)
                    for a in db.session.scalars(select(Account).where(Account.unit_id == net.unit_a.id))}
        attempts = [
            lambda: record_withdrawal(net.unit_a, m0, WithdrawalInput("cash", "5.000"), user=_user(net, "op_a"),
                                      idempotency_key="dec-withdraw-1"),
            lambda: record_sale(net.unit_a, buyer, [SaleLineInput("CARDBOARD", "4", "", "2600")], "cash",
                                user=_user(net, "mgr_a"), idempotency_key="dec-sale-1"),
            lambda: adjust_stock(net.unit_a, net.categories["CARDBOARD"], -500, "basah, dibuang",
                                 _user(net, "mgr_a"), idempotency_key="dec-adjust-1"),
        ]
        for attempt in attempts:
            with pytest.raises(MonthLocked) as refused:
                run_in_transaction(attempt)
            assert "Bulan Desember 2025 sudah ditutup buku" in str(refused.value.message)
        assert _counts() == before
        assert {a.key: (a.balance, a.quantity_milli)
                for a in db.session.scalars(select(Account).where(Account.unit_id == net.unit_a.id))} == balances
        db.session.rollback()


def test_post_journal_checks_recorded_at(net, november):
    cash, fees = system_account(net.unit_a.id, "cash"), system_account(net.unit_a.id, "fee_income")
    with clock_at(DEC):
        with pytest.raises(MonthLocked):
            post_journal(net.unit_a.id, "test", [Leg(cash, 100), Leg(fees, -100)], created_by_id=None,
                         recorded_at=datetime(2025, 11, 15, 12, 0, tzinfo=WIB))
        db.session.rollback()
        entry = post_journal(net.unit_a.id, "test", [Leg(cash, 100), Leg(fees, -100)], created_by_id=None,
                             recorded_at=datetime(2025, 12, 1, 0, 0, tzinfo=WIB))
        assert entry.id is not None
        db.session.rollback()


def test_void_of_a_locked_month_deposit_lands_in_the_open_month(net, november):
    first, _locks = november
    deposit = db.session.scalar(select(Deposit).where(Deposit.receipt_no == first.body["receipt_no"]))
    with clock_at(DEC):
        voided = run_in_transaction(lambda: void_deposit(deposit, user=_user(net, "mgr_a"), reason="salah timbang",
                                                         idempotency_key="void-nov-1"))
    assert voided.status == 200, voided.body
    reversal = db.session.get(JournalEntry, voided.body["void_entry_id"])
    assert reversal.reverses_id == deposit.entry_id
    assert reversal.posted_at == reversal.recorded_at == DEC.astimezone(timezone.utc)  # December, open
    assert voided.body["balance_idr"] == 0
    assert active_lock(net.unit_a.id, date(2025, 11, 1)) is not None
    # The passbook line of the void (December) names the locked month it corrects.
    from wastebank.reports.members import member_movements, member_statement
    from wastebank.timeutil import local_month_bounds

    receipt = first.body["receipt_no"]
    december = member_statement(net.members_a[0], *local_month_bounds(2025, 12))
    assert [(m.description, m.amount_idr) for m in december.movements] == [
        (f"Pembatalan setoran — koreksi atas {receipt} (November 2025, tutup buku)", -10000)]
    november = member_statement(net.members_a[0], *local_month_bounds(2025, 11))
    assert [(m.description, m.amount_idr) for m in november.movements] == [("Setoran", 10000)]
    assert member_movements(net.members_a[0])[0].description.endswith("(November 2025, tutup buku)")
    assert verify_ledger().ok, verify_ledger().faults


def test_unlock_needs_an_admin_and_a_reason_and_is_audited(net, november):
    units = units_of(net.unit_a.aggregator)
    with clock_at(datetime(2025, 12, 3, 9, 0, tzinfo=WIB)):
        for name in ("agg", "mgr_a", "op_a"):
            with pytest.raises(Forbidden) as refused:
                run_in_transaction(lambda: unlock_month(units, 2025, 11, _user(net, name), "alasan"))
            assert refused.value.status == 403
        with pytest.raises(ValidationFailed) as refused:
            run_in_transaction(lambda: unlock_month(units, 2025, 11, _user(net, "admin"), "   "))
        assert refused.value.field == "reason"
        assert active_lock(net.unit_a.id, date(2025, 11, 1)) is not None
        unlocked = run_in_transaction(lambda: unlock_month(units, 2025, 11, _user(net, "admin"),
                                                           "Koreksi  setoran RW05"))
    assert len(unlocked) == 2
    assert all(lock.unlock_reason == "Koreksi setoran RW05" and lock.unlocked_by_id == net.users["admin"].id
               for lock in unlocked)
    rows = db.session.scalars(select(AuditLog).where(AuditLog.action == "month.unlock")).all()
    assert len(rows) == 2 and all(json.loads(r.details)["reason"] == "Koreksi setoran RW05" for r in rows)
    assert active_lock(net.unit_a.id, date(2025, 11, 1)) is None
    with clock_at(datetime(2025, 12, 3, 10, 0, tzinfo=WIB)):
        late = _deposit(net, net.members_a[1], "1", "nov-late-2", recorded_at=datetime(2025, 11, 29, 9, 0, tzinfo=WIB))
        assert late.status == 201
        with pytest.raises(Conflict) as refused:  # nothing left to unlock
            run_in_transaction(lambda: unlock_month(units, 2025, 11, _user(net, "admin"), "lagi"))
        assert refused.value.code == "not_locked"
        # Locked again: a second lock period; the history stays.
        assert len(_lock_november(net)) == 2
    assert db.session.scalar(select(func.count(MonthLock.id))) == 4
    assert verify_ledger().ok, verify_ledger().faults


def test_verify_flags_a_posting_inserted_into_a_locked_month_after_the_lock(net, november):
    assert verify_ledger().ok
    cash, fees = system_account(net.unit_a.id, "cash"), system_account(net.unit_a.id, "fee_income")
    # Written around post_journal, as a faulty script would: an entry dated 28 November, posted
    # on 3 December (after the lock of 2 December).
    entry_id = 9001
    posted = datetime(2025, 12, 3, 1, 0, tzinfo=timezone.utc)
    db.session.execute(insert(Posting), [
        dict(entry_id=entry_id, unit_id=net.unit_a.id, account_id=cash.id, amount=500, quantity_milli=None),
        dict(entry_id=entry_id, unit_id=net.unit_a.id, account_id=fees.id, amount=-500, quantity_milli=None)])
    db.session.execute(insert(JournalEntry).values(
        id=entry_id, unit_id=net.unit_a.id, kind="test", memo="langsung", posted_at=posted,
        recorded_at=datetime(2025, 11, 28, 9, 0, tzinfo=WIB), created_by_id=None, reason=""))
    db.session.execute(text("UPDATE account SET balance = balance + 500 WHERE id IN (:a, :b)"),
                       {"a": cash.id, "b": fees.id})
    db.session.commit()
    report = verify_ledger()
    faults = [f for f in report.faults if "locked month" in f]
    assert len(faults) == 1 and f"entry {entry_id}" in faults[0] and "2025-11" in faults[0], report.faults
    assert verify_ledger(net.unit_b.id).ok


def test_cli_lock_unlock_and_verify(net, app):
    run = app.test_cli_runner().invoke
    with clock_at(DEC):
        result = run(args=["ledger", "lock", "2025-11", "--aggregator", "jkt"])
        assert result.exit_code == 0, result.output
        assert "RW05 2025-11: locked" in result.output and "November 2025: 2 unit(s) locked" in result.output
        again = run(args=["ledger", "lock", "2025-11", "--unit", "RW05"])
        assert again.exit_code == 0 and "RW05 2025-11: already locked" in again.output
        early = run(args=["ledger", "lock", "2025-12", "--unit", "RW05"])
        assert early.exit_code == 1 and "Desember 2025 belum berakhir" in early.output
        both = run(args=["ledger", "lock", "2025-11", "--unit", "RW05", "--aggregator", "JKT"])
        assert both.exit_code == 1 and "exactly one" in both.output
        assert run(args=["ledger", "unlock", "2025-11", "--unit", "RW05"]).exit_code == 2  # --reason required
        blank = run(args=["ledger", "unlock", "2025-11", "--unit", "RW05", "--reason", " "])
        assert blank.exit_code == 1 and "alasan" in blank.output
        opened = run(args=["ledger", "unlock", "2025-11", "--unit", "RW05", "--reason", "koreksi timbangan"])
        assert opened.exit_code == 0 and "RW05 2025-11: unlocked" in opened.output
        verify = run(args=["ledger", "verify"])
        assert verify.exit_code == 0 and "OK" in verify.output
    assert active_lock(net.unit_a.id, date(2025, 11, 1)) is None
    assert active_lock(net.unit_b.id, date(2025, 11, 1)) is not None
    rows = db.session.scalars(select(AuditLog).where(AuditLog.action.like("month.%")).order_by(AuditLog.id)).all()
    assert [(r.action, r.user_id, r.device) for r in rows] == [
        ("month.lock", None, "cli"), ("month.lock", None, "cli"), ("month.unlock", None, "cli")]


# --- screens ------------------------------------------------------------------------------------


def _form_token(client, url):
    """The CSRF token of the page (every page carries it in ``<meta name="csrf-token">``)."""
    import re

    return re.search(r'<meta name="csrf-token" content="([^"]+)"', client.get(url).get_data(as_text=True)).group(1)


def test_statement_screen_locks_the_month_and_admin_unlocks_with_a_reason(net, client, login):
    with clock_at(DEC):
        login("agg")
        page = client.get("/statements?aggregator=JKT&month=2025-11").get_data(as_text=True)
        assert "Tutup buku · November 2025" in page and "November 2025 masih terbuka" in page
        assert "Tutup buku November 2025" in page and "Ya, tutup buku" in page
        assert "Alasan membuka kembali" not in page  # staff cannot unlock
        token = _form_token(client, "/statements?aggregator=JKT&month=2025-11")
        done = client.post("/month-lock/lock", data={"csrf_token": token, "aggregator": "JKT", "month": "2025-11"},
                           follow_redirects=True).get_data(as_text=True)
        assert "Tutup buku November 2025 selesai untuk 2 unit." in done
        assert "November 2025 sudah ditutup buku: tidak ada lagi" in done and "Ya, tutup buku" not in done
        assert "Ditutup</strong> pada 02-12-2025 09.00 WIB oleh" in done
        # This month is not over: no button, and a forged POST is refused with the message.
        dec = client.get("/statements?aggregator=JKT&month=2025-12").get_data(as_text=True)
        assert "Desember 2025 belum berakhir" in dec and "Ya, tutup buku" not in dec
        early = client.post("/month-lock/lock", data={"csrf_token": token, "aggregator": "JKT", "month": "2025-12"},
                            follow_redirects=True).get_data(as_text=True)
        assert "Desember 2025 belum berakhir: tutup buku dilakukan" in early
        assert client.post("/month-lock/lock", data={"csrf_token": token, "aggregator": "XYZ",
                                                     "month": "2025-11"}).status_code == 404
        assert client.post("/month-lock/unlock", data={"csrf_token": token, "aggregator": "JKT", "month": "2025-11",
                                                       "reason": "salah"}).status_code == 403
        client.post("/logout", data={"csrf_token": token})

        login("mgr_a")  # RW05 belongs to JKT: its manager neither locks nor unlocks
        token = _form_token(client, "/month-lock")
        assert client.post("/month-lock/lock", data={"csrf_token": token, "unit": "RW05",
                                                     "month": "2025-11"}).status_code == 403
        assert client.post("/month-lock/unlock", data={"csrf_token": token, "unit": "RW05", "month": "2025-11",
                                                       "reason": "salah"}).status_code == 403
        assert "Tutup buku" not in client.get("/manager/").get_data(as_text=True)
        client.post("/logout", data={"csrf_token": token})

        login("admin")
        page = client.get("/statements?aggregator=JKT&month=2025-11").get_data(as_text=True)
        assert "Alasan membuka kembali November 2025" in page
        token = _form_token(client, "/statements?aggregator=JKT&month=2025-11")
        blank = client.post("/month-lock/unlock", data={"csrf_token": token, "aggregator": "JKT", "month": "2025-11",
                                                        "reason": "  "}, follow_redirects=True).get_data(as_text=True)
        assert "Tuliskan alasan membuka kembali bulan ini." in blank
        assert active_lock(net.unit_a.id, date(2025, 11, 1)) is not None
        db.session.rollback()
        opened = client.post("/month-lock/unlock", data={"csrf_token": token, "aggregator": "JKT", "month": "2025-11",
                                                         "reason": "Setoran RW07 tertinggal"},
                             follow_redirects=True).get_data(as_text=True)
        assert "November 2025 dibuka kembali untuk 2 unit." in opened
    assert active_lock(net.unit_a.id, date(2025, 11, 1)) is None
    rows = db.session.scalars(select(AuditLog).where(AuditLog.action == "month.unlock")).all()
    assert {r.user_id for r in rows} == {net.users["admin"].id} and len(rows) == 2


def test_standalone_unit_manager_locks_on_their_screen(net, client, login):
    alone = create_unit("RT01", "Bank Sampah Mandiri RT 01")
    create_user("mgr_alone", "unit_manager", PASSWORD, unit=alone)
    db.session.commit()
    with clock_at(DEC):
        login("mgr_alone")
        assert "Tutup buku" in client.get("/manager/").get_data(as_text=True)
        page = client.get("/month-lock").get_data(as_text=True)
        assert "Tutup buku · November 2025" in page and "RT01" in page and "Ya, tutup buku" in page
        token = _form_token(client, "/month-lock")
        assert client.post("/month-lock/lock", data={"csrf_token": token, "unit": "RW05",
                                                     "month": "2025-11"}).status_code == 404  # not their unit
        done = client.post("/month-lock/lock", data={"csrf_token": token, "unit": "RT01", "month": "2025-11"},
                           follow_redirects=True).get_data(as_text=True)
        assert "Tutup buku November 2025 selesai untuk 1 unit." in done
    lock = active_lock(alone.id, date(2025, 11, 1))
    assert lock is not None and active_lock(net.unit_a.id, date(2025, 11, 1)) is None


def test_a_lock_waits_for_a_posting_in_flight(app, net):
    """A deposit of last month still in its transaction when the lock is asked for: the lock
    waits for it (PostgreSQL: the unit row FOR NO KEY UPDATE against the posting's FOR SHARE;
    SQLite: one writer at a time), so the deposit is counted before the lock and ``ledger
    verify`` finds nothing posted after it. Real threads, the real clock."""
    import threading
    import time as clock

    from wastebank.models import Aggregator, Member, Unit
    from wastebank.timeutil import local_today, local_zone

    today = local_today()
    this_month = date(today.year, today.month, 1)
    last = date(this_month.year - 1, 12, 1) if this_month.month == 1 else date(this_month.year, this_month.month - 1, 1)
    captured = datetime(this_month.year, this_month.month, 1, tzinfo=local_zone()) - timedelta(hours=4)
    unit_id, member_id, agg_id = net.unit_a.id, net.members_a[0].id, net.unit_a.aggregator_id
    staff_id = net.users["agg"].id
    db.session.commit()
    db.session.close()
    posted, release, locked = threading.Event(), threading.Event(), threading.Event()
    errors: list = []

    def depositor():
        with app.app_context():
            try:
                record_deposit(db.session.get(Unit, unit_id), db.session.get(Member, member_id),
                               [LineInput("CARDBOARD", "1")], operator_id=None, idempotency_key="in-flight-0001",
                               recorded_at=captured)
                posted.set()
                release.wait(30)
                db.session.commit()
            except Exception as exc:  # reported below
                errors.append(exc)
                db.session.rollback()
            finally:
                posted.set()
                db.session.remove()

    def locker():
        with app.app_context():
            posted.wait(30)
            try:
                run_in_transaction(lambda: lock_month(units_of(db.session.get(Aggregator, agg_id)), last.year,
                                                      last.month, db.session.get(User, staff_id)))
                locked.set()
            except Exception as exc:
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=depositor), threading.Thread(target=locker)]
    for thread in threads:
        thread.start()
    posted.wait(30)
    clock.sleep(1.0)
    waited = not locked.is_set()
    release.set()
    for thread in threads:
        thread.join(60)
    assert errors == [] and waited and locked.is_set()
    deposit = db.session.scalars(select(Deposit)).one()
    lock = active_lock(unit_id, last)
    assert deposit.credited_idr == 2000 and deposit.posted_at < lock.locked_at
    assert verify_ledger().ok, verify_ledger().faults
    with pytest.raises(MonthLocked):  # and after it, the month is closed
        run_in_transaction(lambda: record_deposit(db.session.get(Unit, unit_id), db.session.get(Member, member_id),
                                                  [LineInput("CARDBOARD", "1")], operator_id=None,
                                                  idempotency_key="after-lock-0001", recorded_at=captured))
