"""Fetch one object within the caller's scope, or answer "not found" — the one way to do it.

In the spirit of flaskr's ``get_post(id, check_author)``: every view, API call and service that
looks up one record by an id or number from the request goes through :func:`in_unit` (or
:func:`member_in_unit`), so another unit's record is indistinguishable from a missing one (404,
never 403: a 403 would confirm that the id exists elsewhere; docs/rules.md "Scope").

Lists are not fetched here: a query over many rows filters by ``unit_id`` itself, and
``auth.permissions.visible_unit_ids`` gives the units a user may see.

A row already fetched is changed or removed by its tenant key too (:func:`update_in_unit`,
:func:`delete_in_unit`): the ORM's own flush writes ``WHERE id = ?`` alone, a statement that
Citus would send to every shard (docs/scaling.md §tenant-keys).
"""
from __future__ import annotations

from typing import Any, TypeVar

from flask_babel import lazy_gettext as _l
from sqlalchemy import String, cast, delete, func, literal, select, update
from sqlalchemy.orm.attributes import set_committed_value

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


def update_in_unit(record: Any, **values: Any) -> None:
    """Write ``values`` (column name → value) on ``record``'s row with one Core ``UPDATE …
    WHERE id = :id AND unit_id = :unit_id`` and set them on the instance as loaded, so the ORM's
    flush writes nothing more for them and nothing is read back. ``record`` is a persistent row
    of a table with ``unit_id`` whose other attributes are unchanged (a pending change would
    still be flushed by the ORM, by ``id`` alone).

    Raises NotFound when no row of ``record``'s unit has its id (it was deleted meanwhile)."""
    table = type(record).__table__
    done = db.session.execute(update(table).where(table.c.id == record.id, table.c.unit_id == record.unit_id)
                              .values(**values))
    if done.rowcount != 1:
        raise NotFound(_NOT_FOUND)
    for column, value in values.items():
        set_committed_value(record, column, value)


def delete_in_unit(record: Any) -> None:
    """Delete ``record``'s row with one Core ``DELETE … WHERE id = :id AND unit_id = :unit_id``
    and take the instance out of the session (the ORM's delete would go by ``id`` alone).
    ``record`` has no dependent rows the ORM would cascade to. Raises NotFound when no row of
    its unit has its id."""
    table = type(record).__table__
    done = db.session.execute(delete(table).where(table.c.id == record.id, table.c.unit_id == record.unit_id))
    if done.rowcount != 1:
        raise NotFound(_NOT_FOUND)
    db.session.expunge(record)


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
