"""The charts of the impact dashboard and the unit report (issue 9 item 5), one description for
the web page (Chart.js, ``static/charts.js``) and the PDF (reportlab.graphics, ``documents.impact``).

A chart is a visible title, the value axis's label, category labels (category *names* in the
reader's language, never codes; months as ``2025-01``), the values in display units (kg) and
the same values already written in the reader's locale (``5.000`` in Indonesian, via Babel),
which the page also shows in its table fallback. Figures come from the reports' own objects:
nothing here queries a member.

* **kg per month**: the trend, categories measured in kg only (litres and pieces do not add
  to kilograms); ``None`` for a month suppressed for privacy.
* **category mix**: each kg category's share of the kilograms of the period.
* **CO₂e by category** (impact only).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

from babel.numbers import format_decimal
from flask_babel import gettext as _

from ..money import format_quantity


@dataclass(frozen=True)
class ChartData:
    """``key`` (HTML id part), ``kind`` (bar | hbar | pie), ``title``, ``axis`` (value axis
    label, e.g. ``"kg"``), ``labels``, ``values`` (kg as float, None = hidden) and ``texts``
    (each value in the reader's locale, "—" for None)."""

    key: str
    kind: str
    title: str
    axis: str
    labels: tuple[str, ...]
    values: tuple[float | None, ...]
    texts: tuple[str, ...]

    def to_json(self) -> dict:
        return asdict(self)


def number_text(value: float | None, locale) -> str:
    """``5000`` → ``"5.000"`` (id) / ``"5,000"`` (en); up to three decimals; None → "—"."""
    if value is None:
        return "—"
    return format_decimal(round(value, 3), format="#,##0.###", locale=str(locale or "id"))


def _kg(milli: int | None) -> float | None:
    return None if milli is None else milli / 1000


def _chart(key, kind, title, axis, labels, milli_values, locale, unit="kg") -> ChartData:
    values = tuple(_kg(v) for v in milli_values)
    texts = tuple("—" if v is None else format_quantity(v, unit, locale, with_unit=False) for v in milli_values)
    return ChartData(key, kind, title, axis, tuple(labels), values, texts)


def impact_charts(st, locale) -> list[ChartData]:
    """The impact statement's charts (``reports.impact.ImpactStatement``, not suppressed)."""
    kg_cats = [c for c in st.categories if c.category is None or c.category.unit == "kg"]

    def name(ci) -> str:
        return ci.category.name(locale) if ci.category is not None else _("Other categories")

    return [
        _chart("kg-month", "bar", _("Kilograms diverted per month"), "kg",
               [m.label for m in st.months], [m.weight_milli for m in st.months], locale),
        _chart("mix", "pie", _("Category mix by weight (kg)"), "kg",
               [name(c) for c in kg_cats], [c.quantity_milli for c in kg_cats], locale),
        _chart("co2e", "hbar", _("CO₂e avoided by category (kg)"), "kg CO₂e",
               [name(c) for c in st.categories], [c.co2e_g for c in st.categories], locale),
    ]


def kg_milli(fig, cats: dict) -> int:
    """Grams of ``fig``'s categories measured in kg (``cats``: id → CategoryInfo)."""
    return sum(cf.quantity_milli for c, cf in fig.categories.items() if c in cats and cats[c].unit == "kg")


def unit_charts(months: list, month_fig, cats: dict, locale) -> list[ChartData]:
    """The unit report's charts: ``months`` [(label "2025-01", UnitFigures)] for the trend and
    the chosen month's ``month_fig`` for the mix; ``cats`` (id → CategoryInfo) covers all."""
    mix = [(cats[c].name(locale), cf.quantity_milli) for c, cf in month_fig.categories.items()
           if c in cats and cats[c].unit == "kg" and cf.quantity_milli > 0]
    mix.sort(key=lambda pair: -pair[1])
    return [
        _chart("kg-month", "bar", _("Kilograms per month"), "kg", [label for label, _fig in months],
               [kg_milli(fig, cats) for _label, fig in months], locale),
        _chart("mix", "pie", _("Category mix by weight (kg)"), "kg", [n for n, _v in mix], [v for _n, v in mix],
               locale),
    ]
