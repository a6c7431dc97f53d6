"""Categories and price lists."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select

from ..extensions import db
from ..models import Price, WasteCategory
from ..timeutil import local_today
from .audit import audit
from .ledger import stock_account


@dataclass(frozen=True)
class PriceRow:
    """A category with the price in force: rupiah per unit of measure."""

    category: WasteCategory
    buy_price_idr: int
    sell_price_idr: int
    effective_from: date


def current_prices(unit_id: int, on: date | None = None) -> dict[int, PriceRow]:
    """Prices in force at ``unit_id`` on local date ``on`` (default today), keyed by category id.

    For each category, the row with the latest ``effective_from`` ≤ ``on``. Categories without
    a price are absent (they cannot be deposited).
    """
    on = on or local_today()
    latest = (
        select(Price.category_id, func.max(Price.effective_from).label("eff"))
        .where(Price.unit_id == unit_id, Price.effective_from <= on)
        .group_by(Price.category_id)
        .subquery()
    )
    rows = db.session.execute(
        select(Price, WasteCategory)
        .join(latest, (Price.category_id == latest.c.category_id) & (Price.effective_from == latest.c.eff))
        .join(WasteCategory, WasteCategory.id == Price.category_id)
        .where(Price.unit_id == unit_id)
        .order_by(WasteCategory.sort_order, WasteCategory.code)
    )
    return {
        cat.id: PriceRow(cat, price.buy_price_idr, price.sell_price_idr, price.effective_from)
        for price, cat in rows
    }


def set_price(unit_id: int, category: WasteCategory, buy_price_idr: int, sell_price_idr: int = 0,
              effective_from: date | None = None, created_by_id: int | None = None) -> Price:
    """Add a price row for ``category`` at ``unit_id`` from local date ``effective_from``
    (default today); a row for the same date is replaced only if nothing was priced from it —
    here we simply add or overwrite that day's row, since lines copy the price they used.

    Also makes sure the unit has the category's stock account. Raises ValueError for a
    non-positive buy price or negative sell price.
    """
    if buy_price_idr <= 0 or sell_price_idr < 0:
        raise ValueError("prices must be positive whole rupiah")
    effective_from = effective_from or local_today()
    price = db.session.scalar(select(Price).where(
        Price.unit_id == unit_id, Price.category_id == category.id, Price.effective_from == effective_from))
    if price is None:
        price = Price(unit_id=unit_id, category_id=category.id, effective_from=effective_from)
        db.session.add(price)
    price.buy_price_idr = buy_price_idr
    price.sell_price_idr = sell_price_idr
    price.created_by_id = created_by_id
    stock_account(unit_id, category.id)
    db.session.flush()
    audit("price.set", unit_id=unit_id, user_id=created_by_id, object_type="price", object_id=category.code,
          details={"buy_price_idr": buy_price_idr, "sell_price_idr": sell_price_idr,
                   "effective_from": effective_from.isoformat()})
    return price


CATALOGUE_COLUMNS = ("code", "name_id", "name_en", "unit", "material_group", "buy_price_idr",
                     "sell_price_idr", "co2e_kg_per_unit", "co2e_source")


def parse_co2e_grams(text: str) -> int:
    """``"1.15"`` kg CO₂e per unit → 1150 grams, exactly (Decimal, never float)."""
    grams = Decimal(text.strip() or "0") * 1000
    if grams != grams.to_integral_value() or grams < 0:
        raise ValueError(f"CO2e factor {text!r} has more precision than a gram")
    return int(grams)


def load_catalogue(text: str) -> list[tuple[WasteCategory, int, int]]:
    """Create or update categories from catalogue CSV text (the format of
    ``wastebank/data/catalogue.csv``). Returns ``(category, buy_price_idr, sell_price_idr)``
    per row, so callers may set prices. Raises ValueError naming the row for a bad row.
    """
    reader = csv.DictReader(io.StringIO(text))
    missing = set(CATALOGUE_COLUMNS) - set(reader.fieldnames or ())
    if missing:
        raise ValueError(f"catalogue lacks columns: {', '.join(sorted(missing))}")
    out = []
    for order, row in enumerate(reader, start=1):
        try:
            if row["unit"] not in ("kg", "L", "pcs"):
                raise ValueError(f"unit {row['unit']!r}")
            category = db.session.scalar(select(WasteCategory).where(WasteCategory.code == row["code"]))
            if category is None:
                category = WasteCategory(code=row["code"])
                db.session.add(category)
            category.name_id = row["name_id"]
            category.name_en = row["name_en"]
            category.unit = row["unit"]
            category.material_group = row["material_group"]
            category.co2e_g_per_unit = parse_co2e_grams(row["co2e_kg_per_unit"])
            category.co2e_source = row["co2e_source"]
            category.sort_order = order
            category.max_line_milli = category.max_line_milli or 500_000
            out.append((category, int(row["buy_price_idr"]), int(row["sell_price_idr"])))
        except (ValueError, KeyError) as exc:
            raise ValueError(f"catalogue row {order + 1}: {exc}") from exc
    db.session.flush()
    return out
