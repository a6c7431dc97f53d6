"""Counter screens for money out (issue 4 items 1 and 2): withdrawals (entry → review → save
with an idempotency key → receipt), the approvals list, pay-out, and voids of deposits and
withdrawals by a unit manager.

Routes are registered on the counter blueprint ``bp`` (``counter/__init__.py``). Thin views:
parse → call a service → commit once (``run_in_transaction``) → redirect. Every record is looked
up inside the user's own unit (``counter.lookups``), so another unit's id or receipt number is a
404; permissions are checked by ``require`` (403) before anything is read.
"""
from __future__ import annotations

import hmac
import json
import uuid
from types import SimpleNamespace

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, select

from ..auth.permissions import counter_unit, has_permission, require
from ..documents.receipt import ReceiptData, render_receipt
from ..extensions import db
from ..models import Member, Posting, Unit, User, Withdrawal, utcnow
from ..money import format_idr
from ..services.errors import AlreadyReversed, Conflict, DomainError, IdempotencyConflict, ValidationFailed
from ..services.ledger import member_savings_account
from ..services.receipt_links import receipt_code as verification_code
from ..services.transaction import run_in_transaction
from ..services.withdrawals import (WithdrawalInput, _validate, approve_withdrawal, cancel_reported_open,
                                    open_withdrawals, pay_withdrawal, record_withdrawal, reject_withdrawal,
                                    saved_with_key, savings_now, shortfall, void_deposit, void_details,
                                    void_withdrawal)
from ..timeutil import format_local
from ..services.payout_methods import BILL_KIND_LABELS, BILL_PROVIDERS, detail_lines
from .forms import ActionForm, VoidForm, WithdrawForm
from .lookups import counter_member, visible_deposit, visible_withdrawal
from .receipts import (claim_original, is_original_print, original_token, whatsapp_share_url,
                       withdrawal_verify_url)
from . import bp

METHOD_LABELS = {
    "cash": _l("Cash"),
    "transfer": _l("Transfer"),
    "goods": _l("Goods"),
    "donation": _l("Donation"),
    "gold": _l("Gold savings"),
    "bill": _l("Bill payment"),
}
STATUS_LABELS = {
    "voided": _l("Paid, then voided"),
    "pending": _l("Waiting for approval"),
    "approved": _l("Approved, not paid yet"),
    "paid": _l("Paid"),
    "rejected": _l("Rejected"),
}


# --- helpers ---------------------------------------------------------------------------------


def _user() -> User:
    return current_user._get_current_object()


def _input_from(form: WithdrawForm) -> WithdrawalInput:
    method = (form.method.data or "").strip()  # the first posted "method" (the text rule applied)
    items = []
    if method == "goods":
        for entry in form.items.entries:
            name = (entry.form.name.data or "").strip()
            value = (entry.form.value.data or "").strip()
            quantity = (entry.form.quantity.data or "").strip()
            if name or value or quantity:
                items.append({"name": name, "quantity": quantity, "value_idr": value})
    return WithdrawalInput(method=method, amount=(form.amount.data or "").strip(),
                           reference=_reference(form, method),
                           beneficiary=(form.beneficiary.data or "").strip() if method == "donation" else "",
                           items=tuple(items), **_payout_fields(form, method))


def _reference(form: WithdrawForm, method: str) -> str:
    """The reference typed for the chosen method: each method has its own box on the form."""
    box = {"transfer": form.reference, "gold": form.gold_reference, "bill": form.bill_reference}.get(method)
    return (box.data or "").strip() if box is not None else ""


def _payout_fields(form: WithdrawForm, method: str) -> dict:
    """The gold or bill boxes of the form as ``WithdrawalInput`` fields (empty for the others)."""
    if method == "gold":
        return {"provider": (form.gold_provider.data or "").strip(),
                "account_no": (form.gold_account.data or "").strip(),
                "gold_price": (form.gold_price.data or "").strip()}
    if method == "bill":
        return {"bill_kind": (form.bill_kind.data or "").strip(), "provider": (form.bill_provider.data or "").strip(),
                "account_no": (form.bill_customer.data or "").strip(), "token_no": (form.token_no.data or "").strip()}
    return {}


