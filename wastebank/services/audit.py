"""The audit log (issue 4 item 6): who did what, when, from which device.

One row per change to members, cards, prices, users and settings, and per money or stock
movement, written in the same transaction as the change (so a rolled-back operation leaves no
audit row, and a committed one always has its row). Append-only: the database refuses UPDATE
and DELETE of ``audit_log`` (migration 0002 triggers).
"""
from __future__ import annotations

import json
from datetime import date, datetime

from flask import has_request_context, request
from sqlalchemy import select

from ..extensions import db
from ..models import AuditLog

MAX_DEVICE = 300


def current_device() -> str:
    """``"<user agent> @ <remote address>"`` of the current request, or ``"cli"`` outside one."""
    if not has_request_context():
        return "cli"
    agent = request.headers.get("User-Agent", "")
    return f"{agent or '-'} @ {request.remote_addr or '-'}"[:MAX_DEVICE]


def _json_default(value):
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return str(value)


def audit(action: str, *, unit_id: int | None, user_id: int | None, object_type: str = "",
          object_id: str | int = "", details: dict | None = None, device: str | None = None) -> AuditLog:
    """Append one audit row in the current transaction and flush it.

    ``action`` is a dotted verb such as ``deposit.record`` or ``price.set``; ``details`` a
    JSON-able dict (rupiah as ints, quantities in thousandths); ``device`` defaults to
    ``current_device()``. Returns the AuditLog row. Never commits.
    """
    row = AuditLog(unit_id=unit_id, user_id=user_id, action=action[:50], object_type=object_type[:30],
                   object_id=str(object_id)[:60],
                   details=json.dumps(details or {}, sort_keys=True, ensure_ascii=False,
                                      default=_json_default),
                   device=(device if device is not None else current_device())[:MAX_DEVICE])
    db.session.add(row)
    db.session.flush()
    return row


def audit_entries(unit_ids: list[int] | None, *, limit: int = 200, offset: int = 0,
                  action_prefix: str = "") -> list[AuditLog]:
    """Audit rows newest first, limited to ``unit_ids`` (None = every unit and rows without a
    unit, for admins). ``action_prefix`` filters on the action (``"sale"`` → ``sale.*``)."""
    stmt = select(AuditLog).order_by(AuditLog.created_at.desc(), AuditLog.id.desc())
    if unit_ids is not None:
        stmt = stmt.where(AuditLog.unit_id.in_(unit_ids))
    if action_prefix:
        stmt = stmt.where(AuditLog.action.like(f"{action_prefix}%"))
    return list(db.session.scalars(stmt.limit(limit).offset(offset)))
