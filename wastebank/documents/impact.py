"""The collaborator impact statement as an A4 PDF with charts (reportlab.graphics).

Pure function of its input: no Flask, no database. Texts arrive formatted; chart series arrive
as plain numbers in display units (kg, counts) with ``None`` for a suppressed month. The data
is aggregated before it gets here: this module never sees a member.
"""
from __future__ import annotations

from dataclasses import dataclass

from reportlab.graphics.charts.barcharts import HorizontalBarChart, VerticalBarChart
from reportlab.graphics.charts.linecharts import HorizontalLineChart
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, Paragraph, Spacer
from xml.sax.saxutils import escape

from .fonts import FONT_BOLD, FONT_REGULAR, register_fonts
from .statements import ReportSection, base_styles, build_doc, section_flowables

__all__ = ["ChartSeries", "ImpactDocument", "render_impact"]


@dataclass(frozen=True)
class ChartSeries:
    """A chart: ``title``, category ``labels`` and ``values`` (None = not shown)."""

    title: str
    labels: tuple[str, ...]
    values: tuple[float | None, ...]
    kind: str = "bar"  # bar | hbar | line


@dataclass(frozen=True)
class ImpactDocument:
    title: str
    subtitle: tuple[str, ...]
    headline: tuple[tuple[str, str], ...]  # (label, value) key figures
    charts: tuple[ChartSeries, ...]
    sections: tuple[ReportSection, ...]
    footer: str = ""
    page_label: str = "Page"


def _chart(series: ChartSeries, width: float) -> Drawing:
    height = 60 * mm if series.kind != "hbar" else max(40 * mm, 7 * mm * len(series.labels) + 15 * mm)
    drawing = Drawing(width, height)
    drawing.add(String(0, height - 10, series.title, fontName=FONT_BOLD, fontSize=9))
    values = [v if v is not None else 0 for v in series.values] or [0]
    top = max(values) or 1
    if series.kind == "line":
        chart = HorizontalLineChart()
        chart.data = [tuple(values)]
        chart.lines[0].strokeColor = colors.HexColor("#1565c0")
        chart.lines[0].strokeWidth = 1.5
    elif series.kind == "hbar":
        chart = HorizontalBarChart()
        chart.data = [tuple(values)]
        chart.bars[0].fillColor = colors.HexColor("#2e7d32")
    else:
        chart = VerticalBarChart()
        chart.data = [tuple(values)]
        chart.bars[0].fillColor = colors.HexColor("#2e7d32")
    left = 45 * mm if series.kind == "hbar" else 15 * mm
    chart.x, chart.y = left, 12 * mm
    chart.width, chart.height = width - left - 5 * mm, height - 12 * mm - 16
    chart.categoryAxis.categoryNames = list(series.labels) or [""]
    chart.categoryAxis.labels.fontName = FONT_REGULAR
    chart.categoryAxis.labels.fontSize = 6.5
    if series.kind != "hbar":
        chart.categoryAxis.labels.angle = 45 if len(series.labels) > 8 else 0
        chart.categoryAxis.labels.boxAnchor = "ne" if len(series.labels) > 8 else "n"
    chart.valueAxis.valueMin = 0
    chart.valueAxis.valueMax = top * 1.1
    chart.valueAxis.labels.fontName = FONT_REGULAR
    chart.valueAxis.labels.fontSize = 6.5
    drawing.add(chart)
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
    for series in doc.charts:
        story.append(Spacer(1, 4 * mm))
        story.append(KeepTogether([_chart(series, width)]))
    for section in doc.sections:
        story += section_flowables(section, width, styles)
    return build_doc(doc.title, doc.footer, doc.page_label, False, story)
