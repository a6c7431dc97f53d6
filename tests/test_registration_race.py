"""Issue 10 item 2: member registration under concurrency, and what run_in_transaction retries.

Threads register members at one unit at once, through the service and through the view: every
registration is kept, numbers are distinct and consecutive, nobody gets a 500. Two managers
confirming the same import at once: no 500, no duplicate. A CHECK or trigger refusal is a 409
at the first attempt; only unique violations (and deadlocks) are retried. The error page works
on a session whose flush failed. SQLite and PostgreSQL (DATABASE_URL).
"""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select, text, update

from wastebank.extensions import db
from wastebank.models import Account, Member, MemberCounter, MemberImport, Unit
from wastebank.services.errors import Conflict, DatabaseRefused
from wastebank.services.ledger import member_savings_account, verify_ledger
from wastebank.services.members import create_member
from wastebank.services.transaction import run_in_transaction

from .conftest import RequestIsolatingClient, csrf_token
from .factories import PASSWORD
from .test_import import upload

THREADS = 6


def _run_threads(target, n: int = THREADS) -> None:
    threads = [threading.Thread(target=target, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads)


def _numbers(unit_id: int) -> list[str]:
    numbers = list(db.session.scalars(select(Member.member_no).where(Member.unit_id == unit_id)
                                      .order_by(Member.member_no)))
    db.session.rollback()
    return numbers


def test_threads_registering_through_the_service_all_get_distinct_numbers(app, net):
    unit_id = net.unit_a.id
    before = _numbers(unit_id)
    db.session.close()  # SQLite: an open transaction holds the write lock
    barrier = threading.Barrier(THREADS, timeout=60)
    created, errors = [], []
    lock = threading.Lock()

    def register(i: int) -> None:
        with app.app_context():
            barrier.wait()
            try:
                member = run_in_transaction(lambda: create_member(db.session.get(Unit, unit_id), f"Warga Baru {i}"))
                with lock:
                    created.append(member.member_no)
            except Exception as exc:  # noqa: BLE001 - the test reports any failure
                with lock:
                    errors.append(repr(exc))
            finally:
                db.session.remove()

    _run_threads(register)
    assert errors == []
    assert sorted(created) == [f"RW05-{n:04d}" for n in range(len(before) + 1, len(before) + THREADS + 1)]
    assert _numbers(unit_id) == sorted(before + created)
    assert db.session.get(MemberCounter, unit_id).last_no == len(before) + THREADS
    # Every one has its savings account at Rp 0.
    for no in created:
        member = db.session.scalar(select(Member).where(Member.member_no == no))
        assert member_savings_account(member).balance == 0


def _logged_in_client(app, username: str) -> tuple[RequestIsolatingClient, str]:
    client = RequestIsolatingClient(app, app.response_class, use_cookies=True)
    page = client.get("/login")
    response = client.post("/login", data={"username": username, "password": PASSWORD,
                                           "csrf_token": csrf_token(page.get_data(as_text=True))})
    assert response.status_code == 302
    token = csrf_token(client.get("/members/new").get_data(as_text=True))
    return client, token


def test_managers_registering_through_the_form_at_once_get_no_500(app, net):
    unit_id = net.unit_a.id
    before = _numbers(unit_id)
    db.session.close()
    clients = [_logged_in_client(app, "mgr_a" if i % 2 else "op_a") for i in range(THREADS)]
    db.session.remove()
    barrier = threading.Barrier(THREADS, timeout=60)
    answers: dict[int, tuple[int, str]] = {}

    def register(i: int) -> None:
        client, token = clients[i]
        barrier.wait()
        response = client.post("/members/new", data={"csrf_token": token, "name": f"Warga Form {i}",
                                                    "kind": "person", "phone": "", "address": "",
                                                    "rt": "", "rw": ""})
        answers[i] = (response.status_code, response.headers.get("Location", ""))

    _run_threads(register)
    assert sorted(status for status, _ in answers.values()) == [302] * THREADS, answers
    numbers = _numbers(unit_id)
    new = sorted(set(numbers) - set(before))
    assert new == [f"RW05-{n:04d}" for n in range(len(before) + 1, len(before) + THREADS + 1)]
    # Each redirect goes to its own member's page.
    assert sorted(location.rsplit("/", 1)[1] for _, location in answers.values()) == new
    names = set(db.session.scalars(select(Member.name).where(Member.member_no.in_(new))))
    assert names == {f"Warga Form {i}" for i in range(THREADS)}


def test_a_double_confirm_of_one_import_at_once_gives_no_500_and_no_duplicate(app, net):
    csv = ("name,member_no,opening_balance\n"
           "Rahmat Hidayat,,Rp 10.000\n"
           "Wulan Sari,XS.0099,Rp 20.000\n").encode()
    unit_id = net.unit_a.id
    before = _numbers(unit_id)
    db.session.close()
    clients = []
    for _ in range(2):
        client, _token = _logged_in_client(app, "mgr_a")
        page = upload(client, csv, "buku.csv").get_data(as_text=True)
        sha = __import__("re").search(r'name="sha256" type="hidden" value="([0-9a-f]{64})"', page).group(1)
        clients.append((client, csrf_token(page), sha))
    db.session.remove()
    barrier = threading.Barrier(2, timeout=60)
    statuses: dict[int, int] = {}

    def confirm(i: int) -> None:
        client, token, sha = clients[i]
        barrier.wait()
        statuses[i] = client.post("/members/import/confirm", data={"csrf_token": token, "sha256": sha}).status_code

    _run_threads(confirm, 2)
    assert sorted(statuses.values()) == [302, 302], statuses
    numbers = _numbers(unit_id)
    assert sorted(set(numbers) - set(before)) == [f"RW05-{len(before) + 1:04d}", "XS.0099"]
    assert len(numbers) == len(before) + 2
    assert db.session.scalar(select(func.count(MemberImport.id))) == 1
    wulan = db.session.scalar(select(Member).where(Member.member_no == "XS.0099"))
    assert member_savings_account(wulan).balance == 20_000
    assert verify_ledger().ok


def test_a_check_violation_is_refused_at_the_first_attempt(net):
    account = member_savings_account(net.members_a[0])
    db.session.commit()
    attempts = []

    def overdraw():
        attempts.append(1)
        db.session.execute(update(Account).where(Account.id == account.id).values(balance=-1))

    with pytest.raises(DatabaseRefused) as refused:
        run_in_transaction(overdraw)
    assert len(attempts) == 1
    assert refused.value.status == 409 and refused.value.code == "refused_by_database"
    assert member_savings_account(net.members_a[0]).balance == 0


def test_a_ledger_trigger_refusal_is_refused_at_the_first_attempt(net):
    from wastebank.services.deposits import LineInput, record_deposit

    run_in_transaction(lambda: record_deposit(net.unit_a, net.members_a[0], [LineInput("PET-CLEAN", "1")],
                                              operator_id=None, idempotency_key="trigger-test-0001"))
    attempts = []

    def tamper():
        attempts.append(1)
        db.session.execute(text("UPDATE posting SET amount = amount * 2"))

    with pytest.raises(DatabaseRefused):
        run_in_transaction(tamper)
    assert len(attempts) == 1


def test_a_lasting_unique_violation_is_retried_then_a_conflict(net):
    attempts = []

    def duplicate():
        attempts.append(1)
        db.session.add(Member(unit_id=net.unit_a.id, member_no=net.members_a[0].member_no, name="Kembar"))
        db.session.flush()

    with pytest.raises(Conflict) as conflict:
        run_in_transaction(duplicate, attempts=3)
    assert len(attempts) == 3
    assert conflict.value.code == "conflict"


def test_the_error_page_renders_after_a_failed_flush(app, client, login, net):
    """A view whose flush fails and is not caught: the 500 page (translated) renders instead of
    failing itself with PendingRollbackError."""
    taken = net.members_a[0].member_no
    unit_id = net.unit_a.id

    @app.route("/_test/failed-flush")
    def failed_flush():
        from flask_login import current_user

        db.session.add(Member(unit_id=unit_id, member_no=taken, name="Kembar"))
        db.session.flush()
        return current_user.username

    app.config["PROPAGATE_EXCEPTIONS"] = False
    login("mgr_a")
    response = client.get("/_test/failed-flush")
    assert response.status_code == 500
    html = response.get_data(as_text=True)
    assert "Terjadi kesalahan di sistem; tidak ada yang disimpan." in html, html[:500]
    assert "Budi Pengurus" in html or "mgr_a" in html  # the page still knows who is logged in
