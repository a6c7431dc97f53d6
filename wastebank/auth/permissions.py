"""Who may do what, and which units they see: the one mechanism every view and API call uses
(docs/rules.md §scope).

``PERMISSIONS`` maps a permission to the roles holding it; ``@require(permission)`` guards a
view (401/redirect to login when anonymous, 403 otherwise); ``visible_unit_ids(user)`` and
``unit_for(user, unit)`` give the data scope.
"""
from __future__ import annotations

from functools import wraps

from flask import abort, request
from flask_login import current_user
from sqlalchemy import select

from ..extensions import db, login_manager
from ..models import Unit, User

PERMISSIONS: dict[str, frozenset[str]] = {
    "counter.use": frozenset({"operator", "unit_manager"}),
    "deposit.record": frozenset({"operator", "unit_manager"}),
    "member.view": frozenset({"operator", "unit_manager", "admin", "aggregator_staff"}),
    "price.view": frozenset({"operator", "unit_manager", "admin", "aggregator_staff"}),
    "price.edit": frozenset({"unit_manager", "admin"}),
    "deposit.void": frozenset({"unit_manager"}),
    "withdrawal.record": frozenset({"operator", "unit_manager"}),
    "withdrawal.pay": frozenset({"operator", "unit_manager"}),
    "withdrawal.approve": frozenset({"unit_manager"}),
    "withdrawal.void": frozenset({"unit_manager"}),
    "member.manage": frozenset({"operator", "unit_manager"}),
    "member.import": frozenset({"unit_manager"}),
    "member.settings": frozenset({"unit_manager"}),
    "stock.manage": frozenset({"unit_manager"}),
    "sale.record": frozenset({"unit_manager"}),
    "day.close": frozenset({"unit_manager"}),
    "audit.view": frozenset({"unit_manager", "admin"}),
    "statement.aggregator": frozenset({"aggregator_staff", "admin"}),
    "statement.impact": frozenset({"collaborator", "admin"}),
    "report.unit": frozenset({"unit_manager", "aggregator_staff", "admin"}),
    # Names and addresses of active households (issue 12 item 3): these two roles only.
    "export.levy": frozenset({"unit_manager", "aggregator_staff"}),
    "month.lock": frozenset({"aggregator_staff", "unit_manager", "admin"}),
    "month.unlock": frozenset({"admin"}),
    "admin": frozenset({"admin"}),
    # Data scope (``visible_unit_ids``): every unit, aggregator and collaborator (and choosing
    # one of them on a screen); one's own aggregator's units; one's own unit; one's own
    # collaborator's impact report.
    "scope.all_units": frozenset({"admin"}),
    "scope.own_aggregator": frozenset({"aggregator_staff"}),
    "scope.own_unit": frozenset({"operator", "unit_manager"}),
    "scope.own_collaborator": frozenset({"collaborator"}),
}


def has_permission(user, permission: str) -> bool:
    """True if ``user`` is logged in, active and has a role holding ``permission``.
    Raises KeyError for an unknown permission (a typo must not silently deny or allow)."""
    roles = PERMISSIONS[permission]
    return bool(getattr(user, "is_authenticated", False) and user.active and user.role in roles)


def require(permission: str):
    """View decorator: anonymous → login (401 for the API), lacking ``permission`` → 403."""
    PERMISSIONS[permission]  # fail at import time on a typo

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                if request.blueprint == "api" or request.path.startswith("/api/"):
                    abort(401)
                return login_manager.unauthorized()
            if not has_permission(current_user, permission):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def visible_unit_ids(user: User) -> list[int]:
    """Ids of the units whose members, money and documents ``user`` may see: every unit
    (``scope.all_units``), the units of one's aggregator (``scope.own_aggregator``), one's own
    unit (``scope.own_unit``), else none (an inactive user sees none either).

    The roles behind each scope live in ``PERMISSIONS`` like every other right, so that this
    function, the views and the services ask the same table and no code compares role names.
    """
    if has_permission(user, "scope.all_units"):
        return list(db.session.scalars(select(Unit.id)))
    if has_permission(user, "scope.own_unit"):
        return [user.unit_id] if user.unit_id else []
    if has_permission(user, "scope.own_aggregator") and user.aggregator_id:
        return list(db.session.scalars(select(Unit.id).where(Unit.aggregator_id == user.aggregator_id)))
    return []


def counter_unit(user: User) -> Unit:
    """The unit whose counter ``user`` works at: their own unit. 403 if they have none
    (admins and aggregator staff record nothing at a counter)."""
    if user.unit_id is None:
        abort(403)
    return db.session.get(Unit, user.unit_id)
