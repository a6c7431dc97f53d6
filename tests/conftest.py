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
import threading
from contextlib import contextmanager
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest
from flask.globals import _cv_app
from flask.testing import FlaskClient
from jinja2 import BytecodeCache
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool as _NullPool
from werkzeug.serving import WSGIRequestHandler, make_server

from wastebank import create_app
from wastebank.extensions import db as _db

from .factories import PASSWORD, build_network, load_network

DATABASE_URL = os.environ.get("DATABASE_URL", "")
IS_POSTGRES = DATABASE_URL.startswith("postgresql")


# Work every test repeats in create_app that gives the same result each time; done once per run.
# 1. werkzeug compiles two URL builder functions per route (ast + compile, ≈90 routes) for each
#    new app. A builder's code depends only on the rule's parsed trace, its default names and
#    which variant it is (``Rule._compile_builder``); rules with a default for one of their own
#    variables (resolved through the converter) are compiled as usual.
def _memoise_werkzeug_builders() -> None:
    from werkzeug.routing.rules import Rule

    original = Rule._compile_builder
    builders: dict = {}

    def compile_builder(self, append_unknown=True):
        defaults = self.defaults or {}
        if defaults and any(dynamic and data in defaults for dynamic, data in self._trace):
            return original(self, append_unknown)
        key = (self.rule, tuple(self._trace), tuple(str(k) for k in defaults), bool(append_unknown))
        if key not in builders:
            builders[key] = original(self, append_unknown)
        return builders[key]

    Rule._compile_builder = compile_builder


# 2. Each app has its own Jinja environment, which compiles every template it renders; the
#    compiled code is shared through a bytecode cache (checked against the template's source).
class _MemoryBytecodeCache(BytecodeCache):
    def __init__(self):
        self.store: dict[str, bytes] = {}

    def load_bytecode(self, bucket):
        if bucket.key in self.store:
            bucket.bytecode_from_string(self.store[bucket.key])

    def dump_bytecode(self, bucket):
        self.store[bucket.key] = bucket.bytecode_to_string()


def _share_jinja_bytecode() -> None:
    from flask import Flask

    Flask.jinja_options = {**Flask.jinja_options, "bytecode_cache": _MemoryBytecodeCache()}


_memoise_werkzeug_builders()
_share_jinja_bytecode()


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


def _pg_tables(conn) -> list[str]:
    return [row[0] for row in conn.execute(text(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version' "
        "ORDER BY tablename"))]


def _pg_sequences(conn) -> list[tuple[str, int, int | None]]:
    """(name, start value, last value or None when never used) of every sequence in public."""
    return [tuple(row) for row in conn.execute(text(
        "SELECT sequencename, start_value, last_value FROM pg_sequences WHERE schemaname = 'public' "
        "ORDER BY sequencename"))]


class _PostgresReset:
    """Empties the test database between tests, and optionally loads the network snapshot.

    One connection for the whole run, one round trip per test: ``DELETE`` of every table (with
    the session's triggers off: the ledger refuses deletes and TRUNCATE, migration 0005; this
    superuser session only) and every sequence set back to its start, as ``TRUNCATE … RESTART
    IDENTITY`` did, only without TRUNCATE's per-table file work (≈40 tables, mostly empty). With
    a snapshot, its rows are then copied back in (``COPY``) and the sequences set to where the
    snapshot left them."""

    def __init__(self, url: str):
        self.engine = create_engine(url, isolation_level="AUTOCOMMIT", poolclass=_NullPool)
        self.raw = self.engine.raw_connection()
        self.raw.driver_connection.autocommit = True
        with self.engine.connect() as conn:
            self.tables = _pg_tables(conn)
            sequences = _pg_sequences(conn)
        self.empty_sql = ("SET session_replication_role = replica; "
                          + "".join(f'DELETE FROM "{t}"; ' for t in self.tables)
                          + "".join(f"SELECT setval('\"{name}\"', {start}, false); " for name, start, _ in sequences)
                          + "SET session_replication_role = DEFAULT")

    def reset(self, snapshot: dict | None = None) -> None:
        cur = self.raw.driver_connection.cursor()
        cur.execute(self.empty_sql)
        if snapshot is not None:
            cur.execute("SET session_replication_role = replica")
            for table, data in snapshot["tables"].items():
                with cur.copy(f'COPY "{table}" FROM STDIN') as copy:
                    copy.write(data)
            cur.execute("".join(f"SELECT setval('\"{name}\"', {last}, true); "
                                for name, _start, last in snapshot["sequences"] if last is not None)
                        + "SET session_replication_role = DEFAULT")
        cur.close()

    def dump(self) -> dict:
        """Every non-empty table's rows (COPY text format) and the sequences' positions."""
        cur = self.raw.driver_connection.cursor()
        tables = {}
        for table in self.tables:
            with cur.copy(f'COPY "{table}" TO STDOUT') as copy:
                data = b"".join(bytes(block) for block in copy)
            if data:
                tables[table] = data
        cur.close()
        with self.engine.connect() as conn:
            sequences = _pg_sequences(conn)
        return {"tables": tables, "sequences": sequences}

    def close(self) -> None:
        self.raw.close()
        self.engine.dispose()


