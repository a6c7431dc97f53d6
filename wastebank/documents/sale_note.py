"""Sale note (*nota penjualan*) to an off-taker as PDF bytes, A5 portrait.

Pure function of its input: no Flask, no database, no clock. Every value and label arrives
already formatted and translated (money, weights, local time), so this module knows nothing of
currencies, locales or time zones. Text uses the bundled DejaVu Sans, so any Unicode name
renders. Output is byte-identical for identical input (``invariant=1``).
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A5
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from .fonts import FONT_BOLD, FONT_REGULAR, register_fonts
from .layout import fit_columns, letterhead, nobreak, signature_block

__all__ = ["SaleNoteData", "SaleNoteLine", "render_sale_note"]


@dataclass(frozen=True)
class SaleNoteLine:
    """One category of the sale; display strings, e.g. ``"PET bening"``, ``"15 kg"``,
    ``"14,6 kg"``, ``"0,4 kg"``, ``"Rp 4.500/kg"``, ``"Rp 65.700"``."""

    category: str
    weighed: str
    accepted: str
    shrinkage: str
    price: str
    amount: str


@dataclass(frozen=True)
class SaleNoteData:
    """Everything printed on a sale note, as display strings.

    ``headings`` are the six column titles (category, weighed, accepted, difference, price,
    amount); ``details`` are ``(label, value)`` rows under the title (sale number, date,
    off-taker, payment, recorded by); ``totals`` are ``(label, value)`` rows under the lines;
    ``signatures`` are the signature boxes: a caption (``"Pembeli"``) or ``(role, name)``
    (``("Bendahara", "")``; a blank name prints a dotted line to write it in), under
    ``place_date`` ("Jakarta Pusat, 2 Desember 2026"). ``unit_lines`` are the letterhead's
    lines under the unit's name (default: ``unit_address``).
    """

    title: str
    unit_name: str
    unit_address: str
    details: tuple[tuple[str, str], ...]
    headings: tuple[str, str, str, str, str, str]
    lines: tuple[SaleNoteLine, ...]
    totals: tuple[tuple[str, str], ...]
    note: str = ""
    signatures: tuple = ()
    unit_lines: tuple[str, ...] = ()
    place_date: str = ""


def _p(text: str, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(nobreak(text or "")), style)


def render_sale_note(data: SaleNoteData) -> bytes:
    """Render ``data`` on A5 portrait (148 × 210 mm, 12 mm margins; long tables flow onto more
    pages with the heading row repeated). Returns the PDF bytes."""
    register_fonts()
    base = ParagraphStyle("base", fontName=FONT_REGULAR, fontSize=8.5, leading=10.5)
    small = ParagraphStyle("small", parent=base, fontSize=7.5, leading=9, textColor=colors.HexColor("#444444"))
    bold = ParagraphStyle("bold", parent=base, fontName=FONT_BOLD)
    title = ParagraphStyle("title", parent=base, fontName=FONT_BOLD, fontSize=13, leading=16, spaceAfter=2)
    right = ParagraphStyle("right", parent=base, alignment=2)
    right_bold = ParagraphStyle("right_bold", parent=bold, alignment=2)

    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=A5, leftMargin=12 * mm, rightMargin=12 * mm, topMargin=12 * mm,
                            bottomMargin=12 * mm, title=data.title, author=data.unit_name, invariant=1)
    width = doc.width - 12  # the frame's own 6 pt padding on each side
    story = letterhead(data.unit_name, data.unit_lines or (data.unit_address,), width, size=8)
    story += [_p(data.title, title)]
    details = Table([[_p(k, small), _p(v, base)] for k, v in data.details], colWidths=[0.3 * width, 0.7 * width])
    details.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0),
                                 ("TOPPADDING", (0, 0), (-1, -1), 1), ("BOTTOMPADDING", (0, 0), (-1, -1), 1)]))
    story += [details, Spacer(1, 3 * mm)]

    # Header words and figures whole (layout.fit_columns); the category takes what is left.
    texts = [(l.category, l.weighed, l.accepted, l.shrinkage, l.price, l.amount) for l in data.lines]
    widths, size = fit_columns(data.headings, texts, width, numeric=(1, 2, 3, 4, 5),
                               weights=(3, 0.2, 0.2, 0.2, 0.2, 0.2), size=base.fontSize, padding=4)
    cell = ParagraphStyle("cell", parent=base, fontSize=size, leading=size * 1.24)
    cell_bold = ParagraphStyle("cell_bold", parent=cell, fontName=FONT_BOLD)
    cell_right = ParagraphStyle("cell_right", parent=cell, alignment=2)
    cell_right_bold = ParagraphStyle("cell_right_bold", parent=cell_bold, alignment=2)
    rows = [[_p(h, cell_bold if i == 0 else cell_right_bold) for i, h in enumerate(data.headings)]]
    for line in data.lines:
        rows.append([_p(line.category, cell), _p(line.weighed, cell_right), _p(line.accepted, cell_right),
                     _p(line.shrinkage, cell_right), _p(line.price, cell_right), _p(line.amount, cell_right)])
    table = Table(rows, colWidths=widths, repeatRows=1)
    table.setStyle(TableStyle([
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LINEBELOW", (0, 0), (-1, 0), 0.8, colors.black),
        ("LINEBELOW", (0, 1), (-1, -1), 0.3, colors.HexColor("#bbbbbb")),
        ("LEFTPADDING", (0, 0), (-1, -1), 2), ("RIGHTPADDING", (0, 0), (-1, -1), 2),
    ]))
    story.append(table)
    totals = Table([[_p(k, right_bold if i == len(data.totals) - 1 else right), _p(v, right_bold)]
                    for i, (k, v) in enumerate(data.totals)], colWidths=[0.7 * width, 0.3 * width])
    totals.setStyle(TableStyle([("LEFTPADDING", (0, 0), (-1, -1), 2), ("RIGHTPADDING", (0, 0), (-1, -1), 2),
                                ("TOPPADDING", (0, 0), (-1, -1), 1), ("BOTTOMPADDING", (0, 0), (-1, -1), 1)]))
    # Totals, note and signatures stay on one page: signatures never stand alone.
    closing = [Spacer(1, 2 * mm), totals]
    if data.note:
        closing += [Spacer(1, 3 * mm), _p(data.note, small)]
    if data.signatures:
        signers = [(s, "") if isinstance(s, str) else tuple(s) for s in data.signatures]
        closing += signature_block(data.place_date, signers, width, size=7.5, loose=True)
    story.append(KeepTogether(closing))
    doc.build(story)
    return buf.getvalue()
