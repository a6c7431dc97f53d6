"""Unit manager screens. Thin views: parse → call a service → commit once
(``run_in_transaction``) → redirect. Every route is scoped to the manager's own unit
(``counter_unit``); another unit's sale answers 404. Admins see the audit log of all units.
"""
from __future__ import annotations

import uuid
from datetime import date, datetime

from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup, escape
from sqlalchemy import select
from wtforms import HiddenField, TextAreaField
from wtforms.validators import DataRequired, Length

from ..auth.permissions import counter_unit, has_permission, require
from ..documents.sale_note import SaleNoteData, SaleNoteLine, render_sale_note
from ..extensions import db
from ..inputs import BIGINT_MAX, BIGINT_MIN, BaseForm, day_arg, int_arg, refuse, text_arg, text_problem
from ..models import DayClose, Sale, Unit, User, WasteCategory, Withdrawal, utcnow
from ..money import InputError, format_idr, format_quantity, parse_quantity
from ..reports.signing import committee_signers, place_date, unit_letterhead
from ..reports.csvfile import csv_options, csv_response
from ..services import idempotency
from ..services.audit import audit_entries
from ..services.cashbook import (CashMoved, cash_book, close_day, close_preview, expected_cash, last_closed_day,
                                  late_arrivals, parse_counted, reopen_day, reopenable_close)
from ..services.catalog import current_prices
from ..services.errors import DomainError, IdempotencyConflict, ValidationFailed
from ..services.sales import (SaleLineInput, create_offtaker, get_offtaker, list_offtakers, list_sales,
                              quote_sale, record_sale)
from ..services.stock import adjust_stock, stock_on_hand
from ..services.withdrawals import cancel_reported_open, void_details
from ..services.scope import in_unit
from ..services.transaction import run_in_transaction
from ..timeutil import format_clock, format_local, local_today, to_local
from .cashbook_text import cancel_marks, movement_texts
from ..counter.withdrawals import METHOD_LABELS
from .audit_log import CSV_MAX_ROWS, action_choices, audit_csv_table, audit_filters, audit_lines
from .forms import DIRECTIONS, OFFTAKER_KINDS, PAYMENTS, AdjustForm, CloseForm, OfftakerForm, SaleForm

from . import bp


def _messages(exc: DomainError) -> list[str]:
    if isinstance(exc, ValidationFailed):
        return [str(message) for _code, message in exc.errors.values()]
    return [str(exc.message)]


@bp.route("/")
@require("audit.view")
def home():
    """The manager's menu: large tiles to each screen (admins: the audit log only)."""
    if has_permission(current_user, "scope.all_units"):  # no unit of their own
        return redirect(url_for("manager.audit_log"))
    unit = counter_unit(current_user)
    return render_template("manager/home.html", unit=unit, cancel_reports=cancel_reported_open(unit.id))


# ---------------------------------------------------------------------------------- withdrawals

@bp.route("/withdrawals/<int:withdrawal_id>")
@require("withdrawal.void")
def withdrawal(withdrawal_id: int):
    """A withdrawal of the unit as the manager checks it (from the audit log or the home
    page's alert): amount, member, who paid, its void, whether the tablet reported it cancelled
    with the cash not handed over (``withdrawal.cancel_reported``), and whether the member's
    original receipt has been shown yet. Looking here never marks the receipt as shown: only
    the counter's receipt page does (``counter.receipts.claim_original``), so the member's
    original stays the operator's to show (docs/rules.md, receipts)."""
    unit = counter_unit(current_user)
    found = in_unit(Withdrawal, unit.id, withdrawal_id)
    reported = cancel_reported_open(unit.id, [found.id])
    return render_template("manager/withdrawal.html", unit=unit, withdrawal=found, voided=void_details(found),
                           report=reported[0] if reported else None,
                           method_label=METHOD_LABELS.get(found.method, found.method)), \
        200, {"Cache-Control": "no-store"}



# --------------------------------------------------------------------------------------- stock

@bp.route("/stock")
@require("stock.manage")
def stock():
    """Stock on hand per category: quantity, value at cost, weighted average cost."""
    unit = counter_unit(current_user)
    rows = stock_on_hand(unit.id)
    return render_template("manager/stock.html", unit=unit, rows=rows,
                           total_idr=sum(r.value_idr for r in rows))


