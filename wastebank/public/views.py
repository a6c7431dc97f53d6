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
from ..inputs import refuse
from ..models import MemberCard
from ..reports.members import member_diverted, member_movements
from ..services.ledger import member_savings_account
from ..services.members import PinLocked, card_by_token, check_pin
from ..services.transaction import run_in_transaction
from ..members.documents import statement_pdf, statement_period
from ..members.forms import PublicPinForm, StatementForm
from ..timeutil import format_local

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


@bp.route("/c/<token>", methods=["GET", "POST"])
@_public_limit
@_unknown_token_limit
def card_page(token: str):
    """The resident's page (GET), or the PIN check (POST) where the unit requires a PIN."""
    card = _live_card_or_page(token)
    if isinstance(card, Response):
        return card
    member, unit = card.member, card.member.unit
    if not _pin_ok(card):
        form = PublicPinForm()
        error, status = None, 200
        if not member.pin_hash:
            return _private(render_template("public/pin.html", unit=unit, form=None, error=_(
                "This unit asks for a PIN, but none is set for you yet. Ask the operator to set one."),
                locked=False))
        if request.method == "POST":
            if not form.validate_on_submit():
                error, status = _("The form has expired; please try again."), 400
            else:
                ok = _check_pin(member, form.pin.data or "")
                if isinstance(ok, PinLocked):
                    return _private((render_template(
                        "public/pin.html", unit=unit, form=None, locked=True,
                        error=_("Too many wrong PINs. Try again after %(time)s.",
                                time=format_local(ok.until, "%H:%M"))), 429))
                if ok:
                    _remember_pin(card)
                    return redirect(url_for("public.card_page", token=token))
                error, status = _("Wrong PIN."), 401
        return _private((render_template("public/pin.html", unit=unit, form=form, error=error,
                                         locked=False), status))
    if request.method == "POST":
        return redirect(url_for("public.card_page", token=token))
    first_name = (member.name.split() or [""])[0]
    return _private(render_template(
        "public/card.html", token=token, unit=unit, first_name=first_name,
        masked_no=mask_member_no(member.member_no), balance=member_savings_account(member).balance,
        movements=member_movements(member, 20, with_lines=True), diverted=member_diverted(member),
        active=member.active, statement_form=StatementForm(request.args),
        default_period=statement_period(None, None)))


@bp.route("/c/<token>/statement.pdf")
@_public_limit
@_unknown_token_limit
def card_statement(token: str):
    """The resident's statement PDF for ``start``–``end`` (local dates, YYYY-MM-DD; default
    this month); behind the PIN where the unit requires one."""
    card = _live_card_or_page(token)
    if isinstance(card, Response):
        return card
    if not _pin_ok(card):
        return redirect(url_for("public.card_page", token=token))
    form = StatementForm(request.args)
    if not form.validate():
        refuse(" ".join(form.error_messages()))
    start, end = statement_period(form.start.data, form.end.data)
    pdf = statement_pdf(card.member, start, end)
    return _private(Response(pdf, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="buku-tabungan-{start:%Y%m%d}-{end:%Y%m%d}.pdf"'}))
