"""POST /api/v1/withdrawals/cancel leaves a trace in the audit log (docs/audit-log.md), in the
same transaction as its answer and once per key: an unknown key stored as refused writes
``withdrawal.cancel_unsent`` (object the key; the member number and rupiah the tablet sends);
a key that recorded a withdrawal writes ``withdrawal.cancel_reported`` (object the withdrawal:
the tablet reports its cash as not handed over). A repeat, by the same tablet or another, writes
nothing more, also when the repeats run at once (live server, SQLite or PostgreSQL per
DATABASE_URL). The manager's audit screen shows both with Indonesian labels."""
from __future__ import annotations

import json
import re
import threading

import pytest
import requests
from sqlalchemy import func, select

from wastebank.auth.tokens import create_token
from wastebank.extensions import db
from wastebank.models import AuditLog, IdempotencyRecord, Member, User, Withdrawal
from wastebank.services import withdrawals as withdrawal_service
from wastebank.services.transaction import run_in_transaction

from .conftest import csrf_token
from .test_api import assert_error, bearer
from .test_api_money_out import deposit, new_key, this_year, withdraw

CANCEL = "/api/v1/withdrawals/cancel"
TABLET = "TabletPengurus/1.0"


def cancel(client, token, key, **extra):
    return client.post(CANCEL, data=json.dumps({"idempotency_key": key, **extra}), content_type="application/json",
                       headers={**bearer(token), "User-Agent": TABLET})


def rows(**where) -> list[AuditLog]:
    db.session.rollback()
    stmt = select(AuditLog).order_by(AuditLog.id)
    for name, value in where.items():
        stmt = stmt.where(getattr(AuditLog, name) == value)
    found = list(db.session.scalars(stmt))
    db.session.rollback()
    return found


def cancel_rows() -> list[AuditLog]:
    return [r for r in rows() if r.action.startswith("withdrawal.cancel_")]


def test_an_unknown_key_writes_one_cancel_unsent_row_and_a_repeat_none(client, net, tokens):
    member = net.members_a[0]
    deposit(client, tokens["op_a"], member.member_no, "5")  # Rp 10.000
    key = new_key()
    before = len(rows())
    answer = cancel(client, tokens["op_a"], key, member_no=member.member_no, amount_idr=5000)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.get_json() == {"idempotency_key": key, "recorded": False, "withdrawal": None}
    written = rows(action="withdrawal.cancel_unsent")
    assert len(written) == 1 and len(rows()) == before + 1
    row = written[0]
    assert (row.unit_id, row.user_id, row.object_type, row.object_id) == \
        (net.unit_a.id, net.users["op_a"].id, "withdrawal_key", key)
    assert json.loads(row.details) == {"idempotency_key": key, "member_no": member.member_no, "amount_idr": 5000}
    assert row.device == f"{TABLET} @ 127.0.0.1"
    # Repeated (the tablet retried after a lost answer): the same answer, no second row.
    again = cancel(client, tokens["op_a"], key, member_no=member.member_no, amount_idr=5000)
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == answer.get_json()
    assert len(rows(action="withdrawal.cancel_unsent")) == 1 and len(rows()) == before + 1
    # The original arriving late is refused and writes no audit row either.
    assert_error(withdraw(client, tokens["op_a"], member.member_no, 5000, key), 409, "idempotency_key_reused")
    assert len(rows()) == before + 1
    assert [r.action for r in rows() if r.action.startswith("withdrawal.")] == ["withdrawal.cancel_unsent"]


def test_without_member_and_amount_the_row_holds_the_key_only(client, net, tokens):
    key = new_key()
    assert cancel(client, tokens["op_a"], key).status_code == 200
    [row] = cancel_rows()
    assert row.action == "withdrawal.cancel_unsent" and json.loads(row.details) == {"idempotency_key": key}


def test_null_member_and_amount_mean_unknown(client, net, tokens):
    """The tablet's record may lack them (``amount_idr: null``): accepted, left out of the row."""
    key = new_key()
    assert cancel(client, tokens["op_a"], key, member_no=None, amount_idr=None).status_code == 200
    [row] = cancel_rows()
    assert json.loads(row.details) == {"idempotency_key": key}


