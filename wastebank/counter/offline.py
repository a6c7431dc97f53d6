"""Offline at the counter (docs/rules.md §offline).

The counter is a client of the JSON API. Its browser code (``static/counter/``) writes every
confirmed deposit to a durable outbox on the tablet (IndexedDB) *before* sending it through
``POST /api/v1/deposits`` with its idempotency key and capture time, using a per-device bearer
token — never a form CSRF token, which expires. A service worker keeps the app shell, the find
screen and a deposit shell page so that the queue keeps moving offline; the tablet keeps the
unit's members and prices (``GET /api/v1/counter/snapshot``) to fill them in.

This module serves what that browser code needs from the server: the service worker (with a
version derived from the static files, so a deploy reaches the tablets — CASES C18), the
offline and shell pages, the device token, and the translated strings and page data.
"""
from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path

from flask import Response, abort, current_app, jsonify, render_template, request
from flask_babel import gettext as _
from flask_login import current_user

from ..auth.permissions import counter_unit, has_permission, require
from ..auth.tokens import create_token
from ..extensions import csrf
from ..services.transaction import run_in_transaction
from .deposit_page import render_deposit_page
from . import bp

# The header the counter's own script sends to get a device token. A cross-site page cannot
# send a custom header without a CORS preflight, which this app never answers, so the header
# protects the POST as a CSRF token would, without expiring while a tablet sits idle (C19).
DEVICE_TOKEN_HEADER = ("X-Requested-With", "wastebank-counter")


@lru_cache(maxsize=4)
def _static_manifest(static_folder: str) -> tuple[str, tuple[str, ...]]:
    """``(version, urls)``: a hash of every static file's path and bytes, and their URLs.

    Computed once per process: a deploy changes files, restarts the app and so changes the
    version, which changes the bytes of ``/sw.js`` — the browser's signal to update."""
    root = Path(static_folder)
    digest = hashlib.sha256()
    urls = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        relative = path.relative_to(root).as_posix()
        if relative == "sw.js" or relative.endswith((".md", "LICENSE", "VERSION")):
            continue
        digest.update(relative.encode())
        digest.update(path.read_bytes())
        urls.append("/static/" + relative)
    return digest.hexdigest()[:16], tuple(urls)


def client_version() -> str:
    """The version of the counter's browser code now served (16 hex characters)."""
    return _static_manifest(current_app.static_folder)[0]


@bp.route("/sw.js")
def service_worker():
    """The service worker, served from the root so that its scope is the whole app, with the
    version and the list of static files to keep written into it."""
    version, urls = _static_manifest(current_app.static_folder)
    source = Path(current_app.static_folder, "sw.js").read_text(encoding="utf-8")
    source = source.replace('"__VERSION__"', json.dumps(version)).replace(
        '["__STATIC__"]', json.dumps(list(urls)))
    response = Response(source, mimetype="text/javascript")
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Service-Worker-Allowed"] = "/"
    return response


@bp.route("/counter/offline")
def offline_page():
    """What the service worker shows when a page is not cached and the network is down."""
    return render_template("counter/offline.html")


@bp.route("/counter/shell/deposit")
@require("deposit.record")
def deposit_shell():
    """The deposit screen without a member: the service worker keeps it and serves it for any
    member's deposit screen while offline; the page fills in the member from the snapshot."""
    return render_deposit_page(counter_unit(current_user), None)


@bp.route("/counter/device-token", methods=["POST"])
@csrf.exempt
@require("deposit.record")
def device_token():
    """Issue a bearer token for this tablet's outbox. Needs the logged-in session and the
    header ``X-Requested-With: wastebank-counter`` (403 without it).

    Answers ``{"token": str, "username": str}``. The token ends with every other session of
    the user: logout, deactivation and password change revoke it at once.
    """
    name, value = DEVICE_TOKEN_HEADER
    if request.headers.get(name) != value:
        abort(403)
    agent = (request.user_agent.string or "")[:60]
    user = current_user._get_current_object()
    token = run_in_transaction(lambda: create_token(user, label=f"device: {agent}"))
    return jsonify(token=token, username=current_user.username)


