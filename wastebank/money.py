"""Money and quantities: the only place that parses, rounds and formats them (docs/rules.md §money, §quantities).

Money is whole rupiah in a Python ``int``. Quantities are ``int`` thousandths of the
category's unit of measure: grams for kg, millilitres for L, thousandths of a piece for pcs.
No float is ever involved: parsing works on the digits of the text.

``static/counter/money.js`` applies the same rules in the browser (offline counter, checks as
the operator types); ``tests/vectors/money.json`` is the contract both answer alike
(docs/money-rules.md). A change here is a change there and in the vectors.
"""
from __future__ import annotations

import re
from typing import TypeAlias

from babel.numbers import format_decimal
from flask_babel import lazy_gettext as _l

# Names that carry units, for signatures (issue 11 item 7). Plain type aliases, as beancount
# names its number and string types in ``beancount.core.data`` (``Account = str``,
# ``Currency = str``), not ``typing.NewType``: a NewType would have to be wrapped around every
# literal, every database value and every sum (``int + int`` is an ``int`` again, not Rupiah),
# which buys a type checker's complaint at each of them but no safety the tests do not already
# give. An alias costs nothing at run time and says, in the signature, what the int counts.
Rupiah: TypeAlias = int
"""Whole rupiah (IDR), signed where a direction is meant (debit +, credit −)."""
Thousandths: TypeAlias = int
"""Thousandths of a category's unit of measure: grams for kg, millilitres for L, thousandths
of a piece for pcs."""
BasisPoints: TypeAlias = int
"""Hundredths of a percent: 250 = 2,5 % (a unit's deposit fee)."""

UNITS = ("kg", "L", "pcs")
# No single amount typed at a unit comes near this (Rp 1 trillion); anything above is a typo
# or an attack, and would not fit a database integer much further up.
MAX_RUPIAH = 10**12
# Likewise no quantity comes near a trillion kilograms (10**15 thousandths): parse_quantity
# refuses anything above as over the limit, even where no per-category maximum is given, so a
# string of digits never reaches int() or a database integer.
MAX_QUANTITY_MILLI = 10**15

# Unit suffixes a quantity input may carry, with the thousandths of the category's unit in one
# of them. 1 ons = 100 g (the Indonesian market's tenth of a kilogram).
_SUB_UNITS = {
    "kg": {"kg": 1000, "g": 1, "gr": 1, "gram": 1, "ons": 100},
    "L": {"l": 1000, "liter": 1000, "litre": 1000, "ml": 1},
    "pcs": {"pcs": 1000, "pc": 1000, "buah": 1000},
}

# Decimals a number may carry with each factor, so that the result is whole thousandths.
_DECIMALS = {1000: 3, 100: 2, 1: 0}

_NUMBER = re.compile(r"^(?P<int>[0-9]+)(?:[.,](?P<frac>[0-9]+))?$")


class InputError(ValueError):
    """Bad user input. ``message`` is a lazily translated, human sentence for the field;
    ``code`` its stable name (the API's and the browser's); ``params`` the values the message
    interpolates (and, for ``too_precise``, which of its sentences: ``decimals``/``whole``)."""

    def __init__(self, message, code: str = "invalid", params: dict | None = None):
        super().__init__(str(message))
        self.message = message
        self.code = code
        self.params = dict(params or {})


