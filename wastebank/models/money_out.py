"""Money and stock out (issue 4): withdrawals, off-takers and sales, daily close, audit log."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (BigInteger, CheckConstraint, Date, ForeignKey, Index, String, Text,
                        UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .catalog import WasteCategory
from .member import Member
from .org import Unit
from .tenant import TENANT_KEY, tenant_fk, tenant_unique
from .types import UTCDateTime, utcnow
from .user import User

WITHDRAWAL_METHODS = ("cash", "transfer", "goods", "donation", "gold", "bill")
#: What a ``bill`` payout pays (issue 12 item 4): a prepaid electricity token (PLN), a water bill
#: (PDAM) or a BPJS (health insurance) contribution.
BILL_KINDS = ("electricity", "water", "bpjs")
WITHDRAWAL_STATUSES = ("pending", "approved", "paid", "rejected")


class Withdrawal(db.Model):
    """Paying out savings (penarikan): cash, bank/e-wallet transfer (``reference``), goods
    (sembako, ``items`` as JSON ``[{"name", "quantity", "value_idr"}]``) or a donation to
    ``beneficiary``. Rupiah in ``amount_idr``.

    Payout methods of issue 12 item 4 (docs/payouts.md): ``gold`` (*tabungan emas*) converts the
    amount at ``gold_price_idr`` rupiah per gram into ``gold_mg`` whole milligrams (rounded down,
    ``money.gold_milligrams``) credited at ``provider`` (e.g. Pegadaian) on the member's
    ``account_no`` there, with the provider's ``reference`` if any; ``bill`` pays a
    ``bill_kind`` (electricity, water, bpjs) at ``provider`` for the customer number
    ``account_no`` with the payment ``reference``, and for electricity the 20-digit ``token_no``
    printed on the slip. Other methods leave these empty (NULL for the two numbers).

    Lifecycle: ``pending`` (needs a unit manager's approval: above the unit's threshold) →
    ``approved`` (the amount is held on the member's account) → ``paid`` (journal entry
    ``entry_id``, receipt number); or ``rejected``. A paid withdrawal may be voided by a
    reversing entry (``void_entry_id``).
    """

    __tablename__ = "withdrawal"
    __table_args__ = (
        CheckConstraint("amount_idr > 0", name="amount_positive"),
        CheckConstraint("method IN ('cash', 'transfer', 'goods', 'donation', 'gold', 'bill')", name="method"),
        CheckConstraint("bill_kind IN ('', 'electricity', 'water', 'bpjs')", name="bill_kind"),
        # A gold payout carries its price and grams, both positive; no other method has them.
        CheckConstraint("(method = 'gold') = (gold_price_idr IS NOT NULL AND gold_mg IS NOT NULL)"
                        " AND (gold_price_idr IS NULL OR gold_price_idr > 0) AND (gold_mg IS NULL OR gold_mg > 0)",
                        name="gold_figures"),
        CheckConstraint("status IN ('pending', 'approved', 'paid', 'rejected')", name="status"),
        Index("ix_withdrawal_unit_status", "unit_id", "status"),
        Index("ix_withdrawal_member", "member_id"),
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
    method: Mapped[str] = mapped_column(String(10))
    amount_idr: Mapped[int] = mapped_column(BigInteger)
    reference: Mapped[str] = mapped_column(String(100), default="")
    beneficiary: Mapped[str] = mapped_column(String(200), default="")
    items: Mapped[str] = mapped_column(Text, default="")
    #: Gold and bill payouts (migration 0014): who holds the gold or is paid (Pegadaian, PLN …).
    provider: Mapped[str] = mapped_column(String(100), default="", server_default="")
    #: The member's account at the provider (gold) or the bill's customer number (ID pelanggan).
    account_no: Mapped[str] = mapped_column(String(30), default="", server_default="")
    bill_kind: Mapped[str] = mapped_column(String(12), default="", server_default="")
    #: Electricity token, 20 digits without spaces (shown in groups of four).
    token_no: Mapped[str] = mapped_column(String(20), default="", server_default="")
    #: Rupiah per gram the gold was bought at, and the whole milligrams the amount bought.
    gold_price_idr: Mapped[int | None] = mapped_column(BigInteger)
    gold_mg: Mapped[int | None] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(10))
    receipt_no: Mapped[str | None] = mapped_column(String(40))
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    paid_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    entry_id: Mapped[int | None] = mapped_column()
    void_entry_id: Mapped[int | None] = mapped_column()
    #: When the paid withdrawal's receipt page was first shown (UTC); see Deposit.receipt_shown_at.
    receipt_shown_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    unit: Mapped[Unit] = relationship()
    member: Mapped[Member] = relationship(
        primaryjoin="and_(Member.id == foreign(Withdrawal.member_id), Member.unit_id == Withdrawal.unit_id)")
    requested_by: Mapped[User | None] = relationship(foreign_keys=[requested_by_id])
    paid_by: Mapped[User | None] = relationship(foreign_keys=[paid_by_id])


class Offtaker(db.Model):
    """A buyer of the unit's sorted stock: a pengepul, a Bank Sampah Induk or a recycler."""

    __tablename__ = "offtaker"
    __table_args__ = (
        CheckConstraint("kind IN ('pengepul', 'bsi', 'recycler', 'other')", name="kind"),
        UniqueConstraint("unit_id", "name"),
        TENANT_KEY,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(10), default="pengepul")
    phone: Mapped[str] = mapped_column(String(30), default="")
    address: Mapped[str] = mapped_column(String(300), default="")
    active: Mapped[bool] = mapped_column(default=True)


