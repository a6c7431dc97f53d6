"""Offline at the counter (SPEC §6, LEDGER.md "Offline replays").

The deposit screen is an installable web app: a service worker keeps the app shell, and a
deposit saved while the tablet is offline goes into an app-owned outbox on the tablet with its
idempotency key and capture time (``recorded_at``). When the tablet is back online the outbox
replays each deposit through ``POST /api/v1/deposits`` with a per-device bearer token — not a
form CSRF token, which would have expired — so a replay is safe however often it happens. A
4xx answer is final and shown to the operator; nothing leaves the queue unseen.
"""
from __future__ import annotations

from flask import current_app, jsonify, render_template, request, send_from_directory
from flask_login import current_user

from ..auth.permissions import require
from ..auth.tokens import create_token
from ..extensions import db
from .views import bp


@bp.route("/sw.js")
def service_worker():
    """The service worker, served from the root so that its scope is the whole app."""
    response = send_from_directory(current_app.static_folder, "sw.js", mimetype="text/javascript",
                                   max_age=0)
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.route("/counter/offline")
def offline_page():
    """What the service worker shows when a page is not cached and the network is down."""
    return render_template("counter/offline.html")


@bp.route("/counter/device-token", methods=["POST"])
@require("deposit.record")
def device_token():
    """Issue a bearer token for this tablet's outbox (POST with the session's CSRF token).

    Answers ``{"token": str, "username": str}``. The token ends with every other session of
    the user: logout, deactivation and password change revoke it at once.
    """
    agent = (request.user_agent.string or "")[:60]
    token = create_token(current_user._get_current_object(), label=f"device: {agent}")
    db.session.commit()
    return jsonify(token=token, username=current_user.username)
