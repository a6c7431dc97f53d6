"""The public transparency page of a unit, ``/u/<unit code>`` (issue 12 item 7, docs/public-page.md).

No login, mobile-first, on unless the unit's manager switches it off (``Unit.public_page_enabled``;
off → 404, the same answer as an unknown code). It shows, for this local month and this year so
far (the month rule of ``reports/period.py``: deposits by capture time, voids in the period of
the void, through ``reports/figures.period_figures``):

* kilograms by material group (``WasteCategory.material_group``; categories counted in litres
  or pieces are shown in their own unit beside the group's kilograms, never converted);
* rupiah returned to households (credited to their savings, after the unit's fee);
* households — with the impact statement's small-group rule, reused from ``reports/impact.py``
  (``too_few_households``, ``small_group_count``): a period with fewer than 5 households shows
  no figures at all, and a count of 1–4 shows as "fewer than 5";
* the buy prices in force today (``services.catalog.current_prices``), by name;
* the collection days and place the manager typed.

No personal data: no name, member number, phone or per-member row is read into the page.
Rate-limited per client address like ``/c/<token>`` (docs/security.md): 60 a minute, and unknown
codes 10 a minute / 50 an hour, from which a live page's code is exempt.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from flask import abort, g, make_response, render_template, request
from flask_babel import format_date, get_locale
from flask_babel import lazy_pgettext
from sqlalchemy import func, select

from ..extensions import db, limiter
from ..models import Unit, WasteCategory
from ..money import Rupiah, Thousandths
from ..reports.figures import UnitFigures, active_threshold, period_figures
from ..reports.impact import MIN_GROUP, small_group_count, too_few_households
from ..services.catalog import current_prices
from ..timeutil import local_month_bounds, local_today
from . import bp
from .views import PUBLIC_LIMIT, UNKNOWN_TOKEN_LIMIT

# Material groups in the order the page lists them, with their labels (Indonesian in the
# translation; msgctxt "material group", so that no other screen's "Other" is touched). A
# category with an empty or unknown group counts as "other".
MATERIAL_GROUPS = {
    "plastic": lazy_pgettext("material group", "Plastic"),
    "paper": lazy_pgettext("material group", "Paper"),
    "metal": lazy_pgettext("material group", "Metal"),
    "glass": lazy_pgettext("material group", "Glass"),
    "oil": lazy_pgettext("material group", "Cooking oil"),
    "other": lazy_pgettext("material group", "Other"),
}
# What a unit code can be (Unit.code is String(20)); anything else is 404 without a query.
_CODE = re.compile(r"[A-Za-z0-9_.-]{1,20}")


@dataclass
class GroupFigure:
    """One material group's net quantity: ``kg_milli`` grams of its kg categories, and
    thousandths of litres and of pieces of its other categories."""

    group: str
    kg_milli: Thousandths = 0
    other_milli: dict[str, Thousandths] = field(default_factory=dict)  # "L"/"pcs" → thousandths

    @property
    def label(self) -> str:
        return str(MATERIAL_GROUPS[self.group])


@dataclass
class PeriodFigures:
    """What the page shows for one period. ``suppressed``: fewer than ``MIN_GROUP`` households,
    and then every other figure is None / empty."""

    suppressed: bool
    households: int | None = None          # deposited at least once (None also when 1–4)
    active_households: int | None = None   # ≥ the active threshold (None also when 1–4)
    returned_idr: Rupiah | None = None
    kg_milli: Thousandths | None = None    # all kg categories together
    groups: list[GroupFigure] = field(default_factory=list)


def _category_groups(ids) -> dict[int, tuple[str, str]]:
    """category id → (unit of measure, material group; "other" when empty or unknown)."""
    rows = db.session.execute(select(WasteCategory.id, WasteCategory.unit, WasteCategory.material_group)
                              .where(WasteCategory.id.in_(list(ids) or [-1])))
    return {cid: (unit, group if group in MATERIAL_GROUPS else "other") for cid, unit, group in rows}


def period_summary(fig: UnitFigures, *, with_active: bool) -> PeriodFigures:
    """``fig`` (one unit's ``period_figures`` row) as the page shows it, with the impact
    statement's small-group rule. ``with_active``: the active count is a monthly notion, so the
    year shows households only."""
    if too_few_households(fig.households):
        return PeriodFigures(suppressed=True)
    cats = _category_groups(fig.categories)
    groups = {g: GroupFigure(g) for g in MATERIAL_GROUPS}
    for cat_id, cf in fig.categories.items():
        unit, group_name = cats[cat_id]
        group = groups[group_name]
        if unit == "kg":
            group.kg_milli += cf.quantity_milli
        else:
            group.other_milli[unit] = group.other_milli.get(unit, 0) + cf.quantity_milli
    shown = [grp for grp in groups.values() if grp.kg_milli > 0 or any(v > 0 for v in grp.other_milli.values())]
    return PeriodFigures(
        suppressed=False, households=small_group_count(fig.households),
        active_households=small_group_count(fig.active_members) if with_active else None,
        returned_idr=fig.credited_idr, kg_milli=sum(grp.kg_milli for grp in groups.values()), groups=shown)


def unit_page_figures(unit: Unit, today: date | None = None) -> tuple[PeriodFigures, PeriodFigures]:
    """(this month, this year so far) for ``unit`` on local date ``today`` (default today):
    the month [1st, next 1st) and the year [1 January, next 1st), local midnights."""
    today = today or local_today()
    threshold = active_threshold()
    month_start, month_end = local_month_bounds(today.year, today.month)
    year_start = local_month_bounds(today.year, 1)[0]
    month = period_figures([unit.id], month_start, month_end, threshold, money_out=False)[unit.id]
    year = period_figures([unit.id], year_start, month_end, threshold, money_out=False)[unit.id]
    return period_summary(month, with_active=True), period_summary(year, with_active=False)


def _unit(code: str) -> Unit | None:
    """The unit with ``code`` (any case) whose page is on, or None; looked up once per request."""
    if "public_unit" not in g:
        unit = None
        if _CODE.fullmatch(code or ""):
            unit = db.session.scalar(select(Unit).where(func.upper(Unit.code) == code.upper()))
        g.public_unit = unit if unit is not None and unit.public_page_enabled else None
    return g.public_unit


def _known_code() -> bool:
    return _unit((request.view_args or {}).get("code", "")) is not None


_page_limit = limiter.shared_limit(PUBLIC_LIMIT, scope="public-unit-page")
_unknown_code_limit = limiter.shared_limit(
    UNKNOWN_TOKEN_LIMIT, scope="public-unknown-unit", exempt_when=_known_code,
    deduct_when=lambda response: response.status_code == 404)


@bp.route("/u/<code>")
@_page_limit
@_unknown_code_limit
def unit_page(code: str):
    """The unit's public page (GET only); 404 for an unknown code or a page switched off."""
    unit = _unit(code)
    if unit is None:
        abort(404)
    month, year = unit_page_figures(unit)
    today = local_today()
    locale = str(get_locale() or "id")
    prices = [(row.category.name(locale), row.buy_price_idr, row.category.unit)
              for row in current_prices(unit.id, today).values()]
    response = make_response(render_template(
        "public/unit.html", unit=unit, month=month, year=year, today=today, prices=prices,
        month_label=format_date(today, "MMMM yyyy"),
        min_group=MIN_GROUP, threshold=active_threshold()))
    # Aggregates only, but fresh figures each visit; no need for search engines to keep them.
    response.headers["Cache-Control"] = "no-cache"
    return response
