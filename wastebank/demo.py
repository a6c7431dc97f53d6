"""Demo data: a realistic Jakarta unit network with two months of history.

One aggregator, four units in different RWs, the shipped catalogue priced at every unit, staff
per unit, a few hundred members with Indonesian names (Faker ``id_ID``), and deposits whose
category mix follows the catalogue (what Jakarta units actually receive: mostly PET, cardboard,
paper and cans). Every deposit goes through ``record_deposit``, so the ledger is real.

Time line (issue 9 item 8), so that every statement's counts are plausible: the units opened a
year before the history starts (``UNIT_AGE_DAYS``) with their first price list; about three
quarters of the members joined before the history starts and the rest join during it
(``NEW_MEMBER_SHARE``), each at 07:00–07:59 on their joining day; a member's deposits are only
on or after that day, at 08:00–16:59. So in every month members > 0, new members ≤ members,
and active members ≤ members (tests/test_demo.py).
"""
from __future__ import annotations

import random
import uuid
from datetime import datetime, time, timedelta
from typing import Callable

from faker import Faker

from .cli import default_catalogue_text
from .extensions import db
from .models import clock_at
from .services.catalog import load_catalogue, set_price
from .services.deposits import LineInput, record_deposit
from .services.members import create_member
from .services.org import add_sponsorship, create_aggregator, create_collaborator, create_unit, create_user
from .timeutil import local_today, local_zone

DEMO_PASSWORD = "bank-sampah"
UNIT_AGE_DAYS = 365       # the units opened this long before the history starts
NEW_MEMBER_SHARE = 0.25   # members who join during the history (the rest joined before it)

UNITS = [
    # code, name, rw, kelurahan, kecamatan, kota, receipt width, fee bp
    ("RW01", "Bank Sampah Melati Bersih RW 01", "01", "Cempaka Putih Timur", "Cempaka Putih", "Jakarta Pusat", 58, 0),
    ("RW05", "Bank Sampah Kenanga RW 05", "05", "Kebon Kosong", "Kemayoran", "Jakarta Pusat", 80, 0),
    ("RW08", "Bank Sampah Anggrek RW 08", "08", "Tanah Tinggi", "Johar Baru", "Jakarta Pusat", 58, 500),
    ("RW12", "Bank Sampah Mawar Lestari RW 12", "12", "Sunter Agung", "Tanjung Priok", "Jakarta Utara", 80, 0),
]

# Relative frequency of a category on a deposit line, and a typical quantity range (units).
MIX = {
    "PET-CLEAN": (30, 0.3, 4.0), "PET-DIRTY": (12, 0.3, 3.0), "PP-CUP": (10, 0.2, 2.0),
    "CARDBOARD": (28, 0.5, 8.0), "HVS": (8, 0.5, 5.0), "NEWS": (8, 0.5, 6.0),
    "DUPLEX": (10, 0.5, 5.0), "ALU-CAN": (6, 0.1, 1.5), "TIN-CAN": (6, 0.2, 3.0),
    "HDPE-RIGID": (6, 0.3, 3.0), "CAP": (4, 0.1, 1.0), "IRON": (3, 0.5, 6.0),
    "GLASS-BOTTLE": (4, 1, 12), "UCO": (5, 0.5, 3.0), "FILM": (5, 0.2, 2.0),
}


def _quantity(rng: random.Random, low: float, high: float, unit: str) -> str:
    """A typed-looking quantity: kg to one or two decimals with a comma, pieces whole."""
    if unit == "pcs":
        return str(rng.randint(int(low), int(high)))
    value = rng.uniform(low, high)
    return f"{value:.{rng.choice([1, 1, 2])}f}".replace(".", ",")


