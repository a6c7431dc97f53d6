"""The one CSV writer of every download (statements, unit reports, audit log, …): files that
open as columns in a spreadsheet in Indonesian and English settings and cannot run formulas.

Rules (docs/rules.md §csv, issue 9 item 7, issue 10 item 12; docs/csv-exports.md):

* **Encoding.** UTF-8 with a BOM, so Excel reads names like *Siti Nurhaliza* or *Jl. Kebon
  Jeruk* right; CRLF line ends.
* **Separator.** ``;`` (what Excel expects under the Indonesian locale, where ``,`` is the
  decimal mark) or ``,`` (English locale, scripts). :func:`csv_options` reads it from the
  request: ``?sep=semicolon`` / ``?sep=comma``.
* **Cells.** ``int`` is written bare (rupiah, counts, thousandths: numbers stay numbers, −5
  too); ``Decimal`` bare, with ``,`` as decimal mark in the ``;`` file and ``.`` in the ``,``
  file (kilograms for people, e.g. ``1,5``); ``None`` empty; anything else is text and always
  quoted, so no separator inside a cell can split it.
* **Formula neutralisation** (OWASP "CSV injection"): a text cell gets a leading ``'`` when it,
  or any part of it after a ``;``, ``,``, tab, CR or LF, would start a formula once invisible
  characters (zero-width, bidi controls, BOM, spaces) are stripped and full-width forms folded:
  ``= + - @`` tab or CR. So ``Budi;=1+2`` and ``\\u200b=1+2`` are text too.
"""
from __future__ import annotations

import csv
import io
import re
import unicodedata
from decimal import Decimal

from flask import Response, request

SEPARATORS = {"semicolon": ";", "comma": ","}
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PARTS = re.compile(r"[;,\t\r\n]")


def _visible_start(text: str) -> str:
    """``text`` without its leading invisible characters (format Cf — zero-width, bidi, BOM —,
    controls other than tab/CR, and spaces), full-width forms folded (``＝`` → ``=``)."""
    i = 0
    while i < len(text):
        ch = text[i]
        if ch in "\t\r":
            break
        if unicodedata.category(ch) in ("Cf", "Cc", "Zs", "Zl", "Zp"):
            i += 1
            continue
        break
    return unicodedata.normalize("NFKC", text[i:i + 1]) + text[i + 1:]


def is_formula_like(text: str) -> bool:
    """True if a spreadsheet could read ``text`` (or one of its ``;``/``,``/tab/newline parts,
    which another locale's separator would make cells) as a formula."""
    if _visible_start(text).startswith(_FORMULA_START):
        return True
    return any(_visible_start(part).startswith(_FORMULA_START[:4]) for part in _PARTS.split(text)[1:])


def safe_cell(value):
    """One cell as written: ``int`` (not bool → 0/1) and ``Decimal`` unchanged, ``None`` → ``""``,
    other values as text, prefixed with ``'`` when :func:`is_formula_like`."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (int, Decimal)):
        return value
    text = str(value)
    return "'" + text if is_formula_like(text) else text


def quantity_cell(milli: int) -> Decimal:
    """Integer thousandths (grams, mL, thousandths of a piece) → the exact ``Decimal`` in kg/L/pcs."""
    return Decimal(int(milli)).scaleb(-3)


def _decimal_text(value: Decimal, sep: str) -> str:
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text.replace(".", ",") if sep == ";" else text


def csv_bytes(header: list, rows, sep: str = ";") -> bytes:
    """The CSV file (UTF-8 with BOM, CRLF) of ``header`` and ``rows`` (iterables of cells, see
    :func:`safe_cell`), separated by ``sep`` (``";"`` or ``","``; ValueError otherwise)."""
    if sep not in (";", ","):
        raise ValueError("separator must be ';' or ','")
    buffer = io.StringIO()
    # QUOTE_NONNUMERIC quotes every text cell and leaves numbers bare; a Decimal goes through
    # _Number so it keeps its exact digits and the separator's decimal mark.
    writer = csv.writer(buffer, delimiter=sep, lineterminator="\r\n", quoting=csv.QUOTE_NONNUMERIC)
    for row in [header, *rows]:
        cells = []
        for cell in row:
            cell = safe_cell(cell)
            if isinstance(cell, Decimal):
                cell = _Number(_decimal_text(cell, sep))
            cells.append(cell)
        writer.writerow(cells)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


class _Number(float):
    """A number the csv module writes bare (it quotes every str under QUOTE_NONNUMERIC) but
    printed as our exact decimal text, never through float formatting."""

    def __new__(cls, text: str):
        obj = super().__new__(cls, 0.0)
        obj.text = text
        return obj

    def __repr__(self) -> str:
        return self.text

    __str__ = __repr__


def csv_options(default_format: str = "names") -> tuple[str, str]:
    """``(sep, format)`` from the request: ``format`` is ``"names"`` (Indonesian/English headers
    and category names, for people) or ``"codes"`` (stable snake_case headers and codes, for
    machines) from ``?format=``; ``sep`` from ``?sep=semicolon|comma`` (``;`` or ``,``),
    defaulting to ``;`` for people and ``,`` for machines. Unknown values fall back to the
    defaults (never an error: a link is all people click)."""
    fmt = request.args.get("format", default_format)
    fmt = fmt if fmt in ("names", "codes") else default_format
    sep = SEPARATORS.get(request.args.get("sep", ""), ";" if fmt == "names" else ",")
    return sep, fmt


def csv_response(filename: str, header: list, rows, sep: str = ";") -> Response:
    """A download response of :func:`csv_bytes` as ``filename`` (ASCII; private, not cached)."""
    response = Response(csv_bytes(header, rows, sep), mimetype="text/csv")
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response
