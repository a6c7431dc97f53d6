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

Drawn with plain canvas calls (issue 13 item 6: platypus's Paragraph parsing and Table layout
were half of a receipt's time): the receipt is a stack of blocks — a line of text, a table row,
an item, a rule, the QR — measured with ``stringWidth`` and placed top-down, every text in one
PDF text object per page. The geometry is the one the platypus layout had (same fonts, sizes,
leadings, paddings and spaces, so the same positions): every field wraps inside the band with
:func:`wrap_text` (reportlab's Paragraph rule: at spaces, never at the no-break space of an
amount such as ``Rp 5.651.615``; a token wider than the band is split where it fills the line)
instead of running off the page or being truncated. Output is byte-identical for identical
input (``invariant=1``).
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

from reportlab.lib.pagesizes import A6
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from .fonts import FONT_BOLD, FONT_REGULAR, register_fonts
from .layout import NBSP, nobreak
from .qr import draw_qr

__all__ = ["RECEIPT_SIZES", "ReceiptData", "ReceiptLine", "render_receipt", "wrap_text"]


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
        local_datetime: local date/time, e.g. ``"29-11-2026 14.05 WIB"``: for a deposit its
            capture time (when it was weighed, as on the counter's slip).
        capture_note: printed under the date when the booking came later than the capture (an
            offline capture synced later), e.g. ``"dicatat 02/12 13.14, dibukukan 03/12"``
            (``reports.period.capture_note``, as on the member pages); empty otherwise.
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
    capture_note: str = ""


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



# ------------------------------------------------------------------ line breaking

# reportlab's whitespace (``platypus.paragraph._wsc``): the spaces a Paragraph breaks at. The
# no-break space U+00A0 is not one of them, so "Rp 5.651.615" (``layout.nobreak``) stays whole.
_SPACES = re.compile("[\t\x0b\x0c\r\x1c-\x1f \x85\u1680\u2000-\u200b\u2028\u2029\u202f\u205f\u3000]+")


def wrap_text(text: str, font: str, size: float, width: float) -> list[tuple[str, float]]:
    """Break ``text`` into lines at most ``width`` points wide in ``font`` at ``size`` points.

    Returns:
        ``[(line, line width in points), ...]``; ``[]`` for a blank text.

    The rule of reportlab's ``Paragraph`` (left, no hyphenation, ``splitLongWords=1``,
    ``spaceShrinkage=0``), which drew receipts before, so lines break where they did: runs of
    spaces collapse to one and break lines, greedily (a word goes to the next line when it no
    longer fits); ``"\\n"`` forces a break; a word wider than ``width`` is split between
    characters, its first part filling what is left of the current line, each further part a
    full line. A single character wider than ``width`` stays on its own (over-wide) line.
    ``tests/test_receipt_pdf.py`` checks the lines against ``Paragraph``'s own.
    """
    if not _SPACES.sub("", text.replace("\n", "")):
        return []
    lines: list[tuple[str, float]] = []
    for segment in text.split("\n"):
        lines += _break_segment([w for w in _SPACES.split(segment) if w], font, size, width)
    return lines


def _break_segment(words: list[str], font: str, size: float, width: float) -> list[tuple[str, float]]:
    """One forced-break-free segment's words as lines (see :func:`wrap_text`)."""
    if not words:
        return [("", 0.0)]
    line = " ".join(words)
    line_w = stringWidth(line, font, size)
    if line_w <= width:  # the usual case: everything fits on one line
        return [(line, line_w)]
    space = stringWidth(" ", font, size)
    todo: list[tuple[str, bool]] = [(w, False) for w in reversed(words)]  # (text, is a split part)
    lines: list[tuple[str, float]] = []
    current: list[str] = []
    used = -space  # the width of ``current``, less the space before its first word
    forced = False  # a split part ends the line it lands on
    while todo:
        word, part = todo.pop()
        if part and not word:
            forced = True
        word_w = stringWidth(word, font, size)
        new = used + space + word_w
        if new > width and not forced and not part and word_w > width:
            todo += reversed(_split_word(word, used + space, font, size, width))
            forced = True
            continue
        if new <= width or not current or forced:
            if word:
                current.append(word)
            if forced:
                forced = False
                lines.append((" ".join(current), new))
                current, used = [], -space
            else:
                used = new
        else:
            lines.append((" ".join(current), used))
            current, used = [word], word_w
    if current:
        lines.append((" ".join(current), used))
    return lines


def _split_word(word: str, used: float, font: str, size: float, width: float) -> list[tuple[str, bool]]:
    """``word`` (wider than ``width``) cut into parts: the first fills the ``width - used`` points
    left on the current line (it may be empty), each next one a whole line."""
    parts: list[tuple[str, bool]] = []
    part = ""
    for char in word:
        char_w = stringWidth(char, font, size)
        if used + char_w > width and (part or char_w <= width):
            parts.append((part, True))
            part, used = "", 0.0
        part += char
        used += char_w
    parts.append((part, True))
    return parts


# ------------------------------------------------------------------ blocks

class _Style:
    """A text style: face, size and leading (points), alignment "L", "C" or "R"."""

    __slots__ = ("font", "size", "leading", "align")

    def __init__(self, font: str, size: float, leading: float, align: str = "L") -> None:
        self.font, self.size, self.leading, self.align = font, size, leading, align


class _Styles:
    """The receipt's text styles for body size ``body`` (points)."""

    def __init__(self, body: float) -> None:
        lead = body * 1.25
        self.body = _Style(FONT_REGULAR, body, lead)
        self.right = _Style(FONT_REGULAR, body, lead, "R")
        self.center = _Style(FONT_REGULAR, body, lead, "C")
        self.bold = _Style(FONT_BOLD, body, lead)  # the member's name under the number
        self.small = _Style(FONT_REGULAR, body - 1.5, (body - 1.5) * 1.25, "C")
        self.unit = _Style(FONT_BOLD, body + 2, (body + 2) * 1.2, "C")
        self.title = _Style(FONT_BOLD, body + 1.5, (body + 1.5) * 1.25, "C")
        self.title_before = body * 0.5
        self.total_label = _Style(FONT_BOLD, body + 1, (body + 1) * 1.25)
        self.total_value = _Style(FONT_BOLD, body + 1, (body + 1) * 1.25, "R")
        self.banner = _Style(FONT_BOLD, body + 6, (body + 6) * 1.2, "C")


class _Block:
    """One unit of the stack: ``height`` (points), the space wanted ``before`` and ``after`` it,
    and what it draws relative to its top-left corner, y measured downwards: ``texts`` as
    ``(font, size, x, baseline, text)``, ``shapes`` as tuples for :func:`_draw`. A block never
    splits across pages. ``keep`` > 1: on A6, this block and the ``keep - 1`` after it move to
    a new page together when they do not fit on this one but fit an empty one (the QR with its
    caption and footer, as platypus's KeepTogether did)."""

    __slots__ = ("height", "before", "after", "texts", "shapes", "keep")

    def __init__(self, height: float, texts: list | None = None, shapes: list | None = None,
                 before: float = 0.0, after: float = 0.0, keep: int = 0) -> None:
        self.height, self.before, self.after = height, before, after
        self.texts, self.shapes, self.keep = texts or [], shapes or [], keep


def _nb(text: str) -> str:
    """``text`` as printed: the space inside an amount (``Rp 4.875``) or before a unit (``1,5 kg``)
    does not break (``layout.nobreak``)."""
    return nobreak(text)


def _text(texts: list, text: str, style: _Style, width: float, x: float = 0.0, y: float = 0.0) -> float:
    """Add ``text`` (already through :func:`_nb`) wrapped in ``width`` at ``(x, y)`` (top-left,
    y down) to ``texts``; returns its height: lines × leading. The first baseline is one font
    size below the top, as a Paragraph's; a line wider than ``width`` starts at ``x``."""
    font, size, leading, align = style.font, style.size, style.leading, style.align
    lines = wrap_text(text, font, size, width)
    for i, (line, line_w) in enumerate(lines):
        left = x
        if align != "L" and line_w <= width:
            left += (width - line_w) * (0.5 if align == "C" else 1.0)
        texts.append((font, size, left, y + size + i * leading, line))
    return len(lines) * style.leading


def _lines(text: str, style: _Style, width: float, before: float = 0.0, after: float = 0.0) -> list[_Block]:
    """A paragraph across ``width`` as one block per line, so a page can end between lines."""
    blocks = []
    for line, line_w in wrap_text(_nb(text), style.font, style.size, width):
        left = 0.0
        if style.align != "L" and line_w <= width:
            left = (width - line_w) * (0.5 if style.align == "C" else 1.0)
        blocks.append(_Block(style.leading, [(style.font, style.size, left, style.size, line)]))
    if blocks:
        blocks[0].before, blocks[-1].after = before, after
    return blocks


def _rule(band: float, dashed: bool = True) -> _Block:
    """A 0.6 pt rule across the band at the bottom of its 0.6 pt box, 3 pt above and below."""
    return _Block(0.6, shapes=[("line", 0.0, band, 0.6, 0.6, dashed)], before=3.0, after=3.0)


#: Height (points) of an empty cell in the platypus tables the receipt was laid out with (one line
#: at their default 12 pt leading): the least height of a row that had one.
_EMPTY_CELL = 12.0


def _row(cells, bottom: float = 1.0, top: float = 0.0, valign: str = "T", least: float = 0.0) -> _Block:
    """A table row: ``cells`` as ``(text, style, x, width)``, each wrapped in its column from
    ``top`` below the row's top (``valign`` "T") or ending ``bottom`` above its bottom ("B");
    height = the tallest cell (at least ``least``) + ``top`` + ``bottom``."""
    measured = []
    for text, style, x, width in cells:
        texts: list = []
        measured.append((texts, _text(texts, text, style, width, x, top)))
    height = max(least, *(h for _, h in measured)) + top + bottom
    out = []
    for texts, h in measured:
        if valign == "B":
            shift = height - bottom - top - h
            texts = [(f, s, x, y + shift, t) for f, s, x, y, t in texts]
        out += texts
    return _Block(height, out)


def _banner(text: str, st: _Styles, band: float) -> _Block:
    """Boxed, large bold banner text ("SALINAN", "BATAL") across the band; the 1.5 pt box is
    inset by half its stroke so the ink stays inside the band; 2 pt padding (4 pt below)."""
    stroke = 1.5
    inner = band - stroke
    texts: list = []
    height = _text(texts, _nb(text), st.banner, inner - 4, stroke / 2 + 2, 2.0) + 6.0
    return _Block(height, texts, [("box", stroke / 2, 0.0, inner, height, stroke)], before=2.0, after=4.0)


def _header(data: ReceiptData, fmt: _Format, st: _Styles, band: float) -> list[_Block]:
    """Banners (void, copy), the unit and title, and the transaction details (label column sized
    to the widest label, values wrapping in the rest of the band)."""
    blocks: list[_Block] = []
    if data.voided:
        blocks.append(_banner(_VOID_TEXT, st, band))
    if data.copy:
        blocks.append(_banner(_COPY_TEXT, st, band))
    blocks += _lines(data.unit_name, st.unit, band)
    if data.unit_address:
        blocks += _lines(data.unit_address, st.small, band)
    blocks += _lines(data.title, st.title, band, before=st.title_before)
    blocks.append(_rule(band))

    labels = (_LABEL_NO, _LABEL_DATE, _LABEL_OPERATOR, _LABEL_MEMBER)
    label_w = max(stringWidth(lbl, FONT_REGULAR, fmt.body) for lbl in labels) + 4.0
    value_w = band - label_w
    for label, value in ((_LABEL_NO, data.receipt_no), (_LABEL_DATE, data.local_datetime),
                         (_LABEL_OPERATOR, data.operator)):
        row = _row([(label, st.body, 0.0, label_w - 3.0), (_nb(value), st.body, label_w, value_w)])
        if label == _LABEL_DATE and data.capture_note:
            # Booked later than weighed: the note under the date, in the value column. It wraps
            # only between its parts ("dicatat 02/12 23.59," / "dibukukan 03/12"), never inside
            # a date or a time (the 80 mm roll broke "dibukukan" from its day).
            note: list = []
            kept = ", ".join(part.replace(" ", NBSP) for part in data.capture_note.split(", "))
            height = _text(note, _nb(kept), st.body, value_w, label_w)
            row = _Block(row.height + height, row.texts + [(f, s, x, y + row.height - 1.0, t)
                                                           for f, s, x, y, t in note])
        blocks.append(row)
    # The member: number, then the name in bold under it, in one cell.
    texts: list = []
    label_h = _text(texts, _LABEL_MEMBER, st.body, label_w - 3.0)
    value_h = _text(texts, _nb(data.member_no), st.body, value_w, label_w)
    if data.member_name:
        value_h += _text(texts, _nb(data.member_name), st.bold, value_w, label_w, value_h)
    blocks.append(_Block(max(label_h, value_h) + 1.0, texts))
    blocks.append(_rule(band))
    return blocks


def _item(line: ReceiptLine, st: _Styles, band: float, gap: float = 3.0) -> _Block:
    """One item: category across the band (the tare text under it), then "qty × unit price"
    left and amount right on one row. If the two don't fit side by side on one line, the amount
    moves to its own right-aligned row, so neither the amount nor the price has to be broken
    mid-number. One block: an item never splits across pages."""
    texts: list = []
    height = _text(texts, _nb(line.category), st.body, band)
    if line.tare:  # gross − container = net under the name; the net is what "qty" shows
        height += _text(texts, _nb(line.tare), st.body, band, 0.0, height)
    qty = f"{_nb(line.quantity)} \u00d7 {_nb(line.unit_price)}"
    amount = _nb(line.amount)
    qty_w = stringWidth(f"{line.quantity} \u00d7 {line.unit_price}", st.body.font, st.body.size)
    amount_w = stringWidth(line.amount, st.right.font, st.right.size) + 1.0
    if qty_w + gap + amount_w <= band:
        # The category's row is at least _EMPTY_CELL high, its text at the bottom: the layout the
        # platypus table had (its empty spanned cell measured one 12 pt line).
        if height < _EMPTY_CELL:
            texts = [(f, s, x, y + _EMPTY_CELL - height, t) for f, s, x, y, t in texts]
            height = _EMPTY_CELL
        row = _row([(qty, st.body, 0.0, band - amount_w - gap), (amount, st.right, band - amount_w, amount_w)],
                   bottom=0.0, valign="B")
        texts += [(f, s, x, y + height, t) for f, s, x, y, t in row.texts]
        height += row.height
    else:
        height += _text(texts, qty, st.body, band, 0.0, height)
        height += _text(texts, amount, st.right, band, 0.0, height)
    return _Block(height, texts, after=st.body.size * 0.4)


def _totals(data: ReceiptData, st: _Styles, width: float) -> list[_Block]:
    """The totals rows (bold) in ``width``: labels left, values right-aligned in a column as wide
    as the widest value (so amounts never break), at most 0.7 × ``width`` (beyond, they wrap)."""
    widest = max(stringWidth(v, st.total_value.font, st.total_value.size) for _, v in data.totals)
    value_w = min(widest + 1.0, width * 0.7)
    left = width - value_w
    return [_row([(_nb(label), st.total_label, 0.0, left - 3.0), (_nb(value), st.total_value, left, value_w)])
            for label, value in data.totals]


def _closing(data: ReceiptData, fmt: _Format, st: _Styles, band: float) -> list[_Block]:
    """Totals (bold, value right-aligned) and the QR with its caption and the footer. On A6 the
    QR stands beside the totals, so that a usual visit fits one sheet; on rolls it comes below,
    centred. The QR, caption and footer are kept together (never a thank-you alone on a page)."""
    blocks: list[_Block] = []
    qr_size = min(fmt.qr, band)
    closing: list[_Block] = []
    if not fmt.roll and data.totals:
        rows = _totals(data, st, band - qr_size - 4 * mm)
        texts: list = []
        y = 0.0
        for row in rows:
            texts += [(f, s, x, by + y, t) for f, s, x, by, t in row.texts]
            y += row.height
        closing += [_Block(max(y, qr_size), texts, [("qr", band - qr_size, 0.0, qr_size, data.verify_url)]),
                    _rule(band, dashed=False)]
    else:
        if data.totals:
            blocks += _totals(data, st, band)
            blocks.append(_rule(band, dashed=False))
        closing += [_Block(2.0), _Block(qr_size, shapes=[("qr", (band - qr_size) / 2, 0.0, qr_size, data.verify_url)])]
    closing += _lines(_QR_CAPTION, st.small, band) + _lines(data.verify_url, st.small, band)
    if data.footer:
        closing += [_Block(4.0)] + _lines(data.footer, st.center, band)
    closing[0].keep = len(closing)
    return blocks + closing


def _signatures(signatures, st: _Styles, band: float, gap: float = 4 * mm) -> _Block:
    """Signature blocks side by side across the band: role, a blank space to sign in (14 mm), a
    solid line, the name under it (wraps). 8 pt above; kept on one page."""
    n = len(signatures)
    width = (band - gap * (n - 1)) / n
    least = _EMPTY_CELL if n > 1 else 0.0  # the empty gap cells between the blocks
    roles = _row([(_nb(role), st.center, i * (width + gap), width) for i, (role, _) in enumerate(signatures)],
                 least=least)
    names = _row([(_nb(name or "-"), st.center, i * (width + gap), width) for i, (_, name) in enumerate(signatures)],
                 top=2.0, least=least)
    line_y = roles.height + 14 * mm
    texts = roles.texts + [(f, s, x, y + line_y, t) for f, s, x, y, t in names.texts]
    shapes = [("line", i * (width + gap), i * (width + gap) + width, line_y, 0.8, False) for i in range(n)]
    return _Block(line_y + names.height, texts, shapes, before=8.0)


def _blocks(data: ReceiptData, fmt: _Format) -> list[_Block]:
    """The receipt as a stack for a band of ``fmt`` width: header, details, items, then totals
    with the QR (and signatures), the void banner again at the end."""
    band = fmt.width - 2 * fmt.margin
    st = _Styles(fmt.body)
    blocks = _header(data, fmt, st, band)
    if data.details:  # the payout method's lines (gold, bill), then a rule
        for text in data.details:
            blocks += _lines(text, st.body, band)
        blocks.append(_rule(band))
    if data.lines:
        blocks += [_item(ln, st, band) for ln in data.lines]
        blocks.append(_rule(band))
    blocks += _closing(data, fmt, st, band)
    if data.signatures:
        blocks.append(_signatures(data.signatures, st, band))
    if data.voided:
        blocks += [_Block(4.0), _banner(_VOID_TEXT, st, band)]
    return blocks


# ------------------------------------------------------------------ drawing

def _draw(canvas: Canvas, placed: list[tuple[_Block, float]], left: float) -> None:
    """Draw ``placed`` blocks (each with the page y of its top) with their left edge at ``left``:
    every text in one text object (a font operator only where the face or size changes), then
    the rules, boxes and QR codes."""
    text = canvas.beginText()
    code = text._code  # noqa: SLF001 - the text object's operators, to end and begin one between runs
    current = None
    for block, top in placed:
        for font, size, x, baseline, line in block.texts:
            if current is not None:
                # A text object per run, as a Paragraph line had, so a text extractor reads each
                # run apart ("Total", then "Rp 4.875"); the font state carries over (PDF 9.3).
                code.append("ET BT")
            if (font, size) != current:
                text.setFont(font, size)
                current = (font, size)
            text.setTextOrigin(left + x, top - baseline)
            text._textOut(line)  # noqa: SLF001 - textOut less the cursor's stringWidth we don't use
    canvas.drawText(text)
    for block, top in placed:
        for shape in block.shapes:
            kind = shape[0]
            if kind == "line":
                _, x0, x1, y, width, dashed = shape
                canvas.saveState()
                canvas.setLineWidth(width)
                canvas.setLineCap(1)  # round, as the platypus rules and table lines
                if dashed:
                    canvas.setDash((2, 2))
                canvas.line(left + x0, top - y, left + x1, top - y)
                canvas.restoreState()
            elif kind == "box":
                _, x, y, w, h, width = shape
                canvas.saveState()
                canvas.setLineWidth(width)
                canvas.setLineJoin(1)
                canvas.rect(left + x, top - y - h, w, h)
                canvas.restoreState()
            else:  # "qr"
                _, x, y, size, url = shape
                draw_qr(canvas, url, left + x, top - y - size, size)


def _canvas(buf: io.BytesIO, data: ReceiptData, fmt: _Format, page: tuple[float, float]) -> Canvas:
    canvas = Canvas(buf, pagesize=page, invariant=1, pageCompression=1,
                    initialFontName=FONT_REGULAR, initialFontSize=fmt.body)
    canvas.setTitle(f"{data.title} {data.receipt_no}")
    canvas.setAuthor(data.unit_name)
    canvas.setCreator("wastebank")
    return canvas


def _render_roll(data: ReceiptData, fmt: _Format) -> bytes:
    """Single page exactly ``fmt.width`` wide and as tall as the content: the blocks stacked
    with the space before and after each (none before the first, none after the last)."""
    blocks = _blocks(data, fmt)
    last = len(blocks) - 1
    height = sum(b.height + (b.before if i else 0.0) + (b.after if i < last else 0.0)
                 for i, b in enumerate(blocks))
    page_h = height + 2 * fmt.margin
    placed = []
    y = page_h - fmt.margin
    for i, block in enumerate(blocks):
        if i:
            y -= block.before
        placed.append((block, y))
        y -= block.height + block.after
    buf = io.BytesIO()
    canvas = _canvas(buf, data, fmt, (fmt.width, page_h))
    _draw(canvas, placed, fmt.margin)
    canvas.showPage()
    canvas.save()
    return buf.getvalue()


def _paginate(blocks: list[_Block], top: float, bottom: float) -> list[list[tuple[_Block, float]]]:
    """Place ``blocks`` on pages whose frame runs from ``top`` down to ``bottom`` (page y), as a
    platypus frame does: no space before the first block of a page, the space before a block
    less the space after the previous one (the larger of the two counts); a block that does not
    fit goes to the next page, and a keep group (see :class:`_Block`) that does not fit but
    would fit an empty page goes there whole."""
    pages: list[list[tuple[_Block, float]]] = [[]]
    y, prev_after = top, 0.0
    for i, block in enumerate(blocks):
        space = max(block.before - prev_after, 0.0) if pages[-1] else 0.0
        if block.keep > 1 and pages[-1]:
            need, after = block.height, block.after
            for b in blocks[i + 1:i + block.keep]:
                need += max(b.before - after, 0.0) + after + b.height
                after = b.after
            if y - space - need < bottom - 1e-6 and need <= top - bottom:
                pages.append([])
        elif pages[-1] and y - space - block.height < bottom - 1e-6:
            pages.append([])
        if not pages[-1]:
            y, space = top, 0.0
        y -= space
        pages[-1].append((block, y))
        y -= block.height + block.after
        prev_after = block.after
    return pages


def _render_sheet(data: ReceiptData, fmt: _Format) -> bytes:
    """A6 sheet(s); content flows onto further pages, each numbered at the bottom right."""
    page_w, page_h = A6
    footer_h = 5 * mm
    blocks = _blocks(data, fmt)
    pages = _paginate(blocks, page_h - fmt.margin, fmt.margin + footer_h)
    if data.voided and len(pages) > 1 and all(any(block is end for end in blocks[-2:]) for block, _ in pages[-1]):
        # The closing BATAL banner alone on a sheet (a voided withdrawal with its signatures):
        # the banner at the top of the first sheet already says it; one sheet, not two.
        pages = _paginate(blocks[:-2], page_h - fmt.margin, fmt.margin + footer_h)
    buf = io.BytesIO()
    canvas = _canvas(buf, data, fmt, A6)
    for number, placed in enumerate(pages, start=1):
        canvas.setFont(FONT_REGULAR, fmt.body - 2)
        canvas.drawRightString(page_w - fmt.margin, fmt.margin, f"{data.receipt_no} \u2013 {_PAGE_LABEL} {number}")
        _draw(canvas, placed, fmt.margin)
        canvas.showPage()
    canvas.save()
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