def today_closed(unit: Unit) -> bool:
    """True while today's books of ``unit`` are closed (``cashbook.last_closed_day`` on or after
    the local today). A withdrawal is then refused by the ledger at once (``PeriodClosed``,
    409 ``day_closed``), unlike a deposit, which waits on the tablet for the reopen: the
    withdrawal screens say so and offer no save (docs/counter-offline.md §the daily close)."""
    from ..services.cashbook import last_closed_day
    from ..timeutil import local_today

    closed = last_closed_day(unit.id)
    return closed is not None and closed >= local_today()


# Shown beside the disabled button of the withdrawal screens while today is closed (and by
# static/counter/withdraw.js when the tablet learns it while the check is open).
DAY_CLOSED_WITHDRAWAL = _l("Withdrawals cannot be made now: today's books are closed. A unit manager must reopen the "
                           "day first (Manage → Cash book). Do not count out any money.")


def _earlier_cancelled(unit: Unit, member: Member, form: WithdrawForm) -> SimpleNamespace | None:
    """The withdrawal this form recorded before the tablet cancelled it (a lost reply, then
    "Batalkan penarikan"): the tablet reopens the form as a new operation at ``?after=<key>``
    (static/counter/withdraw.js). A cancelled key is never used again: a form still carrying
    it (posted without the tablet's code, a reload) gets a new key here, so "Periksa" and
    "Simpan" never show or replay the cancelled withdrawal as this form's ("Sudah tersimpan"),
    which would tell the operator to hand over money the queue says must be voided. Returns
    the earlier withdrawal (receipt, amount, member; ``settled`` once voided or rejected) when
    the server recorded it for this member, else None."""
    after = (request.args.get("after") or "").strip()[:100]
    if not after:
        return None
    if form.idempotency_key.data == after:
        form.idempotency_key.data = uuid.uuid4().hex
    saved_id = saved_with_key(unit, after)
    found = db.session.get(Withdrawal, saved_id) if saved_id is not None else None
    if found is None or found.unit_id != unit.id or found.member_id != member.id:
        return None
    return SimpleNamespace(receipt_no=found.receipt_no, amount_idr=found.amount_idr, member_name=member.name,
                           settled=found.void_entry_id is not None or found.status == "rejected")


def _messages(exc: DomainError) -> list[str]:
    if isinstance(exc, ValidationFailed):
        return [str(message) for _code, message in exc.errors.values()]
    return [str(exc.message)]


def _available(member: Member) -> tuple[int, int, int]:
    """``(balance, held, available)`` of the member's savings, rupiah."""
    account = member_savings_account(member)
    return account.balance, account.held, account.balance - account.held


def balance_after(withdrawal: Withdrawal) -> int | None:
    """The member's savings right after a paid withdrawal: the sum of the savings postings up
    to and including its journal entry (entries are numbered in posting order)."""
    if withdrawal.entry_id is None:
        return None
    account = member_savings_account(withdrawal.member)
    total = db.session.scalar(select(func.coalesce(func.sum(Posting.amount), 0)).where(
        Posting.unit_id == withdrawal.unit_id, Posting.account_id == account.id,
        Posting.entry_id <= withdrawal.entry_id))
    return -int(total)


def goods_items(withdrawal: Withdrawal) -> list[dict]:
    """The goods handed over, ``[{"name", "quantity", "value_idr"}]`` (empty for other methods)."""
    return json.loads(withdrawal.items) if withdrawal.items else []


# --- withdrawal entry ------------------------------------------------------------------------


def _save_withdrawal(unit: Unit, member: Member, form: WithdrawForm, general: list[str]):
    """The save step (one transaction): ``(redirect to the withdrawal page, None)`` — the
    first one's for a repeat of the same form —, or ``(None, status)`` with the refusal in
    ``general`` (nothing written; a refused amount gets a new key, as a corrected amount is a
    new request)."""
    data = _input_from(form)
    try:
        outcome = run_in_transaction(lambda: record_withdrawal(
            unit, member, data, user=_user(), idempotency_key=form.idempotency_key.data))
    except IdempotencyConflict:
        general.append(_("This form was already saved with other values. Start a new withdrawal."))
        form.idempotency_key.data = uuid.uuid4().hex
        return None, 409
    except DomainError as exc:
        general.extend(_messages(exc))
        return None, exc.status
    if outcome.status not in (201, 202):
        general.append(outcome.body["error"]["message"])
        form.idempotency_key.data = uuid.uuid4().hex
        return None, outcome.status
    if outcome.replayed:  # the withdrawal page says it was recorded once, not again
        return redirect(url_for("counter.withdrawal", withdrawal_id=outcome.body["id"], again=1)), None
    if outcome.status == 202:
        flash(_("Saved. A unit manager must approve this withdrawal before it is paid."), "info")
    return redirect(url_for("counter.withdrawal", withdrawal_id=outcome.body["id"],
                            new=1 if outcome.status == 201 else None)), None


