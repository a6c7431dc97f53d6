"""Cash book and daily close (issue 4 item 5, issue 8 item 5; docs/daily-close.md).

Every cash movement is a posting on the unit's ``cash`` account. A day is a local calendar day
(docs/rules.md §time); in the cash book a posting belongs to the local day of its entry's
``posted_at`` (the cash count is of the box, whose cash moved when it was posted). At the end of
the day the cash is counted; ``close_preview`` shows expected, counted and the difference, and
``close_day`` posts counted − expected to the cash-adjustment account through a normal,
reversible entry and writes the DayClose, after which ``post_journal`` posts nothing more on
that day (docs/rules.md §daily-close (I12): the posting day counts, not the capture time).
``reopen_day`` undoes today's close, with a reason, audited. ``late_arrivals`` lists deposits
captured on a day but posted after it or after its close (offline captures synced late, C17).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from ..extensions import db
from ..models import Account, DayClose, Deposit, JournalEntry, Member, Posting, Unit, User
from ..money import InputError, Rupiah, format_idr, parse_rupiah
from ..reports.period import captured_in
from ..timeutil import local_day_bounds, local_today
from .audit import audit
from .errors import Conflict, DomainError, Forbidden, ValidationFailed
from .reasons import MAX_REASON, clean_reason
from .ledger import Leg, lock_books, post_journal, reverse_entry, system_account
from .scope import delete_in_unit, in_unit
from .withdrawals import cancel_reported_open



@dataclass(frozen=True)
class CashMovement:
    """One posting on the cash account: ``amount_idr`` positive for cash in, negative out;
    ``running_idr`` the cash balance after it."""

    entry_id: int
    posted_at: datetime
    kind: str
    memo: str
    amount_idr: Rupiah
    running_idr: Rupiah
    reverses_id: int | None = None


@dataclass
class CashBook:
    """The cash book of one local day (rupiah): ``opening_idr`` balance at local midnight,
    each movement with its running balance, ``closing_idr`` at the end of the day (or now)."""

    unit: Unit
    day: date
    opening_idr: Rupiah
    movements: list[CashMovement] = field(default_factory=list)
    close: DayClose | None = None

    @property
    def closing_idr(self) -> Rupiah:
        return self.movements[-1].running_idr if self.movements else self.opening_idr

    @property
    def cash_in_idr(self) -> Rupiah:
        return sum(m.amount_idr for m in self.movements if m.amount_idr > 0)

    @property
    def cash_out_idr(self) -> Rupiah:
        return -sum(m.amount_idr for m in self.movements if m.amount_idr < 0)


def _cash_sum_before(account: Account, moment: datetime) -> Rupiah:
    return int(db.session.scalar(
        select(func.coalesce(func.sum(Posting.amount), 0))
        .join(JournalEntry, (JournalEntry.id == Posting.entry_id) & (JournalEntry.unit_id == Posting.unit_id))
        .where(Posting.account_id == account.id, Posting.unit_id == account.unit_id,
               JournalEntry.posted_at < moment)) or 0)


def expected_cash(unit: Unit, day: date | None = None) -> Rupiah:
    """Rupiah that should be in the cash box at the end of local ``day`` (default today): the
    sum of the cash account's postings up to local midnight after ``day``. For today this is
    the cash account's balance."""
    account = system_account(unit.id, "cash")
    if day is None or day >= local_today():
        # Read fresh (the close holds the unit's books), by the tenant key.
        return db.session.scalar(select(Account.balance).where(Account.unit_id == unit.id,
                                                               Account.id == account.id))
    return _cash_sum_before(account, local_day_bounds(day)[1])


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
    running = _cash_sum_before(account, start)
    book = CashBook(unit, day, running, close=get_close(unit.id, day))
    rows = db.session.execute(
        select(JournalEntry, Posting.amount)
        .join(Posting, (Posting.entry_id == JournalEntry.id) & (Posting.unit_id == JournalEntry.unit_id))
        .where(Posting.account_id == account.id, Posting.unit_id == unit.id, JournalEntry.unit_id == unit.id,
               JournalEntry.posted_at >= start, JournalEntry.posted_at < end)
        .order_by(JournalEntry.posted_at, JournalEntry.id, Posting.id))
    for entry, amount in rows:
        running += amount
        book.movements.append(CashMovement(entry.id, entry.posted_at, entry.kind, entry.memo, amount, running,
                                           entry.reverses_id))
    return book


