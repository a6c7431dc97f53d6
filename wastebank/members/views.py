"""Member registry screens for a unit's operators and managers: list and search, create, edit,
deactivate/reactivate, cards (revoke, reissue, print sheets), self-service PIN, statements, and
import from paper books (upload → preview → confirm).

Thin views: parse → call a service in one ``run_in_transaction`` → redirect. Every query is
limited to the user's own unit (``counter_unit``): another unit's member number gives 404
(``services.scope.member_in_unit``, case-insensitive like every member-number lookup).
"""
from __future__ import annotations

import time
import uuid
from pathlib import Path

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from ..auth.permissions import counter_unit, has_permission, require
from ..extensions import db
from ..inputs import parse_int, refuse, text_arg
from ..models import Member, MemberCard, Unit
from ..money import InputError, format_idr
from ..reports.members import member_movements
from ..services.audit import audit
from ..services import idempotency
from ..services.errors import DomainError, IdempotencyConflict
from ..services.ledger import member_savings_account
from ..services.notifications import set_member_consent
from ..services.member_import import (ImportFileError, ImportRejected, confirm_import, file_sha256,
                                      preview_import)
from ..services.members import (cards_to_print, create_member, issue_card, live_card, mark_cards_printed,
                                normalise_phone, revoke_card, search_registry, set_member_active, set_pin,
                                update_member)
from ..services.scope import member_in_unit
from ..services.transaction import run_in_transaction
from .documents import card_sheet_pdf, sheet_card_ids, sheet_token, statement_pdf, statement_period
from .forms import (ActionForm, ConfirmImportForm, ImportForm, MemberForm, NewMemberForm, PinForm, SettingsForm,
                    StatementForm)

from . import bp

UPLOAD_MAX_AGE_S = 24 * 3600
#: Cards on one "every unprinted card" sheet (50 A4 pages, a few seconds to render): more would
#: pass gunicorn's 30 s timeout; the operator prints again for the next sheet (issue 13 item 6).
MAX_SHEET_CARDS = 500


def _pdf(data: bytes, filename: str) -> Response:
    return Response(data, mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{filename}"',
                             "Cache-Control": "no-store"})


@bp.route("")
@bp.route("/")
@require("member.manage")
def index():
    """The unit's members, searchable by name, number or phone; select some to print cards."""
    unit = counter_unit(current_user)
    query = text_arg("q", max_length=100)
    members = search_registry(unit.id, query, limit=200)
    live = {card.member_id: card for card in db.session.scalars(select(MemberCard).where(
        MemberCard.unit_id == unit.id, MemberCard.revoked_at.is_(None)))}
    unprinted = _unprinted_count(unit.id)
    return render_template("members/index.html", unit=unit, members=members, live=live, query=query,
                           unprinted=unprinted, max_sheet=MAX_SHEET_CARDS, form=ActionForm(),
                           settings_form=SettingsForm(
                               require_pin=unit.require_pin, public_page_enabled=unit.public_page_enabled,
                               collection_days=unit.collection_days, collection_place=unit.collection_place),
                           can_import=has_permission(current_user, "member.import"),
                           can_settings=has_permission(current_user, "member.settings"))


def _apply_form(form: MemberForm, save) -> bool:
    """Run ``save`` (a service call) in one transaction (retried on a concurrent twin's unique
    number); put a DomainError on its field. True if saved."""
    try:
        run_in_transaction(save)
        return True
    except IdempotencyConflict:
        raise  # the caller says it in words of the form
    except DomainError as exc:
        field = getattr(form, exc.field or "", None)
        if field is not None and hasattr(field, "errors"):
            field.errors = list(field.errors) + [str(exc.message)]
        else:
            form.form_errors.append(str(exc.message))
        return False


