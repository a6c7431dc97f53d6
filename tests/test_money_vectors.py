"""The money rules' contract: tests/vectors/money.json, run here against wastebank/money.py and
by tests/js/money.test.mjs against static/counter/money.js (the browser's copy). A case that
passes in one and not the other is a divergence between the receipt and the tablet's estimate.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from wastebank.money import (InputError, fee_amount, format_idr, format_quantity, line_amount,
                             parse_quantity)

VECTORS = json.loads((Path(__file__).parent / "vectors" / "money.json").read_text(encoding="utf-8"))


def _ids(section: str, key: str = "note"):
    return [f"{i}-{case.get(key, '')}" for i, case in enumerate(VECTORS[section])]


def test_the_vectors_cover_the_rules():
    assert sum(len(VECTORS[s]) for s in ("parse_quantity", "line_amount", "fee_amount", "format_idr",
                                         "format_quantity", "quote")) >= 60
    refusals = {case["error"] for case in VECTORS["parse_quantity"] if "error" in case}
    assert refusals == {"required", "not_a_number", "not_positive", "unit", "thousands_separator",
                        "too_precise", "over_limit"}
    # The field cases C01–C03 are in it with their exact figures.
    amounts = {(c["quantity_milli"], c["unit_price_idr"]): c["amount_idr"] for c in VECTORS["line_amount"]}
    assert amounts[(1500, 3250)] == 4875 and amounts[(2000, 3250)] == 6500 and amounts[(750, 2000)] == 1500


@pytest.mark.parametrize("case", VECTORS["parse_quantity"], ids=_ids("parse_quantity"))
def test_parse_quantity(app, case):
    if "error" in case:
        with pytest.raises(InputError) as refused:
            parse_quantity(case["text"], case["unit"], case.get("max_milli"))
        assert refused.value.code == case["error"]
    else:
        assert parse_quantity(case["text"], case["unit"], case.get("max_milli")) == case["milli"]


@pytest.mark.parametrize("case", VECTORS["line_amount"], ids=_ids("line_amount"))
def test_line_amount(case):
    assert line_amount(case["quantity_milli"], case["unit_price_idr"]) == case["amount_idr"]


@pytest.mark.parametrize("case", VECTORS["fee_amount"], ids=_ids("fee_amount"))
def test_fee_amount(case):
    assert fee_amount(case["total_idr"], case["fee_bp"]) == case["fee_idr"]


@pytest.mark.parametrize("case", VECTORS["format_idr"], ids=_ids("format_idr", "text"))
def test_format_idr(case):
    assert format_idr(case["amount_idr"], case["locale"]) == case["text"]


@pytest.mark.parametrize("case", VECTORS["format_quantity"], ids=_ids("format_quantity", "text"))
def test_format_quantity(case):
    assert format_quantity(case["milli"], case["unit"], case["locale"]) == case["text"]


@pytest.mark.parametrize("case", VECTORS["quote"], ids=_ids("quote"))
def test_quote(app, case):
    """The deposit quote's arithmetic, as services/deposits.quote_deposit does it per line."""
    from wastebank.services.deposits import MAX_LINES

    prices = VECTORS["quote_prices"]
    expect = case["expect"]
    errors, amounts = {}, []
    if not case["lines"]:
        errors["lines"] = "required"
    elif len(case["lines"]) > MAX_LINES:
        errors["lines"] = "too_many"
    else:
        for i, line in enumerate(case["lines"]):
            row = prices.get(line["category"].strip().upper())
            if row is None:
                errors[f"lines.{i}.category"] = "unknown_category"
                continue
            try:
                milli = parse_quantity(line["quantity"], row["unit"], row["max_line_milli"])
            except InputError as exc:
                errors[f"lines.{i}.quantity"] = exc.code
                continue
            amount = line_amount(milli, row["buy_price_idr"])
            if amount <= 0:
                errors[f"lines.{i}.quantity"] = "too_small"
                continue
            amounts.append(amount)
    assert errors == expect["errors"]
    if not errors:
        total = sum(amounts)
        fee = fee_amount(total, case["fee_bp"])
        assert (amounts, total, fee, total - fee, case["balance_idr"] + total - fee) == (
            expect["amounts"], expect["total_idr"], expect["fee_idr"], expect["credited_idr"],
            expect["balance_after_idr"])
