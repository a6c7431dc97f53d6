"""Deposits (setoran): price a visit, then record it idempotently (docs/rules.md §money, §idempotency, §api)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from flask_babel import lazy_gettext as _l
from sqlalchemy import insert, select

from ..api.bodies import deposit_body
from ..extensions import db
from ..models import CategoryRow, Deposit, DepositLine, Member, Price, Unit, WasteCategory, utcnow
from ..money import (InputError, Rupiah, Thousandths, fee_amount, format_idr, format_quantity, line_amount,
                     parse_quantity)
from ..timeutil import to_local
from . import hot_cache, idempotency
from .audit import audit, current_device
from .catalog import PriceRow, latest_price_days
from .containers import find_container
from .errors import Conflict, DomainError, ValidationFailed
from .idempotency import Outcome
from .ledger import Leg, member_savings_account, plan_journal, stock_legs, system_account
from .notifications import queue_for_deposit
from .numbering import take_receipt_no
from .transaction import prepared, run_core, send_together

MAX_LINES = 40
# How far a client's clock may run ahead of the server's for ``recorded_at``.
CLOCK_SKEW = timedelta(minutes=5)
# How old an offline capture may be when it is replayed.
MAX_OFFLINE_AGE = timedelta(days=31)


@dataclass(frozen=True)
class LineInput:
    """One line as the operator typed it: category code and quantity text (``"1,5"``).

    Weighed in a container (docs/tare.md): ``gross`` is what the scale showed (text as for
    ``quantity``) and ``container`` the unit's container (its id or name); the net, gross −
    the container's weight, is what is priced. A line gives ``quantity`` (the net) or
    ``gross``, not both; ``quantity`` is then None."""

    category: str
    quantity: str | int | None
    container: str | int | None = None
    gross: str | int | None = None


@dataclass(frozen=True)
class QuotedLine:
    """A priced line: thousandths of ``unit``, rupiah per unit, rupiah amount (half-up). The
    category is the catalogue's plain row (read-only: code, names, unit, limits)."""

    category: CategoryRow
    quantity_milli: Thousandths  # the net: priced and credited
    unit_price_idr: Rupiah
    amount_idr: Rupiah
    tare_milli: Thousandths = 0  # the container's weight, grams; 0 without one
    container_id: int | None = None
    container_name: str | None = None

    @property
    def gross_milli(self) -> Thousandths:
        """What the scale showed: net + tare."""
        return self.quantity_milli + self.tare_milli

    @property
    def has_tare(self) -> bool:
        return bool(self.tare_milli)


@dataclass
class DepositQuote:
    """What a deposit will credit, before anything is written. Rupiah throughout."""

    member: Member
    lines: list[QuotedLine]
    total_idr: Rupiah
    fee_idr: Rupiah
    credited_idr: Rupiah
    balance_before_idr: Rupiah
    recorded_at: datetime
    errors: dict = field(default_factory=dict)

    @property
    def balance_after_idr(self) -> Rupiah:
        return self.balance_before_idr + self.credited_idr


def _as_utc(recorded_at: datetime) -> datetime:
    """A client's capture time in UTC. Raises ValidationFailed for a naive time or one that
    cannot be represented in UTC (year 1 or 9999 with an offset)."""
    if recorded_at.tzinfo is None or recorded_at.utcoffset() is None:
        raise ValidationFailed({"recorded_at": ("naive_time", _l("Give the time with its UTC offset."))})
    try:
        return recorded_at.astimezone(timezone.utc)
    except (OverflowError, ValueError):
        raise ValidationFailed({"recorded_at": ("out_of_range", _l("The capture time is too long ago."))}) from None


def _check_recorded_at(recorded_at: datetime | None) -> datetime:
    now = utcnow()
    if recorded_at is None:
        return now
    recorded_at = _as_utc(recorded_at)
    if recorded_at > now + CLOCK_SKEW:
        raise ValidationFailed({"recorded_at": ("in_future", _l("The capture time is in the future."))})
    if recorded_at < now - MAX_OFFLINE_AGE:
        raise ValidationFailed({"recorded_at": ("too_old", _l("The capture time is too long ago."))})
    return recorded_at


