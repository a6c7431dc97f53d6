"""Members (nasabah) and their QR cards."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .org import Unit
from .types import UTCDateTime, utcnow

MEMBER_KINDS = ("person", "household", "institution")


class Member(db.Model):
    """An account holder at one unit. Never hard-deleted: ``active`` False stops new business.

    ``member_no`` is unique within the unit, e.g. ``RW05-0042``.
    """

    __tablename__ = "member"
    __table_args__ = (
        UniqueConstraint("unit_id", "member_no"),
        CheckConstraint("kind IN ('person', 'household', 'institution')", name="kind"),
        Index("ix_member_unit_name", "unit_id", "name"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    member_no: Mapped[str] = mapped_column(String(30))
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20), default="person")
    phone: Mapped[str] = mapped_column(String(30), default="")
    address: Mapped[str] = mapped_column(String(300), default="")
    rt: Mapped[str] = mapped_column(String(10), default="")
    rw: Mapped[str] = mapped_column(String(10), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    unit: Mapped[Unit] = relationship()


class MemberCard(db.Model):
    """A printed card whose QR carries ``token`` (≥ 128 random bits, URL-safe; SPEC §3 "Cards").

    A card is live while ``revoked_at`` is null; revoking kills the token at once.
    """

    __tablename__ = "member_card"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"), index=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    printed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    member: Mapped[Member] = relationship()
