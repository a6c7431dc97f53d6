"""Collaborators (kolaborator): sponsors of units, who see aggregated impact only (docs/rules.md §roles, §glossary)."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .org import Unit
from .types import UTCDateTime, utcnow


class Collaborator(db.Model):
    """A sponsor of one or more units. Its users (``User.collaborator_id``) see impact
    statements of the sponsored units: aggregates only, never a member's name or number."""

    __tablename__ = "collaborator"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    sponsorships: Mapped[list["Sponsorship"]] = relationship(back_populates="collaborator",
                                                             order_by="Sponsorship.start_date")


class Sponsorship(db.Model):
    """``collaborator`` sponsors ``unit`` from local date ``start_date`` to ``end_date``
    (inclusive; None = open-ended). Impact figures count a unit's month only while a
    sponsorship covers some day of it."""

    __tablename__ = "sponsorship"
    __table_args__ = (
        CheckConstraint("end_date IS NULL OR end_date >= start_date", name="dates_ordered"),
        Index("ix_sponsorship_collaborator_unit", "collaborator_id", "unit_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    collaborator_id: Mapped[int] = mapped_column(ForeignKey("collaborator.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)

    collaborator: Mapped[Collaborator] = relationship(back_populates="sponsorships")
    unit: Mapped[Unit] = relationship()
