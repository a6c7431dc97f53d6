"""Resident self-service at ``/c/<token>``: the URL in the card's QR (docs/rules.md §cards).

No login: the card's random token is the key. The page shows the unit, the member's first name,
the masked member number, the balance, what they have brought in all ("total diselamatkan", kg),
the last 20 movements by capture time (local dates, the categories and quantities of each
deposit, the posting date where it came later) and a statement PDF for a chosen period (empty
dates: this month so far). A revoked card shows "kartu tidak berlaku" and nothing else; an unknown
token is 404. Where the unit requires a PIN, the page asks for it first; a right PIN opens the
page for ``PIN_SESSION_MINUTES`` in this browser; wrong PINs lock the member out
(``services.members.check_pin``). Pages are never cached and send no referrer (the token is in
the URL).
"""
from __future__ import annotations

import re
import time

from flask import (Response, abort, g, make_response, redirect, render_template, request, session,
                   url_for)
from flask_babel import gettext as _

from ..extensions import limiter
from ..models import MemberCard, utcnow
from ..reports.members import member_diverted, member_movements
from ..services.ledger import member_savings_account
from ..services.members import PIN_MAX_TRIES, PinLocked, card_by_token, check_pin
from ..services.transaction import run_in_transaction
from ..members.documents import statement_pdf, statement_period
from ..members.forms import PublicPinForm, StatementForm
from ..timeutil import format_local, local_today, to_local

from . import bp

PIN_SESSION_MINUTES = 30
# Requests per client address (docs/security.md). Every /c/ request counts against the first,
# shared by the page and its statement: a resident reloading their page never reaches it, a
# script hammering it does. Unknown tokens count against the second as well, so that guessing
# tokens stops soon; a known token is exempt from it, so a guesser on the same address (a
# phone carrier's shared address) never locks a resident out of their own page.
PUBLIC_LIMIT = "60 per minute"
UNKNOWN_TOKEN_LIMIT = "10 per minute;50 per hour"
# What ``secrets.token_urlsafe`` makes (services.members); anything else is no card.
_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,64}")
_SESSION_KEY = "card_pin_ok"  # {card id (str): expiry, epoch seconds}


def mask_member_no(member_no: str) -> str:
    """Hide the middle of a member number: ``RW05-0012`` → ``RW05-••12``; the part before the
    last ``-`` stays, and only the last two characters after it show."""
    cut = member_no.rfind("-") + 1
    prefix, rest = member_no[:cut], member_no[cut:]
    if len(rest) <= 2:
        return prefix + "••"
    return prefix + "•" * (len(rest) - 2) + rest[-2:]


def _private(response) -> Response:
    response = make_response(response)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


@bp.after_request
def _no_referrer(response: Response) -> Response:
    """Every answer under ``/c/`` (errors too) sends no referrer: its URL holds the card token."""
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _card(token: str) -> MemberCard | None:
    """The card with ``token`` (live or revoked) or None, looked up once per request; a token
    outside the card-token alphabet (NUL, spaces, …) is None without a query."""
    if "public_card" not in g:
        g.public_card = card_by_token(token) if _TOKEN.fullmatch(token or "") else None
    return g.public_card


def _known_token() -> bool:
    """True when the request's ``token`` is a card's (live or revoked): exempt from the
    unknown-token limit."""
    return _card((request.view_args or {}).get("token", "")) is not None


_public_limit = limiter.shared_limit(PUBLIC_LIMIT, scope="public-page")
_unknown_token_limit = limiter.shared_limit(
    UNKNOWN_TOKEN_LIMIT, scope="public-unknown-token", exempt_when=_known_token,
    deduct_when=lambda response: response.status_code == 404)


def _live_card_or_page(token: str) -> MemberCard | Response:
    card = _card(token)
    if card is None:
        abort(404)
    if card.revoked_at is not None:
        return _private((render_template("public/revoked.html"), 410))
    return card


def _pin_ok(card: MemberCard) -> bool:
    if not card.member.unit.require_pin:
        return True
    expiry = (session.get(_SESSION_KEY) or {}).get(str(card.id), 0)
    return expiry > time.time()


def _remember_pin(card: MemberCard) -> None:
    now = time.time()
    granted = {k: v for k, v in (session.get(_SESSION_KEY) or {}).items() if v > now}
    granted[str(card.id)] = now + PIN_SESSION_MINUTES * 60
    session[_SESSION_KEY] = granted


def _check_pin(member, pin: str) -> bool | PinLocked:
    """``services.members.check_pin`` in one transaction, committed whether the PIN is right,
    wrong or the member locked (the count of wrong tries must persist): True, False, or the
    PinLocked refusal (returned, not raised, so that its count is committed too)."""
    def attempt() -> bool | PinLocked:
        try:
            return check_pin(member, pin)
        except PinLocked as exc:
            return exc

    return run_in_transaction(attempt)


# The shape ``services.members.check_pin`` requires before it compares: anything else can never
# be the right PIN, so it is refused as a typing slip without counting a try (the lockout is
# about guessing, and no guess of this shape can succeed).
_PIN_SHAPE = re.compile(r"\d{4,6}")


