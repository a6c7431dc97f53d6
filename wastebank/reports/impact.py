"""The collaborator impact statement (docs/rules.md §documents, issue 5): what the sponsored units
diverted, the CO₂e it avoided, the households they served and the rupiah returned to them —
aggregates only.

Privacy rule (docs/rules.md §roles, issue 5): no name, member number or per-member row ever leaves
this module, and no group of fewer than ``MIN_GROUP`` members is shown separately:

* a period with fewer than ``MIN_GROUP`` households shows nothing but that fact;
* a month with fewer than ``MIN_GROUP`` households shows no figures of its own (it still
  counts in the period totals);
* categories brought by fewer than ``MIN_GROUP`` members are merged into "Other categories",
  and categories are merged into it, smallest first, until that group reaches ``MIN_GROUP``;
* counts of 1–4 (active members) are shown as "fewer than 5".

Which units and months: a unit counts for a month while one of the collaborator's
sponsorships covers any day of that month. Figures come from ``figures.periods_figures`` (the
same queries as the aggregator statement, for all months at once). CO₂e avoided per category =
round_half_up(quantity_milli × co2e_g_per_unit / 1000) grams, with the factor's source and
version (``WasteCategory.co2e_source``, e.g. "EPA WARM v16 PET").
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select

from ..extensions import db
from ..models import Collaborator, Sponsorship, Unit
from ..money import round_half_up_div
from ..timeutil import local_month_bounds
from .figures import (Scope, UnitFigures, active_threshold, category_households, households_served, line_events,
                      periods_figures)
from .statements import CategoryInfo, categories_by_id

MIN_GROUP = 5
MAX_MONTHS = 36


def month_range(first: tuple[int, int], last: tuple[int, int]) -> list[tuple[int, int]]:
    """Months from ``first`` to ``last`` inclusive, as (year, month). Raises ValueError if
    ``last`` precedes ``first`` or the range exceeds ``MAX_MONTHS``."""
    out = []
    year, month = first
    while (year, month) <= last:
        out.append((year, month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        if len(out) > MAX_MONTHS:
            raise ValueError("period too long")
    if not out:
        raise ValueError("period ends before it starts")
    return out


def _month_last_day(year: int, month: int) -> date:
    nxt = date(year + (month == 12), month % 12 + 1, 1)
    return date.fromordinal(nxt.toordinal() - 1)


def sponsored_units(collaborator_id: int, months: list[tuple[int, int]]) -> dict[tuple[int, int], list[int]]:
    """(year, month) → ids of the units a sponsorship of ``collaborator_id`` covers that month."""
    rows = db.session.execute(select(Sponsorship.unit_id, Sponsorship.start_date, Sponsorship.end_date)
                              .where(Sponsorship.collaborator_id == collaborator_id)).all()
    out = {}
    for ym in months:
        first, last = date(ym[0], ym[1], 1), _month_last_day(*ym)
        out[ym] = sorted({u for u, s, e in rows if s <= last and (e is None or e >= first)})
    return out


def sponsored_unit_ids(collaborator_id: int | None) -> list[int]:
    """Every unit the collaborator has ever sponsored (for scope checks)."""
    if collaborator_id is None:
        return []
    return sorted(set(db.session.scalars(select(Sponsorship.unit_id)
                                         .where(Sponsorship.collaborator_id == collaborator_id))))


def co2e_grams(quantity_milli: int, factor_g_per_unit: int) -> int:
    """CO₂e avoided, integer grams: round_half_up(quantity_milli × factor / 1000); 0 if ≤ 0."""
    if quantity_milli <= 0 or factor_g_per_unit <= 0:
        return 0
    return round_half_up_div(quantity_milli * factor_g_per_unit, 1000)


@dataclass
class MonthImpact:
    """One month across the sponsored units. ``suppressed``: fewer than MIN_GROUP households,
    and then every other figure is None."""

    year: int
    month: int
    units: int
    suppressed: bool
    households: int | None
    active_members: int | None  # None also when 1–4
    weight_milli: int | None    # categories measured in kg, grams
    co2e_g: int | None
    returned_idr: int | None

    @property
    def label(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


@dataclass
class CategoryImpact:
    """One category (or the merged "Other categories", ``category`` None) over the period."""

    category: CategoryInfo | None
    quantity_milli: int
    co2e_g: int
    value_idr: int
    merged: tuple[CategoryInfo, ...] = ()


@dataclass
class ImpactStatement:
    """The impact of ``collaborator_name``'s sponsored units over ``months``."""

    collaborator_name: str
    first: tuple[int, int]
    last: tuple[int, int]
    unit_names: list[str]
    suppressed: bool
    households: int | None
    returned_idr: int | None
    weight_milli: int | None
    co2e_g: int | None
    months: list[MonthImpact] = field(default_factory=list)
    categories: list[CategoryImpact] = field(default_factory=list)
    factors: list[CategoryInfo] = field(default_factory=list)
    active_min_deposits: int = 4

    @property
    def period_text(self) -> str:
        return f"{self.first[0]:04d}-{self.first[1]:02d} – {self.last[0]:04d}-{self.last[1]:02d}"


