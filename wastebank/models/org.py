"""Organisations: aggregators and their units (docs/rules.md §glossary)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, CheckConstraint, ForeignKey, Integer, String
from sqlalchemy import false as sa_false
from sqlalchemy import true as sa_true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .types import UTCDateTime, utcnow


class Aggregator(db.Model):
    """An organisation coordinating many units (agregator); receives monthly statements."""

    __tablename__ = "aggregator"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    units: Mapped[list["Unit"]] = relationship(back_populates="aggregator", order_by="Unit.code")


class Unit(db.Model):
    """One collection point (Bank Sampah Unit) with its own books.

    ``fee_bp`` is the fee withheld from each deposit in basis points (0–3000 = 0–30 %,
    docs/rules.md §fees); ``receipt_width_mm`` is the thermal roll the unit prints on (58 or 80).
    """

    __tablename__ = "unit"
    __table_args__ = (
        CheckConstraint("fee_bp >= 0 AND fee_bp <= 3000", name="fee_range"),
        CheckConstraint("receipt_width_mm IN (58, 80)", name="receipt_width"),
        CheckConstraint("min_balance_idr >= 0 AND min_withdrawal_idr >= 0 AND approval_threshold_idr >= 0",
                        name="withdrawal_rules_nonnegative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    aggregator_id: Mapped[int | None] = mapped_column(ForeignKey("aggregator.id"), index=True)
    rw: Mapped[str] = mapped_column(String(10), default="")
    kelurahan: Mapped[str] = mapped_column(String(100), default="")
    kecamatan: Mapped[str] = mapped_column(String(100), default="")
    kota: Mapped[str] = mapped_column(String(100), default="")
    address: Mapped[str] = mapped_column(String(300), default="")
    receipt_width_mm: Mapped[int] = mapped_column(Integer, default=80)
    fee_bp: Mapped[int] = mapped_column(Integer, default=0)
    # Withdrawal rules (rupiah): savings that must stay after a withdrawal, the smallest
    # withdrawal, and the amount above which a unit manager must approve (0 = never).
    min_balance_idr: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    min_withdrawal_idr: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    approval_threshold_idr: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    # Residents' self-service page (/c/<token>) asks for the member's 4–6 digit PIN.
    require_pin: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    # Messages to members' phones after each deposit, withdrawal and void (docs/notifications.md);
    # off until the unit's manager switches it on.
    notify_enabled: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    # The public transparency page /u/<code> (issue 12 item 7, docs/public-page.md): on unless
    # the unit switches it off; the collection days and place are free text the page shows.
    public_page_enabled: Mapped[bool] = mapped_column(Boolean, default=True, server_default=sa_true())
    collection_days: Mapped[str] = mapped_column(String(200), default="", server_default="")
    collection_place: Mapped[str] = mapped_column(String(300), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Bumped in the same transaction as any change to the unit's prices or to the catalogue
    # (services/hot_cache.py): the deposit hot path's caches are keyed by it, so every worker
    # sees a change at its next request (issue 13 item 1).
    cache_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    aggregator: Mapped[Aggregator | None] = relationship(back_populates="units")

    @property
    def full_address(self) -> str:
        """One line for receipts: street, RW, kelurahan, kecamatan, kota (empty parts skipped)."""
        parts = [self.address, f"RW {self.rw}" if self.rw else "", self.kelurahan, self.kecamatan, self.kota]
        return ", ".join(p for p in parts if p)
