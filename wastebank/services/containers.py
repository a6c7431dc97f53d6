"""Containers (wadah) and their tare (issue 12 item 5; docs/tare.md).

A unit keeps the weights of the sacks, baskets and buckets it weighs waste in. At the counter
the operator picks one for a kg line; the deposit service subtracts its weight from the gross
the scale showed and credits the net. The unit manager keeps the list (``manager/containers``).
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from ..extensions import db
from ..models import Container
from ..models.container import MAX_TARE_G
from .audit import audit
from .errors import Conflict, NotFound, ValidationFailed

MAX_NAME = 40


def unit_containers(unit_id: int, *, include_inactive: bool = False) -> list[Container]:
    """The unit's containers by name (active only unless ``include_inactive``)."""
    stmt = select(Container).where(Container.unit_id == unit_id)
    if not include_inactive:
        stmt = stmt.where(Container.active.is_(True))
    return list(db.session.scalars(stmt.order_by(func.lower(Container.name), Container.id)))


def find_container(unit_id: int, ref: str | int | None) -> Container | None:
    """The active container of ``unit_id`` named by ``ref``: its id (an int or digits) or its
    name in any case (``"Karung"``). None when ``ref`` names none of this unit's active
    containers — another unit's container is never found."""
    if ref is None or isinstance(ref, bool):
        return None
    text = str(ref).strip()
    if not text:
        return None
    stmt = select(Container).where(Container.unit_id == unit_id, Container.active.is_(True))
    if text.isdigit() and len(text) < 12:
        found = db.session.scalar(stmt.where(Container.id == int(text)))
        if found is not None:
            return found
    return db.session.scalar(stmt.where(func.lower(Container.name) == text.lower()))


def container_in_unit(unit_id: int, container_id: int) -> Container:
    """The container ``container_id`` of ``unit_id`` (active or not). Raises NotFound for an
    unknown id or another unit's container (scope: it does not exist for this unit)."""
    found = db.session.get(Container, container_id)
    if found is None or found.unit_id != unit_id:
        raise NotFound(_l("No such container at this unit."), code="container_not_found")
    return found


def parse_tare(text: str | int) -> int:
    """A container's weight as typed: whole grams (``"200"``, ``"200 g"``) or kilograms with a
    decimal mark or suffix (``"0,2"``, ``"0,2 kg"``) → grams, 1 … ``MAX_TARE_G``. Raises
    ValidationFailed on ``tare_g``."""
    from ..money import InputError, parse_quantity

    raw = str(text or "").strip()
    try:
        if raw.isdigit():  # a bare whole number is grams: containers weigh grams, not kilos
            grams = parse_quantity(raw + " g", "kg", MAX_TARE_G)
        else:
            grams = parse_quantity(raw, "kg", MAX_TARE_G)
    except InputError as exc:
        raise ValidationFailed({"tare_g": (exc.code, exc.message)}) from None
    return grams


def _check_name(unit_id: int, name: str, exclude_id: int | None = None) -> str:
    name = " ".join(str(name or "").split())
    if not name:
        raise ValidationFailed({"name": ("required", _l("Give the container a name."))})
    if len(name) > MAX_NAME:
        raise ValidationFailed({"name": ("too_long", _l("At most %(n)s characters.", n=MAX_NAME))})
    stmt = select(Container.id).where(Container.unit_id == unit_id, func.lower(Container.name) == name.lower())
    if exclude_id is not None:
        stmt = stmt.where(Container.id != exclude_id)
    if db.session.scalar(stmt) is not None:
        raise Conflict(_l("This unit already has a container named “%(name)s”.", name=name), field="name",
                       code="container_exists")
    return name


def add_container(unit_id: int, name: str, tare: str | int, *, user_id: int | None) -> Container:
    """Add a container (name, weight text → grams) to ``unit_id``, audited ``container.create``.
    Raises ValidationFailed (``name``, ``tare_g``) or Conflict (a name the unit already has).
    Flushes, never commits."""
    name = _check_name(unit_id, name)
    grams = parse_tare(tare)
    row = Container(unit_id=unit_id, name=name, tare_g=grams, active=True)
    db.session.add(row)
    db.session.flush()
    audit("container.create", unit_id=unit_id, user_id=user_id, object_type="container", object_id=row.id,
          details={"name": name, "tare_g": grams})
    return row


def update_container(container: Container, name: str, tare: str | int, active: bool, *,
                     user_id: int | None) -> Container:
    """Rename, reweigh, deactivate or reactivate ``container``; audited ``container.update``
    with the values before and after. Recorded deposits keep their copy of name and tare.
    Raises ValidationFailed or Conflict as ``add_container``. Flushes, never commits."""
    name = _check_name(container.unit_id, name, exclude_id=container.id)
    grams = parse_tare(tare)
    before = {"name": container.name, "tare_g": container.tare_g, "active": container.active}
    container.name, container.tare_g, container.active = name, grams, bool(active)
    db.session.flush()
    audit("container.update", unit_id=container.unit_id, user_id=user_id, object_type="container",
          object_id=container.id,
          details={"before": before, "after": {"name": name, "tare_g": grams, "active": bool(active)}})
    return container


def snapshot_containers(unit_id: int) -> list[dict]:
    """The unit's active containers for the counter tablet: ``{"id", "name", "tare_g"}``."""
    return [{"id": c.id, "name": c.name, "tare_g": c.tare_g} for c in unit_containers(unit_id)]