def _codes(lines: list[LineInput]) -> list[str]:
    return sorted({str(line.category or "").strip().upper() for line in lines})


def _categories(unit: Unit) -> dict[str, CategoryRow]:
    """``{code: CategoryRow}`` of the whole catalogue, cached per ``unit.cache_version``
    (services/hot_cache.py). The rows are immutable plain values shared by every request of the
    process: a deposit builds no ORM instance for its categories."""
    key = ("categories", unit.id, unit.cache_version)
    cached = hot_cache.get(key)
    if cached is None:
        table = WasteCategory.__table__
        cached = {row["code"]: CategoryRow(**row) for row in db.session.execute(select(table)).mappings()}
        hot_cache.put(key, cached)
    return cached


def _price_list(unit: Unit, day) -> dict[str, tuple]:
    """``{code: (buy, sell, effective_from)}`` in force at ``unit`` on local date ``day`` (the
    latest ``effective_from`` ≤ ``day`` per category), cached per ``unit.cache_version`` and day."""
    key = ("prices", unit.id, unit.cache_version, day)
    cached = hot_cache.get(key)
    if cached is None:
        latest = latest_price_days(unit.id, day)
        rows = db.session.execute(
            select(WasteCategory.code, Price.buy_price_idr, Price.sell_price_idr, Price.effective_from)
            .join(latest, latest.c.category_id == WasteCategory.id)
            .join(Price, (Price.category_id == latest.c.category_id) & (Price.effective_from == latest.c.eff)
                  & (Price.unit_id == unit.id)))
        cached = {code: (buy, sell, eff) for code, buy, sell, eff in rows}
        hot_cache.put(key, cached)
    return cached


def _line_prices(unit: Unit, day, lines: list[LineInput]) -> dict[str, PriceRow]:
    """``{code: PriceRow}`` of the lines' categories with a price in force at ``unit`` on local
    date ``day``, from the cached catalogue and price list (no query when cached)."""
    categories, prices = _categories(unit), _price_list(unit, day)
    return {code: PriceRow(categories[code], *prices[code])
            for code in _codes(lines) if code in prices and code in categories}


def quote_deposit(unit: Unit, member: Member, lines: list[LineInput],
                  recorded_at: datetime | None = None, *, with_balance: bool = True) -> DepositQuote:
    """Price ``lines`` for ``member`` at ``unit`` with the prices in force on the local date of
    ``recorded_at`` (default now). Reads only.

    Raises ValidationFailed with every bad field (``lines.<i>.category``,
    ``lines.<i>.quantity``, ``lines``, ``recorded_at``) and DomainError for an inactive member
    or one of another unit. ``with_balance=False`` leaves ``balance_before_idr`` 0 (the
    deposit itself takes the balance after from its update and needs no read).
    """
    if member.unit_id != unit.id:
        raise DomainError(_l("This member belongs to another unit."), field="member", code="wrong_unit")
    if not member.active:
        raise DomainError(_l("This member is deactivated; reactivate them first."),
                          field="member", code="member_inactive")
    recorded_at = _check_recorded_at(recorded_at)
    if not lines:
        raise ValidationFailed({"lines": ("required", _l("Add at least one category."))})
    if len(lines) > MAX_LINES:
        raise ValidationFailed({"lines": ("too_many", _l("At most %(n)s lines per deposit.", n=MAX_LINES))})
    prices = _line_prices(unit, to_local(recorded_at).date(), lines)
    errors: dict[str, tuple[str, object]] = {}
    quoted: list[QuotedLine] = []
    for i, line in enumerate(lines):
        row = prices.get(str(line.category or "").strip().upper())
        if row is None:
            errors[f"lines.{i}.category"] = ("unknown_category",
                                             _l("Unknown category or no price set for it at this unit."))
            continue
        try:
            net, tare, container = _net_weight(unit, line, row.category)
        except _LineRefused as exc:
            errors[f"lines.{i}.{exc.field}"] = (exc.code, exc.message)
            continue
        amount = line_amount(net, row.buy_price_idr)
        if amount <= 0:
            errors[f"lines.{i}.{'gross' if line.gross is not None else 'quantity'}"] = (
                "too_small", _l("Too little to be worth one rupiah."))
            continue
        quoted.append(QuotedLine(row.category, net, row.buy_price_idr, amount, tare,
                                 container.id if container else None, container.name if container else None))
    if errors:
        raise ValidationFailed(errors)
    total = sum(line.amount_idr for line in quoted)
    fee = fee_amount(total, unit.fee_bp)
    balance = member_savings_account(member).balance if with_balance else 0
    return DepositQuote(member, quoted, total, fee, total - fee, balance, recorded_at)