def parse_quantity(text: str | int, unit: str, max_milli: Thousandths | None = None) -> Thousandths:
    """Parse a quantity typed at the counter into thousandths of ``unit`` (``"kg"``, ``"L"``
    or ``"pcs"``): grams, millilitres, thousandths of a piece.

    ``text`` takes one decimal mark, ``,`` or ``.``, and no thousands separator
    (docs/rules.md §quantities): ``"1,5"`` and ``"1.5"`` are both 1 500 for kg; ``"2,000"`` is 2 kg.
    A unit suffix, with or without a space, in any case, is accepted: for kg ``kg``, ``ons`` (100 g:
    ``"5 ons"`` → 500, ``"2,5 ons"`` → 250), ``g``/``gr``/``gram``; for L
    ``l``/``liter``/``litre``/``ml``; for pcs ``pcs``/``pc``/``buah``. Decimals: at most three in
    kg or L, two in ons and none in g or ml, so the result is always whole thousandths; pieces are
    whole: a pcs quantity takes no decimal mark at all (``"3"``, ``"3 buah"``; ``"2,5"`` and also
    ``"2,0"`` are refused — ``"2.000"`` could be two or two thousand pieces), still stored in
    thousandths (3 → 3 000).
    Surrounding whitespace and no-break spaces are ignored. An ``int`` (not a bool) is whole units.
    Returns a positive int, at most ``max_milli`` when given and never over ``MAX_QUANTITY_MILLI``.

    Raises InputError, ``code`` (``params``): ``unit`` (``unit`` is not a unit of measure: no
    params; a suffix that does not fit it: ``suffix``), ``not_a_number`` (bool, float, None,
    letters, exponents, non-ASCII digits, ``",5"``, ``"5,"``), ``required`` (empty),
    ``not_positive`` (zero, or a leading ``-``), ``thousands_separator`` (two marks:
    ``"1.500,5"``), ``too_precise`` (``decimals`` allowed, 3/2/0, and ``whole`` — true for g, ml
    or pieces — choosing the sentence; pieces add ``unit: "pcs"``), ``over_limit`` (``max``:
    the limit by ``format_quantity`` in Indonesian, ``"500 kg"``). ``static/counter/money.js``
    ``parseQuantity`` gives the same codes and params for the same input
    (tests/vectors/money.json).
    """
    if unit not in UNITS:
        raise InputError(_l("Unknown unit of measure."), "unit")
    limit = MAX_QUANTITY_MILLI if max_milli is None else min(max_milli, MAX_QUANTITY_MILLI)
    raw, factor = _split_unit(_quantity_text(text, limit, unit), unit)
    whole, frac = _split_number(raw)
    if unit == "pcs" and frac:  # any decimal mark, even "2,0": pieces are whole
        raise InputError(_l("Whole pieces only."), "too_precise", {"decimals": 0, "whole": True, "unit": "pcs"})
    allowed = _DECIMALS[factor]
    if len(frac) > allowed:
        params = {"decimals": allowed, "whole": allowed == 0}
        if allowed == 0:
            raise InputError(_l("Whole grams or millilitres only."), "too_precise", params)
        if allowed == 2:
            raise InputError(_l("At most two decimals in ons (whole grams)."), "too_precise", params)
        raise InputError(_l("At most three decimals."), "too_precise", params)
    if len(whole.lstrip("0")) > 16:  # at least 10**16 units: over MAX_QUANTITY_MILLI in any unit
        raise _over_limit(limit, unit)
    milli = (int(whole) * 1000 + int(frac.ljust(3, "0") or 0)) * factor // 1000
    if milli <= 0:
        raise InputError(_l("The quantity must be more than zero."), "not_positive")
    if milli > limit:
        raise _over_limit(limit, unit)
    return milli


def _quantity_text(text: str | int, limit: Thousandths, unit: str) -> str:
    """``parse_quantity``'s input as lower-case text without surrounding (no-break) spaces.
    Raises InputError ``not_a_number`` (bool, float, None, …), ``not_positive`` (an int ≤ 0,
    a leading ``-``), ``over_limit`` (a huge int), ``required`` (empty)."""
    if isinstance(text, bool):
        raise InputError(_l("Enter a number, e.g. 1,5."), "not_a_number")
    if isinstance(text, int):
        if text <= 0:
            raise InputError(_l("The quantity must be more than zero."), "not_positive")
        if text >= 10**16:  # over the limit in any unit; str() of a huge int may not even finish
            raise _over_limit(limit, unit)
        text = str(text)
    if not isinstance(text, str):
        raise InputError(_l("Enter a number, e.g. 1,5."), "not_a_number")
    raw = text.strip().lower().replace("\u00a0", " ")
    if not raw:
        raise InputError(_l("Enter the quantity."), "required")
    if raw.startswith("-"):
        raise InputError(_l("The quantity must be more than zero."), "not_positive")
    return raw


