"""Transaction receipts ("Bukti Setoran" / "Bukti Penarikan") as PDF bytes.

Pure function of its input: no Flask, no database, no clock. All values are
passed in already formatted (money, weights, local time) so this module
knows nothing about currencies or time zones.

Page formats (``size`` argument of :func:`render_receipt`):

* ``"58"`` – thermal roll, page exactly 58 mm wide, text kept inside a
  48 mm printable band (5 mm margins); page height = content height.
* ``"80"`` – thermal roll, page exactly 80 mm wide, 72 mm band (4 mm
  margins); page height = content height.
* ``"A6"`` – 105 × 148 mm sheet(s), flows onto more pages if needed.

Text is laid out with ``reportlab.platypus.Paragraph`` so every field
(long category names, 40-character member names, even long unbroken
tokens) wraps inside the band instead of running off the page or being
truncated. Output is byte-identical for identical input (``invariant=1``).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_LEFT, TA_RIGHT
from reportlab.lib.pagesizes import A6
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    Frame,
    HRFlowable,
    KeepTogether,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from .fonts import FONT_BOLD, FONT_REGULAR, register_fonts
from .layout import nobreak
from .qr import QRFlowable

__all__ = ["RECEIPT_SIZES", "ReceiptData", "ReceiptLine", "render_receipt"]


@dataclass(frozen=True)
class ReceiptLine:
    """One item row of a deposit receipt; all fields are display strings.

    Attributes:
        category: waste category name, any length (wraps), e.g.
            ``"Botol plastik PET bening campur tutup"``.
        quantity: formatted quantity with unit, e.g. ``"1,5 kg"``.
        unit_price: formatted price per unit, e.g. ``"Rp 3.250/kg"``.
        amount: formatted line amount, e.g. ``"Rp 4.875"``.
        tare: for a line weighed in a container, gross − tare = net as one text, e.g.
            ``"bruto 1,7 kg − Karung 0,2 kg = 1,5 kg"`` (docs/tare.md); empty otherwise.
    """

    category: str
    quantity: str
    unit_price: str
    amount: str
    tare: str = ""


@dataclass(frozen=True)
class ReceiptData:
    """Everything printed on a receipt; all fields are display strings.

    Attributes:
        title: document title, ``"BUKTI SETORAN"`` or ``"BUKTI PENARIKAN"``.
        unit_name: waste-bank unit name (header).
        unit_address: unit address (header, may be empty).
        receipt_no: receipt number, e.g. ``"RW05-2026-000123"``.
        local_datetime: local date/time, e.g. ``"29-11-2026 14:05 WIB"``.
        operator: name of the staff member (Petugas).
        member_no: member (Nasabah) number.
        member_name: member name, any length (wraps).
        lines: item rows; may be empty (e.g. withdrawals).
        totals: ``(label, value)`` rows printed bold after the items, e.g.
            ``(("Total", "Rp 4.875"), ("Saldo baru", "Rp 12.000"))``.
        verify_url: URL encoded in the QR code at the bottom (also printed).
        copy: reprint – prints a prominent "SALINAN" banner.
        voided: cancelled transaction – prints a prominent "BATAL" banner
            at the top and the bottom.
        footer: optional closing line (e.g. a thank-you), centred.
        details: lines of text printed in full across the band after the member
            block (before the items), each its own paragraph (wraps at spaces),
            e.g. a gold payout's ``"Tabungan emas · 0,512 g @ Rp 1.950.000/g ·
            Pegadaian 1234567890"`` or ``"Token listrik 1234 5678 9012 3456 7890"``.
        signatures: signature blocks printed side by side at the end, each
            ``(role, name)``: the role above a blank space to sign in, the
            line, the name under it (wraps), e.g.
            ``(("Nasabah", "Siti Aminah"), ("Petugas", "Budi"))``. Empty: none.
    """

    title: str
    unit_name: str
    unit_address: str
    receipt_no: str
    local_datetime: str
    operator: str
    member_no: str
    member_name: str
    lines: tuple[ReceiptLine, ...]
    totals: tuple[tuple[str, str], ...]
    verify_url: str
    copy: bool = False
    voided: bool = False
    footer: str = ""
    signatures: tuple[tuple[str, str], ...] = ()
    details: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Format:
    width: float  # page width, pt
    margin: float  # left/right (and top/bottom) margin, pt
    body: float  # body font size, pt
    qr: float  # QR edge incl. quiet zone, pt
    roll: bool  # True: single page, height = content


#: Supported ``size`` values and their geometry (widths/margins in points).
_FORMATS: dict[str, _Format] = {
    "58": _Format(width=58 * mm, margin=5 * mm, body=8.0, qr=34 * mm, roll=True),
    "80": _Format(width=80 * mm, margin=4 * mm, body=9.0, qr=40 * mm, roll=True),
    "A6": _Format(width=A6[0], margin=7 * mm, body=9.0, qr=28 * mm, roll=False),
}
#: The accepted values of ``render_receipt(size=...)``.
RECEIPT_SIZES: tuple[str, ...] = tuple(_FORMATS)

_LABEL_NO = "No."
_LABEL_DATE = "Tanggal"
_LABEL_OPERATOR = "Petugas"
_LABEL_MEMBER = "Nasabah"
_QR_CAPTION = "Pindai kode QR untuk memeriksa keaslian bukti ini"
_COPY_TEXT = "SALINAN"
_VOID_TEXT = "BATAL"
_PAGE_LABEL = "Hal."


def _esc(text: str) -> str:
    """Escape text for Paragraph mini-markup (keeps line breaks); the space inside an amount
    (``Rp 4.875``) or before a unit (``1,5 kg``) does not break (``layout.nobreak``)."""
    return escape(nobreak(text)).replace("\n", "<br/>")


class _Styles:
    """Paragraph styles derived from the body font size."""

    def __init__(self, body: float) -> None:
        lead = body * 1.25
        # spaceShrinkage=0: never squeeze spaces to make a line fit, so measured
        # string widths are exactly what is printed.
        common = dict(
            fontName=FONT_REGULAR, fontSize=body, leading=lead, splitLongWords=1, spaceShrinkage=0
        )
        self.body = ParagraphStyle("body", **common)
        self.right = ParagraphStyle("right", parent=self.body, alignment=TA_RIGHT)
        self.center = ParagraphStyle("center", parent=self.body, alignment=TA_CENTER)
        self.small = ParagraphStyle(
            "small", parent=self.center, fontSize=body - 1.5, leading=(body - 1.5) * 1.25
        )
        self.unit = ParagraphStyle(
            "unit", parent=self.center, fontName=FONT_BOLD, fontSize=body + 2, leading=(body + 2) * 1.2
        )
        self.title = ParagraphStyle(
            "title", parent=self.center, fontName=FONT_BOLD, fontSize=body + 1.5,
            leading=(body + 1.5) * 1.25, spaceBefore=body * 0.5,
        )
        self.item = ParagraphStyle("item", parent=self.body, alignment=TA_LEFT)
        self.total_label = ParagraphStyle(
            "total_label", parent=self.body, fontName=FONT_BOLD, fontSize=body + 1, leading=(body + 1) * 1.25
        )
        self.total_value = ParagraphStyle("total_value", parent=self.total_label, alignment=TA_RIGHT)
        self.banner = ParagraphStyle(
            "banner", parent=self.center, fontName=FONT_BOLD, fontSize=body + 6, leading=(body + 6) * 1.2
        )


def _table_style(*commands) -> TableStyle:
    """TableStyle whose cells use our font (Table's default would pull
    Helvetica into the PDF even though every cell holds a Paragraph)."""
    return TableStyle([("FONTNAME", (0, 0), (-1, -1), FONT_REGULAR), *commands])


def _rule(dashed: bool = True) -> HRFlowable:
    return HRFlowable(
        width="100%", thickness=0.6, color=colors.black, dash=(2, 2) if dashed else None,
        spaceBefore=3, spaceAfter=3,
    )


def _two_columns(rows, band: float, left_width: float, pad: float = 3.0) -> Table:
    """Table spanning exactly ``band`` pt; cells are Paragraphs (they wrap)."""
    table = Table(rows, colWidths=(left_width, band - left_width), hAlign="LEFT")
    table.setStyle(
        _table_style(
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("LEFTPADDING", (0, 0), (0, -1), 0),
            ("RIGHTPADDING", (0, 0), (0, -1), pad),
            ("LEFTPADDING", (1, 0), (1, -1), 0),
            ("RIGHTPADDING", (1, 0), (1, -1), 0),
            ("TOPPADDING", (0, 0), (-1, -1), 0),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
        )
    )
    return table


def _value_column_width(values, style: ParagraphStyle, band: float, cap: float = 0.7) -> float:
    """Width for a right-aligned money column: the widest value, so amounts
    never break, but at most ``cap`` × band (beyond that, values wrap too)."""
    widest = max((stringWidth(v, style.fontName, style.fontSize) for v in values), default=0.0)
    return min(widest + 1.0, band * cap)


def _item(line: ReceiptLine, st: _Styles, band: float, gap: float = 3.0) -> Table:
    """One item: category across the band, then "qty × unit price" left and
    amount right on one row. If the two don't fit side by side on one line,
    the amount moves to its own right-aligned row, so neither the amount nor
    the price has to be broken mid-number."""
    category = Paragraph(_esc(line.category), st.item)
    if line.tare:  # gross − container = net under the name; the net is what "qty" shows
        category = [category, Paragraph(_esc(line.tare), st.body)]
    qty_text = f"{_esc(line.quantity)} \u00d7 {_esc(line.unit_price)}"
    qty = Paragraph(qty_text, st.body)
    amount = Paragraph(_esc(line.amount), st.right)
    qty_w = stringWidth(f"{line.quantity} \u00d7 {line.unit_price}", st.body.fontName, st.body.fontSize)
    amount_w = stringWidth(line.amount, st.right.fontName, st.right.fontSize) + 1.0
    common = (
        ("LEFTPADDING", (0, 0), (-1, -1), 0),
        ("RIGHTPADDING", (0, 0), (-1, -1), 0),
        ("TOPPADDING", (0, 0), (-1, -1), 0),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 0),
    )
    if qty_w + gap + amount_w <= band:
        table = Table([[category, ""], [qty, amount]], colWidths=(band - amount_w, amount_w), hAlign="LEFT")
        table.setStyle(
            _table_style(
                ("SPAN", (0, 0), (1, 0)),
                ("VALIGN", (0, 0), (-1, -1), "BOTTOM"),
                *common,
                ("RIGHTPADDING", (0, 1), (0, 1), gap),
            )
        )
    else:
        table = Table([[category], [qty], [amount]], colWidths=(band,), hAlign="LEFT")
        table.setStyle(_table_style(*common))
    return table


def _banner(text: str, style: ParagraphStyle, band: float) -> Table:
    """Boxed, large bold banner text ("SALINAN", "BATAL") across the band.

    The box is inset by half its stroke so the ink stays inside the band.
    """
    stroke = 1.5
    table = Table([[Paragraph(_esc(text), style)]], colWidths=(band - stroke,), hAlign="CENTER")
    table.setStyle(
        _table_style(
            ("BOX", (0, 0), (-1, -1), stroke, colors.black),
            ("TOPPADDING", (0, 0), (-1, -1), 2),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
            ("LEFTPADDING", (0, 0), (-1, -1), 2),
            ("RIGHTPADDING", (0, 0), (-1, -1), 2),
        )
    )
    table.spaceBefore = 2
    table.spaceAfter = 4
    return table


def _signature_blocks(signatures, st: _Styles, band: float, gap: float = 4 * mm) -> Table:
    """Signature blocks side by side across the band: role, a blank space to sign in
    (14 mm), a solid line, the name under it. Columns alternate block, gap, block…"""
    n = len(signatures)
    block = (band - gap * (n - 1)) / n
    widths, roles, blank, names = [], [], [], []
    for i, (role, name) in enumerate(signatures):
        if i:
            widths.append(gap)
            roles.append("")
            blank.append("")
            names.append("")
        widths.append(block)
        roles.append(Paragraph(_esc(role), st.center))
        blank.append("")
        names.append(Paragraph(_esc(name or "-"), st.center))
    table = Table([roles, blank, names], colWidths=widths, rowHeights=[None, 14 * mm, None], hAlign="LEFT")
    table.setStyle(
        _table_style(
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("LEFTPADDING", (0, 0), (-1, -1), 0),
            ("RIGHTPADDING", (0, 0), (-1, -1), 0),
            ("TOPPADDING", (0, 0), (-1, -1), 0),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
            ("TOPPADDING", (0, 2), (-1, 2), 2),
            *(("LINEABOVE", (col, 2), (col, 2), 0.8, colors.black) for col in range(0, len(widths), 2)),
        )
    )
    table.spaceBefore = 8
    return table


def _details(details: tuple[str, ...], st: _Styles) -> list[Flowable]:
    """The payout method's lines (gold, bill): full paragraphs, wrapping only at spaces, then a
    rule; nothing when there are none."""
    return [Paragraph(_esc(text), st.item) for text in details] + ([_rule()] if details else [])


def _story(data: ReceiptData, fmt: _Format) -> list[Flowable]:
    """Build the flowables of a receipt for a band of ``fmt`` width: header, details, items,
    then totals with the QR (and signatures), the void banner again at the end."""
    band = fmt.width - 2 * fmt.margin
    st = _Styles(fmt.body)
    story = _header(data, fmt, st, band)
    story += _details(data.details, st)

    # Items: category on its own (wrapping) line, then "qty × price" | amount.
    if data.lines:
        for ln in data.lines:
            item = _item(ln, st, band)
            item.spaceAfter = fmt.body * 0.4
            story.append(item)
        story.append(_rule())

    story += _closing(data, fmt, st, band)
    if data.signatures:
        story.append(KeepTogether([_signature_blocks(data.signatures, st, band)]))
    if data.voided:
        story.append(Spacer(1, 4))
        story.append(_banner(_VOID_TEXT, st.banner, band))
    return story


def _header(data: ReceiptData, fmt: _Format, st: _Styles, band: float) -> list[Flowable]:
    """Banners (void, copy), the unit and title, and the transaction details table."""
    story: list[Flowable] = []
    if data.voided:
        story.append(_banner(_VOID_TEXT, st.banner, band))
    if data.copy:
        story.append(_banner(_COPY_TEXT, st.banner, band))

    # Header: unit, address, document title (centred).
    story.append(Paragraph(_esc(data.unit_name), st.unit))
    if data.unit_address:
        story.append(Paragraph(_esc(data.unit_address), st.small))
    story.append(Paragraph(_esc(data.title), st.title))
    story.append(_rule())

    # Transaction details: label column sized to the widest label.
    labels = (_LABEL_NO, _LABEL_DATE, _LABEL_OPERATOR, _LABEL_MEMBER)
    label_w = max(stringWidth(lbl, FONT_REGULAR, fmt.body) for lbl in labels) + 4.0
    member = _esc(data.member_no)
    if data.member_name:
        member += f"<br/><b>{_esc(data.member_name)}</b>"
    rows = [
        [Paragraph(_LABEL_NO, st.body), Paragraph(_esc(data.receipt_no), st.body)],
        [Paragraph(_LABEL_DATE, st.body), Paragraph(_esc(data.local_datetime), st.body)],
        [Paragraph(_LABEL_OPERATOR, st.body), Paragraph(_esc(data.operator), st.body)],
        [Paragraph(_LABEL_MEMBER, st.body), Paragraph(member, st.body)],
    ]
    story.append(_two_columns(rows, band, label_w))
    story.append(_rule())
    return story


def _closing(data: ReceiptData, fmt: _Format, st: _Styles, band: float) -> list[Flowable]:
    """Totals (bold, value right-aligned) and the QR with its caption and the footer. On A6 the
    QR stands beside the totals, so that a usual visit fits one sheet; on rolls it comes below,
    centred. The QR, caption and footer are kept together (never a thank-you alone on a page)."""
    story: list[Flowable] = []
    qr_size = min(fmt.qr, band)
    beside = not fmt.roll and bool(data.totals)
    totals_w = band - qr_size - 4 * mm if beside else band
    totals = None
    if data.totals:
        value_w = _value_column_width((v for _, v in data.totals), st.total_value, totals_w)
        rows = [
            [Paragraph(_esc(label), st.total_label), Paragraph(_esc(value), st.total_value)]
            for label, value in data.totals
        ]
        totals = _two_columns(rows, totals_w, totals_w - value_w)

    qr = QRFlowable(data.verify_url, qr_size, hAlign="CENTER")
    closing = []
    if beside:
        pair = Table([[totals, qr]], colWidths=(band - qr_size, qr_size), hAlign="LEFT")
        pair.setStyle(_table_style(("VALIGN", (0, 0), (-1, -1), "TOP"),
                                   ("LEFTPADDING", (0, 0), (-1, -1), 0), ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                                   ("TOPPADDING", (0, 0), (-1, -1), 0), ("BOTTOMPADDING", (0, 0), (-1, -1), 0)))
        closing += [pair, _rule(dashed=False)]
    else:
        if totals is not None:
            story.append(totals)
            story.append(_rule(dashed=False))
        closing += [Spacer(1, 2), qr]
    closing += [Paragraph(_QR_CAPTION, st.small), Paragraph(_esc(data.verify_url), st.small)]
    if data.footer:
        closing += [Spacer(1, 4), Paragraph(_esc(data.footer), st.center)]
    story.append(KeepTogether(closing))
    return story


def _flatten(story: list[Flowable]) -> list[Flowable]:
    """Unwrap KeepTogether containers (only meaningful for paged layouts)."""
    out: list[Flowable] = []
    for f in story:
        if isinstance(f, KeepTogether):
            out.extend(_flatten(list(f._content)))
        else:
            out.append(f)
    return out


def _metadata(data: ReceiptData) -> dict[str, str]:
    return dict(title=f"{data.title} {data.receipt_no}", author=data.unit_name, creator="wastebank")


def _render_roll(data: ReceiptData, fmt: _Format) -> bytes:
    """Single page exactly ``fmt.width`` wide and as tall as the content."""
    band = fmt.width - 2 * fmt.margin
    flowables = _flatten(_story(data, fmt))

    # Pass 1: measure (wrap) every flowable inside the band.
    measured: list[tuple[Flowable, float, float]] = []
    height = 0.0
    for i, f in enumerate(flowables):
        w, h = f.wrap(band, 1e6)
        before = f.getSpaceBefore() if i else 0.0
        after = f.getSpaceAfter() if i < len(flowables) - 1 else 0.0
        measured.append((f, w, h))
        height += before + h + after
    page_h = height + 2 * fmt.margin

    # Pass 2: draw top-down.
    buf = io.BytesIO()
    canvas = Canvas(
        buf, pagesize=(fmt.width, page_h), invariant=1, pageCompression=1,
        initialFontName=FONT_REGULAR, initialFontSize=fmt.body,
    )
    meta = _metadata(data)
    canvas.setTitle(meta["title"])
    canvas.setAuthor(meta["author"])
    canvas.setCreator(meta["creator"])
    y = page_h - fmt.margin
    for i, (f, w, h) in enumerate(measured):
        if i:
            y -= f.getSpaceBefore()
        y -= h
        f.drawOn(canvas, fmt.margin, y, _sW=band - w)
        if i < len(measured) - 1:
            y -= f.getSpaceAfter()
    canvas.showPage()
    canvas.save()
    return buf.getvalue()


def _render_sheet(data: ReceiptData, fmt: _Format) -> bytes:
    """A6 sheet(s); content flows onto further pages, each numbered."""
    page_w, page_h = A6
    band = page_w - 2 * fmt.margin
    footer_h = 5 * mm
    frame = Frame(
        fmt.margin, fmt.margin + footer_h, band, page_h - 2 * fmt.margin - footer_h,
        leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0, id="body",
    )

    def on_page(canvas: Canvas, doc: BaseDocTemplate) -> None:
        canvas.saveState()
        canvas.setFont(FONT_REGULAR, fmt.body - 2)
        canvas.drawRightString(
            page_w - fmt.margin, fmt.margin, f"{data.receipt_no} \u2013 {_PAGE_LABEL} {doc.page}"
        )
        canvas.restoreState()

    buf = io.BytesIO()
    doc = BaseDocTemplate(
        buf, pagesize=A6, leftMargin=fmt.margin, rightMargin=fmt.margin,
        topMargin=fmt.margin, bottomMargin=fmt.margin, invariant=1, pageCompression=1,
        initialFontName=FONT_REGULAR, initialFontSize=fmt.body,
        **_metadata(data),
    )
    doc.addPageTemplates([PageTemplate(id="a6", frames=[frame], onPage=on_page)])
    doc.build(_story(data, fmt))
    return buf.getvalue()


def render_receipt(data: ReceiptData, size: str = "80") -> bytes:
    """Render a receipt as a PDF document.

    Args:
        data: the receipt content (pre-formatted strings).
        size: ``"58"`` or ``"80"`` – thermal roll width in mm; the single
            page is exactly that wide and as tall as the content.
            ``"A6"`` – 105 × 148 mm pages, as many as needed.

    Returns:
        The PDF file as bytes (DejaVu Sans embedded, subsetted). Identical
        input gives byte-identical output.

    Raises:
        ValueError: unknown ``size``.
    """
    try:
        fmt = _FORMATS[str(size)]
    except KeyError:
        raise ValueError(f"unknown receipt size {size!r}; expected one of {RECEIPT_SIZES}") from None
    register_fonts()
    if fmt.roll:
        return _render_roll(data, fmt)
    return _render_sheet(data, fmt)
