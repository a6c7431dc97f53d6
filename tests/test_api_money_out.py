"""JSON API v1 money out (docs/rules.md §api, issue 4): POST /api/v1/withdrawals, POST
/api/v1/deposits/<id>/void (and /withdrawals/<id>/void). Exact rupiah; every refusal answers
the error shape and writes nothing; I6 sticky refusal; C07 with real concurrent requests
against a running server (SQLite or PostgreSQL, per DATABASE_URL)."""
from __future__ import annotations

import json
import threading
import uuid
from datetime import datetime, timedelta, timezone

import pytest
import requests
from sqlalchemy import func, select

from wastebank.api.schemas import VoidSchema, WithdrawalSchema
from wastebank.auth.tokens import create_token
from wastebank.extensions import db
from wastebank.models import (Deposit, IdempotencyRecord, JournalEntry, Member, Posting, User,
                              Withdrawal)
from wastebank.services.ledger import member_savings_account, system_account, verify_ledger
from wastebank.services.org import create_user

from .conftest import csrf_token
from .factories import PASSWORD
from .test_api import assert_error, bearer

WITHDRAWALS = "/api/v1/withdrawals"




def new_key() -> str:
    return str(uuid.uuid4())


def call(client, url, token, body, key=None):
    headers = bearer(token) if token else {}
    if key is not None:
        headers["Idempotency-Key"] = key
    return client.post(url, data=json.dumps(body), headers=headers, content_type="application/json")


def deposit(client, token, member_no, kilos) -> dict:
    """CARDBOARD at RW05 is Rp 2.000/kg: 5 kg → Rp 10.000."""
    response = call(client, "/api/v1/deposits", token,
                    {"member": member_no, "lines": [{"category": "CARDBOARD", "quantity": kilos}]}, new_key())
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


def withdraw(client, token, member_no, amount, key=None, method="cash", **extra):
    return call(client, WITHDRAWALS, token, {"member": member_no, "amount_idr": amount, "method": method, **extra},
                key or new_key())


def void(client, token, deposit_id, reason="salah timbang", key=None, kind="deposits"):
    return call(client, f"/api/v1/{kind}/{deposit_id}/void", token, {"reason": reason}, key or new_key())


def counts() -> dict:
    result = {model.__tablename__: db.session.scalar(select(func.count()).select_from(model))
              for model in (Withdrawal, JournalEntry, Posting, IdempotencyRecord)}
    result["voided"] = db.session.scalar(select(func.count(Deposit.id)).where(Deposit.void_entry_id.is_not(None)))
    db.session.rollback()
    return result


def balance(member) -> int:
    db.session.expire_all()
    value = member_savings_account(member).balance
    db.session.rollback()
    return value


def this_year() -> int:
    return datetime.now(timezone.utc).astimezone(timezone(timedelta(hours=7))).year


# --- withdrawals -----------------------------------------------------------------------------


def test_cash_withdrawal_answers_201_with_the_new_balance(client, net, tokens):
    member = net.members_a[0]
    deposit(client, tokens["op_a"], member.member_no, "5")  # Rp 10.000
    key = new_key()
    response = withdraw(client, tokens["op_a"], member.member_no, 3500, key)
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    assert set(body) == set(WithdrawalSchema().fields)
    assert body["receipt_no"] == f"RW05-{this_year()}-000002"
    assert (body["amount_idr"], body["balance_idr"], body["method"], body["status"], body["member_no"]) == \
        (3500, 6500, "cash", "paid", member.member_no)
    assert "Idempotent-Replayed" not in response.headers
    assert balance(member) == 6500
    assert system_account(net.unit_a.id, "cash").balance == -3500
    # A replay answers the same body and moves nothing.
    before = counts()
    replay = withdraw(client, tokens["op_a"], member.member_no, 3500, key)
    assert replay.status_code == 201 and replay.get_json() == body
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert counts() == before and balance(member) == 6500
    # The same key with another amount is refused (I5).
    assert_error(withdraw(client, tokens["op_a"], member.member_no, 3000, key), 409, "idempotency_key_reused")
    assert counts() == before
    db.session.rollback()
    assert verify_ledger().ok


