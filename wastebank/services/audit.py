"""The audit log (issue 4 item 6): who did what, when, from which device.

One row per change to members, cards, prices, users and settings, and per money or stock
movement, written in the same transaction as the change (so a rolled-back operation leaves no
audit row, and a committed one always has its row). Append-only: the database refuses UPDATE
and DELETE of ``audit_log`` (migration 0002 triggers).

Every action written here has its label in ``ACTION_LABELS`` (the one table the audit screen,
its CSV and tests/test_audit_log.py read; docs/audit-log.md). A new action needs a label there.
"""
from __future__ import annotations

import json
from datetime import date, datetime

from flask import has_request_context, request
from flask_babel import lazy_gettext as _l
from sqlalchemy import insert, select

from ..extensions import db
from ..models import AuditLog, utcnow
from ..timeutil import local_day_bounds
from .transaction import prepared, run_core

MAX_DEVICE = 300

#: Every action the code writes → its label for people (Indonesian and English). The audit
#: screen shows the label, filters by the code, and falls back to the code for an unknown one.
ACTION_LABELS = {
    "deposit.record": _l("Deposit recorded"),
    "void.deposit": _l("Deposit voided"),
    "withdrawal.request": _l("Withdrawal requested (awaiting approval)"),
    "withdrawal.approve": _l("Withdrawal approved"),
    "withdrawal.reject": _l("Withdrawal rejected"),
    "withdrawal.pay": _l("Withdrawal paid"),
    "void.withdrawal": _l("Withdrawal voided"),
    "withdrawal.cancel_unsent": _l("Withdrawal cancelled on the tablet: not recorded"),
    "withdrawal.cancel_reported": _l("Withdrawal cancelled on the tablet after it was recorded: cash not handed over"),
    "member.create": _l("Member registered"),
    "member.update": _l("Member details changed"),
    "member.deactivate": _l("Member deactivated"),
    "member.reactivate": _l("Member reactivated"),
    "member.pin_set": _l("Self-service PIN set"),
    "member.pin_clear": _l("Self-service PIN removed"),
    "member.import": _l("Member list imported"),
    "member.renumber": _l("Member number changed"),
    "card.issue": _l("Member card issued"),
    "card.revoke": _l("Member card revoked"),
    "card.print_confirm": _l("Member cards marked printed"),
    "price.set": _l("Price set"),
    "stock.adjust": _l("Stock adjusted"),
    "offtaker.create": _l("Off-taker registered"),
    "sale.record": _l("Sale recorded"),
    "day.close": _l("Day closed"),
    "day.reopen": _l("Closed day reopened (daily books)"),
    "unit.require_pin": _l("Self-service PIN setting changed"),
    "unit.notify": _l("Notification setting changed"),
    "member.notify_consent": _l("Member's consent to messages changed"),
    "unit.public_page": _l("Public page settings changed"),
    "user.create": _l("User account created"),
    "user.deactivate": _l("User account deactivated"),
    "token.revoke": _l("Access token revoked"),
    "collaborator.create": _l("Collaborator registered"),
    "sponsorship.create": _l("Sponsorship added"),
    "export.levy": _l("Levy-exemption list downloaded"),
    "month.lock": _l("Month closed (books locked)"),
    "month.unlock": _l("Closed month unlocked (monthly books)"),
    "container.create": _l("Container added"),
    "container.update": _l("Container changed"),
}


def action_label(action: str) -> str:
    """The label of ``action`` in the current locale (the code itself when it has none)."""
    label = ACTION_LABELS.get(action)
    return str(label) if label is not None else action


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
          object_id: str | int = "", details: dict | None = None, device: str | None = None) -> None:
    """Append one audit row in the current transaction (written at once; when statements are
    sent together, transaction.send_together, its answer is not waited for).

    ``action`` is a dotted verb such as ``deposit.record`` or ``price.set``; ``details`` a
    JSON-able dict (rupiah as ints, quantities in thousandths); ``device`` defaults to
    ``current_device()``. Returns nothing: nobody in the request reads the row back. Never
    commits.
    """
    values = dict(unit_id=unit_id, user_id=user_id, action=action[:50], object_type=object_type[:30],
                  object_id=str(object_id)[:60],
                  details=json.dumps(details or {}, sort_keys=True, ensure_ascii=False, default=_json_default),
                  device=(device if device is not None else current_device())[:MAX_DEVICE], created_at=utcnow())
    # Core, not the ORM's unit of work: an append-only row nobody in this request reads back.
    table = AuditLog.__table__
    # No ORM instance (a constructor inside the SQLite writer lock) and no RETURNING.
    run_core(prepared("audit.insert", lambda _: insert(table)), values)


def audit_entries(unit_ids: list[int] | None, *, limit: int = 200, offset: int = 0,
                  action_prefix: str = "", action: str = "", user_id: int | None = None,
                  day: date | None = None) -> list[AuditLog]:
    """Audit rows newest first, limited to ``unit_ids`` (None = every unit and rows without a
    unit, for admins). ``action`` filters on one action code exactly, ``action_prefix`` on a
    family (``"sale"`` → ``sale.*``); ``user_id`` on who did it; ``day`` on the local calendar
    day (``Asia/Jakarta``) of ``created_at``."""
    stmt = select(AuditLog).order_by(AuditLog.created_at.desc(), AuditLog.id.desc())
    if unit_ids is not None:
        stmt = stmt.where(AuditLog.unit_id.in_(unit_ids))
    if action:
        stmt = stmt.where(AuditLog.action == action)
    if action_prefix:
        # LIKE wildcards in the typed text are literal: "sale_%" must not match "sale.record".
        escaped = action_prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        stmt = stmt.where(AuditLog.action.like(f"{escaped}%", escape="\\"))
    if user_id is not None:
        stmt = stmt.where(AuditLog.user_id == user_id)
    if day is not None:
        start, end = local_day_bounds(day)
        stmt = stmt.where(AuditLog.created_at >= start, AuditLog.created_at < end)
    return list(db.session.scalars(stmt.limit(limit).offset(offset)))
