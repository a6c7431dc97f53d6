"""Layout rules shared by the A4/A5 documents (statements, passbook, impact, sale note), issue 9.

* **Column widths that fit** (:func:`fit_columns`): every header word and every whole numeric
  cell (an amount such as ``Rp 5.651.615``, a quantity such as ``6.259,88 kg``) gets a column at
  least as wide as its text, so a header wraps only at spaces and an amount never wraps. When
  the page is too narrow for that at the requested size, the whole table's font shrinks (down
  to ``MIN_FONT_SIZE``); the width left over is shared by the columns' relative weights.
* **Non-breaking amounts** (:func:`nobreak`): the space of ``Rp 5.651.615`` and of
  ``6,5 kg`` becomes U+00A0, so even a narrower column could not separate them.
* **Letterhead** (:func:`letterhead`): the unit's name, street and kelurahan/kecamatan/kota
  above a rule.
* **Place, date and signatures** (:func:`signature_block`): "Jakarta Selatan, 2 Desember
  2026", then one box per signer (*ketua*, *bendahara*, *petugas*): the role, room to sign, a
  line and the name (or a dotted blank to write it in).

Pure functions of their input: texts arrive formatted and translated.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import Flowable, HRFlowable, KeepTogether, Paragraph, Spacer, Table, TableStyle

from .fonts import FONT_BOLD, FONT_REGULAR, register_fonts

__all__ = ["MIN_FONT_SIZE", "NBSP", "fit_columns", "letterhead", "nobreak", "signature_block"]

NBSP = "\u00a0"
#: Smallest font a table shrinks to (points); below it print gets hard to read.
MIN_FONT_SIZE = 5.5
# A text column never claims more than this share of the width for its longest word (a long
# unbroken name must not squeeze every other column; it may split, the figures may not).
_TEXT_WORD_CAP = 0.35

# "Rp 5.651.615", "-Rp 500", "6.259,88 kg", "12 L", "3 pcs", "2,5 %", "Rp 3.250/kg".
# "≥ 4" too: a threshold reads as one thing.
_AMOUNT_SPACE = re.compile(r"(?<=\bRp) (?=[0-9])|(?<=[0-9]) (?=(?:kg|L|pcs|%|mL|g)\b)|(?<=[≥≤<>]) (?=[0-9])")


def nobreak(text: str) -> str:
    """``text`` with the space inside each amount (``Rp 5.651.615``) and between a number and
    its unit (``6,5 kg``) made non-breaking (U+00A0). Text extraction reads it as a space."""
    return _AMOUNT_SPACE.sub(NBSP, text or "")


def _words(text: str) -> list[str]:
    return [w for w in re.split(r"[ \t\n]+", text or "") if w]


def fit_columns(header: Sequence[str], rows: Sequence[Sequence[str]], available: float, *,
                numeric: Sequence[int] = (), weights: Sequence[float] | None = None, size: float = 8.0,
                padding: float = 6.0, min_size: float = MIN_FONT_SIZE,
                font: str = FONT_REGULAR, bold: str = FONT_BOLD) -> tuple[list[float], float]:
    """Column widths (points, summing to ``available``) and the font size (points) for a table.

    ``header``: the column titles (bold, may wrap at spaces only); ``rows``: every body and
    totals row as display strings; ``numeric``: indexes of columns whose cells must stay on one
    line (amounts, quantities, counts); ``weights``: relative shares of the width left over
    (default equal); ``padding``: left + right cell padding. The size is ``size`` unless the
    minimum widths do not fit, then the largest size (in 0.25 pt steps, not below
    ``min_size``) at which they do; at ``min_size`` the columns are scaled to fit regardless.
    """
    register_fonts()
    n = len(header)
    # Measure what will print: the non-breaking spaces bind "Rp 5.651.615" into one word.
    header = [nobreak(str(h)) for h in header]
    rows = [[nobreak(str(c)) for c in row] for row in rows]
    weights = list(weights or [1.0] * n)
    numeric = set(numeric)

    def needs(at: float) -> list[float]:
        out = []
        for i in range(n):
            need = max([stringWidth(w, bold, at) for w in _words(header[i])] or [0.0])
            for row in rows:
                cell = row[i] if i < len(row) else ""
                if i in numeric:
                    # Bold: totals rows print bold, and a bold figure is the wider one.
                    need = max(need, max([stringWidth(line, bold, at) for line in str(cell).split("\n")] or [0]))
                else:
                    word = max([stringWidth(w, font, at) for w in _words(str(cell))] or [0.0])
                    need = max(need, min(word, available * _TEXT_WORD_CAP))
            out.append(need + padding + 0.5)
        return out

    at = size
    minimum = needs(at)
    while sum(minimum) > available and at > min_size:
        at = max(min_size, at - 0.25)
        minimum = needs(at)
    total = sum(minimum)
    if total > available:
        return [m * available / total for m in minimum], at
    # The spare width goes first where it saves lines: a header on at most two lines, a text
    # column's longest cell on one (capped); what is left is shared by the weights.
    desired = [m for m in minimum]
    for i in range(n):
        head = stringWidth(header[i], bold, at)
        desired[i] = max(desired[i], head / 2 + padding + 0.5 if head > minimum[i] else 0.0)
        if i not in numeric:
            longest = max([stringWidth(str(row[i]) if i < len(row) else "", font, at) for row in rows] or [0.0])
            desired[i] = max(desired[i], min(longest + padding + 0.5, available * _TEXT_WORD_CAP))
    spare = available - total
    wish = sum(d - m for d, m in zip(desired, minimum, strict=True))
    widths = list(minimum)
    if wish > 0:
        take = min(1.0, spare / wish)
        widths = [m + (d - m) * take for d, m in zip(desired, minimum, strict=True)]
        spare -= wish * take
    share = sum(weights) or 1.0
    return [w + spare * wt / share for w, wt in zip(widths, weights, strict=True)], at


def letterhead(name: str, lines: Sequence[str], width: float, *, size: float = 9.0) -> list[Flowable]:
    """The unit's letterhead: ``name`` bold, then ``lines`` (street, kelurahan/kecamatan/kota;
    empty ones skipped), a rule ``width`` wide under it."""
    register_fonts()
    head = ParagraphStyle("lh-name", fontName=FONT_BOLD, fontSize=size + 4, leading=(size + 4) * 1.25)
    sub = ParagraphStyle("lh-line", fontName=FONT_REGULAR, fontSize=size, leading=size * 1.3,
                         textColor=colors.HexColor("#333333"))
    out: list[Flowable] = [Paragraph(escape(name), head)]
    out += [Paragraph(escape(line), sub) for line in lines if line]
    out += [Spacer(1, 1.5 * mm), HRFlowable(width=width, thickness=1.2, color=colors.HexColor("#125a31"),
                                             spaceAfter=3 * mm)]
    return out


def signature_block(place_date: str, signers: Sequence[tuple[str, str]], width: float, *,
                    size: float = 8.5, room: float = 16 * mm, loose: bool = False):
    """``place_date`` (e.g. ``"Jakarta Selatan, 2 Desember 2026"``) right-aligned, then one box
    per signer ``(role, name)`` side by side: role, ``room`` to sign, a line, the name (a
    dotted blank when ``name`` is ""). Kept together on one page; ``loose``: the plain list of
    flowables instead, to put in a table cell (a last row of a table that repeats its header,
    so the block never lands on a page of its own without it)."""
    register_fonts()
    base = ParagraphStyle("sig", fontName=FONT_REGULAR, fontSize=size, leading=size * 1.25)
    right = ParagraphStyle("sig-r", parent=base, alignment=TA_RIGHT)
    n = max(1, len(signers))
    gap = 6 * mm
    col = min(50 * mm, (width - gap * (n - 1)) / n)  # a few boxes sit at the right, not spread
    roles = [Paragraph(escape(role), base) for role, _name in signers]
    # A blank name is a dotted line to write it on, as long as the box allows.
    dots = max(6, min(40, int((col - stringWidth("( )", FONT_REGULAR, size)) / stringWidth(".", FONT_REGULAR, size))))
    names = [Paragraph(escape(name) if name else "(" + "." * dots + ")", base) for _role, name in signers]
    cells, widths = [[], [], []], []
    for i in range(n):
        if i:
            for row in cells:
                row.append("")
            widths.append(gap)
        cells[0].append(roles[i] if i < len(roles) else "")
        cells[1].append("")
        cells[2].append(names[i] if i < len(names) else "")
        widths.append(col)
    table = Table(cells, colWidths=widths, rowHeights=[None, room, None], hAlign="RIGHT")
    style = [("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0),
             ("RIGHTPADDING", (0, 0), (-1, -1), 0)]
    for i in range(n):
        c = i * 2
        style.append(("LINEBELOW", (c, 1), (c, 1), 0.6, colors.black))
    table.setStyle(TableStyle(style))
    flowables = [Spacer(1, 6 * mm), Paragraph(escape(place_date), right), Spacer(1, 2 * mm), table]
    return flowables if loose else KeepTogether(flowables)
