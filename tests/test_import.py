"""Import from paper books: preview with row-numbered errors writes nothing; confirming writes
members and one opening-balance entry each (the ledger verifies); the same file again changes
nothing; bad files (wrong columns, encodings, empty, junk, formulas) get a clear message."""
from __future__ import annotations

import io
import os
import random
import re

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from wastebank.extensions import db
from wastebank.models import Account, JournalEntry, Member, MemberCard, MemberImport, Posting
from wastebank.services.ledger import member_savings_account, system_account, verify_ledger
from wastebank.services.member_import import (ImportFileError, ImportRejected, confirm_import,
                                              preview_import)

from .conftest import csrf_token

GOOD_CSV = (
    "name,address,rt,rw,phone,member_no,opening_balance,kind\n"
    "Sri Rahayu,Jl. Melati 7,003,005,0812-3456-7890,,Rp 125.000,person\n"
    "Keluarga Pak Harun,Jl. Melati 8,004,005,,RW05-0100,0,keluarga\n"
    "SDN 05 Cempaka,Jl. Sekolah 1,,,+62 21 555 1234,,\"1.500.000\",sekolah\n"
    "Ñoño Đặng,,,,,,Rp 2.500,\n"
).encode("utf-8")

BAD_CSV = (
    "Nama;Alamat;RT/RW;No HP;No Nasabah;Saldo Awal\n"
    "Sri Rahayu;Jl. Melati 7;003/005;0812-3456-7890;;Rp 125.000\n"      # row 2: fine
    ";Jl. Kosong;;;;0\n"                                                  # row 3: no name
    "Budi;;;12345;;1000\n"                                                # row 4: bad phone
    "Tono;;;;;seratus ribu\n"                                             # row 5: bad amount
    "Sri Rahayu;Jl. Lain;;0812-3456-7890;;500\n"                          # row 6: duplicate of row 2
    "Joko;;;;RW05-0001;0\n"                                               # row 7: number of Siti Aminah
    "=HYPERLINK(\"http://evil\",\"klik\");;;;;0\n"                        # row 8: formula
    "Rudi;;;;;-5.000\n"                                                   # row 9: negative
).encode("utf-8")


def counts() -> dict:
    result = {name: db.session.scalar(select(func.count()).select_from(model))
              for name, model in (("member", Member), ("card", MemberCard), ("entry", JournalEntry),
                                  ("posting", Posting), ("import", MemberImport), ("account", Account))}
    db.session.rollback()
    return result


