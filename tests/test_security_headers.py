"""Security headers on every response (wastebank/security.py, docs/security.md): the CSP runs
scripts from this origin's files only and forbids framing; nosniff, same-origin referrer;
HTTPS forcing and HSTS only in production. Templates carry no inline script or handler."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from wastebank import create_app
from wastebank.services.members import live_card

from .conftest import bearer


def csp(response) -> dict[str, list[str]]:
    """The Content-Security-Policy header as ``{directive: [sources]}``."""
    header = response.headers["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}


def assert_secure_headers(response) -> None:
    policy = csp(response)
    assert policy["script-src"] == ["'self'"]
    assert policy["default-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["worker-src"] == ["'self'"]
    assert "'unsafe-inline'" not in policy["script-src"] and "'unsafe-eval'" not in policy["script-src"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "camera=(self)" in response.headers["Permissions-Policy"]
    # Not in development or tests: the app is reached over plain HTTP there.
    assert "Strict-Transport-Security" not in response.headers


def test_every_kind_of_response_carries_the_headers(client, net, login, tokens):
    token = live_card(net.members_a[0]).token
    anonymous = [client.get("/login"), client.get("/static/app.css"), client.get("/sw.js"),
                 client.get("/nowhere"), client.get("/api/v1/openapi.json"),
                 client.get("/api/v1/prices"), client.get(f"/c/{token}"), client.get("/c/unknown-token")]
    api = client.get("/api/v1/prices", headers=bearer(tokens["op_a"]))
    login("op_a")
    pages = [client.get("/counter"), client.get(f"/counter/member/{net.members_a[0].member_no}/deposit"),
             client.get(f"/counter/member/{net.members_a[0].member_no}/withdraw")]
    statuses = [r.status_code for r in anonymous + [api] + pages]
    assert statuses == [200, 200, 200, 404, 200, 401, 200, 404, 200, 200, 200, 200]
    for response in anonymous + [api] + pages:
        assert_secure_headers(response)
        if response.request.path.startswith("/c/"):
            assert response.headers["Referrer-Policy"] == "no-referrer"  # the token is in its URL
        else:
            assert response.headers["Referrer-Policy"] == "same-origin"
        response.close()


def test_production_forces_https_and_sends_hsts(database_url, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "x" * 40)
    app = create_app("production", {"SQLALCHEMY_DATABASE_URI": database_url,
                                    "PUBLIC_BASE_URL": "https://bank.example"})
    client = app.test_client()
    plain = client.get("/login?next=/counter", base_url="http://bank.example")
    assert plain.status_code == 302
    assert plain.headers["Location"] == "https://bank.example/login?next=/counter"
    secure = client.get("/login", base_url="https://bank.example")
    assert secure.status_code == 200
    assert secure.headers["Strict-Transport-Security"] == "max-age=31556926; includeSubDomains"
    assert csp(secure)["script-src"] == ["'self'"]
    # Behind a proxy that ends TLS and says so, no redirect loop.
    proxied = client.get("/login", base_url="http://bank.example", headers={"X-Forwarded-Proto": "https"})
    assert proxied.status_code == 200 and "Strict-Transport-Security" in proxied.headers
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_development_neither_redirects_nor_sends_hsts(database_url):
    app = create_app("development", {"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "dev"})
    response = app.test_client().get("/login", base_url="http://127.0.0.1:5000")
    assert response.status_code == 200
    assert "Strict-Transport-Security" not in response.headers
    assert app.config.get("SESSION_COOKIE_SECURE") is not True
    assert_secure_headers(response)


TEMPLATES = Path(__file__).resolve().parent.parent / "wastebank" / "templates"
_SCRIPT = re.compile(r"<script\b([^>]*)>", re.I)
_HANDLER = re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.I)


@pytest.mark.parametrize("path", sorted(TEMPLATES.rglob("*.html")), ids=lambda p: str(p.relative_to(TEMPLATES)))
def test_templates_have_no_inline_script_or_handler(path):
    """Under the CSP an inline script or ``on…=`` handler would simply not run."""
    source = path.read_text(encoding="utf-8")
    for attributes in _SCRIPT.findall(source):
        assert "src=" in attributes or 'type="application/json"' in attributes, (path, attributes)
    assert not _HANDLER.search(source), path
    assert "javascript:" not in source.lower(), path
