"""Domain errors raised by the services. Views and the API turn them into messages and 4xx.

Each carries ``code`` (stable, for the API), ``message`` (lazily translated) and ``field``
(the input it concerns, if any), and ``status`` (the HTTP status the API answers with).
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l


class DomainError(Exception):
    """Base of every refusal a user can cause. Nothing has been written when it is raised."""

    status = 422
    code = "invalid"

    def __init__(self, message=None, *, field: str | None = None, code: str | None = None):
        self.message = message if message is not None else _l("The request was refused.")
        self.field = field
        if code:
            self.code = code
        super().__init__(str(self.message))

    def to_dict(self) -> dict:
        """``{"code", "message", "field"}`` as in docs/rules.md §api's error body."""
        return {"code": self.code, "message": str(self.message), "field": self.field}


class ValidationFailed(DomainError):
    """One or more inputs are bad; ``errors`` maps field name → (code, message)."""

    status = 422
    code = "validation_failed"

    def __init__(self, errors: dict[str, tuple[str, object]]):
        self.errors = errors
        field, (code, message) = next(iter(errors.items()))
        super().__init__(message, field=field, code=code)


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class IdempotencyConflict(Conflict):
    """The idempotency key was used before with a different request (docs/rules.md §idempotency (I5))."""

    code = "idempotency_key_reused"

    def __init__(self):
        super().__init__(_l("This idempotency key was already used for a different request."),
                         field="Idempotency-Key")


class InsufficientBalance(Conflict):
    """The member's available savings do not cover the debit (docs/rules.md §balance (I2))."""

    code = "insufficient_balance"


class LedgerError(Exception):
    """A programming error in a journal entry (unbalanced, cross-unit, zero amount).

    Not a user error: it means a service built a bad entry, and nothing was written.
    """


class InsufficientStock(Conflict):
    """A stock account's quantity would go below zero (issue 4: only an explicit adjustment may)."""

    code = "insufficient_stock"


class PeriodClosed(Conflict):
    """The day the entry belongs to is closed for the unit (docs/rules.md §daily-close (I12))."""

    code = "day_closed"


class AlreadyReversed(Conflict):
    """The entry was reversed before (docs/rules.md §ledger (I8))."""

    code = "already_voided"


class Forbidden(DomainError):
    """The user's role may not do this (the API answers 403)."""

    status = 403
    code = "forbidden"


class DatabaseRefused(Conflict):
    """The database refused the data (a CHECK constraint, a foreign key, a ledger trigger):
    raised by ``run_in_transaction`` at once, never retried (issue 10 item 2)."""

    code = "refused_by_database"

    def __init__(self, message=None):
        super().__init__(message or _l("The database refused this change; nothing was saved."))


class MonthLocked(Conflict):
    """The entry is dated into a month that is locked (*tutup buku*, issue 12 item 6;
    docs/month-lock.md): corrections go into the open month."""

    code = "month_locked"
