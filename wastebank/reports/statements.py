"""The monthly aggregator statement (docs/rules.md §documents, issue 5): per unit and in total, for
one local month. Built from ``figures.period_figures``; the PDF, the CSV, the JSON API and the CLI
all take this one object, so they cannot disagree.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Integer, bindparam, func, select

from ..auth.permissions import has_permission
from ..extensions import db
from ..models import WITHDRAWAL_METHODS, Aggregator, JournalEntry, Member, Unit, WasteCategory, Withdrawal
from ..models.types import UTCDateTime
from ..services.payout_methods import summary as payout_summary
from ..services.transaction import prepared, run_core
from ..timeutil import local_month_bounds
from .csvfile import csv_bytes, quantity_cell
from .figures import UnitFigures, active_threshold, bound_id_set, period_figures
from .period import captured_in
from .signing import committee_signers, place_date, unit_letterhead

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def parse_month(text: str) -> tuple[int, int]:
    """``"2025-01"`` → ``(2025, 1)``. Raises ValueError for anything else (years 2000–2999)."""
    match = _MONTH.match((text or "").strip())
    if not match:
        raise ValueError("month must look like YYYY-MM")
    year, month = int(match.group(1)), int(match.group(2))
    if not (1 <= month <= 12 and 2000 <= year <= 2999):
        raise ValueError("month must look like YYYY-MM")
    return year, month


@dataclass(frozen=True)
class CategoryInfo:
    """A category shown on a statement: code, names, unit of measure, CO₂e factor (grams per
    unit) and the factor's source (which carries its version, e.g. ``EPA WARM v16 PET``)."""

    id: int
    code: str
    name_id: str
    name_en: str
    unit: str
    co2e_g_per_unit: int
    co2e_source: str

    def name(self, locale) -> str:
        return self.name_en if str(locale).startswith("en") else self.name_id


def categories_by_id(ids) -> dict[int, CategoryInfo]:
    """The categories ``ids`` in display order (sort order, then code)."""
    ids = list(ids)
    if not ids:
        return {}
    rows = run_core(prepared("statements.categories", _categories_select), {"ids": ids}).all()
    return {row[0]: CategoryInfo(*row) for row in rows}


def _categories_select(dialect: str):
    return (select(WasteCategory.id, WasteCategory.code, WasteCategory.name_id, WasteCategory.name_en,
                   WasteCategory.unit, WasteCategory.co2e_g_per_unit, WasteCategory.co2e_source)
            .where(bound_id_set(dialect, "ids")(WasteCategory.id))
            .order_by(WasteCategory.sort_order, WasteCategory.code))


