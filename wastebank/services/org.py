"""Aggregators, units and users."""
from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..auth.passwords import hash_password
from ..extensions import db
from ..models import ROLES, Aggregator, Collaborator, Sponsorship, Unit, User
from ..money import InputError
from .audit import audit
from .ledger import system_account

UNIT_SYSTEM_ACCOUNTS = ("cash", "fee_income", "trading_margin", "stock_writeoff", "opening_equity")
_CODE = re.compile(r"^[A-Z0-9][A-Z0-9-]{1,19}$")


def parse_fee_percent(text: str) -> int:
    """``"2,5"`` percent → 250 basis points; 0–30 % (docs/rules.md §fees). Raises InputError."""
    raw = str(text).strip().replace(",", ".").rstrip("%").strip()
    match = re.fullmatch(r"(\d{1,2})(?:\.(\d{1,2}))?", raw)
    if not match:
        raise InputError(_l("Enter a percentage between 0 and 30, e.g. 2,5."))
    bp = int(match.group(1)) * 100 + int((match.group(2) or "0").ljust(2, "0"))
    if bp > 3000:
        raise InputError(_l("Enter a percentage between 0 and 30, e.g. 2,5."))
    return bp


def _code(code: str) -> str:
    code = code.strip().upper()
    if not _CODE.match(code):
        raise ValueError(f"code {code!r}: 2–20 letters, digits or dashes")
    return code


def create_aggregator(code: str, name: str) -> Aggregator:
    """Create an aggregator. Raises ValueError for a malformed code."""
    agg = Aggregator(code=_code(code), name=name.strip())
    db.session.add(agg)
    db.session.flush()
    return agg


def create_unit(code: str, name: str, *, aggregator: Aggregator | None = None, **fields) -> Unit:
    """Create a unit with its system accounts (cash, fee income, trading margin, stock
    write-offs, opening balances). Raises ValueError for a malformed code."""
    unit = Unit(code=_code(code), name=name.strip(), aggregator_id=aggregator.id if aggregator else None,
                **fields)
    db.session.add(unit)
    db.session.flush()
    for kind in UNIT_SYSTEM_ACCOUNTS:
        system_account(unit.id, kind)
    return unit


def create_user(username: str, role: str, password: str, *, unit: Unit | None = None,
                aggregator: Aggregator | None = None, full_name: str = "",
                created_by_id: int | None = None, collaborator=None) -> User:
    """Create a user. Operators and unit managers need a unit, aggregator staff an aggregator,
    collaborators a ``Collaborator`` (the sponsor whose impact they see).

    Raises ValueError for an unknown role, a missing scope, a short password or a taken name.
    """
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")
    if role in ("operator", "unit_manager") and unit is None:
        raise ValueError(f"role {role} needs --unit")
    if role == "aggregator_staff" and aggregator is None:
        raise ValueError("role aggregator_staff needs --aggregator")
    if role == "collaborator" and collaborator is None:
        raise ValueError("role collaborator needs --collaborator")
    if len(password) < 8:
        raise ValueError("password must have at least 8 characters")
    if db.session.scalar(select(User.id).where(User.username == username)) is not None:
        raise ValueError(f"username {username!r} is taken")
    user = User(username=username, role=role, password_hash=hash_password(password),
                unit_id=unit.id if unit else None, aggregator_id=aggregator.id if aggregator else None,
                full_name=full_name, active=True, session_version=1,
                collaborator_id=collaborator.id if collaborator is not None and role == "collaborator" else None)
    db.session.add(user)
    db.session.flush()
    audit("user.create", unit_id=user.unit_id, user_id=created_by_id, object_type="user", object_id=username,
          details={"role": role, "unit_id": user.unit_id, "aggregator_id": user.aggregator_id,
                   "full_name": full_name})
    return user


def create_collaborator(name: str) -> Collaborator:
    """Register a sponsor (kolaborator). Raises ValueError for an empty or taken name."""
    name = " ".join((name or "").split())
    if not name:
        raise ValueError("the collaborator needs a name")
    if db.session.scalar(select(Collaborator.id).where(Collaborator.name == name)) is not None:
        raise ValueError(f"collaborator {name!r} exists")
    collaborator = Collaborator(name=name)
    db.session.add(collaborator)
    db.session.flush()
    audit("collaborator.create", unit_id=None, user_id=None, object_type="collaborator",
          object_id=str(collaborator.id), details={"name": name})
    return collaborator


def add_sponsorship(collaborator, unit: Unit, start, end=None) -> Sponsorship:
    """``collaborator`` sponsors ``unit`` from local date ``start`` to ``end`` (inclusive, None =
    open-ended). Raises ValueError when ``end`` is before ``start``."""
    if end is not None and end < start:
        raise ValueError("the sponsorship ends before it starts")
    sponsorship = Sponsorship(collaborator_id=collaborator.id, unit_id=unit.id, start_date=start, end_date=end)
    db.session.add(sponsorship)
    db.session.flush()
    audit("sponsorship.create", unit_id=unit.id, user_id=None, object_type="collaborator",
          object_id=str(collaborator.id),
          details={"start": start.isoformat(), "end": end.isoformat() if end else None})
    return sponsorship
