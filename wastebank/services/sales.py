"""Off-takers and sales of stock (issue 4 item 4).

A sale records, per category, the quantity weighed out of the unit's storeroom and the quantity
the buyer accepted after re-weighing, at the buyer's price. Accounting, in one balanced entry
(rupiah; quantities in thousandths):

* Cr stock — the cost of the *weighed* quantity at weighted average cost (``stock.cost_of``),
  quantity −weighed;
* Dr stock write-offs — the cost of the weighed − accepted difference (shrinkage);
* Dr cash (payment ``cash``) or Dr receivable (``credit``) — the sale value, the sum of
  ``line_amount(accepted, price)`` (half up per line, docs/rules.md §money);
* Cr trading margin (Dr when negative) — value − cost of the accepted part.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..api.bodies import sale_body
from ..extensions import db
from ..models import Offtaker, Sale, SaleLine, Unit, User, WasteCategory, utcnow
from ..money import InputError, Rupiah, Thousandths, format_quantity, line_amount, parse_quantity, parse_rupiah
from . import idempotency
from .audit import audit
from .idempotency import Outcome
from .errors import DomainError, InsufficientStock, NotFound, ValidationFailed
from .ledger import Leg, post_journal, stock_legs, system_account
from .numbering import next_receipt_no
from .stock import cost_of, lock_stock_accounts

OFFTAKER_KINDS = ("pengepul", "bsi", "recycler", "other")
PAYMENTS = ("cash", "credit")
MAX_LINES = 40


# ---------------------------------------------------------------------------------- off-takers

def create_offtaker(unit: Unit, name: str, *, kind: str = "pengepul", phone: str = "", address: str = "",
                    user: User | None = None) -> Offtaker:
    """Register a buyer at ``unit``. ``kind``: pengepul, bsi, recycler or other.
    Raises ValidationFailed for an empty name, an unknown kind or a name already registered."""
    name = " ".join((name or "").split())[:200]
    errors: dict[str, tuple[str, object]] = {}
    if not name:
        errors["name"] = ("required", _l("Enter the off-taker's name."))
    elif db.session.scalar(select(Offtaker.id).where(Offtaker.unit_id == unit.id, Offtaker.name == name)):
        errors["name"] = ("taken", _l("This off-taker is already registered."))
    if kind not in OFFTAKER_KINDS:
        errors["kind"] = ("invalid", _l("Choose pengepul, BSI, recycler or other."))
    if errors:
        raise ValidationFailed(errors)
    offtaker = Offtaker(unit_id=unit.id, name=name, kind=kind, phone=(phone or "").strip()[:30],
                        address=(address or "").strip()[:300], active=True)
    db.session.add(offtaker)
    db.session.flush()
    audit("offtaker.create", unit_id=unit.id, user_id=user.id if user else None, object_type="offtaker",
          object_id=offtaker.id, details={"name": name, "kind": kind, "phone": offtaker.phone})
    return offtaker


def list_offtakers(unit_id: int, *, active_only: bool = False) -> list[Offtaker]:
    """The unit's off-takers by name."""
    stmt = select(Offtaker).where(Offtaker.unit_id == unit_id).order_by(Offtaker.name)
    if active_only:
        stmt = stmt.where(Offtaker.active.is_(True))
    return list(db.session.scalars(stmt))


def get_offtaker(unit_id: int, offtaker_id: int) -> Offtaker:
    """The off-taker ``offtaker_id`` of ``unit_id``. Raises NotFound (also for another unit's)."""
    found = db.session.scalar(select(Offtaker).where(Offtaker.unit_id == unit_id, Offtaker.id == offtaker_id))
    if found is None:
        raise NotFound(_l("No such off-taker at this unit."), field="offtaker")
    return found


# ------------------------------------------------------------------------------------- sales

@dataclass(frozen=True)
class SaleLineInput:
    """One line as typed: category (code or WasteCategory), weighed and accepted quantity text
    (``"15,5"``; a blank accepted quantity means all of the weighed one was accepted) and the
    buyer's price in rupiah per unit (``"4.500"``)."""

    category: object
    weighed: str | int
    accepted: str | int | None
    price: str | int


@dataclass(frozen=True)
class QuotedSaleLine:
    """A priced sale line. Quantities in thousandths; rupiah: price per unit, ``amount_idr``
    (accepted × price, half up), ``cost_idr`` (cost of the weighed quantity), ``shrinkage_idr``
    (cost of weighed − accepted)."""

    category: WasteCategory
    weighed_milli: Thousandths
    accepted_milli: Thousandths
    price_idr: Rupiah
    amount_idr: Rupiah
    cost_idr: Rupiah
    shrinkage_idr: Rupiah

    @property
    def shrinkage_milli(self) -> Thousandths:
        return self.weighed_milli - self.accepted_milli


@dataclass
class SaleQuote:
    """What a sale will post, before anything is written (rupiah)."""

    offtaker: Offtaker
    payment: str
    lines: list[QuotedSaleLine]
    total_idr: Rupiah
    cost_idr: Rupiah
    shrinkage_idr: Rupiah

    @property
    def margin_idr(self) -> Rupiah:
        """Sale value − cost of the accepted quantities (may be negative)."""
        return self.total_idr - (self.cost_idr - self.shrinkage_idr)


