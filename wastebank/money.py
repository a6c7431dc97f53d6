"""Money and quantities: the only place that parses, rounds and formats them (SPEC §3).

Money is whole rupiah in a Python ``int``. Quantities are ``int`` thousandths of the
category's unit of measure: grams for kg, millilitres for L, thousandths of a piece for pcs.
No float is ever involved: parsing works on the digits of the text.
"""
from __future__ import annotations

import re

from babel.numbers import format_decimal
from flask_babel import lazy_gettext as _l

UNITS = ("kg", "L", "pcs")
# No single amount typed at a unit comes near this (Rp 1 trillion); anything above is a typo
# or an attack, and would not fit a database integer much further up.
MAX_RUPIAH = 10**12

# Smaller units a weight input may carry, with the factor to thousandths of the base unit.
_SUB_UNITS = {
    "kg": {"kg": 1000, "g": 1, "gr": 1, "gram": 1, "ons": 100},  # 1 ons = 100 g (Indonesian)
    "L": {"l": 1000, "liter": 1000, "litre": 1000, "ml": 1},
    "pcs": {"pcs": 1000, "pc": 1000, "buah": 1000},
}

_NUMBER = re.compile(r"^(?P<int>[0-9]+)(?:[.,](?P<frac>[0-9]+))?$")


class InputError(ValueError):
    """Bad user input. ``message`` is a lazily translated, human sentence for the field."""

    def __init__(self, message, code: str = "invalid"):
        super().__init__(str(message))
        self.message = message
        self.code = code


def parse_quantity(text: str | int, unit: str, max_milli: int | None = None) -> int:
    """Parse a quantity typed at the counter into thousandths of ``unit``.

    ``text`` takes one decimal mark, ``,`` or ``.``, with at most three decimals and no
    thousands separator (SPEC §3): ``"1,5"`` and ``"1.5"`` are both 1 500 for kg. A sub-unit
    suffix is accepted (``"750 g"`` → 750 for kg, ``"5 ons"`` → 500 for kg, ``"250 ml"`` → 250
    for L; ons take at most two decimals, grams and millilitres none). An ``int`` is
    taken as whole units. Returns a positive int.

    Raises InputError for empty, zero, negative, non-numeric, over-precise, thousands-marked
    or over ``max_milli`` values.
    """
    if unit not in UNITS:
        raise InputError(_l("Unknown unit of measure."), "unit")
    if isinstance(text, bool):
        raise InputError(_l("Enter a number, e.g. 1,5."), "not_a_number")
    if isinstance(text, int):
        text = str(text)
    if not isinstance(text, str):
        raise InputError(_l("Enter a number, e.g. 1,5."), "not_a_number")
    raw = text.strip().lower().replace("\u00a0", " ")
    if not raw:
        raise InputError(_l("Enter the quantity."), "required")
    if raw.startswith("-"):
        raise InputError(_l("The quantity must be more than zero."), "not_positive")
    factor = 1000
    match = re.match(r"^(.*?)\s*([a-z]+)$", raw)
    if match:
        number, suffix = match.group(1).strip(), match.group(2)
        if not number:
            raise InputError(_l("Enter a number, e.g. 1,5."), "not_a_number")
        if suffix not in _SUB_UNITS[unit]:
            raise InputError(_l("Unknown unit “%(suffix)s”.", suffix=suffix), "unit")
        factor = _SUB_UNITS[unit][suffix]
        raw = number
    if raw.count(".") + raw.count(",") > 1:
        raise InputError(
            _l("Use one decimal mark and no thousands separator, e.g. 1500,5 or 1,5."),
            "thousands_separator",
        )
    parsed = _NUMBER.match(raw)
    if not parsed:
        raise InputError(_l("Enter a number, e.g. 1,5."), "not_a_number")
    whole, frac = parsed.group("int"), parsed.group("frac") or ""
    # Decimals allowed so that the result stays a whole number of thousandths.
    allowed = {1000: 3, 100: 2, 1: 0}.get(factor, 3)
    if len(frac) > allowed:
        if allowed == 0:
            raise InputError(_l("Whole grams or millilitres only."), "too_precise")
        raise InputError(_l("At most three decimals."), "too_precise")
    milli = (int(whole) * 1000 + int(frac.ljust(3, "0") or 0)) * factor // 1000
    if milli <= 0:
        raise InputError(_l("The quantity must be more than zero."), "not_positive")
    if max_milli is not None and milli > max_milli:
        raise InputError(
            _l("Too much for one line: at most %(max)s.", max=format_quantity(max_milli, unit)),
            "over_limit",
        )
    return milli


