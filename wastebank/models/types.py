"""Column types shared by the models."""
from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timezone

from sqlalchemy import DateTime
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator):
    """A timezone-aware UTC timestamp on every database.

    Python side: an aware ``datetime`` (any zone in, UTC out). SQLite stores naive UTC text,
    PostgreSQL ``timestamptz``. Raises ValueError for a naive datetime, which would be ambiguous.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


_frozen_now: ContextVar[datetime | None] = ContextVar("frozen_now", default=None)


def utcnow() -> datetime:
    """The current time, aware, in UTC (or the time set by ``clock_at`` in this context)."""
    return _frozen_now.get() or datetime.now(timezone.utc)


@contextmanager
def clock_at(moment: datetime):
    """Make ``utcnow()`` return ``moment`` (aware) inside the block: for loading historical
    demo data and for tests of time bucketing. Never used by request handling."""
    if moment.tzinfo is None:
        raise ValueError("clock_at needs an aware datetime")
    token = _frozen_now.set(moment.astimezone(timezone.utc))
    try:
        yield
    finally:
        _frozen_now.reset(token)
