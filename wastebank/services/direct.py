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
"""
from __future__ import annotations

from collections import namedtuple
from typing import Any

from sqlalchemy import bindparam
from sqlalchemy.engine import Connection
from sqlalchemy.sql import Insert

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

    def __init__(self, rows: list):
        self._rows = rows

    def __iter__(self):
        return iter(self._rows)

    def all(self) -> list:
        return self._rows

    def first(self):
        return self._rows[0] if self._rows else None

    def one(self):
        if len(self._rows) != 1:
            from sqlalchemy.exc import MultipleResultsFound, NoResultFound
            raise (MultipleResultsFound if self._rows else NoResultFound)(
                f"{len(self._rows)} rows where exactly one was required")
        return self._rows[0]

    def scalar_one(self):
        return self.one()[0]

    def scalar(self):
        return self._rows[0][0] if self._rows else None


_PLANS: dict[tuple, Any] = {}
_CURSOR = "wb_direct_cursor"


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
    fetched = _run(conn, plan, values)
    if plan.row is None:
        return _NO_ROWS
    make = plan.row._make
    if plan.results is not None:
        return Rows([make(value if value is None or process is None else process(value)
                          for process, value in zip(plan.results, row, strict=True)) for row in fetched])
    return Rows([make(row) for row in fetched])


def _run(conn: Connection, plan: _Plan, values: list | dict) -> list:
    """Execute ``plan`` with the driver's ``values`` on the connection's cursor, the engine's
    cursor events around it; the rows, or [] for a statement without a result."""
    sql = plan.sql
    # One cursor per DBAPI connection, kept in the pool's per-connection info (cleared when
    # the connection is invalidated): creating a psycopg cursor costs about ten Python calls.
    fairy = conn.connection
    info = fairy.info
    cursor = info.get(_CURSOR)
    if cursor is None or cursor.connection is not fairy.dbapi_connection:
        cursor = info[_CURSOR] = fairy.dbapi_connection.cursor()
    dispatch = conn.dispatch
    try:
        for listener in dispatch.before_cursor_execute:
            listener(conn, cursor, sql, values, None, False)
        cursor.execute(sql, values)
        for listener in dispatch.after_cursor_execute:
            listener(conn, cursor, sql, values, None, False)
        # Whether there are rows is known from the plan: psycopg builds its description anew
        # at each access (about 35 Python calls).
        return cursor.fetchall() if plan.row is not None else []
    except BaseException as exc:
        info.pop(_CURSOR, None)
        conn._handle_dbapi_exception(exc, sql, values, cursor, None)
        raise  # not reached: the connection raises the wrapped error


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
