"""Read-only queries about one member's savings: recent movements and the statement
(*buku tabungan*). Amounts are integer rupiah, positive for money in (a credit to the member's
savings account, which is credit-normal), negative for money out.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

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

    ``posted_at`` aware UTC; ``amount_idr`` rupiah, + in / − out; ``reference`` the receipt
    number if any; ``description`` a translatable label; ``balance_idr`` the running balance
    after this movement (statements only, else None).
    """

    entry_id: int
    posted_at: datetime
    kind: str
    description: str
    reference: str
    amount_idr: int
    balance_idr: int | None = None


def _movement_query(account_id: int):
    voided_deposit = aliased(Deposit)
    voided_withdrawal = aliased(Withdrawal)
    return (
        select(JournalEntry.id, JournalEntry.posted_at, JournalEntry.kind, Posting.amount,
               Deposit.receipt_no, Withdrawal.receipt_no, voided_deposit.receipt_no,
               voided_withdrawal.receipt_no)
        .join(Posting, Posting.entry_id == JournalEntry.id)
        .outerjoin(Deposit, Deposit.entry_id == JournalEntry.id)
        .outerjoin(Withdrawal, Withdrawal.entry_id == JournalEntry.id)
        .outerjoin(voided_deposit, voided_deposit.void_entry_id == JournalEntry.id)
        .outerjoin(voided_withdrawal, voided_withdrawal.void_entry_id == JournalEntry.id)
        .where(Posting.account_id == account_id)
    )


def _movement(row, balance: int | None = None) -> Movement:
    entry_id, posted_at, kind, amount, dep_no, wd_no, void_dep_no, void_wd_no = row
    reference = dep_no or wd_no or void_dep_no or void_wd_no or ""
    if void_dep_no:
        description = _l("Deposit voided")
    elif void_wd_no:
        description = _l("Withdrawal voided")
    else:
        description = KIND_LABELS.get(kind, kind)
    return Movement(entry_id=entry_id, posted_at=posted_at, kind=kind, description=str(description),
                    reference=reference, amount_idr=-int(amount), balance_idr=balance)


def member_movements(member: Member, limit: int = 20) -> list[Movement]:
    """The member's latest ``limit`` savings movements, newest first."""
    account = member_savings_account(member)
    rows = db.session.execute(
        _movement_query(account.id)
        .order_by(JournalEntry.posted_at.desc(), JournalEntry.id.desc()).limit(limit))
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
    cached balance, so it holds for any past period). Raises ValueError if ``end`` < ``start``.
    """
    if end < start:
        raise ValueError("statement end before start")
    account = member_savings_account(member)
    before = db.session.scalar(
        select(func.coalesce(func.sum(Posting.amount), 0))
        .join(JournalEntry, JournalEntry.id == Posting.entry_id)
        .where(Posting.account_id == account.id, JournalEntry.posted_at < start))
    balance = -int(before or 0)
    opening = balance
    movements = []
    rows = db.session.execute(
        _movement_query(account.id)
        .where(JournalEntry.posted_at >= start, JournalEntry.posted_at < end)
        .order_by(JournalEntry.posted_at, JournalEntry.id))
    for row in rows:
        balance += -int(row[3])
        movements.append(_movement(row, balance))
    return Statement(start=start, end=end, opening_idr=opening, movements=movements, closing_idr=balance)
