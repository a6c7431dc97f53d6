"""POST /api/v1/withdrawals/cancel: a tablet settles the key of a withdrawal it cancelled
without knowing whether it arrived (docs/counter-offline.md §cancelled withdrawals). Recorded →
the withdrawal, nothing changes; unknown → the key is stored as refused, and the original
arriving late books nothing; another unit's key is unknown there; a repeat answers the same;
a race with the late original is decided by the key's unique row (live server, SQLite or
PostgreSQL per DATABASE_URL)."""
from __future__ import annotations

import threading
import time

import requests
from sqlalchemy import func, select

from wastebank.api.schemas import CancelledWithdrawalRecordSchema, CancelledWithdrawalSchema
from wastebank.auth.tokens import create_token
from wastebank.extensions import db
from wastebank.models import IdempotencyRecord, Member, User, Withdrawal
from wastebank.services.ledger import member_savings_account, verify_ledger

from .test_api import assert_error, bearer
from .test_api_money_out import balance, call, counts, deposit, new_key, this_year, withdraw

CANCEL = "/api/v1/withdrawals/cancel"


def cancel(client, token, key):
    return call(client, CANCEL, token, {"idempotency_key": key})


def test_a_recorded_withdrawal_is_answered_and_nothing_changes(client, net, tokens):
    member = net.members_a[0]
    deposit(client, tokens["op_a"], member.member_no, "5")  # Rp 10.000
    key = new_key()
    paid = withdraw(client, tokens["op_a"], member.member_no, 5000, key)
    assert paid.status_code == 201
    before = counts()
    answer = cancel(client, tokens["op_a"], key)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    body = answer.get_json()
    assert set(body) == set(CancelledWithdrawalSchema().fields)
    assert set(body["withdrawal"]) == set(CancelledWithdrawalRecordSchema().fields)
    assert body["recorded"] is True and body["idempotency_key"] == key
    assert body["withdrawal"] == {
        "id": paid.get_json()["id"], "receipt_no": f"RW05-{this_year()}-000002", "amount_idr": 5000,
        "member_no": member.member_no, "member_name": member.name, "method": "cash", "status": "paid",
        "voided": False}
    assert "Idempotent-Replayed" not in answer.headers
    assert counts() == before and balance(member) == 5000
    # Asked again: the same answer, still nothing changed; the original's replay still answers 201.
    again = cancel(client, tokens["op_a"], key)
    assert again.status_code == 200 and again.get_json() == body
    assert withdraw(client, tokens["op_a"], member.member_no, 5000, key).status_code == 201
    assert counts() == before and balance(member) == 5000
    db.session.rollback()
    assert verify_ledger().ok


def test_an_unknown_key_is_settled_refused_and_the_late_original_books_nothing(client, net, tokens):
    member = net.members_a[0]
    deposit(client, tokens["op_a"], member.member_no, "5")  # Rp 10.000
    key = new_key()
    before = counts()
    answer = cancel(client, tokens["op_a"], key)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.get_json() == {"idempotency_key": key, "recorded": False, "withdrawal": None}
    assert "Idempotent-Replayed" not in answer.headers
    after = counts()
    assert after["idempotency_record"] == before["idempotency_record"] + 1
    assert {k: v for k, v in after.items() if k != "idempotency_record"} == \
        {k: v for k, v in before.items() if k != "idempotency_record"}
    stored = db.session.scalar(select(IdempotencyRecord).where(IdempotencyRecord.key == key))
    assert (stored.operation, stored.status_code, stored.unit_id) == ("withdrawal", 409, net.unit_a.id)
    db.session.rollback()
    # The original request arrives late (a stalled connection): refused, nothing booked.
    assert_error(withdraw(client, tokens["op_a"], member.member_no, 5000, key), 409, "idempotency_key_reused")
    assert counts() == after and balance(member) == 10000
    assert db.session.scalar(select(func.count(Withdrawal.id))) == 0
    # The cancel repeated: the same answer, marked as a replay.
    again = cancel(client, tokens["op_a"], key)
    assert again.status_code == 200 and again.get_json() == answer.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert counts() == after
    db.session.rollback()
    assert verify_ledger().ok


def test_a_refused_withdrawal_is_not_recorded(client, net, tokens):
    member = net.members_a[0]
    deposit(client, tokens["op_a"], member.member_no, "5")  # Rp 10.000
    key = new_key()
    assert_error(withdraw(client, tokens["op_a"], member.member_no, 50000, key), 409, "insufficient_balance")
    before = counts()
    answer = cancel(client, tokens["op_a"], key)
    assert answer.status_code == 200
    assert answer.get_json() == {"idempotency_key": key, "recorded": False, "withdrawal": None}
    assert counts() == before and balance(member) == 10000


