"""Waste categories and their prices."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import BigInteger, CheckConstraint, Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .tenant import TENANT_KEY
from .types import UTCDateTime, utcnow


class CategoryNames:
    """The one rule for a category's name in a locale, shared by the mapped row and its plain copy."""

    __slots__ = ()
    name_id: str
    name_en: str

    def name(self, locale) -> str:
        """The category's name in ``locale`` (``id`` or ``en``)."""
        return self.name_en if str(locale).startswith("en") else self.name_id


class WasteCategory(CategoryNames, db.Model):
    """A sorted material (jenis sampah) with its unit of measure (kg, L or pcs).

    ``max_line_milli`` caps one deposit line, in thousandths (default 500 kg). The CO₂e factor
    is integer grams CO₂e avoided per unit recycled (1.15 kg/kg → 1150), with its source.
    ``kg_factor_g`` is the integer grams of one piece or one litre (``pcs``/``L`` categories;
    None = not known yet, and a ``kg`` category needs none: 1000 g per kg), with its source in
    ``kg_factor_source``: the government tonnage export converts through it (docs/exports.md).
    """

    __tablename__ = "waste_category"
    __table_args__ = (
        CheckConstraint("unit IN ('kg', 'L', 'pcs')", name="unit"),
        CheckConstraint("max_line_milli > 0", name="max_line_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(30), unique=True)
    name_id: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    unit: Mapped[str] = mapped_column(String(5))
    material_group: Mapped[str] = mapped_column(String(30), default="")
    max_line_milli: Mapped[int] = mapped_column(BigInteger, default=500_000)
    co2e_g_per_unit: Mapped[int] = mapped_column(Integer, default=0)
    co2e_source: Mapped[str] = mapped_column(String(200), default="")
    kg_factor_g: Mapped[int | None] = mapped_column(Integer)
    kg_factor_source: Mapped[str] = mapped_column(String(200), default="", server_default="")
    sort_order: Mapped[int] = mapped_column(Integer, default=0)


@dataclass(frozen=True, slots=True)
class CategoryRow(CategoryNames):
    """A ``waste_category`` row as plain, immutable values (every column of WasteCategory), for
    the deposit's hot path: cached per process and shared by requests, so a deposit builds no
    ORM instance for its categories (issue 13 item 1). Read-only: it has no relationships."""

    id: int
    code: str
    name_id: str
    name_en: str
    unit: str
    material_group: str
    max_line_milli: int
    co2e_g_per_unit: int
    co2e_source: str
    kg_factor_g: int | None
    kg_factor_source: str
    sort_order: int


class Price(db.Model):
    """Buy price (paid to members) and sell price (expected from off-takers) of one category at
    one unit, in whole rupiah per unit of measure, effective from a local date. A new row
    supersedes the old one; rows are never edited, so history keeps its prices.
    """

    __tablename__ = "price"
    __table_args__ = (
        UniqueConstraint("unit_id", "category_id", "effective_from"),
        CheckConstraint("buy_price_idr > 0", name="buy_positive"),
        CheckConstraint("sell_price_idr >= 0", name="sell_nonnegative"),
        TENANT_KEY,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("waste_category.id"))
    buy_price_idr: Mapped[int] = mapped_column(BigInteger)
    sell_price_idr: Mapped[int] = mapped_column(BigInteger, default=0)
    effective_from: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    category: Mapped[WasteCategory] = relationship()
