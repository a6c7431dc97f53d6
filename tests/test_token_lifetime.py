"""Issue 10 item 4: bearer and device tokens have a lifetime (docs/tokens.md).

An unused token ends after API_TOKEN_IDLE_DAYS (30); a used one slides, written at most once
per API_TOKEN_TOUCH_SECONDS (an hour); an expired one is a 401 in the API's JSON shape. Users
list and revoke their own tokens at /account/tokens, the admin anyone's, both audited; another
user's token is 404. SQLite and PostgreSQL (DATABASE_URL).
"""
from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select, update

from wastebank.auth.tokens import _digest, create_token
from wastebank.extensions import db
from wastebank.models import ApiToken, AuditLog, User, utcnow

from .conftest import bearer, csrf_token

DEVICE = {"X-Requested-With": "wastebank-counter"}


def _row(token: str) -> ApiToken:
    db.session.expire_all()
    return db.session.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(token)))


def _set(token: str, **values) -> None:
    db.session.execute(update(ApiToken).where(ApiToken.token_hash == _digest(token)).values(**values))
    db.session.commit()


def _near(moment, expected, slack=timedelta(minutes=2)) -> bool:
    return abs(moment - expected) < slack


def test_a_new_token_lives_thirty_days_unless_configured_otherwise(app, net):
    token = create_token(net.users["op_a"], "skrip")
    db.session.commit()
    row = _row(token)
    assert row.last_used_at is None
    assert _near(row.expires_at, utcnow() + timedelta(days=30))
    app.config["API_TOKEN_IDLE_DAYS"] = 7
    assert _near(_row(create_token(net.users["op_a"], "pendek")).expires_at, utcnow() + timedelta(days=7))


def test_an_expired_token_is_a_401_in_json(client, tokens):
    token = tokens["op_a"]
    assert client.get("/api/v1/prices", headers=bearer(token)).status_code == 200
    _set(token, expires_at=utcnow() - timedelta(seconds=1))
    response = client.get("/api/v1/prices", headers=bearer(token))
    assert response.status_code == 401
    assert response.mimetype == "application/json"
    assert response.get_json()["error"]["code"] == "unauthorized"
    # Posting money with it is refused the same way, and nothing is written.
    refused = client.post("/api/v1/deposits", headers={**bearer(token), "Idempotency-Key": "expired-0001"},
                          json={"member": "RW05-0001", "lines": [{"category": "PET-CLEAN", "quantity": "1"}]})
    assert refused.status_code == 401 and refused.get_json()["error"]["code"] == "unauthorized"


def test_a_used_token_slides_and_is_written_at_most_once_an_hour(client, tokens):
    token = tokens["op_a"]
    assert client.get("/api/v1/prices", headers=bearer(token)).status_code == 200
    first = _row(token)
    assert _near(first.last_used_at, utcnow()) and _near(first.expires_at, utcnow() + timedelta(days=30))
    # Used again within the hour: nothing written.
    used_at = utcnow() - timedelta(minutes=10)
    _set(token, last_used_at=used_at, expires_at=used_at + timedelta(days=30))
    assert client.get("/api/v1/prices", headers=bearer(token)).status_code == 200
    assert _row(token).last_used_at == used_at
    # Last used 29 days and 23 hours ago, a minute before it would end: the use renews it.
    used_at = utcnow() - timedelta(days=29, hours=23)
    _set(token, last_used_at=used_at, expires_at=utcnow() + timedelta(minutes=1))
    assert client.get("/api/v1/prices", headers=bearer(token)).status_code == 200
    renewed = _row(token)
    assert _near(renewed.last_used_at, utcnow()) and _near(renewed.expires_at, utcnow() + timedelta(days=30))


