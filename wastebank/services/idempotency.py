"""The idempotency envelope: the one way a money-moving request is run (docs/rules.md §idempotency (I4–I6)).

Every money-moving service (deposits, withdrawals, voids, sales, stock adjustments) hands its
work to :func:`execute`, which does, in the caller's transaction:

1. **check the key** — :func:`check_key`: 8–100 characters of ``A–Z a–z 0–9 _ . : -``, else
   DomainError ``idempotency_key_required`` (field ``Idempotency-Key``). This is the only place
   a key is validated: the API, the counter forms and the CLI all reach it through the services.
2. **hash the request** — :func:`request_hash`: SHA-256 of the operation name and the
   *canonical* request (parsed and normalised, so that ``1,5`` and ``1.5`` are the same request).
3. **replay** — a key already stored at the unit answers its stored ``(status, body)`` as an
   :class:`Outcome` with ``replayed=True`` and the work is not run; the same key with another
   operation or request raises IdempotencyConflict (409 ``idempotency_key_reused``).
4. **work** — the service's ``work()`` posts and returns ``(status, body)``: 200/201/202 for a
   success, or a *stored refusal* such as ``(409, {"error": {...}})`` for insufficient savings,
   which is remembered like a success so that a replay stays refused
   (docs/rules.md §idempotency (I6)). A DomainError raised by the work is not remembered: nothing is
   written and the key stays free.
5. **remember** — :func:`remember` stores ``(status, body)`` under the key in the same
   transaction; a concurrent twin fails on the unique constraint at flush, ``run_in_transaction``
   retries it, and the retry replays this answer.
6. **outcome** — :class:`Outcome` ``(status, body, replayed=False)``.

Shapes: ``status`` an HTTP status int; ``body`` a JSON-able dict (rupiah as ints, quantities in
thousandths), stored as sorted JSON in ``idempotency_record.response_body``.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Callable

from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, insert, select

from ..models import IdempotencyRecord, Unit, utcnow
from .errors import DomainError, IdempotencyConflict
from .transaction import RunAgain, prepared, run_core

MAX_KEY_LENGTH = 100
_KEY = re.compile(r"[A-Za-z0-9_.:-]+")


@dataclass(frozen=True)
class Outcome:
    """A money-moving request's answer: HTTP status, JSON body, and whether it was a replay."""

    status: int
    body: dict
    replayed: bool


