"""What every admin command shares: the error exit, look-ups by code, one write."""
from __future__ import annotations

import sys
from typing import Callable, NoReturn, TypeVar

import click
from sqlalchemy import select

from ..extensions import db
from ..models import Aggregator, Unit, User
from ..services.errors import DomainError
from ..services.transaction import run_in_transaction

T = TypeVar("T")


def fail(message: str) -> NoReturn:
    """Print ``error: message`` on stderr and exit with status 1."""
    click.echo(f"error: {message}", err=True)
    sys.exit(1)


def unit_by_code(code: str) -> Unit:
    """The unit with ``code`` (any case), or :func:`fail`."""
    unit = db.session.scalar(select(Unit).where(Unit.code == code.upper()))
    if unit is None:
        fail(f"no unit {code!r}")
    return unit


def aggregator_by_code(code: str) -> Aggregator:
    """The aggregator with ``code`` (any case), or :func:`fail`."""
    aggregator = db.session.scalar(select(Aggregator).where(Aggregator.code == code.upper()))
    if aggregator is None:
        fail(f"no aggregator {code!r}")
    return aggregator


def collaborator_by_name(name: str):
    """The collaborator (sponsor) called ``name`` exactly, or :func:`fail`."""
    from ..models.collab import Collaborator

    found = db.session.scalar(select(Collaborator).where(Collaborator.name == name))
    if found is None:
        fail(f"no collaborator {name!r}")
    return found


def user_by_name(username: str, *, active: bool = False) -> User:
    """The user ``username`` (only an active one with ``active``), or :func:`fail`."""
    found = db.session.scalar(select(User).where(User.username == username))
    if found is None or (active and not found.active):
        fail(f"no {'active ' if active else ''}user {username!r}")
    return found


def write(operation: Callable[[], T]) -> T:
    """Run ``operation`` as one transaction (``services.transaction.run_in_transaction``) and
    return its result. A refusal — a DomainError or a ValueError from a service — rolls back,
    prints its message and exits with status 1."""
    try:
        return run_in_transaction(operation)
    except (DomainError, ValueError) as exc:
        fail(str(getattr(exc, "message", exc)))
