"""QR code helpers (receipts now, member cards later).

All QR codes use error-correction level M and the standard 4-module quiet
zone (``border=4``), which is included in every size given below.

Speed (issue 13 item 6): every code uses one fixed data mask, :data:`MASK_PATTERN` (6),
instead of letting ``qrcode`` build the symbol eight times to score each mask in Python —
that search was 75 % of a card's time and a third of a receipt's. Any of the eight masks is a
valid QR code that every reader decodes (the mask is written in the format bits); the search
only avoids patterns that are a little harder to read. Mask 6 is the one the search picked
most often for our verification and card URLs (102 of 200 samples) and has the lowest mean
penalty score over them (885 against 885–1,080 for the others), so the codes look as they
did. Set ``MASK_PATTERN = None`` to get the library's search back (``bench/documents.py
--before`` does, to compare).
"""

from __future__ import annotations

import qrcode
from qrcode.constants import ERROR_CORRECT_M
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable

#: Quiet-zone width in modules (QR spec minimum).
QUIET_ZONE_MODULES: int = 4
#: The data mask of every code (0–7, ISO/IEC 18004 §7.8.2); ``None``: the library tries all
#: eight and keeps the lowest penalty (8× the work of building the symbol).
MASK_PATTERN: int | None = 6


def _qr(data: str, box_size: int) -> qrcode.QRCode:
    """The smallest fitting symbol for ``data`` at EC level M with the fixed mask."""
    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=QUIET_ZONE_MODULES, box_size=box_size,
                       mask_pattern=MASK_PATTERN)
    qr.add_data(data)
    qr.make(fit=True)
    return qr


def qr_matrix(data: str) -> list[list[bool]]:
    """Encode ``data`` as a QR code (EC level M, smallest fitting version).

    Returns:
        Square matrix of booleans, ``True`` = dark module, row 0 at the top,
        *including* the 4-module quiet zone on every side.
    """
    return [list(row) for row in _qr(data, 1).get_matrix()]


def qr_image(data: str, box_size: int = 10):
    """Render ``data`` as a black-on-white raster QR code.

    Args:
        data: text to encode (e.g. a verification URL).
        box_size: pixels per module.

    Returns:
        ``PIL.Image.Image`` (mode "1"), ``(modules + 8) * box_size`` pixels
        square, quiet zone included. Suitable for PNG output / web pages.
    """
    return _qr(data, box_size).make_image(fill_color="black", back_color="white").get_image()


def _dark_rects(matrix: list[list[bool]]) -> list[tuple[int, int, int, int]]:
    """The dark modules of ``matrix`` as rectangles ``(column, row, width, height)`` in modules
    (row 0 at the top) that cover exactly the dark modules: each row's runs of dark modules,
    a run that repeats in the rows below it merged into one taller rectangle. About 20 % fewer
    path operators than one rectangle per run, so less to format and write per code."""
    done: list[tuple[int, int, int, int]] = []
    open_: dict[tuple[int, int], int] = {}  # (start column, end column) -> first row
    for r, row in enumerate(matrix + [[]]):
        runs, c, n = set(), 0, len(row)
        while c < n:
            if row[c]:
                start = c
                while c < n and row[c]:
                    c += 1
                runs.add((start, c))
            c += 1
        for key in [k for k in open_ if k not in runs]:
            first = open_.pop(key)
            done.append((key[0], first, key[1] - key[0], r - first))
        for key in runs:
            open_.setdefault(key, r)
    done.sort(key=lambda rect: (rect[1], rect[0]))
    return done


def draw_qr(canvas: Canvas, data: str, x: float, y: float, size: float) -> None:
    """Draw ``data`` as a vector QR code directly on a reportlab canvas.

    Args:
        canvas: target ``reportlab.pdfgen.canvas.Canvas``.
        data: text to encode.
        x, y: lower-left corner of the code (quiet zone included), in points.
        size: edge length in points, quiet zone included; e.g.
            ``30 * reportlab.lib.units.mm``.

    Dark modules are filled as one path (no seams between modules); the quiet
    zone is left unpainted, so draw on a white background. Uses no font, so
    it adds no font resource to the PDF.
    """
    matrix = qr_matrix(data)
    n = len(matrix)
    module = size / n
    # One path in module units (a scale transform), so every coordinate is a small integer the
    # PDF writer copies as is instead of formatting a float (issue 13 item 6).
    ops = " ".join(f"{c} {n - r - h} {w} {h} re" for c, r, w, h in _dark_rects(matrix))
    canvas.saveState()
    canvas.setFillColorRGB(0, 0, 0)
    canvas.transform(module, 0, 0, module, x, y)
    canvas._code.append(ops + " f")  # noqa: SLF001 - reportlab has no public "append operators"
    canvas.restoreState()


class QRFlowable(Flowable):
    """Platypus flowable showing a square vector QR code.

    Args:
        data: text to encode.
        size: edge length in points, quiet zone included.
        hAlign: horizontal alignment in the frame ("LEFT", "CENTER", "RIGHT").
    """

    def __init__(self, data: str, size: float, hAlign: str = "CENTER") -> None:
        super().__init__()
        self.data = data
        self.size = size
        self.hAlign = hAlign
        self.width = self.height = size

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        """Fixed size: ``(size, size)`` points."""
        return self.size, self.size

    def draw(self) -> None:
        draw_qr(self.canv, self.data, 0, 0, self.size)


__all__ = ["MASK_PATTERN", "QRFlowable", "QUIET_ZONE_MODULES", "draw_qr", "qr_image", "qr_matrix"]