class _LineRefused(Exception):
    """One line's refusal inside ``quote_deposit``: ``field`` is ``quantity``, ``gross`` or
    ``container``."""

    def __init__(self, field: str, code: str, message):
        super().__init__(code)
        self.field, self.code, self.message = field, code, message


def _typed_net(line: LineInput, category: CategoryRow, has_container: bool) -> Thousandths:
    """The net typed directly (no gross weight given). Raises _LineRefused."""
    if has_container:
        raise _LineRefused("gross", "gross_required",
                           _l("Give the gross weight (on the scale) for a line with a container."))
    if line.quantity is None:
        raise _LineRefused("quantity", "required", _l("This field is required."))
    try:
        return parse_quantity(line.quantity, category.unit, category.max_line_milli)
    except InputError as exc:
        raise _LineRefused("quantity", exc.code, exc.message) from None


def _container_of(unit: Unit, line: LineInput, category: CategoryRow):
    """The unit's container named on a kg line. Raises _LineRefused (not kg, unknown here)."""
    if category.unit != "kg":
        raise _LineRefused("container", "tare_not_kg",
                           _l("A container's weight can only be taken off a weight in kg."))
    container = find_container(unit.id, line.container)
    if container is None:
        raise _LineRefused("container", "unknown_container", _l("Unknown container at this unit."))
    return container


def _net_weight(unit: Unit, line: LineInput, category: CategoryRow):
    """``(net, tare, container)`` of one line, thousandths: without a container net = the
    quantity (or gross) typed and tare 0; with one, net = gross − the container's ``tare_g``
    (kg lines only; the tare must be less than the gross; docs/tare.md). The net is at most the
    category's ``max_line_milli``. Raises _LineRefused."""
    has_container = line.container is not None and str(line.container).strip() != ""
    if line.gross is not None and line.quantity is not None and str(line.quantity).strip():
        raise _LineRefused("gross", "quantity_and_gross",
                           _l("Give either the weight (net) or the gross weight with a container, not both."))
    if line.gross is None:
        return _typed_net(line, category, has_container), 0, None
    container = _container_of(unit, line, category) if has_container else None
    tare = container.tare_g if container is not None else 0
    try:
        gross = parse_quantity(line.gross, category.unit, category.max_line_milli + tare)
    except InputError as exc:
        raise _LineRefused("gross", exc.code, exc.message) from None
    if tare >= gross:
        raise _LineRefused("gross", "tare_not_less", _l(
            "The %(container)s weighs %(tare)s, as much as or more than the gross %(gross)s: weigh again "
            "or choose another container.", container=container.name, tare=format_quantity(tare, "kg"),
            gross=format_quantity(gross, "kg")))
    return gross - tare, tare, container


def _canonical_weight(text, category: CategoryRow | None):
    """Thousandths when ``text`` parses, so ``1,5`` and ``1.5`` are the same; else the text."""
    if category is not None:
        try:
            return parse_quantity(text, category.unit)
        except InputError:
            pass
    return str(text).strip()


