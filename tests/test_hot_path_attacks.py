"""Attacks on the hot path's prepared Core statements (services/transaction.py ``prepared`` and
``run_core``; ledger ``_apply_legs`` one CASE update per guard shape, legs on one account guarded
as their sum; numbering, deposit, audit and idempotency rows in Core; the counter member page's
one joined query). Every refusal must leave every balance, posting count and ``verify_ledger()``
as they were; every shape must keep the cached balances equal to the postings. SQLite and
PostgreSQL (per DATABASE_URL)."""
from __future__ import annotations

import json
import threading
import uuid
from datetime import datetime, timedelta, timezone

import pytest
import requests
from sqlalchemy import func, insert, select

from wastebank.auth.tokens import create_token
from wastebank.extensions import db
from wastebank.models import (Account, AuditLog, Deposit, IdempotencyRecord, JournalEntry, Member, Offtaker,
                              Posting, Sale, Unit, User, Withdrawal)
from wastebank.services.catalog import set_price
from wastebank.services.deposits import LineInput, record_deposit
from wastebank.services.errors import InsufficientBalance, InsufficientStock
from wastebank.services.ledger import (Leg, member_savings_account, post_journal, stock_account, system_account,
                                       verify_ledger)
from wastebank.services.sales import SaleLineInput, create_offtaker, record_sale
from wastebank.services.stock import adjust_stock
from wastebank.services.transaction import _PREPARED, run_in_transaction
from wastebank.services.withdrawals import (WithdrawalInput, approve_withdrawal, pay_withdrawal, record_withdrawal,
                                            void_deposit, void_withdrawal)
from wastebank.timeutil import local_today

from .conftest import bearer

# RW05 buy prices (tests/factories.py: catalogue, PET-CLEAN and CARDBOARD overridden), Rp per kg.
PRICES = {"PET-CLEAN": 3250, "CARDBOARD": 2000, "PET-DIRTY": 1800, "PET-COLOUR": 1200, "PP-CUP": 4000,
          "CAP": 2500, "HDPE-RIGID": 2500}
CODES = list(PRICES)


def key() -> str:
    return f"atk-{uuid.uuid4().hex}"


def user(net, name) -> User:
    return db.session.get(User, net.users[name].id)


def deposit(net, member, lines, idem=None):
    """``lines`` as ``[(code, kilos text)]``; RW05 has no fee, so credited = total."""
    return run_in_transaction(lambda: record_deposit(
        db.session.get(Unit, net.unit_a.id), db.session.get(Member, member.id),
        [LineInput(c, q) for c, q in lines], operator_id=net.users["op_a"].id, idempotency_key=idem or key()))


def withdraw(net, member, amount, who="op_a", idem=None):
    return run_in_transaction(lambda: record_withdrawal(
        db.session.get(Unit, net.unit_a.id), db.session.get(Member, member.id), WithdrawalInput("cash", amount),
        user=user(net, who), idempotency_key=idem or key()))


def sale(net, buyer_id, lines, idem=None):
    return run_in_transaction(lambda: record_sale(
        db.session.get(Unit, net.unit_a.id), db.session.get(Offtaker, buyer_id),
        [SaleLineInput(*line) for line in lines], "cash", user=user(net, "mgr_a"), idempotency_key=idem or key()))


def offtaker(net) -> int:
    return run_in_transaction(lambda: create_offtaker(db.session.get(Unit, net.unit_a.id), "CV Uji Serang",
                                                      kind="pengepul", user=user(net, "mgr_a")).id)


def void_dep(net, deposit_id, idem=None):
    return run_in_transaction(lambda: void_deposit(db.session.get(Deposit, deposit_id), user=user(net, "mgr_a"),
                                                   reason="salah timbang", idempotency_key=idem or key()))


def state() -> dict:
    """Every account's (balance, held, quantity) and the row counts a refusal must not change."""
    db.session.expire_all()
    result = {"accounts": {(a.unit_id, a.key): (a.balance, a.held, a.quantity_milli)
                           for a in db.session.scalars(select(Account))}}
    for model in (JournalEntry, Posting, Deposit, Withdrawal, Sale, AuditLog, IdempotencyRecord):
        result[model.__tablename__] = db.session.scalar(select(func.count()).select_from(model))
    db.session.rollback()
    return result


def savings(member) -> tuple[int, int]:
    db.session.expire_all()
    account = member_savings_account(db.session.get(Member, member.id))
    value = (account.balance, account.held)
    db.session.rollback()
    return value


def assert_ok_ledger() -> None:
    report = verify_ledger()
    db.session.rollback()
    assert report.faults == []


# --- 1. guards ---------------------------------------------------------------------------------