@pytest.fixture(scope="session")
def _postgres_reset(database_template):
    if not IS_POSTGRES:
        yield None
        return
    reset = _PostgresReset(database_template)
    yield reset
    reset.close()


def _snapshot_day() -> tuple:
    """The UTC and the deployment's local date now: a network snapshot is only used on the day
    it was made (``unit_start_day`` and "today" figures read the units' ``created_at``)."""
    from config import TestingConfig

    now = datetime.now(timezone.utc)
    return now.date(), now.astimezone(ZoneInfo(TestingConfig.TIMEZONE)).date()


class _NetworkSnapshot:
    """``build_network()`` run once per run (again if the date changes) into a database kept as
    a template: a SQLite file to copy, or PostgreSQL rows to COPY back. Tests that ask for
    ``net`` start from it instead of building the same rows through the services each time
    (≈0.4 s a test); ``net`` then loads the same objects by their keys (``load_network``)."""

    def __init__(self, template, reset, tmp_path_factory):
        self.template, self.reset, self.tmp_path_factory = template, reset, tmp_path_factory
        self.day = None
        self.value = None

    def get(self):
        if self.day != _snapshot_day():
            self.day = _snapshot_day()
            self.value = self._build()
        return self.value

    def _build(self):
        if IS_POSTGRES:
            self.reset.reset()
            url = self.template
        else:
            path = self.tmp_path_factory.mktemp("network") / "network.sqlite"
            shutil.copy(self.template, path)
            url = f"sqlite:///{path}"
        app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": url, "PUBLIC_BASE_URL": "https://bank.example"})
        with app.app_context():
            build_network()
            _db.session.commit()
            _db.session.remove()
            _db.engine.dispose()
        return self.reset.dump() if IS_POSTGRES else path


@pytest.fixture(scope="session")
def _network_snapshot(database_template, _postgres_reset, tmp_path_factory):
    return _NetworkSnapshot(database_template, _postgres_reset, tmp_path_factory)


_NET_RESTORED = pytest.StashKey[bool]()


@pytest.fixture
def database_url(request, database_template, _postgres_reset, _network_snapshot, tmp_path) -> str:
    """A fresh, migrated database for one test: empty, or holding the network snapshot when
    the test asks for ``net`` (the ``net`` fixture then loads it instead of building it)."""
    snapshot = None
    if "net" in request.fixturenames:
        snapshot = _network_snapshot.get()
        request.node.stash[_NET_RESTORED] = True
    if IS_POSTGRES:
        _postgres_reset.reset(snapshot)
        return database_template
    path = tmp_path / "wastebank.sqlite"
    shutil.copy(snapshot or database_template, path)
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
def net(request, app):
    """A small network: aggregator JKT, units RW05 (fee 0) and RW07, the shipped catalogue
    with prices, users per role and a few members. See ``factories.build_network``: the rows
    it writes come from the run's snapshot of it (``database_url``), or, when the test only
    asked for ``net`` late (``request.getfixturevalue``), are built here."""
    if request.node.stash.get(_NET_RESTORED, False):
        network = load_network()
    else:
        network = build_network()
    _db.session.commit()  # no transaction left open (on SQLite it would hold the write lock)
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


