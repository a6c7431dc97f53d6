"""Run one business operation as one transaction, retrying transient conflicts.

What counts as transient (issue 10 item 2): a concurrent twin won a race and the same work,
started again, will see it — a unique violation (the same idempotency key, account, counter
row or import written first), a deadlock, a serialization failure, a lock timeout, SQLite's
"database is locked". Everything else the database refuses — a CHECK constraint (a savings
balance below zero), NOT NULL, a foreign key, a ledger trigger — would be refused again on
every attempt, so it is not retried: it becomes :class:`~.errors.DatabaseRefused` (409) at
once, and nothing is written.

The ledger triggers refuse with a SQLSTATE of their own on PostgreSQL, ``WB001``
(:data:`LEDGER_REFUSED`, migration 0009, as django-hordak's triggers raise theirs); on SQLite
their ``RAISE(ABORT, …)`` is reported as a constraint failure, an IntegrityError like a CHECK.
"""
from __future__ import annotations

import contextlib
import logging
import time
import weakref
from typing import Callable, TypeVar

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import event
from sqlalchemy.engine import Connection, CursorResult
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.sql import Executable

from ..db_setup import fresh_snapshot_for_writes, writer_lock_from_start
from ..extensions import db
from . import direct
from .errors import Conflict, DatabaseRefused

T = TypeVar("T")

log = logging.getLogger(__name__)

# PostgreSQL SQLSTATEs: unique_violation, serialization_failure, deadlock_detected,
# lock_not_available.
_PG_UNIQUE = "23505"
_PG_TRANSIENT = {"40001", "40P01", "55P03"}
# What the ledger guard functions raise (migration 0009): class "WB" is ours, not PostgreSQL's.
LEDGER_REFUSED = "WB001"
# raise_exception: a bare RAISE EXCEPTION, still raised by the deferred balance re-check at
# COMMIT (migration 0005; see 0009 for why it keeps it).
_PG_REFUSED = {LEDGER_REFUSED, "P0001"}
_SQLITE_TRANSIENT = ("database is locked", "database table is locked")


class RunAgain(Exception):
    """Raised by an operation that found, at a snapshot newer than its first reads, that its
    outcome must be decided again from scratch: a twin with its idempotency key committed
    after the key was looked up and before the work refused (services/idempotency.py
    :func:`~.idempotency.execute`). Transient: ``run_in_transaction`` rolls back and runs it
    again (under the writer lock on SQLite, so the retry sees the twin and replays it)."""


def _sqlstate(exc: DBAPIError) -> str | None:
    return getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)


def is_unique_violation(exc: Exception) -> bool:
    """True for a unique (or primary key) violation on PostgreSQL or SQLite."""
    if not isinstance(exc, IntegrityError):
        return False
    state = _sqlstate(exc)
    if state is not None:
        return state == _PG_UNIQUE
    return str(exc.orig).startswith("UNIQUE constraint failed")


def is_transient(exc: Exception) -> bool:
    """True when running the operation again may succeed: a unique violation from a
    concurrent twin, a deadlock, a serialization failure, a lock timeout, SQLite busy,
    :class:`RunAgain`."""
    if isinstance(exc, RunAgain) or is_unique_violation(exc):
        return True
    if isinstance(exc, IntegrityError) or not isinstance(exc, DBAPIError):
        return False
    state = _sqlstate(exc)
    if state is not None:
        return state in _PG_TRANSIENT
    return any(word in str(exc.orig).lower() for word in _SQLITE_TRANSIENT)


def is_refusal(exc: Exception) -> bool:
    """True when the database refused the data itself: any integrity error other than a
    unique violation (CHECK, NOT NULL, foreign key; SQLite's trigger ``RAISE(ABORT)`` is one
    too) or a PostgreSQL ledger trigger's refusal (SQLSTATE :data:`LEDGER_REFUSED`, or P0001
    from the deferred balance re-check)."""
    if isinstance(exc, IntegrityError):
        return not is_unique_violation(exc)
    return isinstance(exc, DBAPIError) and _sqlstate(exc) in _PG_REFUSED


_PREPARED: dict[tuple[str, str], Executable] = {}
_PREPARED_IDS: set[int] = set()


def prepared(name: str, build: Callable[[str], Executable]) -> Executable:
    """The Core statement ``name`` for the session's database, built once per process by
    ``build(dialect_name)`` (``"sqlite"`` or ``"postgresql"``) with bind parameters for every
    value. The hot path's statements are then neither constructed nor compiled per request:
    SQLAlchemy compiles a statement object once and reuses it from its cache (issue 13 item 1;
    building a statement costs more than executing it). ``name`` must say everything that
    shapes the statement (e.g. how many rows of a CASE)."""
    dialect = dialect_name()
    stmt = _PREPARED.get((name, dialect))
    if stmt is None:
        stmt = _PREPARED[(name, dialect)] = build(dialect)
        _PREPARED_IDS.add(id(stmt))  # alive in _PREPARED for the process: the id is never reused
    return stmt


_DIALECTS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def dialect_name() -> str:
    """``"sqlite"`` or ``"postgresql"``: the dialect of the current app's database, looked up
    once per app (the session's bind is the app's one engine: no binds are configured). Asking
    the session for its bind costs about ten Python calls, once per statement of the hot path.
    Needs an app context."""
    app = current_app._get_current_object()
    name = _DIALECTS.get(app)
    if name is None:
        name = _DIALECTS[app] = db.session.get_bind().dialect.name
    return name


