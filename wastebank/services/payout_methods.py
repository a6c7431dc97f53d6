"""Gold savings and bill payments as payout methods (issue 12 item 4; docs/payouts.md).

A ``gold`` withdrawal (*tabungan emas*) pays the member's rupiah into gold held by a provider
(Pegadaian, a bullion dealer's app …): the operator enters the provider's price per gram (whole
rupiah), the member's account number there and, if the provider gave one, its reference; the
grams credited are ``money.gold_milligrams`` (whole milligrams, rounded down). A ``bill``
withdrawal pays a bill for the member: a prepaid electricity token (PLN), water (PDAM) or a BPJS
contribution, with the provider, the customer number, the payment reference and, for
electricity, the 20-digit token printed on the slip.

Both are otherwise withdrawals like cash: same minimum, approval threshold, holds, receipt
numbering, idempotency and voids (``services/withdrawals.py``). This module only checks their own
fields (:func:`payout_details`) and says them for people (:func:`detail_lines`).
"""
from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l

from ..models.money_out import BILL_KINDS
from ..money import InputError, Rupiah, format_idr, format_quantity, gold_milligrams, parse_rupiah

TOKEN_DIGITS = 20
MAX_PROVIDER = 100
MAX_ACCOUNT = 30
MAX_REFERENCE = 100
# A customer number or gold account: digits (PLN ID pelanggan / meter number 11–12, BPJS 13,
# PDAM 6–12, Pegadaian 16), typed with spaces, dots or dashes as printed on a card.
_ACCOUNT = re.compile(r"^[0-9A-Za-z]{4,30}$")
_SEPARATORS = re.compile(r"[\s.\-/]+")

BILL_KIND_LABELS = {
    "electricity": _l("Electricity token"),
    "water": _l("Water bill"),
    "bpjs": _l("BPJS contribution"),
}
#: The provider a bill kind usually goes to, shown as the form's suggestion.
BILL_PROVIDERS = {"electricity": "PLN", "water": "PDAM", "bpjs": "BPJS Kesehatan"}

#: Columns of a withdrawal that are not gold or bill: what every other method stores.
EMPTY_DETAILS = {"provider": "", "account_no": "", "bill_kind": "", "token_no": "",
                 "gold_price_idr": None, "gold_mg": None}


def _compact(text: str) -> str:
    return _SEPARATORS.sub("", text or "")


def _account(value: str, field: str, errors: dict, missing) -> str:
    """The account or customer number without separators; adds ``missing`` or a format
    message to ``errors[field]``."""
    account = _compact(value)
    if not account:
        errors[field] = ("required", missing)
    elif not _ACCOUNT.match(account):
        errors[field] = ("invalid", _l("Use 4 to 30 letters or digits (spaces and dashes are fine)."))
    return account[:MAX_ACCOUNT]


def _provider(value: str, errors: dict) -> str:
    provider = " ".join((value or "").split())
    if not provider:
        errors["provider"] = ("required", _l("Enter the provider, e.g. Pegadaian or PLN."))
    return provider[:MAX_PROVIDER]


def _gold(data, amount: Rupiah, errors: dict) -> dict:
    """A gold payout's columns; the price per gram is whole rupiah above zero."""
    details = {"provider": _provider(data.provider, errors),
               "account_no": _account(data.account_no, "account_no", errors,
                                      _l("Enter the member's gold savings account number.")),
               "gold_price_idr": None, "gold_mg": None}
    try:
        price = parse_rupiah(data.gold_price)
    except InputError as exc:
        message = _l("Enter the gold price per gram in rupiah, more than zero.") if exc.code in (
            "required", "not_positive") else exc.message
        errors["gold_price_idr"] = (exc.code, message)
        return details
    details["gold_price_idr"] = price
    if amount:
        details["gold_mg"] = gold_milligrams(amount, price)
        if details["gold_mg"] == 0:
            errors["amount_idr"] = ("too_small", _l("Too little to buy one milligram of gold at %(price)s per gram.",
                                                    price=format_idr(price)))
    return details


