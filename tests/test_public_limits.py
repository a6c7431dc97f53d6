"""Rate limits on the resident's page ``/c/<token>`` (issue 10 item 11, docs/security.md):
60 requests a minute per address for the page and its statement together; unknown tokens
count against 10 a minute as well, from which a known token is exempt, so a guesser sharing
a resident's address never locks the resident out of their own page."""
from __future__ import annotations

import pytest

from wastebank import create_app
from wastebank.extensions import db
from wastebank.public.views import PUBLIC_LIMIT, UNKNOWN_TOKEN_LIMIT
from wastebank.services.members import live_card, revoke_card


@pytest.fixture
def limited(net, database_url):
    """A second app on the test's database with rate limits on (the testing config has them off)."""
    db.session.commit()
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": database_url, "RATELIMIT_ENABLED": True,
                                 "PUBLIC_BASE_URL": "https://bank.example"})
    yield app
    with app.app_context():
        db.engine.dispose()


def _from(address: str) -> dict:
    return {"environ_base": {"REMOTE_ADDR": address}}


def test_the_limits_are_the_documented_ones():
    assert PUBLIC_LIMIT == "60 per minute"
    assert UNKNOWN_TOKEN_LIMIT == "10 per minute;50 per hour"


def test_sixty_a_minute_per_address_for_page_and_statement(limited, net):
    token = live_card(net.members_a[0]).token
    db.session.close()  # SQLite: an open transaction of this session would hold the write lock
    client = limited.test_client()
    here = _from("203.0.113.20")
    statuses = [client.get(f"/c/{token}", **here).status_code for _ in range(50)]
    statuses += [client.get(f"/c/{token}/statement.pdf", **here).status_code for _ in range(10)]
    assert statuses == [200] * 60
    refused = client.get(f"/c/{token}", **here)
    assert refused.status_code == 429
    assert "Terlalu banyak" in refused.get_data(as_text=True)
    assert refused.headers["Referrer-Policy"] == "no-referrer"
    assert client.get(f"/c/{token}/statement.pdf", **here).status_code == 429
    # Another address is counted apart.
    assert client.get(f"/c/{token}", **_from("198.51.100.20")).status_code == 200


def test_guessing_tokens_stops_after_ten_without_locking_the_resident_out(limited, net):
    token = live_card(net.members_a[0]).token
    lost = live_card(net.members_a[1]).token
    revoke_card(net.members_a[1])
    db.session.commit()
    db.session.close()
    client = limited.test_client()
    here = _from("203.0.113.21")
    guesses = [client.get(f"/c/guess{i:04d}xxxxxxxxxxxxxxxxxxxxxxxxx", **here).status_code for i in range(12)]
    assert guesses == [404] * 10 + [429] * 2
    # The resident on the same (shared) address still opens their own page and statement.
    assert client.get(f"/c/{token}", **here).status_code == 200
    assert client.get(f"/c/{token}/statement.pdf", **here).status_code == 200
    # A revoked card is a real card: its "no longer valid" page is not a guess.
    assert client.get(f"/c/{lost}", **here).status_code == 410


@pytest.mark.parametrize("token", ["%00", "a%00b", "%E2%80%AE" * 3, "x" * 65, "ab%20cd"])
def test_odd_tokens_are_not_found(client, net, token):
    """No query with a NUL (PostgreSQL refuses them) or a token no card can have: 404."""
    response = client.get(f"/c/{token}")
    assert response.status_code == 404
    assert client.get(f"/c/{token}/statement.pdf").status_code == 404