def run_core(stmt: Executable, params: dict | list[dict] | None = None) -> CursorResult:
    """Execute a Core statement on the session's own connection and transaction, without the
    ORM's execute (its autoflush, ORM compile state and events: nothing of the ORM is read or
    written). A list of ``params`` is one executemany (one statement on both databases).
    For writes of the hot path whose rows the session does not hold.

    A statement of :func:`prepared` runs on the driver's cursor with its SQL compiled once
    (services/direct.py) when it needs nothing more; the answer then has the CursorResult
    methods its callers use (iteration, all, first, one, scalar, scalar_one)."""
    conn = session_connection()
    if id(stmt) in _PREPARED_IDS:
        rows = direct.execute(conn, stmt, params)
        if rows is not None:
            return rows
    return conn.execute(stmt, params)


_CONNECTION = "wb_connection"


def session_connection() -> Connection:
    """The session's Connection in its current transaction, as ``db.session.connection()``
    gives it, kept in the session's info until a transaction (a savepoint's too) begins or
    ends: asking the session costs about sixteen Python calls, once per statement of the hot
    path. (Asked again inside a savepoint, the session emits its SAVEPOINT then.)"""
    session = db.session()
    conn = session.info.get(_CONNECTION)
    if conn is None or not conn.in_transaction():
        conn = session.info[_CONNECTION] = session.connection()
    return conn


@event.listens_for(Session, "after_transaction_create")
@event.listens_for(Session, "after_transaction_end")
def _forget_connection(session, transaction) -> None:
    # A savepoint's session transaction begins its SAVEPOINT when first asked for the
    # connection; the outermost one's connection goes back to the pool at its end.
    session.info.pop(_CONNECTION, None)


def send_together() -> None:
    """Send the session's next hot-path statements together (PostgreSQL's pipeline mode,
    services/direct.py §Sent together) until SQLAlchemy runs a statement or the transaction
    ends: run_core then answers with rows read when first used. A no-op on SQLite. For a
    write batch whose statements do not each need the answer of the one before (the deposit's:
    three waits for nine statements instead of nine)."""
    direct.send_together(session_connection())


def dialect_insert(dialect: str):
    """The ``insert()`` of ``dialect`` (``"postgresql"`` or ``"sqlite"``), the one with
    ``on_conflict_do_nothing``/``on_conflict_do_update``."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


def insert_or_ignore(model, **values) -> None:
    """``INSERT … ON CONFLICT DO NOTHING`` of one ``model`` row in the session's dialect
    (PostgreSQL or SQLite): creates a counter or account row on first use unless a concurrent
    twin already did, without a unique violation that would abort the transaction."""
    insert = dialect_insert(dialect_name())
    db.session.execute(insert(model).values(**values).on_conflict_do_nothing())


def run_in_transaction(operation: Callable[[], T], attempts: int = 5, *,
                       rechecks_under_lock: bool = False) -> T:
    """Call ``operation`` and commit; on a transient conflict (:func:`is_transient`) roll
    back and call it again, up to ``attempts`` times.

    Raises DatabaseRefused (409) at the first attempt the database refuses the data
    (:func:`is_refusal`), Conflict (409) when a unique violation outlives every attempt (it
    is then not a race but a real duplicate), and re-raises anything else (DomainError from
    the service included) after rolling back.

    The operation must be safe to re-run from scratch, which idempotent services are.

    SQLite (docs/rules.md §concurrency): the first attempt begins deferred and reads without
    a lock; if its write finds the snapshot stale (``SQLITE_BUSY_SNAPSHOT``, "database is
    locked") it is retried, and every retry takes the writer lock before ``BEGIN IMMEDIATE``
    (:func:`~wastebank.db_setup.writer_lock_from_start`), so it cannot lose the race again.
    ``rechecks_under_lock``: the operation reads or enforces in its write batch everything its
    writes depend on (a guarded update, a unique row, the closed-day read after its first
    write), so on SQLite its first attempt writes at a fresh snapshot instead of failing on a
    stale one (:func:`~wastebank.db_setup.fresh_snapshot_for_writes`; the deposit).
    """
    with contextlib.ExitStack() as retrying:
        if rechecks_under_lock:
            retrying.enter_context(fresh_snapshot_for_writes())
        for attempt in range(1, attempts + 1):
            try:
                return _attempt(operation)
            except Exception as exc:
                _after_failure(exc, attempt, attempts)
                if attempt == 1:
                    retrying.enter_context(writer_lock_from_start())
    raise AssertionError("unreachable")


def _attempt(operation: Callable[[], T]) -> T:
    result = operation()
    db.session.commit()
    return result


def _after_failure(exc: Exception, attempt: int, attempts: int) -> None:
    """Roll back; re-raise unless ``exc`` is transient and attempts remain."""
    db.session.rollback()
    if is_refusal(exc):
        # Logged: a refusal means a service let bad data through to the database.
        log.warning("database refused the operation: %s", exc.orig)
        raise DatabaseRefused() from exc
    if not is_transient(exc):
        raise exc
    if attempt == attempts:
        if is_unique_violation(exc):
            raise Conflict(_l("This conflicts with what is already recorded.")) from exc
        raise exc
    log.info("transient conflict, attempt %d of %d, retrying: %s", attempt, attempts,
             getattr(exc, "orig", exc))
    if not _is_sqlite():
        time.sleep(0.01 * attempt)


def _is_sqlite() -> bool:
    return dialect_name() == "sqlite"
