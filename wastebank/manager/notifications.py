"""The manager's view of the notification outbox (``/manager/notifications``; issue 12 item 1).

What a unit manager checks: whether the unit sends messages (and the switch), how many are
queued, sent and failed, each message with its time, member, event, status, attempts and the
gateway's reason, and which members consented. Scoped to the manager's own unit.
"""
from __future__ import annotations

import re

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from ..auth.permissions import counter_unit, require
from ..extensions import db
from ..inputs import BaseForm, refuse
from ..models import NOTIFICATION_STATUSES, Member
from ..notifications.drain import outbox_counts
from ..services.notifications import list_notifications, set_unit_notifications
from ..services.transaction import run_in_transaction
from . import bp

STATUS_LABELS = {"queued": _l("Queued"), "sent": _l("Sent"), "failed": _l("Failed")}
EVENT_LABELS = {"deposit": _l("Deposit"), "withdrawal": _l("Withdrawal"), "void": _l("Cancellation")}
#: Rows shown on the page (newest first); the CLI lists more.
PAGE_ROWS = 200


_REASONS = [
    (re.compile(r"timeout after (?P<seconds>\S+) s"), lambda m: _("no answer within %(seconds)s s", **m.groupdict())),
    (re.compile(r"connection error: (?P<detail>.*)", re.S),
     lambda m: _("the gateway cannot be reached: %(detail)s", **m.groupdict())),
    (re.compile(r"HTTP (?P<code>\d+): (?P<detail>.*)", re.S),
     lambda m: _("the gateway answered %(code)s: %(detail)s", **m.groupdict())),
    (re.compile(r"member opted out"), lambda m: _("the member stopped messages before it was sent")),
    (re.compile(r"unit switched messages off"), lambda m: _("messages were switched off before it was sent")),
]


def reason_text(reason: str) -> str:
    """A sender's stored reason (``senders.HttpSender``: ``timeout after 10 s``, ``HTTP 500: …``,
    ``connection error: …``) in the reader's language; the gateway's own words stay as sent."""
    for pattern, text in _REASONS:
        match = pattern.fullmatch(reason or "")
        if match:
            return text(match)
    return reason


class NotifySettingsForm(BaseForm):
    """The on/off switch: CSRF only; the button's ``enabled`` value says which."""


@bp.route("/notifications")
@require("member.settings")
def notifications():
    """The outbox of the manager's unit, newest first; ``?status=queued|sent|failed`` filters."""
    unit = counter_unit(current_user)
    status = request.args.get("status") or None
    if status is not None and status not in NOTIFICATION_STATUSES:
        refuse(_("Unknown status."))
    consenting = list(db.session.scalars(select(Member).where(
        Member.unit_id == unit.id, Member.notify_consent.is_(True), Member.active.is_(True))
        .order_by(Member.member_no)))
    return render_template("manager/notifications.html", unit=unit, status=status,
                           rows=list_notifications(unit.id, status=status, limit=PAGE_ROWS),
                           counts=outbox_counts(unit.id), consenting=consenting,
                           status_labels=STATUS_LABELS, event_labels=EVENT_LABELS, reason_text=reason_text,
                           form=NotifySettingsForm())


@bp.route("/notifications/settings", methods=["POST"])
@require("member.settings")
def notifications_settings():
    """Switch the unit's messages on (``enabled=1``) or off (``enabled=0``); audited."""
    unit = counter_unit(current_user)
    form = NotifySettingsForm()
    if not form.validate_on_submit():
        refuse(_("The form has expired; please try again."))
    enabled = request.form.get("enabled") == "1"
    run_in_transaction(lambda: set_unit_notifications(unit, enabled, user_id=current_user.id))
    flash(_("Messages to members are on.") if enabled else _("Messages to members are off."))
    return redirect(url_for("manager.notifications"))