@bp.route("/new", methods=["GET", "POST"])
@require("member.manage")
def new():
    """Register a member: savings account at Rp 0 and a live card.

    The form's hidden ``idempotency_key`` (made when the form is shown) runs the registration
    through the idempotency envelope (``services.idempotency.execute``, operation
    ``member_create``, body ``{"member_no"}``): the same form sent again — a retry after a lost
    answer, a double tap — shows the member registered the first time instead of a twin. The same
    key with other values is refused on the form with a fresh key. A post without a key (a page
    shown before keys) registers as before, under a key of its own."""
    unit = counter_unit(current_user)
    form = NewMemberForm()
    if request.method == "GET":
        form.idempotency_key.data = uuid.uuid4().hex
    outcome = {}
    if form.validate_on_submit():
        key = (form.idempotency_key.data or "").strip() or uuid.uuid4().hex
        typed = {}

        def canonical() -> dict:
            typed.update(name=" ".join((form.name.data or "").split()), kind=form.kind.data,
                         phone=normalise_phone(form.phone.data), address=form.address.data or "",
                         rt=form.rt.data or "", rw=form.rw.data or "", notify=bool(form.notify_consent.data))
            return dict(typed)

        def work() -> tuple[int, dict]:
            member = create_member(unit, typed["name"], phone=typed["phone"], address=typed["address"],
                                   rt=typed["rt"], rw=typed["rw"], kind=typed["kind"], user_id=current_user.id)
            set_member_consent(member, typed["notify"], user_id=current_user.id)
            return 201, {"member_no": member.member_no}

        def save():
            outcome["done"] = idempotency.execute(unit, key, "member_create", canonical, work,
                                                  user_id=current_user.id)
        try:
            saved = _apply_form(form, save)
        except IdempotencyConflict:
            saved = False
            first = idempotency.saved_answer(unit.id, key, "member_create")
            if first is None:   # a stored refusal: nothing was registered under this key
                form.idempotency_key.data = uuid.uuid4().hex
                form.form_errors.append(_("This form was already saved with other values: the member may be "
                                          "registered already. Look them up in the member list before saving "
                                          "again."))
            else:
                # Registered before the reply was lost; the correction goes on that member's page,
                # never into a second member (a tester). The key stays: saving again is refused again.
                flash(_("This member was already registered as %(no)s before the connection dropped. Nothing "
                        "was registered again; correct the details here with \"Edit\".", no=first["member_no"]),
                      "info")
                return redirect(url_for("members.show", member_no=first["member_no"]))
        if saved:
            done = outcome["done"]
            if done.replayed:
                flash(_("This member was already registered; showing them."), "info")
            else:
                flash(_("Member %(no)s registered.", no=done.body["member_no"]), "ok")
            return redirect(url_for("members.show", member_no=done.body["member_no"]))
    status = 422 if request.method == "POST" else 200
    return render_template("members/form.html", unit=unit, form=form, member=None), status


@bp.route("/<member_no>")
@require("member.manage")
def show(member_no: str):
    """One member: details, balance, card, PIN, statement, recent movements."""
    unit = counter_unit(current_user)
    member = member_in_unit(unit.id, member_no)
    return render_template("members/show.html", unit=unit, member=member, card=live_card(member),
                           balance=member_savings_account(member).balance,
                           movements=member_movements(member, 20), form=ActionForm(), pin_form=PinForm(),
                           statement_form=StatementForm(request.args), default_period=statement_period(None, None))


@bp.route("/<member_no>/edit", methods=["GET", "POST"])
@require("member.manage")
def edit(member_no: str):
    """Change name, kind, phone and address (the number never changes)."""
    unit = counter_unit(current_user)
    member = member_in_unit(unit.id, member_no)
    form = MemberForm(obj=member)

    def save():
        update_member(member, name=form.name.data, phone=form.phone.data or "", address=form.address.data or "",
                      rt=form.rt.data or "", rw=form.rw.data or "", kind=form.kind.data, user_id=current_user.id)
        set_member_consent(member, bool(form.notify_consent.data), user_id=current_user.id)

    if form.validate_on_submit() and _apply_form(form, save):
        flash(_("Saved."), "ok")
        return redirect(url_for("members.show", member_no=member.member_no))
    status = 422 if request.method == "POST" else 200
    return render_template("members/form.html", unit=unit, form=form, member=member), status


@bp.route("/<member_no>/active", methods=["POST"])
@require("member.manage")
def set_active(member_no: str):
    """Deactivate (``active=0``) or reactivate (``active=1``); never deletes."""
    unit = counter_unit(current_user)
    member = member_in_unit(unit.id, member_no)
    if not ActionForm().validate_on_submit():
        abort(400)
    if request.form.get("active") not in ("0", "1"):
        abort(400)
    active = request.form.get("active") == "1"
    run_in_transaction(lambda: set_member_active(member, active, user_id=current_user.id))
    flash(_("Member reactivated.") if active else _("Member deactivated; the history and balance stay."), "ok")
    return redirect(url_for("members.show", member_no=member.member_no))