def _split_unit(raw: str, unit: str) -> tuple[str, int]:
    """``(number text, thousandths of ``unit`` per typed unit)``: ``"5 ons"`` → ``("5", 100)``
    for kg; no suffix is the base unit (1000). Raises InputError ``not_a_number`` (a suffix
    alone), ``unit`` (a suffix that is not one of ``unit``'s)."""
    match = re.match(r"^(.*?)\s*([a-z]+)$", raw)
    if not match:
        return raw, 1000
    number, suffix = match.group(1).strip(), match.group(2)
    if not number:
        raise InputError(_l("Enter a number, e.g. 1,5."), "not_a_number")
    if suffix not in _SUB_UNITS[unit]:
        raise InputError(_l("Unknown unit “%(suffix)s”.", suffix=suffix), "unit", {"suffix": suffix})
    return number, _SUB_UNITS[unit][suffix]


def _split_number(raw: str) -> tuple[str, str]:
    """``(whole digits, decimal digits)`` of ``"1,5"`` or ``"1.5"``. Raises InputError
    ``thousands_separator`` (two marks) or ``not_a_number``."""
    if raw.count(".") + raw.count(",") > 1:
        raise InputError(
            _l("Use one decimal mark and no thousands separator, e.g. 1500,5 or 1,5."),
            "thousands_separator",
        )
    parsed = _NUMBER.match(raw)
    if not parsed:
        raise InputError(_l("Enter a number, e.g. 1,5."), "not_a_number")
    return parsed.group("int"), parsed.group("frac") or ""


def _over_limit(limit: int, unit: str) -> InputError:
    shown = format_quantity(limit, unit)
    return InputError(_l("Too much for one line: at most %(max)s.", max=shown), "over_limit", {"max": shown})


def message_templates() -> dict[str, str]:
    """The sentences of quantity and deposit-line refusals in the current language, with
    their ``%(name)s`` placeholders, keyed as ``static/counter/money.js`` ``messageFor`` looks
    them up: the error code; ``too_precise_ons``, ``too_precise_whole`` and ``too_precise_pcs``
    for the other three precision sentences, ``unit_measure`` for a category with no known unit, and
    ``lines_required`` / ``lines_too_many`` for the deposit as a whole. A page hands these to
    the browser so that its checks speak the server's own words (``services/deposits.py``
    raises the last four).
    """
    templates = {
        "required": _l("Enter the quantity."),
        "not_a_number": _l("Enter a number, e.g. 1,5."),
        "not_positive": _l("The quantity must be more than zero."),
        "unit": _l("Unknown unit “%(suffix)s”."),
        "unit_measure": _l("Unknown unit of measure."),
        "thousands_separator": _l("Use one decimal mark and no thousands separator, e.g. 1500,5 or 1,5."),
        "too_precise": _l("At most three decimals."),
        "too_precise_ons": _l("At most two decimals in ons (whole grams)."),
        "too_precise_whole": _l("Whole grams or millilitres only."),
        "too_precise_pcs": _l("Whole pieces only."),
        "over_limit": _l("Too much for one line: at most %(max)s."),
        "too_small": _l("Too little to be worth one rupiah."),
        "unknown_category": _l("Unknown category or no price set for it at this unit."),
        "lines_required": _l("Add at least one category."),
        "lines_too_many": _l("At most %(n)s lines per deposit."),
    }
    return {key: str(value) for key, value in templates.items()}


def parse_rupiah(text: str | int) -> Rupiah:
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


