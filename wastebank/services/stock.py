"""The stock ledger (issue 4 item 3): waste stock per unit and category, at weighted average cost.

Each category has one stock account per unit (``ledger.stock_account``) whose ``balance`` is the
value at cost in rupiah and whose ``quantity_milli`` is the quantity in thousandths of the
category's unit (grams for kg). Deposits bring stock in at their line amounts, sales and
write-offs take it out at the weighted average cost (value / quantity), so the value left is
always the sum of the account's postings. Stock never goes below zero: a write-off may not
exceed what is on hand, and ``post_journal`` refuses any movement that would.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..extensions import db
from ..models import Account, Unit, User, WasteCategory
from ..money import Rupiah, Thousandths, format_quantity, round_half_up_div
from . import idempotency
from .audit import audit
from .catalog import current_prices
from .idempotency import Outcome
from .errors import DomainError, InsufficientStock, ValidationFailed
from .ledger import Leg, post_journal, stock_account, system_account

MAX_REASON = 500


@dataclass(frozen=True)
class StockRow:
    """Stock on hand of one category: ``quantity_milli`` thousandths of ``category.unit``,
    ``value_idr`` rupiah at cost."""

    category: WasteCategory
    quantity_milli: Thousandths
    value_idr: Rupiah

    @property
    def average_cost_idr(self) -> Rupiah | None:
        """Weighted average cost in rupiah per unit of measure (per kg), half up; None when empty."""
        if self.quantity_milli <= 0:
            return None
        return round_half_up_div(max(self.value_idr, 0) * 1000, self.quantity_milli)


def cost_of(quantity_milli: Thousandths, on_hand_milli: Thousandths, value_idr: Rupiah) -> Rupiah:
    """Rupiah cost of ``quantity_milli`` taken from ``on_hand_milli`` worth ``value_idr``:
    ``round_half_up(quantity × value / on_hand)``. Taking everything costs exactly ``value``,
    so no value is ever left on an empty account. Raises InsufficientStock if there is not
    enough."""
    if quantity_milli > on_hand_milli or on_hand_milli <= 0:
        raise InsufficientStock(_l("Not enough in stock for this."), field="quantity")
    if quantity_milli == on_hand_milli:
        return value_idr
    return round_half_up_div(quantity_milli * max(value_idr, 0), on_hand_milli)


def lock_stock_accounts(unit_id: int, category_ids) -> dict[int, Account]:
    """The unit's stock accounts for ``category_ids``, refreshed and (on PostgreSQL) locked
    ``FOR UPDATE`` in ascending id order (docs/rules.md §ledger (I13)), so that a cost computed from
    value / quantity is not raced by a concurrent sale. On SQLite a write after a stale read
    is refused (SQLITE_BUSY_SNAPSHOT) and retried under the writer lock (docs/rules.md
    §concurrency). Returns ``{category_id: Account}``."""
    accounts = {cat_id: stock_account(unit_id, cat_id) for cat_id in set(category_ids)}
    ids = sorted(a.id for a in accounts.values())
    stmt = select(Account).where(Account.unit_id == unit_id, Account.id.in_(ids)).order_by(Account.id)
    if db.session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    list(db.session.scalars(stmt.execution_options(populate_existing=True)))
    return accounts


def stock_on_hand(unit_id: int, *, include_empty: bool = False) -> list[StockRow]:
    """Stock per category at ``unit_id``, in catalogue order. Categories with nothing on hand
    and no value are left out unless ``include_empty``."""
    rows = db.session.execute(
        select(Account, WasteCategory)
        .join(WasteCategory, WasteCategory.id == Account.category_id)
        .where(Account.unit_id == unit_id, Account.kind == "stock")
        .order_by(WasteCategory.sort_order, WasteCategory.code)
    )
    out = [StockRow(cat, acc.quantity_milli, acc.balance) for acc, cat in rows]
    return out if include_empty else [r for r in out if r.quantity_milli or r.value_idr]


def stock_row(unit_id: int, category: WasteCategory) -> StockRow:
    """Stock on hand of one category at ``unit_id``."""
    account = stock_account(unit_id, category.id)
    db.session.refresh(account)
    return StockRow(category, account.quantity_milli, account.balance)


def adjust_stock(unit: Unit, category: WasteCategory, quantity_milli_delta: Thousandths, reason: str, user: User,
                 *, idempotency_key: str | None = None) -> Outcome:
    """An explicit, audited stock adjustment of ``quantity_milli_delta`` thousandths.

    Negative (shrinkage, spoilage, write-off): Dr stock write-offs / Cr stock at the weighted
    average cost (``cost_of``, half up); it may not exceed the stock on hand. Positive (stock
    found): Dr stock / Cr stock write-offs at the current average cost, or at the category's
    current buy price when the stock is empty. ``reason`` (3–500 characters) is required.
    With ``idempotency_key`` a repeat returns the first answer and moves nothing.

    Returns Outcome(201, ``{"entry_id", "category", "quantity_milli", "amount_idr",
    "quantity_after_milli", "value_after_idr", "reason"}``). Flushes, never commits.
    Raises ValidationFailed, InsufficientStock, DomainError (another unit's user, a quantity
    too small to be worth a rupiah), PeriodClosed, IdempotencyConflict.
    """
    if user.unit_id != unit.id:
        raise DomainError(_l("Only staff of this unit may adjust its stock."), code="wrong_unit")
    reason = " ".join((reason or "").split())[:MAX_REASON]
    errors: dict[str, tuple[str, object]] = {}
    if type(quantity_milli_delta) is not int or quantity_milli_delta == 0:
        errors["quantity"] = ("not_zero", _l("Enter the quantity to add or remove."))
    if len(reason) < 3:
        errors["reason"] = ("required", _l("Say why the stock is adjusted."))
    if errors:
        raise ValidationFailed(errors)
    if idempotency_key is None:
        status, body = _post_adjustment(unit, category, quantity_milli_delta, reason, user)
        return Outcome(status, body, False)
    return idempotency.execute(
        unit, idempotency_key, "stock_adjust",
        {"category": category.id, "quantity": quantity_milli_delta, "reason": reason},
        lambda: _post_adjustment(unit, category, quantity_milli_delta, reason, user), user_id=user.id)


def _adjustment_amount(unit: Unit, category: WasteCategory, account: Account, delta: Thousandths) -> Rupiah:
    """Rupiah at cost of a ``delta`` thousandths adjustment on ``account`` (unsigned), as
    ``adjust_stock`` describes. Raises InsufficientStock, DomainError ``too_small``."""
    on_hand, value = account.quantity_milli, account.balance
    if delta < 0:
        if -delta > on_hand:
            raise InsufficientStock(
                _l("Cannot write off %(qty)s: only %(on_hand)s in stock.",
                   qty=format_quantity(-delta, category.unit),
                   on_hand=format_quantity(on_hand, category.unit)), field="quantity")
        amount = cost_of(-delta, on_hand, value)
    elif on_hand > 0 and value > 0:
        amount = round_half_up_div(delta * value, on_hand)
    else:
        price = current_prices(unit.id).get(category.id)
        amount = round_half_up_div(delta * price.buy_price_idr, 1000) if price else 0
    if amount <= 0:
        raise DomainError(_l("This quantity is worth less than one rupiah at cost; it cannot be posted."),
                          field="quantity", code="too_small")
    return amount


def _post_adjustment(unit: Unit, category: WasteCategory, quantity_milli_delta: Thousandths, reason: str,
                     user: User) -> tuple[int, dict]:
    """The adjustment's work (inside the idempotency envelope when a key is given): post it
    and answer ``(201, body)``."""
    account = lock_stock_accounts(unit.id, [category.id])[category.id]
    amount = _adjustment_amount(unit, category, account, quantity_milli_delta)
    sign = 1 if quantity_milli_delta > 0 else -1
    entry = post_journal(unit.id, "stock_adjustment",
                         [Leg(account, sign * amount, quantity_milli_delta),
                          Leg(system_account(unit.id, "stock_writeoff"), -sign * amount)],
                         created_by_id=user.id, memo=f"Penyesuaian stok {category.code}: {reason}",
                         reason=reason)
    db.session.refresh(account)
    body = {"entry_id": entry.id, "category": category.code, "quantity_milli": quantity_milli_delta,
            "amount_idr": sign * amount, "quantity_after_milli": account.quantity_milli,
            "value_after_idr": account.balance, "reason": reason}
    audit("stock.adjust", unit_id=unit.id, user_id=user.id, object_type="stock", object_id=category.code,
          details=body)
    return 201, body
