"""Aggregators, units and users."""
from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..auth.passwords import hash_password
from ..extensions import db
from ..models import ROLES, Aggregator, Unit, User
from ..money import InputError
from .audit import audit
from .ledger import system_account

UNIT_SYSTEM_ACCOUNTS = ("cash", "fee_income", "trading_margin", "stock_writeoff", "opening_equity")
_CODE = re.compile(r"^[A-Z0-9][A-Z0-9-]{1,19}$")


def parse_fee_percent(text: str) -> int:
    """``"2,5"`` percent → 250 basis points; 0–30 % (SPEC §3). Raises InputError."""
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
                created_by_id: int | None = None) -> User:
    """Create a user. Operators and unit managers need a unit, aggregator staff an aggregator.

    Raises ValueError for an unknown role, a missing scope, a short password or a taken name.
    """
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")
    if role in ("operator", "unit_manager") and unit is None:
        raise ValueError(f"role {role} needs --unit")
    if role == "aggregator_staff" and aggregator is None:
        raise ValueError("role aggregator_staff needs --aggregator")
    if len(password) < 8:
        raise ValueError("password must have at least 8 characters")
    if db.session.scalar(select(User.id).where(User.username == username)) is not None:
        raise ValueError(f"username {username!r} is taken")
    user = User(username=username, role=role, password_hash=hash_password(password),
                unit_id=unit.id if unit else None, aggregator_id=aggregator.id if aggregator else None,
                full_name=full_name, active=True, session_version=1)
    db.session.add(user)
    db.session.flush()
    audit("user.create", unit_id=user.unit_id, user_id=created_by_id, object_type="user", object_id=username,
          details={"role": role, "unit_id": user.unit_id, "aggregator_id": user.aggregator_id,
                   "full_name": full_name})
    return user
