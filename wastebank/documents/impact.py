"""The collaborator impact statement as an A4 PDF with charts (reportlab.graphics).

Pure function of its input: no Flask, no database. Texts arrive formatted; chart series arrive
as plain numbers in display units (kg, counts) with ``None`` for a suppressed month. The data
is aggregated before it gets here: this module never sees a member.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

from reportlab.graphics.charts.barcharts import HorizontalBarChart, VerticalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.charts.piecharts import Pie
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import KeepTogether, Paragraph, Spacer
from xml.sax.saxutils import escape

from .fonts import FONT_BOLD, FONT_REGULAR, register_fonts
from .statements import ReportSection, base_styles, build_doc, section_flowables

__all__ = ["ChartSeries", "ImpactDocument", "render_impact"]


@dataclass(frozen=True)
class ChartSeries:
    """A chart: a visible ``title``, category ``labels`` (names, never codes) and ``values``
    (None = not shown, e.g. a suppressed month). ``kind``: ``bar`` (vertical, e.g. kg per
    month), ``hbar`` (horizontal, one bar per category) or ``pie`` (a mix, with a legend).
    ``axis_label`` names the value axis (``"kg"``); ``fmt`` writes a value in the reader's
    locale (``5000`` → ``"5.000"``), for the axis and the pie's legend."""

    title: str
    labels: tuple[str, ...]
    values: tuple[float | None, ...]
    kind: str = "bar"  # bar | hbar | pie
    axis_label: str = ""
    fmt: Callable[[float], str] = field(default=lambda v: f"{v:g}")


@dataclass(frozen=True)
class ImpactDocument:
    title: str
    subtitle: tuple[str, ...]
    headline: tuple[tuple[str, str], ...]  # (label, value) key figures
    charts: tuple[ChartSeries, ...]
    sections: tuple[ReportSection, ...]
    footer: str = ""
    page_label: str = "Page"
    notes: tuple[str, ...] = ()  # short captions under the key figures


_GREEN = colors.HexColor("#2e7d32")
_PALETTE = [colors.HexColor(c) for c in ("#2e7d32", "#1565c0", "#f9a825", "#6a1b9a", "#00838f", "#c62828",
                                         "#5d4037", "#558b2f", "#ad1457", "#455a64")]


def _nice_top(value: float) -> tuple[float, float]:
    """An axis maximum and step (1, 2 or 5 × 10^n) with four or five steps above ``value``."""
    if value <= 0:
        return 1.0, 0.25
    raw = value / 4
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    return step * math.ceil(value / step), step


def _percent(part: float, whole: float) -> str:
    """A share as whole percent; a slice under 1 % reads "< 1 %", not "0 %"."""
    share = 100 * part / whole if whole else 0
    return "< 1 %" if 0 < share < 1 else f"{round(share)} %"


def _pie(series: ChartSeries, width: float) -> Drawing:
    pairs = [(label, v) for label, v in zip(series.labels, series.values, strict=True) if v]
    height = max(55 * mm, 6 * mm * len(pairs) + 20 * mm)
    drawing = Drawing(width, height)
    drawing.add(String(0, height - 10, series.title, fontName=FONT_BOLD, fontSize=9))
    if not pairs:
        return drawing
    total = sum(v for _label, v in pairs)
    pie = Pie()
    size = min(height - 22 * mm, 45 * mm)
    pie.x, pie.y, pie.width, pie.height = 5 * mm, (height - 14 - size) / 2, size, size
    pie.data = [v for _label, v in pairs]
    pie.labels = None
    pie.slices.strokeColor = colors.white
    pie.slices.strokeWidth = 0.5
    for i in range(len(pairs)):
        pie.slices[i].fillColor = _PALETTE[i % len(_PALETTE)]
    drawing.add(pie)
    legend = Legend()
    legend.x, legend.y = size + 14 * mm, height - 20
    legend.alignment = "right"
    legend.fontName, legend.fontSize = FONT_REGULAR, 7.5
    legend.columnMaximum = 12
    legend.dx = legend.dy = 7
    legend.deltay = 11
    legend.colorNamePairs = [
        (_PALETTE[i % len(_PALETTE)],
         f"{label}: {series.fmt(v)} {series.axis_label} ({_percent(v, total)})".replace("  ", " "))
        for i, (label, v) in enumerate(pairs)]
    drawing.add(legend)
    return drawing