#: A negative count: the box cannot hold less than nothing (an empty drawer is 0, allowed).
_NEGATIVE_COUNT = _l("The cash counted cannot be less than zero; an empty cash box is 0.")
#: "0", "Rp 0", "0,00", "0.000": an empty cash box, typed any way.
_ZERO = re.compile(r"0+([.,]0+)*")


def parse_counted(text: str | int) -> Rupiah:
    """Counted cash in rupiah (``"123.500"``); zero allowed (an empty cash box, "0", "Rp 0",
    "0,00"), a negative count refused (``negative``). Raises ValidationFailed (field
    ``counted_cash_idr``) with ``money.parse_rupiah``'s message for any other bad text."""
    if isinstance(text, int) and not isinstance(text, bool):
        if text < 0:
            raise ValidationFailed({"counted_cash_idr": ("negative", _NEGATIVE_COUNT)})
        return text
    raw = str(text or "").strip()
    bare = raw.lower().replace("rp", "").replace(" ", "").replace("\u00a0", "")
    if bare.startswith("-"):
        raise ValidationFailed({"counted_cash_idr": ("negative", _NEGATIVE_COUNT)})
    if _ZERO.fullmatch(bare):
        return 0
    try:
        return parse_rupiah(raw)
    except InputError as exc:
        raise ValidationFailed({"counted_cash_idr": (exc.code, exc.message)}) from exc


@dataclass(frozen=True)
class ClosePreview:
    """What closing ``day`` would write (rupiah): ``difference_idr`` = counted − expected."""

    day: date
    expected_cash_idr: Rupiah
    counted_cash_idr: Rupiah

    @property
    def difference_idr(self) -> Rupiah:
        return self.counted_cash_idr - self.expected_cash_idr


def _check_closable(unit: Unit, business_date: date, user: User) -> None:
    if user.unit_id != unit.id:
        raise DomainError(_l("Only staff of this unit may close its day."), code="wrong_unit")
    if business_date > local_today():
        raise ValidationFailed({"business_date": ("in_future", _l("A day cannot be closed before it starts."))})
    closed = last_closed_day(unit.id)
    if closed is not None and business_date <= closed:
        raise Conflict(_l("The day %(day)s is already closed (last closed day: %(last)s). Nothing was changed.",
                          day=business_date.strftime("%d-%m-%Y"), last=closed.strftime("%d-%m-%Y")),
                       field="business_date", code="day_already_closed")
    _check_no_cash_held_back(unit, business_date)


def _check_no_cash_held_back(unit: Unit, business_date: date) -> None:
    """Refuse the close (409 ``cancel_reported_open``) while a withdrawal paid that day was
    cancelled on the tablet after the server recorded it and is not voided
    (``withdrawal.cancel_reported``; docs/daily-close.md): its cash is still in the box, so the
    count would differ by its amount, and that difference posted as a cash adjustment would be
    counted twice once the withdrawal is voided (the void puts it back in the books). The page
    said "void it first" and the close went through anyway (a tester)."""
    start, end = local_day_bounds(business_date)
    held = [r.withdrawal for r in cancel_reported_open(unit.id)
            if r.withdrawal.paid_at is not None and start <= r.withdrawal.paid_at < end]
    if held:
        raise Conflict(_l("The day cannot be closed yet: withdrawal %(which)s was cancelled on the tablet after it "
                          "was recorded, and its cash was not handed over, so the count would differ by %(total)s. "
                          "Void it first (Manage → \"Void this withdrawal\"), then count the cash.",
                          which=", ".join(w.receipt_no or f"#{w.id}" for w in held),
                          total=format_idr(sum(w.amount_idr for w in held))),
                       field="business_date", code="cancel_reported_open")