@bp.route("/stock/adjust", methods=["GET", "POST"])
@require("stock.manage")
def adjust():
    """Stock adjustment form: write off shrinkage or add found stock, with a reason."""
    unit = counter_unit(current_user)
    form = AdjustForm()
    categories = [row.category for row in current_prices(unit.id).values()]
    if request.method == "GET":
        form.idempotency_key.data = uuid.uuid4().hex
        form.category.data = text_arg("category", max_length=30)
    errors: list[str] = []
    if request.method == "POST":
        if form.validate():
            category = db.session.scalar(select(WasteCategory).where(
                WasteCategory.code == (form.category.data or "").strip().upper()))
            try:
                if category is None:
                    raise ValidationFailed({"category": ("unknown_category", _("Unknown category."))})
                try:
                    milli = parse_quantity(form.quantity.data, category.unit)
                except InputError as exc:
                    raise ValidationFailed({"quantity": (exc.code, exc.message)}) from exc
                if form.direction.data not in ("out", "in"):
                    raise ValidationFailed({"direction": ("invalid", _("Choose write off or add."))})
                delta = -milli if form.direction.data == "out" else milli
                outcome = run_in_transaction(lambda: adjust_stock(
                    unit, category, delta, form.reason.data, current_user,
                    idempotency_key=form.idempotency_key.data))
                flash(_("Stock adjusted: %(qty)s %(category)s, %(amount)s at cost.",
                        qty=format_quantity(delta, category.unit, get_locale()), category=category.name(get_locale()),
                        amount=format_idr(outcome.body["amount_idr"], get_locale())), "ok")
                return redirect(url_for("manager.stock"))
            except IdempotencyConflict:
                errors.append(_already_saved(unit, form, "stock_adjust"))
            except DomainError as exc:
                errors += _messages(exc)
        else:
            errors += form.error_messages()  # one Indonesian message per empty or bad field
    return render_template("manager/adjust.html", unit=unit, form=form, categories=categories, directions=DIRECTIONS,
                           rows={r.category.id: r for r in stock_on_hand(unit.id)}, errors=errors), \
        (422 if errors else 200)


def _already_saved(unit: Unit, form, operation: str) -> str:
    """The refusal of a form sent again with its key and other values: after a lost reply the
    manager corrected a weight and saved, and the first version was recorded already. It names
    that record and keeps the key, so saving again is refused again instead of recording a
    second sale or adjustment (a tester did, with the fresh key this used to give). A form
    without such a record (a stored refusal) gets a fresh key: nothing was saved under it."""
    body = idempotency.saved_answer(unit.id, form.idempotency_key.data, operation)
    if body is None:
        form.idempotency_key.data = uuid.uuid4().hex
        return _("This form was already sent with other values. Check and save again.")
    if operation == "sale":
        # HTML: "daftar penjualan" links to the sales list. The translation and the figures are
        # escaped (Markup's %), the link alone is markup.
        sales_list = Markup('<a href="{}">{}</a>').format(url_for("manager.sales"), _("sales list"))
        return escape(_("This sale was already saved (%(no)s, %(total)s) before the connection dropped, with "
                        "other values. It is not saved again: open it in the %(sales_list)s. Record a new sale "
                        "only if it really is another one (Sales → New sale).")) % {
            "no": body["sale_no"], "total": format_idr(body["total_idr"], get_locale()), "sales_list": sales_list}
    return _("This stock adjustment was already saved before the connection dropped, with other values. It is "
             "not saved again: check the stock page, and record another adjustment there only if one is "
             "still needed.")


# ---------------------------------------------------------------------------------- off-takers

def _saved_at(body: dict) -> str:
    """The local time (``15.00 WIB``, timeutil.format_clock) a form's first save stored in its
    answer (``at``)."""
    return format_clock(datetime.fromisoformat(body["at"]))


