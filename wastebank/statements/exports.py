"""Government export downloads (issue 12 items 2 and 3; docs/exports.md).

* ``/statements/aggregator/<code>/<month>/sipsn.csv`` — the tonnage export (DLH / SIPSN) of an
  aggregator's units, for aggregator staff (their own aggregator) and admins, linked from the
  statements screen. A pcs/L category without its kilogram factor refuses with a message (409).
* ``/reports/levy/<unit>/<month>.csv`` — the levy-exemption list (Perda DKI 1/2024) of one
  unit: names and addresses, so only unit managers (their unit) and aggregator staff (their
  aggregator's units) may download it; collaborators, operators and admins get 403, another
  unit 404. Every download writes an ``export.levy`` audit row in its own transaction.

CSV through the one writer (``reports.csvfile``): ``;`` and Indonesian headers for people,
``?format=codes`` for systems, ``?sep=comma|semicolon``.
"""
from __future__ import annotations

from flask import abort
from flask_login import current_user
from sqlalchemy import func, select

from ..auth.permissions import has_permission, require, visible_unit_ids
from ..extensions import db
from ..models import Unit
from ..reports.csvfile import csv_options, csv_response
from ..reports.levy import audit_details, levy_filename, levy_list, levy_table
from ..reports.sipsn import sipsn_filename, sipsn_report, sipsn_table
from ..reports.statements import parse_month, readable_aggregator
from ..services.audit import audit
from ..services.transaction import run_in_transaction
from . import bp


def _month_or_404(month: str) -> tuple[int, int]:
    try:
        return parse_month(month)
    except ValueError:
        abort(404)


@bp.route("/statements/aggregator/<code>/<month>/sipsn.csv")
@require("statement.aggregator")
def aggregator_sipsn_csv(code: str, month: str):
    """The tonnage export of aggregator ``code``'s units (within the caller's scope) for
    ``month``; 404 for another aggregator or a bad month; MissingKgFactor → 409 page."""
    aggregator = readable_aggregator(current_user, code)
    if aggregator is None:
        abort(404)
    year, month_no = _month_or_404(month)
    allowed = visible_unit_ids(current_user)
    units = list(db.session.scalars(select(Unit).where(
        Unit.aggregator_id == aggregator.id, Unit.id.in_(allowed or [-1])).order_by(Unit.code)))
    report = sipsn_report(units, year, month_no)
    sep, fmt = csv_options()
    return csv_response(sipsn_filename(aggregator.code, report.month_text), *sipsn_table(report, fmt), sep=sep)


@bp.route("/reports/levy/<unit_code>/<month>.csv")
@require("export.levy")
def unit_levy_csv(unit_code: str, month: str):
    """The levy-exemption list of unit ``unit_code`` for ``month``, audited. 404 for a unit
    outside the caller's scope or a bad month."""
    unit = db.session.scalar(select(Unit).where(func.upper(Unit.code) == unit_code[:20].upper()))
    if unit is None or unit.id not in visible_unit_ids(current_user):
        abort(404)
    year, month_no = _month_or_404(month)
    levy = levy_list(unit, year, month_no)
    sep, fmt = csv_options()
    header, rows = levy_table(levy, fmt)
    user_id = current_user.id
    run_in_transaction(lambda: audit("export.levy", unit_id=unit.id, user_id=user_id, object_type="unit",
                                     object_id=unit.code, details=audit_details(levy, fmt)))
    return csv_response(levy_filename(levy), header, rows, sep=sep)


@bp.app_context_processor
def _export_permissions() -> dict:
    """``can_export_levy()`` in templates: show the levy download only to the roles holding
    ``export.levy`` (the link is a courtesy; the route checks again)."""
    return {"can_export_levy": lambda: has_permission(current_user, "export.levy")}
