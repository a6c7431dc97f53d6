"""The text rule every stored field obeys: no control, format, surrogate, private-use or
unassigned characters (Unicode categories C*). NUL breaks PostgreSQL text, a lone surrogate
breaks every driver's UTF-8 encoding, and zero-width or escape characters make names that look
alike but differ. The JSON API's fields and the services both use it.
"""
from __future__ import annotations

import unicodedata


def has_bad_characters(value: str) -> bool:
    """True when ``value`` contains a character of Unicode category C (Cc, Cf, Cs, Co, Cn)."""
    if value.isascii() and value.isprintable():
        # Printable ASCII (space to tilde) has no category-C character: the usual text (a
        # member number, a quantity) is checked in C, not one character at a time.
        return False
    return any(unicodedata.category(ch)[0] == "C" for ch in value)
