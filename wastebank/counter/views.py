"""Counter screens: find a member, enter a deposit, confirm, save, receipt, member page.

Thin views: parse → call a service → commit once (``run_in_transaction``) → redirect.
"""
from __future__ import annotations

import hmac
import uuid

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from ..auth.permissions import counter_unit, has_permission, require
from ..documents.receipt import ReceiptData, ReceiptLine, render_receipt
from ..extensions import db
from ..models import Deposit, JournalEntry, Member, Unit
from ..money import format_idr, format_quantity
from ..reports.members import movement_query
from ..reports.period import capture_note, posted_later
from ..services.deposits import LineInput, quote_deposit, record_deposit
from ..services.errors import Conflict, DomainError, IdempotencyConflict, ValidationFailed
from ..services.ledger import member_savings_account
from ..services.receipt_links import receipt_code as verification_code
from ..services.members import find_member, search_members, served_today
from ..services.scope import member_in_unit_with_savings
from ..services.transaction import run_in_transaction
from ..timeutil import format_local
from .deposit_page import render_deposit_page
from .forms import DepositForm, SearchForm
from .lookups import counter_member, visible_deposit
from .receipts import (claim_original, is_original_print, original_token, verify_url,
                       whatsapp_share_url)
from . import bp


@bp.route("/")
@login_required
def home():
    """Land on the counter for unit staff; others see what their role offers."""
    if has_permission(current_user, "counter.use"):
        return redirect(url_for("counter.find"))
    return render_template("counter/welcome.html")


@bp.route("/counter")
@require("counter.use")
def find():
    """Find a member: a number as operators type it (``12``, ``rw05-12``) or a card token jumps
    to the member's deposit screen; otherwise name search. Lists the members served today."""
    unit = counter_unit(current_user)
    form = SearchForm(request.args)
    results: list[Member] = []
    error = None
    if not form.validate():  # the text rule, the length
        return render_template("counter/find.html", unit=unit, form=form, results=[],
                               error=" ".join(form.error_messages()), served=served_today(unit.id)), 400
    query = (form.q.data or "").strip()
    if query:
        try:
            member = find_member(unit.id, query)
            return redirect(url_for("counter.deposit", member_no=member.member_no))
        except DomainError as exc:
            if exc.code != "member_not_found":
                error = exc.message
        if error is None:
            results = search_members(unit.id, query)
            if not results:
                error = _("No member found for “%(q)s”.", q=query)
    return render_template("counter/find.html", unit=unit, form=form, results=results, error=error,
                           served=served_today(unit.id))


def recent_movements(account_id: int | None, unit_id: int, limit: int = 20) -> list[dict]:
    """The latest movements of the savings account ``account_id`` of unit ``unit_id`` (None: a
    member with no account yet, so none), newest capture time first (as the manager's member
    page, ``reports.members.member_movements``): ``{"recorded_at", "posted_at", "posted_later",
    "capture_note", "kind", "amount", "receipt_no", "withdrawal_id", "withdrawal_receipt_no",
    "voided", "void_of"}`` with ``amount`` in rupiah, positive for money in; ``posted_later`` and
    ``capture_note`` the manager page's rule and note (``reports.period``) for an offline
    capture booked later. ``receipt_no`` is a deposit's receipt,
    ``withdrawal_id``/``withdrawal_receipt_no`` a withdrawal's; ``voided`` is True when the
    movement was voided later; ``void_of`` names what a void entry reverses
    (``{"type": "deposit"|"withdrawal", "receipt_no", "withdrawal_id"}``), else None."""
    if account_id is None:
        return []
    rows = db.session.execute(
        movement_query(account_id, unit_id)
        .order_by(JournalEntry.recorded_at.desc(), JournalEntry.id.desc()).limit(limit))
    movements = []
    for row in rows:
        void_of = None
        if row.voids_deposit_receipt_no is not None:
            void_of = {"type": "deposit", "receipt_no": row.voids_deposit_receipt_no, "withdrawal_id": None}
        elif row.voids_withdrawal_id is not None:
            void_of = {"type": "withdrawal", "receipt_no": row.voids_withdrawal_receipt_no,
                       "withdrawal_id": row.voids_withdrawal_id}
        movements.append({"recorded_at": row.recorded_at, "posted_at": row.posted_at,
                          "posted_later": posted_later(row.recorded_at, row.posted_at),
                          "capture_note": capture_note(row.recorded_at, row.posted_at),
                          "kind": row.kind, "amount": -row.amount,
                          "receipt_no": row.deposit_receipt_no, "withdrawal_id": row.withdrawal_id,
                          "withdrawal_receipt_no": row.withdrawal_receipt_no,
                          "voided": (row.deposit_void_entry_id or row.withdrawal_void_entry_id) is not None,
                          "void_of": void_of})
    return movements