def request_hash(operation: str, canonical: dict) -> str:
    """SHA-256 hex of the operation name and its canonical (parsed, normalised) request."""
    payload = json.dumps({"op": operation, "req": canonical}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(payload.encode()).hexdigest()


def check_key(key: str | None) -> str:
    """Validate a client-supplied key: 8–100 characters from ``A–Z a–z 0–9 - _ . :``.
    Returns it stripped. (A comma would mean two Idempotency-Key headers joined by the server.)

    Raises DomainError (code ``idempotency_key_required``) when missing or malformed.
    """
    key = (key or "").strip()
    if not 8 <= len(key) <= MAX_KEY_LENGTH or not _KEY.fullmatch(key):
        raise DomainError(_l("A unique request key (8–100 characters) is required."),
                          field="Idempotency-Key", code="idempotency_key_required")
    return key


def _record_select(_dialect: str):
    table = IdempotencyRecord.__table__
    return (select(table.c.operation, table.c.request_hash, table.c.status_code, table.c.response_body)
            .where(table.c.unit_id == bindparam("unit_id"), table.c.key == bindparam("key")))


def _record(unit_id: int, key: str):
    """The stored answer of ``key`` at ``unit_id`` as a row (``operation``, ``request_hash``,
    ``status_code``, ``response_body``), or None. Core, built once: every money request asks."""
    return run_core(prepared("idempotency.record", _record_select), {"unit_id": unit_id, "key": key}).first()


def key_used(unit_id: int, key: str | None) -> bool:
    """True when ``key`` (as the client sent it) already stores an answer at ``unit_id``.

    For a caller that must find the request's subject in the state it had at the first
    request (a member deactivated since is still found for a replay). Does not validate the
    key: a malformed one is simply not used, and :func:`execute` refuses it.
    """
    key = (key or "").strip()
    return bool(key) and _record(unit_id, key) is not None


def saved_answer(unit_id: int, key: str | None, operation: str) -> dict | None:
    """The body stored under ``key`` at ``unit_id`` when it recorded ``operation`` (a 2xx
    answer), whatever the request was; else None (a new key, another operation, a stored
    refusal). For a form sent again with the same key and other values (a correction after a
    lost reply): its page names what was saved the first time instead of inviting a second
    record (a tester saved a sale twice so)."""
    key = (key or "").strip()
    # A key no client could have used (a form field or an address as sent: any text, a NUL
    # byte PostgreSQL refuses in a query) names nothing saved.
    well_formed = 8 <= len(key) <= MAX_KEY_LENGTH and _KEY.fullmatch(key) is not None
    record = _record(unit_id, key) if well_formed else None
    if record is None or record.operation != operation or not 200 <= record.status_code < 300:
        return None
    return json.loads(record.response_body)


def replay(unit_id: int, key: str, operation: str, digest: str) -> tuple[int, dict] | None:
    """The stored ``(status, body)`` for ``key`` at ``unit_id``, or None if the key is new.

    Raises IdempotencyConflict when the key was used for another operation or request.
    """
    record = _record(unit_id, key)
    if record is None:
        return None
    if record.operation != operation or record.request_hash != digest:
        raise IdempotencyConflict()
    return record.status_code, json.loads(record.response_body)


def remember(unit_id: int, key: str, operation: str, digest: str, status: int, body: dict,
             user_id: int | None) -> None:
    """Store the outcome under ``key`` in the current transaction (Core: written at once). A
    concurrent twin fails on the unique constraint here; the caller retries and then replays
    this outcome."""
    table = IdempotencyRecord.__table__
    run_core(prepared("idempotency.insert", lambda _: insert(table)), dict(
        unit_id=unit_id, key=key, operation=operation, request_hash=digest, status_code=status,
        response_body=json.dumps(body, sort_keys=True), user_id=user_id, created_at=utcnow()))


def refuse_unless_used(unit_id: int, key: str, operation: str, canonical: dict, status: int, body: dict,
                       *, user_id: int | None):
    """Settle ``key`` at ``unit_id`` for good without running any work: when the key is still
    free, store the refusal ``(status, body)`` under it as ``operation`` with the request hash of
    ``canonical`` (a request no client sends) and return None; when it is used already, return
    its stored row (``operation``, ``request_hash``, ``status_code``, ``response_body``) and
    change nothing.

    For a tablet that cancelled a request whose answer it never got
    (``withdrawals.cancel_unsent``): a late arrival of the original request then finds the key
    stored with another request and is refused (409 ``idempotency_key_reused``, see
    :func:`replay`), never run. The unique key decides a race with that original: whichever
    commits first wins, the other fails on the constraint at its insert and its retry sees the
    winner's row. Flushes, never commits."""
    record = _record(unit_id, key)
    if record is not None:
        return record
    remember(unit_id, key, operation, request_hash(operation, canonical), status, body, user_id)
    return None


Work = Callable[[], "tuple[int, dict]"]


def execute(unit: Unit, key: str | None, operation: str, canonical_request: dict | Callable[[], dict],
            work: Work, *, user_id: int | None) -> Outcome:
    """Run ``work`` at most once per ``key`` at ``unit`` (the envelope, see the module docstring).

    ``operation`` names the kind of request (``deposit``, ``withdrawal``, ``void_deposit``,
    ``void_withdrawal``, ``sale``, ``stock_adjust``); ``canonical_request`` is the normalised
    request, or a function returning it — called after the key is checked, for a request that
    must be validated before it can be normalised. ``work()`` returns ``(status, body)``; a
    stored refusal is returned, not raised. ``user_id`` is recorded with the answer.

    Flushes, never commits. Raises DomainError ``idempotency_key_required``,
    IdempotencyConflict, and whatever ``canonical_request`` or ``work`` raise (nothing is then
    remembered); RunAgain (transient) instead of the work's DomainError when the key is found
    stored by then.
    """
    key = check_key(key)
    canonical = canonical_request() if callable(canonical_request) else canonical_request
    digest = request_hash(operation, canonical)
    stored = replay(unit.id, key, operation, digest)
    if stored is not None:
        return Outcome(stored[0], stored[1], True)
    try:
        status, body = work()
    except DomainError:
        # The key was looked up before the work's first write. A deposit on SQLite then writes
        # at a newer snapshot (db_setup.fresh_snapshot_for_writes), as every statement does
        # under PostgreSQL's READ COMMITTED: a twin of this key may have committed in between,
        # and a refusal decided since (the day closed after the twin) is not this key's answer,
        # the twin's is. Looked up again (one statement, refusals only): run again and replay.
        if _record(unit.id, key) is not None:
            raise RunAgain() from None
        raise
    remember(unit.id, key, operation, digest, status, body, user_id)
    return Outcome(status, body, False)