def small_group_count(count: int) -> int | None:
    """A count as it may be shown: 0 or ``MIN_GROUP`` and more as it is, 1–4 as None ("fewer
    than 5"). The one small-group rule, shared with the public unit page (public/unit_page.py)."""
    return count if count == 0 or count >= MIN_GROUP else None


def too_few_households(households: int) -> bool:
    """True when a period (or month) with ``households`` households may show no figures of its
    own: fewer than ``MIN_GROUP``. Shared with the public unit page."""
    return households < MIN_GROUP


def _distinct_members(scopes: list[Scope], category_ids: set[int]) -> int:
    if not scopes or not category_ids:
        return 0
    lev = line_events(scopes, with_member=True)
    per = (select(lev.c.member_id).where(lev.c.category_id.in_(category_ids))
           .group_by(lev.c.member_id).having(func.sum(lev.c.sign * lev.c.quantity_milli) > 0).subquery())
    return int(db.session.scalar(select(func.count()).select_from(per)) or 0)


def _monthly_totals(months: list[tuple[int, int]], covered: dict, threshold: int):
    """``(total, per_month, scopes)``: the figures of the covered units summed over all months
    and per month (``(month, figures, unit count)``), and the scope of each month with units."""
    total = UnitFigures(None)
    per_month: list[tuple[tuple[int, int], UnitFigures, int]] = []
    covered_months = [ym for ym in months if covered[ym]]
    scopes = [Scope(tuple(covered[ym]), *local_month_bounds(*ym)) for ym in covered_months]
    # All months in one set of queries (periods_figures), not one set per month.
    figures = dict(zip(covered_months, periods_figures(scopes, threshold), strict=True))
    for ym in months:
        month_total = UnitFigures(None)
        for fig in figures.get(ym, {}).values():
            month_total.add(fig)
        total.add(month_total)
        per_month.append((ym, month_total, len(covered[ym])))
    return total, per_month, scopes


def _add_categories(statement: ImpactStatement, total: UnitFigures, cats: dict, scopes: list[Scope]) -> None:
    """The statement's categories; groups of fewer than MIN_GROUP members are merged into
    "Other categories" (until that group itself reaches MIN_GROUP members)."""
    per_cat = category_households(scopes)
    shown = [c for c in cats if per_cat.get(c, 0) >= MIN_GROUP and total.categories[c].quantity_milli > 0]
    other = {c for c in cats if c not in shown}
    while other and shown and _distinct_members(scopes, other) < MIN_GROUP:
        smallest = min(shown, key=lambda c: (per_cat.get(c, 0), total.categories[c].quantity_milli))
        shown.remove(smallest)
        other.add(smallest)
    for c in shown:
        cf = total.categories[c]
        statement.categories.append(CategoryImpact(cats[c], cf.quantity_milli,
                                                   co2e_grams(cf.quantity_milli, cats[c].co2e_g_per_unit),
                                                   cf.value_idr))
    if other:
        merged = tuple(cats[c] for c in cats if c in other)
        statement.categories.append(CategoryImpact(
            None, sum(total.categories[c].quantity_milli for c in other if cats[c].unit == "kg"),
            sum(co2e_grams(total.categories[c].quantity_milli, cats[c].co2e_g_per_unit) for c in other),
            sum(total.categories[c].value_idr for c in other), merged))