@bp.route("/offtakers", methods=["GET", "POST"])
@require("sale.record")
def offtakers():
    """The unit's off-takers, and a form to register one.

    The form's hidden ``idempotency_key`` runs the registration through the envelope
    (``idempotency.execute``, operation ``offtaker_create``): the same form sent again after a
    lost reply says the off-taker is registered (as done, not as "already registered" in red);
    the same key with other values names the off-taker registered first and keeps the key. A
    post without a key (a page shown before keys) registers as before, under a key of its own."""
    unit = counter_unit(current_user)
    form = OfftakerForm()
    if request.method == "GET":
        form.idempotency_key.data = uuid.uuid4().hex
    errors: list[str] = []
    status = 422
    if request.method == "POST":
        if form.validate():
            key = (form.idempotency_key.data or "").strip() or uuid.uuid4().hex
            canonical = {"name": " ".join((form.name.data or "").split()), "kind": form.kind.data or "",
                         "phone": (form.phone.data or "").strip(), "address": (form.address.data or "").strip()}

            def work() -> tuple[int, dict]:
                created = create_offtaker(unit, canonical["name"], kind=canonical["kind"], phone=canonical["phone"],
                                          address=canonical["address"], user=current_user)
                return 201, {"offtaker_id": created.id, "name": created.name, "at": utcnow().isoformat()}
            try:
                outcome = run_in_transaction(lambda: idempotency.execute(
                    unit, key, "offtaker_create", canonical, work, user_id=current_user.id))
                if outcome.replayed:
                    flash(_offtaker_registered_already(outcome.body), "ok")
                else:
                    flash(_("Off-taker %(name)s registered.", name=outcome.body["name"]), "ok")
                return redirect(url_for("manager.offtakers"))
            except IdempotencyConflict:
                first = idempotency.saved_answer(unit.id, key, "offtaker_create")
                if first is None:  # nothing was registered under this key
                    form.idempotency_key.data = uuid.uuid4().hex
                    errors.append(_("This form was already sent with other values. Check and save again."))
                else:  # the key stays: saving the corrected form again registers nobody
                    errors.append(_("Off-taker %(name)s was already registered at %(time)s before the connection "
                                    "dropped, with the details sent first. Nothing was registered again. To "
                                    "register another off-taker, open this page again.",
                                    name=first["name"], time=_saved_at(first)))
                status = 409
            except DomainError as exc:
                errors += _messages(exc)
        else:
            errors += form.error_messages() or [_("Enter the off-taker's name.")]
    return render_template("manager/offtakers.html", unit=unit, form=form, offtakers=list_offtakers(unit.id),
                           kinds=OFFTAKER_KINDS,
                           errors=errors), (status if errors else 200)


def _offtaker_registered_already(body: dict) -> str:
    """The answer to the registration sent again with its key (the second tap after a lost
    reply): said as done, with the time of the first save."""
    return _("Off-taker %(name)s is registered: you registered them at %(time)s. Nothing was registered twice.",
             name=body["name"], time=_saved_at(body))


# --------------------------------------------------------------------------------------- sales

@bp.route("/sales")
@require("sale.record")
def sales():
    """The unit's latest sales."""
    unit = counter_unit(current_user)
    return render_template("manager/sales.html", unit=unit, sales=list_sales(unit.id))


def _sale_lines() -> tuple[list[SaleLineInput], dict[str, dict]]:
    """Lines from the ``w-/a-/p-<CODE>`` fields, in form order; rows with a blank weighed
    quantity are skipped. Independent of what is in stock now, so that a repeated save of the
    same form is the same request. Also returns the typed values per code, to refill the form."""
    lines, typed = [], {}
    for name in request.form:
        if not name.startswith("w-"):
            continue
        code = name[2:]
        if len(code) > 30 or text_problem(code):
            refuse(_("This form was altered; start a new sale."))
        values = {k: text_arg(f"{k}-{code}", max_length=30, source=request.form) for k in ("w", "a", "p")}
        typed[code] = values
        if values["w"]:
            lines.append(SaleLineInput(code, values["w"], values["a"] or None, values["p"]))
    return lines, typed


def _fresh_lines(rows, prices) -> dict[str, dict]:
    """An empty sale line per category in stock (``rows``), as a fresh form shows it: no
    weights, the price the unit expects from off-takers (its sell price in force; blank when
    not set)."""
    return {r.category.code: {"w": "", "a": "", "p": str(prices[r.category.id].sell_price_idr or "")
                              if r.category.id in prices else ""} for r in rows}


