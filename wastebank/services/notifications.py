"""Queue a message to the member's phone with each money event (issue 12 item 1).

``queue_for_deposit``, ``queue_for_withdrawal`` and ``queue_for_void`` are called by the money
services inside their work, so the ``notification`` row is written in the same transaction as
the postings: a deposit that rolls back queues nothing, and a replayed request never reaches
the work (the idempotency envelope answers it), so it queues nothing more. The unique key
(event, source type, source id) is the second guard. A message is queued only when the unit
has notifications on (``unit.notify_enabled``), the member has consented
(``member.notify_consent``) and has a phone. Sending is ``notifications.drain.send_pending``.

Texts are Indonesian whatever the screen's language (the member reads them on their phone):
the amount, the new balance and the receipt's verification URL (docs/notifications.md).
"""
from __future__ import annotations

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from ..extensions import db
from ..models import Account, Deposit, Member, Notification, Unit, Withdrawal, utcnow
from ..money import format_idr
from .audit import audit
from .ledger import member_savings_account
from .receipt_links import receipt_verify_url

#: The language of every message body.
MESSAGE_LOCALE = "id"
#: The gateway's usual limit for one WhatsApp/SMS text we stay well under.
MAX_BODY = 1000


def wants_messages(unit: Unit, member: Member) -> bool:
    """True when ``member`` at ``unit`` is to get messages: the unit has them on, the member
    consented, and a phone is on file."""
    return bool(unit.notify_enabled and member.notify_consent and (member.phone or "").strip())


def _balance(member: Member) -> int:
    """The member's savings balance read fresh by its tenant key (post_journal moves it with
    an UPDATE … RETURNING), for a caller that did not pass the balance it posted."""
    return db.session.scalar(select(Account.balance).where(
        Account.unit_id == member.unit_id, Account.id == member_savings_account(member).id))


def _queue(unit: Unit, member: Member, event: str, source_type: str, source_id: int, body: str) -> Notification | None:
    if not wants_messages(unit, member):
        return None
    existing = db.session.scalar(select(Notification).where(
        Notification.unit_id == unit.id, Notification.event == event, Notification.source_type == source_type,
        Notification.source_id == source_id))
    if existing is not None:
        return existing
    now = utcnow()
    row = Notification(unit_id=unit.id, member_id=member.id, event=event, source_type=source_type,
                       source_id=source_id, phone=member.phone.strip(), body=body[:MAX_BODY], status="queued",
                       attempts=0, last_error="", next_attempt_at=now, created_at=now)
    db.session.add(row)
    db.session.flush()
    return row


def deposit_text(deposit: Deposit) -> str:
    """The message for a deposit: unit, receipt number, rupiah credited, new balance, URL."""
    with force_locale(MESSAGE_LOCALE):
        return _("%(unit)s: deposit %(receipt)s recorded, %(amount)s credited to your savings. "
                 "New balance: %(balance)s. Check the receipt: %(url)s",
                 unit=deposit.unit.name, receipt=deposit.receipt_no,
                 amount=format_idr(deposit.credited_idr, MESSAGE_LOCALE),
                 balance=format_idr(deposit.balance_after_idr, MESSAGE_LOCALE),
                 url=receipt_verify_url("deposit", deposit.receipt_no))


def withdrawal_text(withdrawal: Withdrawal, balance_idr: int) -> str:
    """The message for a paid withdrawal: unit, receipt number, rupiah paid, new balance, URL."""
    with force_locale(MESSAGE_LOCALE):
        return _("%(unit)s: withdrawal %(receipt)s paid, %(amount)s. New balance: %(balance)s. "
                 "Check the receipt: %(url)s",
                 unit=withdrawal.unit.name, receipt=withdrawal.receipt_no,
                 amount=format_idr(withdrawal.amount_idr, MESSAGE_LOCALE),
                 balance=format_idr(balance_idr, MESSAGE_LOCALE),
                 url=receipt_verify_url("withdrawal", withdrawal.receipt_no))


