"""Run one business operation as one transaction, retrying transient conflicts."""
from __future__ import annotations

import time
from typing import Callable, TypeVar

from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from ..extensions import db

T = TypeVar("T")

_TRANSIENT = ("deadlock detected", "could not serialize", "database is locked",
              "serialization failure", "lock timeout")


def _is_transient(exc: Exception) -> bool:
    if isinstance(exc, IntegrityError):
        # A concurrent twin wrote the same idempotency key, account or counter first.
        return True
    if isinstance(exc, (OperationalError, DBAPIError)):
        return any(word in str(exc.orig).lower() for word in _TRANSIENT)
    return False


def run_in_transaction(operation: Callable[[], T], attempts: int = 5) -> T:
    """Call ``operation`` and commit; on a transient database conflict (unique violation from
    a concurrent twin, deadlock, serialization failure, SQLite busy) roll back and call it again,
    up to ``attempts`` times. Any other exception rolls back and propagates.

    The operation must be safe to re-run from scratch, which idempotent services are.
    """
    for attempt in range(1, attempts + 1):
        try:
            result = operation()
            db.session.commit()
            return result
        except Exception as exc:
            db.session.rollback()
            if attempt == attempts or not _is_transient(exc):
                raise
            time.sleep(0.01 * attempt)
    raise AssertionError("unreachable")
