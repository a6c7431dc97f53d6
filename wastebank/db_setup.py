"""Engine settings per database (docs/rules.md §concurrency).

SQLite: Python's sqlite3 driver does not begin a transaction before a SELECT, so reads would
not be isolated. Following SQLAlchemy's "Transactions with SQLite and the sqlite3 driver", the
driver's own transaction handling is switched off and we emit ``BEGIN`` ourselves. WAL,
``synchronous=FULL`` and foreign keys on.

The write lock only for the writes (issue 13 item 2). A transaction begins *deferred*: reads
(every GET) take no lock and see one snapshot. Before its first write statement the connection
takes the **writer lock**: an in-process :class:`threading.Lock` per database file (threads
queue on it without polling) and then ``fcntl.flock(LOCK_EX)`` on ``<db>.writer-lock`` (other
processes queue in the kernel). It is released after COMMIT/ROLLBACK (and on close). So writers
wait for each other in the kernel, not in SQLite's busy handler, which stays only as a fallback
against outside processes that do not take the lock.

Serializable: in WAL mode a deferred transaction that read at snapshot S and then writes after
another connection committed fails at once with ``SQLITE_BUSY_SNAPSHOT`` ("database is
locked", the busy handler is not called). So a transaction whose write succeeds read current
data. ``run_in_transaction`` retries that error, and the retry runs under
:func:`writer_lock_from_start`: the lock is taken *before* ``BEGIN IMMEDIATE``, so the retry
cannot lose again. In-memory databases take no writer lock. PostgreSQL is not touched.

Under load that retry is the rule, not the exception: with two workers recording deposits,
the other one has nearly always committed between a deposit's first read and its first write,
so most deposits ran twice (measured: about 180 retries a second at 200 deposits a second).
An operation that re-checks under the lock everything its writes depend on (the deposit: the
closed day, the month lock, the entry id and the balance guards are read or enforced in its
write batch; the idempotency key is a unique row) runs inside :func:`fresh_snapshot_for_writes`:
at its first write it takes the writer lock and then ends its read transaction and begins
``IMMEDIATE`` on the raw connection, so its writes see the latest data and cannot fail stale.
Its earlier reads are then as PostgreSQL's READ COMMITTED would have them (docs/rules.md
§concurrency). A transaction that opened a savepoint before its first write is not split.
"""
from __future__ import annotations

import contextlib
import contextvars
import fcntl
import os
import sqlite3
import threading

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.pool import Pool

SQLITE_BUSY_TIMEOUT_MS = 30_000

# Statements that never write: they take no writer lock (SAVEPOINT etc. write nothing).
_NON_WRITES = ("SELECT", "PRAGMA", "BEGIN", "SAVEPOINT", "RELEASE", "ROLLBACK", "COMMIT",
               "EXPLAIN")
_KEY = "wb_writer_lock"

_immediate: contextvars.ContextVar[bool] = contextvars.ContextVar("wb_sqlite_immediate",
                                                                  default=False)
_fresh_writes: contextvars.ContextVar[bool] = contextvars.ContextVar("wb_sqlite_fresh_writes",
                                                                     default=False)
_process_locks: dict[str, threading.Lock] = {}
_process_locks_guard = threading.Lock()


class WriterLockTimeout(sqlite3.OperationalError):
    """The in-process writer lock was not free within the busy timeout (reported, like
    SQLite's own timeout, as "database is locked": transient)."""


class _WriterLock:
    """One connection's handle on the writer lock of one database file.

    ``fd`` is this connection's own open file description of ``<db>.writer-lock`` (flock locks
    belong to it); ``thread_lock`` is shared by every connection of this process to the file.
    """

    def __init__(self, db_path: str):
        lock_path = db_path + ".writer-lock"
        self.fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        with _process_locks_guard:
            self.thread_lock = _process_locks.setdefault(os.path.realpath(lock_path),
                                                         threading.Lock())
        self.held = False
        # A SAVEPOINT was opened in the current transaction (it must then not be split).
        self.savepoint = False

    def acquire(self) -> None:
        """Block until this connection holds the writer lock (no-op if it does)."""
        if self.held:
            return
        if not self.thread_lock.acquire(timeout=SQLITE_BUSY_TIMEOUT_MS / 1000):
            raise WriterLockTimeout("database is locked (writer lock timeout)")
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX)
        except BaseException:
            self.thread_lock.release()
            raise
        self.held = True

    def release(self) -> None:
        """Release the writer lock if held."""
        self.savepoint = False
        if not self.held:
            return
        self.held = False
        try:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
        finally:
            self.thread_lock.release()

    def close(self) -> None:
        """Release and close the lock file."""
        self.release()
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


@contextlib.contextmanager
def writer_lock_from_start():
    """Within the block, SQLite transactions take the writer lock and then ``BEGIN
    IMMEDIATE`` at their start (used by retries, which must not lose a race twice)."""
    token = _immediate.set(True)
    try:
        yield
    finally:
        _immediate.reset(token)