def test_insufficient_balance_is_409_and_i6_sticky(client, net, tokens):
    member = net.members_a[0]
    deposit(client, tokens["op_a"], member.member_no, "1")  # Rp 2.000
    key = new_key()
    before = counts()
    refused = withdraw(client, tokens["op_a"], member.member_no, 5000, key)
    assert_error(refused, 409, "insufficient_balance", "amount_idr")
    assert counts()["withdrawal"] == before["withdrawal"] == 0
    assert counts()["journal_entry"] == before["journal_entry"]
    deposit(client, tokens["op_a"], member.member_no, "5")  # now Rp 12.000
    replay = withdraw(client, tokens["op_a"], member.member_no, 5000, key)
    assert_error(replay, 409, "insufficient_balance")
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.get_json() == refused.get_json()
    assert balance(member) == 12000 and counts()["withdrawal"] == 0
    # A new key is a new request, and now it succeeds.
    fresh = withdraw(client, tokens["op_a"], member.member_no, 5000)
    assert fresh.status_code == 201 and fresh.get_json()["balance_idr"] == 7000


def test_transfer_goods_and_donation(client, net, tokens):
    member = net.members_a[1]
    deposit(client, tokens["op_a"], member.member_no, "10")  # Rp 20.000
    transfer = withdraw(client, tokens["op_a"], member.member_no, 1000, method="transfer", reference="BCA 123")
    assert transfer.status_code == 201 and transfer.get_json()["balance_idr"] == 19000
    donation = withdraw(client, tokens["op_a"], member.member_no, 2000, method="donation",
                        beneficiary="Masjid Al-Ikhlas")
    assert donation.status_code == 201 and donation.get_json()["balance_idr"] == 17000
    goods = withdraw(client, tokens["op_a"], member.member_no, 17000, method="goods",
                     items=[{"name": "Beras 5 kg", "quantity": "1", "value_idr": 15000},
                            {"name": "Minyak 1 L", "value_idr": 2000}])
    assert goods.status_code == 201 and goods.get_json()["balance_idr"] == 0
    assert system_account(net.unit_a.id, "bank").balance == -1000
    assert system_account(net.unit_a.id, "cash").balance == -19000


def test_above_the_approval_limit_an_operator_gets_202_pending(client, net, tokens):
    net.unit_a.approval_threshold_idr = 5000
    db.session.commit()
    member = net.members_a[0]
    deposit(client, tokens["op_a"], member.member_no, "5")
    pending = withdraw(client, tokens["op_a"], member.member_no, 8000)
    assert pending.status_code == 202
    body = pending.get_json()
    assert (body["status"], body["receipt_no"], body["balance_idr"]) == ("pending", None, 10000)
    # A unit manager's own request above the limit is paid at once.
    paid = withdraw(client, tokens["mgr_a"], member.member_no, 6000)
    assert paid.status_code == 201 and paid.get_json()["balance_idr"] == 4000