def _others_notice() -> str:
    """The queue's notice about another operator's unsent items on this tablet, for the role
    logged in. Only that operator can send them: the sender goes out with the logged-in user's
    own device token and only with that user's items, and the queue offers no action on anyone
    else's (static/counter/panel.js, sync.js, outbox-core sendOrder). So a unit manager is told
    to have that operator log in again here, not to ask a unit manager: themselves."""
    if getattr(current_user, "role", None) == "unit_manager":
        return _("{count} item(s) saved on this tablet by {user} are not sent yet, and only {user} can send them: "
                 "ask {user} to log in on this tablet again; they are then sent automatically. They cannot be "
                 "sent or removed under your login.")
    return _("{count} item(s) saved on this tablet by {user} are not sent yet; they go out when {user} logs in "
             "here again. If they cannot, ask a unit manager.")


def counter_i18n() -> dict[str, str]:
    """Translated strings of the outbox panel and the counter's browser code."""
    return {
        "title": _("This tablet's queue"),
        "more_sent": _("and {count} more sent today"),
        "sent_title": _("Sent: receipt {receipt}"),
        "sent_text": _("{total} credited to savings. Open the receipt to print or share it."),
        "member_pending": _("{count} deposit(s) of this member ({total}) are saved on this tablet and not sent yet: "
                            "do not weigh them again."),
        # The server refused this member's deposit: correcting it sends it, so weighing again pays twice.
        "member_refused": _("{count} deposit(s) of this member ({total}) were refused by the server and wait to be "
                            "corrected: correct or remove them in the queue before weighing again."),
        "member_pending_refused": _("{count} deposit(s) of this member ({total}) are saved on this tablet and not sent "
                                    "yet, and {fix} ({fix_total}) were refused by the server and wait to be corrected: "
                                    "do not weigh them again; correct or remove the refused ones in the queue."),
        # A deposit waits on the tablet (outbox-core classify); a withdrawal is refused by the ledger at
        # once, so the withdrawal screens offer no save while today is closed (counter/withdrawals.py).
        "day_closed": _("Today's books are closed: deposits are kept on this tablet and sent automatically once a "
                        "unit manager reopens the day (Manage → Cash book). Withdrawals cannot be made until then."),
        # Another operator's unsent items ({user}: the full name the item stores, else the login name).
        "others": _others_notice(),
        "all_sent": _("Everything saved on this tablet has been sent."),
        "summary": _("{queued} waiting to be sent, {fix} to correct."),
        "summary_queued": _("{queued} waiting to be sent."),   # no zero counts in the summary
        "summary_fix": _("{fix} to correct."),
        # A request in flight, as the item's "sending" (outbox-core queueSummary); {rest} is one of the above.
        "summary_sending": _("{sending} being sent…"),
        "summary_sending_and": _("{sending} being sent, {rest}"),
        "state_queued": _("waiting"),
        "state_sending": _("sending"),
        "state_synced": _("sent"),
        "state_fix": _("needs correcting"),
        "kind_deposit": _("Deposit"),
        "kind_withdrawal": _("Withdrawal"),
        "send_now": _("Send now"),
        "receipt": _("Receipt"),
        "slip": _("Provisional slip"),
        "fix": _("Correct"),
        "resend": _("Send again"),
        "remove": _("Remove"),
        "confirm_remove": _("Remove the deposit of {member} ({total}) from this tablet? It is not recorded on the "
                            "server."),
        # Deposits and withdrawals alike (a tester: "2 setoran" for a deposit and a withdrawal).
        "stale": _("{count} item(s) on this tablet not sent since {since}"),
        "auth": _("Your session has ended. Log in again to send; the queue stays on this tablet."),
        "login": _("Log in again"),
        "retrying": _("No answer from the server; trying again automatically."),
        "retrying_offline": _("This tablet has no connection; sent automatically when the connection returns."),
        "retrying_server": _("The server could not record it just now; trying again automatically."),
        # The session ended (401): nothing goes until the operator logs in again (outbox-core retryMessage).
        "retrying_auth": _("The session has ended; log in again, then it is sent automatically."),
        # A deposit refused because today's books are closed waits on the tablet (outbox-core classify).
        "retrying_day_closed": _("Today's books are closed; kept on this tablet and sent automatically once a unit "
                                 "manager reopens the day."),
        # Shown on the withdrawal screens too (tester: "setoran" alone there).
        "offline": _("No connection: deposits and withdrawals are kept on this tablet and sent automatically."),
        # "Ubah" on the withdrawal check needs the server (it re-checks the balance).
        "edit_offline": _("No connection: changing the withdrawal needs the connection. Wait until the tablet is "
                          "connected again."),
        # "Periksa sebelum simpan" on the entry form needs the server too (the balance is checked there):
        # offline it opened the browser's own error page and the amount was lost (a tester).
        "check_offline": _("No connection: checking a withdrawal needs the connection (the balance is checked on "
                           "the server). Wait until the tablet is connected again; the amount stays here."),
        # A withdrawal refused while today was closed, after the tablet learnt the reopen (a tester:
        # it still said the day was closed under a banner that had gone).
        "reopened_withdrawal": _("Today has been reopened since; this withdrawal is not recorded. Tap \"Send again\" "
                                 "only if the member is still here for the cash; if they have gone, remove it."),
        "withdrawal_refused_reopened": _("Refused while today was closed; today has been reopened since. Nothing is "
                                         "recorded: if the member is still here, tap \"Send again\" in the queue "
                                         "above; if they have gone, remove it there. Do not hand out money before "
                                         "it says sent."),
        "update": _("A new version is available."),
        "reload": _("Reload"),
        "provisional": _("PROVISIONAL"),
        "provisional_note": _("Not yet sent. The receipt number is given once it is sent; the server recomputes the "
                              "amounts."),
        "key": _("Slip code"),  # the short code of a provisional slip (outbox-core slipCode)
        "total": _("Total"),
        "fee": _("Fee"),
        "credited": _("Credited to savings"),
        "close": _("Close"),
        "print": _("Print"),
        "choose": _("— choose —"),
        "new_deposit": _("New deposit"),
        "member_unknown_offline": _("Member {member} is not on this tablet yet. Connect once to load the members."),
        "refused_title": _("The server refused this deposit"),
        "saving": _("Saving…"),
        "saving_hint": _("Saving… please wait a moment; the deposit is already kept on this tablet."),
        "saving_slow": _("The server is slow to answer. Please wait a little longer; nothing is lost and the deposit "
                         "is sent automatically."),
        "kept_title": _("Saved on this tablet"),
        "kept_text": _("Not sent yet ({total}); it is sent automatically as soon as the server takes it. You can "
                       "serve the next member."),
        # Kept while the tablet has no connection: it goes once the tablet is online again.
        "kept_text_offline": _("Not sent yet ({total}); it is sent automatically as soon as the tablet is connected "
                               "again. You can serve the next member."),
        # Kept after the session ended: it goes once the operator has logged in again.
        "kept_text_auth": _("Not sent yet ({total}): the session has ended. Log in again, then this deposit is "
                            "sent automatically. You can serve the next member."),
        # Kept because today's books are closed: it goes once a unit manager reopens the day.
        "kept_text_day_closed": _("Not sent yet ({total}): today's books are closed. This deposit is kept on this "
                                  "tablet and sent automatically once a unit manager reopens the day. You can serve "
                                  "the next member."),
        "fixing": _("Correct this deposit and save it again: {reason}"),
        "withdrawal_refused": _("The withdrawal was refused: {reason}"),
        # An unsent withdrawal cancelled in the queue (outbox-core cancellable): the member left without the cash.
        "cancel_withdrawal": _("Cancel withdrawal"),
        # "Kirim ulang" on a refused withdrawal books it and the cash is due at once (a tester: one
        # tap paid a member who had gone home).
        "confirm_resend_withdrawal": _("Send the withdrawal of {member} ({total}) again? Once it is recorded the "
                                       "cash must be handed over at once: send it only if {member} is still here. "
                                       "If they have gone, remove it from the queue instead."),
        "confirm_cancel_withdrawal": _("Cancel the withdrawal of {member} ({total})? It has not reached the server "
                                       "and will not be sent. Do not hand out the money."),
        # An earlier attempt got no answer: it may have been recorded (a lost reply).
        "confirm_cancel_withdrawal_maybe": _("Cancel the withdrawal of {member} ({total})? It will not be sent "
                                             "again, but it may already have reached the server before the "
                                             "connection dropped. Once the tablet is connected, check the member's "
                                             "history: if it is there, ask a unit manager to void it. Do not hand "
                                             "out the money."),
        # A withdrawal sent by itself later, while its screen was closed (outbox-core handOverDue).
        # Sent from the queue, after the connection came back or a "Kirim ulang" (never "after the
        # connection came back" for a resend after a reopen, a tester).
        "hand_over": _("Recorded as paid ({receipt}) when the queue sent it: hand {total} to {member} now. If the "
                       "member has gone home, ask a unit manager to void it."),
        "handed": _("Money handed over"),
        # The sender took it while the question was open (another tab): it goes out after all.
        "cancel_too_late": _("It could not be cancelled: it is being sent or was sent already. Look at the queue; "
                             "if it is recorded as paid and the money was not handed over, ask a unit manager to "
                             "void it."),
        "withdrawal_cancelled_maybe": _("Withdrawal cancelled on this tablet: it will not be sent again, but it may "
                                        "already be recorded on the server. Do not hand out the money; once the "
                                        "tablet is connected, check the member's history and ask a unit manager to "
                                        "void it if it is there."),
        # A withdrawal request sent and waiting for a unit manager's approval (no receipt yet).
        "state_pending_approval": _("waiting for approval"),
        "open_request": _("Open"),
        "withdrawal_cancelled": _("Withdrawal cancelled on this tablet: it will not be sent. Do not hand out the "
                                  "money."),
        "withdrawal_kept": _("Not sent yet: the withdrawal is kept on this tablet and sent automatically. Do not hand "
                             "out the money until it shows as sent."),
        "not_sent_yet": _("not sent yet"),  # a member served today from the tablet's queue (find page)
        "no_results": _("No member found for “{q}”."),
        "searching_offline": _("Offline: searching the members kept on this tablet."),
        # The deposit screen's "Timbang" button (static/counter/scale-port.js, docs/scale.md).
        "scale_waiting": _("Waiting for a stable weight from the scale…"),
        "scale_unstable": _("Not stable yet: {weight}"),
        "scale_taken": _("{weight} taken from the scale."),
        "scale_overload": _("The scale shows overload."),
        "scale_timeout": _("No stable weight from the scale within 10 seconds. Try again, or type the weight."),
        "scale_no_port": _("No scale chosen."),
        "scale_open": _("The scale cannot be opened: is it plugged in, or in use in another tab?"),
        "scale_closed": _("The scale was disconnected."),
        "scale_no_line": _("Tap a category first, then weigh."),
        "scale_not_kg": _("This line is counted in {unit}; the scale gives kilograms."),
        "no_container": _("No container"),  # the tare select (docs/tare.md)
        # A withdrawal's check screen follows its own queue item (withdraw.js, withdraw-core followView):
        # refused there, then sent after all from another tab ("Kirim ulang" after the reopen).
        # Back on a check whose withdrawal was recorded (the browser's Back after its receipt, a tester).
        "withdrawal_saved_before": _("Saved before: recorded as paid ({receipt}, {total}). If the money has been "
                                     "handed over, do not hand it over again."),
        "withdrawal_saved_before_pending": _("Saved before: recorded as a request waiting for a unit manager's "
                                             "approval. Do not hand over the money yet."),
        "withdrawal_sent_later": _("Sent after all: recorded as paid ({receipt}). Hand {total} to {member} now, once "
                                   "only. If the member has gone home, ask a unit manager to void it."),
        "withdrawal_sent_later_pending": _("Sent after all: recorded as a request waiting for approval. Do not hand "
                                           "over the money yet: a unit manager must approve it first."),
        # A refused withdrawal removed from the queue ("Hapus"): never recorded.
        "withdrawal_removed": _("Removed from this tablet's queue: this withdrawal is not recorded on the server and "
                                "will not be sent. Do not hand out the money."),
        # After a cancel the form is a new operation with a new key (counter/withdrawals.py ?after=).
        "edit_after_cancel": _("“Change” starts a new withdrawal."),
        "edit_after_cancel_recorded": _("“Change” starts a new withdrawal; it does not undo this one, which stays "
                                        "recorded until a unit manager voids or rejects it."),
    }


def counter_context() -> dict | None:
    """The logged-in operator and unit for the browser code, or None off the counter."""
    if not has_permission(current_user, "counter.use"):
        return None
    unit = current_user.unit
    if unit is None:
        return None
    from flask_babel import get_locale

    from ..models.types import utcnow
    from ..services.cashbook import last_closed_day
    from ..timeutil import local_today, local_zone

    zone = local_zone()
    return {"username": current_user.username, "unit": unit.code, "unitName": unit.name,
            # Stored with each outbox item: another operator's notice names its person, not a login.
            "displayName": current_user.display_name,
            "locale": str(get_locale() or "id"), "version": client_version(),
            # Times in the queue as on the printed receipt: "29-11-2026 14:05 WIB" (timeutil.format_local).
            "timeZone": zone.key, "zoneName": utcnow().astimezone(zone).tzname(),
            # Warn before anyone weighs: saves are refused while today is closed.
            "dayClosed": last_closed_day(unit.id) == local_today()}


@bp.app_context_processor
def _counter_client() -> dict:
    """``counter_client_context()`` and ``counter_client_i18n()`` for base.html."""
    return {"counter_client_context": counter_context, "counter_client_i18n": counter_i18n}
