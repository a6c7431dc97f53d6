"""PDFs that read like documents (issue 9 item 4): with long names and large figures
(Rp 20.344.610, 6.259,88 kg) no header word of any PDF is split across lines and no amount is
split from its ``Rp``; statements carry the unit's letterhead and the committee's place, date
and signature blocks. Each PDF is also rendered to test-artifacts/pdf-*.png (pdftoppm) to look at.
"""
from __future__ import annotations

import io
import re
import shutil
import subprocess
import uuid
from datetime import date
from pathlib import Path

import pytest
from pypdf import PdfReader

from wastebank.extensions import db
from wastebank.models import Collaborator, Deposit, Sponsorship, User
from wastebank.services.members import create_member
from wastebank.services.sales import SaleLineInput, create_offtaker, record_sale
from wastebank.services.transaction import run_in_transaction

from .report_helpers import at, deposit

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
LONG_NAME = "Raden Ayu Siti Nurhaliza Kusumawardhani Putri"[:40]
# 12 × 500 kg + 259,88 kg of clear PET at Rp 3.250/kg.
BIG_KG, BIG_IDR = "6.259,88 kg", "Rp 20.344.610"


def pdf_lines(data: bytes) -> list[str]:
    """The text lines of every page of a PDF (pypdf's layout order), NBSP read as a space."""
    reader = PdfReader(io.BytesIO(data))
    return [line.replace("\u00a0", " ") for page in reader.pages for line in page.extract_text().splitlines()]


def assert_reads_whole(data: bytes, headers: list[str], figures: list[str]) -> str:
    """Every word of every header label is one whole token of the text (a word split across
    lines would leave "Nasaba" and "h"); every figure appears whole on one line; no line ends
    with "Rp" or starts with a bare number that lost its "Rp"."""
    lines = pdf_lines(data)
    text = "\n".join(lines)
    tokens = set(text.split())
    for label in headers:
        for word in label.split():
            assert word in tokens, f"header word {word!r} of {label!r} is split: {text}"
    for figure in figures:
        assert any(figure in line for line in lines), f"{figure!r} not on one line: {text}"
    for line in lines:
        assert not re.search(r"(^|\s)-?Rp$", line.strip()), f"amount split from its Rp: {line!r}"
    return text