def _canonical_line(unit: Unit, line: LineInput, categories: dict[str, WasteCategory]) -> list:
    """``[CODE, quantity]`` with the quantity in thousandths when it parses, so that ``1,5``
    and ``1.5`` are the same request; otherwise the raw text (the request will be refused).
    A line with a container is ``[CODE, gross, "container", container id or its text]``, so
    the same key with another container or another gross is another request; a gross
    without a container is the same as that quantity."""
    code = str(line.category or "").strip().upper()
    category = categories.get(code)
    has_container = line.container is not None and str(line.container).strip() != ""
    if not has_container and (line.gross is None or line.quantity is None):
        return [code, _canonical_weight(line.quantity if line.gross is None else line.gross, category)]
    container = find_container(unit.id, line.container) if has_container else None
    return [code, _canonical_weight(line.gross, category) if line.gross is not None else None,
            "container",
            container.id if container else (str(line.container).strip().lower() if has_container else None),
            None if line.quantity is None else str(line.quantity).strip()]


def record_deposit(unit: Unit, member: Member, lines: list[LineInput], *, operator_id: int | None,
                   idempotency_key: str, recorded_at: datetime | None = None,
                   expect_credited_idr: Rupiah | None = None) -> Outcome:
    """Record a deposit: price the lines, post one journal entry (Dr stock at cost per category;
    Cr member savings total − fee; Cr fee income), take a receipt number and store the answer
    under ``idempotency_key``. A repeat with the same key and request returns the first answer
    and moves nothing; the same key with another request raises IdempotencyConflict.

    ``expect_credited_idr`` is what the confirmation step showed: if prices changed since,
    the deposit is refused (Conflict ``quote_changed``) instead of crediting another figure.

    Flushes, never commits: run it through ``run_in_transaction``. Raises ValidationFailed,
    DomainError (inactive member, bad key), Conflict and IdempotencyConflict.
    """
    def canonical() -> dict:
        categories = _categories(unit)
        request = {
            "member": member.id,
            "lines": [_canonical_line(unit, line, categories) for line in lines],
            "recorded_at": _as_utc(recorded_at).isoformat() if recorded_at else None,
        }
        if expect_credited_idr is not None:
            # What the member was shown is part of the request: the same key with another figure
            # is another request (docs/rules.md §idempotency (I5)), not a replay of the first.
            request["expected_credited_idr"] = expect_credited_idr
        return request

    return idempotency.execute(
        unit, idempotency_key, "deposit", canonical,
        lambda: _post_deposit(unit, member, lines, operator_id, recorded_at, expect_credited_idr),
        user_id=operator_id)