@dataclass
class MonthlyStatement:
    """One aggregator's statement for a local month: ``units`` (ordered by code), ``total``
    (their sum), ``categories`` seen in the month (display order). ``start``/``end`` are the
    UTC instants of local midnight on the 1st of the month and of the next
    (docs/rules.md §periods)."""

    aggregator_code: str
    aggregator_name: str
    year: int
    month: int
    start: datetime
    end: datetime
    active_min_deposits: int
    units: list[UnitFigures]
    total: UnitFigures
    categories: dict[int, CategoryInfo]
    #: Each gold or bill payout of the month with its references (docs/payouts.md).
    payouts: list["PayoutLine"] = field(default_factory=list)

    @property
    def month_text(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


def build_statement(units: list[Unit], year: int, month: int, *, aggregator_code: str = "",
                    aggregator_name: str = "") -> MonthlyStatement:
    """The statement of ``units`` for local month ``year``-``month``."""
    start, end = local_month_bounds(year, month)
    threshold = active_threshold()
    figures = period_figures([u.id for u in units], start, end, threshold,
                             units=[(u.id, u.code, u.name) for u in units])
    ordered = sorted(figures.values(), key=lambda f: f.code)
    total = UnitFigures(None, "TOTAL", "")
    for fig in ordered:
        total.add(fig)
    return MonthlyStatement(aggregator_code, aggregator_name, year, month, start, end, threshold, ordered,
                            total, categories_by_id(total.categories),
                            payouts=payout_lines([u.id for u in units], start, end))


@dataclass(frozen=True)
class PayoutLine:
    """One gold or bill withdrawal paid in the month (by its payment's capture time): the unit
    code, receipt number, ``paid_at`` (aware UTC), member number, ``withdrawal`` (its row, for
    ``payout_methods.summary``), rupiah, and whether it was voided since."""

    unit_code: str
    receipt_no: str
    paid_at: datetime
    member_no: str
    withdrawal: Withdrawal
    amount_idr: int
    voided: bool


def payout_lines(unit_ids: list[int], start: datetime, end: datetime) -> list[PayoutLine]:
    """The gold and bill payouts of ``unit_ids`` whose payment was captured in [``start``,
    ``end``), in unit and receipt order, each with its references (one query)."""
    rows = db.session.execute(prepared("statements.payouts", _payouts_select),
                              {"units": list(unit_ids) or [-1], "start": start, "end": end})
    return [PayoutLine(code, w.receipt_no, w.paid_at, member_no, w, w.amount_idr, w.void_entry_id is not None)
            for w, code, member_no in rows]


def _payouts_select(dialect: str):
    return (select(Withdrawal, Unit.code, Member.member_no)
            .join(JournalEntry, JournalEntry.id == Withdrawal.entry_id)
            .join(Unit, Unit.id == Withdrawal.unit_id).join(Member, Member.id == Withdrawal.member_id)
            .where(bound_id_set(dialect, "units")(Withdrawal.unit_id), Withdrawal.method.in_(("gold", "bill")),
                   captured_in(JournalEntry.recorded_at, bindparam("start", type_=UTCDateTime()),
                               bindparam("end", type_=UTCDateTime())))
            .order_by(Unit.code, Withdrawal.receipt_no))


def aggregator_statement(aggregator: Aggregator, year: int, month: int,
                         unit_ids: list[int] | None = None) -> MonthlyStatement:
    """The statement of ``aggregator``'s units (restricted to ``unit_ids`` when given: the
    caller's scope) for the local month."""
    scoped = unit_ids is not None
    units = list(db.session.scalars(prepared(f"statements.units:{scoped}", _units_select(scoped)),
                                    {"aggregator_id": aggregator.id, "units": list(unit_ids or ()) or [-1]}))
    return build_statement(units, year, month, aggregator_code=aggregator.code, aggregator_name=aggregator.name)


def _units_select(scoped: bool):
    def build(dialect: str):
        query = select(Unit).where(Unit.aggregator_id == bindparam("aggregator_id", type_=Integer))
        if scoped:
            query = query.where(bound_id_set(dialect, "units")(Unit.id))
        return query.order_by(Unit.code)
    return build


def find_aggregator(code: str) -> Aggregator | None:
    return db.session.scalar(select(Aggregator).where(func.upper(Aggregator.code) == (code or "").strip().upper()))


def readable_aggregator(user, code: str) -> Aggregator | None:
    """The aggregator ``code`` if ``user`` may read its statements (admins: any; aggregator
    staff: their own), else None — callers answer 404 so other codes do not leak."""
    aggregator = find_aggregator(code) if code and len(code) <= 20 else None
    if aggregator is None or has_permission(user, "scope.all_units"):
        return aggregator
    if has_permission(user, "scope.own_aggregator") and user.aggregator_id == aggregator.id:
        return aggregator
    return None


# --- JSON ------------------------------------------------------------------------------------


def unit_json(fig: UnitFigures, categories: dict[int, CategoryInfo]) -> dict:
    """One unit's (or the total's) figures as JSON-ready data (rupiah and thousandths as int)."""
    return {
        "unit": fig.code, "name": fig.name,
        "members": fig.members, "new_members": fig.new_members, "active_members": fig.active_members,
        "households_served": fig.households,
        "deposits": fig.deposits, "voided_deposits": fig.voided_deposits,
        "deposit_value_idr": fig.deposit_value_idr, "fee_idr": fig.fee_idr, "credited_idr": fig.credited_idr,
        "by_category": [
            {"category": categories[c].code, "unit": categories[c].unit,
             "quantity_milli": fig.categories[c].quantity_milli, "value_idr": fig.categories[c].value_idr}
            for c in categories if c in fig.categories
        ],
        "withdrawals": fig.withdrawals,
        "withdrawals_idr": dict(fig.withdrawals_idr),
        "withdrawals_total_idr": fig.withdrawals_total_idr,
        "savings_owed_idr": fig.savings_owed_idr,
        "sales": fig.sales, "sales_idr": fig.sales_idr, "margin_idr": fig.margin_idr,
        "stock_idr": fig.stock_idr,
    }


def statement_json(st: MonthlyStatement) -> dict:
    """The statement as the API answers it."""
    return {
        "aggregator": {"code": st.aggregator_code, "name": st.aggregator_name},
        "month": st.month_text,
        "start": st.start.isoformat(), "end": st.end.isoformat(),
        "active_member_min_deposits": st.active_min_deposits,
        "categories": [{"code": c.code, "name_id": c.name_id, "name_en": c.name_en, "unit": c.unit}
                       for c in st.categories.values()],
        "units": [unit_json(fig, st.categories) for fig in st.units],
        "total": unit_json(st.total, st.categories),
    }


# --- CSV -------------------------------------------------------------------------------------

QUANTITY_HEADER_UNIT = {"kg": "g", "L": "mL", "pcs": "pcs/1000"}


def _method_labels() -> dict[str, str]:
    from flask_babel import gettext as _

    return {"cash": _("Cash"), "transfer": _("Transfer"), "goods": _("Goods"), "donation": _("Donation"),
            "gold": _("Gold savings"), "bill": _("Bill payment")}


def _rp(label: str) -> str:
    """A column header of rupiah figures: ``"Nilai setoran (Rp)"``. (Translated outside
    f-strings: Babel's extractor does not see into them on Python 3.11.)"""
    return f"{label} (Rp)"


def statement_table(st: MonthlyStatement, fmt: str = "names", locale: str = "id") -> tuple[list, list[list]]:
    """``(header, rows)`` of the statement CSV: one row per unit, then the total row; the same
    figures as the PDF and the API. ``fmt`` ``"names"`` (people): headers in the current
    language, category names, quantities as exact ``Decimal`` kg/L/pcs; ``"codes"`` (machines,
    stable): snake_case headers, category codes, quantities in integer thousandths (grams,
    millilitres, thousandths of a piece) and ``TOTAL``. Rupiah are integers in both."""
    from flask_babel import gettext as _

    if fmt == "codes":
        header = ["month", "unit", "name", "members", "new_members", "active_members", "deposits",
                  "voided_deposits", "deposit_value_idr", "fee_idr", "credited_idr"]
        header += [f"withdrawals_{m}_idr" for m in WITHDRAWAL_METHODS]
        header += ["withdrawals_total_idr", "savings_owed_idr", "sales_idr", "margin_idr", "stock_idr"]
        for cat in st.categories.values():
            header += [f"{cat.code} quantity ({QUANTITY_HEADER_UNIT[cat.unit]})", f"{cat.code} value_idr"]
    else:
        methods = _method_labels()
        header = [_("Month"), _("Unit"), _("Name"), _("Members"), _("New members"),
                  _("Active (≥ %(n)s deposits)", n=st.active_min_deposits), _("Deposits"), _("Voided deposits"),
                  _rp(_("Deposit value")), _rp(_("Fees")), _rp(_("Credited"))]
        header += [_rp(_("Withdrawals (%(method)s)", method=methods[m].lower())) for m in WITHDRAWAL_METHODS]
        header += [_rp(_("Withdrawals")), _rp(_("Savings owed at month end")), _rp(_("Sales")),
                   _rp(_("Trading margin")), _rp(_("Stock at cost"))]
        for cat in st.categories.values():
            header += [f"{cat.name(locale)} ({cat.unit})", f"{cat.name(locale)} (Rp)"]
    rows = []
    for fig in st.units + [st.total]:
        code = fig.code if fig.unit_id is not None or fmt == "codes" else _("Total")
        row = [st.month_text, code, fig.name, fig.members, fig.new_members, fig.active_members,
               fig.deposits, fig.voided_deposits, fig.deposit_value_idr, fig.fee_idr, fig.credited_idr]
        row += [fig.withdrawals_idr.get(m, 0) for m in WITHDRAWAL_METHODS]
        row += [fig.withdrawals_total_idr, fig.savings_owed_idr, fig.sales_idr, fig.margin_idr, fig.stock_idr]
        for cat_id in st.categories:
            cf = fig.categories.get(cat_id)
            qty = cf.quantity_milli if cf else 0
            row += [qty if fmt == "codes" else quantity_cell(qty), cf.value_idr if cf else 0]
        rows.append(row)
    return header, rows


def statement_csv(st: MonthlyStatement, sep: str = ",", fmt: str = "codes", locale: str = "id") -> bytes:
    """The statement CSV file (``csvfile.csv_bytes``) of :func:`statement_table`."""
    return csv_bytes(*statement_table(st, fmt, locale), sep=sep)


def statement_filename(st: MonthlyStatement, ext: str) -> str:
    safe = re.sub(r"[^A-Za-z0-9_-]", "_", st.aggregator_code or "units")
    return f"statement-{safe}-{st.month_text}.{ext}"


# --- PDF -------------------------------------------------------------------------------------


def statement_pdf(st: MonthlyStatement, locale: str = "id", generated: str = "") -> bytes:
    """The statement as an A4 PDF (``documents.statements``), labels in the current language."""
    from babel.numbers import format_decimal
    from flask_babel import gettext as _

    from ..documents.statements import ReportSection, TableReport, render_table_report
    from ..money import format_idr, format_quantity

    def idr(v):
        return format_idr(v, locale)

    def num(v):
        return format_decimal(v, locale=locale, group_separator=True)

    method_labels = _method_labels()
    def unit_label(fig):
        return f"{fig.code} — {fig.name}" if fig.unit_id is not None else _("Total")

    summary = ReportSection(
        heading=_("Summary per unit"),
        header=(_("Unit"), _("Members"), _("New"), _("Active (≥ %(n)s deposits)", n=st.active_min_deposits),
                _("Deposits"), _("Deposit value"), _("Fees"), _("Withdrawals"), _("Savings owed at month end"),
                _("Sales"), _("Trading margin"), _("Stock at cost")),
        rows=tuple((unit_label(f), num(f.members), num(f.new_members), num(f.active_members), num(f.deposits),
                    idr(f.deposit_value_idr), idr(f.fee_idr), idr(f.withdrawals_total_idr), idr(f.savings_owed_idr),
                    idr(f.sales_idr), idr(f.margin_idr), idr(f.stock_idr)) for f in st.units),
        totals=((unit_label(st.total), num(st.total.members), num(st.total.new_members),
                 num(st.total.active_members), num(st.total.deposits), idr(st.total.deposit_value_idr),
                 idr(st.total.fee_idr), idr(st.total.withdrawals_total_idr), idr(st.total.savings_owed_idr),
                 idr(st.total.sales_idr), idr(st.total.margin_idr), idr(st.total.stock_idr)),),
        numeric=frozenset(range(1, 12)),
        widths=(3.2, 1, 0.8, 1.1, 1, 1.4, 1.2, 1.3, 1.5, 1.3, 1.2, 1.3),
        note=_("Deposits and withdrawals are net of voids: a void counts, negated, in the month it was "
               "recorded. Savings owed and stock are the ledger balances at the end of the month."),
    )
    withdrawals = ReportSection(
        heading=_("Withdrawals by method"),
        header=(_("Unit"),) + tuple(method_labels[m] for m in WITHDRAWAL_METHODS) + (_("Total"),),
        rows=tuple((unit_label(f),) + tuple(idr(f.withdrawals_idr.get(m, 0)) for m in WITHDRAWAL_METHODS)
                   + (idr(f.withdrawals_total_idr),) for f in st.units),
        totals=((unit_label(st.total),) + tuple(idr(st.total.withdrawals_idr.get(m, 0)) for m in WITHDRAWAL_METHODS)
                + (idr(st.total.withdrawals_total_idr),),),
        numeric=frozenset(range(1, len(WITHDRAWAL_METHODS) + 2)),
        widths=(3,) + (1,) * len(WITHDRAWAL_METHODS) + (1.2,),
    )
    cat_rows = []
    for fig in st.units:
        for cat_id, cat in st.categories.items():
            cf = fig.categories.get(cat_id)
            if cf:
                cat_rows.append((unit_label(fig), cat.name(locale),
                                 format_quantity(cf.quantity_milli, cat.unit, locale), idr(cf.value_idr)))
    cat_totals = tuple(
        (_("Total"), cat.name(locale), format_quantity(st.total.categories[cat_id].quantity_milli, cat.unit, locale),
         idr(st.total.categories[cat_id].value_idr))
        for cat_id, cat in st.categories.items()
    ) + ((_("Total"), _("All categories"), "", idr(st.total.deposit_value_idr)),)
    by_category = ReportSection(
        heading=_("Quantity and value by category"),
        header=(_("Unit"), _("Category"), _("Quantity"), _("Value")),
        rows=tuple(cat_rows), totals=cat_totals, numeric=frozenset({2, 3}), widths=(3, 3, 1.2, 1.2),
    )
    title = _("Monthly statement %(month)s — %(name)s", month=st.month_text,
              name=st.aggregator_name or st.aggregator_code)
    subtitle = (
        _("Aggregator %(code)s · %(units)s units · month from local midnight on the 1st to the 1st of the next "
          "month", code=st.aggregator_code, units=len(st.units)),
    ) + ((generated,) if generated else ())
    head, place = statement_letterhead(st)
    sections = (summary, withdrawals) + _payout_sections(st, locale) + (by_category,)
    report = TableReport(title=title, subtitle=subtitle, sections=sections,
                         footer=f"{st.aggregator_code} {st.month_text}", page_label=_("Page"),
                         letterhead=head, place_date=place_date(place, locale), signers=committee_signers())
    return render_table_report(report)


def _payout_sections(st: MonthlyStatement, locale: str) -> tuple:
    """The "Gold savings and bill payments" table (each payout with its references), or none."""
    from flask_babel import gettext as _

    from ..documents.statements import ReportSection
    from ..money import format_idr
    from ..timeutil import format_local

    if not st.payouts:
        return ()
    rows = tuple((p.unit_code, p.receipt_no, format_local(p.paid_at, locale=locale), p.member_no,
                  payout_summary(p.withdrawal, locale) + (" · " + _("VOID") if p.voided else ""),
                  format_idr(p.amount_idr, locale)) for p in st.payouts)
    return (ReportSection(
        heading=_("Gold savings and bill payments"),
        header=(_("Unit"), _("Receipt no."), _("Paid"), _("Member"), _("Details"), _("Amount")),
        rows=rows, numeric=frozenset({1, 5}), widths=(1, 1.6, 1.4, 1.2, 5, 1.2),
        note=_("Gold in whole milligrams, rounded down; a voided payout counts, negated, in the month of its void."),
    ),)


def statement_letterhead(st: MonthlyStatement) -> tuple[tuple[str, ...], str]:
    """The statement's letterhead lines and the place it is signed in: a one-unit statement
    carries the unit's letterhead (``signing.unit_letterhead``), a wider one the aggregator's
    name and code; the place is the city most of its units are in ("" if none is recorded)."""
    from collections import Counter

    from flask_babel import gettext as _

    codes = [f.code for f in st.units]
    units = list(db.session.scalars(select(Unit).where(Unit.code.in_(codes or ["-"])).order_by(Unit.code)))
    cities = Counter(u.kota for u in units if u.kota)
    place = cities.most_common(1)[0][0] if cities else ""
    if len(units) == 1:
        return unit_letterhead(units[0]), place
    name = st.aggregator_name or st.aggregator_code
    return (name, _("Waste bank aggregator %(code)s · units in %(places)s", code=st.aggregator_code,
                    places=", ".join(sorted(cities)) or "—")), place