def _lock_text(until) -> str:
    """"… locked until 01:45 WIB" (today) or "… until 05-12-2026 01:45 WIB" (a later local day)."""
    fmt = "%H:%M" if to_local(until).date() == local_today() else "%d-%m-%Y %H:%M"
    return _("Too many wrong PINs, so this page is locked until %(time)s. Then you can try again; "
             "if you forgot your PIN, ask the operator at your waste bank unit to set a new one.",
             time=format_local(until, fmt))


def _pin_page(unit, *, form, error=None, heading=None, status: int = 200):
    return _private((render_template("public/pin.html", unit=unit, form=form, error=error,
                                     heading=heading or _("Enter your PIN")), status))


def _pin_screen(card: MemberCard, token: str) -> Response:
    """The PIN screen (GET) or the PIN check (POST): a wrong numeric PIN counts a try and says
    how many are left before the lockout; an empty or non-numeric one is refused without
    counting; while locked, the screen says until when and has no input box."""
    member, unit = card.member, card.member.unit
    if not member.pin_hash:
        return _pin_page(unit, form=None, heading=_("No PIN yet"), error=_(
            "This unit asks for a PIN, but none is set for you yet. Ask the operator to set one."))
    locked_heading = _("PIN locked for a while")
    if member.pin_locked_until is not None and member.pin_locked_until > utcnow():
        return _pin_page(unit, form=None, heading=locked_heading, error=_lock_text(member.pin_locked_until),
                         status=429 if request.method == "POST" else 200)
    form = PublicPinForm()
    if request.method != "POST":
        return _pin_page(unit, form=form)
    if not form.validate_on_submit():
        return _pin_page(unit, form=form, error=_("The form has expired; please try again."), status=400)
    pin = (form.pin.data or "").strip()
    if not _PIN_SHAPE.fullmatch(pin):
        return _pin_page(unit, form=form, error=_("The PIN is digits only, 4–6 digits."), status=400)
    ok = _check_pin(member, pin)
    if isinstance(ok, PinLocked):
        return _pin_page(unit, form=None, heading=locked_heading, error=_lock_text(ok.until), status=429)
    if ok:
        _remember_pin(card)
        return redirect(url_for("public.card_page", token=token))
    left = PIN_MAX_TRIES - member.pin_failed_count % PIN_MAX_TRIES
    return _pin_page(unit, form=form, status=401, error=_(
        "Wrong PIN. Tries left before this page is locked for a while: %(n)s.", n=left))


def _statement_day_message(member) -> str:
    """What a resident reads beside a statement date that cannot be used (before 1970, after
    9000, not a date): the period a statement sensibly covers, from the day they joined."""
    return _("This date cannot be used. Choose a date from the day you joined (%(joined)s) up to today.",
             joined=to_local(member.created_at).strftime("%d-%m-%Y"))


def _card_view(card: MemberCard, token: str, statement_form: StatementForm, status: int = 200) -> Response:
    member, unit = card.member, card.member.unit
    first_name = (member.name.split() or [""])[0]
    return _private((render_template(
        "public/card.html", token=token, unit=unit, first_name=first_name,
        masked_no=mask_member_no(member.member_no), balance=member_savings_account(member).balance,
        movements=member_movements(member, 20, with_lines=True), diverted=member_diverted(member),
        active=member.active, statement_form=statement_form,
        default_period=statement_period(None, None)), status))


@bp.route("/c/<token>", methods=["GET", "POST"])
@_public_limit
@_unknown_token_limit
def card_page(token: str):
    """The resident's page (GET), or the PIN check (POST) where the unit requires a PIN."""
    card = _live_card_or_page(token)
    if isinstance(card, Response):
        return card
    if not _pin_ok(card):
        return _pin_screen(card, token)
    if request.method == "POST":
        return redirect(url_for("public.card_page", token=token))
    return _card_view(card, token, StatementForm(request.args))


@bp.route("/c/<token>/statement.pdf")
@_public_limit
@_unknown_token_limit
def card_statement(token: str):
    """The resident's statement PDF for ``start``–``end`` (local dates, YYYY-MM-DD; default
    this month); behind the PIN where the unit requires one. A date that cannot be used
    answers 400 with the card page again: the dates as typed, the message beside the field."""
    card = _live_card_or_page(token)
    if isinstance(card, Response):
        return card
    if not _pin_ok(card):
        return redirect(url_for("public.card_page", token=token))
    form = StatementForm(request.args)
    if not form.validate():
        message = _statement_day_message(card.member)
        for field in (form.start, form.end):
            if field.errors:
                field.errors = [message]
        return _card_view(card, token, form, 400)
    start, end = statement_period(form.start.data, form.end.data)
    pdf = statement_pdf(card.member, start, end)
    return _private(Response(pdf, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="buku-tabungan-{start:%Y%m%d}-{end:%Y%m%d}.pdf"'}))
