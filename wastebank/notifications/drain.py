"""The drainer: send queued notifications, with claims, retries, backoff and a rate limit.

``send_pending(limit)`` runs in three steps, each its own short transaction, so that no
database lock is held while a gateway answers:

1. **claim** — the due messages (``status = 'queued'`` and ``next_attempt_at <= now``, oldest
   first, at most ``limit``) are taken by moving ``next_attempt_at`` one lease ahead with a
   conditional ``UPDATE … WHERE id = :id AND status = 'queued' AND next_attempt_at <= :now``:
   a second drainer running at the same time finds the row no longer due and skips it. On
   PostgreSQL the candidates are read ``FOR UPDATE SKIP LOCKED`` as well, so concurrent
   drainers do not even wait on each other. A drainer that dies mid-send leaves the message
   queued; it is due again when the lease (``LEASE``) ends.
2. **send** — each claimed message goes to the sender (``senders.sender_from_config``).
3. **record** — success: ``sent`` and ``sent_at``. An error (a non-2xx answer, a timeout, a
   connection error): ``attempts`` + 1, the reason in ``last_error``, and the next try after
   ``NOTIFY_RETRY_SECONDS × 2^(attempts − 1)`` (capped at ``MAX_BACKOFF``); at
   ``NOTIFY_MAX_ATTEMPTS`` attempts the message is ``failed`` and is not tried again.

Consent is checked again when a message is claimed: one queued before the resident opted out
(or before the unit switched messages off) is not sent; it ends ``failed`` with that reason.

Rate limit (docs/notifications.md): at most ``NOTIFY_MEMBER_PER_HOUR`` messages are sent per
member in any rolling hour. A due message beyond that is not claimed: it waits (still
``queued``, no attempt counted) until the oldest message of that hour is an hour old.

Delivery is at least once: a drainer that crashes after the gateway took a message but before
recording it sends that message again after the lease. Gateways cannot be asked to dedupe in
general, so this is the rare duplicate we accept rather than a lost message.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select, update

from ..extensions import db
from ..models import Member, Notification, Unit, utcnow
from ..services.transaction import run_in_transaction
from .senders import Sender, SendError, sender_from_config

#: How long a claimed message is kept from other drainers (far above a gateway's timeout).
LEASE = timedelta(minutes=5)
#: The longest wait between two attempts.
MAX_BACKOFF = timedelta(hours=6)
RATE_WINDOW = timedelta(hours=1)
#: ``last_error`` of a message withdrawn before sending (shown translated on the manager's screen).
OPTED_OUT = "member opted out"
SWITCHED_OFF = "unit switched messages off"


@dataclass
class DrainResult:
    """Counts of one run: ``sent``, ``retrying`` (an error, tried again later), ``failed``
    (an error at the last attempt), ``waiting`` (held back by the per-member rate limit)."""

    sent: int = 0
    retrying: int = 0
    failed: int = 0
    waiting: int = 0


def backoff(attempts: int, base_seconds: float) -> timedelta:
    """The wait after the ``attempts``-th failed attempt: ``base × 2^(attempts − 1)``, at most
    ``MAX_BACKOFF`` (60 s, 2 min, 4 min, … with the default base)."""
    return min(timedelta(seconds=base_seconds * 2 ** max(attempts - 1, 0)), MAX_BACKOFF)


def _claim(limit: int, per_hour: int) -> tuple[list[tuple[int, str, str]], int]:
    """Claim up to ``limit`` due messages; returns ``([(id, phone, body)], waiting)``."""
    now = utcnow()
    query = (select(Notification.id, Notification.member_id, Notification.phone, Notification.body,
                    Member.notify_consent, Unit.notify_enabled)
             .join(Member, Member.id == Notification.member_id).join(Unit, Unit.id == Notification.unit_id)
             .where(Notification.status == "queued", Notification.next_attempt_at <= now)
             .order_by(Notification.next_attempt_at, Notification.id).limit(limit))
    if db.session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True, of=Notification)
    rows = db.session.execute(query).all()
    sent_in_window: dict[int, list] = {}
    claimed: list[tuple[int, str, str]] = []
    waiting = 0
    for note_id, member_id, phone, body, consent, enabled in rows:
        if not (consent and enabled):
            # Queued before the resident opted out or the unit switched messages off: not sent.
            db.session.execute(update(Notification).where(Notification.id == note_id)
                               .values(status="failed", last_error=OPTED_OUT if not consent else SWITCHED_OFF)
                               .execution_options(synchronize_session=False))
            continue
        if member_id not in sent_in_window:
            sent_in_window[member_id] = sorted(db.session.scalars(select(Notification.sent_at).where(
                Notification.member_id == member_id, Notification.status == "sent",
                Notification.sent_at > now - RATE_WINDOW)))
        window = sent_in_window[member_id]
        if len(window) >= per_hour:
            # Due again when the oldest message of this hour leaves the window.
            waiting += 1
            db.session.execute(update(Notification).where(Notification.id == note_id)
                               .values(next_attempt_at=window[len(window) - per_hour] + RATE_WINDOW)
                               .execution_options(synchronize_session=False))
            continue
        taken = db.session.execute(
            update(Notification)
            .where(Notification.id == note_id, Notification.status == "queued", Notification.next_attempt_at <= now)
            .values(next_attempt_at=now + LEASE)
            .execution_options(synchronize_session=False))
        if taken.rowcount == 1:
            claimed.append((note_id, phone, body))
            # Counts against the limit for the rest of this run as if sent now.
            window.append(now)
    return claimed, waiting


def _record(note_id: int, error: str | None, max_attempts: int, base_seconds: float) -> str:
    """Write one attempt's result; returns ``sent``, ``retrying`` or ``failed``."""
    note = db.session.get(Notification, note_id, populate_existing=True)
    now = utcnow()
    note.attempts += 1
    if error is None:
        note.status, note.sent_at = "sent", now
        return "sent"
    note.last_error = error[:500]
    if note.attempts >= max_attempts:
        note.status = "failed"
        return "failed"
    note.next_attempt_at = now + backoff(note.attempts, base_seconds)
    return "retrying"