def _category(ref) -> WasteCategory | None:
    if isinstance(ref, WasteCategory):
        return ref
    code = str(ref or "").strip().upper()
    return db.session.scalar(select(WasteCategory).where(WasteCategory.code == code)) if code else None


def _is_zero(text) -> bool:
    return str(text).strip().replace(",", "").replace(".", "").strip("0") == "" and str(text).strip() != ""


def _parse_accepted(line: SaleLineInput, category: WasteCategory, weighed: Thousandths) -> Thousandths:
    """The accepted quantity: all of the weighed one when blank, 0 for any spelling of zero.
    Raises InputError."""
    text = "" if line.accepted is None else str(line.accepted).strip()
    if text == "":
        return weighed
    if _is_zero(text):
        return 0
    return parse_quantity(text, category.unit)


def _parse_line(i: int, line: SaleLineInput,
                errors: dict) -> tuple[WasteCategory, Thousandths, Thousandths, Rupiah] | None:
    """One line's ``(category, weighed, accepted, price)``, or None with its first bad field
    added to ``errors``."""
    category = _category(line.category)
    if category is None:
        errors[f"lines.{i}.category"] = ("unknown_category", _l("Unknown category."))
        return None
    field = "weighed"
    try:
        weighed = parse_quantity(line.weighed, category.unit)
        field = "accepted"
        accepted = _parse_accepted(line, category, weighed)
        if accepted > weighed:
            errors[f"lines.{i}.accepted"] = ("over_weighed", _l("The buyer cannot accept more than was weighed."))
            return None
        field = "price"
        # A line whose whole weight was refused may leave the price blank.
        price = parse_rupiah(line.price) if accepted > 0 or not _is_zero(line.price) else 0
    except InputError as exc:
        errors[f"lines.{i}.{field}"] = (exc.code, exc.message)
        return None
    return category, weighed, accepted, price


def _parse_lines(lines: list[SaleLineInput]) -> list[tuple[WasteCategory, Thousandths, Thousandths, Rupiah]]:
    """``(category, weighed_milli, accepted_milli, price_idr)`` per line, or ValidationFailed
    naming every bad field ``lines.<i>.<category|weighed|accepted|price>``."""
    if not lines:
        raise ValidationFailed({"lines": ("required", _l("Add at least one category."))})
    if len(lines) > MAX_LINES:
        raise ValidationFailed({"lines": ("too_many", _l("At most %(n)s lines per sale.", n=MAX_LINES))})
    errors: dict[str, tuple[str, object]] = {}
    parsed = [_parse_line(i, line, errors) for i, line in enumerate(lines)]
    if errors:
        raise ValidationFailed(errors)
    return parsed


def quote_sale(unit: Unit, offtaker: Offtaker, lines: list[SaleLineInput], payment: str) -> SaleQuote:
    """Price ``lines`` against the stock on hand: each weighed quantity leaves at the weighted
    average cost (several lines of one category leave one after the other). Reads only (on
    PostgreSQL it locks the stock accounts when called inside ``record_sale``).

    Raises ValidationFailed, DomainError (another unit's or inactive off-taker) and
    InsufficientStock naming the category when more is weighed than is in stock.
    """
    if offtaker.unit_id != unit.id:
        raise DomainError(_l("This off-taker belongs to another unit."), field="offtaker", code="wrong_unit")
    if not offtaker.active:
        raise DomainError(_l("This off-taker is deactivated."), field="offtaker", code="offtaker_inactive")
    if payment not in PAYMENTS:
        raise ValidationFailed({"payment": ("invalid", _l("Choose cash or credit."))})
    parsed = _parse_lines(lines)
    accounts = lock_stock_accounts(unit.id, [c.id for c, *_ in parsed])
    left = {cat_id: [acc.quantity_milli, acc.balance] for cat_id, acc in accounts.items()}
    quoted = []
    for category, weighed, accepted, price in parsed:
        on_hand, value = left[category.id]
        if weighed > on_hand:
            raise InsufficientStock(
                _l("Not enough %(category)s in stock: %(on_hand)s on hand, %(qty)s weighed.",
                   category=category.name(get_locale()), on_hand=format_quantity(on_hand, category.unit),
                   qty=format_quantity(weighed, category.unit)), field="quantity")
        cost = cost_of(weighed, on_hand, value)
        shrinkage = cost_of(weighed - accepted, on_hand, value) if weighed > accepted else 0
        shrinkage = min(shrinkage, cost)
        left[category.id] = [on_hand - weighed, value - cost]
        quoted.append(QuotedSaleLine(category, weighed, accepted, price, line_amount(accepted, price),
                                     cost, shrinkage))
    return SaleQuote(offtaker, payment, quoted, sum(q.amount_idr for q in quoted),
                     sum(q.cost_idr for q in quoted), sum(q.shrinkage_idr for q in quoted))