def _review_withdrawal(unit: Unit, member: Member, form: WithdrawForm, general: list[str]):
    """The review step: ``(confirmation page with the balance before and after, None)``, or
    ``(None, status)`` with the refusal in ``general`` (not enough savings, or today closed: 409)."""
    saved_id = saved_with_key(unit, form.idempotency_key.data)
    if saved_id is not None:
        # This form was saved already (a reload while saving, the review page opened again):
        # show that withdrawal, recorded once, rather than a review that offers to save it again.
        return redirect(url_for("counter.withdrawal", withdrawal_id=saved_id, again=1)), None
    if today_closed(unit):
        # The ledger would refuse the save: say it before anyone counts out the cash.
        general.append(str(DAY_CLOSED_WITHDRAWAL))
        return None, 409
    data = _input_from(form)
    savings = savings_now(unit, member)
    try:
        amount, items, details = _validate(unit, member, data)
    except DomainError as exc:
        general.extend(_messages(exc))
        return None, 422
    if savings.available < amount:
        general.append(str(shortfall(unit, member, checked=False).message))
        return None, 409
    others = open_withdrawals(unit, member)
    # Above the unit's threshold a withdrawal waits for someone who may approve it.
    needs_approval = (bool(unit.approval_threshold_idr) and amount > unit.approval_threshold_idr
                      and not has_permission(current_user, "withdrawal.approve"))
    return render_template("counter/withdraw_confirm.html", unit=unit, member=member, form=form,
                           data=data, amount=amount, items=items, balance=savings.balance, savings=savings,
                           others=others, others_total=sum(w.amount_idr for w in others),
                           checked_at=utcnow(), statuses=STATUS_LABELS,
                           details=detail_lines(SimpleNamespace(method=data.method, reference=data.reference.strip(),
                                                                **details)),
                           payout=details,
                           balance_after=savings.balance - amount, needs_approval=needs_approval,
                           method_label=METHOD_LABELS[data.method], day_closed=False,
                           day_closed_text=DAY_CLOSED_WITHDRAWAL, earlier=_earlier_cancelled(unit, member, form)), None


_WITHDRAW_STEPS = {"review": _review_withdrawal, "save": _save_withdrawal}


def _withdraw_form() -> WithdrawForm:
    """The posted form, or a new one (a fresh key, cash) on GET; at least three goods rows."""
    form = WithdrawForm()
    if request.method == "GET":
        form.idempotency_key.data = uuid.uuid4().hex
        form.method.data = "cash"
    while len(form.items.entries) < 3:
        form.items.append_entry()
    return form


@bp.route("/counter/member/<member_no>/withdraw", methods=["GET", "POST"])
@require("withdrawal.record")
def withdraw(member_no: str):
    """Withdrawal entry → review (balance before and after) → save → withdrawal page.

    A repeated save with the same form (double tap, resubmission) replays the first result; a
    refusal for lack of savings is shown and changes nothing. Any other action ("edit" from the
    confirmation step) goes back to editing.
    """
    unit, found = counter_member(member_no)
    form = _withdraw_form()
    earlier = _earlier_cancelled(unit, found, form)   # a cancelled key is replaced by a new one here
    general: list[str] = []
    status = 200
    if not found.active:
        general.append(_("This member is deactivated; reactivate them first."))
        status = 422 if request.method == "POST" else 200
    elif request.method == "POST" and not form.validate():
        general += form.error_messages() or [_("The form has expired; please try again.")]
        status = 422
    elif request.method == "POST" and request.form.get("action", "review") in _WITHDRAW_STEPS:
        answer, status = _WITHDRAW_STEPS[request.form.get("action", "review")](unit, found, form, general)
        if answer is not None:
            return answer
    savings = savings_now(unit, found)
    others = open_withdrawals(unit, found)
    return render_template("counter/withdraw.html", unit=unit, member=found, form=form, balance=savings.balance,
                           held=savings.held, available=savings.available, savings=savings, others=others,
                           others_total=sum(w.amount_idr for w in others), statuses=STATUS_LABELS,
                           methods=METHOD_LABELS, bill_kinds=BILL_KIND_LABELS, bill_providers=BILL_PROVIDERS,
                           general_errors=[e for e in general if e != str(DAY_CLOSED_WITHDRAWAL)],
                           day_closed=today_closed(unit), day_closed_text=DAY_CLOSED_WITHDRAWAL,
                           earlier=earlier), status