def impact_statement(collaborator: Collaborator, first: tuple[int, int], last: tuple[int, int]) -> ImpactStatement:
    """Build the impact statement for local months ``first``..``last`` (inclusive)."""
    months = month_range(first, last)
    threshold = active_threshold()
    covered = sponsored_units(collaborator.id, months)
    all_units = sorted({u for ids in covered.values() for u in ids})
    names = [n for (n,) in db.session.execute(select(Unit.name).where(Unit.id.in_(all_units or [-1]))
                                               .order_by(Unit.name))]
    total, per_month, scopes = _monthly_totals(months, covered, threshold)

    cats = categories_by_id(total.categories)
    households = households_served(scopes) if scopes else 0
    statement = ImpactStatement(collaborator.name, first, last, names, too_few_households(households),
                                None, None, None, None, active_min_deposits=threshold)
    if statement.suppressed:
        return statement

    def weight(fig: UnitFigures) -> int:
        return sum(cf.quantity_milli for c, cf in fig.categories.items() if c in cats and cats[c].unit == "kg")

    def co2e(fig: UnitFigures) -> int:
        return sum(co2e_grams(cf.quantity_milli, cats[c].co2e_g_per_unit) for c, cf in fig.categories.items()
                   if c in cats)

    statement.households = households
    statement.returned_idr = total.credited_idr
    statement.weight_milli = weight(total)
    statement.co2e_g = co2e(total)
    for (year, month), fig, unit_count in per_month:
        hidden = too_few_households(fig.households)
        statement.months.append(MonthImpact(
            year, month, unit_count, hidden,
            None if hidden else fig.households,
            None if hidden else small_group_count(fig.active_members),
            None if hidden else weight(fig), None if hidden else co2e(fig),
            None if hidden else fig.credited_idr))

    _add_categories(statement, total, cats, scopes)
    statement.factors = [cats[c] for c in cats]
    return statement


def kg_text(grams: int | None, locale: str) -> str:
    """Integer grams as kilograms with up to three decimals (``1150`` → ``1,15 kg``)."""
    from ..money import format_quantity
    return "—" if grams is None else format_quantity(grams, "kg", locale)


def factor_text(cat: CategoryInfo, locale: str) -> str:
    """``1,15 kg CO₂e/kg (EPA WARM v16 PET)``: the factor with its source and version."""
    from ..money import format_quantity
    source = cat.co2e_source or "—"
    return f"{format_quantity(cat.co2e_g_per_unit, 'kg', locale, with_unit=False)} kg CO₂e/{cat.unit} ({source})"


