"""Fetch one object within the caller's scope, or answer "not found" — the one way to do it.

In the spirit of flaskr's ``get_post(id, check_author)``: every view, API call and service that
looks up one record by an id or number from the request goes through :func:`in_unit` (or
:func:`member_in_unit`), so another unit's record is indistinguishable from a missing one (404,
never 403: a 403 would confirm that the id exists elsewhere; docs/rules.md "Scope").

Lists are not fetched here: a query over many rows filters by ``unit_id`` itself, and
``auth.permissions.visible_unit_ids`` gives the units a user may see.
"""
from __future__ import annotations

from typing import Any, TypeVar

from flask_babel import lazy_gettext as _l
from sqlalchemy import String, cast, func, literal, select

from ..extensions import db
from ..models import Account, Member
from .errors import NotFound

T = TypeVar("T")

_NOT_FOUND = _l("Not found.")


def in_unit(model: type[T], unit_id: int | None, ident: Any = None, **where: Any) -> T:
    """The ``model`` row of unit ``unit_id`` with primary key ``ident`` (if given) and the
    column values in ``where`` (``number="W-0001"``).

    Raises NotFound (404) when there is none, when it belongs to another unit, or when
    ``unit_id`` is None (a user without a unit sees no unit's records).
    """
    if unit_id is None:
        raise NotFound(_NOT_FOUND)
    query = select(model).where(model.unit_id == unit_id)  # type: ignore[attr-defined]
    if ident is not None:
        query = query.where(model.id == ident)  # type: ignore[attr-defined]
    for column, value in where.items():
        query = query.where(getattr(model, column) == value)
    found = db.session.scalar(query)
    if found is None:
        raise NotFound(_NOT_FOUND)
    return found


def member_in_unit(unit_id: int | None, member_no: str) -> Member:
    """The member of unit ``unit_id`` whose number is ``member_no``, compared without regard to
    case (``rw05-0001`` finds ``RW05-0001``: numbers are typed on tablets and read off cards).

    For the forgiving search an operator types at the counter (``12``, a card URL) use
    ``services.members.find_member``; this is the exact lookup behind a URL.

    Raises NotFound (404) when there is none in that unit.
    """
    if unit_id is None or not member_no:
        raise NotFound(_NOT_FOUND)
    found = db.session.scalar(select(Member).where(
        Member.unit_id == unit_id, func.upper(Member.member_no) == member_no.upper()))
    if found is None:
        raise NotFound(_NOT_FOUND)
    return found


def savings_key(member_id):
    """SQL of a member's savings account key, ``'savings:' || member id`` (the key
    ``ledger.member_savings_account`` gives the account), for joining a member to its savings."""
    return literal("savings:") + cast(member_id, String)


def member_in_unit_with_savings(unit_id: int | None, member_no: str) -> tuple[Member, int | None, int]:
    """:func:`member_in_unit` and the member's savings in the same query (issue 13 item 3):
    ``(member, savings account id or None when the member has none yet, balance in rupiah)``.
    Raises NotFound (404) as :func:`member_in_unit` does."""
    if unit_id is None or not member_no:
        raise NotFound(_NOT_FOUND)
    row = db.session.execute(
        select(Member, Account.id, Account.balance)
        .outerjoin(Account, (Account.unit_id == Member.unit_id) & (Account.key == savings_key(Member.id)))
        .where(Member.unit_id == unit_id, func.upper(Member.member_no) == member_no.upper())).first()
    if row is None:
        raise NotFound(_NOT_FOUND)
    member, account_id, balance = row
    return member, account_id, balance or 0