@pytest.mark.parametrize("body, status, code, field", [
    ({"amount_idr": "8000"}, 422, "not_a_number", "amount_idr"),
    ({"amount_idr": 1.5}, 422, "not_a_number", "amount_idr"),
    ({"amount_idr": True}, 422, "not_a_number", "amount_idr"),
    ({"amount_idr": None}, 422, "not_a_number", "amount_idr"),
    ({"amount_idr": 0}, 422, "out_of_range", "amount_idr"),
    ({"amount_idr": -100}, 422, "out_of_range", "amount_idr"),
    ({"amount_idr": 10**40}, 422, "out_of_range", "amount_idr"),
    ({"method": "cheque"}, 422, "invalid", "method"),
    ({"method": None}, 422, "null", "method"),
    ({"method": "transfer"}, 422, "required", "reference"),
    ({"method": "donation"}, 422, "required", "beneficiary"),
    ({"method": "goods"}, 422, "required", "items"),
    ({"method": "goods", "items": [{"name": "Beras", "value_idr": 999}]}, 422, "sum_mismatch", "items"),
    ({"surprise": 1}, 422, "unknown_field", "surprise"),
    ({"member": "RW07-0001"}, 404, "member_not_found", "member"),
])
def test_bad_withdrawals_are_refused_and_write_nothing(client, net, tokens, body, status, code, field):
    member = net.members_a[0]
    deposit(client, tokens["op_a"], member.member_no, "5")
    before = counts()
    request = {"member": member.member_no, "amount_idr": 1000, "method": "cash", **body}
    assert_error(call(client, WITHDRAWALS, tokens["op_a"], request, new_key()), status, code, field)
    assert counts() == before and balance(member) == 10000


def test_withdrawal_needs_an_idempotency_key(client, net, tokens):
    member = net.members_a[0]
    deposit(client, tokens["op_a"], member.member_no, "5")
    before = counts()
    for key in (None, "short", "x" * 101):
        response = call(client, WITHDRAWALS, tokens["op_a"],
                        {"member": member.member_no, "amount_idr": 1000, "method": "cash"}, key)
        assert_error(response, 422, "idempotency_key_required", "Idempotency-Key")
    assert counts() == before


def test_session_cookie_withdrawal_needs_the_csrf_header(client, net, tokens, login):
    member = net.members_a[0]
    deposit(client, tokens["op_a"], member.member_no, "5")
    login("op_a")
    page = client.get(f"/counter/member/{member.member_no}").get_data(as_text=True)
    body = {"member": member.member_no, "amount_idr": 1000, "method": "cash"}
    before = counts()
    assert_error(client.post(WITHDRAWALS, json=body, headers={"Idempotency-Key": new_key()}), 400, "csrf_failed")
    assert counts() == before
    response = client.post(WITHDRAWALS, json=body,
                           headers={"Idempotency-Key": new_key(), "X-CSRFToken": csrf_token(page)})
    assert response.status_code == 201 and response.get_json()["balance_idr"] == 9000


# --- voids -----------------------------------------------------------------------------------


def test_manager_voids_a_deposit_200_with_the_reversing_entry(client, net, tokens):
    member = net.members_a[0]
    dep = deposit(client, tokens["op_a"], member.member_no, "5")  # Rp 10.000
    key = new_key()
    before = counts()
    response = void(client, tokens["mgr_a"], dep["id"], "salah timbang", key)
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert set(body) == set(VoidSchema().fields)
    assert (body["id"], body["receipt_no"], body["reason"], body["voided_by"], body["balance_idr"]) == \
        (dep["id"], dep["receipt_no"], "salah timbang", "mgr_a", 0)
    entry = db.session.get(JournalEntry, body["void_entry_id"])
    original = db.session.get(Deposit, dep["id"])
    assert entry.reverses_id == original.entry_id == body["reverses_entry_id"]
    savings = member_savings_account(member)
    by_account = {p["account"]: (p["amount_idr"], p["quantity_milli"]) for p in body["postings"]}
    assert by_account[savings.key] == (10000, None)  # debit: savings back down by Rp 10.000
    stock = [v for k, v in by_account.items() if k.startswith("stock:")]
    assert stock == [(-10000, -5000)]  # 5 kg out of stock at cost
    assert sum(amount for amount, _ in by_account.values()) == 0
    after = counts()
    assert after["journal_entry"] == before["journal_entry"] + 1 and after["voided"] == 1
    assert balance(member) == 0
    # Replay: the same answer, nothing new.
    replay = void(client, tokens["mgr_a"], dep["id"], "salah timbang", key)
    assert replay.status_code == 200 and replay.get_json() == body
    assert replay.headers["Idempotent-Replayed"] == "true"
    # A second void (new key) is refused: already voided.
    assert_error(void(client, tokens["mgr_a"], dep["id"], "lagi"), 409, "already_voided")
    assert counts() == after
    db.session.rollback()
    assert verify_ledger().ok