@bp.route("/<member_no>/card/revoke", methods=["POST"])
@require("member.manage")
def card_revoke(member_no: str):
    """Revoke the live card at once (lost or stolen)."""
    unit = counter_unit(current_user)
    member = member_in_unit(unit.id, member_no)
    if not ActionForm().validate_on_submit():
        abort(400)
    revoked = run_in_transaction(lambda: revoke_card(member, user_id=current_user.id))
    flash(_("The card was revoked; it no longer works.") if revoked else _("There was no live card."), "ok")
    return redirect(url_for("members.show", member_no=member.member_no))


@bp.route("/<member_no>/card/reissue", methods=["POST"])
@require("member.manage")
def card_reissue(member_no: str):
    """Revoke the live card (if any) and issue a new one with a new token."""
    unit = counter_unit(current_user)
    member = member_in_unit(unit.id, member_no)
    if not ActionForm().validate_on_submit():
        abort(400)
    run_in_transaction(lambda: issue_card(member, user_id=current_user.id))
    flash(_("A new card was issued; the old one no longer works. Print it now."), "ok")
    return redirect(url_for("members.show", member_no=member.member_no))


#: Cards one confirmation may name: a selection's most (the members screen lists 200 at once;
#: ``member_id`` is read up to 1,000), more than a sheet of every unprinted card.
MAX_CONFIRM_CARDS = 1000


def _sheet_ids(unit: Unit, token: str | None) -> list[int]:
    """The card ids of the signed sheet ``token`` of ``unit``; 400 when it is missing, forged,
    another unit's, or longer than a confirmation may be."""
    ids = sheet_card_ids(token or "", unit.id)
    if ids is None or len(ids) > MAX_CONFIRM_CARDS:
        refuse(_("This card sheet is not valid here. Open the card sheet again from the members list."))
    return ids


@bp.route("/cards")
@require("member.manage")
def card_sheet():
    """The card sheet screen (a GET: it changes nothing). Which cards: ``scope=unprinted`` (the
    first ``MAX_SHEET_CARDS`` live cards of active members never marked printed), ``member_id``
    (the selected members; other units' ids are ignored) or ``sheet`` (a signed sheet, as after
    its confirmation). Shows the cards by member number and name, the PDF link, and the
    confirmation that marks exactly these cards printed (docs/rules.md §cards)."""
    unit = counter_unit(current_user)
    if request.args.get("sheet"):
        cards = cards_to_print(unit.id, card_ids=_sheet_ids(unit, request.args.get("sheet")))
    elif request.args.get("scope") == "unprinted":  # one sheet of at most MAX_SHEET_CARDS
        cards = cards_to_print(unit.id, unprinted_only=True, limit=MAX_SHEET_CARDS)
        if not cards:
            flash(_("Every live card is marked printed."), "ok")
            return redirect(url_for("members.index"))
    else:
        try:
            ids = [parse_int(v, minimum=1) for v in request.args.getlist("member_id")[:MAX_CONFIRM_CARDS]]
        except InputError as exc:
            refuse(exc.message)
        cards = cards_to_print(unit.id, ids)
    if not cards:
        flash(_("No cards to print: choose members with a live card."), "error")
        return redirect(url_for("members.index"))
    token = sheet_token(unit.id, [card.id for card in cards])
    waiting = sum(1 for card in cards if card.printed_at is None)
    others = _unprinted_count(unit.id) - waiting  # unprinted cards not on this sheet
    return render_template("members/card_sheet.html", unit=unit, cards=cards, token=token, waiting=waiting,
                           others=others, form=ActionForm(), filename=f"kartu-{unit.code}.pdf")


@bp.route("/cards.pdf")
@require("member.manage")
def cards_pdf():
    """The PDF of the signed card sheet ``sheet`` (its live cards, by member number). A GET
    that changes nothing: download it as often as needed; the cards stay "not printed" until the
    card sheet screen's confirmation (``cards_printed``)."""
    unit = counter_unit(current_user)
    cards = cards_to_print(unit.id, card_ids=_sheet_ids(unit, request.args.get("sheet")))
    if not cards:
        refuse(_("No cards to print: choose members with a live card."))
    return _pdf(card_sheet_pdf(cards), f"kartu-{unit.code}.pdf")


