"""Members (nasabah) and their QR cards."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (BigInteger, Boolean, CheckConstraint, ForeignKey, Index, Integer, String, UniqueConstraint,
                        func)
from sqlalchemy import false as sa_false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .org import Unit
from .tenant import TENANT_KEY, tenant_fk, tenant_unique
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
        TENANT_KEY,
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
    # Self-service PIN (argon2 hash; None = no PIN set) and its lockout: after
    # ``PIN_MAX_TRIES`` wrong tries the page refuses PINs until ``pin_locked_until``.
    pin_hash: Mapped[str | None] = mapped_column(String(200))
    pin_failed_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    pin_locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The member agreed to messages on ``phone`` (opt-in at registration or edit; the resident
    # opts out on their own page /c/<token>). docs/notifications.md.
    notify_consent: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())

    unit: Mapped[Unit] = relationship()


# Member numbers are looked up without regard to case (scope.member_in_unit, find_member, the
# deposit API's ``upper(member_no) IN (…)``): an expression index makes that a point lookup
# instead of a walk over the unit's members (issue 13 item 3; migration 0020).
Index("ix_member_unit_upper_no", Member.unit_id, func.upper(Member.member_no))


class MemberCounter(db.Model):
    """The last standard member number (``<UNIT CODE>-<n>``) a unit has issued: taken with an
    ``UPDATE … RETURNING`` like receipt numbers, so that two registrations at once queue on
    this row instead of colliding on ``uq_member_unit_id_member_no`` (issue 10 item 2)."""

    __tablename__ = "member_counter"

    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), primary_key=True, autoincrement=False)
    last_no: Mapped[int] = mapped_column(BigInteger, default=0)


class MemberImport(db.Model):
    """One confirmed import of a member list (CSV or .xlsx) at a unit. ``sha256`` is the
    uploaded file's hash: the same file confirmed twice at a unit changes nothing the second
    time (issue 3). Counts are what the import created."""

    __tablename__ = "member_import"
    __table_args__ = (UniqueConstraint("unit_id", "sha256"), TENANT_KEY)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    sha256: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(200), default="")
    members_created: Mapped[int] = mapped_column(Integer, default=0)
    opening_total_idr: Mapped[int] = mapped_column(BigInteger, default=0)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class MemberCard(db.Model):
    """A printed card whose QR carries ``token`` (≥ 128 random bits, URL-safe; docs/rules.md §cards).

    A card is live while ``revoked_at`` is null; revoking kills the token at once.
    """

    __tablename__ = "member_card"
    __table_args__ = (*tenant_unique("token"), *tenant_fk("member_id", "member"), TENANT_KEY)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    member_id: Mapped[int] = mapped_column(index=True)
    token: Mapped[str] = mapped_column(String(64))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    printed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    member: Mapped[Member] = relationship(
        primaryjoin="and_(Member.id == foreign(MemberCard.member_id), Member.unit_id == MemberCard.unit_id)")