def test_withdrawal_of_exactly_the_balance_passes_and_one_more_rupiah_is_refused(net):
    member = net.members_a[0]
    deposit(net, member, [("CARDBOARD", "5")])  # Rp 10.000
    before = state()
    refused = withdraw(net, member, 10_001)
    assert refused.status == 409 and refused.body["error"]["code"] == "insufficient_balance"
    after = state()
    # Only the stored refusal (I6) is new.
    assert after["idempotency_record"] == before["idempotency_record"] + 1
    assert {k: v for k, v in after.items() if k != "idempotency_record"} == \
        {k: v for k, v in before.items() if k != "idempotency_record"}
    assert_ok_ledger()
    paid = withdraw(net, member, 10_000)
    assert paid.status == 201 and paid.body["balance_idr"] == 0
    assert savings(member) == (0, 0)
    cash = state()["accounts"][(net.unit_a.id, "cash")]
    assert cash == (-10_000, 0, 0)
    # The same shape of statement again, now refused at Rp 1: bound values, not cached ones.
    before = state()
    assert withdraw(net, member, 1).status == 409
    assert state()["accounts"] == before["accounts"] and state()["posting"] == before["posting"]
    assert_ok_ledger()


def test_held_amount_of_an_approved_withdrawal_is_not_available(net):
    unit = db.session.get(Unit, net.unit_a.id)
    unit.approval_threshold_idr = 5_000
    db.session.commit()
    member = net.members_a[0]
    deposit(net, member, [("CARDBOARD", "10")])  # Rp 20.000
    pending = withdraw(net, member, 8_000)  # above the limit, by an operator: pending
    assert pending.status == 202
    run_in_transaction(lambda: approve_withdrawal(db.session.get(Withdrawal, pending.body["id"]),
                                                  user=user(net, "mgr_a")))
    assert savings(member) == (20_000, 8_000)
    before = state()
    refused = withdraw(net, member, 12_001, who="mgr_a")  # available 12.000
    assert refused.status == 409 and refused.body["error"]["code"] == "insufficient_balance"
    after = state()
    assert after["accounts"] == before["accounts"]
    assert (after["posting"], after["journal_entry"], after["withdrawal"]) == \
        (before["posting"], before["journal_entry"], before["withdrawal"])
    assert_ok_ledger()
    paid = withdraw(net, member, 12_000, who="mgr_a")  # exactly what is available
    assert paid.status == 201 and paid.body["balance_idr"] == 8_000
    assert savings(member) == (8_000, 8_000)
    assert withdraw(net, member, 1, who="mgr_a").status == 409
    # The held amount is then paid: hold released and posted, nothing left.
    run_in_transaction(lambda: pay_withdrawal(db.session.get(Withdrawal, pending.body["id"]),
                                              user=user(net, "mgr_a")))
    assert savings(member) == (0, 0)
    assert_ok_ledger()


def test_a_pending_withdrawal_holds_nothing_and_cannot_be_approved_once_spent(net):
    unit = db.session.get(Unit, net.unit_a.id)
    unit.approval_threshold_idr, unit.min_balance_idr = 5_000, 1_000
    db.session.commit()
    member = net.members_a[2]
    deposit(net, member, [("CARDBOARD", "5")])  # Rp 10.000
    # Above what is available (10.000 − floor 1.000): refused even as a request.
    refused = withdraw(net, member, 9_001)
    assert refused.status == 409 and refused.body["error"]["code"] == "insufficient_balance"
    pending = withdraw(net, member, 9_000)
    assert pending.status == 202 and savings(member) == (10_000, 0)
    assert withdraw(net, member, 5_000, who="mgr_a").status == 201  # not held: paid
    before = state()
    with pytest.raises(InsufficientBalance):
        run_in_transaction(lambda: approve_withdrawal(db.session.get(Withdrawal, pending.body["id"]),
                                                      user=user(net, "mgr_a")))
    assert state() == before and savings(member) == (5_000, 0)
    assert db.session.get(Withdrawal, pending.body["id"]).status == "pending"
    db.session.rollback()
    assert_ok_ledger()


def test_unit_minimum_balance_floor(net):
    unit = db.session.get(Unit, net.unit_a.id)
    unit.min_balance_idr = 1_500
    db.session.commit()
    member = net.members_a[1]
    deposit(net, member, [("CARDBOARD", "5")])  # Rp 10.000
    before = state()
    refused = withdraw(net, member, 8_501)
    assert refused.status == 409 and refused.body["error"]["code"] == "insufficient_balance"
    assert state()["accounts"] == before["accounts"]
    paid = withdraw(net, member, 8_500)
    assert paid.status == 201 and paid.body["balance_idr"] == 1_500
    assert savings(member) == (1_500, 0)
    assert_ok_ledger()


def test_void_of_a_deposit_after_its_stock_was_sold_is_refused(net):
    """The stock_value guard: 1 kg CARDBOARD at Rp 2.000, price to Rp 10.000, 1 kg more (2 kg worth
    Rp 12.000), 1 kg sold at the average Rp 6.000: voiding the second deposit would take Rp 10.000
    out of Rp 6.000."""
    unit, cat = db.session.get(Unit, net.unit_a.id), net.categories["CARDBOARD"]
    deposit(net, net.members_a[0], [("CARDBOARD", "1")])
    run_in_transaction(lambda: set_price(unit.id, cat, 10_000, 12_000, local_today()))
    second = deposit(net, net.members_a[1], [("CARDBOARD", "1")])
    assert second.body["credited_idr"] == 10_000
    buyer = offtaker(net)
    sold = sale(net, buyer, [("CARDBOARD", "1", None, "3000")])
    assert sold.body["cost_idr"] == 6_000
    before = state()
    assert before["accounts"][(unit.id, f"stock:{cat.id}")] == (6_000, 0, 1_000)
    with pytest.raises(InsufficientStock) as refused:
        void_dep(net, second.body["id"])
    assert str(refused.value.message).startswith("Nilai stok yang tersisa menurut harga pokok lebih kecil")
    assert state() == before
    assert db.session.get(Deposit, second.body["id"]).void_entry_id is None
    db.session.rollback()
    assert_ok_ledger()


