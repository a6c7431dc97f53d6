"""Cash book, daily close and the audit log (issue 4 items 5–6)."""
import json
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from wastebank.extensions import db
from wastebank.models import AuditLog, DayClose, JournalEntry, Posting, User, Withdrawal, clock_at
from wastebank.services.audit import audit, audit_entries
from wastebank.services.cashbook import cash_book, close_day, expected_cash
from wastebank.services.catalog import set_price
from wastebank.services.deposits import LineInput, record_deposit
from wastebank.services.errors import Conflict, DomainError, PeriodClosed, ValidationFailed
from wastebank.services.ledger import reverse_entry, system_account, verify_ledger
from wastebank.services.members import create_member, issue_card
from wastebank.services.org import create_user
from wastebank.services.sales import SaleLineInput, create_offtaker, record_sale
from wastebank.services.stock import adjust_stock
from wastebank.services.transaction import run_in_transaction
from wastebank.services.withdrawals import (WithdrawalInput, approve_withdrawal, pay_withdrawal, record_withdrawal,
                                            reject_withdrawal, void_withdrawal)

from .factories import PASSWORD

WIB = ZoneInfo("Asia/Jakarta")


def at(day: int, hour: int = 9, minute: int = 0) -> datetime:
    return datetime(2025, 4, day, hour, minute, tzinfo=WIB)


def _user(net, name) -> User:
    return db.session.get(User, net.users[name].id)


def _deposit(net, member, qty, key, code="CARDBOARD"):
    """CARDBOARD is Rp 2.000/kg at RW05."""
    return run_in_transaction(lambda: record_deposit(net.unit_a, member, [LineInput(code, qty)],
                                                     operator_id=net.users["op_a"].id, idempotency_key=key))


def _withdraw(net, member, amount, key, user="op_a"):
    return run_in_transaction(lambda: record_withdrawal(net.unit_a, member, WithdrawalInput("cash", amount),
                                                        user=_user(net, user), idempotency_key=key))


def _counts():
    return tuple(db.session.scalar(select(func.count(m.id))) for m in (JournalEntry, Posting, DayClose, AuditLog))


def _cash_day(net):
    """1 April: deposits 10 kg (m0) and 5 kg (m1) of cardboard = Rp 20.000 and Rp 10.000 of
    savings; 2 April 10:00 withdrawal Rp 7.000 (m0), 11:00 withdrawal Rp 2.500 (m1)."""
    m0, m1 = net.members_a[0], net.members_a[1]
    with clock_at(at(1)):
        _deposit(net, m0, "10", "cash-dep-01")
        _deposit(net, m1, "5", "cash-dep-02")
    with clock_at(at(2, 10)):
        _withdraw(net, m0, 7000, "cash-wd-001")
    with clock_at(at(2, 11)):
        _withdraw(net, m1, 2500, "cash-wd-002")


def test_cash_book_lists_every_cash_movement_with_running_balance(net):
    _cash_day(net)
    with clock_at(at(3, 8)):
        # A sale on 3 April 08:00 brings cash in: 2 kg of cardboard at Rp 2.600 = 5.200.
        buyer = run_in_transaction(lambda: create_offtaker(net.unit_a, "Pengepul Pak Darto"))
        run_in_transaction(lambda: record_sale(net.unit_a, buyer, [SaleLineInput("CARDBOARD", "2", "", "2600")],
                                               "cash", user=_user(net, "mgr_a"), idempotency_key="cash-sale-01"))
        book = cash_book(net.unit_a, date(2025, 4, 2))
        assert book.opening_idr == 0
        assert [(m.amount_idr, m.running_idr) for m in book.movements] == [(-7000, -7000), (-2500, -9500)]
        assert (book.cash_in_idr, book.cash_out_idr, book.closing_idr) == (0, 9500, -9500)
        assert expected_cash(net.unit_a, date(2025, 4, 2)) == -9500
        today = cash_book(net.unit_a, date(2025, 4, 3))
        assert today.opening_idr == -9500
        assert [(m.kind, m.amount_idr, m.running_idr) for m in today.movements] == [("sale", 5200, -4300)]
        assert expected_cash(net.unit_a) == -4300 == system_account(net.unit_a.id, "cash").balance
        # Deposits move no cash: 1 April has no cash movements.
        assert cash_book(net.unit_a, date(2025, 4, 1)).movements == []