def line_amount(quantity_milli: Thousandths, unit_price_idr: Rupiah) -> Rupiah:
    """Rupiah value of one deposit line: ``round_half_up(quantity_milli × price / 1000)``.

    docs/rules.md §money: the receipt, the balance change and every statement use this figure.
    """
    return round_half_up_div(quantity_milli * unit_price_idr, 1000)


def fee_amount(total_idr: Rupiah, fee_bp: BasisPoints) -> Rupiah:
    """Fee withheld from a deposit: ``round_half_up(total × fee_bp / 10 000)`` rupiah.

    ``fee_bp`` is the unit's fee in basis points (0–3000, i.e. 0–30 %; docs/rules.md §fees).
    """
    if not 0 <= fee_bp <= 3000:
        raise ValueError("fee must be between 0 and 30 %")
    return round_half_up_div(total_idr * fee_bp, 10_000)


Milligrams: TypeAlias = int
"""Whole milligrams (thousandths of a gram) of gold: 512 = 0,512 g."""


def gold_milligrams(amount_idr: Rupiah, price_per_gram_idr: Rupiah) -> Milligrams:
    """The gold ``amount_idr`` rupiah buy at ``price_per_gram_idr`` rupiah per gram, in whole
    milligrams: ``floor(amount × 1000 / price)``. Rounded DOWN, never to nearest, so the member is
    never credited gold the rupiah do not buy (issue 12 item 4, docs/payouts.md): Rp 1.000.000
    at Rp 1.950.000/g is 512 mg (512,82… mg), shown as ``format_quantity(512, "g")`` = "0,512 g".
    May be 0 (too little for one milligram); the payout then is refused by the service.

    Raises ValueError when ``price_per_gram_idr`` ≤ 0 or ``amount_idr`` < 0 (the service checks
    typed input first and answers a translated message). ``static/counter/money.js``
    ``goldMilligrams`` gives the same figure (tests/vectors/money.json ``gold_milligrams``).
    """
    if price_per_gram_idr <= 0 or amount_idr < 0:
        raise ValueError("gold_milligrams takes a positive price and a non-negative amount")
    return amount_idr * 1000 // price_per_gram_idr


def _locale(locale) -> str:
    return str(locale or "id")


def format_idr(amount: Rupiah, locale=None) -> str:
    """``4875`` → ``"Rp 4.875"`` (id) or ``"Rp 4,875"`` (en); negative as ``"-Rp 4.875"``."""
    sign = "-" if amount < 0 else ""
    return f"{sign}Rp {format_decimal(abs(amount), locale=_locale(locale), group_separator=True)}"


def format_quantity(milli: Thousandths, unit: str, locale=None, with_unit: bool = True) -> str:
    """Thousandths for people: ``1500, "kg"`` → ``"1,5 kg"`` (id) or ``"1.5 kg"`` (en); up to
    three decimals without trailing zeros; whole units grouped by thousands (issue 9):
    ``6259880, "kg"`` → ``"6.259,88 kg"`` (id) / ``"6,259.88 kg"`` (en). Display only: the
    grouped text is not meant to be typed back (``parse_quantity`` reads ``6.259`` as 6,259 kg
    decimal). Every quantity on a screen, PDF or chart label goes through here."""
    whole, frac = divmod(abs(milli), 1000)
    indonesian = _locale(locale).startswith("id")
    mark, group = (",", ".") if indonesian else (".", ",")
    digits = f"{whole:,}".replace(",", group)
    text = digits + (mark + f"{frac:03d}".rstrip("0") if frac else "")
    if milli < 0:
        text = "-" + text
    return f"{text} {unit}" if with_unit else text


def format_fee_bp(fee_bp: BasisPoints, locale=None) -> str:
    """``250`` basis points → ``"2,5 %"`` (id) / ``"2.5 %"`` (en)."""
    return format_quantity(fee_bp * 10, "%", locale)
