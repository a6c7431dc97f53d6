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
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import partial
from typing import Callable

from faker import Faker

from .extensions import db
from .models import Aggregator, Member, Unit, WasteCategory, clock_at
from .services.catalog import default_catalogue_text, load_catalogue, set_price
from .services.deposits import LineInput, record_deposit
from .services.members import create_member
from .services.org import add_sponsorship, create_aggregator, create_collaborator, create_unit, create_user
from .services.transaction import run_in_transaction
from .timeutil import local_today, local_zone

DEMO_PASSWORD = "bank-sampah"
UNIT_AGE_DAYS = 365       # the units opened this long before the history starts
NEW_MEMBER_SHARE = 0.25   # members who join during the history (the rest joined before it)
DEPOSIT_BATCH = 200       # deposits per transaction

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


@dataclass
class _Network:
    """What the first step created and the later steps need."""

    agg: Aggregator
    categories: dict[str, WasteCategory]
    units: list[Unit] = field(default_factory=list)
    operators: dict[int, int] = field(default_factory=dict)   # unit id → operator's user id
    logins: list[tuple[str, str, str]] = field(default_factory=list)


def _open_unit(net: _Network, rows, rng: random.Random, fake: Faker, spec: tuple, opened: datetime) -> None:
    """One unit of ``UNITS``, opened at ``opened`` with its first price list, and its staff."""
    code, name, rw, kel, kec, kota, width, fee = spec
    with clock_at(opened):
        unit = create_unit(code, name, aggregator=net.agg, rw=rw, kelurahan=kel, kecamatan=kec, kota=kota,
                           address=f"Jl. {fake.street_name()} No. {rng.randint(1, 99)}",
                           receipt_width_mm=width, fee_bp=fee)
        for cat, buy, sell in rows:
            # Units differ a little in what they pay (± Rp 100, never below Rp 50); the
            # first price list applies from the unit's opening day.
            set_price(unit.id, cat, max(50, buy + rng.choice([-100, 0, 0, 100])), sell)
    low = code.lower()
    net.operators[unit.id] = create_user(f"petugas_{low}", "operator", DEMO_PASSWORD, unit=unit,
                                         full_name=fake.name()).id
    create_user(f"pengurus_{low}", "unit_manager", DEMO_PASSWORD, unit=unit, full_name=fake.name())
    net.logins += [(f"petugas_{low}", DEMO_PASSWORD, f"operator {code}"),
                   (f"pengurus_{low}", DEMO_PASSWORD, f"unit_manager {code}")]
    net.units.append(unit)


def _network(rng: random.Random, fake: Faker, start_day: date) -> _Network:
    """Step 1: the aggregator, the catalogue, the units with prices and staff, the sponsor."""
    agg = create_aggregator("JAKPUS", "Yayasan Bank Sampah Jakarta Raya")
    rows = load_catalogue(default_catalogue_text())
    net = _Network(agg, {cat.code: cat for cat, _, _ in rows})
    net.logins.append(("admin", DEMO_PASSWORD, "admin"))
    create_user("admin", "admin", DEMO_PASSWORD, full_name="Admin Sistem")
    create_user("agregator", "aggregator_staff", DEMO_PASSWORD, aggregator=agg, full_name=fake.name())
    net.logins.append(("agregator", DEMO_PASSWORD, "aggregator_staff"))
    opened = datetime.combine(start_day - timedelta(days=UNIT_AGE_DAYS), time(9, 0), tzinfo=local_zone())
    for spec in UNITS:
        _open_unit(net, rows, rng, fake, spec, opened)
    sponsor = create_collaborator("CSR Hijau Nusantara")
    for unit in net.units[1:3]:
        add_sponsorship(sponsor, unit, start_day)
    create_user("kolaborator", "collaborator", DEMO_PASSWORD, collaborator=sponsor, full_name=fake.name())
    net.logins.append(("kolaborator", DEMO_PASSWORD,
                       f"collaborator ({net.units[1].code}, {net.units[2].code})"))
    return net


def _members(rng: random.Random, fake: Faker, units: list[Unit], members: int, start_day: date,
             days: int) -> list[tuple[Unit, Member, date, int]]:
    """Step 2: ``members`` members spread over ``units``; ``(unit, member, joining day,
    deposits per month)`` each. Joining days are drawn first, so that member numbers follow
    the order people joined."""
    zone = local_zone()
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
    return roster


def _deposit_plan(rng: random.Random, roster, categories: dict[str, WasteCategory], start_day: date,
                  days: int) -> list[tuple[Unit, Member, list[LineInput], datetime]]:
    """The history's deposits, ``(unit, member, lines, moment)`` in time order: on each day
    from ``start_day``, a member from their joining day on deposits with a chance of
    ``per_month / 30``, one to four lines whose categories follow ``MIX``."""
    zone = local_zone()
    codes = [c for c in MIX if c in categories]
    weights = [MIX[c][0] for c in codes]
    plan = []
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
            plan.append((unit, member, lines, moment))
    return plan


def _record(batch, operators: dict[int, int]) -> None:
    for unit, member, lines, moment in batch:
        with clock_at(moment):
            record_deposit(unit, member, lines, operator_id=operators[unit.id], idempotency_key=uuid.uuid4().hex)


def load_demo(members: int = 300, days: int = 61, seed: int = 2026,
              echo: Callable[[str], None] = print) -> list[tuple[str, str, str]]:
    """Create the demo network and history; commits, one transaction per step (the network,
    the members, each ``DEPOSIT_BATCH`` deposits). Returns ``(username, password, role)`` for
    the demo logins. Deterministic for a given ``seed`` (except the wall-clock dates)."""
    rng = random.Random(seed)
    fake = Faker("id_ID")
    fake.seed_instance(seed)
    start_day = local_today() - timedelta(days=days)
    net = run_in_transaction(lambda: _network(rng, fake, start_day))
    roster = run_in_transaction(lambda: _members(rng, fake, net.units, members, start_day, days))
    echo(f"{len(net.units)} units, {len(net.categories)} categories, {members} members")
    plan = _deposit_plan(rng, roster, net.categories, start_day, days)
    for first in range(0, len(plan), DEPOSIT_BATCH):
        run_in_transaction(partial(_record, plan[first:first + DEPOSIT_BATCH], net.operators))
    echo(f"{len(plan)} deposits over {days} days")
    return net.logins


def demo_logins() -> list[str]:
    """Usernames of the demo's users that exist in the database (empty if none)."""
    from sqlalchemy import select

    from .models import User

    names = ["admin", "agregator", "kolaborator"] + [f"{role}_{code.lower()}" for code, *_ in UNITS
                                      for role in ("petugas", "pengurus")]
    found = set(db.session.scalars(select(User.username).where(User.username.in_(names))))
    return [name for name in names if name in found]
