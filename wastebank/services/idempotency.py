"""Idempotency keys for money-moving requests (SPEC §3, LEDGER.md I4–I6)."""
from __future__ import annotations

import hashlib
import re
import json

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..extensions import db
from ..models import IdempotencyRecord
from .errors import DomainError, IdempotencyConflict

MAX_KEY_LENGTH = 100
_KEY = re.compile(r"[A-Za-z0-9_.:-]+")


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


def replay(unit_id: int, key: str, operation: str, digest: str) -> tuple[int, dict] | None:
    """The stored ``(status, body)`` for ``key`` at ``unit_id``, or None if the key is new.

    Raises IdempotencyConflict when the key was used for another operation or request.
    """
    record = db.session.scalar(select(IdempotencyRecord).where(
        IdempotencyRecord.unit_id == unit_id, IdempotencyRecord.key == key))
    if record is None:
        return None
    if record.operation != operation or record.request_hash != digest:
        raise IdempotencyConflict()
    return record.status_code, json.loads(record.response_body)


def remember(unit_id: int, key: str, operation: str, digest: str, status: int, body: dict,
             user_id: int | None) -> None:
    """Store the outcome under ``key`` in the current transaction. A concurrent twin fails on
    the unique constraint at flush; the caller retries and then replays this outcome."""
    db.session.add(IdempotencyRecord(
        unit_id=unit_id, key=key, operation=operation, request_hash=digest, status_code=status,
        response_body=json.dumps(body, sort_keys=True), user_id=user_id))
    db.session.flush()