def send_pending(limit: int | None = None, sender: Sender | None = None) -> DrainResult:
    """Send the due messages once (see the module docstring): ``limit`` messages at most
    (default ``NOTIFY_BATCH``) through ``sender`` (default: the configured one). Returns the
    counts. Commits (its own transactions); call it outside a request's transaction (cron, the
    CLI). Raises ValueError for a misconfigured sender, before claiming anything."""
    config = current_app.config
    sender = sender or sender_from_config(config)
    limit = int(limit or config.get("NOTIFY_BATCH", 100))
    per_hour = int(config.get("NOTIFY_MEMBER_PER_HOUR", 5))
    max_attempts = int(config.get("NOTIFY_MAX_ATTEMPTS", 6))
    base_seconds = float(config.get("NOTIFY_RETRY_SECONDS", 60))
    claimed, waiting = run_in_transaction(lambda: _claim(limit, per_hour))
    result = DrainResult(waiting=waiting)
    for note_id, phone, body in claimed:
        try:
            sender.send(phone, body)
            error = None
        except SendError as exc:
            error = str(exc)
        except Exception as exc:  # a sender's own bug must not stop the others or lose the reason
            current_app.logger.exception("notification sender failed")
            error = f"{exc.__class__.__name__}: {exc}"
        outcome = run_in_transaction(lambda: _record(note_id, error, max_attempts, base_seconds))  # noqa: B023
        setattr(result, outcome, getattr(result, outcome) + 1)
    return result


def outbox_counts(unit_id: int | None = None) -> dict[str, int]:
    """``{"queued": n, "sent": n, "failed": n}`` for one unit (None = all)."""
    query = select(Notification.status, func.count()).group_by(Notification.status)
    if unit_id is not None:
        query = query.where(Notification.unit_id == unit_id)
    counts = {"queued": 0, "sent": 0, "failed": 0}
    counts.update({status: n for status, n in db.session.execute(query)})
    return counts