def close_preview(unit: Unit, business_date: date, counted_cash_idr: Rupiah | str, user: User) -> ClosePreview:
    """The confirmation step of the close: expected cash, the count and the difference, with
    the same refusals as ``close_day`` (ValidationFailed, Conflict ``day_already_closed``,
    DomainError ``wrong_unit``). Read-only."""
    counted = parse_counted(counted_cash_idr)
    _check_closable(unit, business_date, user)
    return ClosePreview(business_date, expected_cash(unit, business_date), counted)


class CashMoved(Conflict):
    """The books' expected cash is no longer the figure the manager checked (a withdrawal or a
    sale was posted between the check and the close); nothing was closed. ``expected_cash_idr``
    is the figure now, ``seen_cash_idr`` the one she saw (rupiah)."""

    code = "cash_moved"

    def __init__(self, expected_cash_idr: Rupiah, seen_cash_idr: Rupiah):
        self.expected_cash_idr, self.seen_cash_idr = expected_cash_idr, seen_cash_idr
        super().__init__(_l("The cash records changed since you checked: expected cash is now %(now)s, it was "
                            "%(seen)s when you checked. Check again, then close.",
                            now=format_idr(expected_cash_idr), seen=format_idr(seen_cash_idr)),
                         field="expected_cash_idr")


def close_day(unit: Unit, business_date: date, counted_cash_idr: Rupiah | str, user: User, *,
              expected_seen_idr: Rupiah | None = None) -> DayClose:
    """Close local ``business_date`` at ``unit`` with the cash counted in the box.

    ``expected_seen_idr`` is the expected cash the manager confirmed (the check step's figure,
    carried by the confirmation form); when given and the books expect another figure now —
    read under the books' close lock, so inside this transaction — nothing is written and
    CashMoved (409 ``cash_moved``) is raised: the difference posted is always the one she saw.
    None (scripts, the CLI) closes against whatever the books say.

    Expected cash is ``expected_cash(unit, business_date)``; the difference (counted − expected)
    is posted as one entry of kind ``cash_count`` — Dr cash / Cr cash adjustments when there is
    more cash than expected, the reverse when short — posted now (reversible with
    ``ledger.reverse_entry`` on a later, open day, or by ``reopen_day`` the same day); then the
    DayClose is written and audited.

    Flushes, never commits. Raises Conflict (code ``day_already_closed``) when the day or a
    later one is already closed (so a second tap of "Tutup hari" closes nothing twice),
    CashMoved (above), ValidationFailed for a future day or a bad count, Forbidden-like
    DomainError for staff of another unit, PeriodClosed.
    """
    counted = parse_counted(counted_cash_idr)
    lock_books(unit.id, close=True)  # every posting in flight commits first; new ones wait
    _check_closable(unit, business_date, user)
    expected = expected_cash(unit, business_date)
    if expected_seen_idr is not None and expected_seen_idr != expected:
        raise CashMoved(expected, expected_seen_idr)
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


def reopenable_close(unit_id: int) -> DayClose | None:
    """The close that ``reopen_day`` may undo: the unit's latest close if its business date is
    today (local time), else None."""
    latest = last_closed_day(unit_id)
    if latest is None or latest != local_today():
        return None
    return get_close(unit_id, latest)