def upload(client, data: bytes, filename: str):
    with client.session_transaction() as session:
        session["lang"] = "en"  # messages are checked in the source language
    token = csrf_token(client.get("/members/import").get_data(as_text=True))
    # The body is built here: werkzeug's test client would spool a large file to a temporary
    # file that it never closes (a ResourceWarning, an error under -W error).
    boundary = "----wastebank-test-boundary"
    body = (f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{token}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
            f"Content-Type: application/octet-stream\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    return client.post("/members/import", data=body, content_type=f"multipart/form-data; boundary={boundary}")


def confirm(client, page_html: str):
    sha = re.search(r'name="sha256" type="hidden" value="([0-9a-f]{64})"', page_html).group(1)
    return client.post("/members/import/confirm", data={"csrf_token": csrf_token(page_html), "sha256": sha})


def test_preview_rejects_bad_rows_with_row_numbers_and_writes_nothing(client, login, net):
    before = counts()
    login("mgr_a")
    response = upload(client, BAD_CSV, "buku.csv")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    expected = {3: "name is missing", 4: "Not a valid Indonesian phone number", 5: "Whole rupiah only",
                6: "Duplicate of row 2", 7: "RW05-0001 already belongs to Siti Aminah", 8: "formula",
                9: "more than zero"}
    for row, words in expected.items():
        assert re.search(rf"Row {row}: [^<]*{re.escape(words)}", html), (row, words)
    assert "Row 2:" not in html
    assert "/members/import/confirm" not in html  # no confirm button
    assert counts() == before
    # Posting the confirm by hand is refused too, and still writes nothing.
    sha = __import__("hashlib").sha256(BAD_CSV).hexdigest()
    refused = client.post("/members/import/confirm", data={"csrf_token": csrf_token(html), "sha256": sha})
    assert refused.status_code == 422
    assert counts() == before


def test_confirm_writes_members_and_opening_balances_and_reimport_changes_nothing(client, login, net):
    before = counts()
    login("mgr_a")
    preview = upload(client, GOOD_CSV, "buku.csv").get_data(as_text=True)
    assert counts() == before  # the preview wrote nothing
    done = confirm(client, preview)
    assert done.status_code == 302
    after = counts()
    assert after["member"] == before["member"] + 4 and after["card"] == before["card"] + 4
    assert after["entry"] == before["entry"] + 3  # Rp 0 gets no entry
    assert after["import"] == 1
    members = {m.name: m for m in db.session.scalars(select(Member).where(Member.unit_id == net.unit_a.id))}
    sri = members["Sri Rahayu"]
    assert sri.phone == "+6281234567890" and (sri.rt, sri.rw) == ("003", "005")
    assert members["Keluarga Pak Harun"].member_no == "RW05-0100" and members["Keluarga Pak Harun"].kind == "household"
    assert members["SDN 05 Cempaka"].kind == "institution"
    assert member_savings_account(sri).balance == 125_000
    assert member_savings_account(members["SDN 05 Cempaka"]).balance == 1_500_000
    assert member_savings_account(members["Ñoño Đặng"]).balance == 2_500
    assert member_savings_account(members["Keluarga Pak Harun"]).balance == 0
    equity = system_account(net.unit_a.id, "opening_equity")
    assert equity.balance == -(125_000 + 1_500_000 + 2_500)  # equity is credit-normal: Dr opening_equity
    entry = db.session.scalars(select(JournalEntry).where(JournalEntry.kind == "opening_balance")).first()
    assert sorted(p.amount for p in entry.postings) == [-125_000, 125_000]
    assert verify_ledger().ok
    db.session.rollback()

    # The same file again: the preview says so, and confirming changes nothing.
    again = upload(client, GOOD_CSV, "buku-lagi.csv").get_data(as_text=True)
    assert "/members/import/confirm" not in again
    assert "already imported" in again
    assert counts() == after
    sha = __import__("hashlib").sha256(GOOD_CSV).hexdigest()
    client.post("/members/import/confirm", data={"csrf_token": csrf_token(again), "sha256": sha})
    assert counts() == after
    # The same members in a re-saved file (another hash): every row is skipped; nothing new.
    resaved = GOOD_CSV.replace(b"\n", b"\r\n")
    preview = upload(client, resaved, "buku.csv").get_data(as_text=True)
    assert "/members/import/confirm" not in preview
    assert counts() == after
    assert verify_ledger().ok


def test_cli_import_prints_what_it_created_and_is_idempotent(app, net, tmp_path):
    path = tmp_path / "buku.csv"
    path.write_bytes(GOOD_CSV)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["member", "import", "RW05", str(path)])
    assert result.exit_code == 0, result.output
    assert "member RW05-0100 created: Keluarga Pak Harun" in result.output
    assert "4 members imported at RW05" in result.output
    after = counts()
    second = runner.invoke(args=["member", "import", "rw05", str(path)])
    assert second.exit_code == 0 and "already imported" in second.output
    assert counts() == after
    bad = tmp_path / "bad.csv"
    bad.write_bytes(BAD_CSV)
    failed = runner.invoke(args=["member", "import", "RW05", str(bad)])
    assert failed.exit_code == 1 and "row 4:" in failed.output and "nothing imported" in failed.output
    assert counts() == after
    assert verify_ledger().ok


def _xlsx(rows) -> bytes:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def test_xlsx_import_with_numeric_cells(app, net):
    data = _xlsx([["Nama", "Telepon", "Saldo awal", "RT", "RW"],
                  ["Wati", 81234567891, 50000, 1, 5],
                  ["Yanto", "0812 2222 3333", "Rp 7.500", "002", "005"]])
    preview = preview_import(net.unit_a, data, "daftar.xlsx")
    assert not preview.errors and len(preview.new_rows) == 2
    assert preview.rows[0].phone == "+6281234567891" and preview.rows[0].opening_idr == 50_000
    result = confirm_import(net.unit_a, data, "daftar.xlsx", user_id=None)
    db.session.commit()
    assert result.opening_total_idr == 57_500 and verify_ledger().ok


