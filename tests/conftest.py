"""Fixtures: app → db → client → login(role), on SQLite (default) or PostgreSQL.

Set ``DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1/<db>`` to run the suite on
PostgreSQL; the database must exist and is reset at the start of the run. On SQLite each test
gets a copy of a file database migrated once per run (never in-memory: docs/rules.md §concurrency
asks for a file database so that concurrency tests see real locking).
"""
from __future__ import annotations

import os
import re
import shutil

import pytest
from flask.globals import _cv_app
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text

from wastebank import create_app
from wastebank.extensions import db as _db

from .factories import PASSWORD, build_network

DATABASE_URL = os.environ.get("DATABASE_URL", "")
IS_POSTGRES = DATABASE_URL.startswith("postgresql")


def _upgrade(url: str) -> None:
    from flask_migrate import upgrade

    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade()
        _db.engine.dispose()


@pytest.fixture(scope="session")
def database_template(tmp_path_factory):
    """Migrate an empty database to head once per run: the SQLite file to copy, or the URL."""
    if IS_POSTGRES:
        engine = create_engine(DATABASE_URL, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
        _upgrade(DATABASE_URL)
        return DATABASE_URL
    path = tmp_path_factory.mktemp("template") / "template.sqlite"
    _upgrade(f"sqlite:///{path}")
    return path


def _reset_postgres(url: str) -> None:
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        tables = [row[0] for row in conn.execute(text(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'"))]
        # The ledger refuses TRUNCATE (migration 0005); tests reset with triggers switched off
        # for this superuser session only.
        conn.execute(text("SET session_replication_role = replica"))
        conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
        conn.execute(text("SET session_replication_role = DEFAULT"))
        conn.execute(text("ALTER SEQUENCE journal_entry_id_seq RESTART WITH 1"))
    engine.dispose()


@pytest.fixture
def database_url(database_template, tmp_path) -> str:
    """A fresh, migrated, empty database for one test."""
    if IS_POSTGRES:
        _reset_postgres(database_template)
        return database_template
    path = tmp_path / "wastebank.sqlite"
    shutil.copy(database_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def app(database_url, tmp_path):
    """The app on a fresh database, in an app context."""
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": database_url,
                                 "PUBLIC_BASE_URL": "https://bank.example"})
    app.instance_path = str(tmp_path / "instance")
    with app.app_context():
        yield app
        _db.session.remove()
        _db.engine.dispose()


@pytest.fixture
def net(app):
    """A small network: aggregator JKT, units RW05 (fee 0) and RW07, the shipped catalogue
    with prices, users per role and a few members. See ``factories.build_network``."""
    network = build_network()
    _db.session.commit()
    return network


class RequestIsolatingClient(FlaskClient):
    """A test client whose requests start with an empty ``g``, as in production.

    The ``app`` fixture keeps an app context pushed for the test's own database work, and Flask
    reuses it for the client's requests; without this, per-request caches kept in ``g`` (the
    logged-in user, the locale) would leak from one request to the next.
    """

    def open(self, *args, **kwargs):
        ctx = _cv_app.get(None)
        if ctx is not None:
            ctx.g.__dict__.clear()
        return super().open(*args, **kwargs)


@pytest.fixture
def client(app):
    app.test_client_class = RequestIsolatingClient
    return app.test_client()


_CSRF = re.compile(r'name="csrf_token"[^>]*?value="([^"]+)"')


def csrf_token(html: str) -> str:
    """The CSRF token in a rendered form."""
    match = _CSRF.search(html)
    assert match, "no csrf_token in page"
    return match.group(1)


@pytest.fixture
def login(client):
    """``login(username)`` logs the test client in through the real form."""

    def do_login(username: str, password: str = PASSWORD):
        page = client.get("/login")
        response = client.post("/login", data={"username": username, "password": password,
                                               "csrf_token": csrf_token(page.get_data(as_text=True))})
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return response

    return do_login


@pytest.fixture
def live_server(app, database_url, net):
    """The app served by a threaded werkzeug server on a free loopback port, on the same
    database as the test. Yields the base URL. The test's own session is closed first: on
    SQLite an open transaction holds the write lock (BEGIN IMMEDIATE). Objects made before
    stay readable, detached; after reading from the database, close the session again."""
    import threading

    from werkzeug.serving import make_server

    _db.session.commit()
    # Keep the fixtures' objects readable (loaded, detached) without holding a transaction.
    for obj in list(_db.session.identity_map.values()):
        _db.session.refresh(obj)
    _db.session.expunge_all()
    _db.session.close()
    server_app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": database_url,
                                        "PUBLIC_BASE_URL": "https://bank.example"})
    server = make_server("127.0.0.1", 0, server_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        with server_app.app_context():
            _db.engine.dispose()


@pytest.fixture
def tokens(net):
    """``tokens[username]`` → a bearer token for each user of the network."""
    from wastebank.auth.tokens import create_token

    issued = {name: create_token(user, "test") for name, user in net.users.items()}
    _db.session.commit()
    return issued


def bearer(token: str) -> dict:
    """The ``Authorization`` header of a bearer token."""
    return {"Authorization": f"Bearer {token}"}
