"""money.py: parsing, half-up rounding and formatting (docs/rules.md §money; cases C01–C03)."""
import pytest

from wastebank.money import (InputError, fee_amount, format_idr, format_quantity, line_amount,
                             parse_quantity, parse_rupiah)


@pytest.mark.parametrize("text, unit, milli", [
    ("1,5", "kg", 1500), ("1.5", "kg", 1500), ("2,000", "kg", 2000), ("0,75", "kg", 750),
    ("750 g", "kg", 750), ("750g", "kg", 750), ("1", "kg", 1000), (" 12,345 ", "kg", 12345),
    ("500 ml", "L", 500), ("1,25", "L", 1250), ("3", "pcs", 3000), (2, "kg", 2000),
    ("500", "kg", 500_000), ("0,001", "kg", 1),
])
def test_parse_quantity_accepts_both_decimal_marks_and_sub_units(text, unit, milli):
    assert parse_quantity(text, unit, max_milli=500_000) == milli


@pytest.mark.parametrize("text, code", [
    ("", "required"), ("   ", "required"), ("0", "not_positive"), ("0,0", "not_positive"),
    ("-1", "not_positive"), ("-0,5", "not_positive"), ("abc", "not_a_number"), ("1,5x", "unit"),
    ("1.500,5", "thousands_separator"), ("1,500.5", "thousands_separator"), ("1,2345", "too_precise"),
    ("1e3", "not_a_number"), ("500,001", "over_limit"), ("1000", "over_limit"), ("750,5 g", "too_precise"),
    ("NaN", "not_a_number"), ("∞", "not_a_number"), (True, "not_a_number"), (None, "not_a_number"),
    (1.5, "not_a_number"),
])
def test_parse_quantity_rejects_bad_input(text, code):
    with pytest.raises(InputError) as err:
        parse_quantity(text, "kg", max_milli=500_000)
    assert err.value.code == code
    assert str(err.value.message)


@pytest.mark.parametrize("text", ["2,5", "1.5", "2,0", "2.000", "1,5 buah", "0,5 pcs"])
def test_parse_quantity_pieces_are_whole(text):
    """A piece count takes no decimal mark at all, not even zeros ("2.000" may mean 2000)."""
    with pytest.raises(InputError) as err:
        parse_quantity(text, "pcs")
    assert (err.value.code, err.value.params) == ("too_precise", {"decimals": 0, "whole": True, "unit": "pcs"})
    assert str(err.value.message) == "Whole pieces only."


def test_parse_quantity_whole_pieces_in_thousandths():
    assert [parse_quantity(t, "pcs") for t in ("3", "3 buah", "3pcs", 12)] == [3000, 3000, 3000, 12000]


@pytest.mark.parametrize("text, idr", [
    ("3.250", 3250), ("Rp 3.250", 3250), ("3,250", 3250), ("3250", 3250), ("3.250,00", 3250),
    ("1.000.000", 1_000_000), (45000, 45000),
])
def test_parse_rupiah(text, idr):
    assert parse_rupiah(text) == idr


@pytest.mark.parametrize("text", ["", "0", "-5", "3,25", "3.25", "abc", "3.2500"])
def test_parse_rupiah_rejects(text):
    with pytest.raises(InputError):
        parse_rupiah(text)


def test_c01_c02_c03_line_values_half_up():
    assert line_amount(parse_quantity("1,5", "kg"), parse_rupiah("3.250")) == 4875      # C01
    assert line_amount(parse_quantity("2,000", "kg"), parse_rupiah("3.250")) == 6500    # C02
    assert line_amount(parse_quantity("750 g", "kg"), 2000) == 1500                     # C03
    assert line_amount(parse_quantity("0,75", "kg"), 2000) == 1500                      # C03
    assert line_amount(1, 500) == 1      # 0.5 rupiah rounds half up
    assert line_amount(1, 499) == 0
    assert line_amount(333, 1500) == 500  # 499.5 → 500
    assert line_amount(10**12, 45000) == 45 * 10**12  # no overflow, no float


def test_fee_half_up():
    assert fee_amount(4875, 250) == 122  # 121.875 → 122
    assert fee_amount(10_000, 3000) == 3000
    assert fee_amount(1, 3000) == 0      # 0.3 → 0
    assert fee_amount(5, 1000) == 1      # 0.5 → 1
    with pytest.raises(ValueError):
        fee_amount(100, 3001)


def test_formatting_per_locale():
    assert format_idr(4875, "id") == "Rp 4.875"
    assert format_idr(4875, "en") == "Rp 4,875"
    assert format_idr(1_234_567, "id") == "Rp 1.234.567"
    assert format_idr(-500, "id") == "-Rp 500"
    assert format_quantity(1500, "kg", "id") == "1,5 kg"
    assert format_quantity(1500, "kg", "en") == "1.5 kg"
    assert format_quantity(2000, "kg", "id") == "2 kg"
    assert format_quantity(12345, "L", "id") == "12,345 L"


def test_absurd_rupiah_amounts_are_refused_before_the_database():
    assert parse_rupiah("1.000.000.000.000") == 10**12
    for text in ("1.000.000.000.001", "99999999999999999999999", "9223372036854775808"):
        with pytest.raises(InputError) as err:
            parse_rupiah(text)
        assert err.value.code == "too_large"
