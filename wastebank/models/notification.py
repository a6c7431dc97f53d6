"""The notification outbox (issue 12 item 1; docs/notifications.md).

A ``Notification`` row is written in the same transaction as the money it reports (a deposit,
a paid withdrawal, a void), so a rolled-back deposit queues nothing and a sender that is down
loses nothing: ``notifications.drain.send_pending`` drains the table later.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .member import Member
from .tenant import TENANT_KEY, tenant_fk, tenant_unique
from .types import UTCDateTime, utcnow

NOTIFICATION_EVENTS = ("deposit", "withdrawal", "void")
NOTIFICATION_SOURCES = ("deposit", "withdrawal")
NOTIFICATION_STATUSES = ("queued", "sent", "failed")


class Notification(db.Model):
    """One message to a member's phone.

    ``event`` is what happened (``deposit``, ``withdrawal``, ``void``); ``source_type`` and
    ``source_id`` name the record it reports (a ``deposit`` or ``withdrawal`` row; a void names
    the voided record). The three together are unique, so a replayed request or a re-run
    transaction never queues a second message for one event.

    ``status``: ``queued`` (waiting, or retrying after an error: ``last_error`` says why) →
    ``sent`` (``sent_at``) or ``failed`` (after ``NOTIFY_MAX_ATTEMPTS``). ``next_attempt_at`` is
    when a drainer may take it next; a drainer claims a message by moving it ahead (a lease), so
    two drainers never send it twice. Times are UTC.
    """

    __tablename__ = "notification"
    __table_args__ = (
        *tenant_unique("event", "source_type", "source_id"),
        *tenant_fk("member_id", "member"),
        CheckConstraint("event IN ('deposit', 'withdrawal', 'void')", name="event"),
        CheckConstraint("source_type IN ('deposit', 'withdrawal')", name="source_type"),
        CheckConstraint("status IN ('queued', 'sent', 'failed')", name="status"),
        CheckConstraint("attempts >= 0", name="attempts_nonnegative"),
        Index("ix_notification_status_next", "status", "next_attempt_at"),
        Index("ix_notification_member_sent", "member_id", "sent_at"),
        Index("ix_notification_unit_created", "unit_id", "created_at"),
        TENANT_KEY,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    member_id: Mapped[int] = mapped_column()
    event: Mapped[str] = mapped_column(String(20))
    source_type: Mapped[str] = mapped_column(String(20))
    source_id: Mapped[int] = mapped_column(Integer)
    phone: Mapped[str] = mapped_column(String(30))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(String(500), default="")
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    member: Mapped[Member] = relationship(
        primaryjoin="and_(Member.id == foreign(Notification.member_id), Member.unit_id == Notification.unit_id)")
