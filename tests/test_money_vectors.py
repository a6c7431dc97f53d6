"""The money rules' contract: tests/vectors/money.json, run here against wastebank/money.py (and
services/deposits.quote_deposit for the quotes) and by tests/js/money.test.mjs against
static/counter/money.js, the browser's copy. A case that passes in one and not the other is a
tablet showing a figure or a message the server will not give (docs/money-rules.md).
"""
from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
from flask_babel import force_locale

from wastebank import money
from wastebank.extensions import db
from wastebank.models import WasteCategory
from wastebank.money import (InputError, fee_amount, format_idr, format_quantity, gold_milligrams, line_amount,
                             parse_quantity)
from wastebank.services import deposits
from wastebank.services.catalog import set_price
from wastebank.services.deposits import LineInput, quote_deposit
from wastebank.services.errors import ValidationFailed
from wastebank.services.members import create_member
from wastebank.services.org import create_unit
from wastebank.timeutil import format_clock, format_local

VECTORS = json.loads((Path(__file__).parent / "vectors" / "money.json").read_text(encoding="utf-8"))
SECTIONS = ("parse_quantity", "line_amount", "fee_amount", "format_idr", "format_quantity", "quote")


def _int(value):
    """A vector's integer: beyond 2^53 it is written as a decimal string."""
    return int(value) if isinstance(value, str) else value


def _cases(section: str):
    return pytest.mark.parametrize("case", VECTORS[section], ids=[case["id"] for case in VECTORS[section]])


def test_the_vectors_file_covers_every_rule():
    assert sum(len(VECTORS[section]) for section in SECTIONS) >= 60
    assert all(VECTORS[section] for section in SECTIONS)
    for section in SECTIONS:
        ids = [case["id"] for case in VECTORS[section]]
        assert len(ids) == len(set(ids)), section
    parse = VECTORS["parse_quantity"]
    assert {case["error"] for case in parse if "error" in case} == {
        "required", "not_a_number", "not_positive", "unit", "thousands_separator", "too_precise", "over_limit"}
    assert {case["unit"] for case in parse if "milli" in case} == {"kg", "L", "pcs"}
    assert any(case["text"] == "0,005 ons" and case["error"] == "too_precise" for case in parse if "error" in case)
    amounts = {(case.get("quantity"), case["unit_price_idr"]): case.get("amount_idr")
               for case in VECTORS["line_amount"]}
    assert amounts[("1,5", 3250)] == 4875 and amounts[("2,000", 3250)] == 6500           # C01, C02
    assert amounts[("750 g", 2000)] == amounts[("0,75", 2000)] == 1500                   # C03


def test_the_vectors_messages_are_the_servers_sentences(app):
    """The English templates the JavaScript test fills in are money.message_templates(); in
    Indonesian every one of them is translated."""
    with force_locale("en"):
        assert money.message_templates() == VECTORS["messages"]["en"]
    with force_locale("id"):
        indonesian = money.message_templates()
    assert indonesian.keys() == VECTORS["messages"]["en"].keys()
    assert all(indonesian[key] != VECTORS["messages"]["en"][key] for key in indonesian)


@_cases("parse_quantity")
def test_parse_quantity(case):
    if "error" not in case:
        assert parse_quantity(case["text"], case["unit"], case.get("max_milli")) == case["milli"]
        return
    with pytest.raises(InputError) as refused:
        parse_quantity(case["text"], case["unit"], case.get("max_milli"))
    assert (refused.value.code, refused.value.params) == (case["error"], case["params"])
    assert str(refused.value.message) == case["message"]


def test_a_refusal_reads_the_same_from_the_page_templates_in_indonesian(app):
    """The browser fills the server's Indonesian templates (money.message_templates(), picked
    as money.js messageFor picks them) and shows exactly what the server would say."""
    with force_locale("id"):
        templates = money.message_templates()
        for case in VECTORS["parse_quantity"]:
            if "error" in case:
                with pytest.raises(InputError) as refused:
                    parse_quantity(case["text"], case["unit"], case.get("max_milli"))
                template = templates[_message_key(case["error"], case["params"])]
                assert _fill(template, case["params"]) == str(refused.value.message), case["id"]


def _message_key(code: str, params: dict, field: str | None = None) -> str:
    """The template messageFor uses (see its comment in static/counter/money.js)."""
    if field == "lines":
        return f"lines_{code}"
    if code == "too_precise" and params.get("unit") == "pcs":
        return "too_precise_pcs"
    if code == "too_precise" and params["whole"]:
        return "too_precise_whole"
    if code == "too_precise" and params["decimals"] == 2:
        return "too_precise_ons"
    if code == "unit" and "suffix" not in params:
        return "unit_measure"
    return code


def _fill(template: str, params: dict) -> str:
    for name, value in params.items():
        template = template.replace(f"%({name})s", str(value))
    return template


@_cases("line_amount")
def test_line_amount(case):
    quantity = (parse_quantity(case["quantity"], case["unit"]) if "quantity" in case
                else _int(case["quantity_milli"]))
    if case.get("error") == "refused":
        with pytest.raises(ValueError):
            line_amount(quantity, case["unit_price_idr"])
    else:
        assert line_amount(quantity, _int(case["unit_price_idr"])) == _int(case["amount_idr"])


