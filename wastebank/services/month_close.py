"""Locking and unlocking a month (*tutup buku*, issue 12 item 6; docs/month-lock.md).

Who: an aggregator's staff lock a month for all the aggregator's units at once; a unit's
manager locks their own unit only when it belongs to no aggregator; admins may do either.
Unlocking needs an admin and a reason. Both are audited (``month.lock`` / ``month.unlock``, one
row per unit). The month must be over (local time) before it can be locked: its statements are
issued from complete data. The rule every posting obeys is in ``services/month_lock.py``.

Functions here flush, never commit: callers wrap them in ``run_in_transaction``. ``user`` None
means the command line (``flask ledger lock/unlock``): the server's operator, trusted as an admin.
"""
from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..extensions import db
from ..models import Aggregator, MonthLock, Unit, User, utcnow
from ..timeutil import local_month_bounds
from . import reasons
from .audit import audit
from .errors import Conflict, Forbidden
from .ledger import lock_books
from .month_lock import locks_for, month_label
from .scope import update_in_unit

MAX_REASON = reasons.MAX_REASON


def _month(year: int, month: int) -> date:
    return date(year, month, 1)


def units_of(aggregator: Aggregator) -> list[Unit]:
    """The aggregator's units, by id (the lock order)."""
    return list(db.session.scalars(select(Unit).where(Unit.aggregator_id == aggregator.id).order_by(Unit.id)))


def may_lock(user: User, *, aggregator: Aggregator | None = None, unit: Unit | None = None) -> bool:
    """True if ``user`` may lock months of ``aggregator`` (all its units) or of the standalone
    ``unit``: admins always; aggregator staff for their own aggregator; a unit manager for their
    own unit when it has no aggregator."""
    from ..auth.permissions import has_permission

    if not has_permission(user, "month.lock"):
        return False
    if has_permission(user, "admin"):
        return True
    if aggregator is not None:
        return user.role == "aggregator_staff" and user.aggregator_id == aggregator.id
    if unit is not None:
        return user.role == "unit_manager" and user.unit_id == unit.id and unit.aggregator_id is None
    return False


def lock_month(units: list[Unit], year: int, month: int, user: User | None) -> list[MonthLock]:
    """Lock local month ``year``-``month`` for every unit in ``units`` not yet locked; returns
    the new locks (empty when all were locked already: locking twice changes nothing).

    The caller checked :func:`may_lock`. Each unit's row is taken ``FOR NO KEY UPDATE`` (ids
    ascending) so postings in flight finish first and later ones see the lock. Writes the audit
    row ``month.lock`` per unit. Raises Conflict ``month_not_over`` while the month has not
    ended, Conflict ``no_units`` for an empty list.
    """
    if not units:
        raise Conflict(_l("There is no unit to lock."), code="no_units")
    first = _month(year, month)
    if local_month_bounds(year, month)[1] > utcnow():
        raise Conflict(_l("%(month)s is not over yet: a month is closed after its statements are issued.",
                          month=month_label(first)), code="month_not_over")
    units = sorted(units, key=lambda u: u.id)
    for unit in units:
        lock_books(unit.id, close=True)
    already = locks_for([u.id for u in units], first)
    now = utcnow()
    made = []
    for unit in units:
        if unit.id in already:
            continue
        lock = MonthLock(unit_id=unit.id, month=first, locked_at=now, locked_by_id=user.id if user else None)
        db.session.add(lock)
        db.session.flush()
        audit("month.lock", unit_id=unit.id, user_id=user.id if user else None, object_type="month_lock",
              object_id=lock.id,
              details={"month": first.strftime("%Y-%m"), "unit": unit.code})
        made.append(lock)
    return made


def clean_reason(reason: str | None) -> str:
    """The unlock reason, by the one reason rule (``services.reasons.clean_reason``). Raises
    ValidationFailed (``reason``) when it is empty, too long (300) or has control characters."""
    return reasons.clean_reason(reason, _l("Give the reason for unlocking the month."))


def unlock_month(units: list[Unit], year: int, month: int, user: User | None, reason: str) -> list[MonthLock]:
    """Unlock ``year``-``month`` for the locked units among ``units``: admins only, with a
    reason; the lock rows keep who unlocked, when and why, and ``month.unlock`` is audited per
    unit. Returns the unlocked rows. Raises Forbidden (403) for anyone but an admin,
    ValidationFailed for the reason, Conflict ``not_locked`` when none of the units is locked."""
    from ..auth.permissions import has_permission

    if user is not None and not has_permission(user, "month.unlock"):
        raise Forbidden(_l("Only an admin may unlock a closed month."))
    reason = clean_reason(reason)
    first = _month(year, month)
    units = sorted(units, key=lambda u: u.id)
    for unit in units:
        lock_books(unit.id, close=True)
    locks = locks_for([u.id for u in units], first)
    if not locks:
        raise Conflict(_l("%(month)s is not closed for these units.", month=month_label(first)), code="not_locked")
    now = utcnow()
    codes = {u.id: u.code for u in units}
    for unit_id, lock in sorted(locks.items()):
        update_in_unit(lock, unlocked_at=now, unlocked_by_id=user.id if user else None, unlock_reason=reason)
        audit("month.unlock", unit_id=unit_id, user_id=user.id if user else None, object_type="month_lock",
              object_id=lock.id,
              details={"month": first.strftime("%Y-%m"), "unit": codes[unit_id], "reason": reason,
                       "locked_at": lock.locked_at, "locked_by_id": lock.locked_by_id})
    return [locks[k] for k in sorted(locks)]