# --- a withdrawal's page, receipt and the approvals list ------------------------------------


def _render_withdrawal(found: Withdrawal, errors: list[str] | None = None, status: int = 200):
    """The withdrawal page. Once paid it is the receipt: the first view (right after paying)
    is the original, with print links that print the original; every later view is SALINAN."""
    original, token, share = False, None, None
    # Shown before this view: a ?new=1 view (the save step's, the outbox's) of a receipt that
    # was already on screen is a repeat of the same save, recorded once.
    shown_before = found.receipt_shown_at is not None
    if found.receipt_no is not None:
        original = claim_original(Withdrawal, found.id, found.paid_at)
        token = original_token("w", found.receipt_no) if original else None
        share = whatsapp_share_url(
            title=_("Withdrawal receipt"), unit_name=found.unit.name, receipt_no=found.receipt_no,
            when=format_local(found.paid_at), amounts=[(_("Amount"), found.amount_idr),
                                                       (_("New balance"), balance_after(found))],
            check_url=withdrawal_verify_url(found.receipt_no), phone=found.member.phone)
    is_new = request.args.get("new") == "1"
    is_open = found.status in ("pending", "approved")
    others = open_withdrawals(found.unit, found.member, exclude_id=found.id) if is_open else []
    savings = savings_now(found.unit, found.member)
    # The tablet cancelled it after it was recorded (withdrawal.cancel_reported), not voided yet.
    reported = cancel_reported_open(found.unit_id, [found.id]) if found.status == "paid" else []
    return render_template(
        "counter/withdrawal.html", withdrawal=found, unit=found.unit, items=goods_items(found),
        details=detail_lines(found), savings=savings, balance=savings.balance, balance_after=balance_after(found),
        method_label=METHOD_LABELS[found.method],
        status_label=STATUS_LABELS["voided" if found.void_entry_id else found.status],
        voided=void_details(found), cancel_report=reported[0] if reported else None,
        others=others, others_total=sum(w.amount_idr for w in others),
        statuses=STATUS_LABELS, already_saved=request.args.get("again") == "1" or (is_new and shown_before),
        is_new=is_new, errors=errors or [], action_form=ActionForm(),
        original=original, shown_at=found.receipt_shown_at, token=token, share_url=share,
        can_approve=has_permission(current_user, "withdrawal.approve"),
        can_pay=has_permission(current_user, "withdrawal.pay"),
        can_void=has_permission(current_user, "withdrawal.void")), status, {"Cache-Control": "no-store"}


@bp.route("/counter/withdrawal/<int:withdrawal_id>")
@require("counter.use")
def withdrawal(withdrawal_id: int):
    """A withdrawal: status, amount, method details, balance; print, approve, pay or void."""
    return _render_withdrawal(visible_withdrawal(withdrawal_id))


@bp.route("/counter/withdrawals")
@require("counter.use")
def withdrawals_open():
    """Withdrawals waiting for approval (unit managers approve or reject) and approved ones
    waiting to be paid out (operators and managers pay)."""
    unit = counter_unit(current_user)
    rows = db.session.scalars(select(Withdrawal).where(
        Withdrawal.unit_id == unit.id, Withdrawal.status.in_(("pending", "approved")))
        .order_by(Withdrawal.requested_at, Withdrawal.id)).all()
    # A member with more than one open request is marked on each of their rows: how many, their
    # total and what the savings can still cover (pending ones hold nothing until approved).
    by_member: dict[int, list[Withdrawal]] = {}
    for row in rows:
        by_member.setdefault(row.member_id, []).append(row)
    several = {}
    for member_id, theirs in by_member.items():
        if len(theirs) > 1:
            savings = savings_now(unit, theirs[0].member)
            total = sum(w.amount_idr for w in theirs)
            pending = sum(w.amount_idr for w in theirs if w.status == "pending")
            several[member_id] = SimpleNamespace(count=len(theirs), total=total, savings=savings,
                                                 short=pending > savings.available)
    return render_template("counter/withdrawals.html", unit=unit, rows=rows, methods=METHOD_LABELS, several=several,
                           statuses=STATUS_LABELS, action_form=ActionForm(),
                           can_approve=has_permission(current_user, "withdrawal.approve"))