def test_sale_of_more_than_in_stock_and_a_write_off_of_more_are_refused(net):
    cat = net.categories["PET-CLEAN"]
    deposit(net, net.members_a[0], [("PET-CLEAN", "2")])  # 2 kg, Rp 6.500
    buyer = offtaker(net)
    before = state()
    with pytest.raises(InsufficientStock):
        sale(net, buyer, [("PET-CLEAN", "2,001", "2", "4500")])
    with pytest.raises(InsufficientStock):
        sale(net, buyer, [("PET-CLEAN", "1,5", "", "4500"), ("PET-CLEAN", "0,501", "", "4500")])
    with pytest.raises(InsufficientStock):
        run_in_transaction(lambda: adjust_stock(db.session.get(Unit, net.unit_a.id), cat, -2_001, "hilang",
                                                user(net, "mgr_a")))
    assert state() == before
    # Exactly what is on hand: 0 kg worth Rp 0 left.
    out = run_in_transaction(lambda: adjust_stock(db.session.get(Unit, net.unit_a.id), cat, -2_000, "basah",
                                                  user(net, "mgr_a")))
    assert (out.body["amount_idr"], out.body["quantity_after_milli"], out.body["value_after_idr"]) == (-6_500, 0, 0)
    assert state()["accounts"][(net.unit_a.id, "stock_writeoff")] == (6_500, 0, 0)
    assert_ok_ledger()


def _post(unit_id, legs, **kwargs):
    return run_in_transaction(lambda: post_journal(unit_id, "test", legs(), created_by_id=None, **kwargs).id)


def test_two_legs_on_one_savings_account_are_guarded_as_their_sum(net):
    member = net.members_a[0]
    deposit(net, member, [("CARDBOARD", "5")])  # Rp 10.000
    unit_id = net.unit_a.id

    def legs(a, b):
        def build():
            s = member_savings_account(db.session.get(Member, member.id))
            cash = system_account(unit_id, "cash")
            return [Leg(s, a), Leg(s, b), Leg(cash, -(a + b))]
        return build

    before = state()
    # Each alone leaves Rp 4.000; together Rp −2.000.
    with pytest.raises(InsufficientBalance):
        _post(unit_id, legs(6_000, 6_000))
    # With a floor on one of them: 6.000 + 3.000 leaves 1.000 < floor 1.001.
    with pytest.raises(InsufficientBalance):
        _post(unit_id, lambda: [*legs(6_000, 3_000)()[:1],
                                Leg(member_savings_account(db.session.get(Member, member.id)), 3_000, floor_idr=1_001),
                                Leg(system_account(unit_id, "cash"), -9_000)])
    assert state() == before
    assert_ok_ledger()
    # Exactly the balance in two legs passes; a debit and a credit net as one move.
    _post(unit_id, legs(7_000, 3_000))
    assert savings(member) == (0, 0)
    _post(unit_id, legs(-5_000, 2_000))  # credit 5.000, debit 2.000: net +3.000
    assert savings(member) == (3_000, 0)
    assert_ok_ledger()


def test_two_legs_on_one_stock_account_are_guarded_as_their_sum(net):
    deposit(net, net.members_a[0], [("CARDBOARD", "3")])  # 3 kg worth Rp 6.000
    unit_id, cat = net.unit_a.id, net.categories["CARDBOARD"]

    def legs(q1, q2, v1, v2):
        def build():
            stock = stock_account(unit_id, cat.id)
            return [Leg(stock, -v1, -q1), Leg(stock, -v2, -q2), Leg(system_account(unit_id, "stock_writeoff"),
                                                                    v1 + v2)]
        return build

    before = state()
    with pytest.raises(InsufficientStock) as short:  # 2 kg + 2 kg out of 3 kg
        _post(unit_id, legs(2_000, 2_000, 1_000, 1_000))
    with pytest.raises(InsufficientStock) as worth_less:  # 3 kg, but Rp 7.000 of Rp 6.000
        _post(unit_id, legs(1_500, 1_500, 3_500, 3_500))
    assert short.value.field == worth_less.value.field == "quantity"
    assert str(short.value.message) == "Stok tidak cukup untuk ini."
    assert str(worth_less.value.message).startswith("Nilai stok yang tersisa menurut harga pokok lebih kecil")
    assert state() == before
    _post(unit_id, legs(1_500, 1_500, 3_000, 3_000))
    assert state()["accounts"][(unit_id, f"stock:{cat.id}")] == (0, 0, 0)
    assert_ok_ledger()