@_cases("fee_amount")
def test_fee_amount(case):
    if case.get("error") == "refused":
        with pytest.raises(ValueError):
            fee_amount(_int(case["total_idr"]), case["fee_bp"])
    else:
        assert fee_amount(_int(case["total_idr"]), case["fee_bp"]) == _int(case["fee_idr"])


@_cases("gold_milligrams")
def test_gold_milligrams(case):
    """Gold payouts (issue 12 item 4): whole milligrams, rounded down (docs/payouts.md)."""
    if case.get("error") == "refused":
        with pytest.raises(ValueError):
            gold_milligrams(_int(case["amount_idr"]), case["price_per_gram_idr"])
    else:
        assert gold_milligrams(_int(case["amount_idr"]), case["price_per_gram_idr"]) == _int(case["milligrams"])


def test_gold_vectors_cover_rounding_down_and_refusals():
    cases = {case["id"]: case for case in VECTORS["gold_milligrams"]}
    assert cases["issue-example-512mg"]["milligrams"] == 512 and cases["down-not-nearest"]["milligrams"] == 1
    assert {case["id"] for case in cases.values() if case.get("error") == "refused"} >= {"price-zero", "price-negative"}


@_cases("format_idr")
def test_format_idr(case):
    assert format_idr(_int(case["amount_idr"]), case["locale"]) == case["text"]


@_cases("format_quantity")
def test_format_quantity(case):
    assert format_quantity(case["milli"], case["unit"], case["locale"]) == case["text"]


@_cases("quote")
def test_quote_deposit(app, monkeypatch, case):
    """The real services/deposits.quote_deposit on a unit priced as the vectors say; the
    member's balance before is the vector's (the ledger is not what is under test here)."""
    unit = create_unit("RW99", "Bank Sampah Uji", fee_bp=case["fee_bp"])
    for code, row in VECTORS["quote_prices"].items():
        category = WasteCategory(code=code, name_id=code, name_en=code, unit=row["unit"],
                                 max_line_milli=row["max_line_milli"])
        db.session.add(category)
        db.session.flush()
        set_price(unit.id, category, row["buy_price_idr"], row["buy_price_idr"], date(2024, 1, 1))
    member = create_member(unit, "Siti Aminah")
    monkeypatch.setattr(deposits, "member_savings_account",
                        lambda m: SimpleNamespace(balance=case["balance_idr"]))
    lines = [LineInput(line["category"], line["quantity"]) for line in case["lines"]]
    expect = case["expect"]
    with force_locale("en"):
        if expect["errors"]:
            with pytest.raises(ValidationFailed) as refused:
                quote_deposit(unit, member, lines)
            got = {field: {"code": code, "message": str(message)}
                   for field, (code, message) in refused.value.errors.items()}
            assert got == {field: {"code": e["code"], "message": e["message"]} for field, e in expect["errors"].items()}
            return
        quote = quote_deposit(unit, member, lines)
    assert [{"category": q.category.code, "quantity_milli": q.quantity_milli, "unit": q.category.unit,
             "unit_price_idr": q.unit_price_idr, "amount_idr": q.amount_idr} for q in quote.lines] == expect["lines"]
    assert (quote.total_idr, quote.fee_idr, quote.credited_idr, quote.balance_after_idr) == (
        expect["total_idr"], expect["fee_idr"], expect["credited_idr"], expect["balance_after_idr"])


# --- clock times (docs/rules.md §time) ------------------------------------------------------------

def _moment(case) -> datetime:
    return datetime.fromisoformat(case["utc"].replace("Z", "+00:00"))


def test_the_clock_vectors_cover_both_separators_and_the_day_edges():
    clock = VECTORS["clock"]
    assert len({case["id"] for case in clock}) == len(clock) >= 10
    assert {case["locale"] for case in clock} == {"id", "en"}
    assert {case["zone_name"] for case in clock} == {"WIB", "WITA", "WIT"}
    for case in clock:
        time_text = case["text"].split(" ")[1]
        assert len(time_text) == 5 and time_text[2] == ("." if case["locale"] == "id" else ":"), case["id"]


@_cases("clock")
def test_clock(app, monkeypatch, case):
    """The receipt's form (``format_local``, the ``|local`` filter) and the time alone
    (``format_clock``, ``|local('%H:%M')``) in the case's zone and locale."""
    monkeypatch.setitem(app.config, "TIMEZONE", case["zone"])
    moment, time_only = _moment(case), case["text"].split(" ", 1)[1]
    with app.test_request_context():
        assert format_local(moment, locale=case["locale"]) == case["text"]
        assert format_clock(moment, case["locale"]) == time_only
        with force_locale(case["locale"]):   # the request's locale when none is given
            assert format_local(moment) == case["text"]
            template = app.jinja_env.from_string("{{ t|local }} / {{ t|local('%H:%M') }}")
            assert template.render(t=moment) == f"{case['text']} / {time_only}"