def parse_rupiah(text: str | int) -> int:
    """Parse a typed rupiah amount into an int: ``"3.250"``, ``"Rp 3.250"``, ``"3,250"``,
    ``"3250"`` → 3250; ``"3.250,00"`` → 3250. Returns a positive int.

    Raises InputError for empty, zero, negative, fractional rupiah or non-numeric text.
    """
    if isinstance(text, bool):
        raise InputError(_l("Enter an amount in rupiah, e.g. 3.250."), "not_a_number")
    if isinstance(text, int):
        value = text
    else:
        raw = str(text).strip().lower().replace("rp", "").replace(" ", "").replace("\u00a0", "")
        if not raw:
            raise InputError(_l("Enter an amount in rupiah."), "required")
        if raw.startswith("-"):
            raise InputError(_l("The amount must be more than zero."), "not_positive")
        raw = re.sub(r"[.,]00?$", "", raw) if re.search(r"[0-9][.,][0-9]{3}[.,]00?$|^[0-9]+[.,]00?$", raw) else raw
        if re.fullmatch(r"[0-9]{1,3}(\.[0-9]{3})+", raw):
            value = int(raw.replace(".", ""))
        elif re.fullmatch(r"[0-9]{1,3}(,[0-9]{3})+", raw):
            value = int(raw.replace(",", ""))
        elif re.fullmatch(r"[0-9]+", raw):
            value = int(raw)
        else:
            raise InputError(_l("Whole rupiah only, e.g. 3.250."), "not_a_number")
    if value <= 0:
        raise InputError(_l("The amount must be more than zero."), "not_positive")
    if value > MAX_RUPIAH:
        raise InputError(_l("That amount is far too large; check the digits."), "too_large")
    return value


def round_half_up_div(numerator: int, denominator: int) -> int:
    """Integer ``numerator / denominator`` rounded half up, for numerator ≥ 0, denominator > 0."""
    if numerator < 0 or denominator <= 0:
        raise ValueError("round_half_up_div takes a non-negative numerator and positive denominator")
    return (2 * numerator + denominator) // (2 * denominator)


def line_amount(quantity_milli: int, unit_price_idr: int) -> int:
    """Rupiah value of one deposit line: ``round_half_up(quantity_milli × price / 1000)``.

    SPEC §3 "Line value": the receipt, the balance change and every statement use this figure.
    """
    return round_half_up_div(quantity_milli * unit_price_idr, 1000)


def fee_amount(total_idr: int, fee_bp: int) -> int:
    """Fee withheld from a deposit: ``round_half_up(total × fee_bp / 10 000)`` rupiah.

    ``fee_bp`` is the unit's fee in basis points (0–3000, i.e. 0–30 %; SPEC §3 "Bank share").
    """
    if not 0 <= fee_bp <= 3000:
        raise ValueError("fee must be between 0 and 30 %")
    return round_half_up_div(total_idr * fee_bp, 10_000)


def _locale(locale) -> str:
    return str(locale or "id")


def format_idr(amount: int, locale=None) -> str:
    """``4875`` → ``"Rp 4.875"`` (id) or ``"Rp 4,875"`` (en); negative as ``"-Rp 4.875"``."""
    sign = "-" if amount < 0 else ""
    return f"{sign}Rp {format_decimal(abs(amount), locale=_locale(locale), group_separator=True)}"


def format_quantity(milli: int, unit: str, locale=None, with_unit: bool = True) -> str:
    """``1500, "kg"`` → ``"1,5 kg"`` (id) or ``"1.5 kg"`` (en); up to three decimals, no zeros."""
    whole, frac = divmod(abs(milli), 1000)
    mark = "," if _locale(locale).startswith("id") else "."
    text = str(whole) + (mark + f"{frac:03d}".rstrip("0") if frac else "")
    if milli < 0:
        text = "-" + text
    return f"{text} {unit}" if with_unit else text


def format_fee_bp(fee_bp: int, locale=None) -> str:
    """``250`` basis points → ``"2,5 %"`` (id) / ``"2.5 %"`` (en)."""
    return format_quantity(fee_bp * 10, "%", locale)
