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
from wastebank.extensions import db
from wastebank.models import Account, Deposit, Unit, User
from wastebank.services import deposits as deposits_service
from wastebank.services.ledger import verify_ledger

pytestmark = pytest.mark.skipif(IS_POSTGRES, reason="SQLite snapshots only")

_BODY = {"lines": [{"category": "PET-CLEAN", "quantity": "1,5"}, {"category": "CARDBOARD", "quantity": "2"}]}
_TOTAL = 4875 + 4000  # PET-CLEAN Rp 3.250/kg × 1,5 + CARDBOARD Rp 2.000/kg × 2 (RW05, fee 0)


def _deposit(client, token, member_no, key, body=None):
    return client.post("/api/v1/deposits", data=json.dumps({"member": member_no, **(body or _BODY)}),
                       content_type="application/json", headers={**bearer(token), "Idempotency-Key": key})


def _in_thread(action):
    """Run ``action`` in another thread and wait for it; re-raise what it raised."""
    errors: list[BaseException] = []

    def run():
        try:
            action()
        except BaseException as exc:  # pragma: no cover - re-raised below
            errors.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(60)
    assert not thread.is_alive()
    if errors:
        raise errors[0]


def _after_quote(monkeypatch, *actions):
    """Run ``actions`` one after the other in other threads, committed, right after the first
    deposit priced its lines (its reads done, the key looked up; before its first write)."""
    calls: list[int] = []
    original = deposits_service.quote_deposit

    def quote_then_interfere(*args, **kwargs):
        quote = original(*args, **kwargs)
        calls.append(1)
        if len(calls) == 1:
            for action in actions:
                _in_thread(action)
        return quote

    monkeypatch.setattr(deposits_service, "quote_deposit", quote_then_interfere)
    return calls


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

    _after_quote(monkeypatch, send_twin, _close_today(app, unit_id))
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

    _after_quote(monkeypatch, send_twin, _close_today(app, unit_id))
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

    _after_quote(monkeypatch, first_save, _close_today(app, unit_id))
    second = client.post(f"/counter/member/{member.member_no}/deposit", data=form)
    assert first[0].status_code == 302, first[0].get_data(as_text=True)[:300]
    assert second.status_code == 302, second.get_data(as_text=True)[:2000]
    assert second.headers["Location"] == first[0].headers["Location"]
    db.session.rollback()
    stored = db.session.scalars(select(Deposit).where(Deposit.unit_id == unit_id)).all()
    assert [(d.receipt_no, d.total_idr) for d in stored] == [(first[0].headers["Location"].split("/")[-1]
                                                              .split("?")[0], 4875)]
    _ok_ledger()
