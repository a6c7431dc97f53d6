"""QR code helpers (receipts now, member cards later).

All QR codes use error-correction level M and the standard 4-module quiet
zone (``border=4``), which is included in every size given below.
"""

from __future__ import annotations

import qrcode
from qrcode.constants import ERROR_CORRECT_M
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable

#: Quiet-zone width in modules (QR spec minimum).
QUIET_ZONE_MODULES: int = 4


def qr_matrix(data: str) -> list[list[bool]]:
    """Encode ``data`` as a QR code (EC level M, smallest fitting version).

    Returns:
        Square matrix of booleans, ``True`` = dark module, row 0 at the top,
        *including* the 4-module quiet zone on every side.
    """
    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=QUIET_ZONE_MODULES, box_size=1)
    qr.add_data(data)
    qr.make(fit=True)
    return [list(row) for row in qr.get_matrix()]


def qr_image(data: str, box_size: int = 10):
    """Render ``data`` as a black-on-white raster QR code.

    Args:
        data: text to encode (e.g. a verification URL).
        box_size: pixels per module.

    Returns:
        ``PIL.Image.Image`` (mode "1"), ``(modules + 8) * box_size`` pixels
        square, quiet zone included. Suitable for PNG output / web pages.
    """
    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=QUIET_ZONE_MODULES, box_size=box_size)
    qr.add_data(data)
    qr.make(fit=True)
    return qr.make_image(fill_color="black", back_color="white").get_image()


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
    path = canvas.beginPath()
    for r, row in enumerate(matrix):
        y_bottom = y + size - (r + 1) * module
        c = 0
        while c < n:
            if not row[c]:
                c += 1
                continue
            start = c
            while c < n and row[c]:
                c += 1
            path.rect(x + start * module, y_bottom, (c - start) * module, module)
    canvas.saveState()
    canvas.setFillColorRGB(0, 0, 0)
    canvas.drawPath(path, stroke=0, fill=1)
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


__all__ = ["QRFlowable", "QUIET_ZONE_MODULES", "draw_qr", "qr_image", "qr_matrix"]