@contextlib.contextmanager
def fresh_snapshot_for_writes():
    """Within the block, a SQLite transaction's first write takes the writer lock and starts a
    new ``IMMEDIATE`` transaction on the raw connection (see the module docstring): for
    operations that re-check under the lock whatever their writes depend on. The reads made
    before that write stay in the ORM session as read."""
    token = _fresh_writes.set(True)
    try:
        yield
    finally:
        _fresh_writes.reset(token)


def _main_db_path(dbapi_connection) -> str | None:
    """The file of the ``main`` database, or None for an in-memory/temporary one."""
    cursor = dbapi_connection.cursor()
    try:
        for _seq, name, file in cursor.execute("PRAGMA database_list").fetchall():
            if name == "main":
                return file or None
    finally:
        cursor.close()
    return None


def _lock_of(info) -> _WriterLock | None:
    return info.get(_KEY)


@event.listens_for(Engine, "connect")
def _on_connect(dbapi_connection, connection_record):
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = FULL")
        cursor.execute("PRAGMA foreign_keys = ON")
        # INSERT OR REPLACE deletes the old row; with recursive triggers on, that delete fires
        # the ledger's append-only triggers and is refused (otherwise it would slip past them).
        cursor.execute("PRAGMA recursive_triggers = ON")
        cursor.close()
        path = _main_db_path(dbapi_connection)
        if path is not None:
            connection_record.info[_KEY] = _WriterLock(path)


@event.listens_for(Engine, "engine_connect")
def _on_engine_connect(connection):
    """Wrap the SQLite dialect's commit/rollback once so the writer lock is released *after*
    the database has committed or rolled back (ConnectionEvents fire before)."""
    dialect = connection.dialect
    if dialect.name != "sqlite" or getattr(dialect, "_wb_writer_lock_wrapped", False):
        return
    do_commit, do_rollback = dialect.do_commit, dialect.do_rollback

    def _commit(dbapi_connection):
        try:
            do_commit(dbapi_connection)
        finally:
            _release(dbapi_connection)

    def _rollback(dbapi_connection):
        try:
            do_rollback(dbapi_connection)
        finally:
            _release(dbapi_connection)

    dialect.do_commit, dialect.do_rollback = _commit, _rollback
    dialect._wb_writer_lock_wrapped = True


def _release(dbapi_connection) -> None:
    info = getattr(dbapi_connection, "info", None)
    lock = _lock_of(info) if info is not None else None
    if lock is not None and not _in_transaction(dbapi_connection):
        lock.release()


def _in_transaction(dbapi_connection) -> bool:
    raw = getattr(dbapi_connection, "dbapi_connection", dbapi_connection)
    return bool(getattr(raw, "in_transaction", False))


@event.listens_for(Engine, "begin")
def _on_begin(connection):
    if connection.dialect.name == "sqlite":
        fairy = connection.connection
        lock = _lock_of(fairy.info)
        if lock is not None and _immediate.get():
            lock.acquire()
            _begin(connection, fairy, "BEGIN IMMEDIATE")
        else:
            _begin(connection, fairy, "BEGIN")


def _begin(connection, fairy, sql: str) -> None:
    """``sql`` on the DBAPI connection itself: SQLAlchemy's ``exec_driver_sql`` costs about 45
    Python calls, once per transaction of every request. Transaction control is no statement
    the cursor events need to see (the writer lock above is taken here; the statement counts
    leave it out). An error is raised as SQLAlchemy's, as exec_driver_sql would (a
    "database is locked" is then the OperationalError the retry rules know)."""
    try:
        fairy.dbapi_connection.execute(sql)
    except Exception as exc:
        connection._handle_dbapi_exception(exc, sql, (), None, None)


@event.listens_for(Engine, "before_cursor_execute")
def _before_write(conn, cursor, statement, parameters, context, executemany):
    """Take the writer lock before a transaction's first write statement."""
    if conn.dialect.name != "sqlite":
        return
    lock = _lock_of(conn.connection.info)
    if lock is None or lock.held:
        return
    words = statement.lstrip().split(None, 1)
    first = words[0].upper() if words else ""
    if first == "SAVEPOINT":
        lock.savepoint = True
    if not words or first in _NON_WRITES:
        return
    lock.acquire()
    if _fresh_writes.get() and not lock.savepoint:
        raw = conn.connection.dbapi_connection
        if raw.in_transaction:
            # The read transaction wrote nothing: end it and write at the newest snapshot.
            raw.execute("COMMIT")
            raw.execute("BEGIN IMMEDIATE")


@event.listens_for(Pool, "checkin")
def _on_checkin(dbapi_connection, connection_record):
    lock = _lock_of(connection_record.info) if connection_record is not None else None
    if lock is not None:
        lock.release()


@event.listens_for(Pool, "close")
def _on_close(dbapi_connection, connection_record):
    lock = _lock_of(connection_record.info)
    if lock is not None:
        lock.close()


@event.listens_for(Pool, "invalidate")
def _on_invalidate(dbapi_connection, connection_record, exception):
    lock = _lock_of(connection_record.info)
    if lock is not None:
        lock.release()
