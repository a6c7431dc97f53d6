"""Member card sheet ("Kartu Nasabah") as PDF bytes (docs/rules.md §documents).

Pure function of its input: no Flask, no database. Each card is ID-1 size (85.60 × 53.98 mm,
ISO/IEC 7810), ten to an A4 page in two columns by five rows, butted together and centred,
with cut marks in the page margin at every card edge. A card shows the unit's name, a heading,
the member's name and number, and a QR of the card URL on the right.

QR: 36 mm square including the 4-module quiet zone (``qr.QUIET_ZONE_MODULES``). A card URL of
up to ~80 characters is QR version ≤ 5 (37 modules), so a module is ≥ 0.8 mm: about
6 pixels at 203 dpi and easily read by a phone camera at arm's length. Field case C11.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from itertools import combinations
from typing import Sequence

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from .fonts import FONT_BOLD, FONT_REGULAR, register_fonts
from .qr import draw_qr

__all__ = ["CARD_H", "CARD_W", "CARDS_PER_PAGE", "CardData", "QR_SIZE", "card_origin", "render_card_sheet"]

#: ID-1 card size in points.
CARD_W: float = 85.60 * mm
CARD_H: float = 53.98 * mm
COLUMNS, ROWS = 2, 5
CARDS_PER_PAGE: int = COLUMNS * ROWS
#: QR edge in points, quiet zone included.
QR_SIZE: float = 36 * mm
_PAD = 3.5 * mm
_MARK_GAP = 1.5 * mm   # cut marks stop this far from the cards
_MARK_LEN = 6 * mm


@dataclass(frozen=True)
class CardData:
    """One card; display strings.

    Attributes:
        unit_name: e.g. ``"Bank Sampah Melati RW 05"`` (one line, shrunk a little if need
            be, else two even lines: never a lone short tail).
        member_name: any Unicode name (wraps to 2 lines, shrinks to fit).
        member_no: e.g. ``"RW05-0042"``.
        url: what the QR encodes, ``<base URL>/c/<token>``.
    """

    unit_name: str
    member_name: str
    member_no: str
    url: str


def _margins(page_w: float, page_h: float) -> tuple[float, float]:
    return (page_w - COLUMNS * CARD_W) / 2, (page_h - ROWS * CARD_H) / 2


def card_origin(index: int, page_size: tuple[float, float] = A4) -> tuple[float, float]:
    """Lower-left corner (points) of card ``index`` (0–9) on its page: row-major, top left
    first."""
    left, bottom = _margins(*page_size)
    col, row = index % COLUMNS, index // COLUMNS
    return left + col * CARD_W, bottom + (ROWS - 1 - row) * CARD_H


def _fit_lines(text: str, font: str, size: float, width: float, max_lines: int,
               min_size: float) -> tuple[list[str], float]:
    """Wrap ``text`` into at most ``max_lines`` lines of ``width``, shrinking the font down to
    ``min_size``; the last line is cut with an ellipsis if it still does not fit."""
    while True:
        lines = simpleSplit(text, font, size, width) or [""]
        if len(lines) <= max_lines or size <= min_size:
            break
        size -= 0.5
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        last = lines[-1]
        while last and stringWidth(last + "…", font, size) > width:
            last = last[:-1]
        lines[-1] = last.rstrip() + "…"
    return lines, size


_UNIT_NAME_MAX_LINES = 3


def _fit_unit_name(text: str, font: str, width: float, *, size: float = 8.0, one_line_min: float = 6.5,
                   min_size: float = 6.0) -> tuple[list[str], float]:
    """The unit's name in lines of ``width`` that never leave a short tail alone.

    One line when it fits at ``size`` shrunk down to ``one_line_min`` ("Bank Sampah Kenanga
    RW 05" stays whole instead of orphaning "05"). Otherwise two, then three, lines broken at
    the word gaps that make them most even, at the largest size down to ``min_size`` where all
    fit (there is room for a third line on the card). A name that fits nowhere (an overlong
    word, or far too long) is filled word by word at ``min_size`` and cut with an ellipsis.
    Every returned line fits ``width`` at the returned size.
    """
    text = " ".join(text.split())
    step = size
    while step >= one_line_min:
        if stringWidth(text, font, step) <= width:
            return [text], step
        step -= 0.25
    words = text.split(" ")
    for count in range(2, min(_UNIT_NAME_MAX_LINES, len(words)) + 1):
        lines = min((_join_at(words, cuts) for cuts in combinations(range(1, len(words)), count - 1)),
                    key=lambda candidate: max(stringWidth(line, font, size) for line in candidate))
        step = size
        while step >= min_size:
            if max(stringWidth(line, font, step) for line in lines) <= width:
                return lines, step
            step -= 0.25
    lines = []
    rest = list(words)
    while rest and len(lines) < _UNIT_NAME_MAX_LINES - 1:
        line = rest.pop(0)
        while rest and stringWidth(line + " " + rest[0], font, min_size) <= width:
            line += " " + rest.pop(0)
        lines.append(_cut(line, font, min_size, width))
    if rest:
        lines.append(_cut(" ".join(rest), font, min_size, width))
    return lines, min_size


def _join_at(words: list[str], cuts: tuple[int, ...]) -> list[str]:
    """``words`` as lines, a new line starting at each index in ``cuts``."""
    bounds = (0, *cuts, len(words))
    return [" ".join(words[a:b]) for a, b in zip(bounds, bounds[1:], strict=False)]


def _cut(text: str, font: str, size: float, width: float) -> str:
    """``text``, or as much of it as fits ``width`` followed by "…" (at a word gap when the
    first word fits)."""
    if stringWidth(text, font, size) <= width:
        return text
    words = text.split(" ")
    while len(words) > 1 and stringWidth(" ".join(words) + "…", font, size) > width:
        words.pop()
    kept = " ".join(words)
    while kept and stringWidth(kept + "…", font, size) > width:
        kept = kept[:-1]
    return kept.rstrip() + "…"


def _draw_cut_marks(canvas: Canvas, page_w: float, page_h: float) -> None:
    left, bottom = _margins(page_w, page_h)
    right, top = left + COLUMNS * CARD_W, bottom + ROWS * CARD_H
    canvas.saveState()
    canvas.setLineWidth(0.3)
    canvas.setStrokeColorRGB(0, 0, 0)
    for col in range(COLUMNS + 1):
        x = left + col * CARD_W
        canvas.line(x, top + _MARK_GAP, x, top + _MARK_GAP + _MARK_LEN)
        canvas.line(x, bottom - _MARK_GAP, x, bottom - _MARK_GAP - _MARK_LEN)
    for row in range(ROWS + 1):
        y = bottom + row * CARD_H
        canvas.line(left - _MARK_GAP, y, left - _MARK_GAP - _MARK_LEN, y)
        canvas.line(right + _MARK_GAP, y, right + _MARK_GAP + _MARK_LEN, y)
    canvas.restoreState()


def _draw_card(canvas: Canvas, card: CardData, x: float, y: float, heading: str, hint: str) -> None:
    # A hairline light-grey outline helps when cutting with scissors; the QR sits on white.
    canvas.saveState()
    canvas.setLineWidth(0.25)
    canvas.setStrokeColorRGB(0.8, 0.8, 0.8)
    canvas.roundRect(x, y, CARD_W, CARD_H, 3 * mm, stroke=1, fill=0)
    canvas.restoreState()

    qr_x = x + CARD_W - QR_SIZE - 1.5 * mm
    qr_y = y + (CARD_H - QR_SIZE) / 2
    draw_qr(canvas, card.url, qr_x, qr_y, QR_SIZE)

    text_w = qr_x - (x + _PAD)
    cursor = y + CARD_H - _PAD
    canvas.setFillColorRGB(0.07, 0.35, 0.19)
    lines, size = _fit_unit_name(card.unit_name, FONT_BOLD, text_w)
    for line in lines:
        cursor -= size * 1.15
        canvas.setFont(FONT_BOLD, size)
        canvas.drawString(x + _PAD, cursor, line)
    cursor -= 9
    canvas.setFont(FONT_REGULAR, 7)
    canvas.setFillColorRGB(0.35, 0.35, 0.35)
    canvas.drawString(x + _PAD, cursor, heading)
    canvas.setFillColorRGB(0, 0, 0)
    lines, size = _fit_lines(card.member_name, FONT_BOLD, 12, text_w, 2, 7.5)
    cursor -= 3
    for line in lines:
        cursor -= size * 1.15
        canvas.setFont(FONT_BOLD, size)
        canvas.drawString(x + _PAD, cursor, line)
    canvas.setFont(FONT_BOLD, 11)
    canvas.drawString(x + _PAD, y + _PAD + 9, card.member_no)
    if hint:
        lines, size = _fit_lines(hint, FONT_REGULAR, 6, text_w, 1, 5)
        canvas.setFont(FONT_REGULAR, size)
        canvas.setFillColorRGB(0.35, 0.35, 0.35)
        canvas.drawString(x + _PAD, y + _PAD, lines[0])
        canvas.setFillColorRGB(0, 0, 0)


def render_card_sheet(cards: Sequence[CardData], *, heading: str = "KARTU NASABAH",
                      hint: str = "Pindai untuk melihat saldo", title: str = "Kartu Nasabah") -> bytes:
    """Lay ``cards`` out ten per A4 page (2 × 5, row by row) with cut marks.

    Args:
        cards: the cards in print order; at least one.
        heading: small label above the member's name.
        hint: one short line under the number (e.g. "scan to see your balance"); "" for none.
        title: the PDF's document title.

    Returns:
        PDF bytes, ``ceil(len(cards) / 10)`` A4 pages; byte-identical for identical input.

    Raises:
        ValueError: for an empty ``cards``.
    """
    if not cards:
        raise ValueError("no cards to print")
    register_fonts()
    buf = io.BytesIO()
    canvas = Canvas(buf, pagesize=A4, invariant=1, pageCompression=1)
    canvas.setTitle(title)
    page_w, page_h = A4
    for start in range(0, len(cards), CARDS_PER_PAGE):
        for index, card in enumerate(cards[start:start + CARDS_PER_PAGE]):
            x, y = card_origin(index)
            _draw_card(canvas, card, x, y, heading, hint)
        _draw_cut_marks(canvas, page_w, page_h)
        canvas.showPage()
    canvas.save()
    return buf.getvalue()