def _chart(series: ChartSeries, width: float) -> Drawing:
    if series.kind == "pie":
        return _pie(series, width)
    horizontal = series.kind == "hbar"
    height = 62 * mm if not horizontal else max(40 * mm, 7 * mm * len(series.labels) + 18 * mm)
    drawing = Drawing(width, height)
    drawing.add(String(0, height - 10, series.title, fontName=FONT_BOLD, fontSize=9))
    values = [v if v is not None else 0 for v in series.values] or [0]
    top, step = _nice_top(max(values))
    chart = HorizontalBarChart() if horizontal else VerticalBarChart()
    chart.data = [tuple(values)]
    chart.bars[0].fillColor = _GREEN
    longest = max([stringWidth(label, FONT_REGULAR, 7) for label in series.labels] or [0])
    left = min(70 * mm, longest + 4 * mm) if horizontal else 18 * mm
    bottom = 14 * mm if horizontal else 16 * mm
    chart.x, chart.y = left, bottom
    chart.width, chart.height = width - left - 8 * mm, height - bottom - 18
    chart.categoryAxis.categoryNames = list(series.labels) or [""]
    chart.categoryAxis.labels.fontName = FONT_REGULAR
    chart.categoryAxis.labels.fontSize = 7
    if not horizontal:
        many = len(series.labels) > 8
        chart.categoryAxis.labels.angle = 45 if many else 0
        chart.categoryAxis.labels.boxAnchor = "ne" if many else "n"
    chart.valueAxis.valueMin = 0
    chart.valueAxis.valueMax = top
    chart.valueAxis.valueStep = step
    chart.valueAxis.labels.fontName = FONT_REGULAR
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.labelTextFormat = series.fmt
    chart.barLabelFormat = lambda v: series.fmt(v) if v else ""
    chart.barLabels.fontName = FONT_REGULAR
    chart.barLabels.fontSize = 6.5
    chart.barLabels.boxAnchor = "w" if horizontal else "s"
    chart.barLabels.dx, chart.barLabels.dy = (3, 0) if horizontal else (0, 2)
    drawing.add(chart)
    if series.axis_label:  # the value axis's title, beside it
        if horizontal:
            drawing.add(String(left + chart.width, 3 * mm, series.axis_label, fontName=FONT_REGULAR, fontSize=7,
                               textAnchor="end"))
        else:
            drawing.add(String(0, height - 22, series.axis_label, fontName=FONT_REGULAR, fontSize=7))
    return drawing


def render_impact(doc: ImpactDocument) -> bytes:
    """Render the impact statement: title, key figures, charts, then the tables (A4 portrait)."""
    register_fonts()
    styles = base_styles()
    width = A4[0] - 24 * mm
    story = [Paragraph(escape(doc.title), styles["title"])]
    story += [Paragraph(escape(line), styles["sub"]) for line in doc.subtitle]
    story.append(Spacer(1, 3 * mm))
    for label, value in doc.headline:
        story.append(Paragraph(f"{escape(label)}: <b>{escape(value)}</b>", styles["sub"]))
    for note in doc.notes:
        story.append(Paragraph(escape(note), styles["note"]))
    for series in doc.charts:
        story.append(Spacer(1, 4 * mm))
        story.append(KeepTogether([_chart(series, width)]))
    for section in doc.sections:
        story += section_flowables(section, width, styles)
    return build_doc(doc.title, doc.footer, doc.page_label, False, story)