def impact_tables(st: ImpactStatement, locale: str):
    """The statement's tables as ``ReportSection``s (shared by the PDF and the dashboard)."""
    from babel.numbers import format_decimal
    from flask_babel import gettext as _

    from ..documents.statements import ReportSection
    from ..money import format_idr, format_quantity

    def count(v):
        return _("fewer than 5") if v is None else format_decimal(v, locale=locale)

    months = ReportSection(
        heading=_("By month"),
        header=(_("Month"), _("Units"), _("Households served"),
                _("Active members (≥ %(n)s deposits)", n=st.active_min_deposits), _("Weight diverted"),
                _("CO₂e avoided"), _("Returned to households")),
        rows=tuple(
            (m.label, str(m.units), _("fewer than 5 — included in the totals"), "", "", "", "") if m.suppressed else
            (m.label, str(m.units), count(m.households), count(m.active_members), kg_text(m.weight_milli, locale),
             kg_text(m.co2e_g, locale), format_idr(m.returned_idr or 0, locale))
            for m in st.months),
        totals=((_("Total"), str(len(st.unit_names)), count(st.households), "", kg_text(st.weight_milli, locale),
                 kg_text(st.co2e_g, locale), format_idr(st.returned_idr or 0, locale)),),
        numeric=frozenset({1, 2, 3, 4, 5, 6}), widths=(1.2, 0.7, 1.3, 1.3, 1.3, 1.3, 1.5),
        note=_("Households served: members with at least one deposit. A month with fewer than 5 households "
               "shows no figures of its own."))
    cat_rows = []
    for ci in st.categories:
        if ci.category is None:
            cat_rows.append((_("Other categories (%(names)s)", names=", ".join(c.name(locale) for c in ci.merged)),
                             format_quantity(ci.quantity_milli, "kg", locale), kg_text(ci.co2e_g, locale),
                             format_idr(ci.value_idr, locale)))
        else:
            cat_rows.append((ci.category.name(locale), format_quantity(ci.quantity_milli, ci.category.unit, locale),
                             kg_text(ci.co2e_g, locale), format_idr(ci.value_idr, locale)))
    categories = ReportSection(
        heading=_("By category"), header=(_("Category"), _("Quantity diverted"), _("CO₂e avoided"), _("Value")),
        rows=tuple(cat_rows),
        totals=((_("Total"), kg_text(st.weight_milli, locale), kg_text(st.co2e_g, locale),
                 format_idr(sum(c.value_idr for c in st.categories), locale)),),
        numeric=frozenset({1, 2, 3}), widths=(3, 1.3, 1.3, 1.3),
        note=_("Categories brought by fewer than 5 members are merged into “Other categories” "
               "(its quantity counts kilograms only)."))
    factors = ReportSection(
        heading=_("CO₂e factors: source and version"), header=(_("Category"), _("Factor (source, version)")),
        rows=tuple((c.name(locale), factor_text(c, locale)) for c in st.factors), widths=(2, 3),
        note=_("CO₂e avoided = quantity × factor, in whole grams, shown in kg."))
    return months, categories, factors


def impact_pdf(st: ImpactStatement, locale: str = "id") -> bytes:
    """The impact statement as an A4 PDF with charts (``documents.impact``)."""
    from flask_babel import gettext as _

    from ..documents.impact import ChartSeries, ImpactDocument, render_impact
    from .charts import impact_charts, number_text
    from ..documents.statements import ReportSection
    from ..money import format_idr

    title = _("Impact statement — %(name)s", name=st.collaborator_name)
    subtitle = (_("Period %(period)s", period=st.period_text),
                _("Sponsored units: %(names)s", names=", ".join(st.unit_names) or "—"))
    if st.suppressed:
        note = ReportSection(heading=_("Fewer than 5 households in this period"), header=(_("Note"),),
                             rows=((_("Figures are not shown for fewer than 5 households, to protect their "
                                      "privacy."),),))
        return render_impact(ImpactDocument(title, subtitle, (), (), (note,), footer=st.collaborator_name,
                                            page_label=_("Page")))
    headline = ((_("Households served"), number_text(st.households, locale)),
                (_("Weight diverted"), kg_text(st.weight_milli, locale)),
                (_("CO₂e avoided"), kg_text(st.co2e_g, locale)),
                (_("Returned to households"), format_idr(st.returned_idr or 0, locale)))
    charts = tuple(ChartSeries(c.title, c.labels, c.values, kind=c.kind, axis_label=c.axis,
                               fmt=lambda v: number_text(v, locale)) for c in impact_charts(st, locale))
    return render_impact(ImpactDocument(title, subtitle, headline, charts, impact_tables(st, locale),
                                        footer=st.collaborator_name, page_label=_("Page"),
                                        notes=(rupiah_caption(),)))


def rupiah_caption() -> str:
    """The caption that tells the two rupiah totals apart (issue 9): the value before the
    unit's fee and what reached the households after it."""
    from flask_babel import gettext as _
    return _("Value: the waste at the unit's buying prices, before the unit's fee. Returned to households: "
             "what was credited to their savings, after the fee.")
