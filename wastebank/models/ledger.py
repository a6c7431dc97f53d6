"""Double-entry ledger: accounts, journal entries and postings (docs/rules.md §ledger).

Sign convention: a posting's ``amount`` is signed rupiah, debit positive and credit negative,
never zero; an entry's postings sum to zero (I1). An account's cached ``balance`` is in its
normal side: ``sum(amount)`` for debit-normal accounts (cash, stock), ``-sum(amount)`` for
credit-normal ones (savings, income, equity). Rows here are written only by
``services.ledger.post_journal``; the database refuses UPDATE and DELETE of entries and postings
(I7) and an entry whose postings do not balance (I1).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, Sequence, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .tenant import TENANT_KEY, tenant_fk, tenant_unique
from .types import UTCDateTime, utcnow

JOURNAL_ENTRY_ID_SEQ = Sequence("journal_entry_id_seq", metadata=db.Model.metadata)

# kind → normal side ("D" debit, "C" credit)
ACCOUNT_KINDS = {
    "member_savings": "C",   # liability: what the unit owes a member
    "cash": "D",             # asset: the cash box
    "stock": "D",            # asset: waste stock at cost, one per category
    "fee_income": "C",       # income: fees withheld from deposits
    "trading_margin": "C",   # income: sale value − stock cost
    "stock_writeoff": "D",   # expense: shrinkage and write-offs
    "opening_equity": "C",   # equity: opening balances moved from paper books
    "receivable": "D",       # asset: sales on credit
    "cash_adjustment": "D",  # expense/income: cash count differences
    "bank": "D",             # asset: the unit's bank or e-wallet account (transfers)
}


class Account(db.Model):
    """A ledger account of one unit, identified by ``key`` within it (``cash``,
    ``savings:<member id>``, ``stock:<category id>``, …).

    ``balance`` is the cached balance in rupiah on the normal side, updated in the same
    transaction as its postings (I3); ``held`` is rupiah reserved by approved, unpaid
    withdrawals; ``quantity_milli`` is the cached stock quantity for stock accounts.
    Member savings can never be negative (I2), also enforced by a CHECK.
    """

    __tablename__ = "account"
    __table_args__ = (
        UniqueConstraint("unit_id", "key"),
        CheckConstraint("kind <> 'member_savings' OR balance >= 0", name="savings_not_negative"),
        CheckConstraint("held >= 0", name="held_not_negative"),
        CheckConstraint("normal_side IN ('D', 'C')", name="normal_side"),
        *tenant_unique("member_id"),
        *tenant_fk("member_id", "member"),
        TENANT_KEY,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    key: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(20))
    normal_side: Mapped[str] = mapped_column(String(1))
    member_id: Mapped[int | None] = mapped_column()
    category_id: Mapped[int | None] = mapped_column(ForeignKey("waste_category.id"))
    balance: Mapped[int] = mapped_column(BigInteger, default=0)
    held: Mapped[int] = mapped_column(BigInteger, default=0)
    quantity_milli: Mapped[int] = mapped_column(BigInteger, default=0)


class JournalEntry(db.Model):
    """One business operation in the ledger (jurnal), inside one unit (I10).

    ``posted_at`` is stamped by the server (UTC); ``recorded_at`` is the client's capture time
    for entries taken offline (I11). A reversal names the entry it reverses in ``reverses_id``
    (unique: an entry is reversed at most once, I8), with ``reason`` and ``created_by_id``.
    """

    __tablename__ = "journal_entry"

    # Ids are allocated before the postings are written (PostgreSQL: this sequence).
    id: Mapped[int] = mapped_column(JOURNAL_ENTRY_ID_SEQ, primary_key=True, autoincrement=False)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    kind: Mapped[str] = mapped_column(String(20))
    memo: Mapped[str] = mapped_column(String(300), default="")
    posted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    reverses_id: Mapped[int | None] = mapped_column()
    reason: Mapped[str] = mapped_column(Text, default="")

    postings: Mapped[list["Posting"]] = relationship(
        back_populates="entry", order_by="Posting.id",
        primaryjoin="and_(JournalEntry.id == foreign(Posting.entry_id), JournalEntry.unit_id == Posting.unit_id)")

    # Statements bucket entries by ``recorded_at`` (the capture time, docs/rules.md §periods, I11).
    __table_args__ = (Index("ix_journal_entry_unit_posted", "unit_id", "posted_at"),
                      Index("ix_journal_entry_unit_recorded", "unit_id", "recorded_at"),
                      *tenant_unique("reverses_id"),
                      *tenant_fk("reverses_id", "journal_entry"),
                      TENANT_KEY)


class Posting(db.Model):
    """One line of a journal entry: signed rupiah on one account (debit +, credit −).

    ``quantity_milli`` carries the stock movement in thousandths on stock postings.
    The foreign key to the entry is deferred: postings are written first, then the entry,
    whose insert trigger checks that they balance.
    """

    __tablename__ = "posting"
    __table_args__ = (
        CheckConstraint("amount <> 0", name="amount_nonzero"),
        Index("ix_posting_account", "account_id", "entry_id"),
        *tenant_fk("entry_id", "journal_entry", deferrable=True, initially="DEFERRED"),
        *tenant_fk("account_id", "account"),
        TENANT_KEY,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    account_id: Mapped[int] = mapped_column()
    amount: Mapped[int] = mapped_column(BigInteger)
    quantity_milli: Mapped[int | None] = mapped_column(BigInteger)

    entry: Mapped[JournalEntry] = relationship(
        back_populates="postings",
        primaryjoin="and_(JournalEntry.id == foreign(Posting.entry_id), JournalEntry.unit_id == Posting.unit_id)")
    account: Mapped[Account] = relationship(
        primaryjoin="and_(Account.id == foreign(Posting.account_id), Account.unit_id == Posting.unit_id)")


class AccountPeriod(db.Model):
    """One account's net movement in one **UTC** month (docs/rules.md §periods, issue 13 item 4).

    ``period`` is ``'YYYY-MM'`` of the entry's capture time ``recorded_at`` in UTC; ``amount``
    is the signed rupiah sum of the account's postings in it (debit +, credit −, as postings)
    and ``quantity_milli`` their quantity sum in thousandths (0 for non-stock accounts). Written
    only by the database trigger on ``journal_entry`` insert (migration 0016), so
    ``post_journal`` stays the one writer; ``flask ledger verify`` proves every row equals the
    sums of its postings. UTC months, not local ones: a trigger cannot know the deployment's
    ``TIMEZONE``, so statements add the few hours between the UTC and the local month boundary
    from the postings themselves (``services.period_balances``), which keeps them exact.
    """

    __tablename__ = "account_period"
    __table_args__ = (Index("ix_account_period_unit_period", "unit_id", "period"),
                      *tenant_fk("account_id", "account"),
                      TENANT_KEY)

    account_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    period: Mapped[str] = mapped_column(String(7), primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    amount: Mapped[int] = mapped_column(BigInteger, default=0)
    quantity_milli: Mapped[int] = mapped_column(BigInteger, default=0)
