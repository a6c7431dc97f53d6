"""Statement and report screens (issue 5).

* aggregator staff (and admins): choose a month, download the aggregator statement (PDF, CSV);
* collaborators: the impact dashboard of their sponsored units and its PDF — aggregates only;
* unit managers: daily and monthly summary, top categories, active-member CSV, dormant members.

Every URL checks scope itself (docs/rules.md §scope): another aggregator's code, another unit's code
or another collaborator's id answers 404, whatever the menu shows.
"""
from __future__ import annotations

from datetime import date

from flask import Response, abort, render_template, request
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from ..auth.permissions import has_permission, require, visible_unit_ids
from ..extensions import db
from ..models import Aggregator, Collaborator, Unit
from ..reports.charts import impact_charts, unit_charts
from ..reports.impact import impact_pdf, impact_statement, impact_tables, kg_text, rupiah_caption
from ..reports.csvfile import csv_options, csv_response
from ..reports.period import capture_note
from ..reports.statements import (aggregator_statement, categories_by_id, parse_month, readable_aggregator,
                                  statement_filename,
                                  statement_pdf, statement_table)
from ..reports.unit import (active_members, active_members_table, daily_summary, dormant_members,
                            monthly_summary, top_categories)
from ..inputs import day_arg, int_arg, refuse, text_arg
from ..services.cashbook import late_postings
from ..services.month_lock import month_label
from ..timeutil import local_month_bounds, local_today

from . import bp


def _locale() -> str:
    return str(get_locale() or "id")


def _month_arg(name: str, default: tuple[int, int]) -> tuple[int, int]:
    text = text_arg(name, max_length=20)
    if not text:
        return default
    try:
        return parse_month(text)
    except ValueError:
        refuse(_("Enter a month as YYYY-MM, from 2000-01 to 2999-12."))


def _previous_month(today: date) -> tuple[int, int]:
    return (today.year - 1, 12) if today.month == 1 else (today.year, today.month - 1)