def void_text(record: Deposit | Withdrawal, balance_idr: int) -> str:
    """The message for a void: which receipt was cancelled, its rupiah, new balance, URL."""
    kind = "deposit" if isinstance(record, Deposit) else "withdrawal"
    amount = record.credited_idr if kind == "deposit" else record.amount_idr
    with force_locale(MESSAGE_LOCALE):
        what = _("Deposit") if kind == "deposit" else _("Withdrawal")
        return _("%(unit)s: %(what)s %(receipt)s (%(amount)s) was voided. New balance: %(balance)s. "
                 "Check the receipt: %(url)s",
                 unit=record.unit.name, what=what.lower(), receipt=record.receipt_no,
                 amount=format_idr(amount, MESSAGE_LOCALE), balance=format_idr(balance_idr, MESSAGE_LOCALE),
                 url=receipt_verify_url(kind, record.receipt_no))


def queue_for_deposit(deposit: Deposit) -> Notification | None:
    """Queue the deposit's message in the current transaction (flushes, never commits).

    ``deposit`` is flushed (id, receipt number and ``balance_after_idr`` set). Returns the
    queued row, the one already queued for this deposit, or None when the member is not to
    get messages (:func:`wants_messages`)."""
    if not wants_messages(deposit.unit, deposit.member):
        return None
    return _queue(deposit.unit, deposit.member, "deposit", "deposit", deposit.id, deposit_text(deposit))


def queue_for_withdrawal(withdrawal: Withdrawal, *, balance_idr: int | None = None) -> Notification | None:
    """Queue the message for a withdrawal just paid (posted, receipt number taken), in the
    current transaction. A pending or approved withdrawal queues nothing: the member hears
    when the money is paid. ``balance_idr``: the savings balance the payment left (rupiah; read
    when None). Returns the row or None, as :func:`queue_for_deposit`."""
    if withdrawal.status != "paid" or not wants_messages(withdrawal.unit, withdrawal.member):
        return None
    text = withdrawal_text(withdrawal, _balance(withdrawal.member) if balance_idr is None else balance_idr)
    return _queue(withdrawal.unit, withdrawal.member, "withdrawal", "withdrawal", withdrawal.id, text)


def queue_for_void(record: Deposit | Withdrawal, *, balance_idr: int | None = None) -> Notification | None:
    """Queue the message for a voided deposit or withdrawal (its reversing entry posted), in
    the current transaction. ``balance_idr``: the savings balance the void left (rupiah; read
    when None). Returns the row or None, as :func:`queue_for_deposit`."""
    if not wants_messages(record.unit, record.member):
        return None
    kind = "deposit" if isinstance(record, Deposit) else "withdrawal"
    balance = _balance(record.member) if balance_idr is None else balance_idr
    return _queue(record.unit, record.member, "void", kind, record.id, void_text(record, balance))


def set_unit_notifications(unit: Unit, enabled: bool, *, user_id: int | None) -> bool:
    """Switch the unit's messages on or off (audited ``unit.notify``). Returns True when it
    changed. Flushes, never commits."""
    enabled = bool(enabled)
    if unit.notify_enabled == enabled:
        return False
    unit.notify_enabled = enabled
    audit("unit.notify", unit_id=unit.id, user_id=user_id, object_type="unit", object_id=unit.code,
          details={"before": {"notify_enabled": not enabled}, "after": {"notify_enabled": enabled}})
    db.session.flush()
    return True


def set_member_consent(member: Member, consent: bool, *, user_id: int | None, by_resident: bool = False) -> bool:
    """Record whether ``member`` wants messages (audited ``member.notify_consent``; ``by_resident``
    when the resident opted out on their own page). Returns True when it changed. Flushes."""
    consent = bool(consent)
    if member.notify_consent == consent:
        return False
    member.notify_consent = consent
    audit("member.notify_consent", unit_id=member.unit_id, user_id=user_id, object_type="member",
          object_id=member.member_no,
          details={"member_no": member.member_no, "before": {"notify_consent": not consent},
                   "after": {"notify_consent": consent}, "by_resident": by_resident})
    db.session.flush()
    return True


def list_notifications(unit_id: int | None, *, status: str | None = None, limit: int = 200) -> list[Notification]:
    """The outbox newest first: ``unit_id`` None = every unit (the CLI); ``status`` one of
    ``queued``, ``sent``, ``failed`` or None for all."""
    query = select(Notification).order_by(Notification.created_at.desc(), Notification.id.desc()).limit(limit)
    if unit_id is not None:
        query = query.where(Notification.unit_id == unit_id)
    if status:
        query = query.where(Notification.status == status)
    return list(db.session.scalars(query))
