"""Cash book and daily close (issue 4 item 5).

Every cash movement is a posting on the unit's ``cash`` account. A day is a local calendar day
(SPEC §3 "Time"); a posting belongs to the local day of its entry's ``posted_at``. At the end of
the day the cash is counted; ``close_day`` posts counted − expected to the cash-adjustment
account through a normal, reversible entry and writes the DayClose, after which
``post_journal`` refuses postings into that day or any earlier one (LEDGER.md I12).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from ..extensions import db
from ..models import DayClose, JournalEntry, Posting, Unit, User
from ..money import InputError, format_idr, parse_rupiah
from ..timeutil import local_day_bounds, local_today
from .audit import audit
from .errors import Conflict, DomainError, ValidationFailed
from .ledger import Leg, post_journal, system_account


@dataclass(frozen=True)
class CashMovement:
    """One posting on the cash account: ``amount_idr`` positive for cash in, negative out;
    ``running_idr`` the cash balance after it."""

    entry_id: int
    posted_at: datetime
    kind: str
    memo: str
    amount_idr: int
    running_idr: int
    reverses_id: int | None = None


@dataclass
class CashBook:
    """The cash book of one local day (rupiah): ``opening_idr`` balance at local midnight,
    each movement with its running balance, ``closing_idr`` at the end of the day (or now)."""

    unit: Unit
    day: date
    opening_idr: int
    movements: list[CashMovement] = field(default_factory=list)
    close: DayClose | None = None

    @property
    def closing_idr(self) -> int:
        return self.movements[-1].running_idr if self.movements else self.opening_idr

    @property
    def cash_in_idr(self) -> int:
        return sum(m.amount_idr for m in self.movements if m.amount_idr > 0)

    @property
    def cash_out_idr(self) -> int:
        return -sum(m.amount_idr for m in self.movements if m.amount_idr < 0)


def _cash_sum_before(account_id: int, moment: datetime) -> int:
    return int(db.session.scalar(
        select(func.coalesce(func.sum(Posting.amount), 0))
        .join(JournalEntry, JournalEntry.id == Posting.entry_id)
        .where(Posting.account_id == account_id, JournalEntry.posted_at < moment)) or 0)


def expected_cash(unit: Unit, day: date | None = None) -> int:
    """Rupiah that should be in the cash box at the end of local ``day`` (default today): the
    sum of the cash account's postings up to local midnight after ``day``. For today this is
    the cash account's balance."""
    account = system_account(unit.id, "cash")
    if day is None or day >= local_today():
        db.session.refresh(account)
        return account.balance
    return _cash_sum_before(account.id, local_day_bounds(day)[1])


def last_closed_day(unit_id: int) -> date | None:
    """The latest closed business date of the unit; that day and every earlier one is closed."""
    return db.session.scalar(select(func.max(DayClose.business_date)).where(DayClose.unit_id == unit_id))


def get_close(unit_id: int, day: date) -> DayClose | None:
    """The DayClose of ``unit_id`` for ``day``, or None."""
    return db.session.scalar(select(DayClose).where(DayClose.unit_id == unit_id, DayClose.business_date == day))


def cash_book(unit: Unit, day: date) -> CashBook:
    """Every cash movement of local ``day`` at ``unit``, oldest first, with running balance."""
    account = system_account(unit.id, "cash")
    start, end = local_day_bounds(day)
    running = _cash_sum_before(account.id, start)
    book = CashBook(unit, day, running, close=get_close(unit.id, day))
    rows = db.session.execute(
        select(JournalEntry, Posting.amount)
        .join(Posting, Posting.entry_id == JournalEntry.id)
        .where(Posting.account_id == account.id, JournalEntry.posted_at >= start, JournalEntry.posted_at < end)
        .order_by(JournalEntry.posted_at, JournalEntry.id, Posting.id))
    for entry, amount in rows:
        running += amount
        book.movements.append(CashMovement(entry.id, entry.posted_at, entry.kind, entry.memo, amount, running,
                                           entry.reverses_id))
    return book


def parse_counted(text: str | int) -> int:
    """Counted cash in rupiah (``"123.500"``); zero allowed. Raises ValidationFailed."""
    if isinstance(text, int) and not isinstance(text, bool):
        if text < 0:
            raise ValidationFailed({"counted_cash_idr": ("not_positive", _l("The count cannot be negative."))})
        return text
    raw = str(text or "").strip()
    if raw.lower().replace("rp", "").strip() in ("0", "0,00", "0.00"):
        return 0
    try:
        return parse_rupiah(raw)
    except InputError as exc:
        raise ValidationFailed({"counted_cash_idr": (exc.code, exc.message)}) from exc


def close_day(unit: Unit, business_date: date, counted_cash_idr: int | str, user: User) -> DayClose:
    """Close local ``business_date`` at ``unit`` with the cash counted in the box.

    Expected cash is ``expected_cash(unit, business_date)``; the difference (counted − expected)
    is posted as one entry of kind ``cash_count`` — Dr cash / Cr cash adjustments when there is
    more cash than expected, the reverse when short — posted now (reversible with
    ``ledger.reverse_entry`` on a later, open day); then the DayClose is written and audited.

    Flushes, never commits. Raises Conflict (code ``day_already_closed``) when the day or a
    later one is already closed, ValidationFailed for a future day or a bad count, Forbidden-like
    DomainError for staff of another unit, PeriodClosed.
    """
    if user.unit_id != unit.id:
        raise DomainError(_l("Only staff of this unit may close its day."), code="wrong_unit")
    counted = parse_counted(counted_cash_idr)
    if business_date > local_today():
        raise ValidationFailed({"business_date": ("in_future", _l("A day cannot be closed before it starts."))})
    closed = last_closed_day(unit.id)
    if closed is not None and business_date <= closed:
        raise Conflict(_l("The day %(day)s is already closed (last closed day: %(last)s). Nothing was changed.",
                          day=business_date.strftime("%d-%m-%Y"), last=closed.strftime("%d-%m-%Y")),
                       field="business_date", code="day_already_closed")
    expected = expected_cash(unit, business_date)
    difference = counted - expected
    entry = None
    if difference:
        cash, adjustment = system_account(unit.id, "cash"), system_account(unit.id, "cash_adjustment")
        entry = post_journal(
            unit.id, "cash_count", [Leg(cash, difference), Leg(adjustment, -difference)], created_by_id=user.id,
            memo=f"Selisih kas {business_date.isoformat()}: hitung {format_idr(counted)}, "
                 f"buku {format_idr(expected)}")
    close = DayClose(unit_id=unit.id, business_date=business_date, expected_cash_idr=expected,
                     counted_cash_idr=counted, difference_idr=difference, entry_id=entry.id if entry else None,
                     closed_by_id=user.id)
    db.session.add(close)
    db.session.flush()
    audit("day.close", unit_id=unit.id, user_id=user.id, object_type="day_close",
          object_id=business_date.isoformat(),
          details={"expected_cash_idr": expected, "counted_cash_idr": counted, "difference_idr": difference,
                   "entry_id": entry.id if entry else None})
    return close
