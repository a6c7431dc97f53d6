"""Engine settings per database (docs/rules.md §concurrency).

SQLite: Python's sqlite3 driver does not begin a transaction before a SELECT, so reads would
not be isolated. Following SQLAlchemy's "Transactions with SQLite and the sqlite3 driver", the
driver's own transaction handling is switched off and we emit ``BEGIN IMMEDIATE`` ourselves,
taking the write lock up front so concurrent writers wait on ``busy_timeout`` instead of
failing with "database is locked". WAL, ``synchronous=FULL`` and foreign keys on.
"""
from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.engine import Engine

SQLITE_BUSY_TIMEOUT_MS = 30_000


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


@event.listens_for(Engine, "begin")
def _on_begin(connection):
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN IMMEDIATE")