@bp.route("/sales/new", methods=["GET", "POST"])
@require("sale.record")
def sale_new():
    """New sale: weighed, accepted and price per category → confirmation → save → sale page.
    The idempotency key travels in a hidden field, so a double tap records one sale."""
    unit = counter_unit(current_user)
    form = SaleForm()
    rows = [r for r in stock_on_hand(unit.id) if r.quantity_milli > 0]
    prices = current_prices(unit.id)
    buyers = list_offtakers(unit.id, active_only=True)
    typed: dict[str, dict] = {}
    errors: list[str] = []
    lines: list[SaleLineInput] = []
    error_codes: set[str] = set()
    status = 200
    if request.method == "GET":
        form.idempotency_key.data = uuid.uuid4().hex
        typed = _fresh_lines(rows, prices)
    elif not form.validate():
        errors += [_("Choose the off-taker.")] + form.error_messages()
        status = 422
    else:
        lines, typed = _sale_lines()
        # "Ubah" on the check step posts only the lines with a weight: every other row in stock
        # comes back as on a fresh form, with the category's price (it came back blank).
        for code, fresh in _fresh_lines(rows, prices).items():
            typed.setdefault(code, fresh)
        action = request.form.get("action", "review")
        try:
            offtaker = get_offtaker(unit.id, form.offtaker.data)  # a BIGINT (inputs.IntegerTextField)
            if action == "save":
                outcome = run_in_transaction(lambda: record_sale(
                    unit, offtaker, lines, form.payment.data, user=current_user,
                    idempotency_key=form.idempotency_key.data, note=form.note.data or ""))
                if outcome.replayed:
                    flash(_("This sale was already saved; showing it."), "info")
                else:
                    flash(_("Sale saved."), "ok")
                return redirect(url_for("manager.sale", sale_no=outcome.body["sale_no"]))
            if action == "review":
                quote = quote_sale(unit, offtaker, lines, form.payment.data)
                db.session.rollback()  # the quote reads (and on PostgreSQL locks) only
                return render_template("manager/sale_confirm.html", unit=unit, form=form, quote=quote,
                                       typed=typed, payments=dict(PAYMENTS))
        except IdempotencyConflict:
            errors.append(_already_saved(unit, form, "sale"))
            status = 409
        except DomainError as exc:
            db.session.rollback()
            messages, error_codes = _sale_messages(exc, lines)
            errors += messages
            status = exc.status if exc.status in (404, 409) else 422
    return render_template("manager/sale_new.html", unit=unit, form=form, rows=rows, buyers=buyers,
                           typed=typed, errors=errors, payments=PAYMENTS, error_codes=error_codes), status


_SALE_FIELDS = {"weighed": _l("weighed"), "accepted": _l("accepted"), "price": _l("price")}


def _sale_messages(exc: DomainError, lines: list[SaleLineInput]) -> tuple[list[str], set[str]]:
    """The refusal's messages with the category's name before each line's message
    ("Kardus, ditimbang: …") instead of the field code ``lines.2.weighed``, and the codes of the
    categories whose row is wrong (to mark them)."""
    if not isinstance(exc, ValidationFailed):
        return _messages(exc), set()
    messages, codes = [], set()
    names = {c.code: c.name(get_locale()) for c in db.session.scalars(
        select(WasteCategory).where(WasteCategory.code.in_([line.category for line in lines])))}
    for field, (_code, message) in exc.errors.items():
        parts = field.split(".")
        if len(parts) == 3 and parts[0] == "lines" and parts[1].isdigit() and int(parts[1]) < len(lines):
            code = lines[int(parts[1])].category
            codes.add(code)
            what = _SALE_FIELDS.get(parts[2])
            name = names.get(code, code)
            messages.append(f"{name}, {what}: {message}" if what else f"{name}: {message}")
        else:
            messages.append(str(message))
    return messages, codes


def _visible_sale(sale_no: str) -> Sale:
    return in_unit(Sale, counter_unit(current_user).id, sale_no=sale_no)


@bp.route("/sales/<sale_no>")
@require("sale.record")
def sale(sale_no: str):
    """One sale: lines with weighed, accepted, shrinkage, price and amount; totals and margin."""
    found = _visible_sale(sale_no)
    return render_template("manager/sale.html", unit=db.session.get(Unit, found.unit_id), sale=found)


