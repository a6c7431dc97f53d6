"""A4 statements (monthly aggregator statement, unit reports) as PDF bytes.

Pure function of its input: no Flask, no database, no clock. Every value arrives as a display
string (money, quantities and dates already formatted), so this module knows nothing of
currencies, languages or time zones. Tables run over as many pages as needed; their header row
repeats on every page and the totals come last. DejaVu Sans is embedded, so any Unicode unit
name renders (``fonts.py``). Output is byte-identical for identical input (``invariant=1``).
"""
from __future__ import annotations

import io
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import (BaseDocTemplate, Flowable, Frame, PageTemplate, Paragraph, Spacer, Table,
                                TableStyle)

from .fonts import FONT_BOLD, FONT_REGULAR, register_fonts
from .layout import fit_columns, letterhead, nobreak, signature_block

__all__ = ["ReportSection", "TableReport", "render_table_report", "base_styles", "build_doc"]


@dataclass(frozen=True)
class ReportSection:
    """One table: ``heading``; ``header`` cells; body ``rows``; ``totals`` rows printed bold
    after the body (last); ``numeric`` column indexes are right-aligned and never wrap;
    ``widths`` relative shares of the width left once every header word and numeric cell fits
    (``layout.fit_columns``; default equal, the first column twice the share)."""

    heading: str
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    totals: tuple[tuple[str, ...], ...] = ()
    numeric: frozenset[int] = frozenset()
    widths: tuple[float, ...] | None = None
    note: str = ""


@dataclass(frozen=True)
class TableReport:
    """A document: ``title``, ``subtitle`` lines, ``sections``, ``footer`` text printed on every
    page with the page number (``page_label`` e.g. "Page"), ``landscape`` orientation.
    ``letterhead``: the issuer's name then its address lines, printed above the title (empty:
    none); ``place_date`` and ``signers`` (``(role, name)``, name "" for a blank): the signature
    block after everything else (``layout.signature_block``; none when ``signers`` is empty)."""

    title: str
    subtitle: tuple[str, ...] = ()
    sections: tuple[ReportSection, ...] = ()
    footer: str = ""
    page_label: str = "Page"
    landscape: bool = True
    extra: tuple = field(default=())  # further flowables (charts), appended after the sections
    letterhead: tuple[str, ...] = ()
    place_date: str = ""
    signers: tuple[tuple[str, str], ...] = ()


def base_styles(size: float = 8.0) -> dict[str, ParagraphStyle]:
    """Paragraph styles on the embedded font."""
    register_fonts()
    return {
        "title": ParagraphStyle("title", fontName=FONT_BOLD, fontSize=14, leading=18, spaceAfter=2 * mm),
        "sub": ParagraphStyle("sub", fontName=FONT_REGULAR, fontSize=9, leading=12),
        "h2": ParagraphStyle("h2", fontName=FONT_BOLD, fontSize=11, leading=14, spaceBefore=5 * mm,
                             spaceAfter=2 * mm),
        "cell": ParagraphStyle("cell", fontName=FONT_REGULAR, fontSize=size, leading=size * 1.2),
        "cellr": ParagraphStyle("cellr", fontName=FONT_REGULAR, fontSize=size, leading=size * 1.2, alignment=2),
        "head": ParagraphStyle("head", fontName=FONT_BOLD, fontSize=size, leading=size * 1.2),
        "headr": ParagraphStyle("headr", fontName=FONT_BOLD, fontSize=size, leading=size * 1.2, alignment=2),
        "bold": ParagraphStyle("bold", fontName=FONT_BOLD, fontSize=size, leading=size * 1.2),
        "boldr": ParagraphStyle("boldr", fontName=FONT_BOLD, fontSize=size, leading=size * 1.2, alignment=2),
        "note": ParagraphStyle("note", fontName=FONT_REGULAR, fontSize=7.5, leading=9.5, textColor=colors.grey),
    }