def _download(body: bytes, filename: str, mimetype: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


# --- aggregator statement --------------------------------------------------------------------


@bp.route("/statements")
@require("statement.aggregator")
def index():
    """Choose an aggregator (admins) and a month; links to the PDF and CSV and the totals."""
    if has_permission(current_user, "scope.all_units"):
        aggregators = list(db.session.scalars(select(Aggregator).order_by(Aggregator.code)))
    else:
        aggregators = [a for a in [db.session.get(Aggregator, current_user.aggregator_id)] if a is not None] \
            if current_user.aggregator_id else []
    code = text_arg("aggregator", max_length=20) or (aggregators[0].code if aggregators else "")
    year, month = _month_arg("month", _previous_month(local_today()))
    aggregator = readable_aggregator(current_user, code) if code else None
    if code and aggregator is None:
        abort(404)
    statement = aggregator_statement(aggregator, year, month, visible_unit_ids(current_user)) if aggregator else None
    return render_template("statements/index.html", aggregators=aggregators, aggregator=aggregator,
                           month_text=f"{year:04d}-{month:02d}", statement=statement)


def _statement_for(code: str, month: str):
    aggregator = readable_aggregator(current_user, code)
    if aggregator is None:
        abort(404)
    try:
        year, month_no = parse_month(month)
    except ValueError:
        abort(404)
    return aggregator_statement(aggregator, year, month_no, visible_unit_ids(current_user))


@bp.route("/statements/aggregator/<code>/<month>.pdf")
@require("statement.aggregator")
def aggregator_pdf(code: str, month: str):
    st = _statement_for(code, month)
    return _download(statement_pdf(st, _locale()), statement_filename(st, "pdf"), "application/pdf")


@bp.route("/statements/aggregator/<code>/<month>.csv")
@require("statement.aggregator")
def aggregator_csv(code: str, month: str):
    """The statement as CSV: for people by default (``;``, headers and category names in the
    reader's language), ``?format=codes`` for machines (``,``, snake_case, category codes);
    ``?sep=comma|semicolon`` either way (``reports.csvfile``)."""
    st = _statement_for(code, month)
    sep, fmt = csv_options()
    return csv_response(statement_filename(st, "csv"), *statement_table(st, fmt, _locale()), sep=sep)


# --- collaborator impact ---------------------------------------------------------------------


def _collaborator() -> Collaborator:
    """The caller's collaborator; admins pick one with ``?collaborator=<id>``. 404 otherwise."""
    if has_permission(current_user, "scope.own_collaborator"):
        found = db.session.get(Collaborator, current_user.collaborator_id) if current_user.collaborator_id else None
    else:
        ref = int_arg("collaborator", minimum=1)
        found = db.session.get(Collaborator, ref) if ref is not None else None
    if found is None:
        abort(404)
    return found


def _impact_period() -> tuple[tuple[int, int], tuple[int, int]]:
    last = _month_arg("to", _previous_month(local_today()))
    default_first = (last[0] - 1, last[1] + 1) if last[1] < 12 else (last[0], 1)
    first = _month_arg("from", default_first)
    return first, last


def _impact():
    first, last = _impact_period()
    try:
        return impact_statement(_collaborator(), first, last)
    except ValueError:
        abort(400)


@bp.route("/impact")
@require("statement.impact")
def impact():
    """The impact dashboard: key figures, charts (reports/charts.py, drawn by Chart.js with a
    table of the same figures) and the tables of the PDF."""
    st = _impact()
    locale = _locale()
    charts, tables = [], []
    if not st.suppressed:
        charts = impact_charts(st, locale)
        tables = impact_tables(st, locale)
    return render_template("statements/impact.html", st=st, charts=charts, tables=tables,
                           kg=lambda g: kg_text(g, locale), rupiah_caption=rupiah_caption(),
                           query=request.query_string.decode("ascii", "replace"))


@bp.route("/impact.pdf")
@require("statement.impact")
def impact_pdf_view():
    st = _impact()
    name = f"impact-{st.first[0]:04d}{st.first[1]:02d}-{st.last[0]:04d}{st.last[1]:02d}.pdf"
    return _download(impact_pdf(st, _locale()), name, "application/pdf")


# --- unit reports ----------------------------------------------------------------------------


def _report_unit() -> Unit:
    """``?unit=CODE`` among the caller's visible units (default: their own). 404 otherwise —
    C14: another unit's code, or "all", never shows another unit's figures."""
    code = text_arg("unit", max_length=20)
    allowed = visible_unit_ids(current_user)
    if code:
        unit = db.session.scalar(select(Unit).where(func.upper(Unit.code) == code.upper()))
    else:
        unit = db.session.get(Unit, current_user.unit_id) if current_user.unit_id else None
    if unit is None or unit.id not in allowed:
        abort(404)
    return unit


@bp.route("/reports/unit")
@require("report.unit")
def unit_report():
    """Daily and monthly summary, top categories and dormant members of one unit."""
    unit = _report_unit()
    today = local_today()
    day = day_arg("day", today)
    year, month = _month_arg("month", (today.year, today.month))
    day_fig, day_cats = daily_summary(unit, day)
    month_fig, month_cats = monthly_summary(unit, year, month)
    # Deposits of the month that were posted after it ended (offline captures synced late):
    # they count in this month (period.captured_in), shown with both times.
    late = late_postings(unit, *local_month_bounds(year, month))
    charts = unit_report_charts(unit, year, month, month_fig)
    return render_template(
        "statements/unit.html", unit=unit, day=day, month_text=f"{year:04d}-{month:02d}",
        month_name=month_label(date(year, month, 1), _locale()),  # "Desember 2026", not "2026-12"
        day_fig=day_fig, day_cats=day_cats, month_fig=month_fig, month_cats=month_cats,
        top=top_categories(month_fig, month_cats), active=active_members(unit, year, month),
        dormant=dormant_members(unit, today), late=late, capture_note=capture_note, locale=_locale(),
        charts=charts)


TREND_MONTHS = 6


def unit_report_charts(unit: Unit, year: int, month: int, month_fig):
    """The unit report's charts: kilograms in each of the ``TREND_MONTHS`` months up to the
    chosen one, and the chosen month's category mix (``reports.charts.unit_charts``)."""
    months = []
    y, m = year, month
    for _i in range(TREND_MONTHS):
        months.insert(0, (y, m))
        y, m = (y - 1, 12) if m == 1 else (y, m - 1)
    trend = [(f"{y:04d}-{m:02d}", month_fig if (y, m) == (year, month) else monthly_summary(unit, y, m)[0])
             for y, m in months]
    cats = categories_by_id({c for _label, fig in trend for c in fig.categories})
    return unit_charts(trend, month_fig, cats, _locale())


@bp.route("/reports/unit/active.csv")
@require("report.unit")
def unit_active_csv():
    """The month's active members (Jakarta levy exemption: ≥ 4 deposits) as CSV."""
    unit = _report_unit()
    today = local_today()
    year, month = _month_arg("month", (today.year, today.month))
    sep, fmt = csv_options()
    return csv_response(f"active-members-{unit.code}-{year:04d}-{month:02d}.csv",
                        *active_members_table(unit, year, month, fmt), sep=sep)