# --- 2. many shapes in one process ----------------------------------------------------------------


def test_interleaved_shapes_keep_every_balance_equal_to_its_postings(net):
    members = list(net.members_a)
    expected = {m.id: 0 for m in members}
    buyer = offtaker(net)
    deposits = []
    for round_ in range(2):
        for n in range(1, 7):
            member = members[(n + round_) % 3]
            lines = [(code, "2") for code in CODES[:n]]
            out = deposit(net, member, lines)
            total = sum(2 * PRICES[c] for c in CODES[:n])
            assert out.body["credited_idr"] == total
            expected[member.id] += total
            deposits.append((out.body["id"], member.id, total))
            if n % 2 == 0:
                paid = withdraw(net, member, 1_000 * n)
                assert paid.status == 201
                expected[member.id] -= 1_000 * n
                assert paid.body["balance_idr"] == expected[member.id]
            if n % 3 == 0:
                sold = sale(net, buyer, [(code, "0,5", None, "5000") for code in CODES[:n]])
                assert sold.status == 201
    # Void the last three deposits (their stock is still there): savings and stock back down.
    for deposit_id, member_id, total in deposits[-3:]:
        assert void_dep(net, deposit_id).status == 200
        expected[member_id] -= total
    # A withdrawal's void too.
    paid = withdraw(net, members[0], 500)
    expected[members[0].id] -= 500
    run_in_transaction(lambda: void_withdrawal(db.session.get(Withdrawal, paid.body["id"]),
                                               user=user(net, "mgr_a"), reason="dobel", idempotency_key=key()))
    expected[members[0].id] += 500
    for member in members:
        assert savings(member)[0] == expected[member.id]
    assert len([name for name, _ in _PREPARED if name.startswith("ledger.apply_legs:")]) >= 6
    assert_ok_ledger()
    # Cash: every withdrawal out, every sale in; from the postings themselves.
    cash_id = db.session.scalar(select(Account.id).where(Account.unit_id == net.unit_a.id, Account.key == "cash"))
    posted = db.session.scalar(select(func.sum(Posting.amount)).where(Posting.account_id == cash_id))
    assert state()["accounts"][(net.unit_a.id, "cash")][0] == posted


# --- 3. idempotency ---------------------------------------------------------------------------------


