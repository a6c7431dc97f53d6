"""Month lock (*tutup buku*, issue 12 item 6; docs/month-lock.md).

One row per lock period of one unit's month: ``locked_at``/``locked_by_id`` when it was locked,
and, once an admin unlocks it, ``unlocked_at``/``unlocked_by_id``/``unlock_reason``. A month
locked, unlocked and locked again has two rows; at most one row per unit and month is active
(``unlocked_at`` NULL), enforced by a partial unique index on both databases. Rows are never
deleted, so the history of every lock stays (the audit log has the same events).

``month`` is the first day of the local (Asia/Jakarta) calendar month.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .org import Unit
from .tenant import TENANT_KEY
from .types import UTCDateTime, utcnow


class MonthLock(db.Model):
    """One lock period of a unit's month; active while ``unlocked_at`` is NULL."""

    __tablename__ = "month_lock"
    __table_args__ = (
        Index("uq_month_lock_active", "unit_id", "month", unique=True,
              sqlite_where=text("unlocked_at IS NULL"), postgresql_where=text("unlocked_at IS NULL")),
        TENANT_KEY,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    month: Mapped[date] = mapped_column(Date)
    locked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    locked_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    unlocked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    unlocked_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    unlock_reason: Mapped[str] = mapped_column(String(300), default="", server_default="")

    unit: Mapped[Unit] = relationship()

    @property
    def active(self) -> bool:
        return self.unlocked_at is None