def test_xlsx_formula_cells_are_text_never_evaluated(app, net):
    data = _xlsx([["name", "opening_balance"],
                  ['=HYPERLINK("http://evil.example","Klik")', 0],
                  ["Ani", "=100000+25000"]])
    before = counts()
    preview = preview_import(net.unit_a, data, "daftar.xlsx")
    assert [r.row_no for r in preview.errors] == [2, 3]
    # Built outside a request, the messages are in the default language (Indonesian):
    # "Column %(col)s holds a spreadsheet formula (…)" -> "Kolom %(col)s berisi rumus spreadsheet (…)".
    assert all("rumus spreadsheet" in str(m) for r in preview.errors for m in r.messages)
    with pytest.raises(ImportRejected):
        confirm_import(net.unit_a, data, "daftar.xlsx", user_id=None)
    db.session.rollback()
    assert counts() == before


def test_windows_1252_csv_is_read(app, net):
    data = "name;phone;opening_balance\nJosé Núñez;0812-1111-0000;Rp 1.000\n".encode("cp1252")
    preview = preview_import(net.unit_a, data, "lama.csv")
    assert not preview.errors and preview.rows[0].name == "José Núñez"


# Raised outside a request, the messages are in the default language (Indonesian); each
# expected text is the msgstr in wastebank/translations/id/LC_MESSAGES/messages.po.
@pytest.mark.parametrize("data,filename,words", [
    (b"", "kosong.csv", "Berkas kosong."),  # "The file is empty."
    (b"   \r\n  ", "kosong.csv", "Berkas kosong."),
    # "The first row must name the columns"
    (b"nama_lengkap_salah,kolom\nA,B\n", "salah.csv", "Baris pertama harus berisi nama kolom"),
    # "Unknown columns: umur, hobi"
    (b"name,umur,hobi\nAni,30,x\n", "salah.csv", "Kolom tidak dikenal: umur, hobi"),
    # "The file has a header but no members."
    (b"name,address\n", "header-saja.csv", "tanpa data nasabah"),
    # "The file is not readable text."
    ("name,phone\nAni,0812\n".encode("utf-16-le"), "utf16.csv", "bukan teks yang dapat dibaca"),
    # "This is not a readable .xlsx file."
    (b"PK\x03\x04" + b"\x00junk" * 100, "rusak.xlsx", "Berkas .xlsx ini tidak dapat dibaca"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "lama.xls", ".xls"),
])
def test_bad_files_get_a_clear_message(app, net, data, filename, words):
    before = counts()
    with pytest.raises(ImportFileError) as caught:
        preview_import(net.unit_a, data, filename)
    assert words in str(caught.value.message)
    assert counts() == before


def test_ten_megabytes_of_junk_through_the_screen(client, login, net):
    before = counts()
    login("mgr_a")
    junk = random.Random(3).randbytes(10 * 1024 * 1024)
    response = upload(client, junk, "junk.csv")
    assert response.status_code == 422
    assert "too large" in response.get_data(as_text=True)
    text_junk = (b"x" * 200 + b"\n") * 20000  # 4 MB of text without a name column
    response = upload(client, text_junk, "junk.csv")
    assert response.status_code == 422 and "name" in response.get_data(as_text=True)
    assert counts() == before
    assert not any(p.suffix == ".upload" for p in (client.application.instance_path and
                                                   __import__("pathlib").Path(client.application.instance_path).glob("imports/*")))


def test_utf16_with_bom_and_utf8_bom_are_read(app, net):
    text = "name,phone\nAni,0812-1111-2222\n"
    for data in (text.encode("utf-16"), text.encode("utf-8-sig")):
        preview = preview_import(net.unit_a, data, "x.csv")
        assert not preview.errors and preview.rows[0].name == "Ani"
    assert os.path  # keep import used