def _state_change(withdrawal_id: int, change, done_message: str):
    """Approve, reject or pay, then redirect: to the list (``next=list``) or the withdrawal
    page; a refusal always goes back to the withdrawal page with its message (a reload there
    posts nothing again; the address is never the action's)."""
    found = visible_withdrawal(withdrawal_id)
    back = url_for("counter.withdrawal", withdrawal_id=found.id)
    form = ActionForm()
    if not form.validate():
        flash(_("The form has expired; please try again."), "error")
        return redirect(back)
    try:
        run_in_transaction(lambda: change(db.session.get(Withdrawal, withdrawal_id), user=_user()))
    except DomainError as exc:
        for message in _messages(exc):
            flash(message, "error")
        return redirect(back)
    flash(done_message, "ok")
    if request.form.get("next") == "list":
        return redirect(url_for("counter.withdrawals_open"))
    return redirect(url_for("counter.withdrawal", withdrawal_id=withdrawal_id))


@bp.route("/counter/withdrawal/<int:withdrawal_id>/approve", methods=["POST"])
@require("withdrawal.approve")
def approve(withdrawal_id: int):
    """A unit manager approves: the amount is held on the member's savings until paid."""
    return _state_change(withdrawal_id, approve_withdrawal, _("Approved. The amount is held until it is paid."))


@bp.route("/counter/withdrawal/<int:withdrawal_id>/reject", methods=["POST"])
@require("withdrawal.approve")
def reject(withdrawal_id: int):
    """A unit manager rejects a pending or approved withdrawal; any hold is released."""
    return _state_change(withdrawal_id, reject_withdrawal, _("Rejected. Nothing was paid."))


@bp.route("/counter/withdrawal/<int:withdrawal_id>/pay", methods=["POST"])
@require("withdrawal.pay")
def pay(withdrawal_id: int):
    """Pay out an approved withdrawal: the hold becomes a posting and a receipt number."""
    return _state_change(withdrawal_id, pay_withdrawal, _("Paid out."))


def withdrawal_receipt_data(found: Withdrawal, *, copy: bool, locale=None) -> ReceiptData:
    """The plain data a printed withdrawal receipt shows: no lines; amount, method, its
    details and the new balance as totals rows; signature lines for the member (Nasabah) and
    the operator who paid (Petugas), names under the lines."""
    locale = locale or get_locale()
    totals = [(_("Amount"), format_idr(found.amount_idr, locale)),
              (_("Method"), str(METHOD_LABELS[found.method]))]
    if found.method == "transfer":
        totals.append((_("Reference"), found.reference))
    elif found.method == "donation":
        totals.append((_("Beneficiary"), found.beneficiary))
    elif found.method == "goods":
        for item in goods_items(found):
            label = f"{item['name']} {item['quantity']}".strip()
            totals.append((label, format_idr(item["value_idr"], locale)))
    totals.append((_("New balance"), format_idr(balance_after(found), locale)))
    # Gold and bill payouts: their own lines (grams at the price, provider and account; the
    # customer number, reference and electricity token) printed in full under the member.
    return ReceiptData(
        title=_("WITHDRAWAL RECEIPT"), unit_name=found.unit.name, unit_address=found.unit.full_address,
        receipt_no=found.receipt_no, local_datetime=format_local(found.paid_at),
        operator=found.paid_by.display_name if found.paid_by else "-",
        member_no=found.member.member_no, member_name=found.member.name, lines=(),
        totals=tuple(totals), verify_url=withdrawal_verify_url(found.receipt_no), copy=copy,
        details=tuple(detail_lines(found, locale)),
        voided=found.void_entry_id is not None,
        signatures=((_("Member"), found.member.name),
                    (_("Operator"), found.paid_by.display_name if found.paid_by else "-")),
    )


@bp.route("/counter/withdrawal/<int:withdrawal_id>.pdf")
@require("counter.use")
def withdrawal_pdf(withdrawal_id: int):
    """The receipt of a paid withdrawal as PDF (``size`` = ``roll`` or ``A6``); 404 while it
    is not paid. The original only with the ``t`` token of the receipt's first view
    (``original_token``, 15 minutes); any other request, or ``copy=1``, prints SALINAN."""
    found = visible_withdrawal(withdrawal_id)
    if found.receipt_no is None:
        abort(404)
    size = request.args.get("size", "roll")
    size = "A6" if size.upper() == "A6" else str(found.unit.receipt_width_mm)
    copy = request.args.get("copy") == "1" or not is_original_print("w", found.receipt_no, request.args.get("t"))
    pdf = render_receipt(withdrawal_receipt_data(found, copy=copy), size)
    return Response(pdf, mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{found.receipt_no}.pdf"',
                             "Cache-Control": "no-store"})