class Sale(db.Model):
    """A sale of stock to an off-taker (penjualan). Rupiah: ``total_idr`` accepted value,
    ``cost_idr`` stock cost of what left the storeroom (weighted average), ``shrinkage_idr``
    the cost of the weight the buyer did not accept, ``margin_idr`` = total − (cost − shrinkage).
    Paid in ``cash`` or on ``credit`` (a receivable)."""

    __tablename__ = "sale"
    __table_args__ = (
        CheckConstraint("payment IN ('cash', 'credit')", name="payment"),
        CheckConstraint("total_idr >= 0 AND cost_idr >= 0 AND shrinkage_idr >= 0", name="amounts_nonnegative"),
        Index("ix_sale_unit_posted", "unit_id", "posted_at"),
        *tenant_unique("sale_no"),
        *tenant_unique("entry_id"),
        *tenant_fk("offtaker_id", "offtaker"),
        *tenant_fk("entry_id", "journal_entry"),
        TENANT_KEY,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    offtaker_id: Mapped[int] = mapped_column()
    sale_no: Mapped[str] = mapped_column(String(40))
    payment: Mapped[str] = mapped_column(String(10))
    total_idr: Mapped[int] = mapped_column(BigInteger)
    cost_idr: Mapped[int] = mapped_column(BigInteger)
    shrinkage_idr: Mapped[int] = mapped_column(BigInteger, default=0)
    margin_idr: Mapped[int] = mapped_column(BigInteger)
    note: Mapped[str] = mapped_column(Text, default="")
    entry_id: Mapped[int] = mapped_column()
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    posted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    offtaker: Mapped[Offtaker] = relationship(
        primaryjoin="and_(Offtaker.id == foreign(Sale.offtaker_id), Offtaker.unit_id == Sale.unit_id)")
    lines: Mapped[list["SaleLine"]] = relationship(
        back_populates="sale", order_by="SaleLine.id",
        primaryjoin="and_(Sale.id == foreign(SaleLine.sale_id), Sale.unit_id == SaleLine.unit_id)")


class SaleLine(db.Model):
    """One category of a sale: thousandths weighed at the unit and accepted by the buyer
    (the difference is shrinkage), the buyer's price per unit and the rupiah amount."""

    __tablename__ = "sale_line"
    __table_args__ = (
        CheckConstraint("weighed_milli > 0 AND accepted_milli >= 0 AND accepted_milli <= weighed_milli",
                        name="quantities"),
        CheckConstraint("price_idr >= 0 AND amount_idr >= 0 AND cost_idr >= 0", name="amounts_nonnegative"),
        *tenant_fk("sale_id", "sale"),
        TENANT_KEY,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sale_id: Mapped[int] = mapped_column(index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    category_id: Mapped[int] = mapped_column(ForeignKey("waste_category.id"))
    weighed_milli: Mapped[int] = mapped_column(BigInteger)
    accepted_milli: Mapped[int] = mapped_column(BigInteger)
    price_idr: Mapped[int] = mapped_column(BigInteger)
    amount_idr: Mapped[int] = mapped_column(BigInteger)
    cost_idr: Mapped[int] = mapped_column(BigInteger)

    sale: Mapped[Sale] = relationship(
        back_populates="lines",
        primaryjoin="and_(Sale.id == foreign(SaleLine.sale_id), Sale.unit_id == SaleLine.unit_id)")
    category: Mapped[WasteCategory] = relationship()


class DayClose(db.Model):
    """The end-of-day cash count of a unit for a local ``business_date``: expected (the cash
    account's balance), counted, and the difference posted to cash adjustments by ``entry_id``.
    One per unit and day; a closed day takes no more postings (docs/rules.md §daily-close (I12))."""

    __tablename__ = "day_close"
    __table_args__ = (UniqueConstraint("unit_id", "business_date"), *tenant_unique("entry_id"),
                      *tenant_fk("entry_id", "journal_entry"), TENANT_KEY)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    business_date: Mapped[date] = mapped_column(Date)
    expected_cash_idr: Mapped[int] = mapped_column(BigInteger)
    counted_cash_idr: Mapped[int] = mapped_column(BigInteger)
    difference_idr: Mapped[int] = mapped_column(BigInteger)
    entry_id: Mapped[int | None] = mapped_column()
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    closed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AuditLog(db.Model):
    """Who did what, when, from which device: one row per change to members, cards, prices,
    users, settings, and per money or stock movement. Append-only (database triggers)."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_unit_at", "unit_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    action: Mapped[str] = mapped_column(String(50))
    object_type: Mapped[str] = mapped_column(String(30), default="")
    object_id: Mapped[str] = mapped_column(String(60), default="")
    details: Mapped[str] = mapped_column(Text, default="")
    device: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User | None] = relationship()