def test_same_key_twice_at_once_makes_one_deposit(live_server, app):
    with app.app_context():
        member = db.session.scalar(select(Member).order_by(Member.id))
        op = db.session.scalar(select(User).where(User.username == "op_a"))
        token, member_no, member_id = create_token(op, "attack"), member.member_no, member.id
        db.session.commit()
        db.session.close()
    idem = f"twin-{uuid.uuid4().hex}"
    body = {"member": member_no, "lines": [{"category": "CARDBOARD", "quantity": "5"}]}
    n = 4
    barrier = threading.Barrier(n, timeout=30)
    answers: list[tuple[int, dict, str | None]] = []
    errors: list[Exception] = []

    def tablet(i: int):
        try:
            with requests.Session() as session:
                barrier.wait()
                response = session.post(f"{live_server}/api/v1/deposits", json=body, timeout=60,
                                        headers={**bearer(token), "Idempotency-Key": idem})
                answers.append((response.status_code, response.json(), response.headers.get("Idempotent-Replayed")))
        except Exception as exc:  # asserted below
            errors.append(exc)

    threads = [threading.Thread(target=tablet, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    assert [status for status, _, _ in answers] == [201] * n
    assert len({json.dumps(b, sort_keys=True) for _, b, _ in answers}) == 1
    assert sorted(r or "" for _, _, r in answers) == [""] + ["true"] * (n - 1)
    # The same key with another body, after: 409.
    other = requests.post(f"{live_server}/api/v1/deposits", timeout=30,
                          json={**body, "lines": [{"category": "CARDBOARD", "quantity": "6"}]},
                          headers={**bearer(token), "Idempotency-Key": idem})
    assert other.status_code == 409 and other.json()["error"]["code"] == "idempotency_key_reused"
    with app.app_context():
        db.session.expire_all()
        assert db.session.scalar(select(func.count(Deposit.id))) == 1
        assert db.session.scalar(select(func.count(IdempotencyRecord.id)).where(IdempotencyRecord.key == idem)) == 1
        assert member_savings_account(db.session.get(Member, member_id)).balance == 10_000
        assert db.session.scalar(select(func.count(AuditLog.id)).where(AuditLog.action == "deposit.record")) == 1
        assert verify_ledger().faults == []
        db.session.rollback()


def test_same_key_other_bodies_at_once_one_wins_the_other_is_409(live_server, app):
    with app.app_context():
        member = db.session.scalar(select(Member).order_by(Member.id))
        op = db.session.scalar(select(User).where(User.username == "op_a"))
        token, member_no = create_token(op, "attack"), member.member_no
        db.session.commit()
        db.session.close()
    idem = f"twin-{uuid.uuid4().hex}"
    barrier = threading.Barrier(2, timeout=30)
    answers: list[tuple[int, dict]] = []

    def tablet(kilos: str):
        with requests.Session() as session:
            barrier.wait()
            response = session.post(f"{live_server}/api/v1/deposits", timeout=60,
                                    json={"member": member_no, "lines": [{"category": "CARDBOARD", "quantity": kilos}]},
                                    headers={**bearer(token), "Idempotency-Key": idem})
            answers.append((response.status_code, response.json()))

    threads = [threading.Thread(target=tablet, args=(k,)) for k in ("5", "6")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    answers.sort(key=lambda a: a[0])
    assert [s for s, _ in answers] == [201, 409]
    assert answers[1][1]["error"]["code"] == "idempotency_key_reused"
    with app.app_context():
        assert db.session.scalar(select(func.count(Deposit.id))) == 1
        assert db.session.scalar(select(Deposit.total_idr)) == answers[0][1]["total_idr"] in (10_000, 12_000)
        assert verify_ledger().faults == []
        db.session.rollback()


def test_replay_after_a_refusal_stays_refused(client, net, tokens):
    member = net.members_a[2]
    deposit(net, member, [("CARDBOARD", "1")])  # Rp 2.000
    idem = key()
    body = {"member": member.member_no, "amount_idr": 3_000, "method": "cash"}
    headers = {**bearer(tokens["op_a"]), "Idempotency-Key": idem}
    refused = client.post("/api/v1/withdrawals", json=body, headers=headers)
    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "insufficient_balance"
    deposit(net, member, [("CARDBOARD", "5")])  # now Rp 12.000
    before = state()
    replay = client.post("/api/v1/withdrawals", json=body, headers=headers)
    assert replay.status_code == 409 and replay.get_json() == refused.get_json()
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert state() == before and savings(member) == (12_000, 0)
    other = client.post("/api/v1/withdrawals", json={**body, "amount_idr": 1_000}, headers=headers)
    assert other.status_code == 409 and other.get_json()["error"]["code"] == "idempotency_key_reused"
    assert state() == before


# --- 4. scope -------------------------------------------------------------------------------------


def test_another_units_member_is_404_on_the_counter_page_and_the_api(client, net, tokens, login):
    theirs = net.members_b[0]
    deposit_b = run_in_transaction(lambda: record_deposit(
        db.session.get(Unit, net.unit_b.id), db.session.get(Member, theirs.id), [LineInput("CARDBOARD", "5")],
        operator_id=net.users["op_b"].id, idempotency_key=key()))
    balance_text = str(deposit_b.body["credited_idr"])
    number, name = theirs.member_no, theirs.name
    api = client.get(f"/api/v1/members/{number}", headers=bearer(tokens["op_a"]))
    assert api.status_code == 404 and api.get_json()["error"]["code"] == "member_not_found"
    assert name not in api.get_data(as_text=True) and balance_text not in api.get_data(as_text=True)
    login("op_a")
    for ref in (number, number.lower()):
        page = client.get(f"/counter/member/{ref}")
        assert page.status_code == 404
        assert name not in page.get_data(as_text=True)
    # Their own operator sees them, in any case.
    mine = client.get(f"/api/v1/members/{number.lower()}", headers=bearer(tokens["op_b"]))
    assert mine.status_code == 200
    assert mine.get_json() == {"member_no": number, "name": name, "unit": "RW07",
                               "balance_idr": deposit_b.body["credited_idr"], "active": True}


def test_counter_member_page_any_case_and_no_account_created(client, net, tokens, login):
    member = net.members_a[0]
    deposit(net, member, [("CARDBOARD", "5"), ("PET-CLEAN", "2")])  # Rp 16.500
    login("op_a")
    for ref in (member.member_no, member.member_no.lower(), member.member_no.upper()):
        page = client.get(f"/counter/member/{ref}")
        assert page.status_code == 200
        text = page.get_data(as_text=True)
        assert member.name in text and ("Rp 16.500" in text or "Rp 16,500" in text)
    api = client.get(f"/api/v1/members/{member.member_no.lower()}", headers=bearer(tokens["op_a"]))
    assert api.get_json()["balance_idr"] == 16_500
    # A member with no savings account yet (a row as an import writes it: create_member opens one).
    new_no = "RW05-ATK1"
    new_id = db.session.execute(insert(Member).values(unit_id=net.unit_a.id, member_no=new_no,
                                                      name="Tanpa Rekening").returning(Member.id)).scalar_one()
    db.session.commit()
    before = state()
    assert (net.unit_a.id, f"savings:{new_id}") not in before["accounts"]
    page = client.get(f"/counter/member/{new_no.lower()}")
    assert page.status_code == 200, page.get_data(as_text=True)[:300]
    assert "Rp 0" in page.get_data(as_text=True)
    api = client.get(f"/api/v1/members/{new_no}", headers=bearer(tokens["op_a"]))
    assert api.status_code == 200 and api.get_json()["balance_idr"] == 0
    assert state() == before


# --- 5. audit -------------------------------------------------------------------------------------


def test_deposit_audit_row_has_time_device_and_details(client, net, tokens):
    member = net.members_a[0]
    started = datetime.now(timezone.utc)
    response = client.post("/api/v1/deposits", headers={**bearer(tokens["op_a"]), "Idempotency-Key": key(),
                                                        "User-Agent": "TabletPengurus/2.1"},
                           json={"member": member.member_no,
                                 "lines": [{"category": "CARDBOARD", "quantity": "5"},
                                           {"category": "PET-CLEAN", "quantity": "1,5"}]})
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    row = db.session.scalar(select(AuditLog).where(AuditLog.action == "deposit.record"))
    entry = db.session.get(JournalEntry, db.session.get(Deposit, body["id"]).entry_id)
    assert row.unit_id == net.unit_a.id and row.user_id == net.users["op_a"].id
    assert (row.object_type, row.object_id) == ("deposit", body["receipt_no"])
    assert row.device == "TabletPengurus/2.1 @ 127.0.0.1"
    assert row.created_at.tzinfo is not None
    assert started - timedelta(seconds=1) <= row.created_at <= datetime.now(timezone.utc)
    assert entry.posted_at <= row.created_at <= entry.posted_at + timedelta(seconds=5)
    assert json.loads(row.details) == {"member_no": member.member_no, "total_idr": 14_875, "fee_idr": 0,
                                       "credited_idr": 14_875, "entry_id": entry.id,
                                       "lines": [["CARDBOARD", 5_000, 10_000], ["PET-CLEAN", 1_500, 4_875]]}
    # Order of ids follows order of writing (audit rows are Core inserts now).
    run_in_transaction(lambda: record_deposit(db.session.get(Unit, net.unit_a.id), db.session.get(Member, member.id),
                                              [LineInput("CARDBOARD", "1")], operator_id=None, idempotency_key=key()))
    rows = list(db.session.scalars(select(AuditLog).where(AuditLog.action == "deposit.record").order_by(AuditLog.id)))
    assert [r.device for r in rows] == ["TabletPengurus/2.1 @ 127.0.0.1", "cli"]
    assert rows[0].created_at <= rows[1].created_at
    db.session.rollback()


# --- more shapes: the widest statements ----------------------------------------------------------


def test_forty_lines_over_every_category_and_their_void_and_sale(net):
    """MAX_LINES (40) lines over all 21 catalogue categories (some twice): one CASE over 22
    accounts; its void (22 guarded rows) and a sale of every category."""
    codes = sorted(c.code for c in net.categories.values())
    assert len(codes) == 21
    lines = [(codes[i % 21], "2") for i in range(40)]  # whole units: GLASS-BOTTLE counts pieces
    member = net.members_a[1]
    first = deposit(net, member, lines)
    second = deposit(net, member, lines)
    assert first.body["credited_idr"] == second.body["credited_idr"] == sum(l["amount_idr"]
                                                                             for l in first.body["lines"])
    unit_id = net.unit_a.id
    accounts = state()["accounts"]
    for i, code in enumerate(codes):
        times = 2 if i < 19 else 1  # 40 lines: the first 19 codes twice
        assert accounts[(unit_id, f"stock:{net.categories[code].id}")][2] == 2 * times * 2_000
    assert savings(member)[0] == 2 * first.body["credited_idr"]
    assert void_dep(net, first.body["id"]).status == 200
    assert savings(member)[0] == second.body["credited_idr"]
    buyer = offtaker(net)
    assert sale(net, buyer, [(code, "1", None, "100") for code in codes]).status == 201
    # The second deposit cannot be voided now: part of its stock was sold.
    before = state()
    with pytest.raises(InsufficientStock):
        void_dep(net, second.body["id"])
    assert state() == before
    assert_ok_ledger()


def test_a_key_of_one_operation_is_refused_for_another(client, net, tokens):
    member = net.members_a[0]
    idem = key()
    made = client.post("/api/v1/deposits", headers={**bearer(tokens["op_a"]), "Idempotency-Key": idem},
                       json={"member": member.member_no, "lines": [{"category": "CARDBOARD", "quantity": "5"}]})
    assert made.status_code == 201
    before = state()
    other = client.post("/api/v1/withdrawals", headers={**bearer(tokens["op_a"]), "Idempotency-Key": idem},
                        json={"member": member.member_no, "amount_idr": 1_000, "method": "cash"})
    assert other.status_code == 409 and other.get_json()["error"]["code"] == "idempotency_key_reused"
    assert state() == before
    # Keys are per unit: RW07 may use the same one for its own member.
    theirs = client.post("/api/v1/deposits", headers={**bearer(tokens["op_b"]), "Idempotency-Key": idem},
                         json={"member": net.members_b[0].member_no,
                               "lines": [{"category": "CARDBOARD", "quantity": "5"}]})
    assert theirs.status_code == 201 and theirs.get_json()["receipt_no"].startswith("RW07-")
    assert "Idempotent-Replayed" not in theirs.headers


def test_same_withdrawal_key_at_once_pays_once(live_server, app):
    """Two tablets send one withdrawal of Rp 8.000 (of Rp 10.000) with one key at once: one is
    paid, the other replays it (not a second payment, not an overdraft refusal)."""
    with app.app_context():
        member = db.session.scalar(select(Member).order_by(Member.id))
        op = db.session.scalar(select(User).where(User.username == "op_a"))
        token, member_no, member_id = create_token(op, "attack"), member.member_no, member.id
        db.session.commit()
        db.session.close()
    seeded = requests.post(f"{live_server}/api/v1/deposits", timeout=30,
                           json={"member": member_no, "lines": [{"category": "CARDBOARD", "quantity": "5"}]},
                           headers={**bearer(token), "Idempotency-Key": key()})
    assert seeded.status_code == 201
    idem = key()
    barrier = threading.Barrier(3, timeout=30)
    answers: list[tuple[int, dict]] = []

    def tablet():
        with requests.Session() as session:
            barrier.wait()
            response = session.post(f"{live_server}/api/v1/withdrawals", timeout=60,
                                    json={"member": member_no, "amount_idr": 8_000, "method": "cash"},
                                    headers={**bearer(token), "Idempotency-Key": idem})
            answers.append((response.status_code, response.json()))

    threads = [threading.Thread(target=tablet) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert [s for s, _ in answers] == [201, 201, 201]
    assert len({json.dumps(b, sort_keys=True) for _, b in answers}) == 1
    assert answers[0][1]["balance_idr"] == 2_000
    with app.app_context():
        db.session.expire_all()
        assert db.session.scalar(select(func.count(Withdrawal.id))) == 1
        assert member_savings_account(db.session.get(Member, member_id)).balance == 2_000
        assert verify_ledger().faults == []
        db.session.rollback()


def test_first_deposit_of_a_member_without_savings_opens_one_account(client, net, tokens, login):
    new_id = db.session.execute(insert(Member).values(unit_id=net.unit_a.id, member_no="RW05-ATK2",
                                                      name="Baru Sekali").returning(Member.id)).scalar_one()
    db.session.commit()
    made = client.post("/api/v1/deposits", headers={**bearer(tokens["op_a"]), "Idempotency-Key": key()},
                       json={"member": "rw05-atk2", "lines": [{"category": "CARDBOARD", "quantity": "2,5"}]})
    assert made.status_code == 201, made.get_data(as_text=True)
    assert (made.get_json()["credited_idr"], made.get_json()["balance_idr"]) == (5_000, 5_000)
    rows = db.session.execute(select(Account.balance, Account.held).where(
        Account.unit_id == net.unit_a.id, Account.key == f"savings:{new_id}")).all()
    assert [tuple(r) for r in rows] == [(5_000, 0)]
    db.session.rollback()
    login("op_a")
    page = client.get("/counter/member/RW05-atk2")
    assert page.status_code == 200 and "Rp 5.000" in page.get_data(as_text=True)
    assert_ok_ledger()


def test_deposits_and_withdrawals_of_one_member_at_once(live_server, app, caplog):
    """One tablet deposits for a member while another pays out of the same savings, 12 times each:
    every request succeeds and the savings end exact. (A deposit takes the receipt counter and then
    the savings row; a withdrawal the savings row and then the counter: on PostgreSQL they may
    deadlock and be retried, counted in the log.)"""
    with app.app_context():
        member = db.session.scalar(select(Member).order_by(Member.id))
        op = db.session.scalar(select(User).where(User.username == "op_a"))
        token, member_no, member_id = create_token(op, "attack"), member.member_no, member.id
        db.session.commit()
        db.session.close()
    seeded = requests.post(f"{live_server}/api/v1/deposits", timeout=30,
                           json={"member": member_no, "lines": [{"category": "CARDBOARD", "quantity": "10"}]},
                           headers={**bearer(token), "Idempotency-Key": key()})
    assert seeded.status_code == 201  # Rp 20.000
    barrier = threading.Barrier(2, timeout=30)
    statuses: list[int] = []
    n = 12

    def tablet(kind: str):
        with requests.Session() as session:
            barrier.wait()
            for _ in range(n):
                if kind == "in":
                    response = session.post(f"{live_server}/api/v1/deposits", timeout=60, json={
                        "member": member_no, "lines": [{"category": "CARDBOARD", "quantity": "0,5"}]},
                        headers={**bearer(token), "Idempotency-Key": key()})
                else:
                    response = session.post(f"{live_server}/api/v1/withdrawals", timeout=60, json={
                        "member": member_no, "amount_idr": 1_500, "method": "cash"},
                        headers={**bearer(token), "Idempotency-Key": key()})
                statuses.append(response.status_code)

    caplog.set_level("INFO", logger="wastebank.services.transaction")
    threads = [threading.Thread(target=tablet, args=(k,)) for k in ("in", "out")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert statuses == [201] * (2 * n)
    retried = [r.getMessage() for r in caplog.records if "transient conflict" in r.getMessage()]
    # One lock order for every money operation (receipt counter, then accounts): a deposit and
    # a withdrawal of one member at once wait for each other but never deadlock.
    assert not [m for m in retried if "deadlock" in m], retried
    with app.app_context():
        db.session.expire_all()
        assert member_savings_account(db.session.get(Member, member_id)).balance == 20_000 + n * 1_000 - n * 1_500
        receipts = db.session.scalars(select(Deposit.receipt_no)).all() + \
            db.session.scalars(select(Withdrawal.receipt_no)).all()
        assert sorted(int(r.rsplit("-", 1)[1]) for r in receipts) == list(range(1, 2 * n + 2))
        assert verify_ledger().faults == []
        db.session.rollback()


def test_verify_scoped_to_a_unit_sees_its_own_faults_only(net):
    """80bd213 scoped the balance sums to the unit: a tampered cached balance at RW05 is a fault
    of RW05 and of the whole book, not of RW07."""
    from sqlalchemy import update

    deposit(net, net.members_a[0], [("CARDBOARD", "5")])
    run_in_transaction(lambda: record_deposit(
        db.session.get(Unit, net.unit_b.id), db.session.get(Member, net.members_b[0].id),
        [LineInput("CARDBOARD", "5")], operator_id=net.users["op_b"].id, idempotency_key=key()))
    assert verify_ledger(net.unit_a.id).ok and verify_ledger(net.unit_b.id).ok and verify_ledger().ok
    account_id = db.session.scalar(select(Account.id).where(Account.key == f"savings:{net.members_a[0].id}"))
    db.session.execute(update(Account).where(Account.id == account_id).values(balance=Account.balance + 1_000))
    db.session.commit()
    fault = f"account {account_id} (savings:{net.members_a[0].id}, unit {net.unit_a.id}): cached balance 11000 " \
            "but postings give 10000"
    assert fault in verify_ledger(net.unit_a.id).faults
    assert fault in verify_ledger().faults
    assert verify_ledger(net.unit_b.id).faults == []
    db.session.rollback()


def _live_tokens(app, *names):
    with app.app_context():
        member = db.session.scalar(select(Member).order_by(Member.id))
        tokens_ = [create_token(db.session.scalar(select(User).where(User.username == n)), "attack") for n in names]
        member_no, member_id = member.member_no, member.id
        db.session.commit()
        db.session.close()
    return tokens_, member_no, member_id


def _at_once(n, send):
    barrier = threading.Barrier(n, timeout=30)
    answers: list[tuple[int, dict]] = []

    def run(i):
        with requests.Session() as session:
            barrier.wait()
            response = send(session, i)
            answers.append((response.status_code, response.json()))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return sorted(answers, key=lambda a: a[0])


def test_two_managers_void_one_deposit_at_once(live_server, app):
    (op, mgr1, mgr2), member_no, member_id = _live_tokens(app, "op_a", "mgr_a", "mgr_a")
    made = []
    for _ in range(2):  # Rp 10.000 each: enough savings and stock for two voids, were they allowed
        response = requests.post(f"{live_server}/api/v1/deposits", timeout=30,
                                 json={"member": member_no, "lines": [{"category": "CARDBOARD", "quantity": "5"}]},
                                 headers={**bearer(op), "Idempotency-Key": key()})
        assert response.status_code == 201
        made.append(response.json())
    target = made[0]["id"]
    answers = _at_once(2, lambda s, i: s.post(f"{live_server}/api/v1/deposits/{target}/void", timeout=60,
                                              json={"reason": "salah timbang"},
                                              headers={**bearer((mgr1, mgr2)[i]), "Idempotency-Key": key()}))
    assert [s for s, _ in answers] == [200, 409]
    assert answers[1][1]["error"]["code"] == "already_voided"
    with app.app_context():
        db.session.expire_all()
        assert member_savings_account(db.session.get(Member, member_id)).balance == 10_000
        assert db.session.scalar(select(func.count(JournalEntry.id)).where(JournalEntry.reverses_id.is_not(None))) == 1
        assert verify_ledger().faults == []
        db.session.rollback()


def test_one_refused_withdrawal_key_at_once_stays_one_refusal(live_server, app):
    (op,), member_no, member_id = _live_tokens(app, "op_a")
    response = requests.post(f"{live_server}/api/v1/deposits", timeout=30,
                             json={"member": member_no, "lines": [{"category": "CARDBOARD", "quantity": "1"}]},
                             headers={**bearer(op), "Idempotency-Key": key()})
    assert response.status_code == 201  # Rp 2.000
    idem = key()
    answers = _at_once(3, lambda s, i: s.post(f"{live_server}/api/v1/withdrawals", timeout=60,
                                              json={"member": member_no, "amount_idr": 2_001, "method": "cash"},
                                              headers={**bearer(op), "Idempotency-Key": idem}))
    assert [s for s, _ in answers] == [409, 409, 409]
    assert {a[1]["error"]["code"] for a in answers} == {"insufficient_balance"}
    assert len({json.dumps(b, sort_keys=True) for _, b in answers}) == 1
    with app.app_context():
        assert db.session.scalar(select(func.count(IdempotencyRecord.id)).where(IdempotencyRecord.key == idem)) == 1
        assert db.session.scalar(select(func.count(Withdrawal.id))) == 0
        assert member_savings_account(db.session.get(Member, member_id)).balance == 2_000
        db.session.rollback()
