"""SQLite: the write lock only for the writes (issue 13 item 2, docs/rules.md §concurrency).

Reads begin deferred and take no lock; writers queue on the writer lock (a kernel flock and an
in-process lock) instead of SQLite's polling busy handler; a stale read followed by a write
fails with SQLITE_BUSY_SNAPSHOT and ``run_in_transaction`` retries it under the lock.
"""
from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import text

from tests.conftest import IS_POSTGRES
from wastebank import db_setup  # noqa: F401  (registers the lock_engine events)
from wastebank.extensions import db
from wastebank.services.transaction import run_in_transaction

pytestmark = pytest.mark.skipif(IS_POSTGRES, reason="SQLite write lock only")




def _lock(conn):
    return conn.connection.info[db_setup._KEY]


def test_a_read_takes_no_write_lock_while_a_writer_holds_it(lock_engine):
    """While one connection has an open write transaction, a read completes at once."""
    with lock_engine.connect() as writer, lock_engine.connect() as reader:
        writer.begin()
        writer.execute(text("UPDATE t SET x = 5 WHERE id = 1"))
        assert _lock(writer).held
        started = time.monotonic()
        with reader.begin():
            assert reader.execute(text("SELECT x FROM t")).scalar() == 0  # its snapshot
            assert not _lock(reader).held
        assert time.monotonic() - started < 0.5
        writer.commit()
        assert not _lock(writer).held
        with reader.begin():
            assert reader.execute(text("SELECT x FROM t")).scalar() == 5


def test_writers_queue_on_the_lock_and_proceed_right_after_commit(lock_engine):
    """A second writer blocks on the writer lock (not in busy polling) and runs as soon as the
    first commits: no "database is locked", finished within a few ms of the release."""
    released_at: list[float] = []
    done_at: list[float] = []
    errors: list[BaseException] = []
    holding = threading.Event()

    def second() -> None:
        holding.wait(5)
        try:
            with lock_engine.begin() as conn:
                conn.execute(text("UPDATE t SET x = x + 10 WHERE id = 1"))
            done_at.append(time.monotonic())
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    thread = threading.Thread(target=second)
    thread.start()
    with lock_engine.begin() as conn:
        conn.execute(text("UPDATE t SET x = x + 1 WHERE id = 1"))
        holding.set()
        time.sleep(0.3)
        assert done_at == []  # still queued behind us
        released_at.append(time.monotonic())
    thread.join(10)
    assert errors == []
    # SQLite's busy handler would sleep up to 100 ms between polls; the queue wakes at once.
    assert done_at[0] - released_at[0] < 0.08
    with lock_engine.connect() as conn:
        assert conn.execute(text("SELECT x FROM t")).scalar() == 11


def test_a_stale_read_then_write_is_refused_at_once(lock_engine):
    """Deferred transaction: read at snapshot S, another commits, the write fails with
    SQLITE_BUSY_SNAPSHOT at once (not after the 30 s busy timeout)."""
    import sqlite3

    from sqlalchemy.exc import OperationalError

    with lock_engine.connect() as stale, lock_engine.connect() as other:
        stale.begin()
        assert stale.execute(text("SELECT x FROM t")).scalar() == 0
        with other.begin():
            other.execute(text("UPDATE t SET x = 1 WHERE id = 1"))
        started = time.monotonic()
        with pytest.raises(OperationalError) as caught:
            stale.execute(text("UPDATE t SET x = 100 WHERE id = 1"))
        assert time.monotonic() - started < 1.0
        assert isinstance(caught.value.orig, sqlite3.OperationalError)
        assert caught.value.orig.sqlite_errorname == "SQLITE_BUSY_SNAPSHOT"
        stale.rollback()
        assert not _lock(stale).held


def test_run_in_transaction_retries_a_stale_read_and_the_result_is_correct(app):
    """Two read-modify-write operations read the same value at once; the loser's write is
    refused (stale snapshot) and retried under the lock: both increments land, no error."""
    with app.app_context():
        db.session.execute(text("CREATE TABLE wl_counter (id INTEGER PRIMARY KEY, n INTEGER)"))
        db.session.execute(text("INSERT INTO wl_counter VALUES (1, 0)"))
        db.session.commit()
    barrier = threading.Barrier(2, timeout=10)
    attempts: list[int] = []
    errors: list[BaseException] = []

    def worker() -> None:
        with app.app_context():
            calls = 0

            def operation() -> None:
                nonlocal calls
                calls += 1
                n = db.session.execute(text("SELECT n FROM wl_counter")).scalar()
                if calls == 1:
                    barrier.wait()  # both have read the same n
                db.session.execute(text("UPDATE wl_counter SET n = :n"), {"n": n + 1})

            try:
                run_in_transaction(operation)
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)
            attempts.append(calls)
            db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    assert sorted(attempts) == [1, 2]
    with app.app_context():
        assert db.session.execute(text("SELECT n FROM wl_counter")).scalar() == 2
