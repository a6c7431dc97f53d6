"""The hot path's prepared statements on the driver's own cursor (issue 13 item 1).

SQLAlchemy's ``Connection.execute`` costs about 110 Python calls per statement (execution
context, parameter and result processing, event dispatch; bench/README.md §Python calls per
request) — a third of a deposit's Python. A statement built once by
:func:`~.transaction.prepared` is compiled here once per dialect and shape (the keys of its
parameters, the number of rows of a multi-row INSERT), and then executed with the compiled SQL
on the DBAPI cursor of the session's own connection and transaction:

- the values go through the same bind processors SQLAlchemy would apply (its compiled
  ``_bind_processors``: the UTC datetime type, booleans on SQLite, …);
- the engine's ``before_cursor_execute``/``after_cursor_execute`` listeners still see every
  statement (the SQLite writer lock in db_setup.py, the statement counts of the tests);
- a DBAPI error is handled by the connection as its own would be (wrapped as IntegrityError,
  OperationalError …, a disconnect invalidates the connection), so ``run_in_transaction``'s
  retry rules are unchanged.

Only what needs nothing more is taken this way (:func:`_plan` decides once per shape): no
column default SQLAlchemy would compute (every column is given), no expanding or
literal-rendered parameter; result values go through their types' result processors as
SQLAlchemy's would (a ``Date`` on SQLite). Anything else returns None and the caller runs it through
SQLAlchemy — so the rule for what a statement means stays SQLAlchemy's, and this module only
skips the work a precompiled, plain statement does not need.

**Sent together (PostgreSQL).** After :func:`send_together`, the statements of this module are
sent in psycopg's pipeline mode: each goes out without waiting for the one before, and its
answer (a :class:`Rows` that reads when first used) is waited for only when the caller reads
it, which waits once for every statement sent so far. The same statements in the same order,
on one connection and transaction: only the waiting changes (a round trip on this machine costs
about 65 µs beside 25 µs for a statement sent in a pipeline, bench/README.md). The pipeline ends
(one wait for every answer still out) before SQLAlchemy runs a statement on the connection and
when the transaction commits or rolls back, so nothing else ever runs in pipeline mode. A
statement that failed raises its error then: at the read of an answer, at that next statement,
or at the commit, as SQLAlchemy's own wrapped error (IntegrityError …), and the transaction is
rolled back as after any failed statement. SQLite answers at once: there it is a no-op.
"""
from __future__ import annotations

import logging
from collections import namedtuple
from typing import Any

from sqlalchemy import bindparam, event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import Pool
from sqlalchemy.sql import Insert

log = logging.getLogger(__name__)

_INELIGIBLE = object()
_LITERAL = -1


class _Plan:
    """One compiled shape: the SQL; for each value the driver takes, in its order, the row it
    comes from (``_LITERAL``: a value compiled into the statement), its key in that row's
    params (or the literal value), its bind processor, and (named paramstyle) its name; the
    row type of the result."""

    __slots__ = ("sql", "binds", "names", "row", "results")

    def __init__(self, sql: str, binds: list[tuple], names: list[str] | None, row, results):
        self.sql, self.binds, self.names, self.row, self.results = sql, binds, names, row, results


class Rows:
    """The rows a statement answered, read as run_core's callers read a CursorResult:
    iteration, ``all``, ``first``, ``one``, ``scalar``, ``scalar_one``; each row a named tuple
    (by position or by column name)."""

    __slots__ = ("_rows",)

    def __init__(self, rows: list | None):
        self._rows = rows

    def _all(self) -> list:
        return self._rows

    def __iter__(self):
        return iter(self._all())

    def all(self) -> list:
        return self._all()

    def first(self):
        rows = self._all()
        return rows[0] if rows else None

    def one(self):
        rows = self._all()
        if len(rows) != 1:
            from sqlalchemy.exc import MultipleResultsFound, NoResultFound
            raise (MultipleResultsFound if rows else NoResultFound)(
                f"{len(rows)} rows where exactly one was required")
        return rows[0]

    def scalar_one(self):
        return self.one()[0]

    def scalar(self):
        rows = self._all()
        return rows[0][0] if rows else None


class _Pending(Rows):
    """The answer of a statement sent in a pipeline (:func:`send_together`), read from its own
    cursor when first used: that read waits for it and for every statement sent before it."""

    __slots__ = ("_conn", "_cursor", "_plan")

    def __init__(self, conn: Connection, cursor, plan: "_Plan"):
        super().__init__(None)
        self._conn, self._cursor, self._plan = conn, cursor, plan

    def _all(self) -> list:
        if self._rows is None:
            try:
                fetched = self._cursor.fetchall()
            except BaseException as exc:
                self._conn._handle_dbapi_exception(exc, self._plan.sql, None, self._cursor, None)
                raise  # not reached: the connection raises the wrapped error
            self._rows = _rows_of(self._plan, fetched)
        return self._rows