@bp.route("/counter/member/<member_no>")
@require("counter.use")
def member(member_no: str):
    """Member page: balance and recent movements."""
    unit = counter_unit(current_user)
    # The member with their balance in one query, then the movements (issue 13 item 3).
    found, account_id, balance = member_in_unit_with_savings(unit.id, member_no)
    return render_template("counter/member.html", unit=unit, member=found, balance=balance,
                           movements=recent_movements(account_id, unit.id))


def _filled_lines(form: DepositForm) -> tuple[list[LineInput], list[int]]:
    """Non-blank rows as LineInputs, with the form row index of each."""
    lines, rows = [], []
    for index, entry in enumerate(form.lines.entries):
        category = (entry.form.category.data or "").strip()
        quantity = (entry.form.quantity.data or "").strip()
        container = (entry.form.container.data or "").strip()
        if category or quantity:
            # Weighed in a container: what was typed (or read from the scale) is the gross.
            lines.append(LineInput(category, None, container=container, gross=quantity) if container
                         else LineInput(category, quantity))
            rows.append(index)
    return lines, rows


def _attach_errors(form: DepositForm, errors: dict, rows: list[int]) -> list[str]:
    """Put the service's field errors on the form rows; return the errors for no row."""
    general = []
    for field, (_code, message) in errors.items():
        parts = field.split(".")
        if len(parts) == 3 and parts[0] == "lines" and int(parts[1]) < len(rows):
            name = "quantity" if parts[2] == "gross" else parts[2]  # the form's one weight box
            getattr(form.lines.entries[rows[int(parts[1])]].form, name).errors.append(str(message))
        else:
            general.append(str(message))
    return general


def _form_problems(form: DepositForm) -> list[str]:
    """Why a posted deposit form did not validate (an expired CSRF token, the text rule...)."""
    if form.csrf_token.errors:
        return [_("The form has expired; please try again.")]
    return form.error_messages() or [_("This form was altered or is too long; start a new deposit.")]


def _review_deposit(unit: Unit, member: Member, form: DepositForm, general: list[str]):
    """The review step: the confirmation page with exactly what will be credited, or None
    with the refusals put on the form rows and in ``general``."""
    lines, rows = _filled_lines(form)
    try:
        quote = quote_deposit(unit, member, lines)
    except ValidationFailed as exc:
        general.extend(_attach_errors(form, exc.errors, rows))
        return None
    except DomainError as exc:
        general.append(str(exc.message))
        return None
    return render_template("counter/confirm.html", unit=unit, member=member, form=form, quote=quote, lines=lines)