def _post_deposit(unit: Unit, member: Member, lines: list[LineInput], operator_id: int | None,
                  recorded_at: datetime | None, expect_credited_idr: Rupiah | None) -> tuple[int, dict]:
    """The deposit's work inside the idempotency envelope: price, post, number, audit.
    Returns ``(201, deposit_body)``."""
    quote = quote_deposit(unit, member, lines, recorded_at, with_balance=False)
    if expect_credited_idr is not None and quote.credited_idr != expect_credited_idr:
        raise Conflict(_l("Prices changed since the check: %(now)s would be credited, not %(shown)s. "
                          "Check again with the member.", now=format_idr(quote.credited_idr),
                          shown=format_idr(expect_credited_idr)), code="quote_changed")
    legs = stock_legs(unit.id, ((line.category.id, line.amount_idr, line.quantity_milli) for line in quote.lines))
    savings = member_savings_account(member, ref=True)
    legs.append(Leg(savings, -quote.credited_idr))
    if quote.fee_idr:
        legs.append(Leg(system_account(unit.id, "fee_income", ref=True), -quote.fee_idr))

    # Everything that does not depend on a write's result is laid out before the first write
    # (the receipt number): on SQLite the writer lock is held from there to the end of COMMIT,
    # for every worker (bench/README.md §How long a deposit holds the lock).
    plan = plan_journal(unit.id, "deposit", legs, created_by_id=operator_id, recorded_at=quote.recorded_at)
    details = {"member_no": member.member_no, "total_idr": quote.total_idr, "fee_idr": quote.fee_idr,
               "credited_idr": quote.credited_idr,
               "lines": [[l.category.code, l.quantity_milli, l.amount_idr]
                         + ([l.gross_milli, l.tare_milli, l.container_name] if l.tare_milli else [])
                         for l in quote.lines]}
    device = current_device()
    row = dict(unit_id=unit.id, member_id=member.id, operator_id=operator_id, total_idr=quote.total_idr,
               fee_idr=quote.fee_idr, credited_idr=quote.credited_idr, recorded_at=quote.recorded_at)
    line_rows = [dict(unit_id=unit.id, category_id=l.category.id, quantity_milli=l.quantity_milli,
                      gross_milli=l.gross_milli, tare_milli=l.tare_milli, container_id=l.container_id,
                      container_name=l.container_name, unit_price_idr=l.unit_price_idr, amount_idr=l.amount_idr,
                      recorded_at=quote.recorded_at)  # the month rule's copy (migration 0018)
                 for l in quote.lines]

    # The write batch: on PostgreSQL its statements are sent together (transaction.send_together),
    # one wait for the receipt number, the open books and the accounts, one for the postings,
    # the entry and the deposit's id, one for the rest with the commit.
    send_together()
    receipt = take_receipt_no(unit, utcnow())
    balances: dict[int, int] = {}
    entry = plan.post(lambda: f"Setoran {receipt()} {member.member_no}", balances=balances)
    receipt_no = receipt()
    row.update(receipt_no=receipt_no, entry_id=entry.id, posted_at=entry.posted_at,
               balance_after_idr=balances[savings.id])
    deposit = _insert_deposit(unit, member, quote, row, line_rows)
    body = deposit_body(deposit)
    details["entry_id"] = entry.id
    audit("deposit.record", unit_id=unit.id, user_id=operator_id, object_type="deposit", object_id=receipt_no,
          details=details, device=device)
    queue_for_deposit(deposit)  # the member's message, in this same transaction (docs/notifications.md)
    return 201, body


def _insert_deposit(unit: Unit, member: Member, quote: DepositQuote, row: dict, line_rows: list[dict]
                    ) -> RecordedDeposit:
    """Insert the deposit ``row`` (every column of ``deposit`` but its id; ``RETURNING id``) and
    its ``line_rows`` (every column of ``deposit_line`` but the ids; one multi-row INSERT) with
    Core, and return what was written as a RecordedDeposit for the answer and the message:
    nothing is added to the session, read back or flushed twice."""
    deposit_id = run_core(prepared("deposit.insert", lambda _: insert(Deposit.__table__).returning(
        Deposit.__table__.c.id)), row).scalar_one()
    for line in line_rows:
        line["deposit_id"] = deposit_id
    # RETURNING makes the executemany one multi-row INSERT on both databases ("insertmanyvalues").
    run_core(prepared("deposit.lines", lambda _: insert(DepositLine.__table__).returning(DepositLine.__table__.c.id)),
             line_rows)
    return RecordedDeposit(id=deposit_id, unit=unit, member=member, receipt_no=row["receipt_no"],
                           total_idr=quote.total_idr, fee_idr=quote.fee_idr, credited_idr=quote.credited_idr,
                           balance_after_idr=row["balance_after_idr"], posted_at=row["posted_at"],
                           recorded_at=quote.recorded_at, lines=quote.lines)


@dataclass(frozen=True, slots=True)
class RecordedDeposit:
    """A deposit just inserted, as plain values: what ``deposit_body`` and ``queue_for_deposit``
    read from a Deposit (same attribute names), without building ORM instances on the hot path
    (issue 13 item 1). ``unit`` and ``member`` are the request's own rows; ``lines`` the priced
    QuotedLines (``category`` a CategoryRow). Rupiah as ints; times aware UTC."""

    id: int
    unit: Unit
    member: Member
    receipt_no: str
    total_idr: Rupiah
    fee_idr: Rupiah
    credited_idr: Rupiah
    balance_after_idr: Rupiah
    posted_at: datetime
    recorded_at: datetime
    lines: list[QuotedLine]
