"""Containers (wadah): the sacks, baskets and buckets a unit weighs waste in, with their tare."""
from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy import true as sa_true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .org import Unit
from .tenant import TENANT_KEY

#: The heaviest container a unit may keep, grams (a 200-litre drum is about 15 kg).
MAX_TARE_G = 50_000


class Container(db.Model):
    """A container a unit weighs waste in (karung, keranjang, ember…) and its empty weight in
    whole grams (``tare_g``). The counter subtracts it from a kg line's gross weight
    (docs/tare.md); the deposit line keeps a copy of name and tare, so renaming or reweighing a
    container later never changes a recorded deposit. Deactivated containers stay for history."""

    __tablename__ = "container"
    __table_args__ = (
        UniqueConstraint("unit_id", "name"),
        CheckConstraint("tare_g > 0", name="tare_positive"),
        TENANT_KEY,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    name: Mapped[str] = mapped_column(String(40))
    tare_g: Mapped[int] = mapped_column(BigInteger)
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=sa_true())

    unit: Mapped[Unit] = relationship()