def _canonical(offtaker: Offtaker, lines: list[SaleLineInput], payment: str, note: str) -> dict:
    out = []
    for line in lines:
        category = _category(line.category)
        row = [category.code if category else str(line.category), str(line.weighed).strip(),
               "" if line.accepted is None else str(line.accepted).strip(), str(line.price).strip()]
        if category is not None:
            try:
                row[1] = parse_quantity(line.weighed, category.unit)
                row[2] = row[1] if row[2] == "" else (0 if _is_zero(row[2]) else parse_quantity(row[2], category.unit))
                row[3] = 0 if _is_zero(row[3]) else parse_rupiah(line.price)
            except InputError:
                pass
        out.append(row)
    return {"offtaker": offtaker.id, "payment": payment, "lines": out, "note": note}


def record_sale(unit: Unit, offtaker: Offtaker, lines: list[SaleLineInput], payment: str, *, user: User,
                idempotency_key: str, note: str = "") -> Outcome:
    """Record a sale to ``offtaker``: one balanced journal entry (see the module docstring),
    a Sale with its SaleLines, a number from the unit's receipt series (``next_receipt_no``)
    and an audit row; the answer (``sale_body``) is stored under ``idempotency_key``, so a
    repeat returns it and moves nothing, and the same key with another request raises
    IdempotencyConflict.

    Flushes, never commits. Raises ValidationFailed, DomainError, InsufficientStock (more
    weighed than in stock: nothing changes), PeriodClosed, IdempotencyConflict.
    """
    if user.unit_id != unit.id:
        raise DomainError(_l("Only staff of this unit may record its sales."), code="wrong_unit")
    note = " ".join((note or "").split())[:500]
    return idempotency.execute(unit, idempotency_key, "sale", lambda: _canonical(offtaker, lines, payment, note),
                               lambda: _post_sale(unit, offtaker, lines, payment, note, user), user_id=user.id)


def _sale_legs(unit: Unit, quote: SaleQuote) -> list[Leg]:
    """The sale's legs (see the module docstring). Raises DomainError ``stock_without_value``
    when a category's stock has no value at cost left."""
    legs = stock_legs(unit.id, ((line.category.id, -line.cost_idr, -line.weighed_milli) for line in quote.lines))
    if any(leg.amount >= 0 for leg in legs):
        raise DomainError(_l("This stock has no value at cost left; adjust it before selling."),
                          field="lines", code="stock_without_value")
    if quote.shrinkage_idr:
        legs.append(Leg(system_account(unit.id, "stock_writeoff"), quote.shrinkage_idr))
    if quote.total_idr:
        legs.append(Leg(system_account(unit.id, "cash" if quote.payment == "cash" else "receivable"),
                        quote.total_idr))
    if quote.margin_idr:
        legs.append(Leg(system_account(unit.id, "trading_margin"), -quote.margin_idr))
    return legs


def _post_sale(unit: Unit, offtaker: Offtaker, lines: list[SaleLineInput], payment: str, note: str,
               user: User) -> tuple[int, dict]:
    """The sale's work inside the idempotency envelope: quote, post, number, audit.
    Returns ``(201, sale_body)``."""
    quote = quote_sale(unit, offtaker, lines, payment)
    legs = _sale_legs(unit, quote)
    sale_no = next_receipt_no(unit, utcnow())
    entry = post_journal(unit.id, "sale", legs, created_by_id=user.id,
                         memo=f"Penjualan {sale_no} {offtaker.name}")
    sale = Sale(unit_id=unit.id, offtaker_id=offtaker.id, sale_no=sale_no, payment=payment,
                total_idr=quote.total_idr, cost_idr=quote.cost_idr, shrinkage_idr=quote.shrinkage_idr,
                margin_idr=quote.margin_idr, note=note, entry_id=entry.id, created_by_id=user.id,
                posted_at=entry.posted_at, offtaker=offtaker,
                lines=[SaleLine(unit_id=unit.id, category_id=l.category.id, category=l.category,
                                weighed_milli=l.weighed_milli, accepted_milli=l.accepted_milli,
                                price_idr=l.price_idr, amount_idr=l.amount_idr, cost_idr=l.cost_idr)
                       for l in quote.lines])
    db.session.add(sale)
    db.session.flush()
    body = sale_body(sale)
    audit("sale.record", unit_id=unit.id, user_id=user.id, object_type="sale", object_id=sale_no, details=body)
    return 201, body


def get_sale(unit_id: int, sale_no: str) -> Sale | None:
    """The sale ``sale_no`` of ``unit_id`` (None if absent or another unit's)."""
    return db.session.scalar(select(Sale).where(Sale.unit_id == unit_id, Sale.sale_no == sale_no))


def list_sales(unit_id: int, limit: int = 100) -> list[Sale]:
    """The unit's latest sales, newest first."""
    return list(db.session.scalars(select(Sale).where(Sale.unit_id == unit_id)
                                   .order_by(Sale.posted_at.desc(), Sale.id.desc()).limit(limit)))