@bp.route("/r/w/<receipt_no>/<code>")
def verify_withdrawal(receipt_no: str, code: str):
    """Public check of a withdrawal receipt's QR: number, date, amount and status; no names."""
    if not hmac.compare_digest(code.encode(), verification_code(receipt_no).encode()):  # any text, no TypeError
        abort(404)
    found = db.session.scalar(select(Withdrawal).where(Withdrawal.receipt_no == receipt_no))
    if found is None:
        abort(404)
    return render_template("counter/withdraw_verify.html", withdrawal=found)


# --- voids -----------------------------------------------------------------------------------


def _void_screen(*, record, kind: str, unit: Unit, amount: int, service, back_url: str, done_url: str):
    """GET: what the void reverses, the balance now and after, a reason box. POST: void it.

    ``amount`` is what the void takes off (+) or puts back on (−) the member's savings.
    """
    form = VoidForm()
    if request.method == "GET":
        form.idempotency_key.data = uuid.uuid4().hex
    balance, held, available = _available(record.member)
    errors: list[str] = []
    status = 200
    if record.void_entry_id is not None:
        errors.append(_("This was already voided."))
        status = 409 if request.method == "POST" else 200
    elif request.method == "POST":
        if not form.validate():
            errors += form.error_messages() or [_("The form has expired; please try again.")]
            status = 400
        else:
            try:
                outcome = run_in_transaction(lambda: service(
                    db.session.get(type(record), record.id), user=_user(), reason=form.reason.data or "",
                    idempotency_key=form.idempotency_key.data))
                if outcome.status == 200:
                    flash(_("Voided. The receipt keeps its number and prints as VOID."), "ok")
                    return redirect(done_url)
                errors.append(outcome.body["error"]["message"])
                form.idempotency_key.data = uuid.uuid4().hex
                status = outcome.status
            except IdempotencyConflict:
                errors.append(_("This form was already used with another reason. Try again."))
                form.idempotency_key.data = uuid.uuid4().hex
                status = 409
            except (AlreadyReversed, Conflict) as exc:
                errors.append(str(exc.message))
                status = 409
            except DomainError as exc:
                errors += _messages(exc)
                status = exc.status
            db.session.expire_all()
            balance, held, available = _available(record.member)
    would_overdraw = record.void_entry_id is None and amount > available
    if would_overdraw and not errors:
        errors.append(_("Cannot void: the member has already spent this money, and the savings would go below zero."))
    return render_template("counter/void.html", record=record, kind=kind, form=form, unit=unit,
                           voided=void_details(record),
                           member=record.member, amount=amount, balance=balance, balance_after=balance - amount,
                           can_void=record.void_entry_id is None and not would_overdraw,
                           errors=errors, back_url=back_url), status


@bp.route("/counter/receipt/<receipt_no>/void", methods=["GET", "POST"])
@require("deposit.void")
def void_deposit_view(receipt_no: str):
    """A unit manager voids a deposit with a reason (a reversing entry; refused when the
    member has spent the money)."""
    found = visible_deposit(receipt_no)
    url = url_for("counter.receipt", receipt_no=found.receipt_no)
    return _void_screen(record=found, kind="deposit", unit=found.unit, amount=found.credited_idr,
                        service=void_deposit, back_url=url, done_url=url)


@bp.route("/counter/withdrawal/<int:withdrawal_id>/void", methods=["GET", "POST"])
@require("withdrawal.void")
def void_withdrawal_view(withdrawal_id: int):
    """A unit manager voids a paid withdrawal with a reason: the money goes back to savings."""
    found = visible_withdrawal(withdrawal_id)
    url = url_for("counter.withdrawal", withdrawal_id=found.id)
    if found.status != "paid":
        return _render_withdrawal(found, [_("Only a paid withdrawal can be voided.")], 409)
    return _void_screen(record=found, kind="withdrawal", unit=found.unit, amount=-found.amount_idr,
                        service=void_withdrawal, back_url=url, done_url=url)

