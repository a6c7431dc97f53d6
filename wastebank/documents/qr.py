"""QR code helpers (receipts, member cards, the web page's image).

All QR codes use error-correction level M, the smallest version that fits, and the standard
4-module quiet zone (``border=4``), which is included in every size given below.

Encoder (issue 13 item 6): zxing-cpp's writer (``zxingcpp.create_barcode``, C++; already the
decoder the tests read every code with) builds a receipt's symbol in about 0.25 ms, its full
mask search included, against 0.75–0.8 ms for the pure-Python ``qrcode`` with one fixed mask
and 3.4 ms with its mask search (segno, pure Python: 0.72 ms fixed mask, 3.4 ms searching;
qrcodegen 2.2 ms; figures in bench/README.md). zxing-cpp picks the mask by the standard's
penalty score, so the codes are as easy to read as the library search made them. Where the
installed zxing-cpp has no writer (no ``create_barcode``), ``qrcode`` encodes with the fixed data mask
:data:`MASK_PATTERN` (6: the one its search picked most often for our verification and card
URLs, 102 of 200, with the lowest mean penalty, 885 against 885–1,080 for the others; any of the
eight is a valid code every reader decodes). ``ENCODER`` names the one in use;
``bench/documents.py`` switches it to compare.
"""

from __future__ import annotations

import re

import qrcode
from qrcode.constants import ERROR_CORRECT_M
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable

try:
    import zxingcpp
except ImportError:  # pragma: no cover - zxing-cpp is a dependency; qrcode encodes without it
    zxingcpp = None

#: Quiet-zone width in modules (QR spec minimum).
QUIET_ZONE_MODULES: int = 4
#: The data mask of the ``qrcode`` encoder (0–7, ISO/IEC 18004 §7.8.2); ``None``: the library tries
#: all eight and keeps the lowest penalty (8× the work of building the symbol).
MASK_PATTERN: int | None = 6
#: ``"zxing-cpp"`` (when its writer is installed) or ``"qrcode"``: the encoder of every code.
ENCODER: str = "zxing-cpp" if hasattr(zxingcpp, "create_barcode") else "qrcode"

_DARK_RUN = re.compile(b"\x01+")
#: zxing-cpp's image bytes (0 black, 255 white) to modules (1 dark, 0 light), for ``bytes.translate``.
_FROM_LUMINANCE = bytes([1] + [0] * 255)


def _qr(data: str, box_size: int) -> qrcode.QRCode:
    """The smallest fitting ``qrcode`` symbol for ``data`` at EC level M with the fixed mask."""
    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=QUIET_ZONE_MODULES, box_size=box_size,
                       mask_pattern=MASK_PATTERN)
    qr.add_data(data)
    qr.make(fit=True)
    return qr


def _rows(data: str) -> list[bytes]:
    """The symbol's rows without quiet zone, one byte per module: 1 dark, 0 light."""
    if ENCODER == "zxing-cpp":
        code = zxingcpp.create_barcode(data, zxingcpp.BarcodeFormat.QRCode, ec_level="M")
        image = code.to_image(scale=1, add_quiet_zones=False)  # 0 = black, 255 = white
        n = image.shape[0]
        raw = bytes(memoryview(image)).translate(_FROM_LUMINANCE)
        return [raw[r * n:(r + 1) * n] for r in range(n)]
    matrix = _qr(data, 1).get_matrix()
    q = QUIET_ZONE_MODULES
    return [bytes(row[q:len(row) - q]) for row in matrix[q:len(matrix) - q]]


def qr_matrix(data: str) -> list[list[bool]]:
    """Encode ``data`` as a QR code (EC level M, smallest fitting version).

    Returns:
        Square matrix of booleans, ``True`` = dark module, row 0 at the top,
        *including* the 4-module quiet zone on every side.
    """
    rows = _rows(data)
    light = [False] * (len(rows) + 2 * QUIET_ZONE_MODULES)
    quiet = [False] * QUIET_ZONE_MODULES
    return ([list(light) for _ in range(QUIET_ZONE_MODULES)]
            + [quiet + [bool(m) for m in row] + quiet for row in rows]
            + [list(light) for _ in range(QUIET_ZONE_MODULES)])


def qr_image(data: str, box_size: int = 10):
    """Render ``data`` as a black-on-white raster QR code.

    Args:
        data: text to encode (e.g. a verification URL).
        box_size: pixels per module.

    Returns:
        ``PIL.Image.Image`` (mode "1"), ``(modules + 8) * box_size`` pixels
        square, quiet zone included. Suitable for PNG output / web pages.
    """
    from PIL import Image

    matrix = qr_matrix(data)
    n = len(matrix)
    pixels = bytes(0 if dark else 255 for row in matrix for dark in row)
    image = Image.frombytes("L", (n, n), pixels).resize((n * box_size, n * box_size), Image.NEAREST)
    return image.convert("1")


def _dark_rects(rows: list[bytes]) -> list[tuple[int, int, int, int]]:
    """The dark modules of ``rows`` (see :func:`_rows`) as rectangles ``(column, row, width,
    height)`` in modules (row 0 at the top) that cover exactly the dark modules: each row's runs
    of dark modules, a run that repeats in the rows below it merged into one taller rectangle.
    About 20 % fewer path operators than one rectangle per run, so less to format and write."""
    done: list[tuple[int, int, int, int]] = []
    open_: dict[tuple[int, int], int] = {}  # (start column, end column) -> first row
    for r, row in enumerate(rows + [b""]):
        runs = {m.span() for m in _DARK_RUN.finditer(row)}
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
    rows = _rows(data)
    q = QUIET_ZONE_MODULES
    n = len(rows) + 2 * q
    module = size / n
    # One path in module units (a scale transform), so every coordinate is a small integer the
    # PDF writer copies as is instead of formatting a float (issue 13 item 6).
    top = n - q
    ops = " ".join(f"{c + q} {top - r - h} {w} {h} re" for c, r, w, h in _dark_rects(rows))
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


__all__ = ["ENCODER", "MASK_PATTERN", "QRFlowable", "QUIET_ZONE_MODULES", "draw_qr", "qr_image", "qr_matrix"]
