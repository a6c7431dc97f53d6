"""Deposits (setoran), receipt numbering and idempotency records."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .catalog import WasteCategory
from .member import Member
from .org import Unit
from .tenant import TENANT_KEY, tenant_fk, tenant_unique
from .types import UTCDateTime, utcnow
from .user import User


class Deposit(db.Model):
    """One visit: several lines of category × quantity, credited to a member's savings.

    Rupiah: ``total_idr`` = Σ line amounts; ``fee_idr`` withheld (docs/rules.md §fees);
    ``credited_idr`` = total − fee; ``balance_after_idr`` is the member's savings right after.
    """

    __tablename__ = "deposit"
    __table_args__ = (
        CheckConstraint("total_idr > 0", name="total_positive"),
        CheckConstraint("fee_idr >= 0 AND credited_idr >= 0", name="parts_nonnegative"),
        CheckConstraint("total_idr = fee_idr + credited_idr", name="parts_sum"),
        Index("ix_deposit_unit_posted", "unit_id", "posted_at"),
        Index("ix_deposit_member_posted", "member_id", "posted_at"),
        Index("ix_deposit_unit_recorded", "unit_id", "recorded_at"),  # statements bucket by capture time
        *tenant_unique("receipt_no"),
        *tenant_unique("entry_id"),
        *tenant_unique("void_entry_id"),
        *tenant_fk("member_id", "member"),
        *tenant_fk("entry_id", "journal_entry"),
        *tenant_fk("void_entry_id", "journal_entry"),
        TENANT_KEY,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    member_id: Mapped[int] = mapped_column()
    receipt_no: Mapped[str] = mapped_column(String(40))
    entry_id: Mapped[int] = mapped_column()
    operator_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    total_idr: Mapped[int] = mapped_column(BigInteger)
    fee_idr: Mapped[int] = mapped_column(BigInteger)
    credited_idr: Mapped[int] = mapped_column(BigInteger)
    balance_after_idr: Mapped[int] = mapped_column(BigInteger)
    posted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    void_entry_id: Mapped[int | None] = mapped_column()
    #: When the receipt page was first shown (UTC); claimed once, so only that view is the
    #: original and every later view or PDF prints SALINAN (``counter.views.claim_original``).
    receipt_shown_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    unit: Mapped[Unit] = relationship()
    member: Mapped[Member] = relationship(
        primaryjoin="and_(Member.id == foreign(Deposit.member_id), Member.unit_id == Deposit.unit_id)")
    operator: Mapped[User | None] = relationship()
    lines: Mapped[list["DepositLine"]] = relationship(
        back_populates="deposit", order_by="DepositLine.id",
        primaryjoin="and_(Deposit.id == foreign(DepositLine.deposit_id), Deposit.unit_id == DepositLine.unit_id)")


class DepositLine(db.Model):
    """One category × quantity of a deposit, with the price copied from the price list at the
    time (history never changes with a later price, docs/rules.md §money) and its rupiah amount.
    """

    __tablename__ = "deposit_line"
    __table_args__ = (
        CheckConstraint("quantity_milli > 0", name="quantity_positive"),
        CheckConstraint("unit_price_idr > 0", name="price_positive"),
        CheckConstraint("amount_idr >= 0", name="amount_nonnegative"),
        # Net = gross − tare; a line weighed without a container has tare 0 (docs/tare.md).
        CheckConstraint("tare_milli >= 0 AND gross_milli = quantity_milli + tare_milli", name="gross_tare_net"),
        # The category breakdown reads a period's lines of its units by capture time (migration 0018).
        Index("ix_deposit_line_unit_recorded", "unit_id", "recorded_at"),
        *tenant_fk("deposit_id", "deposit"),
        *tenant_fk("container_id", "container"),
        TENANT_KEY,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    deposit_id: Mapped[int] = mapped_column(index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    category_id: Mapped[int] = mapped_column(ForeignKey("waste_category.id"))
    #: The net quantity, thousandths of the category's unit: what is priced and credited.
    quantity_milli: Mapped[int] = mapped_column(BigInteger)
    #: What the scale showed, thousandths (grams for kg); = quantity_milli without a container.
    gross_milli: Mapped[int] = mapped_column(BigInteger)
    #: The container's weight subtracted, thousandths (grams); 0 without a container.
    tare_milli: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    #: The container picked, and its name as it was then (the receipt prints the copy).
    container_id: Mapped[int | None] = mapped_column()
    container_name: Mapped[str | None] = mapped_column(String(40))
    unit_price_idr: Mapped[int] = mapped_column(BigInteger)
    amount_idr: Mapped[int] = mapped_column(BigInteger)
    #: The deposit's capture time, copied (UTC): the month rule (``reports/period.py``) applied
    #: to the line itself, so a period's category figures are a range of
    #: ``ix_deposit_line_unit_recorded`` whatever the length of the history. Written with the
    #: line; a trigger refuses a line whose copy differs from its deposit's (migration 0018).
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)

    deposit: Mapped[Deposit] = relationship(
        back_populates="lines",
        primaryjoin="and_(Deposit.id == foreign(DepositLine.deposit_id), Deposit.unit_id == DepositLine.unit_id)")
    category: Mapped[WasteCategory] = relationship()

    @property
    def has_tare(self) -> bool:
        """True when a container's weight was subtracted from this line."""
        return bool(self.tare_milli)


class ReceiptCounter(db.Model):
    """Last receipt number issued by a unit in a (local) year: gapless, never reused."""

    __tablename__ = "receipt_counter"

    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_no: Mapped[int] = mapped_column(BigInteger, default=0)


class IdempotencyRecord(db.Model):
    """The outcome of one money-moving request, stored under its idempotency key in the same
    transaction as the ledger rows (docs/rules.md §idempotency (I4–I6)). ``request_hash`` is the
    SHA-256 of the canonical request; ``response_body`` the JSON answer, replayed as is.
    """

    __tablename__ = "idempotency_record"
    __table_args__ = (UniqueConstraint("unit_id", "key"), TENANT_KEY)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    key: Mapped[str] = mapped_column(String(100))
    operation: Mapped[str] = mapped_column(String(30))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    response_body: Mapped[str] = mapped_column(Text)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