@bp.route("/cards/printed", methods=["POST"])
@require("member.manage")
def cards_printed():
    """Mark the cards of the signed sheet ``sheet`` printed: one set-based UPDATE by unit, live
    and not yet printed cards only, audited, in one transaction
    (``services.members.mark_cards_printed``). Idempotent: sent again, it changes nothing and
    says so. Back to the sheet's screen, which then offers the next sheet."""
    unit = counter_unit(current_user)
    if not ActionForm().validate_on_submit():
        abort(400)
    token = request.form.get("sheet")
    ids = _sheet_ids(unit, token)
    marked, left = run_in_transaction(lambda: mark_cards_printed(unit.id, ids, user_id=current_user.id))
    if marked and left:
        flash(_("%(n)d cards marked as printed; %(left)d others on the sheet were already marked or are revoked.",
                n=marked, left=left), "ok")
    elif marked:
        flash(_("%(n)d cards marked as printed.", n=marked), "ok")
    else:
        flash(_("Nothing changed: the cards of this sheet were already marked as printed."), "ok")
    return redirect(url_for("members.card_sheet", sheet=token))


def _unprinted_count(unit_id: int) -> int:
    """Live cards of active members of ``unit_id`` never printed (one COUNT statement)."""
    return db.session.scalar(
        select(func.count()).select_from(MemberCard).join(Member, Member.id == MemberCard.member_id)
        .where(MemberCard.unit_id == unit_id, MemberCard.revoked_at.is_(None), Member.unit_id == unit_id,
               Member.active.is_(True), MemberCard.printed_at.is_(None))) or 0


@bp.route("/<member_no>/pin", methods=["POST"])
@require("member.manage")
def pin(member_no: str):
    """Set or remove the member's self-service PIN (the member tells it to the operator)."""
    unit = counter_unit(current_user)
    member = member_in_unit(unit.id, member_no)
    form = PinForm()
    if not form.validate_on_submit():
        for message in form.pin.errors:
            flash(str(message), "error")
        return redirect(url_for("members.show", member_no=member.member_no))
    if form.action.data == "save" and not form.pin.data:
        flash(_("Type the new PIN (4–6 digits). To remove the PIN, tap \"Remove PIN\"."), "error")
        return redirect(url_for("members.show", member_no=member.member_no))
    pin = None if form.action.data == "remove" else form.pin.data
    try:
        run_in_transaction(lambda: set_pin(member, pin, user_id=current_user.id))
        flash(_("PIN set.") if pin else _("PIN removed."), "ok")
    except DomainError as exc:
        flash(str(exc.message), "error")
    return redirect(url_for("members.show", member_no=member.member_no))


@bp.route("/<member_no>/statement.pdf")
@require("member.manage")
def statement(member_no: str):
    """Statement (*buku tabungan*) PDF for ``start``–``end`` (local dates, YYYY-MM-DD)."""
    unit = counter_unit(current_user)
    member = member_in_unit(unit.id, member_no)
    form = StatementForm(request.args)
    if not form.validate():
        refuse(" ".join(form.error_messages()))
    start, end = statement_period(form.start.data, form.end.data)
    return _pdf(statement_pdf(member, start, end), f"{member.member_no}-{start:%Y%m%d}-{end:%Y%m%d}.pdf")


