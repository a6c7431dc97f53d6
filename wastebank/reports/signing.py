"""Letterhead lines and the signature block of a unit's documents (issue 9): one place for what
the statement, the passbook and the sale note print about the issuing unit and who signs.

A waste bank's committee (*pengurus*) signs its books: the *ketua* (chair), the *bendahara*
(treasurer) and the *petugas* (the operator on duty). The place is the unit's city (*kota*),
the date the local day of printing in the reader's language (``2 Desember 2026``).
"""
from __future__ import annotations

from datetime import date

from babel.dates import format_date
from flask_babel import gettext as _

from ..timeutil import local_today


def unit_letterhead(unit) -> tuple[str, ...]:
    """``(name, street line, area line)`` of ``unit``: the street with its RW, then
    "Kel. …, Kec. …, <kota>" (empty parts left out, an empty line dropped)."""
    street = ", ".join(p for p in (unit.address, f"RW {unit.rw}" if unit.rw else "") if p)
    area = ", ".join(p for p in (f"Kel. {unit.kelurahan}" if unit.kelurahan else "",
                                 f"Kec. {unit.kecamatan}" if unit.kecamatan else "", unit.kota) if p)
    return tuple([unit.name] + [line for line in (street, area) if line])


def place_date(place: str, locale, day: date | None = None) -> str:
    """``"Jakarta Selatan, 2 Desember 2026"``: ``place`` (may be "") and ``day`` (default: the
    local today) in the long form of ``locale``."""
    text = format_date(day or local_today(), format="long", locale=str(locale or "id"))
    return f"{place}, {text}" if place else text


def committee_signers(operator: str = "") -> tuple[tuple[str, str], ...]:
    """The three signature boxes, translated: chair, treasurer, operator (``operator``'s name
    printed under the last, the others left blank to write in)."""
    return ((_("Chair"), ""), (_("Treasurer"), ""), (_("Operator"), operator))