def render_png(data: bytes, name: str) -> None:
    """Save the PDF and its first pages as PNG (80 dpi) under test-artifacts/ for a human to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    pdf = ARTIFACTS / f"pdf-{name}.pdf"
    pdf.write_bytes(data)
    if shutil.which("pdftoppm"):
        subprocess.run(["pdftoppm", "-r", "80", "-png", "-l", "3", str(pdf), str(ARTIFACTS / f"pdf-{name}")],
                       check=True, timeout=60)


@pytest.fixture
def big(net):
    """RW05 sponsored by "CSR Hijau" from 2025-01-01 (user ``collab``); six members with long
    names deposit in January 2025, the first 6.259,88 kg of clear PET (Rp 20.344.610 credited);
    a sale of 1.250,5 kg of it to an off-taker with a long name."""
    collab = Collaborator(name="CSR Hijau Nusantara Lestari Berkelanjutan")
    db.session.add(collab)
    db.session.flush()
    db.session.add(Sponsorship(collaborator_id=collab.id, unit_id=net.unit_a.id, start_date=date(2025, 1, 1)))
    db.session.scalar(db.select(User).where(User.username == "collab")).collaborator_id = collab.id
    a = net.unit_a
    members = [create_member(a, f"{LONG_NAME[:36]} {i}") for i in range(6)]
    for day in range(1, 13):
        deposit(a, members[0], [("PET-CLEAN", "500")], at(2025, 1, day, 9))
    deposit(a, members[0], [("PET-CLEAN", "259,88")], at(2025, 1, 13, 9))
    for i, m in enumerate(members[1:]):
        deposit(a, m, [("PET-CLEAN", "2"), ("CARDBOARD", "12,5"), ("GLASS-BOTTLE", "40"), ("UCO", "3,5")],
                at(2025, 1, 14 + i, 10))
    for i, m in enumerate(members):
        deposit(a, m, [("ALU-CAN", "1,25")], at(2025, 1, 25, 11, i))
    buyer = create_offtaker(a, "CV Pengepul Daur Ulang Sejahtera Abadi Jaya", kind="pengepul",
                            address="Jl. Industri Raya No. 123, Cakung")
    db.session.commit()
    user = db.session.get(User, net.users["mgr_a"].id)
    from wastebank.models import clock_at
    with clock_at(at(2025, 1, 28, 10)):
        sale = run_in_transaction(lambda: record_sale(a, buyer, [SaleLineInput("PET-CLEAN", "1250,5", "1240", "4500")],
                                                      "cash", user=user, idempotency_key=uuid.uuid4().hex))
    assert sale.status == 201, sale.body
    db.session.commit()
    return members, sale.body


def test_statement_pdf_reads_whole_with_letterhead_and_signatures(big, client, login):
    login("agg")
    body = client.get("/statements/aggregator/JKT/2025-01.pdf")
    assert body.status_code == 200
    render_png(body.data, "statement")
    headers = ["Unit", "Nasabah", "Baru", "Aktif (≥ 4 setoran)", "Setoran", "Nilai setoran", "Potongan", "Penarikan",
               "Saldo tabungan nasabah akhir bulan", "Penjualan", "Margin penjualan", "Nilai pokok stok", "Tunai",
               "Transfer", "Barang", "Sedekah", "Jenis sampah", "Jumlah", "Nilai"]
    text = assert_reads_whole(body.data, headers, ["6.269,88 kg", "Rp 20.377.110", "Rp 20.699.610"])
    # The aggregator's letterhead, then place, date and the committee's boxes.
    assert "Yayasan Bank Sampah Jakarta" in text and "Jakarta Pusat" in text
    assert re.search(r"Jakarta Pusat, \d{1,2} \w+ 20\d\d", text), text
    for role in ("Ketua", "Bendahara", "Petugas"):
        assert role in text.split(), role


def test_passbook_pdf_reads_whole_with_letterhead(big, client, login):
    login("mgr_a")
    member = big[0][0]
    body = client.get(f"/members/{member.member_no}/statement.pdf?start=2025-01-01&end=2025-01-31")
    assert body.status_code == 200, body.status_code
    render_png(body.data, "passbook")
    text = assert_reads_whole(body.data, ["Tanggal", "Keterangan", "No. struk", "Masuk", "Keluar", "Saldo"],
                              ["Rp 1.625.000", "Rp 20.344.610", "Rp 20.355.860"])
    # The unit's letterhead: name, street, kelurahan/kecamatan/kota.
    assert "Bank Sampah Melati RW 05" in text and "Jl. Melati No. 5, RW 05" in text
    assert "Kel. Cempaka Putih Barat, Kec. Cempaka Putih, Jakarta Pusat" in text
    assert "Bendahara" in text and "Petugas" in text


def test_impact_pdf_reads_whole_with_category_names(big, client, login):
    login("collab")
    body = client.get("/impact.pdf?from=2025-01&to=2025-01")
    assert body.status_code == 200
    render_png(body.data, "impact")
    text = assert_reads_whole(body.data, ["Bulan", "Unit", "Rumah tangga terlayani", "Nasabah aktif (≥ 4 setoran)",
                                          "Berat sampah terkelola", "CO₂e yang dihindari", "Diterima rumah tangga",
                                          "Jenis sampah", "Jumlah sampah terkelola", "Nilai"],
                              ["6.339,88 kg", "Rp 20.699.610"])
    # Chart titles, axis labels in Indonesian (thousands with "."), category names, not codes.
    assert "Kilogram sampah terkelola per bulan" in text and "Komposisi jenis sampah menurut berat (kg)" in text
    assert "Botol PET bening bersih" in text and "6.000" in text.split()
    named = text.replace("UCO biodiesel", "")  # the factor's source names the fuel, not the category
    for code in ("PET-CLEAN", "CARDBOARD", "UCO", "GLASS-BOTTLE", "ALU-CAN"):
        assert code not in named, code
    assert "sebelum potongan unit" in text


def test_sale_note_pdf_reads_whole_with_signatures(big, client, login):
    login("mgr_a")
    sale_no = big[1]["sale_no"]
    body = client.get(f"/manager/sales/{sale_no}.pdf")
    assert body.status_code == 200, body.status_code
    render_png(body.data, "sale-note")
    text = assert_reads_whole(body.data, ["Jenis sampah", "Ditimbang", "Diterima", "Selisih", "Harga", "Nilai"],
                              ["1.250,5 kg", "1.240 kg", "Rp 5.580.000"])
    for role in ("Ketua", "Bendahara", "Petugas", "Pembeli"):
        assert role in text.split(), role
    assert "Jakarta Pusat, 28 Januari 2025" in text


def test_receipt_pdf_reads_whole(big, client, login):
    login("op_a")
    receipt_no = db.session.scalars(db.select(Deposit.receipt_no).order_by(Deposit.id)).first()
    for size in ("58", "80", "A6"):
        body = client.get(f"/counter/receipt/{receipt_no}.pdf?size={size}&copy=1")
        assert body.status_code == 200
        render_png(body.data, f"receipt-{size}")
        assert_reads_whole(body.data, ["Nasabah", "Petugas"], ["Rp 1.625.000", "Rp 3.250/kg"])


def test_every_pdf_reads_whole_in_english(big, client, login):
    """The same rules with the English labels and figures (``Rp 20,377,110``, ``6,269.88 kg``)."""
    members, sale = big
    with client.session_transaction() as session:
        session["lang"] = "en"
    login("agg")
    pdf = client.get("/statements/aggregator/JKT/2025-01.pdf").data
    render_png(pdf, "statement-en")
    assert_reads_whole(pdf, ["Unit", "Members", "New", "Active (≥ 4 deposits)", "Deposits", "Deposit value", "Fees",
                             "Withdrawals", "Savings owed at month end", "Sales", "Trading margin", "Stock at cost"],
                       ["6,269.88 kg", "Rp 20,377,110", "Rp 20,699,610"])
    with client.session_transaction() as session:
        session.clear()
        session["lang"] = "en"
    login("mgr_a")
    pdf = client.get(f"/members/{members[0].member_no}/statement.pdf?start=2025-01-01&end=2025-01-31").data
    assert_reads_whole(pdf, ["Date", "Description", "Receipt no.", "In", "Out", "Balance"], ["Rp 20,355,860"])
    pdf = client.get(f"/manager/sales/{sale['sale_no']}.pdf").data
    render_png(pdf, "sale-note-en")
    text = assert_reads_whole(pdf, ["Category", "Weighed", "Accepted", "Difference", "Price", "Amount"],
                              ["1,250.5 kg", "Rp 5,580,000"])
    assert "Chair" in text and "Treasurer" in text and "Jakarta Pusat, January 28, 2025" in text
