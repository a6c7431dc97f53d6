"""Categories and price lists."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from importlib import resources

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from ..extensions import db
from ..models import CategoryRow, Deposit, DepositLine, Price, Unit, WasteCategory
from ..models.types import utcnow
from ..money import MAX_RUPIAH, InputError, parse_rupiah
from ..timeutil import local_day_bounds, local_today, to_local
from .audit import audit
from .errors import ValidationFailed
from .ledger import stock_account


@dataclass(frozen=True)
class PriceRow:
    """A category with the price in force: rupiah per unit of measure. ``category`` is the
    mapped row (screens) or the catalogue's plain CategoryRow (the deposit's cached path)."""

    category: WasteCategory | CategoryRow
    buy_price_idr: int
    sell_price_idr: int
    effective_from: date


def latest_price_days(unit_id: int, on: date):
    """Subquery ``(category_id, eff)``: per category, the latest ``effective_from`` ≤ local date
    ``on`` at ``unit_id`` — the one rule of which price is in force (docs/prices.md). Join
    ``Price`` on it (with ``Price.unit_id == unit_id``) to read the rows."""
    return (select(Price.category_id, func.max(Price.effective_from).label("eff"))
            .where(Price.unit_id == unit_id, Price.effective_from <= on)
            .group_by(Price.category_id)
            .subquery())


def current_prices(unit_id: int, on: date | None = None) -> dict[int, PriceRow]:
    """Prices in force at ``unit_id`` on local date ``on`` (default today), keyed by category id.

    For each category, the row with the latest ``effective_from`` ≤ ``on``. Categories without
    a price are absent (they cannot be deposited).
    """
    on = on or local_today()
    latest = latest_price_days(unit_id, on)
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


def unit_start_day(unit_id: int) -> date:
    """The local date the unit was created: where its first price list starts (docs/prices.md)."""
    created = db.session.scalar(select(Unit.created_at).where(Unit.id == unit_id))
    return to_local(created).date() if created is not None else local_today()


def _saved_lines_from(unit_id: int, category_id: int, day: date) -> int:
    """How many saved deposit lines (voided ones too) of ``category_id`` at ``unit_id`` were
    captured (``recorded_at``) on or after local date ``day``."""
    start, _end = local_day_bounds(day)
    return db.session.scalar(
        select(func.count(DepositLine.id)).join(Deposit, Deposit.id == DepositLine.deposit_id)
        .where(DepositLine.unit_id == unit_id, DepositLine.category_id == category_id,
               Deposit.recorded_at >= start)) or 0


def parse_prices(buy_text: str, sell_text: str = "") -> tuple[int, int]:
    """Typed prices → ``(buy_price_idr, sell_price_idr)``: ``("3.250", "4.500")`` → (3250, 4500);
    an empty or ``"0"`` sell price is 0 (nothing expected from off-takers yet). Raises
    ValidationFailed (field ``buy_price_idr`` or ``sell_price_idr``) with ``parse_rupiah``'s
    message. Used by the price screen and ``flask price set``."""
    try:
        buy = parse_rupiah(buy_text)
    except InputError as exc:
        raise ValidationFailed({"buy_price_idr": (exc.code, exc.message)}) from exc
    sell_text = str(sell_text or "").strip()
    try:
        sell = 0 if sell_text in ("", "0") else parse_rupiah(sell_text)
    except InputError as exc:
        raise ValidationFailed({"sell_price_idr": (exc.code, exc.message)}) from exc
    return buy, sell


def set_price(unit_id: int, category: WasteCategory, buy_price_idr: int, sell_price_idr: int = 0,
              effective_from: date | None = None, created_by_id: int | None = None) -> Price:
    """Set ``category``'s buy and sell price (whole rupiah per unit of measure) at ``unit_id``
    from local date ``effective_from`` (default today). The one function the manager's price
    screen (``manager/prices.py``), ``flask price set``, ``flask category load`` and the demo
    use; the rules are in docs/prices.md:

    * today or a future date: a new row (the counter uses it from that date); a row already
      starting that day is replaced (a same-day correction), its old figures kept in the audit row;
    * a past date is refused (``price_rewrites_history``) when deposit lines of the category
      were captured at the unit on or after it: the price in force on those days must stay the
      one their lines copied (C04). Without such lines a past date is accepted;
    * the category's first price at the unit (no row starting on or before the date) applies
      from the unit's start (``unit_start_day``), so an offline capture from before the
      moment the prices were typed finds it. A first price dated in the future stays future.

    Also makes sure the unit has the category's stock account, and writes a ``price.set`` audit
    row (figures before and after). Returns the row; never commits. Raises ValidationFailed
    (field ``buy_price_idr``/``sell_price_idr``/``effective_from``) for a non-positive buy price,
    a negative sell price or a refused date.
    """
    if isinstance(buy_price_idr, bool) or not isinstance(buy_price_idr, int) or buy_price_idr <= 0:
        raise ValidationFailed({"buy_price_idr": ("not_positive", _l("The buy price must be more than zero."))})
    if isinstance(sell_price_idr, bool) or not isinstance(sell_price_idr, int) or sell_price_idr < 0:
        raise ValidationFailed({"sell_price_idr": ("negative", _l("The sell price cannot be negative."))})
    if max(buy_price_idr, sell_price_idr) > MAX_RUPIAH:
        raise ValidationFailed({"buy_price_idr": ("too_large", _l("That amount is far too large; check the digits."))})
    today = local_today()
    requested = effective_from or today
    before = current_prices(unit_id, requested).get(category.id)
    if before is None and requested <= today:
        effective_from = min(requested, unit_start_day(unit_id))
    else:
        effective_from = requested
    if effective_from < today and _saved_lines_from(unit_id, category.id, effective_from):
        raise ValidationFailed({"effective_from": ("price_rewrites_history", _l(
            "Deposits of %(category)s were already saved on or after %(day)s. A price cannot start "
            "before them: choose today or a later date.",
            category=category.name(get_locale()),
            day=effective_from.strftime("%d-%m-%Y")))})
    price = db.session.scalar(select(Price).where(
        Price.unit_id == unit_id, Price.category_id == category.id, Price.effective_from == effective_from))
    if price is None:
        price = Price(unit_id=unit_id, category_id=category.id, effective_from=effective_from)
        db.session.add(price)
    replaced = (price.buy_price_idr, price.sell_price_idr) if price.id is not None else None
    price.buy_price_idr = buy_price_idr
    price.sell_price_idr = sell_price_idr
    price.created_by_id = created_by_id
    price.created_at = utcnow()
    stock_account(unit_id, category.id)
    db.session.flush()
    details = {"category": category.code, "buy_price_idr": buy_price_idr, "sell_price_idr": sell_price_idr,
               "effective_from": effective_from.isoformat()}
    if before is not None:
        details.update(previous_buy_price_idr=before.buy_price_idr, previous_sell_price_idr=before.sell_price_idr,
                       previous_effective_from=before.effective_from.isoformat())
    if replaced is not None:
        details.update(replaced_buy_price_idr=replaced[0], replaced_sell_price_idr=replaced[1])
    if effective_from != requested:
        details["requested_from"] = requested.isoformat()
    audit("price.set", unit_id=unit_id, user_id=created_by_id, object_type="price", object_id=category.code,
          details=details)
    return price


@dataclass(frozen=True)
class PriceChange:
    """One row of the bulk price form: rupiah per unit of measure."""

    category: WasteCategory
    buy_price_idr: int
    sell_price_idr: int


def set_prices(unit_id: int, changes: list[PriceChange], effective_from: date | None = None,
               created_by_id: int | None = None) -> list[Price]:
    """The weekly update: ``set_price`` for each change (same date, same user); a change equal
    to the price already in force on that date is skipped (no row, no audit). All or nothing:
    the first refusal raises ValidationFailed with fields ``<CODE>.<field>`` and the caller's
    transaction rolls back. Returns the rows written."""
    day = effective_from or local_today()
    in_force = current_prices(unit_id, day)
    written = []
    for change in changes:
        now = in_force.get(change.category.id)
        if now is not None and (now.buy_price_idr, now.sell_price_idr) == (change.buy_price_idr,
                                                                          change.sell_price_idr):
            continue
        try:
            written.append(set_price(unit_id, change.category, change.buy_price_idr, change.sell_price_idr,
                                     day, created_by_id))
        except ValidationFailed as exc:
            raise ValidationFailed({f"{change.category.code}.{field}": value
                                    for field, value in exc.errors.items()}) from exc
    return written


@dataclass(frozen=True)
class PriceListRow:
    """A category of the manager's price list: the price in force today (None if it has none
    yet), who set it and when, and the next upcoming price if one is set."""

    category: WasteCategory
    current: Price | None
    upcoming: Price | None


def price_list(unit_id: int, today: date | None = None) -> list[PriceListRow]:
    """Every category of the catalogue with its price in force at ``unit_id`` on ``today``
    and the earliest later one, in catalogue order."""
    today = today or local_today()
    rows = db.session.scalars(select(Price).where(Price.unit_id == unit_id)
                              .order_by(Price.category_id, Price.effective_from))
    current: dict[int, Price] = {}
    upcoming: dict[int, Price] = {}
    for price in rows:
        if price.effective_from <= today:
            current[price.category_id] = price
        else:
            upcoming.setdefault(price.category_id, price)
    categories = db.session.scalars(select(WasteCategory).order_by(WasteCategory.sort_order, WasteCategory.code))
    return [PriceListRow(cat, current.get(cat.id), upcoming.get(cat.id)) for cat in categories]


def price_history(unit_id: int, category_id: int) -> list[Price]:
    """Every price row of a category at a unit, newest ``effective_from`` first."""
    return list(db.session.scalars(select(Price).where(Price.unit_id == unit_id, Price.category_id == category_id)
                                   .order_by(Price.effective_from.desc())))


CATALOGUE_COLUMNS = ("code", "name_id", "name_en", "unit", "material_group", "buy_price_idr",
                     "sell_price_idr", "co2e_kg_per_unit", "co2e_source")


def parse_co2e_grams(text: str) -> int:
    """``"1.15"`` kg CO₂e per unit → 1150 grams, exactly (Decimal, never float)."""
    grams = Decimal(text.strip() or "0") * 1000
    if grams != grams.to_integral_value() or grams < 0:
        raise ValueError(f"CO2e factor {text!r} has more precision than a gram")
    return int(grams)


def default_catalogue_text() -> str:
    """The shipped default catalogue (``wastebank/data/catalogue.csv``) as text, in the format
    :func:`load_catalogue` reads."""
    return resources.files("wastebank").joinpath("data/catalogue.csv").read_text(encoding="utf-8")


#: Optional catalogue columns: grams of one piece or litre and where that figure comes from
#: (issue 12 item 2). A file without them leaves the categories' factors as they are.
FACTOR_COLUMNS = ("kg_factor_g", "kg_factor_source")


def parse_kg_factor(unit: str, text: str) -> int | None:
    """The catalogue's ``kg_factor_g`` cell → integer grams per piece or litre, or None when
    empty. A ``kg`` category takes none (1 kg is 1000 g) or exactly ``1000``; a ``pcs``/``L``
    factor must be a positive whole number of grams. Raises ValueError otherwise."""
    text = (text or "").strip()
    if not text:
        return None
    if not text.isdigit() or int(text) <= 0:
        raise ValueError(f"kg_factor_g {text!r} must be a positive whole number of grams")
    if unit == "kg" and int(text) != 1000:
        raise ValueError(f"kg_factor_g {text!r}: a kg category weighs 1000 g per kg")
    return None if unit == "kg" else int(text)


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
            if "kg_factor_g" in row:
                category.kg_factor_g = parse_kg_factor(row["unit"], row["kg_factor_g"])
                category.kg_factor_source = (row.get("kg_factor_source") or "").strip()
                if category.kg_factor_g is not None and not category.kg_factor_source:
                    raise ValueError("kg_factor_g needs its kg_factor_source")
            category.sort_order = order
            category.max_line_milli = category.max_line_milli or 500_000
            out.append((category, int(row["buy_price_idr"]), int(row["sell_price_idr"])))
        except (ValueError, KeyError) as exc:
            raise ValueError(f"catalogue row {order + 1}: {exc}") from exc
    db.session.flush()
    return out