def _save_deposit(unit: Unit, member: Member, form: DepositForm, general: list[str]):
    """The save step (one transaction): a redirect to the receipt — the first one's for a
    repeat of the same form —, the confirmation page again (409) when prices moved since the
    review, or None with the refusals on the form and in ``general`` (nothing written)."""
    lines, rows = _filled_lines(form)
    try:
        outcome = run_in_transaction(lambda: record_deposit(
            unit, member, lines, operator_id=current_user.id, idempotency_key=form.idempotency_key.data,
            expect_credited_idr=form.expected_credited.data), rechecks_under_lock=True)
    except IdempotencyConflict:
        general.append(_("This form was already saved with other values. Start a new deposit."))
        form.idempotency_key.data = uuid.uuid4().hex
        return None
    except ValidationFailed as exc:
        general.extend(_attach_errors(form, exc.errors, rows))
        return None
    except Conflict as exc:
        if exc.code != "quote_changed":
            # Today is closed (day_closed) or another refusal: the message on the form (422),
            # nothing written, the same key kept for a resend after a reopen.
            general.append(str(exc.message))
            return None
        # Prices moved between check and save: show the new figures to confirm again.
        flash(str(exc.message), "error")
        return render_template("counter/confirm.html", unit=unit, member=member, form=form,
                               quote=quote_deposit(unit, member, lines), lines=lines), 409
    except DomainError as exc:
        general.append(str(exc.message))
        return None
    if outcome.replayed:
        flash(_("This deposit was already saved; showing its receipt."), "info")
    return redirect(url_for("counter.receipt", receipt_no=outcome.body["receipt_no"], new=1))


_DEPOSIT_STEPS = {"review": _review_deposit, "save": _save_deposit}


@bp.route("/counter/member/<member_no>/deposit", methods=["GET", "POST"])
@require("deposit.record")
def deposit(member_no: str):
    """Deposit entry → review (shows exactly what will be credited) → save → receipt.

    A repeated save with the same form (double tap, resubmission) replays the first result.
    A refused review or save shows the form again with the messages (422); "change" from the
    confirmation step goes back to editing (200).
    """
    unit, found = counter_member(member_no)
    form = DepositForm()
    if request.method == "GET":
        form.idempotency_key.data = uuid.uuid4().hex
    general: list[str] = []
    status = 200
    if not found.active:
        general.append(_("This member is deactivated; reactivate them first."))
        status = 422 if request.method == "POST" else 200
    elif request.method == "POST" and not form.validate():
        general += _form_problems(form)
        status = 422
    elif request.method == "POST":
        step = _DEPOSIT_STEPS.get(request.form.get("action", "review"))
        answer = step(unit, found, form, general) if step else None
        if answer is not None:
            return answer
        status = 422 if step else 200
    return render_deposit_page(unit, found, form=form, general=general, status=status)


def deposit_time(deposit: Deposit) -> dict:
    """A deposit's time as its printed receipt shows it (``receipt_data``), for the macro
    ``_capture_time.html`` (``movement_time``): ``{"recorded_at", "posted_at", "posted_later",
    "capture_note"}``, the weighing time and, when it was booked later (an offline capture
    synced later), the note of ``reports.period.capture_note``."""
    return {"recorded_at": deposit.recorded_at, "posted_at": deposit.posted_at,
            "posted_later": posted_later(deposit.recorded_at, deposit.posted_at),
            "capture_note": capture_note(deposit.recorded_at, deposit.posted_at)}


@bp.route("/counter/receipt/<receipt_no>")
@require("counter.use")
def receipt(receipt_no: str):
    """Receipt page: what was saved, the new balance, print buttons and a WhatsApp share link.

    Only the first view, right after saving, is the original ("Asli"; its print links carry an
    ``original_token``); every later view, reload and PDF is a copy (SALINAN). Never cached.
    """
    found = visible_deposit(receipt_no)
    original = claim_original(Deposit, found.id, found.posted_at)
    amounts = [(_("Total"), found.total_idr)]
    if found.fee_idr:
        amounts.append((_("Credited"), found.credited_idr))
    amounts.append((_("New balance"), found.balance_after_idr))
    when = deposit_time(found)
    # The printed receipt's date (the weighing time) and, when booked later, its note.
    share = whatsapp_share_url(title=_("Deposit receipt"), unit_name=found.unit.name, receipt_no=found.receipt_no,
                               when=format_local(when["recorded_at"] or when["posted_at"]),
                               note=when["capture_note"], amounts=amounts,
                               check_url=verify_url(found.receipt_no), phone=found.member.phone)
    page = render_template("counter/receipt.html", deposit=found, unit=found.unit, when=when,
                           balance=member_savings_account(found.member).balance,
                           is_new=request.args.get("new") == "1", original=original,
                           shown_at=found.receipt_shown_at,
                           token=original_token("d", found.receipt_no) if original else None,
                           share_url=share)
    return page, 200, {"Cache-Control": "no-store"}