def test_void_that_would_overdraw_is_409(client, net, tokens):
    member = net.members_a[0]
    dep = deposit(client, tokens["op_a"], member.member_no, "5")  # Rp 10.000
    assert withdraw(client, tokens["op_a"], member.member_no, 8000).status_code == 201
    before = counts()
    key = new_key()
    refused = void(client, tokens["mgr_a"], dep["id"], "salah", key)
    assert_error(refused, 409, "insufficient_balance")
    assert counts()["journal_entry"] == before["journal_entry"] and counts()["voided"] == 0
    assert balance(member) == 2000
    # Sticky: the same key stays refused after the member deposits again.
    deposit(client, tokens["op_a"], member.member_no, "5")
    replay = void(client, tokens["mgr_a"], dep["id"], "salah", key)
    assert_error(replay, 409, "insufficient_balance")
    assert balance(member) == 12000 and counts()["voided"] == 0


def test_void_needs_a_reason_and_a_key(client, net, tokens):
    dep = deposit(client, tokens["op_a"], net.members_a[0].member_no, "5")
    before = counts()
    assert_error(call(client, f"/api/v1/deposits/{dep['id']}/void", tokens["mgr_a"], {}, new_key()),
                 422, "required", "reason")
    assert_error(void(client, tokens["mgr_a"], dep["id"], "x"), 422, "required", "reason")
    assert_error(call(client, f"/api/v1/deposits/{dep['id']}/void", tokens["mgr_a"], {"reason": "salah"}),
                 422, "idempotency_key_required", "Idempotency-Key")
    assert counts() == before


def test_void_a_withdrawal_puts_the_money_back(client, net, tokens):
    member = net.members_a[0]
    deposit(client, tokens["op_a"], member.member_no, "5")
    wd = withdraw(client, tokens["op_a"], member.member_no, 4000).get_json()
    response = void(client, tokens["mgr_a"], wd["id"], "dobel", kind="withdrawals")
    assert response.status_code == 200 and response.get_json()["balance_idr"] == 10000
    assert system_account(net.unit_a.id, "cash").balance == 0


@pytest.mark.parametrize("username, withdrawal, void_deposit, void_withdrawal", [
    ("op_a", 201, 403, 403),      # C13: an operator may not void
    ("mgr_a", 201, 200, 200),
    ("admin", 403, 403, 403),
    ("agg", 403, 403, 403),
    ("collab", 403, 403, 403),
])
def test_roles(client, net, tokens, username, withdrawal, void_deposit, void_withdrawal):
    member = net.members_a[0]
    dep = deposit(client, tokens["op_a"], member.member_no, "5")          # Rp 10.000
    deposit(client, tokens["op_a"], member.member_no, "5")                # Rp 20.000
    wd = withdraw(client, tokens["op_a"], member.member_no, 1000).get_json()  # Rp 19.000
    before, money = counts(), balance(member)
    response = withdraw(client, tokens[username], member.member_no, 1000)
    assert response.status_code == withdrawal, response.get_data(as_text=True)
    response = void(client, tokens[username], dep["id"])
    assert response.status_code == void_deposit, response.get_data(as_text=True)
    response = void(client, tokens[username], wd["id"], kind="withdrawals")
    assert response.status_code == void_withdrawal, response.get_data(as_text=True)
    if username == "op_a":
        assert_error(void(client, tokens[username], dep["id"]), 403, "forbidden")
        assert balance(member) == money - 1000 and counts()["voided"] == 0
    elif withdrawal == 403:
        assert counts() == before and balance(member) == money
    else:
        assert balance(member) == money - 1000 - 10000 + 1000


