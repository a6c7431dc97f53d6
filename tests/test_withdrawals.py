"""Withdrawals and voids: exact rupiah, holds, sticky refusals, C07 race on both databases."""
import threading

import pytest
from sqlalchemy import func, select

from wastebank import create_app
from wastebank.extensions import db
from wastebank.models import Deposit, JournalEntry, Member, Unit, User, Withdrawal
from wastebank.services.deposits import LineInput, record_deposit
from wastebank.services.errors import AlreadyReversed, Forbidden, ValidationFailed
from wastebank.services.ledger import member_savings_account, system_account, verify_ledger
from wastebank.services.transaction import run_in_transaction
from wastebank.services.withdrawals import (WithdrawalInput, approve_withdrawal, pay_withdrawal,
                                            record_withdrawal, reject_withdrawal, void_deposit,
                                            void_withdrawal)


def _deposit(net, member, qty, key, code="CARDBOARD"):
    """CARDBOARD is Rp 2.000/kg at RW05: 5 kg → Rp 10.000."""
    return run_in_transaction(lambda: record_deposit(net.unit_a, member, [LineInput(code, qty)],
                                                     operator_id=None, idempotency_key=key))


def _withdraw(net, member, amount, key, user="op_a", **kwargs):
    return run_in_transaction(lambda: record_withdrawal(
        net.unit_a, member, WithdrawalInput(kwargs.pop("method", "cash"), amount, **kwargs),
        user=net.users[user], idempotency_key=key))


def test_cash_withdrawal_moves_savings_and_cash(net):
    member = net.members_a[0]
    _deposit(net, member, "5", "dep-000001")
    outcome = _withdraw(net, member, "3.500", "wd-0000001")
    assert outcome.status == 201
    assert outcome.body["amount_idr"] == 3500 and outcome.body["balance_idr"] == 6500
    assert outcome.body["receipt_no"].endswith("-000002")  # one series with deposits
    assert member_savings_account(member).balance == 6500
    assert system_account(net.unit_a.id, "cash").balance == -3500
    assert verify_ledger().ok


def test_i6_refusal_is_sticky(net):
    member = net.members_a[0]
    _deposit(net, member, "1", "dep-000002")  # Rp 2.000
    refused = _withdraw(net, member, 5000, "wd-sticky-01")
    assert refused.status == 409 and refused.body["error"]["code"] == "insufficient_balance"
    _deposit(net, member, "5", "dep-000003")  # now Rp 12.000
    replay = _withdraw(net, member, 5000, "wd-sticky-01")
    assert replay.status == 409 and replay.replayed
    assert member_savings_account(member).balance == 12000
    assert db.session.scalar(select(func.count(Withdrawal.id))) == 0


def test_minimum_balance_and_minimum_withdrawal(net):
    net.unit_a.min_balance_idr, net.unit_a.min_withdrawal_idr = 5000, 1000
    db.session.commit()
    member = net.members_a[0]
    _deposit(net, member, "5", "dep-000004")  # Rp 10.000
    assert _withdraw(net, member, 5001, "wd-min-0001").status == 409
    with pytest.raises(ValidationFailed) as err:
        _withdraw(net, member, 999, "wd-min-0002")
    assert err.value.code == "below_minimum"
    assert _withdraw(net, member, 5000, "wd-min-0003").body["balance_idr"] == 5000


def test_approval_holds_money_until_paid(net):
    net.unit_a.approval_threshold_idr = 5000
    db.session.commit()
    member = net.members_a[0]
    _deposit(net, member, "5", "dep-000005")  # Rp 10.000
    pending = _withdraw(net, member, 8000, "wd-appr-001")
    assert pending.status == 202 and pending.body["status"] == "pending"
    withdrawal = db.session.get(Withdrawal, pending.body["id"])
    with pytest.raises(Forbidden):
        approve_withdrawal(withdrawal, user=net.users["op_a"])
    run_in_transaction(lambda: approve_withdrawal(db.session.get(Withdrawal, pending.body["id"]),
                                                  user=db.session.get(User, net.users["mgr_a"].id)))
    account = member_savings_account(member)
    assert (account.balance, account.held) == (10000, 8000)
    # The held money cannot be spent twice.
    assert _withdraw(net, member, 3000, "wd-appr-002").status == 409
    run_in_transaction(lambda: pay_withdrawal(db.session.get(Withdrawal, pending.body["id"]),
                                              user=db.session.get(User, net.users["op_a"].id)))
    account = member_savings_account(member)
    assert (account.balance, account.held) == (2000, 0)
    assert db.session.get(Withdrawal, pending.body["id"]).receipt_no is not None
    assert verify_ledger().ok


def test_reject_releases_hold(net):
    net.unit_a.approval_threshold_idr = 1000
    db.session.commit()
    member = net.members_a[0]
    _deposit(net, member, "5", "dep-000006")
    pending = _withdraw(net, member, 4000, "wd-rej-0001")
    w = db.session.get(Withdrawal, pending.body["id"])
    mgr = db.session.get(User, net.users["mgr_a"].id)
    run_in_transaction(lambda: approve_withdrawal(w, user=mgr))
    run_in_transaction(lambda: reject_withdrawal(w, user=mgr))
    account = member_savings_account(member)
    assert (account.balance, account.held, w.status) == (10000, 0, "rejected")


