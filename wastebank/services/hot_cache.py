"""Per-process caches of the deposit hot path (issue 13 item 1), valid across gunicorn workers.

What is cached changes rarely: account identities (an account's id, kind and side never change
once created), the catalogue and a unit's price list of a day. The catalogue and prices are
keyed by ``unit.cache_version``, which :func:`_bump_versions` raises in the same transaction
as any ORM change to a ``Price`` (that unit) or a ``WasteCategory`` (every unit). The unit row
is read with the caller anyway (the bearer token's joined query), so a worker sees a change at
its next request, whichever worker made it.

Entries are staged in the session and published only when its transaction commits, so an
account created, or a price read, in a transaction that rolls back is never cached. The store
lives in ``current_app.extensions`` (one per app, so a test's fresh database gets a fresh one).
Values are plain tuples, dicts and frozen rows (``CategoryRow``), never ORM objects shared
between sessions.
"""
from __future__ import annotations

import secrets
from itertools import chain

from flask import current_app, has_app_context
from sqlalchemy import event, inspect, update
from sqlalchemy.orm import Session, make_transient_to_detached

from ..extensions import db
from ..models import Price, Unit, WasteCategory

_STAGED = "wastebank_hot_cache_staged"
_STORE = "wastebank_hot_cache"


def _store() -> dict:
    return current_app.extensions.setdefault(_STORE, {})


def clear() -> None:
    """Forget every cached value of this app (after its database was replaced underneath it,
    e.g. restored from a backup: account ids may then name other accounts)."""
    if has_app_context():
        _store().clear()


def get(key: tuple):
    """The cached value of ``key`` (committed, or staged by this transaction), or None."""
    if not has_app_context():
        return None
    staged = db.session.info.get(_STAGED)
    if staged and key in staged:
        return staged[key]
    return _store().get(key)


def put(key: tuple, value) -> None:
    """Cache ``value`` under ``key`` once the current transaction commits."""
    if has_app_context():
        db.session.info.setdefault(_STAGED, {})[key] = value


def in_session(model, values: dict):
    """The session's instance of the ``model`` row whose columns ``values`` holds (a cached
    row, or one just inserted with Core), without a query: the instance already in the
    identity map when it is loaded; an expired one refilled from ``values``
    (``merge(load=False)``); else a new instance attached as if just loaded, so that nothing
    is flushed for it. ``values`` must include the primary key ``id``."""
    existing = db.session.identity_map.get(inspect(model).identity_key_from_primary_key([values["id"]]))
    if existing is not None and "id" in existing.__dict__:
        return existing
    instance = model(**values)
    make_transient_to_detached(instance)
    if existing is not None:
        return db.session.merge(instance, load=False)
    db.session.add(instance)
    return instance


@event.listens_for(Session, "after_commit")
def _publish(session) -> None:
    staged = session.info.pop(_STAGED, None)
    if staged and has_app_context():
        _store().update(staged)


@event.listens_for(Session, "after_rollback")
def _discard(session) -> None:
    session.info.pop(_STAGED, None)


@event.listens_for(Session, "before_flush")
def _bump_versions(session, _context, _instances) -> None:
    """Raise ``cache_version`` of the units whose prices change, or of every unit when a
    category changes, in the flushing transaction."""
    units: set[int] = set()
    every = False
    for obj in chain(session.new, session.dirty, session.deleted):
        if isinstance(obj, WasteCategory):
            every = True
        elif isinstance(obj, Price):
            if obj.unit_id is None:
                every = True
            else:
                units.add(obj.unit_id)
    if not (every or units):
        return
    # A fresh random version rather than + 1: a database restored from a backup (or a test
    # that swaps its database under a running app) and changed again must not reach a version
    # number that a worker already cached for other prices.
    version = secrets.randbelow(2**31 - 2) + 1
    stmt = update(Unit).values(cache_version=version).execution_options(synchronize_session=False)
    if not every:
        stmt = stmt.where(Unit.id.in_(units))
    session.execute(stmt)
    for obj in list(session.identity_map.values()):
        if isinstance(obj, Unit) and (every or obj.id in units):
            session.expire(obj, ["cache_version"])