def test_a_device_token_is_listed_slides_and_is_revoked_by_its_user(client, login, net):
    login("op_a")
    issued = client.post("/counter/device-token", headers={**DEVICE, "User-Agent": "Tablet Loket 1"})
    assert issued.status_code == 200
    token = issued.get_json()["token"]
    row = _row(token)
    assert row.label == "device: Tablet Loket 1" and row.user_id == net.users["op_a"].id
    assert _near(row.expires_at, utcnow() + timedelta(days=30))
    _set(token, expires_at=utcnow() + timedelta(days=1))  # nearly ended
    assert client.get("/api/v1/prices", headers=bearer(token)).status_code == 200
    assert _near(_row(token).expires_at, utcnow() + timedelta(days=30))
    with client.session_transaction() as session:
        session["lang"] = "id"
    page = client.get("/account/tokens")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Perangkat dan token" in html and "device: Tablet Loket 1" in html
    assert "Token pengguna lain" not in html  # an operator sees only their own
    assert f"/account/tokens/{row.id}/revoke" in html
    revoked = client.post(f"/account/tokens/{row.id}/revoke", data={"csrf_token": csrf_token(html)})
    assert revoked.status_code == 302 and revoked.headers["Location"].endswith("/account/tokens")
    assert "Token dicabut" in client.get("/account/tokens").get_data(as_text=True)
    assert client.get("/api/v1/prices", headers=bearer(token)).status_code == 401
    entry = db.session.scalars(select(AuditLog).where(AuditLog.action == "token.revoke")).one()
    assert entry.user_id == net.users["op_a"].id and entry.object_id == str(row.id)
    assert "op_a" in entry.details and "Tablet Loket 1" in entry.details
    # Revoking it again: it is no longer live.
    again = client.post(f"/account/tokens/{row.id}/revoke",
                        data={"csrf_token": csrf_token(client.get("/account/tokens").get_data(as_text=True))})
    assert again.status_code == 404


def test_a_user_cannot_revoke_another_users_token(client, login, net, tokens):
    other = _row(tokens["mgr_a"])
    login("op_a")
    html = client.get("/account/tokens").get_data(as_text=True)
    assert f"/account/tokens/{other.id}/revoke" not in html
    response = client.post(f"/account/tokens/{other.id}/revoke", data={"csrf_token": csrf_token(html)})
    assert response.status_code == 404
    assert _row(tokens["mgr_a"]).revoked_at is None
    assert client.get("/api/v1/prices", headers=bearer(tokens["mgr_a"])).status_code == 200
    assert db.session.scalars(select(AuditLog).where(AuditLog.action == "token.revoke")).all() == []
    # Without the form's CSRF token nothing happens either.
    own = _row(tokens["op_a"])
    assert client.post(f"/account/tokens/{own.id}/revoke").status_code == 400
    assert _row(tokens["op_a"]).revoked_at is None


def test_the_admin_lists_and_revokes_anyones_token(client, login, net, tokens):
    victim = _row(tokens["op_a"])
    _set(tokens["op_b"], expires_at=utcnow() - timedelta(days=1))  # expired: not listed
    expired_id = _row(tokens["op_b"]).id
    login("admin")
    with client.session_transaction() as session:
        session["lang"] = "en"
    html = client.get("/account/tokens").get_data(as_text=True)
    assert "Tokens of other users" in html
    assert f"/account/tokens/{victim.id}/revoke" in html and "Dewi Operator (op_a)" in html
    assert f"/account/tokens/{expired_id}/revoke" not in html
    response = client.post(f"/account/tokens/{victim.id}/revoke", data={"csrf_token": csrf_token(html)})
    assert response.status_code == 302
    assert "Token revoked for op_a." in client.get("/account/tokens").get_data(as_text=True)
    assert client.get("/api/v1/prices", headers=bearer(tokens["op_a"])).status_code == 401
    entry = db.session.scalars(select(AuditLog).where(AuditLog.action == "token.revoke")).one()
    assert entry.user_id == net.users["admin"].id and "op_a" in entry.details
    assert client.post(f"/account/tokens/{expired_id}/revoke", data={"csrf_token": csrf_token(html)}).status_code == 404
    # The rest of op_a's account is untouched: the password still logs in.
    assert db.session.get(User, net.users["op_a"].id).active


def test_the_password_page_links_to_the_tokens_page(client, login, net):
    login("op_a")
    html = client.get("/password").get_data(as_text=True)
    assert re.search(r'href="/account/tokens"', html)