class _Requests:
    """The requests a live server is answering. Once ``refuse()`` is called it answers no new
    one (werkzeug closes every connection after one answer, but Chromium opens connections ahead
    of requests: one the server accepted before its end can still carry a request after it), and
    ``wait`` waits for those already running."""

    def __init__(self):
        self._cond = threading.Condition()
        self._running: dict[int, str] = {}
        self._next = 0
        self._refusing = False
        self._when_idle = None

    def enter(self, what: str) -> int | None:
        with self._cond:
            if self._refusing:
                return None
            self._next += 1
            self._running[self._next] = what
            return self._next

    def leave(self, key: int) -> None:
        with self._cond:
            del self._running[key]
            self._cond.notify_all()
            then = self._when_idle if not self._running else None
            if then is not None:
                self._when_idle = None
        if then is not None:
            then()

    def refuse(self) -> None:
        with self._cond:
            self._refusing = True

    def wait(self, timeout: float) -> list[str]:
        """Wait up to ``timeout`` s for the running requests; those still running."""
        with self._cond:
            self._cond.wait_for(lambda: not self._running, timeout)
            return sorted(self._running.values())

    def when_idle(self, callback) -> None:
        """``callback()`` once no request runs: now, or when the last one still running ends."""
        with self._cond:
            if self._running:
                self._when_idle = callback
                return
        callback()


class _RequestHandler(WSGIRequestHandler):
    """werkzeug's handler, each request counted in the server's ``requests`` from its parsed
    headers to its last byte sent (the app's teardown, which returns the connection to the pool,
    is before); once the server refuses requests: 503 and the connection closed, without the app."""

    def run_wsgi(self) -> None:
        key = self.server.requests.enter(f"{self.command} {self.path}")
        if key is None:
            self.send_error(503, "live server stopped")  # Connection: close
            return
        try:
            super().run_wsgi()
        finally:
            self.server.requests.leave(key)


class LiveServer:
    """The app on ``database_url`` served by a threaded werkzeug server on a free loopback port.

    ``stop()`` refuses new requests, stops accepting connections, waits up to ``wait`` s for the
    requests still running (a page reloading or a fetch still out when the test ends) and only
    then disposes the server app's engines, so that every connection those requests used is back
    in the pool and closed. Disposing while one still ran returned its connection to the disposed
    pool, where it stayed open until garbage collection (psycopg's "was deleted while still open"
    ResourceWarning during a later test, CI at 7726043). A request still running after ``wait``
    fails the test, by name; the engines are then disposed when it ends."""

    def __init__(self, database_url: str):
        self.app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": database_url,
                                          "PUBLIC_BASE_URL": "https://bank.example"})
        with self.app.app_context():
            self.engines = list(_db.engines.values())
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True, request_handler=_RequestHandler)
        self.server.requests = _Requests()
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        # A short poll: shutdown() waits for it (0.5 s by default, at every browser test's end).
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)
        self.thread.start()

    def _dispose(self) -> None:
        for engine in self.engines:
            engine.dispose()

    def stop(self, wait: float = 5.0) -> None:
        requests = self.server.requests
        requests.refuse()
        self.server.shutdown()  # serve_forever ends and closes the listening socket
        self.thread.join(timeout=10)
        still_running = requests.wait(wait)
        requests.when_idle(self._dispose)
        if still_running:
            pytest.fail(f"live server: {len(still_running)} request(s) still running {wait:g} s after the "
                        f"test ended: {', '.join(still_running)}", pytrace=False)


@contextmanager
def serve_live(database_url: str, wait: float = 5.0):
    """A :class:`LiveServer` on ``database_url`` for the ``with`` block; stopped at its end."""
    live = LiveServer(database_url)
    try:
        yield live
    finally:
        live.stop(wait)


@pytest.fixture
def live_server(app, database_url, net):
    """The app served by a threaded werkzeug server on a free loopback port, on the same
    database as the test (:class:`LiveServer`). Yields the base URL. The test's own session is
    closed first: on SQLite a transaction that wrote holds the writer lock until it ends. Objects
    made before stay readable, detached; after reading from the database, close the session
    again. At the end the server answers no more requests and waits (5 s at most) for those
    still running before its engine is disposed."""
    _db.session.commit()
    # Keep the fixtures' objects readable (loaded, detached) without holding a transaction.
    for obj in list(_db.session.identity_map.values()):
        _db.session.refresh(obj)
    _db.session.expunge_all()
    _db.session.close()
    with serve_live(database_url) as live:
        yield live.url


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


@pytest.fixture
def lock_engine(tmp_path):
    """A raw engine on a fresh SQLite file holding one table ``t (id, x)`` with the row
    ``(1, 0)``: for the writer-lock and fresh-snapshot tests, which need two connections of
    their own to one file (never an in-memory database, which serialises everything)."""
    eng = create_engine(f"sqlite:///{tmp_path / 'lock.sqlite'}")
    with eng.begin() as conn:
        conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, x INTEGER NOT NULL)"))
        conn.execute(text("INSERT INTO t (id, x) VALUES (1, 0)"))
    yield eng
    eng.dispose()
