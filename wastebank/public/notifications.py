"""The resident stops messages from their own page: ``POST /c/<token>/messages/stop``
(issue 12 item 1; docs/notifications.md).

Behind the same card, PIN and rate-limit checks as the page itself (``public.views``). Opting
out is audited (``member.notify_consent``, ``by_resident``); opting in again is done at the
counter, where the operator confirms the phone number.
"""
from __future__ import annotations

from flask import Response, redirect, url_for

from ..services.notifications import set_member_consent
from ..services.transaction import run_in_transaction
from . import bp
from .views import _live_card_or_page, _pin_ok, _private, _public_limit, _unknown_token_limit


@bp.route("/c/<token>/messages/stop", methods=["POST"])
@_public_limit
@_unknown_token_limit
def stop_messages(token: str):
    """Record that the card's member wants no more messages, then back to the page (which
    says so). CSRF-checked like every form; 404 for an unknown card, 410 for a revoked one."""
    card = _live_card_or_page(token)
    if isinstance(card, Response):
        return card
    if not _pin_ok(card):
        return redirect(url_for("public.card_page", token=token))
    member = card.member
    run_in_transaction(lambda: set_member_consent(member, False, user_id=None, by_resident=True))
    return _private(redirect(url_for("public.card_page", token=token, messages="stopped")))