def test_close_posts_difference_then_locks_the_day(net):
    _cash_day(net)
    mgr = _user(net, "mgr_a")
    with clock_at(at(2, 17)):
        # Expected −9.500 (the box started empty in the books); counted Rp 500 → Rp 10.000 over:
        # Dr cash 10.000 / Cr cash adjustments 10.000.
        close = run_in_transaction(lambda: close_day(net.unit_a, date(2025, 4, 2), "500", mgr))
        assert (close.expected_cash_idr, close.counted_cash_idr, close.difference_idr) == (-9500, 500, 10000)
        entry = db.session.get(JournalEntry, close.entry_id)
        assert entry.kind == "cash_count"
        assert sorted(p.amount for p in entry.postings) == [-10000, 10000]
        assert system_account(net.unit_a.id, "cash").balance == 500
        assert system_account(net.unit_a.id, "cash_adjustment").balance == -10000
        book = cash_book(net.unit_a, date(2025, 4, 2))
        assert book.closing_idr == 500 and book.close.id == close.id

        # A second close of the same day is refused with a clear message and changes nothing.
        before = _counts()
        with pytest.raises(Conflict) as err:
            run_in_transaction(lambda: close_day(net.unit_a, date(2025, 4, 2), "500", mgr))
        assert err.value.code == "day_already_closed" and "02-04-2025" in str(err.value.message)
        with pytest.raises(Conflict):  # an earlier day is closed too
            run_in_transaction(lambda: close_day(net.unit_a, date(2025, 4, 1), "0", mgr))
        assert _counts() == before

        # The closed day takes no more postings: a deposit, a withdrawal, a stock adjustment.
        with pytest.raises(PeriodClosed):
            _deposit(net, net.members_a[0], "1", "cash-dep-late")
        with pytest.raises(PeriodClosed):
            _withdraw(net, net.members_a[0], 1000, "cash-wd-late")
        with pytest.raises(PeriodClosed):
            run_in_transaction(lambda: adjust_stock(net.unit_a, net.categories["CARDBOARD"], -100, "basah", mgr))
        assert _counts()[:3] == before[:3]
        # Nor can the difference be reversed into the closed day.
        with pytest.raises(PeriodClosed):
            run_in_transaction(lambda: reverse_entry(entry, created_by_id=mgr.id, reason="salah hitung"))

    with clock_at(at(3, 9)):
        # The next day the difference is corrected by a reversing entry in today's books.
        reversal = run_in_transaction(lambda: reverse_entry(db.session.get(JournalEntry, close.entry_id),
                                                            created_by_id=mgr.id, reason="salah hitung"))
        assert reversal.reverses_id == close.entry_id
        assert system_account(net.unit_a.id, "cash").balance == -9500
        assert system_account(net.unit_a.id, "cash_adjustment").balance == 0
        assert _deposit(net, net.members_a[0], "1", "cash-dep-next").status == 201
        # A future day cannot be closed, nor a negative count given.
        with pytest.raises(ValidationFailed):
            run_in_transaction(lambda: close_day(net.unit_a, date(2025, 4, 4), "0", mgr))
        with pytest.raises(ValidationFailed):
            run_in_transaction(lambda: close_day(net.unit_a, date(2025, 4, 3), "-5", mgr))
    assert verify_ledger().ok


def test_exact_count_closes_without_an_entry_and_other_unit_staff_cannot_close(net):
    with clock_at(at(5, 17)):
        mgr = _user(net, "mgr_a")
        with pytest.raises(DomainError):
            run_in_transaction(lambda: close_day(net.unit_b, date(2025, 4, 5), "0", mgr))
        entries = db.session.scalar(select(func.count(JournalEntry.id)))
        close = run_in_transaction(lambda: close_day(net.unit_a, date(2025, 4, 5), "Rp 0", mgr))
        assert (close.difference_idr, close.entry_id) == (0, None)
        assert db.session.scalar(select(func.count(JournalEntry.id))) == entries


def _audit_rows(action):
    return db.session.scalars(select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id)).all()


