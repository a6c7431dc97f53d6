"""The government tonnage export (issue 12 item 2): what Jakarta's environment agency (Dinas
Lingkungan Hidup) collects from bank sampah for SIPSN, the national waste information system —
per unit (with its kelurahan, kecamatan and kota) and material group, the kilograms collected in
a month, the kilograms sold on, and the number of active members. docs/exports.md.

Rules, each taken from the place that already defines it (never a second definition):

* **Month.** A deposit belongs to the local month of its capture time ``recorded_at``
  (``period.captured_in``), voids netted in the month they were recorded; a sale to the local
  month of its ``posted_at`` (a sale has no offline capture) — exactly as the aggregator statement
  (``figures.period_figures``), so the kilograms reconcile with it.
* **Active members.** ``figures.period_figures``' count (net deposits ≥ the
  ``ACTIVE_MEMBER_MIN_DEPOSITS`` setting, ``figures.active_threshold``), the statement's figure.
* **Kilograms.** A ``kg`` category's thousandths are grams already. A ``pcs`` or ``L`` category
  converts through its catalogue factor ``WasteCategory.kg_factor_g`` (integer grams per piece
  or litre, with ``kg_factor_source``): grams = thousandths × factor / 1000, rounded half away
  from zero once per unit and category (:func:`grams_of`), then summed per group. Integers
  only; a category with quantities in the month and no factor refuses the whole export
  (:class:`MissingKgFactor`), so no figure is silently short.
* **Sold on.** The grams the buyer accepted (``SaleLine.accepted_milli``; the weighed rest is
  shrinkage, not sold).
* **Groups.** ``WasteCategory.material_group`` among :data:`MATERIAL_GROUPS`; anything else
  (empty, or a group the catalogue invents) is ``other``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from ..extensions import db
from ..models import Sale, SaleLine, Unit, WasteCategory
from ..money import round_half_up_div
from ..services.errors import DomainError
from ..timeutil import local_month_bounds
from .csvfile import quantity_cell
from .figures import active_threshold, period_figures
from .period import captured_in

#: The material groups of the export, in column order (the catalogue's ``material_group``).
MATERIAL_GROUPS = ("plastic", "paper", "metal", "glass", "oil", "other")


class MissingKgFactor(DomainError):
    """A ``pcs``/``L`` category with quantities in the month has no grams-per-unit factor.
    ``categories`` are the codes; the message names them (current language)."""

    status = 409
    code = "kg_factor_missing"

    def __init__(self, categories: list[WasteCategory]):
        self.categories = [c.code for c in categories]
        names = ", ".join(f"{c.name(get_locale() or 'id')} ({c.code}, {c.unit})" for c in categories)
        super().__init__(_l("No kilogram factor for %(categories)s: the catalogue must give the grams of one "
                            "piece or litre, with its source, before the tonnage export can be made.",
                            categories=names))


def grams_of(quantity_milli: int, unit: str, kg_factor_g: int | None) -> int:
    """Integer grams of ``quantity_milli`` thousandths of ``unit``: unchanged for ``kg``; for
    ``pcs``/``L`` × ``kg_factor_g`` / 1000 rounded half away from zero (a month's net quantity
    can be negative when a void outweighs the month's deposits). ``1 500`` thousandths of a
    piece at 250 g → 375 g. Raises ValueError for a pcs/L quantity without a factor."""
    if unit == "kg":
        return quantity_milli
    if kg_factor_g is None:
        raise ValueError(f"no kg factor for a {unit} quantity")
    grams = round_half_up_div(abs(quantity_milli) * kg_factor_g, 1000)
    return -grams if quantity_milli < 0 else grams


def material_group(category: WasteCategory) -> str:
    """The export group of ``category``: its ``material_group`` if listed, else ``other``."""
    return category.material_group if category.material_group in MATERIAL_GROUPS else "other"


@dataclass
class SipsnUnit:
    """One unit's row: place, active members, and per group the grams collected (net of voids)
    and sold (accepted by the buyer). ``unit_id`` None is the total."""

    unit_id: int | None
    code: str
    name: str
    kelurahan: str = ""
    kecamatan: str = ""
    kota: str = ""
    active_members: int = 0
    collected_g: dict[str, int] = field(default_factory=lambda: dict.fromkeys(MATERIAL_GROUPS, 0))
    sold_g: dict[str, int] = field(default_factory=lambda: dict.fromkeys(MATERIAL_GROUPS, 0))

    @property
    def collected_total_g(self) -> int:
        return sum(self.collected_g.values())

    @property
    def sold_total_g(self) -> int:
        return sum(self.sold_g.values())


@dataclass
class SipsnReport:
    """The export of ``units`` (ordered by code) and their ``total`` for the local month;
    ``start``/``end`` UTC instants of its bounds; ``factors`` the pcs/L categories used, with
    their grams per unit and source (printed in docs and checked by tests)."""

    year: int
    month: int
    start: datetime
    end: datetime
    active_min_deposits: int
    units: list[SipsnUnit]
    total: SipsnUnit
    factors: list[WasteCategory]

    @property
    def month_text(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


def _sold_milli(unit_ids: list[int], start: datetime, end: datetime) -> dict[tuple[int, int], int]:
    """(unit id, category id) → thousandths accepted by buyers in sales posted in [start, end)."""
    rows = db.session.execute(
        select(SaleLine.unit_id, SaleLine.category_id, func.coalesce(func.sum(SaleLine.accepted_milli), 0))
        .join(Sale, Sale.id == SaleLine.sale_id)
        .where(Sale.unit_id.in_(unit_ids or [-1]), captured_in(Sale.posted_at, start, end))
        .group_by(SaleLine.unit_id, SaleLine.category_id))
    return {(u, c): int(q) for u, c, q in rows}


def sipsn_report(units: list[Unit], year: int, month: int) -> SipsnReport:
    """The tonnage export of ``units`` for local month ``year``-``month``. Raises
    :class:`MissingKgFactor` when a pcs/L category with quantities that month has no factor."""
    start, end = local_month_bounds(year, month)
    threshold = active_threshold()
    ids = [u.id for u in units]
    figures = period_figures(ids, start, end, threshold, money_out=False)
    sold = _sold_milli(ids, start, end)
    used = {c for fig in figures.values() for c in fig.categories} | {c for _u, c in sold}
    categories = {c.id: c for c in db.session.scalars(select(WasteCategory).where(
        WasteCategory.id.in_(list(used) or [-1])).order_by(WasteCategory.sort_order, WasteCategory.code))}
    missing = [c for c in categories.values() if c.unit != "kg" and c.kg_factor_g is None]
    if missing:
        raise MissingKgFactor(missing)
    rows = []
    total = SipsnUnit(None, "TOTAL", "")
    for unit in sorted(units, key=lambda u: u.code):
        fig = figures[unit.id]
        row = SipsnUnit(unit.id, unit.code, unit.name, unit.kelurahan, unit.kecamatan, unit.kota,
                        fig.active_members)
        for cat_id, cf in fig.categories.items():
            cat = categories[cat_id]
            row.collected_g[material_group(cat)] += grams_of(cf.quantity_milli, cat.unit, cat.kg_factor_g)
        for (unit_id, cat_id), milli in sold.items():
            if unit_id == unit.id:
                cat = categories[cat_id]
                row.sold_g[material_group(cat)] += grams_of(milli, cat.unit, cat.kg_factor_g)
        total.active_members += row.active_members
        for group in MATERIAL_GROUPS:
            total.collected_g[group] += row.collected_g[group]
            total.sold_g[group] += row.sold_g[group]
        rows.append(row)
    factors = [c for c in categories.values() if c.unit != "kg"]
    return SipsnReport(year, month, start, end, threshold, rows, total, factors)


def _group_labels() -> dict[str, str]:
    """The groups' names in the current language: the public unit page's translations
    (msgctxt ``material group``), so the two never name a group differently."""
    from flask_babel import pgettext

    return {"plastic": pgettext("material group", "Plastic"), "paper": pgettext("material group", "Paper"),
            "metal": pgettext("material group", "Metal"), "glass": pgettext("material group", "Glass"),
            "oil": pgettext("material group", "Cooking oil"), "other": pgettext("material group", "Other")}


def sipsn_table(report: SipsnReport, fmt: str = "names") -> tuple[list, list[list]]:
    """``(header, rows)`` of the export CSV (``csvfile.csv_bytes``): one row per unit, then the
    total. Columns: month, unit code, name, kelurahan, kecamatan, kota, active members, then per
    group the collected and the sold kilograms, then both totals. ``fmt`` ``"names"``: headers
    in the current language, kilograms as exact ``Decimal`` (``1,5``); ``"codes"``: stable
    snake_case headers (``plastic_collected_g``) and integer grams."""
    from flask_babel import gettext as _

    if fmt == "codes":
        header = ["month", "unit", "name", "kelurahan", "kecamatan", "kota", "active_members"]
        for group in MATERIAL_GROUPS:
            header += [f"{group}_collected_g", f"{group}_sold_g"]
        header += ["collected_total_g", "sold_total_g"]
    else:
        labels = _group_labels()
        header = [_("Month"), _("Unit"), _("Name"), _("Kelurahan"), _("Kecamatan"), _("City"),
                  _("Active (≥ %(n)s deposits)", n=report.active_min_deposits)]
        for group in MATERIAL_GROUPS:
            header += [_("%(group)s collected (kg)", group=labels[group]),
                       _("%(group)s sold (kg)", group=labels[group])]
        header += [_("Collected in total (kg)"), _("Sold in total (kg)")]

    def kg(grams: int):
        return grams if fmt == "codes" else quantity_cell(grams)

    rows = []
    for row in report.units + [report.total]:
        code = row.code if row.unit_id is not None or fmt == "codes" else _("Total")
        cells = [report.month_text, code, row.name, row.kelurahan, row.kecamatan, row.kota, row.active_members]
        for group in MATERIAL_GROUPS:
            cells += [kg(row.collected_g[group]), kg(row.sold_g[group])]
        cells += [kg(row.collected_total_g), kg(row.sold_total_g)]
        rows.append(cells)
    return header, rows


def sipsn_filename(scope_code: str, month_text: str) -> str:
    """``sipsn-JKT-2026-11.csv`` (the code made filename-safe)."""
    import re

    safe = re.sub(r"[^A-Za-z0-9_-]", "_", scope_code or "units")
    return f"sipsn-{safe}-{month_text}.csv"
