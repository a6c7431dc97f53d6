"""The shared CSV writer (issue 9 item 7, issue 10 item 12): BOM, `;` and `,` variants, formula
neutralisation that no separator or invisible character gets round, numbers kept as numbers;
the statement's `;` CSV carries the PDF's figures."""
from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest

from wastebank.extensions import db
from wastebank.money import format_idr, format_quantity
from wastebank.reports.csvfile import csv_bytes, csv_options, is_formula_like, quantity_cell, safe_cell
from wastebank.reports.statements import aggregator_statement, find_aggregator, statement_pdf

from .report_helpers import at, deposit, pdf_text


def _read(data: bytes, sep: str) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=sep))


DANGEROUS = [
    "=1+2", "+SUM(A1:A2)", "-2+3", "@cmd", "\t=1", "\r=1",
    "Budi;=1+2",            # `;` Excel reads two cells if unquoted: the second a formula
    "Budi,=1+2", "Budi\t=1+2", "Budi\n=1+2", "Budi; +1", "Budi,@x",
    "\u200b=1+2",           # zero-width space before =
    "\u200e\u200f=1", "\u202e=1", "\ufeff=1", "\u2060-1", " =1", "\u00a0=1", "\u3000=1",
    "\uff1d1+2",            # full-width equals sign
    "Budi;\u200b=HYPERLINK(\"http://x\")",
]
HARMLESS = ["Budi Santoso", "Jl. Mawar No. 5, RT 01", "RW05-0012", "Siti; Ani", "5-3", "a=b", "Rp 5.000"]


@pytest.mark.parametrize("text", DANGEROUS)
def test_formula_like_cells_are_neutralised(text):
    assert is_formula_like(text)
    assert safe_cell(text) == "'" + text
    for sep in (";", ","):
        rows = _read(csv_bytes(["nama", "n"], [[text, 7]], sep=sep), sep)
        # One quoted cell whatever separators it holds; it starts with the apostrophe.
        assert rows[1] == ["'" + text, "7"], (sep, rows)


@pytest.mark.parametrize("text", HARMLESS)
def test_harmless_text_unchanged_and_never_split(text):
    assert safe_cell(text) == text
    for sep in (";", ","):
        assert _read(csv_bytes(["nama", "n"], [[text, 1]], sep=sep), sep)[1] == [text, "1"]


def test_numbers_stay_numbers():
    assert safe_cell(-5) == -5 and safe_cell(0) == 0 and safe_cell(True) == 1 and safe_cell(None) == ""
    assert safe_cell(Decimal("-5")) == Decimal("-5")
    semi = csv_bytes(["a", "b", "c", "d"], [[-5, quantity_cell(1500), quantity_cell(-250), 12345678]], sep=";")
    assert semi.decode("utf-8-sig").splitlines()[1] == "-5;1,5;-0,25;12345678"  # bare: Excel reads numbers
    comma = csv_bytes(["a", "b", "c", "d"], [[-5, quantity_cell(1500), quantity_cell(12000), None]], sep=",")
    assert comma.decode("utf-8-sig").splitlines()[1] == '-5,1.5,12,""'
    assert safe_cell("-5") == "'-5"  # text that looks like a number is text, neutralised
    with pytest.raises(ValueError):
        csv_bytes(["a"], [], sep="|")


def test_csv_options_from_query(app):
    cases = {"": (";", "names"), "?sep=comma": (",", "names"), "?format=codes": (",", "codes"),
             "?format=codes&sep=semicolon": (";", "codes"), "?format=evil&sep=%00": (";", "names")}
    for query, expected in cases.items():
        with app.test_request_context("/x.csv" + query):
            assert csv_options() == expected, query


def test_semicolon_statement_csv_has_the_pdf_figures(net, client, login):
    a, b = net.unit_a, net.unit_b
    deposit(a, net.members_a[0], [("PET-CLEAN", "12,345"), ("CARDBOARD", "7")], at(2025, 3, 5))
    deposit(a, net.members_a[1], [("PET-CLEAN", "1,5")], at(2025, 3, 6))
    deposit(b, net.members_b[0], [("ALU-CAN", "0,75")], at(2025, 3, 7))
    db.session.commit()
    login("agg")
    response = client.get("/statements/aggregator/JKT/2025-03.csv")
    assert response.status_code == 200 and response.headers["Content-Type"] == "text/csv; charset=utf-8"
    rows = _read(response.data, ";")
    header, body = rows[0], rows[1:]
    assert len({len(r) for r in rows}) == 1  # every row has the header's columns
    total = body[-1]
    assert total[1] == "Total"
    pdf_body, _pages = pdf_text(client.get("/statements/aggregator/JKT/2025-03.pdf").data)
    flat = " ".join(pdf_body.split())
    st = aggregator_statement(find_aggregator("JKT"), 2025, 3)
    assert statement_pdf(st, "id")  # the same builder the download uses
    checked = 0
    for label in ("Nilai setoran (Rp)", "Potongan (Rp)", "Penarikan (Rp)",
                  "Saldo tabungan nasabah akhir bulan (Rp)", "Nilai pokok stok (Rp)"):
        for row in body:
            value = int(row[header.index(label)])
            assert format_idr(value, "id") in flat, (label, row[1], value)
            checked += 1
    assert int(total[header.index("Nilai setoran (Rp)")]) == st.total.deposit_value_idr == 65746
    # Quantities: kilograms with a decimal comma, as the PDF prints them beside the category name.
    for cat in st.categories.values():
        qty = total[header.index(f"{cat.name_id} ({cat.unit})")]
        milli = st.total.categories[cat.id].quantity_milli
        assert Decimal(qty.replace(",", ".")) * 1000 == milli
        assert f"{cat.name_id} {format_quantity(milli, cat.unit, 'id')}" in flat
        checked += 1
    assert checked >= 3 * 5 + 3
    assert total[header.index("Botol PET bening bersih (kg)")] == "13,845"


def test_statement_screen_offers_both_separators_and_codes(net, client, login):
    login("agg")
    html = client.get("/statements?month=2025-03").get_data(as_text=True)
    assert "/statements/aggregator/JKT/2025-03.csv?sep=comma" in html
    assert "/statements/aggregator/JKT/2025-03.csv?format=codes" in html
    assert "CSV untuk Excel (;)" in html