def test_transfer_goods_and_donation_need_their_details(net):
    member = net.members_a[0]
    _deposit(net, member, "10", "dep-000007")  # Rp 20.000
    with pytest.raises(ValidationFailed) as err:
        _withdraw(net, member, 1000, "wd-det-0001", method="transfer")
    assert err.value.field == "reference"
    with pytest.raises(ValidationFailed):
        _withdraw(net, member, 1000, "wd-det-0002", method="donation")
    with pytest.raises(ValidationFailed) as err:
        _withdraw(net, member, 16000, "wd-det-0003", method="goods",
                  items=({"name": "Beras 5 kg", "quantity": "1", "value_idr": 15000},))
    assert err.value.code == "sum_mismatch"
    assert _withdraw(net, member, 1000, "wd-det-0004", method="transfer", reference="BCA 123").status == 201
    assert system_account(net.unit_a.id, "bank").balance == -1000
    assert _withdraw(net, member, 2000, "wd-det-0005", method="donation",
                     beneficiary="Masjid Al-Ikhlas").status == 201
    goods = _withdraw(net, member, 15000, "wd-det-0006", method="goods",
                      items=({"name": "Beras 5 kg", "quantity": "1", "value_idr": 15000},))
    assert goods.status == 201 and goods.body["balance_idr"] == 2000


def test_void_deposit_reverses_and_marks_batal(net):
    member = net.members_a[0]
    dep = _deposit(net, member, "5", "dep-000008")
    deposit = db.session.get(Deposit, dep.body["id"])
    mgr = db.session.get(User, net.users["mgr_a"].id)
    with pytest.raises(Forbidden):
        void_deposit(deposit, user=net.users["op_a"], reason="salah timbang", idempotency_key="void-00001")
    outcome = run_in_transaction(lambda: void_deposit(deposit, user=mgr, reason="salah timbang",
                                                      idempotency_key="void-00001"))
    assert outcome.status == 200 and outcome.body["balance_idr"] == 0
    reversal = db.session.get(JournalEntry, outcome.body["void_entry_id"])
    assert reversal.reverses_id == deposit.entry_id and reversal.reason == "salah timbang"
    assert sorted(p.amount for p in reversal.postings) == [-10000, 10000]
    stock = system_account(net.unit_a.id, "cash")  # untouched
    assert stock.balance == 0
    with pytest.raises(AlreadyReversed):
        run_in_transaction(lambda: void_deposit(db.session.get(Deposit, dep.body["id"]), user=mgr,
                                                reason="lagi", idempotency_key="void-00002"))
    assert verify_ledger().ok


def test_void_of_spent_deposit_is_refused(net):
    member = net.members_a[0]
    dep = _deposit(net, member, "5", "dep-000009")  # Rp 10.000
    _withdraw(net, member, 8000, "wd-spent-01")
    mgr = db.session.get(User, net.users["mgr_a"].id)
    outcome = run_in_transaction(lambda: void_deposit(db.session.get(Deposit, dep.body["id"]), user=mgr,
                                                      reason="salah", idempotency_key="void-00003"))
    assert outcome.status == 409 and "sudah memakai uang ini" in outcome.body["error"]["message"]
    assert member_savings_account(member).balance == 2000
    assert db.session.get(Deposit, dep.body["id"]).void_entry_id is None


def test_void_withdrawal_puts_money_back(net):
    member = net.members_a[0]
    _deposit(net, member, "5", "dep-000010")
    wd = _withdraw(net, member, 4000, "wd-void-001")
    mgr = db.session.get(User, net.users["mgr_a"].id)
    outcome = run_in_transaction(lambda: void_withdrawal(db.session.get(Withdrawal, wd.body["id"]), user=mgr,
                                                         reason="dobel", idempotency_key="void-00004"))
    assert outcome.body["balance_idr"] == 10000
    assert system_account(net.unit_a.id, "cash").balance == 0


def test_c07_two_concurrent_withdrawals_one_succeeds(net, database_url):
    member = net.members_a[0]
    _deposit(net, member, "5", "dep-race-01")  # Rp 10.000
    member_id, unit_id, user_id = member.id, net.unit_a.id, net.users["op_a"].id
    db.session.commit()
    db.session.close()
    apps = [create_app("testing", {"SQLALCHEMY_DATABASE_URI": database_url}) for _ in range(2)]
    barrier = threading.Barrier(2, timeout=60)
    statuses, errors = [], []

    def run(i):
        with apps[i].app_context():
            try:
                unit, m = db.session.get(Unit, unit_id), db.session.get(Member, member_id)
                user = db.session.get(User, user_id)
                db.session.commit()
                barrier.wait()
                outcome = run_in_transaction(lambda: record_withdrawal(
                    unit, m, WithdrawalInput("cash", "8.000"), user=user, idempotency_key=f"race-tablet-{i}"))
                statuses.append(outcome.status)
            except Exception as exc:  # asserted below
                errors.append(exc)
            finally:
                db.session.remove()
                db.engine.dispose()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    assert sorted(statuses) == [201, 409]
    assert member_savings_account(db.session.get(Member, member_id)).balance == 2000
    assert verify_ledger().ok
