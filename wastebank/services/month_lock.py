"""The month-lock rule (*tutup buku*, issue 12 item 6; docs/month-lock.md): which months are
locked and the check ``services.ledger.post_journal`` makes before every posting.

An entry is *dated* in the local (Asia/Jakarta) month of its ``recorded_at`` — the capture time,
which places a deposit in the month's statements (``reports/period.py``) — and it is also
*posted* in the month of ``posted_at`` (the server's now). Both months must be open: an offline
capture from a locked month is refused even though it would be posted today, because the
statements of its month are already issued. Corrections (voids) are posted now with
``recorded_at`` = now, so they land in the open month and name the original in ``reverses_id``.

This module reads only; locking and unlocking are in ``services/month_close.py``. It imports no
other service (``ledger`` imports it).
"""
from __future__ import annotations

from datetime import date, datetime

from babel.dates import format_date
from flask import has_request_context
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, or_, select

from ..extensions import db
from ..models import JournalEntry, MonthLock
from ..timeutil import local_month_bounds, to_local
from .errors import MonthLocked


def month_of(moment: datetime) -> date:
    """The first day of the local month of ``moment`` (an aware datetime)."""
    local = to_local(moment)
    return date(local.year, local.month, 1)


def month_label(month: date, locale: str | None = None) -> str:
    """``"November 2026"`` in ``locale`` (default: the request's language, else Indonesian)."""
    if locale is None:
        locale = str(get_locale() or "id") if has_request_context() else "id"
    return format_date(month, "LLLL yyyy", locale=locale)


def active_lock(unit_id: int, month: date) -> MonthLock | None:
    """The active lock of ``unit_id``'s ``month`` (first day), or None when the month is open."""
    return db.session.scalar(select(MonthLock).where(
        MonthLock.unit_id == unit_id, MonthLock.month == month, MonthLock.unlocked_at.is_(None)))


def locks_for(unit_ids: list[int], month: date) -> dict[int, MonthLock]:
    """Active locks of ``month`` by unit id, for the units in ``unit_ids`` that have one."""
    if not unit_ids:
        return {}
    rows = db.session.scalars(select(MonthLock).where(
        MonthLock.unit_id.in_(unit_ids), MonthLock.month == month, MonthLock.unlocked_at.is_(None)))
    return {row.unit_id: row for row in rows}


def check_month_open(unit_id: int, recorded_at: datetime, posted_at: datetime) -> None:
    """Raise MonthLocked (409 ``month_locked``) if the local month of ``recorded_at`` (what the
    entry is dated) or of ``posted_at`` is locked at ``unit_id``.

    Called by ``post_journal`` from ``_open_books``, which holds the unit's row ``FOR SHARE``
    until commit on PostgreSQL; a lock takes it ``FOR NO KEY UPDATE`` (``month_close``), so a
    lock waits for the postings in flight and a posting after it sees it.
    """
    months = {month_of(recorded_at), month_of(posted_at)}
    locked = db.session.scalar(select(MonthLock.month).where(
        MonthLock.unit_id == unit_id, MonthLock.month.in_(months), MonthLock.unlocked_at.is_(None))
        .order_by(MonthLock.month).limit(1))
    if locked is not None:
        raise MonthLocked(_l("The month %(month)s is closed (month lock): the statements were issued and "
                             "nothing more can be recorded in it. Record a correction in the current month, "
                             "or ask an admin to unlock the month; nothing was saved.",
                             month=month_label(locked)), field="recorded_at")


def lock_faults(unit_id: int | None = None) -> list[str]:
    """``ledger verify``'s check: no journal entry dated (``recorded_at``) in a locked month was
    posted while the lock was active (``posted_at`` ≥ ``locked_at`` and before its unlock).
    ``post_journal`` refuses them, so a hit means a row written around it (a direct INSERT)."""
    faults = []
    locks = select(MonthLock).order_by(MonthLock.unit_id, MonthLock.month, MonthLock.id)
    if unit_id is not None:
        locks = locks.where(MonthLock.unit_id == unit_id)
    for lock in db.session.scalars(locks):
        start, end = local_month_bounds(lock.month.year, lock.month.month)
        window = JournalEntry.posted_at > lock.locked_at  # a lock waits for postings in flight
        if lock.unlocked_at is not None:
            window = and_(window, JournalEntry.posted_at < lock.unlocked_at)
        dated = or_(and_(JournalEntry.recorded_at >= start, JournalEntry.recorded_at < end),
                    and_(JournalEntry.posted_at >= start, JournalEntry.posted_at < end))
        for entry_id, posted_at in db.session.execute(
                select(JournalEntry.id, JournalEntry.posted_at)
                .where(JournalEntry.unit_id == lock.unit_id, dated, window).order_by(JournalEntry.id)):
            faults.append(f"unit {lock.unit_id}: entry {entry_id} dated in locked month "
                          f"{lock.month.strftime('%Y-%m')} was posted at {posted_at.isoformat()}, "
                          f"after the lock of {lock.locked_at.isoformat()}")
    return faults