def test_a_recorded_key_writes_one_cancel_reported_row_whoever_repeats_it(client, net, tokens):
    member = net.members_a[0]
    deposit(client, tokens["op_a"], member.member_no, "5")  # Rp 10.000
    key = new_key()
    paid = withdraw(client, tokens["op_a"], member.member_no, 5000, key)
    assert paid.status_code == 201
    withdrawal_id = paid.get_json()["id"]
    answer = cancel(client, tokens["op_a"], key)
    assert answer.status_code == 200 and answer.get_json()["recorded"] is True
    [row] = cancel_rows()
    assert (row.action, row.unit_id, row.user_id, row.object_type, row.object_id) == \
        ("withdrawal.cancel_reported", net.unit_a.id, net.users["op_a"].id, "withdrawal", str(withdrawal_id))
    assert json.loads(row.details) == {
        "idempotency_key": key, "member_no": member.member_no, "method": "cash", "amount_idr": 5000,
        "status": "paid", "receipt_no": f"RW05-{this_year()}-000002"}
    assert row.device == f"{TABLET} @ 127.0.0.1"
    # The same tablet again, then the unit manager's token: the same answer, still one row.
    for token in (tokens["op_a"], tokens["mgr_a"]):
        again = cancel(client, token, key)
        assert again.status_code == 200 and again.get_json() == answer.get_json()
    assert [r.id for r in cancel_rows()] == [row.id]
    # Nothing else was written: the withdrawal's own row (withdrawal.pay) and this one.
    assert [r.action for r in rows() if r.action.startswith("withdrawal.")] == \
        ["withdrawal.pay", "withdrawal.cancel_reported"]


def test_a_key_another_unit_recorded_is_unknown_here_and_traced_here(client, net, tokens):
    member = net.members_a[0]
    deposit(client, tokens["op_a"], member.member_no, "5")
    key = new_key()
    assert withdraw(client, tokens["op_a"], member.member_no, 5000, key).status_code == 201
    assert cancel(client, tokens["op_b"], key).get_json()["recorded"] is False
    [row] = cancel_rows()
    assert (row.action, row.unit_id, row.user_id) == ("withdrawal.cancel_unsent", net.unit_b.id, net.users["op_b"].id)
    assert rows(unit_id=net.unit_a.id, action="withdrawal.cancel_unsent") == []


def test_a_stored_refusal_of_a_real_withdrawal_is_not_traced_again(client, net, tokens):
    """The key stored a refusal of the withdrawal itself (insufficient savings): the cancel
    stores nothing, so it writes nothing; the refused request left its own trace (none)."""
    member = net.members_a[0]
    key = new_key()
    assert_error(withdraw(client, tokens["op_a"], member.member_no, 50000, key), 409, "insufficient_balance")
    assert cancel(client, tokens["op_a"], key).get_json()["recorded"] is False
    assert cancel_rows() == []


@pytest.mark.parametrize("body", [
    {"idempotency_key": "short"},
    {"idempotency_key": "with space inside"},
    {"member_no": "RW05-0001", "amount_idr": 5000},
    {"idempotency_key": "k" * 32, "amount_idr": "5000"},
    {"idempotency_key": "k" * 32, "amount_idr": 0},
    {"idempotency_key": "k" * 32, "amount_idr": 1.5},
    {"idempotency_key": "k" * 32, "member_no": "R" * 31},
    {"idempotency_key": "k" * 32, "member_no": "RW05\u00000001"},
    {"idempotency_key": "k" * 32, "extra": 1},
])
def test_a_refused_cancel_writes_nothing(client, net, tokens, body):
    response = client.post(CANCEL, data=json.dumps(body), content_type="application/json",
                           headers=bearer(tokens["op_a"]))
    assert response.status_code == 422, response.get_data(as_text=True)
    assert cancel_rows() == []
    assert db.session.scalar(select(func.count(IdempotencyRecord.key))) == 0
    db.session.rollback()


def test_without_a_token_nothing_is_written(client, net):
    response = client.post(CANCEL, data=json.dumps({"idempotency_key": new_key()}), content_type="application/json")
    assert_error(response, 401, "unauthorized")
    assert cancel_rows() == []


def test_the_row_and_the_refusal_are_one_transaction(app, net, monkeypatch):
    """The audit row failing takes the stored refusal with it: the key stays free (the tablet
    asks again), never settled without its trace."""
    def broken(*args, **kwargs):
        raise RuntimeError("audit failed")

    monkeypatch.setattr(withdrawal_service, "audit", broken)
    op = db.session.get(User, net.users["op_a"].id)
    key = new_key()
    with app.test_request_context(), pytest.raises(RuntimeError):
        run_in_transaction(lambda: withdrawal_service.cancel_unsent(net.unit_a, key, user=op))
    assert db.session.scalar(select(func.count(IdempotencyRecord.key)).where(IdempotencyRecord.key == key)) == 0
    assert cancel_rows() == []