def sale_note_data(sale: Sale, unit: Unit, locale=None) -> SaleNoteData:
    """The plain data a printed sale note shows, formatted in ``locale``."""
    locale = locale or get_locale()
    lines = tuple(
        SaleNoteLine(category=l.category.name(locale),
                     weighed=format_quantity(l.weighed_milli, l.category.unit, locale),
                     accepted=format_quantity(l.accepted_milli, l.category.unit, locale),
                     shrinkage=format_quantity(l.weighed_milli - l.accepted_milli, l.category.unit, locale),
                     price=f"{format_idr(l.price_idr, locale)}/{l.category.unit}",
                     amount=format_idr(l.amount_idr, locale))
        for l in sale.lines)
    payment = str(dict(PAYMENTS).get(sale.payment, sale.payment))
    return SaleNoteData(
        title=_("SALE NOTE"), unit_name=unit.name, unit_address=unit.full_address,
        details=((_("Number"), sale.sale_no), (_("Date"), format_local(sale.posted_at)),
                 (_("Off-taker"), sale.offtaker.name + (f", {sale.offtaker.address}" if sale.offtaker.address else "")),
                 (_("Payment"), payment)),
        headings=(_("Category"), _("Weighed"), _("Accepted"), _("Difference"), _("Price"), _("Amount")),
        lines=lines, totals=((_("Total"), format_idr(sale.total_idr, locale)),),
        note=sale.note, unit_lines=unit_letterhead(unit)[1:],
        place_date=place_date(unit.kota, locale, to_local(sale.posted_at).date()),
        # The unit's committee signs what it sold; the buyer signs for what it took.
        signatures=committee_signers(_sale_recorder(sale)) + ((_("Buyer"), sale.offtaker.name),))


def _sale_recorder(sale: Sale) -> str:
    """The name of the user who recorded ``sale`` ("" if unknown)."""
    user = db.session.get(User, sale.created_by_id) if sale.created_by_id else None
    return user.display_name if user else ""


