"""Users, their roles and scope, and per-user API tokens."""
from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .org import Aggregator, Unit
from .types import UTCDateTime, utcnow

ROLES = ("admin", "aggregator_staff", "unit_manager", "operator", "collaborator")


class User(UserMixin, db.Model):
    """A person who logs in. ``role`` is one of ROLES.

    Scope: operators and unit managers belong to one ``unit``; aggregator staff to one
    ``aggregator``; collaborators to one ``collaborator``; admins to none. ``session_version`` is
    part of the login session id: bumping it (logout, deactivation, password change) ends every session at once.
    """

    __tablename__ = "user"
    __table_args__ = (
        CheckConstraint(
            "role IN ('admin', 'aggregator_staff', 'unit_manager', 'operator', 'collaborator')",
            name="role",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    full_name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)
    aggregator_id: Mapped[int | None] = mapped_column(ForeignKey("aggregator.id"), index=True)
    # Collaborator users belong to one sponsor and see its sponsored units' aggregates only.
    collaborator_id: Mapped[int | None] = mapped_column(ForeignKey("collaborator.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    unit: Mapped[Unit | None] = relationship()
    aggregator: Mapped[Aggregator | None] = relationship()

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return bool(self.active)

    def get_id(self) -> str:
        """Session id ``"<id>.<session_version>"``; an old version no longer loads."""
        return f"{self.id}.{self.session_version}"

    @property
    def display_name(self) -> str:
        return self.full_name or self.username


class ApiToken(db.Model):
    """A bearer token for devices and scripts. Only its SHA-256 is stored.

    It works while ``revoked_at`` is null and ``expires_at`` is in the future; each use moves
    ``expires_at`` to ``last_used_at`` + ``API_TOKEN_IDLE_DAYS`` (``auth/tokens.py``).
    """

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)

    user: Mapped[User] = relationship()