def test_the_audit_screen_shows_readable_indonesian_labels(client, net, tokens, login):
    member = net.members_a[0]
    deposit(client, tokens["op_a"], member.member_no, "5")
    recorded, unknown = new_key(), new_key()
    assert withdraw(client, tokens["op_a"], member.member_no, 5000, recorded).status_code == 201
    assert cancel(client, tokens["op_a"], recorded).get_json()["recorded"] is True
    assert cancel(client, tokens["op_a"], unknown, member_no=member.member_no, amount_idr=3000).status_code == 200
    withdrawal_id = db.session.scalar(select(Withdrawal.id))
    db.session.rollback()
    login("mgr_a")
    page = client.get("/manager/audit").get_data(as_text=True)
    table = page[page.index('id="audit"'):page.index("</table>", page.index('id="audit"'))]

    def line(action: str) -> str:
        match = re.search(rf'<tr data-action="{re.escape(action)}">(.*?)</tr>', table, re.S)
        assert match, action
        return re.sub(r"\s+", " ", match.group(1))

    reported = line("withdrawal.cancel_reported")
    assert ('<strong class="action-label">Penarikan dibatalkan di tablet padahal sudah tercatat: uang belum '
            "diserahkan</strong>") in reported
    assert (f'<a class="object" href="/manager/withdrawals/{withdrawal_id}">Penarikan RW05-{this_year()}-000002</a>'
            in reported)
    assert f"Nasabah:</span> <span class=\"after\">{member.member_no} · {member.name}</span>" in reported
    assert 'Nilai:</span> <span class="after">Rp 5.000</span>' in reported
    assert "Status:</span> <span class=\"after\">Sudah dibayar</span>" in reported and "TabletPengurus" in reported
    unsent = line("withdrawal.cancel_unsent")
    assert '<strong class="action-label">Penarikan dibatalkan di tablet: tidak tercatat</strong>' in unsent
    assert f'<span class="object">Permintaan penarikan {unknown}</span>' in unsent
    assert 'Nilai:</span> <span class="after">Rp 3.000</span>' in unsent
    assert f"{member.member_no} · {member.name}" in unsent
    # No code or raw key name shows as text (codes only in data-action and the filter's values).
    visible = re.sub(r"<[^>]+>", " ", table)
    assert "withdrawal." not in visible and "idempotency" not in visible and "_idr" not in visible
    # The filter offers both by label and shows only the chosen one.
    assert '<option value="withdrawal.cancel_unsent" >Penarikan dibatalkan di tablet: tidak tercatat</option>' in page
    only = client.get("/manager/audit?action=withdrawal.cancel_reported").get_data(as_text=True)
    assert set(re.findall(r'data-action="([^"]+)"', only)) == {"withdrawal.cancel_reported"}
    # In English the labels are English.
    client.post("/lang/en", data={"csrf_token": csrf_token(page)})
    english = client.get("/manager/audit").get_data(as_text=True)
    assert "Withdrawal cancelled on the tablet after it was recorded: cash not handed over" in english
    assert "Withdrawal cancelled on the tablet: not recorded" in english
    assert f"Withdrawal request {unknown}" in english


def test_cancels_at_once_write_one_row_per_key(live_server, app):
    """Four cancels of the same key at once, for a key that recorded a withdrawal and for an
    unknown one: one audit row each (PostgreSQL: the withdrawal's row lock and the key's unique
    row; SQLite: a stale snapshot retried under the writer lock)."""
    with app.app_context():
        member = db.session.scalar(select(Member).order_by(Member.id))
        op = db.session.scalar(select(User).where(User.username == "op_a"))
        token = create_token(op, "tablet")
        member_no = member.member_no
        db.session.commit()
        db.session.close()
    headers = bearer(token)
    seeded = requests.post(f"{live_server}/api/v1/deposits", timeout=30,
                           json={"member": member_no, "lines": [{"category": "CARDBOARD", "quantity": "50"}]},
                           headers={**headers, "Idempotency-Key": new_key()})
    assert seeded.status_code == 201
    recorded, unknown = new_key(), new_key()
    paid = requests.post(f"{live_server}/api/v1/withdrawals", timeout=30,
                         json={"member": member_no, "amount_idr": 1000, "method": "cash"},
                         headers={**headers, "Idempotency-Key": recorded})
    assert paid.status_code == 201
    for key, expected in ((recorded, True), (unknown, False)):
        barrier = threading.Barrier(4, timeout=30)
        answers: list[tuple[int, dict]] = []
        errors: list[Exception] = []

        def send(key=key, barrier=barrier, answers=answers, errors=errors):
            try:
                with requests.Session() as session:
                    barrier.wait()
                    r = session.post(f"{live_server}{CANCEL}", timeout=60, headers=headers,
                                     json={"idempotency_key": key, "member_no": member_no, "amount_idr": 1000})
                    answers.append((r.status_code, r.json()))
            except Exception as exc:  # asserted below
                errors.append(exc)

        threads = [threading.Thread(target=send) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        assert errors == []
        assert [(status, body["recorded"]) for status, body in answers] == [(200, expected)] * 4
    with app.app_context():
        found = db.session.execute(select(AuditLog.action, AuditLog.object_type, AuditLog.object_id)
                                   .where(AuditLog.action.like("withdrawal.cancel_%"))
                                   .order_by(AuditLog.id)).all()
        db.session.rollback()
    assert [tuple(r) for r in found] == [("withdrawal.cancel_reported", "withdrawal", str(paid.json()["id"])),
                                         ("withdrawal.cancel_unsent", "withdrawal_key", unknown)]