def reopen_day(unit: Unit, business_date: date, reason: str, user: User) -> JournalEntry | None:
    """Reopen today's close at ``unit`` so the counter can record again; the day can be closed
    again afterwards.

    Only a unit manager of the unit, only the latest close, only when its ``business_date`` is
    today (local time); ``reason`` is required (at most 300 characters). Removes the DayClose
    (the day is open again), then reverses its cash-count difference entry, if any, through
    ``ledger.reverse_entry`` (posted now, on the reopened day) and writes the audit record
    ``day.reopen`` with the reason and the old figures (expected, counted, difference, the
    entry, who closed and when).

    Returns the reversing entry, or None when the count had matched. Flushes, never commits.
    Raises Forbidden (``forbidden``) for another role or unit, ValidationFailed (``reason``),
    Conflict ``not_closed`` (the day has no close) or ``reopen_not_today`` (a past day or not
    the latest close: correct it with an entry today instead).
    """
    from ..auth.permissions import has_permission

    if user.unit_id != unit.id or not has_permission(user, "day.close"):
        raise Forbidden(_l("Only a unit manager of this unit may reopen its day."))
    reason = clean_reason(reason, _l("Give the reason for reopening the day."))
    lock_books(unit.id, close=True)
    close = get_close(unit.id, business_date)
    if close is None:
        raise Conflict(_l("The day %(day)s is not closed; there is nothing to reopen.",
                          day=business_date.strftime("%d-%m-%Y")), field="business_date", code="not_closed")
    if business_date != local_today() or last_closed_day(unit.id) != business_date:
        raise Conflict(_l("Only today's close can be reopened; %(day)s stays closed. Correct it with an entry "
                          "today instead.", day=business_date.strftime("%d-%m-%Y")),
                       field="business_date", code="reopen_not_today")
    old = {"business_date": business_date.isoformat(), "reason": reason,
           "expected_cash_idr": close.expected_cash_idr, "counted_cash_idr": close.counted_cash_idr,
           "difference_idr": close.difference_idr, "entry_id": close.entry_id,
           "closed_by_id": close.closed_by_id, "closed_at": close.closed_at}
    entry = in_unit(JournalEntry, unit.id, close.entry_id) if close.entry_id else None
    delete_in_unit(close)  # the day is open again: the reversal below may be posted today
    reversal = None
    if entry is not None and db.session.scalar(
            select(JournalEntry.id).where(JournalEntry.reverses_id == entry.id,
                                          JournalEntry.unit_id == unit.id)) is None:
        reversal = reverse_entry(entry, created_by_id=user.id, reason=f"Buka kembali hari: {reason}"[:MAX_REASON],
                                 kind="reversal")
    old["reversal_entry_id"] = reversal.id if reversal else None
    audit("day.reopen", unit_id=unit.id, user_id=user.id, object_type="day_close",
          object_id=business_date.isoformat(), details=old)
    return reversal


@dataclass(frozen=True)
class LateArrival:
    """A deposit captured on a day but posted on a later day or after that day's close:
    ``recorded_at`` (capture) and ``posted_at`` aware UTC; ``credited_idr`` rupiah credited to
    the member; ``voided`` whether it was voided since."""

    receipt_no: str
    member_no: str
    member_name: str
    credited_idr: Rupiah
    recorded_at: datetime
    posted_at: datetime
    voided: bool


def late_arrivals(unit: Unit, day: date) -> list[LateArrival]:
    """Deposits of ``unit`` whose capture time (``recorded_at``) falls in local ``day`` but
    which were posted on a later day, or after the day's close (if it is closed), oldest
    capture first. They belong to ``day`` in every document; they moved no cash, so the day's
    cash count is unaffected."""
    close = get_close(unit.id, day)
    return late_postings(unit, *local_day_bounds(day), closed_at=close.closed_at if close else None)


def late_postings(unit: Unit, start: datetime, end: datetime, *,
                  closed_at: datetime | None = None) -> list[LateArrival]:
    """Deposits of ``unit`` captured in [``start``, ``end``) (``period.captured_in``) but posted
    at or after ``end`` — or after ``closed_at`` when given —, oldest capture first. The unit
    report lists a month's; :func:`late_arrivals` a day's."""
    late = Deposit.posted_at >= end
    if closed_at is not None:
        late = late | (Deposit.posted_at > closed_at)
    rows = db.session.execute(
        select(Deposit, Member.member_no, Member.name)
        .join(Member, (Member.id == Deposit.member_id) & (Member.unit_id == Deposit.unit_id))
        .where(Deposit.unit_id == unit.id, captured_in(Deposit.recorded_at, start, end), late)
        .order_by(Deposit.recorded_at, Deposit.id))
    return [LateArrival(dep.receipt_no, member_no, name, dep.credited_idr, dep.recorded_at, dep.posted_at,
                        dep.void_entry_id is not None)
            for dep, member_no, name in rows]