def _bill(data, errors: dict) -> dict:
    """A bill payment's columns: kind, provider, customer number, reference; for electricity
    the 20-digit token."""
    kind = (data.bill_kind or "").strip()
    if kind not in BILL_KINDS:
        errors["bill_kind"] = ("invalid", _l("Choose electricity, water or BPJS."))
    details = {"bill_kind": kind if kind in BILL_KINDS else "", "provider": _provider(data.provider, errors),
               "account_no": _account(data.account_no, "account_no", errors, _l("Enter the customer number.")),
               "token_no": ""}
    if not " ".join((data.reference or "").split()):
        errors["reference"] = ("required", _l("Enter the payment reference from the slip."))
    if kind == "electricity":
        token = _compact(data.token_no)
        if not token:
            errors["token_no"] = ("required", _l("Enter the 20-digit token printed on the slip."))
        elif not (token.isascii() and token.isdigit() and len(token) == TOKEN_DIGITS):
            errors["token_no"] = ("invalid", _l("The electricity token has exactly 20 digits."))
        details["token_no"] = token[:TOKEN_DIGITS]
    return details


def payout_details(data, amount: Rupiah, errors: dict) -> dict:
    """The gold or bill columns of a withdrawal from ``data`` (a ``WithdrawalInput``), checked:
    ``{"provider", "account_no", "bill_kind", "token_no", "gold_price_idr", "gold_mg"}`` — for
    other methods :data:`EMPTY_DETAILS`. ``amount`` is the parsed rupiah (0 when it did not
    parse). Each bad field adds ``field → (code, translated message)`` to ``errors`` (fields
    ``gold_price_idr``, ``provider``, ``account_no``, ``bill_kind``, ``reference``, ``token_no``,
    and ``amount_idr`` ``too_small`` when the rupiah buy less than one milligram)."""
    if data.method == "gold":
        return {**EMPTY_DETAILS, **_gold(data, amount, errors)}
    if data.method == "bill":
        return {**EMPTY_DETAILS, **_bill(data, errors)}
    return dict(EMPTY_DETAILS)


def format_token(token: str) -> str:
    """``"12345678901234567890"`` → ``"1234 5678 9012 3456 7890"`` (as PLN prints it)."""
    return " ".join(token[i:i + 4] for i in range(0, len(token), 4))


def detail_lines(withdrawal, locale=None) -> list[str]:
    """What a gold or bill payout says on its receipt, its page and the passbook, one string a
    line, in the current language, e.g. ``["Tabungan emas · 0,512 g @ Rp 1.950.000/g ·
    Pegadaian 1234567890"]`` or ``["Token listrik · PLN · ID pelanggan 532110987654",
    "Ref. PLN-77812", "Token listrik 1234 5678 9012 3456 7890"]``. ``withdrawal`` is a
    ``Withdrawal`` (or anything with its columns); other methods: ``[]``."""
    # The translation calls stay outside f-strings: Babel's extractor does not see into them on
    # Python 3.11 (tests/test_i18n.py).
    reference = " ".join((str(_l("Ref.")), withdrawal.reference)) if withdrawal.reference else ""
    if withdrawal.method == "gold":
        grams = format_quantity(withdrawal.gold_mg or 0, "g", locale)
        price = format_idr(withdrawal.gold_price_idr or 0, locale)
        gold = _l("Gold savings")
        lines = [f"{gold} · {grams} @ {price}/g · {withdrawal.provider} {withdrawal.account_no}"]
        return lines + ([reference] if reference else [])
    if withdrawal.method != "bill":
        return []
    kind = BILL_KIND_LABELS.get(withdrawal.bill_kind, withdrawal.bill_kind)
    customer_no = _l("Customer no.")
    lines = [f"{kind} · {withdrawal.provider} · {customer_no} {withdrawal.account_no}"]
    if reference:
        lines.append(reference)
    if withdrawal.token_no:
        lines.append(" ".join((str(_l("Electricity token")), format_token(withdrawal.token_no))))
    return lines


def summary(withdrawal, locale=None) -> str:
    """One line for a list (passbook, statement): the detail lines joined by `` · ``."""
    return " · ".join(detail_lines(withdrawal, locale))
