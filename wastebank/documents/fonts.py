"""Bundled TrueType fonts for PDF documents.

reportlab's built-in base-14 fonts (Helvetica, ...) only cover Latin-1, so
names such as "Łukasz", "Đặng" or "Ĳssel" would render as black boxes. We
bundle DejaVu Sans (from the Debian package ``fonts-dejavu-core``; licence in
``fonts/LICENSE-DejaVu.txt``) and embed it (subsetted) in every PDF.

DejaVu Sans has no CJK glyphs; such characters still render as boxes.
"""

from __future__ import annotations

import threading
from pathlib import Path

from reportlab.lib.fonts import addMapping
from reportlab.pdfbase import pdfmetrics
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
                    pdfmetrics.registerFont(TTFont(name, str(FONT_DIR / filename)))
            # Map <b>/<i> in Paragraph markup onto our faces (no italic bundled).
            addMapping(FONT_FAMILY, 0, 0, FONT_REGULAR)
            addMapping(FONT_FAMILY, 1, 0, FONT_BOLD)
            addMapping(FONT_FAMILY, 0, 1, FONT_REGULAR)
            addMapping(FONT_FAMILY, 1, 1, FONT_BOLD)
            _registered = True
    return FONT_REGULAR, FONT_BOLD


__all__ = ["FONT_BOLD", "FONT_DIR", "FONT_FAMILY", "FONT_REGULAR", "register_fonts"]