@bp.route("/sales/<sale_no>.pdf")
@require("sale.record")
def sale_pdf(sale_no: str):
    """The sale note as an A5 PDF."""
    found = _visible_sale(sale_no)
    pdf = render_sale_note(sale_note_data(found, db.session.get(Unit, found.unit_id)))
    return Response(pdf, mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{sale_no}.pdf"'})


# ------------------------------------------------------------------------ cash book and close

def _day_arg(source=None) -> date:
    """The ``day`` query argument, or the form's ``business_date`` when ``source`` is
    ``request.form``: today when absent, 400 with the message when it is not a day the books
    can hold (``inputs.day_arg``)."""
    name = "day" if source is None else "business_date"
    return day_arg(name, local_today(), source=source)


class ReopenForm(BaseForm):
    """Reopen today's close: the day (ISO date), the required reason (checked by the service)
    and the idempotency key made when the form is shown (a repeat after a lost reply)."""

    business_date = HiddenField(validators=[DataRequired(), Length(max=10)])
    reason = TextAreaField(validators=[Length(max=2000)])
    idempotency_key = HiddenField(validators=[Length(max=100)])


def _render_cashbook(unit: Unit, day: date, form: CloseForm, errors: list[str], status: int = 200, *,
                     preview=None, reopen_form: ReopenForm | None = None, reopen_errors: list[str] | None = None):
    book = cash_book(unit, day)
    closed = last_closed_day(unit.id)
    can_close = book.close is None and day <= local_today() and (closed is None or day > closed)
    form.business_date.data = day.isoformat()
    reopenable = reopenable_close(unit.id)
    can_reopen = book.close is not None and reopenable is not None and reopenable.id == book.close.id
    reopen_form = reopen_form or ReopenForm(formdata=None)
    reopen_form.business_date.data = day.isoformat()
    if not reopen_form.idempotency_key.data:
        reopen_form.idempotency_key.data = uuid.uuid4().hex
    return render_template("manager/cashbook.html", unit=unit, book=book, texts=movement_texts(book), day=day,
                           cancel_marks=cancel_marks(book),
                           form=form, errors=errors,
                           expected=expected_cash(unit, day), can_close=can_close, last_closed=closed,
                           today=local_today(), preview=preview, can_reopen=can_reopen,
                           reopen_form=reopen_form, reopen_errors=reopen_errors or [],
                           late=late_arrivals(unit, day)), status


@bp.route("/cashbook")
@require("day.close")
def cashbook():
    """The cash book of a day (``?day=YYYY-MM-DD``, default today) with the daily close form
    (expected cash from the ledger versus the cash counted), the reopen form for today's close
    and the day's late arrivals (deposits captured that day, posted later)."""
    unit = counter_unit(current_user)
    return _render_cashbook(unit, _day_arg(), CloseForm(formdata=None), [])


@bp.route("/cashbook/close", methods=["POST"])
@require("day.close")
def close():
    """Close a day with the counted cash; a difference is posted to cash adjustments.

    Two steps: the page's form posts ``step=check`` and gets the confirmation (expected,
    counted, difference, and the "Close the day now" button); that button posts without
    ``step``, with the ``expected`` cash it showed, and closes — unless the books expect
    another figure by then (a withdrawal paid meanwhile): then nothing is closed and the
    confirmation comes again with the new figures and the message (409). A post without
    ``step`` and ``expected`` closes directly (scripts)."""
    unit = counter_unit(current_user)
    form = CloseForm()
    day = _day_arg(request.form)
    if not form.validate():
        return _render_cashbook(unit, day, form, [_("Enter the cash counted.")], 422)
    if request.form.get("step") == "check":
        try:
            preview = close_preview(unit, day, form.counted.data, current_user)
        except DomainError as exc:
            return _render_cashbook(unit, day, form, _messages(exc), exc.status if exc.status == 409 else 422)
        return _render_cashbook(unit, day, form, [], preview=preview)
    # The expected cash the manager confirmed (the check page's figure; absent from scripts):
    # if the books moved since, the close refuses and she checks the new figures.
    seen = int_arg("expected", None, minimum=BIGINT_MIN, source=request.form)
    try:
        done = run_in_transaction(lambda: close_day(unit, day, form.counted.data, current_user,
                                                    expected_seen_idr=seen))
    except CashMoved as moved:
        try:
            preview = close_preview(unit, day, form.counted.data, current_user)
        except DomainError as exc:
            return _render_cashbook(unit, day, form, _messages(exc), exc.status if exc.status == 409 else 422)
        return _render_cashbook(unit, day, form, _messages(moved), 409, preview=preview)
    except DomainError as exc:
        repeated = _closed_already_by_this_tap(unit, day, form.counted.data, exc)
        if repeated:
            flash(repeated, "ok")
            return redirect(url_for("manager.cashbook", day=day.isoformat()))
        return _render_cashbook(unit, day, form, _messages(exc), exc.status if exc.status == 409 else 422)
    if done.difference_idr:
        flash(_("Day closed. Difference of %(diff)s posted to cash adjustments.",
                diff=format_idr(done.difference_idr, get_locale())), "ok")
    else:
        flash(_("Day closed. The cash matches the books."), "ok")
    return redirect(url_for("manager.cashbook", day=day.isoformat()))


def _closed_already_by_this_tap(unit: Unit, day: date, counted_text: str, exc: DomainError) -> str:
    """The message for "already closed" when it is this manager's own close of this day with
    the same count: the second tap after a lost reply (forms/resilient.js says tapping again is
    safe). Said as done, not as a red refusal (a tester read it as an error). "" otherwise."""
    if exc.code != "day_already_closed":
        return ""
    try:
        counted = parse_counted(counted_text)
        done = in_unit(DayClose, unit.id, business_date=day)
    except DomainError:
        return ""
    if done.closed_by_id != current_user.id or done.counted_cash_idr != counted:
        return ""
    return _("The day %(day)s is closed: you closed it at %(time)s with %(counted)s counted. Nothing was changed.",
             day=day.strftime("%d-%m-%Y"), time=format_clock(done.closed_at),
             counted=format_idr(done.counted_cash_idr, get_locale()))


@bp.route("/cashbook/reopen", methods=["POST"])
@require("day.close")
def reopen():
    """Reopen today's close with a reason (audited ``day.reopen``); a cash-count difference
    is reversed. A past day, or a missing reason, is refused on the page (409 / 422).

    The form's hidden ``idempotency_key`` runs the reopen through the envelope (operation
    ``day_reopen``): the second tap after a lost reply (the same key) says the day is open
    again, as done, instead of refusing "the day is not closed"; with the reason corrected it
    says the same, naming the reason saved first. A post without a key reopens as before."""
    unit = counter_unit(current_user)
    form = ReopenForm()
    day = _day_arg(request.form)
    if not form.validate():
        return _render_cashbook(unit, day, CloseForm(formdata=None), [], 422, reopen_form=form,
                                reopen_errors=[_("The form has expired; please try again.")])
    key = (form.idempotency_key.data or "").strip() or uuid.uuid4().hex
    canonical = {"business_date": day.isoformat(), "reason": " ".join((form.reason.data or "").split())}

    def work() -> tuple[int, dict]:
        reopen_day(unit, day, form.reason.data or "", current_user)
        return 200, {**canonical, "at": utcnow().isoformat()}
    try:
        outcome = run_in_transaction(lambda: idempotency.execute(unit, key, "day_reopen", canonical, work,
                                                                 user_id=current_user.id))
    except IdempotencyConflict:
        first = idempotency.saved_answer(unit.id, key, "day_reopen")
        if first is None:
            form.idempotency_key.data = uuid.uuid4().hex
            return _render_cashbook(unit, day, CloseForm(formdata=None), [], 409, reopen_form=form, reopen_errors=[
                _("This form was already sent with other values. Check and save again.")])
        flash(_reopened_already(first), "ok")
        return redirect(url_for("manager.cashbook", day=first["business_date"]))
    except DomainError as exc:
        return _render_cashbook(unit, day, CloseForm(formdata=None), [], exc.status if exc.status in (403, 409)
                                else 422, reopen_form=form, reopen_errors=_messages(exc))
    if outcome.replayed:
        flash(_reopened_already(outcome.body), "ok")
    else:
        flash(_("The day is open again; the counter can record. Close it again after the new count."), "ok")
    return redirect(url_for("manager.cashbook", day=day.isoformat()))


def _reopened_already(body: dict) -> str:
    """The answer to the reopen sent again with its key (the second tap after a lost reply,
    forms/resilient.js says tapping again is safe): said as done, like the close's repeat."""
    return _("The day %(day)s is open again: you reopened it at %(time)s with the reason “%(reason)s”. "
             "Nothing was changed.", day=date.fromisoformat(body["business_date"]).strftime("%d-%m-%Y"),
             time=_saved_at(body), reason=body["reason"])


# ---------------------------------------------------------------------------------- audit log

@bp.route("/audit")
@require("audit.view")
def audit_log():
    """The audit log for people, newest first (``audit_log.audit_lines``): the manager's unit,
    or (admins) every unit or one chosen with ``?unit=<code>``; filters ``?day=YYYY-MM-DD``,
    ``?user=<username>``, ``?action=<code>``; ``?page=`` pages by 100."""
    filters = audit_filters(current_user)
    page = int_arg("page", 1, minimum=1, maximum=BIGINT_MAX // 100)  # the offset stays a BIGINT
    rows = audit_entries(filters.unit_ids, limit=101, offset=(page - 1) * 100, **filters.query())
    return render_template("manager/audit.html", lines=audit_lines(rows[:100], filters.viewer_unit_id),
                           more=len(rows) > 100, page=page, filters=filters, actions=action_choices(),
                           is_admin=has_permission(current_user, "admin"))


@bp.route("/audit.csv")
@require("audit.view")
def audit_csv():
    """The filtered audit log as CSV (``reports.csvfile``: UTF-8 with BOM, ``;`` by default,
    headers in the reader's language; ``?format=codes`` for the stored codes and raw JSON),
    newest first, at most ``audit_log.CSV_MAX_ROWS`` rows."""
    filters = audit_filters(current_user)
    sep, fmt = csv_options()
    rows = audit_entries(filters.unit_ids, limit=CSV_MAX_ROWS, **filters.query())
    header, body = audit_csv_table(audit_lines(rows, filters.viewer_unit_id), fmt)
    name = "-".join(["audit", *(v for v in (filters.unit_code or (
        counter_unit(current_user).code if filters.viewer_unit_id else "all"),
        filters.day.isoformat() if filters.day else "") if v)])
    return csv_response(f"{name}.csv", header, body, sep)