def tare_text(line, locale=None) -> str:
    """``"bruto 1,7 kg − Karung 0,2 kg = 1,5 kg"`` for a line weighed in a container (a
    DepositLine or QuotedLine; docs/tare.md), ``""`` for one without."""
    if not line.tare_milli:
        return ""
    unit = line.category.unit
    return _("gross %(gross)s − %(container)s %(tare)s = %(net)s",
             gross=format_quantity(line.gross_milli, unit, locale), container=line.container_name or "",
             tare=format_quantity(line.tare_milli, unit, locale),
             net=format_quantity(line.quantity_milli, unit, locale))


def receipt_data(deposit: Deposit, *, copy: bool, locale=None) -> ReceiptData:
    """The plain data a printed deposit receipt shows (amounts formatted in ``locale``)."""
    locale = locale or get_locale()
    lines = tuple(
        ReceiptLine(category=line.category.name(locale),
                    quantity=format_quantity(line.quantity_milli, line.category.unit, locale),
                    unit_price=f"{format_idr(line.unit_price_idr, locale)}/{line.category.unit}",
                    amount=format_idr(line.amount_idr, locale), tare=tare_text(line, locale))
        for line in deposit.lines
    )
    totals = [(_("Total"), format_idr(deposit.total_idr, locale))]
    if deposit.fee_idr:
        totals.append((_("Fee"), format_idr(deposit.fee_idr, locale)))
        totals.append((_("Credited"), format_idr(deposit.credited_idr, locale)))
    totals.append((_("New balance"), format_idr(deposit.balance_after_idr, locale)))
    return ReceiptData(
        title=_("DEPOSIT RECEIPT"), unit_name=deposit.unit.name, unit_address=deposit.unit.full_address,
        # The weighing time is the deposit's time, as on the slip; a later booking is noted.
        receipt_no=deposit.receipt_no, local_datetime=format_local(deposit.recorded_at or deposit.posted_at),
        capture_note=capture_note(deposit.recorded_at, deposit.posted_at),
        operator=deposit.operator.display_name if deposit.operator else "-",
        member_no=deposit.member.member_no, member_name=deposit.member.name, lines=lines,
        totals=tuple(totals), verify_url=verify_url(deposit.receipt_no), copy=copy,
        voided=deposit.void_entry_id is not None, footer=_("Thank you for sorting your waste!"),
    )


@bp.route("/counter/receipt/<receipt_no>.pdf")
@require("counter.use")
def receipt_pdf(receipt_no: str):
    """The receipt as PDF: ``size`` = ``roll`` (the unit's 58/80 mm) or ``A6``. The original
    only with the ``t`` token of the receipt's first view (``original_token``, 15 minutes);
    any other request, or ``copy=1``, prints SALINAN."""
    found = visible_deposit(receipt_no)
    size = request.args.get("size", "roll")
    size = "A6" if size.upper() == "A6" else str(found.unit.receipt_width_mm)
    copy = request.args.get("copy") == "1" or not is_original_print("d", found.receipt_no, request.args.get("t"))
    pdf = render_receipt(receipt_data(found, copy=copy), size)
    return Response(pdf, mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{receipt_no}.pdf"',
                             "Cache-Control": "no-store"})


@bp.route("/r/<receipt_no>/<code>")
def verify_receipt(receipt_no: str, code: str):
    """Public check of a printed receipt's QR: number, date, total and status; no names."""
    if not hmac.compare_digest(code.encode(), verification_code(receipt_no).encode()):  # any text, no TypeError
        abort(404)
    found = db.session.scalar(select(Deposit).where(Deposit.receipt_no == receipt_no))
    if found is None:
        abort(404)
    # The date printed on the paper receipt being checked: the weighing time, and the note.
    return render_template("counter/verify.html", deposit=found, when=deposit_time(found))