def test_unit_b_cannot_withdraw_or_void_unit_a_records(client, net, tokens):
    member = net.members_a[0]
    dep = deposit(client, tokens["op_a"], member.member_no, "5")
    wd = withdraw(client, tokens["op_a"], member.member_no, 1000).get_json()
    mgr_b = create_user("mgr_b", "unit_manager", PASSWORD, unit=net.unit_b)
    token_b = create_token(mgr_b, "test")
    db.session.commit()
    before, money = counts(), balance(member)
    assert_error(withdraw(client, tokens["op_b"], member.member_no, 1000), 404, "member_not_found")
    assert_error(void(client, token_b, dep["id"]), 404, "not_found")
    assert_error(void(client, token_b, wd["id"], kind="withdrawals"), 404, "not_found")
    assert_error(void(client, token_b, 999999), 404, "not_found")
    assert counts() == before and balance(member) == money


def test_anonymous_gets_401(client, net):
    member = net.members_a[0]
    assert_error(withdraw(client, None, member.member_no, 1000), 401, "unauthorized")
    assert_error(void(client, None, 1), 401, "unauthorized")


def test_openapi_documents_money_out(client, net):
    doc = client.get("/api/v1/openapi.json").get_json()
    post = doc["paths"]["/api/v1/withdrawals"]["post"]
    assert {"201", "202", "409", "422"} <= set(post["responses"])
    header = next(p for p in post["parameters"] if p["in"] == "header")
    assert header["name"] == "Idempotency-Key" and header["required"] is True
    void_op = doc["paths"]["/api/v1/deposits/{deposit_id}/void"]["post"]
    assert {"200", "403", "404", "409"} <= set(void_op["responses"])
    assert void_op["summary"] and void_op["security"]


# --- C07 against a running server ------------------------------------------------------------


def test_c07_two_tablets_withdraw_8000_of_10000_at_once(live_server, app):
    with app.app_context():
        member = db.session.scalar(select(Member).order_by(Member.id))  # RW05's first member
        op = db.session.scalar(select(User).where(User.username == "op_a"))
        mgr = db.session.scalar(select(User).where(User.username == "mgr_a"))
        tablet_tokens = [create_token(op, "tablet 1"), create_token(mgr, "tablet 2")]
        member_no, member_id = member.member_no, member.id
        db.session.commit()
        db.session.close()
    seeded = requests.post(f"{live_server}/api/v1/deposits", timeout=30,
                           json={"member": member_no, "lines": [{"category": "CARDBOARD", "quantity": "5"}]},
                           headers={**bearer(tablet_tokens[0]), "Idempotency-Key": new_key()})
    assert seeded.status_code == 201 and seeded.json()["balance_idr"] == 10000
    barrier = threading.Barrier(2, timeout=30)
    answers: list[tuple[int, dict]] = []
    errors: list[Exception] = []

    def tablet(i: int):
        try:
            with requests.Session() as session:
                barrier.wait()
                response = session.post(f"{live_server}/api/v1/withdrawals", timeout=60,
                                        json={"member": member_no, "amount_idr": 8000, "method": "cash"},
                                        headers={**bearer(tablet_tokens[i]), "Idempotency-Key": f"c07-tablet-{i}"})
                answers.append((response.status_code, response.json()))
        except Exception as exc:  # asserted below
            errors.append(exc)

    threads = [threading.Thread(target=tablet, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    answers.sort(key=lambda a: a[0])
    assert [status for status, _ in answers] == [201, 409]
    assert answers[0][1]["amount_idr"] == 8000 and answers[0][1]["balance_idr"] == 2000
    assert answers[1][1]["error"]["code"] == "insufficient_balance"
    with app.app_context():
        db.session.expire_all()
        assert member_savings_account(db.session.get(Member, member_id)).balance == 2000
        assert db.session.scalar(select(func.count(Withdrawal.id))) == 1
        assert verify_ledger().ok
        db.session.rollback()
