"""Plain factory functions with explicit arguments for tests."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select

from wastebank.extensions import db
from wastebank.models import Member, Unit, User, WasteCategory
from wastebank.services.catalog import default_catalogue_text, load_catalogue, set_price
from wastebank.services.members import create_member
from wastebank.services.org import create_aggregator, create_collaborator, create_unit, create_user

PASSWORD = "rahasia-123"


@dataclass
class Network:
    unit_a: Unit
    unit_b: Unit
    users: dict[str, User]
    members_a: list[Member]
    members_b: list[Member]
    categories: dict[str, WasteCategory] = field(default_factory=dict)


def build_network(price_from: date = date(2024, 1, 1)) -> Network:
    """Aggregator JKT with units RW05 (80 mm, no fee) and RW07 (58 mm, fee 0 %), the shipped
    catalogue priced at both units from ``price_from`` (PET-CLEAN Rp 3.250/kg at RW05 so the
    field cases' figures apply), users ``op_a``, ``mgr_a``, ``op_b``, ``admin``, ``agg``,
    ``collab``, and three members at each unit."""
    agg = create_aggregator("JKT", "Yayasan Bank Sampah Jakarta")
    unit_a = create_unit("RW05", "Bank Sampah Melati RW 05", aggregator=agg, rw="05",
                         kelurahan="Cempaka Putih Barat", kecamatan="Cempaka Putih",
                         kota="Jakarta Pusat", address="Jl. Melati No. 5", receipt_width_mm=80)
    unit_b = create_unit("RW07", "Bank Sampah Mawar RW 07", aggregator=agg, rw="07",
                         kelurahan="Kebon Kosong", kecamatan="Kemayoran", kota="Jakarta Pusat",
                         receipt_width_mm=58)
    rows = load_catalogue(default_catalogue_text())
    categories = {}
    for cat, buy, sell in rows:
        categories[cat.code] = cat
        for unit in (unit_a, unit_b):
            set_price(unit.id, cat, buy, sell, price_from)
    set_price(unit_a.id, categories["PET-CLEAN"], 3250, 4500, price_from)
    set_price(unit_a.id, categories["CARDBOARD"], 2000, 2600, price_from)
    users = {
        "op_a": create_user("op_a", "operator", PASSWORD, unit=unit_a, full_name="Dewi Operator"),
        "mgr_a": create_user("mgr_a", "unit_manager", PASSWORD, unit=unit_a, full_name="Budi Pengurus"),
        "op_b": create_user("op_b", "operator", PASSWORD, unit=unit_b, full_name="Sari Operator"),
        "admin": create_user("admin", "admin", PASSWORD),
        "agg": create_user("agg", "aggregator_staff", PASSWORD, aggregator=agg),
        "collab": create_user("collab", "collaborator", PASSWORD,
                              collaborator=create_collaborator("Sponsor tanpa unit")),
    }
    members_a = [create_member(unit_a, n) for n in ("Siti Aminah", "Joko Susilo", "Ñoño Đặng Łukasz")]
    members_b = [create_member(unit_b, n) for n in ("Rina Wati", "Agus Salim", "Putri Ayu")]
    db.session.flush()
    return Network(unit_a, unit_b, users, members_a, members_b, categories)


def load_network() -> Network:
    """The ``Network`` of a database that already holds ``build_network()``'s rows (the test
    run's snapshot of it, tests/conftest.py), loaded by the same keys in the same order: units
    by code, users by name, members and categories in the order they were created (ids)."""
    units = {u.code: u for u in db.session.scalars(select(Unit).where(Unit.code.in_(("RW05", "RW07"))))}
    unit_a, unit_b = units["RW05"], units["RW07"]
    users = {name: db.session.scalar(select(User).where(User.username == name))
             for name in ("op_a", "mgr_a", "op_b", "admin", "agg", "collab")}

    def members(unit):
        return list(db.session.scalars(select(Member).where(Member.unit_id == unit.id).order_by(Member.id)))

    categories = {c.code: c for c in db.session.scalars(select(WasteCategory).order_by(WasteCategory.id))}
    return Network(unit_a, unit_b, users, members(unit_a), members(unit_b), categories)