def load_demo(members: int = 300, days: int = 61, seed: int = 2026,
              echo: Callable[[str], None] = print) -> list[tuple[str, str, str]]:
    """Create the demo network and history; commits. Returns ``(username, password, role)``
    for the demo logins. Deterministic for a given ``seed`` (except the wall-clock dates)."""
    rng = random.Random(seed)
    fake = Faker("id_ID")
    fake.seed_instance(seed)
    agg = create_aggregator("JAKPUS", "Yayasan Bank Sampah Jakarta Raya")
    rows = load_catalogue(default_catalogue_text())
    categories = {cat.code: cat for cat, _, _ in rows}
    start_day = local_today() - timedelta(days=days)
    logins = [("admin", DEMO_PASSWORD, "admin")]
    create_user("admin", "admin", DEMO_PASSWORD, full_name="Admin Sistem")
    create_user("agregator", "aggregator_staff", DEMO_PASSWORD, aggregator=agg, full_name=fake.name())
    logins.append(("agregator", DEMO_PASSWORD, "aggregator_staff"))
    units = []
    operators: dict[int, int] = {}
    zone = local_zone()
    opened = datetime.combine(start_day - timedelta(days=UNIT_AGE_DAYS), time(9, 0), tzinfo=zone)
    for code, name, rw, kel, kec, kota, width, fee in UNITS:
        with clock_at(opened):
            unit = create_unit(code, name, aggregator=agg, rw=rw, kelurahan=kel, kecamatan=kec, kota=kota,
                               address=f"Jl. {fake.street_name()} No. {rng.randint(1, 99)}",
                               receipt_width_mm=width, fee_bp=fee)
            for cat, buy, sell in rows:
                # Units differ a little in what they pay (± Rp 100, never below Rp 50); the
                # first price list applies from the unit's opening day.
                set_price(unit.id, cat, max(50, buy + rng.choice([-100, 0, 0, 100])), sell)
        low = code.lower()
        operators[unit.id] = create_user(f"petugas_{low}", "operator", DEMO_PASSWORD, unit=unit,
                                         full_name=fake.name()).id
        create_user(f"pengurus_{low}", "unit_manager", DEMO_PASSWORD, unit=unit, full_name=fake.name())
        logins += [(f"petugas_{low}", DEMO_PASSWORD, f"operator {code}"),
                   (f"pengurus_{low}", DEMO_PASSWORD, f"unit_manager {code}")]
        units.append(unit)
    sponsor = create_collaborator("CSR Hijau Nusantara")
    for unit in units[1:3]:
        add_sponsorship(sponsor, unit, start_day)
    create_user("kolaborator", "collaborator", DEMO_PASSWORD, collaborator=sponsor, full_name=fake.name())
    logins.append(("kolaborator", DEMO_PASSWORD, f"collaborator ({units[1].code}, {units[2].code})"))
    db.session.commit()

    # Joining days first, so that member numbers follow the order people joined.
    joins = []
    for i in range(members):
        if rng.random() < NEW_MEMBER_SHARE:
            join_day = start_day + timedelta(days=rng.randrange(days))
        else:
            join_day = start_day - timedelta(days=rng.randint(1, UNIT_AGE_DAYS - 1))
        joins.append((datetime.combine(join_day, time(7, rng.randint(0, 59)), tzinfo=zone), i))
    roster = []
    for joined, i in sorted(joins):
        unit = units[i % len(units)]
        kind = rng.choices(["person", "household", "institution"], [70, 27, 3])[0]
        name = fake.name() if kind != "institution" else rng.choice(
            ["Masjid Al-Ikhlas", "SDN 03 Pagi", "Musala Nurul Huda", "Kantor Kelurahan", "PAUD Melati"]) + f" {unit.rw}"
        with clock_at(joined):
            member = create_member(unit, name, kind=kind, phone=f"+628{rng.randint(100000000, 9999999999)}",
                                   address=fake.street_address(), rt=f"{rng.randint(1, 12):02d}", rw=unit.rw)
        roster.append((unit, member, joined.date(), rng.choice([1, 2, 4, 6, 8])))  # deposits per month
    db.session.commit()
    echo(f"{len(units)} units, {len(categories)} categories, {members} members")

    codes = [c for c in MIX if c in categories]
    weights = [MIX[c][0] for c in codes]
    count = 0
    for day_offset in range(days):
        day = start_day + timedelta(days=day_offset)
        for unit, member, join_day, per_month in roster:
            if day < join_day or rng.random() >= per_month / 30:
                continue
            moment = datetime.combine(day, time(rng.randint(8, 16), rng.randint(0, 59)), tzinfo=zone)
            lines = []
            for code in rng.choices(codes, weights, k=rng.choice([1, 1, 2, 2, 3, 4])):
                _, low, high = MIX[code]
                lines.append(LineInput(code, _quantity(rng, low, high, categories[code].unit)))
            with clock_at(moment):
                record_deposit(unit, member, lines, operator_id=operators[unit.id], idempotency_key=uuid.uuid4().hex)
            count += 1
            if count % 200 == 0:
                db.session.commit()
    db.session.commit()
    echo(f"{count} deposits over {days} days")
    return logins


def demo_logins() -> list[str]:
    """Usernames of the demo's users that exist in the database (empty if none)."""
    from sqlalchemy import select

    from .models import User

    names = ["admin", "agregator", "kolaborator"] + [f"{role}_{code.lower()}" for code, *_ in UNITS
                                      for role in ("petugas", "pengurus")]
    found = set(db.session.scalars(select(User.username).where(User.username.in_(names))))
    return [name for name in names if name in found]