def _p(text: str, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(nobreak(str(text))).replace("\n", "<br/>"), style)


def section_flowables(section: ReportSection, width: float, styles: dict) -> list[Flowable]:
    """Heading, and the table with its repeating header row and totals last. Column widths and
    the table's font size come from ``layout.fit_columns``: header words and figures whole."""
    n = len(section.header)
    rel = section.widths or tuple([2.0] + [1.0] * (n - 1))
    size = styles["cell"].fontSize
    col_widths, fitted = fit_columns(section.header, section.rows + section.totals, width,
                                     numeric=sorted(section.numeric), weights=rel, size=size)
    if fitted != size:
        styles = {**styles, **{k: v for k, v in base_styles(fitted).items() if k not in ("title", "sub", "h2", "note")}}

    def row(cells, plain, right):
        return [_p(c, right if i in section.numeric else plain) for i, c in enumerate(cells)]

    data = [row(section.header, styles["head"], styles["headr"])]
    data += [row(r, styles["cell"], styles["cellr"]) for r in section.rows]
    data += [row(r, styles["bold"], styles["boldr"]) for r in section.totals]
    table = Table(data, colWidths=col_widths, repeatRows=1)
    style = [
        ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e6efe6")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), 1.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
        # fit_columns counts 6 pt of padding per cell.
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ]
    if section.totals:
        style.append(("BACKGROUND", (0, len(data) - len(section.totals)), (-1, -1), colors.HexColor("#f2f2f2")))
        style.append(("LINEABOVE", (0, len(data) - len(section.totals)), (-1, -1), 1.0, colors.black))
    table.setStyle(TableStyle(style))
    out: list[Flowable] = [_p(section.heading, styles["h2"])]
    if section.note:
        out.append(_p(section.note, styles["note"]))
        out.append(Spacer(1, 1 * mm))
    out.append(table)
    return out


def build_doc(title: str, footer: str, page_label: str, is_landscape: bool, story: list[Flowable]) -> bytes:
    """Lay ``story`` out on A4 pages with a footer (``footer`` · page N) and return the bytes."""
    register_fonts()
    pagesize = landscape(A4) if is_landscape else A4
    buffer = io.BytesIO()
    margin = 12 * mm
    doc = BaseDocTemplate(buffer, pagesize=pagesize, leftMargin=margin, rightMargin=margin, topMargin=margin,
                          bottomMargin=margin + 4 * mm, title=title, author="wastebank", invariant=1)
    frame = Frame(margin, margin + 4 * mm, pagesize[0] - 2 * margin, pagesize[1] - 2 * margin - 4 * mm,
                  id="body", leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0)

    def on_page(canvas, document):
        canvas.saveState()
        canvas.setFont(FONT_REGULAR, 7.5)
        canvas.setFillColor(colors.grey)
        canvas.drawString(margin, margin, footer)
        canvas.drawRightString(pagesize[0] - margin, margin, f"{page_label} {document.page}")
        canvas.restoreState()

    doc.addPageTemplates([PageTemplate(id="page", frames=[frame], onPage=on_page)])
    doc.build(story)
    return buffer.getvalue()


def render_table_report(report: TableReport) -> bytes:
    """Render ``report`` as A4 PDF bytes (landscape unless ``report.landscape`` is False)."""
    styles = base_styles()
    pagesize = landscape(A4) if report.landscape else A4
    width = pagesize[0] - 24 * mm
    story: list[Flowable] = []
    if report.letterhead:
        story += letterhead(report.letterhead[0], report.letterhead[1:], width)
    story += [_p(report.title, styles["title"])]
    story += [_p(line, styles["sub"]) for line in report.subtitle]
    for section in report.sections:
        story += section_flowables(section, width, styles)
    story += list(report.extra)
    if report.signers:
        story.append(signature_block(report.place_date, report.signers, width))
    return build_doc(report.title, report.footer, report.page_label, report.landscape, story)
