"""The live server's end (``tests/conftest.py``, ``LiveServer.stop``): a request still running
when a browser test ends (a page reloading, a fetch still out) is waited for before the server
app's engine is disposed, and its database connection is then closed, not left open for the
garbage collector (psycopg's "was deleted while still open" ResourceWarning during a later test,
CI at 7726043); a request arriving after the end on a connection accepted before it is refused; one
still running past the wait fails the test by name and its connection is closed when it ends.

The slow request is the public unit page ``/u/RW05``, made to hold its connection (it has read
the unit) for a while by a stand-in for ``unit_page_figures``.
"""
from __future__ import annotations

import socket
import sqlite3
import threading
import time
import urllib.request

import pytest

from wastebank.extensions import db
from wastebank.public import unit_page

from .conftest import serve_live


def _closed(dbapi_connection) -> bool:
    if hasattr(dbapi_connection, "closed"):  # psycopg
        return bool(dbapi_connection.closed)
    try:
        dbapi_connection.total_changes  # noqa: B018  (raises once closed)
    except sqlite3.ProgrammingError as exc:
        return "closed" in str(exc)
    return False


@pytest.fixture
def released(net):
    """The network, with the test's session closed (SQLite: no writer lock held)."""
    db.session.commit()
    db.session.close()
    return net


@pytest.fixture
def slow_unit_page(monkeypatch):
    """``/u/<code>`` holds its database connection for ``seen['hold']`` s (default 1) after
    reading the unit; ``seen`` gets the connection, ``inside`` is set once it holds it."""
    seen: dict = {"hold": 1.0, "inside": threading.Event()}
    real = unit_page.unit_page_figures

    def slowly(*args, **kwargs):
        seen["connection"] = db.session.connection().connection.driver_connection
        seen["inside"].set()
        time.sleep(seen["hold"])
        try:
            return real(*args, **kwargs)
        finally:
            seen["app_done_at"] = time.monotonic()

    monkeypatch.setattr(unit_page, "unit_page_figures", slowly)
    return seen


def _fetch_in_thread(url: str, seen: dict) -> threading.Thread:
    def fetch():
        with urllib.request.urlopen(url, timeout=30) as response:
            seen["status"] = response.status
            seen["body"] = response.read().decode()

    thread = threading.Thread(target=fetch, daemon=True)
    thread.start()
    return thread


def test_a_request_running_at_the_end_is_waited_for_and_its_connection_closed(
        database_url, released, slow_unit_page):
    seen = slow_unit_page
    with serve_live(database_url) as live:
        fetch = _fetch_in_thread(f"{live.url}/u/RW05", seen)
        assert seen["inside"].wait(10)
    stopped_at = time.monotonic()
    assert seen.get("app_done_at", float("inf")) < stopped_at  # the end waited for the request
    assert _closed(seen["connection"])  # back in the pool before the engine was disposed
    assert [engine.pool.checkedout() for engine in live.engines] == [0]
    fetch.join(10)
    assert seen["status"] == 200 and "RW05" in seen["body"]


def _handler_threads() -> set[threading.Thread]:
    return {thread for thread in threading.enumerate() if "process_request_thread" in thread.name}


def test_a_request_on_a_connection_opened_before_the_end_is_answered_503_without_the_app(
        database_url, released, slow_unit_page):
    """Chromium opens connections ahead of requests; one the server accepted before its end can
    carry a request after it (the engine disposed): refused, before the app opens a connection."""
    seen = slow_unit_page
    before = _handler_threads()
    with serve_live(database_url) as live:
        sock = socket.create_connection(("127.0.0.1", live.server.server_port), timeout=10)
        sock.sendall(b"GET /u/RW05 HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # the headers not yet ended
        deadline = time.monotonic() + 10
        while not _handler_threads() - before and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(_handler_threads() - before) == 1  # accepted, waiting for the rest of the request
    sock.sendall(b"\r\n")
    answer = b""
    while chunk := sock.recv(65536):
        answer += chunk
    sock.close()
    assert answer.startswith(b"HTTP/1.1 503 ") and b"\r\nConnection: close\r\n" in answer
    assert "connection" not in seen  # the app never ran


def test_a_request_running_past_the_wait_fails_the_test_and_its_connection_is_closed_when_it_ends(
        database_url, released, slow_unit_page):
    seen = slow_unit_page
    seen["hold"] = 1.5
    running = r"1 request\(s\) still running 0.2 s after the test ended: GET /u/RW05"
    with pytest.raises(pytest.fail.Exception, match=running), serve_live(database_url, wait=0.2) as live:
        fetch = _fetch_in_thread(f"{live.url}/u/RW05", seen)
        assert seen["inside"].wait(10)
    assert not _closed(seen["connection"])  # still in use
    fetch.join(10)
    assert seen["status"] == 200
    deadline = time.monotonic() + 5
    while not _closed(seen["connection"]) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert _closed(seen["connection"])