@bp.route("/settings", methods=["POST"])
@require("member.settings")
def settings():
    """Unit settings: residents must type their PIN on the self-service page; the public page
    ``/u/<code>`` on or off, with the collection days and place it shows (audited when changed).
    A too-long or bad text is refused with its message and nothing changes."""
    unit = counter_unit(current_user)
    form = SettingsForm()
    if not form.validate_on_submit():
        # A check box cannot be typed wrong by a person: a bad value there is a forged request
        # (400, as before the public-page texts joined this form); a too-long text is flashed.
        if form.csrf_token.errors or form.require_pin.errors or form.public_page_enabled.errors:
            abort(400)
        flash(" ".join(form.error_messages()), "error")
        return redirect(url_for("members.index"))
    public = {"public_page_enabled": bool(form.public_page_enabled.data),
              "collection_days": (form.collection_days.data or "").strip(),
              "collection_place": (form.collection_place.data or "").strip()}

    def save() -> None:
        unit.require_pin = bool(form.require_pin.data)
        audit("unit.require_pin", unit_id=unit.id, user_id=current_user.id, object_type="unit",
              object_id=unit.code, details={"require_pin": unit.require_pin})
        changed = {name: value for name, value in public.items() if getattr(unit, name) != value}
        for name, value in changed.items():
            setattr(unit, name, value)
        if changed:
            audit("unit.public_page", unit_id=unit.id, user_id=current_user.id, object_type="unit",
                  object_id=unit.code, details=changed)

    run_in_transaction(save)
    flash(_("Settings saved."), "ok")
    return redirect(url_for("members.index"))


# --- Import from paper books -----------------------------------------------------------------

def _upload_dir() -> Path:
    path = Path(current_app.instance_path) / "imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _upload_path(unit: Unit, sha256: str) -> Path:
    return _upload_dir() / f"{unit.id}-{sha256}.upload"


def _forget_old_uploads() -> None:
    cutoff = time.time() - UPLOAD_MAX_AGE_S
    for path in _upload_dir().glob("*.upload"):
        if path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)


@bp.route("/import", methods=["GET", "POST"])
@require("member.import")
def import_upload():
    """Upload a CSV or .xlsx member list; show the preview with per-row errors. Nothing is
    written to the database here; the file is kept in the instance folder until confirmed."""
    unit = counter_unit(current_user)
    form = ImportForm()
    error = None
    if request.method == "POST":
        upload = request.files.get("file")
        if not form.validate_on_submit():
            error = _("The form has expired; please try again.")
        elif upload is None or not upload.filename:
            error = _("Choose a file to upload.")
        else:
            data = upload.read()
            filename = Path(upload.filename).name[:200]
            try:
                preview = preview_import(unit, data, filename)
            except ImportFileError as exc:
                error = str(exc.message)
            else:
                _forget_old_uploads()
                _upload_path(unit, preview.sha256).write_bytes(data)
                (_upload_dir() / f"{unit.id}-{preview.sha256}.name").write_text(filename, encoding="utf-8")
                db.session.rollback()
                return render_template("members/import_preview.html", unit=unit, preview=preview,
                                       form=ConfirmImportForm(sha256=preview.sha256))
    db.session.rollback()
    return render_template("members/import.html", unit=unit, form=form, error=error), (422 if error else 200)


@bp.route("/import/confirm", methods=["POST"])
@require("member.import")
def import_confirm():
    """Write the previewed file: new members, opening balances, the file's hash."""
    unit = counter_unit(current_user)
    form = ConfirmImportForm()
    if not form.validate_on_submit():
        abort(400)
    path = _upload_path(unit, form.sha256.data)
    if not path.exists():
        flash(_("The uploaded file is gone; upload it again."), "error")
        return redirect(url_for("members.import_upload"))
    data = path.read_bytes()
    if file_sha256(data) != form.sha256.data:
        abort(400)
    name_path = path.with_suffix(".name")
    filename = name_path.read_text(encoding="utf-8") if name_path.exists() else ""
    try:
        # A second confirm of the same file at once waits on the first's (unit, sha256) row,
        # fails its unique index, and on the retry finds the file imported.
        result = run_in_transaction(lambda: confirm_import(unit, data, filename, user_id=current_user.id))
    except ImportRejected as exc:
        return render_template("members/import_preview.html", unit=unit, preview=exc.preview,
                               form=ConfirmImportForm(sha256=form.sha256.data)), 422
    except DomainError as exc:
        flash(str(exc.message), "error")
        return redirect(url_for("members.import_upload"))
    path.unlink(missing_ok=True)
    name_path.unlink(missing_ok=True)
    if result.previous is not None:
        flash(_("This file was already imported; nothing was changed."), "info")
    else:
        flash(_("%(n)d members imported with opening balances of %(total)s in all; %(skipped)d already registered.",
                n=len(result.created), total=format_idr(result.opening_total_idr, get_locale()),
                skipped=result.skipped), "ok")
    return redirect(url_for("members.index"))
