"""Texts on two manager screens (found by a tester, cashbook fix 4 and 6): the stock
adjustment names each empty field in Indonesian (no WTForms English "This field is
required."), and the unit report heads its month with the month's name ("Bulan Desember 2026")."""
import re

from sqlalchemy import func, select

from wastebank.extensions import db
from wastebank.models import JournalEntry

from .conftest import csrf_token


def test_adjust_names_each_empty_field_in_indonesian(net, client, login):
    login("mgr_a")
    page = client.get("/manager/stock/adjust").get_data(as_text=True)
    before = db.session.scalar(select(func.count(JournalEntry.id)))
    db.session.rollback()
    cases = {
        ("PET-CLEAN", "1", ""): ["Tuliskan alasan penyesuaian stok."],
        ("", "", ""): ["Pilih jenis sampahnya.", "Masukkan jumlah yang ditambah atau dikurangi.",
                       "Tuliskan alasan penyesuaian stok."],
        ("PET-CLEAN", " ", "rusak kena hujan"): ["Masukkan jumlah yang ditambah atau dikurangi."],
    }
    for (category, quantity, reason), expected in cases.items():
        response = client.post("/manager/stock/adjust", data={
            "csrf_token": csrf_token(page), "idempotency_key": "adjust-empty-0001", "direction": "out",
            "category": category, "quantity": quantity, "reason": reason})
        html = response.get_data(as_text=True)
        assert response.status_code == 422
        assert re.findall(r'<p class="error" role="alert">([^<]*)</p>', html) == expected
        assert "This field is required" not in html and "Kolom ini wajib diisi" not in html
        for field, value in (("category", category), ("quantity", quantity.strip()), ("reason", reason)):
            tag = re.search(rf'<(?:input|select) name="{field}"[^>]*>', html).group(0)
            assert ('aria-invalid="true"' in tag) == (not value), (field, tag)
    assert db.session.scalar(select(func.count(JournalEntry.id))) == before


def test_unit_report_heads_the_month_with_its_name(net, client, login):
    login("mgr_a")
    html = client.get("/reports/unit?month=2026-12").get_data(as_text=True)
    assert '<h2 id="month-heading">Bulan Desember 2026</h2>' in html and "Bulan 2026-12" not in html
    assert 'value="2026-12"' in html  # the month picker keeps its ISO value
    client.post("/lang/en", data={"csrf_token": csrf_token(html)})
    english = client.get("/reports/unit?month=2026-12").get_data(as_text=True)
    assert '<h2 id="month-heading">Month December 2026</h2>' in english
