"""Login against guessing (issue 10 item 10, docs/security.md): an unknown or inactive username
costs the same argon2 verification as a wrong password; failed logins are limited per address
and username and per address across usernames; the counts live in Redis when
``WASTEBANK_RATELIMIT_STORAGE_URI`` says so, shared by every worker."""
from __future__ import annotations

import json
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from argon2 import PasswordHasher, extract_parameters

from wastebank import create_app
from wastebank.auth import passwords
from wastebank.extensions import db

from .conftest import csrf_token
from .factories import PASSWORD

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def verify_calls(monkeypatch):
    """Every argon2 verification made, as the hash it was made against."""
    calls: list[str] = []
    real = PasswordHasher.verify

    def counting(self, hash, password):
        calls.append(hash if isinstance(hash, str) else hash.decode())
        return real(self, hash, password)

    monkeypatch.setattr(PasswordHasher, "verify", counting)
    return calls


def _post_login(client, username: str, password: str, **kwargs):
    token = csrf_token(client.get("/login", **kwargs).get_data(as_text=True))
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token},
                       **kwargs)


def test_unknown_and_inactive_users_cost_one_argon2_verification(client, net, verify_calls):
    user_hash = net.users["op_a"].password_hash
    unknown = _post_login(client, "nobody-here", PASSWORD)
    assert unknown.status_code == 200 and "Nama pengguna atau kata sandi salah" in unknown.get_data(as_text=True)
    assert len(verify_calls) == 1
    dummy = verify_calls[0]
    assert dummy == passwords.dummy_hash() and dummy != user_hash
    # The same argon2 variant and cost as a real user's hash: the same time spent.
    assert extract_parameters(dummy) == extract_parameters(user_hash)

    wrong = _post_login(client, "op_a", "not-the-password")
    assert wrong.status_code == 200 and verify_calls[1:] == [user_hash]

    net.users["op_b"].active = False
    db.session.commit()
    inactive = _post_login(client, "op_b", PASSWORD)  # the right password of a deactivated user
    assert inactive.status_code == 200 and "Nama pengguna atau kata sandi salah" in inactive.get_data(as_text=True)
    assert verify_calls[2:] == [net.users["op_b"].password_hash]

    assert _post_login(client, "op_a", PASSWORD).status_code == 302
    assert len(verify_calls) == 4


def test_dummy_hash_has_the_production_cost(app):
    """Outside TESTING the dummy hash is made by argon2-cffi's default hasher, as real ones are."""
    app.config["ARGON2_FAST"] = False
    dummy = passwords.dummy_hash()
    assert extract_parameters(dummy) == extract_parameters(PasswordHasher().hash("x"))
    assert passwords.check_login(None, "x") is False


def _limited_app(database_url, **config):
    # The limiter is one object for every app of the process and remembers a storage it found
    # down (test_unreachable_storage_…) until it checks again; each test starts from a live one.
    from wastebank.extensions import limiter

    limiter._storage_dead = False
    return create_app("testing", {"SQLALCHEMY_DATABASE_URI": database_url, "RATELIMIT_ENABLED": True,
                                  **config})


def test_thirty_usernames_from_one_address_are_limited(net, database_url):
    app = _limited_app(database_url)
    client = app.test_client()
    here = {"environ_base": {"REMOTE_ADDR": "203.0.113.7"}}
    statuses = [_post_login(client, f"tebakan{i:02d}", "guess-123", **here).status_code for i in range(30)]
    assert statuses == [200] * 20 + [429] * 10
    # Even the right password is refused from that address for now …
    assert _post_login(client, "op_a", PASSWORD, **here).status_code == 429
    # … while another address (another collection point) logs in.
    assert _post_login(app.test_client(), "op_a", PASSWORD,
                       environ_base={"REMOTE_ADDR": "198.51.100.9"}).status_code == 302
    with app.app_context():
        db.engine.dispose()


def test_successful_logins_do_not_count(net, database_url):
    """A collection point's tablets all log in from one address every morning."""
    app = _limited_app(database_url)
    here = {"environ_base": {"REMOTE_ADDR": "203.0.113.8"}}
    statuses = [_post_login(app.test_client(), "op_a", PASSWORD, **here).status_code for _ in range(25)]
    assert statuses == [302] * 25
    with app.app_context():
        db.engine.dispose()


def test_unreachable_storage_falls_back_to_counting_in_memory(net, database_url):
    app = _limited_app(database_url, RATELIMIT_STORAGE_URI="redis://127.0.0.1:1/0")
    client = app.test_client()
    statuses = [_post_login(client, "op_a", "wrong-guess").status_code for _ in range(12)]
    assert 500 not in statuses and statuses[-1] == 429, statuses
    with app.app_context():
        db.engine.dispose()


def _redis_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5):
            return True
    except OSError:
        return False


WORKER = """
import json, sys
from wastebank import create_app
from tests.conftest import csrf_token
url, prefix, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": url, "RATELIMIT_ENABLED": True,
                             "RATELIMIT_KEY_PREFIX": prefix})
client = app.test_client()
statuses = []
for _ in range(count):
    token = csrf_token(client.get("/login").get_data(as_text=True))
    statuses.append(client.post("/login", data={"username": "op_a", "password": "wrong-guess",
                                                "csrf_token": token}).status_code)
from wastebank.extensions import limiter
print(json.dumps({"statuses": statuses, "storage": type(limiter.storage).__name__}))
"""


@pytest.mark.skipif(not _redis_up(), reason="no Redis on 127.0.0.1:6379")
def test_workers_share_the_counts_in_redis(net, database_url, monkeypatch):
    """Two workers, one Redis (``WASTEBANK_RATELIMIT_STORAGE_URI``): 6 wrong passwords in this
    process and 6 in another make 12 against the limit of 10."""
    import redis

    db.session.close()
    prefix = f"wastebank-test-{uuid.uuid4().hex}"
    monkeypatch.setenv("WASTEBANK_RATELIMIT_STORAGE_URI", "redis://127.0.0.1:6379/15")
    try:
        app = _limited_app(database_url, RATELIMIT_KEY_PREFIX=prefix)
        assert app.config["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:6379/15"
        client = app.test_client()
        first = [_post_login(client, "op_a", "wrong-guess").status_code for _ in range(6)]
        with app.app_context():
            db.engine.dispose()
        done = subprocess.run([sys.executable, "-c", WORKER, str(database_url), prefix, "6"], cwd=ROOT,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr[-2000:]
        second = json.loads(done.stdout.strip().splitlines()[-1])
        assert first == [200] * 6
        assert second == {"statuses": [200] * 4 + [429] * 2, "storage": "RedisStorage"}
    finally:
        store = redis.Redis.from_url("redis://127.0.0.1:6379/15")
        keys = list(store.scan_iter(f"*{prefix}*"))
        if keys:
            store.delete(*keys)
        store.close()
    assert keys, "the counts were kept in Redis"