_PLANS: dict[tuple, Any] = {}
_CURSOR = "wb_direct_cursor"
_PIPELINE = "wb_direct_pipeline"


_NO_ROWS = Rows([])


def execute(conn: Connection, stmt, params: dict | list[dict] | None) -> Rows | None:
    """Execute the prepared ``stmt`` with ``params`` (one dict; or a list of dicts with the same
    keys: one multi-row INSERT) on a cursor of ``conn``'s DBAPI connection, inside its
    transaction. Returns None when the statement is not taken this way (see the module's
    docstring): the caller then runs it through ``conn.execute``. ``stmt`` must live as long as
    the process (a statement of :func:`~.transaction.prepared`): its id keys the plan.
    Raises what ``conn.execute`` would raise for a DBAPI error (sqlalchemy.exc.DBAPIError's
    subclasses)."""
    if not params:
        return None
    many = params.__class__ is list
    rows = params if many else (params,)
    cache_key = (id(stmt), conn.dialect.name, tuple(rows[0]), len(rows) if many else 0)
    plan = _PLANS.get(cache_key)
    if plan is None:
        plan = _PLANS[cache_key] = _plan(stmt, conn.dialect, cache_key[2], cache_key[3])
    if plan is _INELIGIBLE:
        return None
    values = [value if (value := (literal if index == _LITERAL else rows[index][literal])) is None
              or process is None else process(value)
              for index, literal, process in plan.binds]
    if plan.names is not None:
        values = dict(zip(plan.names, values, strict=True))
    fairy = conn.connection
    if plan.row is not None and _PIPELINE in fairy.info:
        # Its own cursor: a psycopg cursor keeps the answer of its last statement only.
        cursor = fairy.dbapi_connection.cursor()
        _send(conn, cursor, plan.sql, values)
        return _Pending(conn, cursor, plan)
    fetched = _run(conn, plan, values)
    if plan.row is None:
        return _NO_ROWS
    return Rows(_rows_of(plan, fetched))


def _rows_of(plan: _Plan, fetched: list) -> list:
    """The driver's rows as the plan's named tuples, through the result processors."""
    make = plan.row._make
    if plan.results is not None:
        return [make(value if value is None or process is None else process(value)
                     for process, value in zip(plan.results, row, strict=True)) for row in fetched]
    return [make(row) for row in fetched]


def _run(conn: Connection, plan: _Plan, values: list | dict) -> list:
    """Execute ``plan`` with the driver's ``values`` on the connection's cursor, the engine's
    cursor events around it; the rows, or [] for a statement without a result (in a pipeline:
    [] at once, the answer is checked when the pipeline ends)."""
    # One cursor per DBAPI connection, kept in the pool's per-connection info (cleared when
    # the connection is invalidated): creating a psycopg cursor costs about ten Python calls.
    fairy = conn.connection
    info = fairy.info
    cursor = info.get(_CURSOR)
    if cursor is None or cursor.connection is not fairy.dbapi_connection:
        cursor = info[_CURSOR] = fairy.dbapi_connection.cursor()
    _send(conn, cursor, plan.sql, values)
    if plan.row is None:
        return []
    try:
        # Whether there are rows is known from the plan: psycopg builds its description anew
        # at each access (about 35 Python calls).
        return cursor.fetchall()
    except BaseException as exc:
        info.pop(_CURSOR, None)
        conn._handle_dbapi_exception(exc, plan.sql, values, cursor, None)
        raise  # not reached: the connection raises the wrapped error


def _send(conn: Connection, cursor, sql: str, values: list | dict) -> None:
    """``cursor.execute`` with the engine's cursor events around it; a DBAPI error raised as
    SQLAlchemy's (the connection's own handling: wrapped, a disconnect invalidates)."""
    dispatch = conn.dispatch
    try:
        for listener in dispatch.before_cursor_execute:
            listener(conn, cursor, sql, values, None, False)
        cursor.execute(sql, values)
        for listener in dispatch.after_cursor_execute:
            listener(conn, cursor, sql, values, None, False)
    except BaseException as exc:
        conn.connection.info.pop(_CURSOR, None)
        conn._handle_dbapi_exception(exc, sql, values, cursor, None)
        raise  # not reached: the connection raises the wrapped error


def send_together(conn: Connection) -> None:
    """From now until SQLAlchemy runs a statement on ``conn`` or its transaction ends, send
    this module's statements without waiting for each answer (PostgreSQL with psycopg; see the
    module's docstring). No-op on SQLite and when already sending together."""
    if conn.dialect.driver != "psycopg":
        return
    fairy = conn.connection
    if _PIPELINE not in fairy.info:
        pipeline = fairy.dbapi_connection.pipeline()
        pipeline.__enter__()
        fairy.info[_PIPELINE] = pipeline


def sending_together(conn: Connection) -> bool:
    """Whether ``conn``'s statements are being sent together (:func:`send_together`)."""
    return _PIPELINE in conn.connection.info