def test_every_change_is_audited_in_the_same_transaction(net, app):
    # The network itself: users, members, cards and prices were audited as they were created.
    assert {r.object_id for r in _audit_rows("user.create")} >= {"op_a", "mgr_a", "admin"}
    assert len(_audit_rows("member.create")) == 6 and len(_audit_rows("card.issue")) == 6
    assert _audit_rows("price.set")
    mgr, op = _user(net, "mgr_a"), _user(net, "op_a")
    m0 = net.members_a[0]

    dep = _deposit(net, m0, "10", "audit-dep-01")
    row = _audit_rows("deposit.record")[-1]
    assert (row.unit_id, row.user_id, row.object_id) == (net.unit_a.id, op.id, dep.body["receipt_no"])
    assert json.loads(row.details)["credited_idr"] == 20000
    assert row.device == "cli"  # no request: a service called from a script
    _deposit(net, m0, "10", "audit-dep-01")  # a replay moves nothing and logs nothing
    assert len(_audit_rows("deposit.record")) == 1

    net.unit_a.approval_threshold_idr = 5000
    db.session.commit()
    pending = _withdraw(net, m0, 8000, "audit-wd-001")
    pending2 = _withdraw(net, m0, 6000, "audit-wd-002")
    run_in_transaction(lambda: approve_withdrawal(db.session.get(Withdrawal, pending.body["id"]), user=mgr))
    run_in_transaction(lambda: pay_withdrawal(db.session.get(Withdrawal, pending.body["id"]), user=op))
    run_in_transaction(lambda: reject_withdrawal(db.session.get(Withdrawal, pending2.body["id"]), user=mgr))
    run_in_transaction(lambda: void_withdrawal(db.session.get(Withdrawal, pending.body["id"]), user=mgr,
                                               reason="uang palsu", idempotency_key="audit-void-1"))
    assert [r.action for r in db.session.scalars(
        select(AuditLog).where(AuditLog.object_type == "withdrawal").order_by(AuditLog.id))] == \
        ["withdrawal.request", "withdrawal.request", "withdrawal.approve", "withdrawal.pay", "withdrawal.reject",
         "void.withdrawal"]
    assert json.loads(_audit_rows("void.withdrawal")[0].details)["reason"] == "uang palsu"

    run_in_transaction(lambda: set_price(net.unit_a.id, net.categories["PET-CLEAN"], 3600, 4700,
                                         date(2030, 1, 1), created_by_id=mgr.id))
    price = _audit_rows("price.set")[-1]
    assert (price.user_id, price.object_id, json.loads(price.details)["buy_price_idr"]) == (mgr.id, "PET-CLEAN", 3600)
    member = run_in_transaction(lambda: create_member(net.unit_a, "Wahyu Hidayat", user_id=op.id))
    run_in_transaction(lambda: issue_card(member, user_id=op.id))
    cards = [r for r in _audit_rows("card.issue") if r.object_id == member.member_no]
    assert len(cards) == 2
    assert json.loads(cards[1].details)["revoked_card_ids"] == [json.loads(cards[0].details)["card_id"]]
    assert "token" not in cards[1].details
    run_in_transaction(lambda: create_user("op_a2", "operator", PASSWORD, unit=net.unit_a,
                                           created_by_id=net.users["admin"].id))
    assert _audit_rows("user.create")[-1].user_id == net.users["admin"].id

    # A refused operation leaves no audit row: the row is in the rolled-back transaction.
    before = db.session.scalar(select(func.count(AuditLog.id)))
    with pytest.raises(DomainError):
        run_in_transaction(lambda: adjust_stock(net.unit_a, net.categories["CARDBOARD"], -999_999, "hilang", mgr))
    assert db.session.scalar(select(func.count(AuditLog.id))) == before

    # The CLI's user deactivation is audited.
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["user", "deactivate", "op_a2"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    row = _audit_rows("user.deactivate")[-1]
    assert (row.object_id, row.device) == ("op_a2", "cli")

    # Scoping: a unit's entries only, or everything for admins.
    assert all(r.unit_id == net.unit_b.id for r in audit_entries([net.unit_b.id]))
    assert {r.unit_id for r in audit_entries(None, limit=10_000)} >= {net.unit_a.id, net.unit_b.id, None}


@pytest.mark.parametrize("statement", [
    "UPDATE audit_log SET action = 'tampered' WHERE id = :id",
    "DELETE FROM audit_log WHERE id = :id",
])
def test_audit_log_is_append_only_in_the_database(net, statement):
    audit("test.event", unit_id=net.unit_a.id, user_id=None, object_type="test", object_id="1",
          details={"a": 1}, device="pytest")
    db.session.commit()
    row_id = db.session.scalar(select(AuditLog.id).where(AuditLog.action == "test.event"))
    with pytest.raises(DBAPIError) as err:
        db.session.execute(text(statement), {"id": row_id})
        db.session.flush()
    assert "append-only" in str(err.value).lower()
    db.session.rollback()
    again = db.session.get(AuditLog, row_id)
    assert (again.action, again.device) == ("test.event", "pytest")
    # The ORM cannot do it either.
    again.action = "tampered"
    with pytest.raises(DBAPIError):
        db.session.commit()
    db.session.rollback()
    db.session.expire_all()
    assert db.session.get(AuditLog, row_id).action == "test.event"
