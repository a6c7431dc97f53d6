"""Authentication: argon2, cookie flags, sessions ending at once, config safety, route × role."""
import pytest

from wastebank import create_app
from wastebank.auth.tokens import create_token
from wastebank.extensions import db
from wastebank.models import User

from .conftest import csrf_token
from .factories import PASSWORD


def test_passwords_are_argon2_hashed(net):
    user = db.session.get(User, net.users["op_a"].id)
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash


def test_wrong_password_and_inactive_user_cannot_log_in(net, client):
    page = client.get("/login").get_data(as_text=True)
    wrong = client.post("/login", data={"username": "op_a", "password": "nope-nope", "csrf_token": csrf_token(page)})
    assert wrong.status_code == 200 and "Nama pengguna atau kata sandi salah." in wrong.get_data(as_text=True)
    net.users["op_b"].active = False
    db.session.commit()
    inactive = client.post("/login", data={"username": "op_b", "password": PASSWORD, "csrf_token": csrf_token(page)})
    assert inactive.status_code == 200
    assert client.get("/counter").status_code == 302


def test_session_cookie_is_httponly_and_samesite_lax(net, client, login):
    response = login("op_a")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_production_refuses_to_start_without_secret(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app("production", {"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    monkeypatch.setenv("SECRET_KEY", "x" * 40)
    app = create_app("production", {"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_login_form_needs_csrf(net, client):
    response = client.post("/login", data={"username": "op_a", "password": PASSWORD})
    assert response.status_code == 400


def _other_session(app):
    other = app.test_client()
    page = other.get("/login").get_data(as_text=True)
    other.post("/login", data={"username": "op_a", "password": PASSWORD, "csrf_token": csrf_token(page)})
    assert other.get("/counter").status_code == 200
    return other


def test_logout_ends_every_session_and_token(net, app, client, login):
    login("op_a")
    other = _other_session(app)
    token = create_token(db.session.get(User, net.users["op_a"].id))
    db.session.commit()
    bearer = {"Authorization": f"Bearer {token}"}
    assert client.get(f"/api/v1/members/{net.members_a[0].member_no}", headers=bearer).status_code == 200
    page = client.get("/counter").get_data(as_text=True)
    assert client.post("/logout", data={"csrf_token": csrf_token(page)}).status_code == 302
    assert other.get("/counter").status_code == 302
    assert client.get(f"/api/v1/members/{net.members_a[0].member_no}", headers=bearer).status_code == 401


def test_password_change_ends_other_sessions(net, app, client, login):
    login("op_a")
    other = _other_session(app)
    page = client.get("/password").get_data(as_text=True)
    response = client.post("/password", data={"csrf_token": csrf_token(page), "current": PASSWORD,
                                              "new": "baru-sekali-123", "confirm": "baru-sekali-123"})
    assert response.status_code == 302
    assert client.get("/counter").status_code == 200  # this device stays logged in
    assert other.get("/counter").status_code == 302    # the other one is out


ROUTES = [
    ("GET", "/counter"),
    ("GET", "/counter/member/{a}"),
    ("GET", "/counter/member/{a}/deposit"),
]
ALLOWED = {"op_a", "mgr_a"}


@pytest.mark.parametrize("username", ["op_a", "mgr_a", "op_b", "admin", "agg", "collab"])
@pytest.mark.parametrize("method, route", ROUTES)
def test_route_role_matrix(net, client, login, username, method, route):
    login(username)
    url = route.format(a=net.members_a[0].member_no)
    status = client.open(url, method=method).status_code
    if username in ALLOWED:
        assert status == 200
    elif username == "op_b" and "{a}" in route:
        assert status == 404  # another unit's member: as if it did not exist
    else:
        assert status in (200, 403) if route == "/counter" and username == "op_b" else status == 403


def test_login_attempts_are_rate_limited(net, database_url):
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": database_url, "RATELIMIT_ENABLED": True})
    client = app.test_client()
    token = csrf_token(client.get("/login").get_data(as_text=True))
    statuses = [client.post("/login", data={"username": "op_a", "password": "wrong-guess",
                                             "csrf_token": token}).status_code for _ in range(11)]
    assert statuses[:10] == [200] * 10
    assert statuses[10] == 429
    with app.app_context():
        db.engine.dispose()
