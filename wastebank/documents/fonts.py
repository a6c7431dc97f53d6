"""Bundled TrueType fonts for PDF documents.

reportlab's built-in base-14 fonts (Helvetica, ...) only cover Latin-1, so
names such as "Łukasz", "Đặng" or "Ĳssel" would render as black boxes. We
bundle DejaVu Sans (from the Debian package ``fonts-dejavu-core``; licence in
``fonts/LICENSE-DejaVu.txt``) and embed it (subsetted) in every PDF.

DejaVu Sans has no CJK glyphs; such characters still render as boxes.
"""

from __future__ import annotations

import threading
import zlib
from collections import OrderedDict
from pathlib import Path

from reportlab.lib.fonts import addMapping
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.pdfdoc import PDFZCompress
from reportlab.pdfbase.ttfonts import TTFont

#: Directory holding the bundled ``.ttf`` files.
FONT_DIR: Path = Path(__file__).resolve().parent / "fonts"

#: reportlab font name of the regular face (use with ``canvas.setFont`` or
#: ``ParagraphStyle(fontName=...)``).
FONT_REGULAR: str = "DejaVuSans"
#: reportlab font name of the bold face.
FONT_BOLD: str = "DejaVuSans-Bold"
#: Font family name; ``<b>`` inside a Paragraph using FONT_REGULAR maps to FONT_BOLD.
FONT_FAMILY: str = "DejaVuSans"

_FILES: dict[str, str] = {
    FONT_REGULAR: "DejaVuSans.ttf",
    FONT_BOLD: "DejaVuSans-Bold.ttf",
}

_lock = threading.Lock()
_registered = False
#: Font subsets kept per face (issue 13 item 6): most receipts use the same few dozen characters
#: in the same order, and building and compressing a subset (~25 kB of TrueType each) took a
#: third of a receipt.
SUBSET_CACHE_SIZE: int = 64


class _Deflated:
    """A stream filter for one cached subset: FlateDecode like reportlab's ``PDFZCompress``
    (the same ``zlib.compress`` call, so the same bytes), compressed once, not per document."""

    pdfname = "FlateDecode"

    def __init__(self) -> None:
        self._packed: bytes | None = None

    def encode(self, text: bytes) -> bytes:
        if self._packed is None:
            self._packed = zlib.compress(text)
        return self._packed

    def decode(self, encoded: bytes) -> bytes:
        return zlib.decompress(encoded)


def _cache_subsets(font: TTFont) -> TTFont:
    """``font`` whose face remembers its last :data:`SUBSET_CACHE_SIZE` subsets, built and
    compressed: a subset is a pure function of the face and the code points in the order the
    document used them (the key), so a cached one is byte-identical to a fresh one. Holds
    glyphs only, no text."""
    face = font.face
    build, add_objects = face.makeSubset, face.addSubsetObjects
    cache: OrderedDict[tuple[int, ...], tuple[bytes, _Deflated]] = OrderedDict()
    guard = threading.Lock()

    def entry(subset) -> tuple[bytes, _Deflated]:
        key = tuple(subset)
        with guard:
            if key in cache:
                cache.move_to_end(key)
                return cache[key]
        made = (build(subset), _Deflated())
        if SUBSET_CACHE_SIZE <= 0:  # no cache: as reportlab does it
            return made
        with guard:
            cache[key] = made
            while len(cache) > SUBSET_CACHE_SIZE:
                cache.popitem(last=False)
        return made

    def add_subset_objects(doc, fontname, subset):
        ref = add_objects(doc, fontname, subset)
        stream = doc.idToObject.get(f"fontFile:{face.filename}({fontname})")
        if SUBSET_CACHE_SIZE > 0 and stream is not None and stream.filters == [PDFZCompress]:
            stream.filters = [entry(subset)[1]]
        return ref

    face.makeSubset = lambda subset: entry(subset)[0]
    face.addSubsetObjects = add_subset_objects
    return font


def register_fonts() -> tuple[str, str]:
    """Register the bundled DejaVu fonts with reportlab (idempotent, thread-safe).

    Safe to call before every render; the fonts are loaded from disk only
    once per process.

    Returns:
        ``(FONT_REGULAR, FONT_BOLD)`` – the reportlab font names to use.
    """
    global _registered
    if _registered:
        return FONT_REGULAR, FONT_BOLD
    with _lock:
        if not _registered:
            known = set(pdfmetrics.getRegisteredFontNames())
            for name, filename in _FILES.items():
                if name not in known:
                    pdfmetrics.registerFont(_cache_subsets(TTFont(name, str(FONT_DIR / filename))))
            # Map <b>/<i> in Paragraph markup onto our faces (no italic bundled).
            addMapping(FONT_FAMILY, 0, 0, FONT_REGULAR)
            addMapping(FONT_FAMILY, 1, 0, FONT_BOLD)
            addMapping(FONT_FAMILY, 0, 1, FONT_REGULAR)
            addMapping(FONT_FAMILY, 1, 1, FONT_BOLD)
            _registered = True
    return FONT_REGULAR, FONT_BOLD


__all__ = ["FONT_BOLD", "FONT_DIR", "FONT_FAMILY", "FONT_REGULAR", "register_fonts"]
