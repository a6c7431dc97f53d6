"""Statement budget of the counter's hot path (issue 13 items 1 and 3): a 3-line deposit through
the API costs at most 12 SQL statements, a replay at most 3, a member's balance at most 2, on
SQLite and on PostgreSQL (BEGIN, COMMIT, ROLLBACK, SAVEPOINT and RELEASE are not counted)."""
from __future__ import annotations

import json
import uuid
from contextlib import contextmanager

from sqlalchemy import event

from wastebank.extensions import db

from .conftest import bearer

URL = "/api/v1/deposits"
_NOT_COUNTED = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")


@contextmanager
def counted():
    """Collect the SQL statements the engine runs inside the block (transaction control left out)."""
    statements: list[str] = []

    def before(conn, cursor, statement, parameters, context, executemany):
        if not statement.lstrip().upper().startswith(_NOT_COUNTED):
            statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", before)


def _show(statements: list[str]) -> str:
    return "\n".join(f"{i + 1:2}. {' '.join(s.split())[:300]}" for i, s in enumerate(statements))


def _deposit(client, token, member_no, key):
    body = {"member": member_no, "lines": [{"category": "PET-CLEAN", "quantity": "1,5"},
                                           {"category": "CARDBOARD", "quantity": "2"},
                                           {"category": "HDPE-RIGID", "quantity": "0,75"}]}
    headers = {**bearer(token), "Idempotency-Key": key}
    return client.post(URL, data=json.dumps(body), headers=headers, content_type="application/json")


def test_deposit_replay_and_member_within_budget(app, net, client, tokens):
    member = net.members_a[0]
    member_no = member.member_no
    db.session.rollback()
    warm = _deposit(client, tokens["op_a"], member_no, str(uuid.uuid4()))  # caches filled once
    assert warm.status_code == 201, warm.get_data(as_text=True)

    key = str(uuid.uuid4())
    with counted() as statements:
        first = _deposit(client, tokens["op_a"], member_no, key)
    assert first.status_code == 201, first.get_data(as_text=True)
    body = first.get_json()
    assert body["total_idr"] == 4875 + 4000 + 1875  # HDPE-RIGID Rp 2.500/kg × 0,75 kg
    assert body["balance_idr"] == 2 * body["credited_idr"]
    assert len(statements) <= 12, f"{len(statements)} statements:\n{_show(statements)}"

    with counted() as statements:
        again = _deposit(client, tokens["op_a"], member_no, key)
    assert again.status_code == 201 and again.headers.get("Idempotent-Replayed") == "true"
    assert again.get_json() == body
    assert len(statements) <= 3, f"{len(statements)} statements:\n{_show(statements)}"

    with counted() as statements:
        shown = client.get(f"/api/v1/members/{member_no}", headers=bearer(tokens["op_a"]))
    assert shown.status_code == 200
    assert shown.get_json()["balance_idr"] == body["balance_idr"]
    assert len(statements) <= 2, f"{len(statements)} statements:\n{_show(statements)}"


def test_counter_member_page_within_budget(app, net, client, login):
    """The counter's member page (issue 13 item 3): the member with their savings balance in
    one query, the recent movements, and whether today is closed (the counter's banner): 3
    statements. (The logged-in user and unit stay in this test's session between requests; in
    production their load from the session cookie is one more.)"""
    member = net.members_a[0]
    member_no = member.member_no
    db.session.rollback()
    login("op_a")
    warm = client.get(f"/counter/member/{member_no}")
    assert warm.status_code == 200
    with counted() as statements:
        page = client.get(f"/counter/member/{member_no.lower()}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert member.name in text
    assert len(statements) <= 3, f"{len(statements)} statements:\n{_show(statements)}"


def test_counter_member_page_of_a_member_without_savings_yet(app, net, client, login):
    """A member created without any deposit has no savings account yet: the one query finds
    the member with balance Rp 0 and no movements, and creates nothing."""
    from wastebank.models import Account
    from wastebank.services.members import create_member

    member = create_member(net.unit_a, "Anggota Baru Sekali")
    db.session.commit()
    accounts_before = db.session.query(Account).count()
    login("op_a")
    page = client.get(f"/counter/member/{member.member_no}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Anggota Baru Sekali" in text and "Rp 0" in text
    assert db.session.query(Account).count() == accounts_before
