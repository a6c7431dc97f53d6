"""Month lock screens (*tutup buku*, issue 12 item 6; docs/month-lock.md).

* The aggregator statement screen shows the shown month's lock state per unit, a "Tutup buku"
  button with a confirmation (aggregator staff, admins) and, for admins, an unlock form with a
  reason (``statements/_month_lock.html``, given :func:`month_lock_state` as a template global).
* ``/month-lock``: the same for a unit manager whose unit has no aggregator (linked from the
  manager screen), and for admins with ``?unit=CODE``.

Every POST checks scope and role itself; another aggregator's or unit's code answers 404.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from ..auth.permissions import has_permission, require
from ..extensions import db
from ..models import Aggregator, MonthLock, Unit, User, utcnow
from ..reports.statements import parse_month, readable_aggregator
from ..services.errors import DomainError
from ..services.month_close import lock_month, may_lock, units_of, unlock_month
from ..services.month_lock import locks_for, month_label
from ..services.transaction import run_in_transaction
from ..timeutil import format_local, local_month_bounds, local_today
from . import bp


@dataclass
class UnitLockRow:
    code: str
    name: str
    lock: MonthLock | None
    locked_text: str = ""


@dataclass
class MonthLockState:
    """What the lock panel shows for one month and a set of units."""

    month_text: str           # "2026-11"
    label: str                # "November 2026"
    rows: list[UnitLockRow] = field(default_factory=list)
    month_over: bool = False
    can_lock: bool = False
    can_unlock: bool = False
    aggregator_code: str = ""
    unit_code: str = ""

    @property
    def all_locked(self) -> bool:
        return bool(self.rows) and all(row.lock for row in self.rows)

    @property
    def any_locked(self) -> bool:
        return any(row.lock for row in self.rows)


def _who(user_id: int | None) -> str:
    user = db.session.get(User, user_id) if user_id else None
    return user.display_name if user else _("the command line")


def month_lock_state(*, month_text: str, aggregator: Aggregator | None = None,
                     unit: Unit | None = None) -> MonthLockState | None:
    """The lock state of ``month_text`` (``YYYY-MM``) for every unit of ``aggregator`` or for the
    standalone ``unit``, with what the current user may do; None for a malformed month."""
    try:
        year, month = parse_month(month_text)
    except ValueError:
        return None
    first = date(year, month, 1)
    units = units_of(aggregator) if aggregator is not None else [unit]
    locks = locks_for([u.id for u in units], first)
    rows = []
    for u in units:
        lock = locks.get(u.id)
        text = (_("on %(when)s by %(who)s", when=format_local(lock.locked_at), who=_who(lock.locked_by_id))
                if lock else "")
        rows.append(UnitLockRow(u.code, u.name, lock, text))
    over = local_month_bounds(year, month)[1] <= utcnow()
    allowed = may_lock(current_user, aggregator=aggregator, unit=None if aggregator else unit)
    state = MonthLockState(f"{year:04d}-{month:02d}", month_label(first), rows, month_over=over,
                           aggregator_code=aggregator.code if aggregator else "", unit_code=unit.code if unit else "")
    state.can_lock = allowed and over and not state.all_locked
    state.can_unlock = has_permission(current_user, "month.unlock") and state.any_locked
    return state


@bp.app_context_processor
def _month_lock_helpers():
    return {"month_lock_state": month_lock_state}


def _target_from_form():
    """``(units, aggregator, unit, year, month)`` from the POSTed ``aggregator`` or ``unit`` code
    and ``month``; 404 for a code outside the user's scope, 400 for a bad month."""
    form = request.form
    aggregator_code, unit_code = form.get("aggregator", "").strip(), form.get("unit", "").strip()
    try:
        year, month = parse_month(form.get("month", "").strip())
    except ValueError:
        abort(400)
    if aggregator_code:
        aggregator = readable_aggregator(current_user, aggregator_code)
        if aggregator is None:
            abort(404)
        return units_of(aggregator), aggregator, None, year, month
    unit = db.session.scalar(select(Unit).where(Unit.code == unit_code.upper())) if unit_code else None
    if unit is None or not (has_permission(current_user, "admin") or current_user.unit_id == unit.id):
        abort(404)
    return [unit], None, unit, year, month


def _back(aggregator: Aggregator | None, unit: Unit | None, year: int, month: int):
    month_text = f"{year:04d}-{month:02d}"
    if aggregator is not None:
        return redirect(url_for("statements.index", aggregator=aggregator.code, month=month_text))
    return redirect(url_for("statements.month_lock", unit=unit.code, month=month_text))


@bp.route("/month-lock/lock", methods=["POST"])
@require("month.lock")
def month_lock_lock():
    """Lock the month for the aggregator's units or the standalone unit (after the confirmation)."""
    units, aggregator, unit, year, month = _target_from_form()
    if not may_lock(current_user, aggregator=aggregator, unit=unit):
        abort(403)
    label = month_label(date(year, month, 1))
    try:
        made = run_in_transaction(lambda: lock_month(units, year, month, current_user))
    except DomainError as exc:
        flash(str(exc.message), "error")
        return _back(aggregator, unit, year, month)
    if made:
        flash(_("The books of %(month)s are closed for %(n)s unit(s).", month=label, n=len(made)), "ok")
    else:
        flash(_("%(month)s was already closed.", month=label), "info")
    return _back(aggregator, unit, year, month)


@bp.route("/month-lock/unlock", methods=["POST"])
@require("month.unlock")
def month_lock_unlock():
    """Admins: open a locked month again, with a reason (audited)."""
    units, aggregator, unit, year, month = _target_from_form()
    try:
        opened = run_in_transaction(lambda: unlock_month(units, year, month, current_user,
                                                         request.form.get("reason", "")))
    except DomainError as exc:
        flash(str(exc.message), "error")
        return _back(aggregator, unit, year, month)
    flash(_("%(month)s is open again for %(n)s unit(s).", month=month_label(date(year, month, 1)), n=len(opened)),
          "ok")
    return _back(aggregator, unit, year, month)


def _previous_month_text() -> str:
    today = local_today()
    year, month = (today.year - 1, 12) if today.month == 1 else (today.year, today.month - 1)
    return f"{year:04d}-{month:02d}"


@bp.route("/month-lock")
@login_required
def month_lock():
    """The lock screen of one standalone unit: its manager's own unit, or ``?unit=CODE`` for
    admins. A unit that belongs to an aggregator is locked from the statement screen instead."""
    if has_permission(current_user, "admin"):
        code = request.args.get("unit", "").strip().upper()
        unit = db.session.scalar(select(Unit).where(Unit.code == code)) if code else None
    elif has_permission(current_user, "month.lock") and current_user.unit_id:
        unit = db.session.get(Unit, current_user.unit_id)
    else:
        abort(403)
    if unit is None:
        abort(404)
    month_text = request.args.get("month", "").strip()[:20] or _previous_month_text()
    state = month_lock_state(month_text=month_text, unit=unit)
    if state is None:
        state = month_lock_state(month_text=_previous_month_text(), unit=unit)
    aggregator = db.session.get(Aggregator, unit.aggregator_id) if unit.aggregator_id else None
    return render_template("statements/month_lock.html", unit=unit, state=state, aggregator=aggregator)