def end_sending_together(conn: Connection, *, failing: bool = False) -> None:
    """End the pipeline of ``conn`` if one is open: wait for every answer still out. Raises the
    error of a statement that failed as SQLAlchemy's wrapped error, unless ``failing`` (the
    transaction is rolling back anyway: the error is logged)."""
    pipeline = conn.connection.info.pop(_PIPELINE, None)
    if pipeline is None:
        return
    try:
        pipeline.__exit__(None, None, None)
    except BaseException as exc:
        if failing:
            log.info("statement sent together failed before a rollback: %s", exc)
            return
        conn._handle_dbapi_exception(exc, "-- statements sent together (pipeline sync)", None, None, None)
        raise  # not reached: the connection raises the wrapped error


@event.listens_for(Engine, "before_execute")
def _end_before_sqlalchemy(conn, clauseelement, multiparams, params, execution_options):
    # SQLAlchemy reads a cursor's description at once, which a pipeline does not have yet.
    if _PIPELINE in conn.connection.info:
        end_sending_together(conn)


@event.listens_for(Engine, "commit")
def _end_before_commit(conn):
    if _PIPELINE in conn.connection.info:
        end_sending_together(conn)


@event.listens_for(Engine, "rollback")
def _end_before_rollback(conn):
    if conn.invalidated or conn.closed:
        return
    if _PIPELINE in conn.connection.info:
        end_sending_together(conn, failing=True)


@event.listens_for(Engine, "rollback_savepoint")
def _end_before_savepoint_rollback(conn, name, context):
    # Rolling back to a savepoint settles a failure inside it: ending the pipeline must not
    # raise that failure again (SQLAlchemy would then never emit ROLLBACK TO SAVEPOINT).
    if _PIPELINE in conn.connection.info:
        end_sending_together(conn, failing=True)


@event.listens_for(Engine, "release_savepoint")
def _end_before_release(conn, name, context):
    # A statement sent together inside the savepoint that failed is known only now: settle it
    # as if it had failed inside, where it was sent (the savepoint rolled back, its error
    # raised to the code that released it), not as a RELEASE in an aborted transaction.
    if _PIPELINE in conn.connection.info:
        try:
            end_sending_together(conn)
        except DBAPIError:
            conn.dialect.do_rollback_to_savepoint(conn, name)
            raise


@event.listens_for(Pool, "reset")
def _end_before_reset(dbapi_connection, connection_record, reset_state):
    # The pool's own rollback of a connection handed back in a transaction (no Connection event).
    pipeline = connection_record.info.pop(_PIPELINE, None) if connection_record is not None else None
    if pipeline is not None:
        try:
            pipeline.__exit__(None, None, None)
        except Exception as exc:  # the rollback that follows settles the transaction
            log.info("statement sent together failed before a reset: %s", exc)


def _plan(stmt, dialect, keys: tuple, rows: int):
    """Compile ``stmt`` for ``dialect`` and the parameter ``keys`` (``rows`` > 0: a multi-row
    INSERT of that many rows, one bind parameter per row and key, typed as its column);
    ``_INELIGIBLE`` when it needs what this module does not do."""
    if rows:
        if not isinstance(stmt, Insert):
            return _INELIGIBLE
        columns = stmt.table.c
        origin = {f"{key}__{i}": (i, key) for i in range(rows) for key in keys}
        stmt = stmt.values([{key: bindparam(f"{key}__{i}", type_=columns[key].type) for key in keys}
                            for i in range(rows)])
        compiled = stmt.compile(dialect=dialect)
    else:
        origin = {key: (0, key) for key in keys}
        compiled = stmt.compile(dialect=dialect, column_keys=list(keys))
    if compiled.insert_prefetch or compiled.update_prefetch or getattr(compiled, "escaped_bind_names", None):
        return _INELIGIBLE
    if any(b.expanding or b.literal_execute or b.callable is not None for b in compiled.binds.values()):
        return _INELIGIBLE
    result_keys, results = [], []
    for keyname, _name, _objects, type_ in compiled._result_columns:
        # The driver's type code is not known before the first row; the processors of the
        # types on the hot path (SQLite's Date and DateTime, the UTC type) do not read it.
        results.append(type_._cached_result_processor(dialect, None))
        result_keys.append(keyname)
    processors = compiled._bind_processors
    by_name = {}
    for bind, name in compiled.bind_names.items():
        index, key = origin.get(bind.key, (_LITERAL, bind.value))
        if index == _LITERAL and bind.required:
            return _INELIGIBLE  # a value the params do not give: let SQLAlchemy say so
        by_name[name] = (index, key, processors.get(name))
    order = list(compiled.positiontup) if dialect.positional else list(by_name)
    if any(name not in by_name for name in order):
        return _INELIGIBLE
    row = namedtuple("Row", result_keys, rename=True) if result_keys else None
    return _Plan(compiled.string, [by_name[name] for name in order],
                 None if dialect.positional else order, row,
                 results if any(process is not None for process in results) else None)
