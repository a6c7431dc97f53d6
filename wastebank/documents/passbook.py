"""Member statement (*buku tabungan*) as PDF bytes (docs/rules.md §documents).

Pure function of its input: no Flask, no database, no clock. Values arrive formatted (money,
local dates) and labels arrive translated, so this module knows nothing of currencies, time
zones or languages. A4 portrait, any length: the movements are one platypus ``Table`` with
``repeatRows=1``, so its header row repeats at the top of every page; every page carries the
member's name and number and "page n" in its footer.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from .fonts import FONT_BOLD, FONT_REGULAR, register_fonts
from .layout import fit_columns, letterhead, nobreak, signature_block

__all__ = ["StatementData", "StatementLabels", "StatementRow", "render_statement"]


@dataclass(frozen=True)
class StatementRow:
    """One movement; display strings. ``money_in`` / ``money_out``: one of them is "" .

    ``date`` is the local date of the capture time (the day the movement belongs to);
    ``posted`` the local posting time when it differs (an offline capture synced later, e.g.
    ``"01-08-2025 08.00 WIB"``), printed under the date after ``labels.posted``; else "".
    """

    date: str
    description: str
    reference: str
    money_in: str
    money_out: str
    balance: str
    posted: str = ""


@dataclass(frozen=True)
class StatementLabels:
    """Translated fixed texts (defaults are Indonesian)."""

    title: str = "BUKU TABUNGAN"
    member: str = "Nasabah"
    period: str = "Periode"
    printed: str = "Dicetak"
    date: str = "Tanggal"
    description: str = "Keterangan"
    reference: str = "No. bukti"
    money_in: str = "Masuk"
    money_out: str = "Keluar"
    balance: str = "Saldo"
    opening: str = "Saldo awal"
    closing: str = "Saldo akhir"
    no_movements: str = "Tidak ada transaksi pada periode ini."
    page: str = "Halaman"
    posted: str = "dibukukan"


@dataclass(frozen=True)
class StatementData:
    """A statement ready to print.

    Attributes:
        unit_name, unit_address: the unit (address may be "").
        member_name, member_no: e.g. ``"Siti Aminah"``, ``"RW05-0001"``.
        period: e.g. ``"01-01-2026 – 31-01-2026"``.
        printed_at: local date and time of printing, e.g. ``"02-02-2026 09.15 WIB"``.
        opening, closing: formatted balances, e.g. ``"Rp 125.000"``.
        rows: the movements, oldest first, each with its running balance.
        unit_lines: the letterhead's lines under the unit's name (street; kelurahan, kecamatan,
            kota); empty: ``unit_address`` is printed instead.
        place_date, signers: the closing "place, date" and the signature boxes ``(role, name)``
            (``layout.signature_block``); no block when ``signers`` is empty.
    """

    unit_name: str
    unit_address: str
    member_name: str
    member_no: str
    period: str
    printed_at: str
    opening: str
    closing: str
    rows: tuple[StatementRow, ...]
    labels: StatementLabels = field(default_factory=StatementLabels)
    unit_lines: tuple[str, ...] = ()
    place_date: str = ""
    signers: tuple[tuple[str, str], ...] = ()


def render_statement(data: StatementData) -> bytes:
    """Render ``data`` as an A4 PDF of as many pages as the rows need.

    Returns PDF bytes, byte-identical for identical input (``invariant=1``).
    """
    register_fonts()
    labels = data.labels
    base = ParagraphStyle("base", fontName=FONT_REGULAR, fontSize=9, leading=11)
    bold = ParagraphStyle("bold", parent=base, fontName=FONT_BOLD)
    title = ParagraphStyle("title", parent=base, fontName=FONT_BOLD, fontSize=15, leading=19)
    note = ParagraphStyle("note", parent=base, fontSize=7, leading=8.5, textColor=colors.HexColor("#5f6b66"))

    def p(text: str, style=base) -> Paragraph:
        return Paragraph(escape(nobreak(text)), style)

    width = A4[0] - 30 * mm - 12  # the frame's own 6 pt padding on each side
    story = letterhead(data.unit_name, data.unit_lines or (data.unit_address,), width)
    story += [
        p(labels.title, title),
        Spacer(1, 2 * mm),
        Table([[p(labels.member), p(f"{data.member_name} ({data.member_no})", bold)],
               [p(labels.period), p(data.period)],
               [p(labels.printed), p(data.printed_at)]],
              colWidths=[30 * mm, None], hAlign="LEFT",
              style=[("LEFTPADDING", (0, 0), (-1, -1), 0), ("TOPPADDING", (0, 0), (-1, -1), 1),
                     ("BOTTOMPADDING", (0, 0), (-1, -1), 1)]),
        Spacer(1, 5 * mm),
    ]
    # Widths that keep every header word and amount whole (layout.fit_columns); the
    # description takes most of what is left.
    texts = [[r.date, r.description, r.reference, r.money_in, r.money_out, r.balance] for r in data.rows]
    texts += [["", labels.opening, "", "", "", data.opening], ["", labels.closing, "", "", "", data.closing]]
    widths, size = fit_columns([labels.date, labels.description, labels.reference, labels.money_in,
                                labels.money_out, labels.balance], texts, width, numeric=(0, 3, 4, 5),
                               weights=(0.2, 3, 0.8, 0.3, 0.3, 0.3), size=9)
    cell = ParagraphStyle("cell", parent=base, fontSize=size, leading=size * 1.22)
    cell_bold = ParagraphStyle("cell_bold", parent=cell, fontName=FONT_BOLD)
    cell_right = ParagraphStyle("cell_right", parent=cell, alignment=TA_RIGHT)
    cell_right_bold = ParagraphStyle("cell_right_bold", parent=cell_right, fontName=FONT_BOLD)
    header = [p(labels.date, cell_bold), p(labels.description, cell_bold), p(labels.reference, cell_bold),
              p(labels.money_in, cell_right_bold), p(labels.money_out, cell_right_bold),
              p(labels.balance, cell_right_bold)]
    table_rows = [header, [p(""), p(labels.opening, cell_bold), p(""), p(""), p(""), p(data.opening, cell_right_bold)]]
    for row in data.rows:
        when = [p(row.date, cell), p(f"{labels.posted} {row.posted}", note)] if row.posted else p(row.date, cell)
        table_rows.append([when, p(row.description, cell), p(row.reference, cell), p(row.money_in, cell_right),
                           p(row.money_out, cell_right), p(row.balance, cell_right)])
    if not data.rows:
        table_rows.append([p(""), p(labels.no_movements, cell), p(""), p(""), p(""), p("")])
    closing = [p(""), p(labels.closing, cell_bold), p(""), p(""), p(""), p(data.closing, cell_right_bold)]
    signed = bool(data.signers)
    if signed:
        # The closing balance and the signature block make the table's last row (one cell
        # across): a row never splits, so on a new page they come together under the
        # repeated header row, never the signatures alone.
        inner = Table([closing], colWidths=widths, style=[
            ("LINEABOVE", (0, 0), (-1, 0), 0.8, colors.black), ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("LEFTPADDING", (0, 0), (-1, -1), 3), ("RIGHTPADDING", (0, 0), (-1, -1), 3)])
        table_rows.append([[inner, *signature_block(data.place_date, data.signers, width, loose=True)],
                           "", "", "", "", ""])
    else:
        table_rows.append(closing)
    table = Table(table_rows, repeatRows=1, colWidths=widths)
    table.setStyle(TableStyle([
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e3f5ea")),
        ("LINEBELOW", (0, 0), (-1, 0), 0.8, colors.HexColor("#125a31")),
        ("LINEBELOW", (0, 1), (-1, -2), 0.25, colors.HexColor("#d5ddd8")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
        *([("SPAN", (0, -1), (-1, -1)), ("LEFTPADDING", (0, -1), (-1, -1), 0),
           ("RIGHTPADDING", (0, -1), (-1, -1), 0), ("TOPPADDING", (0, -1), (-1, -1), 0),
           ("ALIGN", (0, -1), (-1, -1), "RIGHT")] if signed else
          [("LINEABOVE", (0, -1), (-1, -1), 0.8, colors.black)]),
    ]))
    story.append(table)

    def footer(canvas, doc):
        canvas.saveState()
        canvas.setFont(FONT_REGULAR, 8)
        canvas.setFillColor(colors.HexColor("#5f6b66"))
        canvas.drawString(15 * mm, 10 * mm, f"{data.member_name} · {data.member_no} · {data.period}")
        canvas.drawRightString(A4[0] - 15 * mm, 10 * mm, f"{labels.page} {doc.page}")
        canvas.restoreState()

    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=A4, leftMargin=15 * mm, rightMargin=15 * mm,
                            topMargin=15 * mm, bottomMargin=18 * mm, invariant=1, pageCompression=1,
                            title=f"{labels.title} {data.member_no}", author=data.unit_name)
    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return buf.getvalue()
