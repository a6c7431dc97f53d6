"""Read-only queries about one member's savings: recent movements and the statement
(*buku tabungan*). Amounts are integer rupiah, positive for money in (a credit to the member's
savings account, which is credit-normal), negative for money out.

A movement belongs to the day and month of its capture time, the entry's ``recorded_at``
(SPEC §3 "Time"): a deposit captured offline on 31 July and posted on 1 August (C17) is in the
July passbook, not August's. Movements are bucketed and ordered by ``recorded_at`` (then by
entry id); ``posted_at`` is carried beside it so screens and the PDF can show it where it
differs.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from ..extensions import db
from ..models import Deposit, JournalEntry, Member, Posting, Withdrawal
from ..services.ledger import member_savings_account

KIND_LABELS = {
    "deposit": _l("Deposit"),
    "withdrawal": _l("Withdrawal"),
    "opening_balance": _l("Opening balance"),
    "reversal": _l("Correction"),
}


@dataclass(frozen=True)
class Movement:
    """One change to a member's savings.

    ``recorded_at`` (capture time, which places it in a day and month) and ``posted_at``
    (when the server posted it) aware UTC; ``amount_idr`` rupiah, + in / − out; ``reference``
    the receipt number if any; ``description`` a translatable label; ``balance_idr`` the
    running balance after this movement (statements only, else None).
    """

    entry_id: int
    posted_at: datetime
    kind: str
    description: str
    reference: str
    amount_idr: int
    balance_idr: int | None = None
    recorded_at: datetime | None = None

    @property
    def posted_later(self) -> bool:
        """True when the posting came a minute or more after the capture (an offline capture
        synced later): then the posting time is shown beside the capture time."""
        return self.recorded_at is not None and self.posted_at - self.recorded_at >= timedelta(minutes=1)


def _movement_query(account_id: int):
    voided_deposit = aliased(Deposit)
    voided_withdrawal = aliased(Withdrawal)
    return (
        select(JournalEntry.id, JournalEntry.posted_at, JournalEntry.kind, Posting.amount,
               Deposit.receipt_no, Withdrawal.receipt_no, voided_deposit.receipt_no,
               voided_withdrawal.receipt_no, JournalEntry.recorded_at)
        .join(Posting, Posting.entry_id == JournalEntry.id)
        .outerjoin(Deposit, Deposit.entry_id == JournalEntry.id)
        .outerjoin(Withdrawal, Withdrawal.entry_id == JournalEntry.id)
        .outerjoin(voided_deposit, voided_deposit.void_entry_id == JournalEntry.id)
        .outerjoin(voided_withdrawal, voided_withdrawal.void_entry_id == JournalEntry.id)
        .where(Posting.account_id == account_id)
    )


def _movement(row, balance: int | None = None) -> Movement:
    entry_id, posted_at, kind, amount, dep_no, wd_no, void_dep_no, void_wd_no, recorded_at = row
    reference = dep_no or wd_no or void_dep_no or void_wd_no or ""
    if void_dep_no:
        description = _l("Deposit voided")
    elif void_wd_no:
        description = _l("Withdrawal voided")
    else:
        description = KIND_LABELS.get(kind, kind)
    return Movement(entry_id=entry_id, posted_at=posted_at, kind=kind, description=str(description),
                    reference=reference, amount_idr=-int(amount), balance_idr=balance, recorded_at=recorded_at)


def member_movements(member: Member, limit: int = 20) -> list[Movement]:
    """The member's latest ``limit`` savings movements, newest capture time first."""
    account = member_savings_account(member)
    rows = db.session.execute(
        _movement_query(account.id)
        .order_by(JournalEntry.recorded_at.desc(), JournalEntry.id.desc()).limit(limit))
    return [_movement(row) for row in rows]


@dataclass(frozen=True)
class Statement:
    """A member's statement for [``start``, ``end``) (aware UTC instants): the balance before
    ``start``, every movement inside with its running balance, and the balance at ``end``;
    rupiah. ``closing_idr`` = ``opening_idr`` + the sum of the movements."""

    start: datetime
    end: datetime
    opening_idr: int
    movements: list[Movement]
    closing_idr: int


def member_statement(member: Member, start: datetime, end: datetime) -> Statement:
    """Build the member's statement for [``start``, ``end``) from the postings (not from the
    cached balance, so it holds for any past period): the movements whose capture time
    (``recorded_at``) falls inside, in capture order; the opening balance sums every movement
    captured before ``start``. Raises ValueError if ``end`` < ``start``.
    """
    if end < start:
        raise ValueError("statement end before start")
    account = member_savings_account(member)
    before = db.session.scalar(
        select(func.coalesce(func.sum(Posting.amount), 0))
        .join(JournalEntry, JournalEntry.id == Posting.entry_id)
        .where(Posting.account_id == account.id, JournalEntry.recorded_at < start))
    balance = -int(before or 0)
    opening = balance
    movements = []
    rows = db.session.execute(
        _movement_query(account.id)
        .where(JournalEntry.recorded_at >= start, JournalEntry.recorded_at < end)
        .order_by(JournalEntry.recorded_at, JournalEntry.id))
    for row in rows:
        balance += -int(row[3])
        movements.append(_movement(row, balance))
    return Statement(start=start, end=end, opening_idr=opening, movements=movements, closing_idr=balance)