def test_another_units_key_is_unknown_there_and_leaks_nothing(client, net, tokens):
    member = net.members_a[0]
    deposit(client, tokens["op_a"], member.member_no, "5")
    key = new_key()
    paid = withdraw(client, tokens["op_a"], member.member_no, 5000, key)
    assert paid.status_code == 201
    answer = cancel(client, tokens["op_b"], key)
    assert answer.status_code == 200
    assert answer.get_json() == {"idempotency_key": key, "recorded": False, "withdrawal": None}
    # Unit A's withdrawal is untouched and still answered to unit A.
    assert balance(member) == 5000
    mine = cancel(client, tokens["op_a"], key)
    assert mine.get_json()["recorded"] is True and mine.get_json()["withdrawal"]["id"] == paid.get_json()["id"]
    rows = db.session.execute(select(IdempotencyRecord.unit_id, IdempotencyRecord.status_code)
                              .where(IdempotencyRecord.key == key).order_by(IdempotencyRecord.unit_id)).all()
    assert [tuple(r) for r in rows] == [(net.unit_a.id, 201), (net.unit_b.id, 409)]
    db.session.rollback()


def test_refusals(client, net, tokens):
    assert_error(cancel(client, None, new_key()), 401, "unauthorized")
    assert_error(cancel(client, tokens["op_a"], "short"), 422, "idempotency_key_required")
    assert_error(cancel(client, tokens["op_a"], "with space inside"), 422, "idempotency_key_required")
    assert_error(call(client, CANCEL, tokens["op_a"], {}), 422)
    assert_error(call(client, CANCEL, tokens["op_a"], {"idempotency_key": new_key(), "x": 1}), 422)
    assert db.session.scalar(select(func.count(IdempotencyRecord.key))) == 0


def test_openapi_documents_the_cancel(client, net):
    doc = client.get("/api/v1/openapi.json").get_json()
    post = doc["paths"]["/api/v1/withdrawals/cancel"]["post"]
    assert {"200", "401", "403", "422"} <= set(post["responses"])
    assert post["summary"] == "Settle a withdrawal the tablet cancelled" and post["security"]
    schema = doc["components"]["schemas"]["CancelledWithdrawal"]
    assert set(schema["properties"]) == {"idempotency_key", "recorded", "withdrawal"}


def test_race_between_the_late_original_and_the_cancel(live_server, app):
    """Both at once, many times: each key ends either booked once and answered recorded:true,
    or refused with nothing booked and answered recorded:false — never booked and 'not recorded'."""
    with app.app_context():
        member = db.session.scalar(select(Member).order_by(Member.id))  # RW05's first member
        op = db.session.scalar(select(User).where(User.username == "op_a"))
        token = create_token(op, "tablet")
        member_no, member_id = member.member_no, member.id
        db.session.commit()
        db.session.close()
    headers = bearer(token)
    seeded = requests.post(f"{live_server}/api/v1/deposits", timeout=30,
                           json={"member": member_no, "lines": [{"category": "CARDBOARD", "quantity": "50"}]},
                           headers={**headers, "Idempotency-Key": new_key()})
    assert seeded.status_code == 201 and seeded.json()["balance_idr"] == 100000
    rounds = 12
    outcomes: list[tuple[int, dict, int, dict]] = []
    errors: list[Exception] = []
    for i in range(rounds):
        key = f"race-cancel-{i}-{new_key()}"
        barrier = threading.Barrier(2, timeout=30)
        answers: dict[str, tuple[int, dict]] = {}

        def original():
            try:
                with requests.Session() as session:
                    barrier.wait()
                    r = session.post(f"{live_server}/api/v1/withdrawals", timeout=60,
                                     json={"member": member_no, "amount_idr": 1000, "method": "cash"},
                                     headers={**headers, "Idempotency-Key": key})
                    answers["original"] = (r.status_code, r.json())
            except Exception as exc:  # asserted below
                errors.append(exc)

        def cancelling():
            try:
                with requests.Session() as session:
                    barrier.wait()
                    time.sleep(0.005 * i)   # later and later: the original's transaction is open by then
                    r = session.post(f"{live_server}{CANCEL}", timeout=60, json={"idempotency_key": key},
                                     headers=headers)
                    answers["cancel"] = (r.status_code, r.json())
            except Exception as exc:
                errors.append(exc)

        threads = [threading.Thread(target=original), threading.Thread(target=cancelling)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        assert errors == []
        outcomes.append((*answers["original"], *answers["cancel"]))
    booked = 0
    for status, body, cancel_status, cancelled in outcomes:
        assert cancel_status == 200
        if cancelled["recorded"]:
            assert status == 201 and cancelled["withdrawal"]["receipt_no"] == body["receipt_no"]
            assert cancelled["withdrawal"]["amount_idr"] == 1000
            booked += 1
        else:
            assert status == 409 and body["error"]["code"] == "idempotency_key_reused"
    with app.app_context():
        db.session.expire_all()
        assert db.session.scalar(select(func.count(Withdrawal.id))) == booked
        assert member_savings_account(db.session.get(Member, member_id)).balance == 100000 - 1000 * booked
        assert verify_ledger().ok
        db.session.rollback()
