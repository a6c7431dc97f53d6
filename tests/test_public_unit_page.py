"""The public transparency page ``/u/<unit code>`` (issue 12 item 7, docs/public-page.md):
this month's and this year's kilograms by material group, rupiah returned, households with the
impact statement's small-group rule, today's buy prices, collection days and place; no
personal data; switched off → 404; rate-limited like ``/c/<token>``; the manager's settings."""
from __future__ import annotations

import re

import pytest

from wastebank import create_app
from wastebank.extensions import db
from wastebank.models import AuditLog, Unit, clock_at
from wastebank.public.unit_page import unit_page_figures
from wastebank.public.views import PUBLIC_LIMIT, UNKNOWN_TOKEN_LIMIT
from wastebank.services.members import create_member

from .conftest import csrf_token
from .report_helpers import at, deposit, void

NOW = at(2026, 11, 20, 15)


@pytest.fixture
def busy(net):
    """RW05 in 2026: in March one member brings 1 kg of aluminium; in November six households
    (phones and names recorded), five of them active (4 PET deposits of 1 kg each), the sixth
    brings 2 kg cardboard and 1,5 L cooking oil; one more PET deposit is voided the same month.
    RW07 and 2025 deposits must not count."""
    a = net.unit_a
    members = [create_member(a, f"Warga Rahasia {i}", phone=f"0812-3456-78{i:02d}", address=f"Gang Sunyi {i}")
               for i in range(6)]
    deposit(a, members[0], [("ALU-CAN", "1")], at(2026, 3, 8))
    deposit(a, members[0], [("PET-CLEAN", "7")], at(2025, 12, 30))
    for i, m in enumerate(members[:5]):
        for day in (2, 9, 16, 19):
            deposit(a, m, [("PET-CLEAN", "1")], at(2026, 11, day, 9, i))
    deposit(a, members[5], [("CARDBOARD", "2"), ("UCO", "1,5")], at(2026, 11, 18))
    wrong = deposit(a, members[5], [("PET-CLEAN", "3")], at(2026, 11, 18, 11))
    void(wrong, at(2026, 11, 18, 12), net.users["mgr_a"])
    for m in net.members_b:
        deposit(net.unit_b, m, [("PET-CLEAN", "50")], at(2026, 11, 5))
    net.unit_a.collection_days = "Minggu 08.00–10.00"
    net.unit_a.collection_place = "Pos RW 05, Jl. Melati"
    db.session.commit()
    return members


def _get(client, path):
    with clock_at(NOW):
        return client.get(path)


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_figures_for_this_month_and_this_year(busy, net):
    with clock_at(NOW):
        month, year = unit_page_figures(net.unit_a)
    assert not month.suppressed
    assert (month.households, month.active_households) == (6, 5)
    # PET 20 kg × Rp 3.250, cardboard 2 kg × Rp 2.000, oil 1,5 L × Rp 4.000; the void cancels.
    assert month.returned_idr == 65_000 + 4_000 + 6_000
    assert month.kg_milli == 22_000
    groups = {g.group: (g.kg_milli, g.other_milli) for g in month.groups}
    assert groups == {"plastic": (20_000, {}), "paper": (2_000, {}), "oil": (0, {"L": 1_500})}
    # The year adds March's aluminium (not December 2025's PET); the year shows households only.
    assert year.returned_idr == 75_000 + 9_000 and year.kg_milli == 23_000
    assert (year.households, year.active_households) == (6, None)
    assert {g.group for g in year.groups} == {"plastic", "paper", "metal", "oil"}


def test_page_shows_groups_prices_collection_and_no_personal_data(client, busy, net):
    response = _get(client, "/u/RW05")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    text = _text(html)
    assert "Bank Sampah Melati RW 05" in text
    assert "Bulan ini (November 2026)" in text and "Tahun ini (2026, sampai hari ini)" in text
    month = text[text.index("Bulan ini"):text.index("Tahun ini")]
    assert "22 kg" in month and "Rp 75.000" in month
    assert "Plastik 20 kg" in month and "Kertas 2 kg" in month and "Minyak jelantah 1,5 L" in month
    assert "Rumah tangga aktif (≥ 4 setoran) 5" in month and "Rumah tangga yang menyetor 6" in month
    year = text[text.index("Tahun ini"):text.index("Harga beli kami")]
    assert "23 kg" in year and "Rp 84.000" in year and "Logam 1 kg" in year
    # Prices in force, by name (not code): PET at RW05's own price.
    prices = text[text.index("Harga beli kami"):]
    assert "Botol PET bening bersih Rp 3.250/kg" in prices and "Minyak jelantah Rp 4.000/L" in prices
    assert "PET-CLEAN" not in html
    assert "Minggu 08.00–10.00" in text and "Pos RW 05, Jl. Melati" in text
    # No personal data: no member's name, number, phone or address appears anywhere.
    for member in busy + net.members_a:
        for secret in (member.name, member.member_no, member.phone, member.address):
            if secret:
                assert secret not in html, secret
    assert "0812" not in html and "+62" not in html
    # Scripts are not needed, and the page is the public layout (no staff navigation).
    assert "<script" not in html and "/logout" not in html


def test_any_case_of_the_code_and_other_units(client, busy, net):
    assert _get(client, "/u/rw05").status_code == 200
    other = _text(_get(client, "/u/RW07").get_data(as_text=True))
    # RW07: three households in November only — fewer than five, so no figures at all.
    assert "Kurang dari 5 rumah tangga menyetor pada periode ini" in other
    assert "Rp 7.500" not in other and "150 kg" not in other


def test_small_groups_are_suppressed_as_in_the_impact_statement(client, net):
    a = net.unit_a
    members = [create_member(a, f"Kecil {i}") for i in range(5)]
    # December: five households (so figures show) but only two active (1–4 → "fewer than 5").
    for i, m in enumerate(members):
        deposit(a, m, [("PET-CLEAN", "1")], at(2026, 12, 1, 9, i))
    for m in members[:2]:
        for day in (2, 3, 4):
            deposit(a, m, [("PET-CLEAN", "1")], at(2026, 12, day))
    db.session.commit()
    with clock_at(at(2026, 12, 5)):
        month, _year = unit_page_figures(a)
        text = _text(client.get("/u/RW05").get_data(as_text=True))
    assert (month.households, month.active_households) == (5, None)
    month_text = text[text.index("Bulan ini"):text.index("Tahun ini")]
    assert "Rumah tangga aktif (≥ 4 setoran) kurang dari 5" in month_text
    assert "Rumah tangga yang menyetor 5" in month_text
    # January 2027: one household so far → the month shows no figures; the year neither.
    deposit(a, members[0], [("PET-CLEAN", "4")], at(2027, 1, 2))
    db.session.commit()
    with clock_at(at(2027, 1, 3)):
        month, year = unit_page_figures(a)
        text = _text(client.get("/u/RW05").get_data(as_text=True))
    assert month.suppressed and year.suppressed and month.returned_idr is None
    assert text.count("Kurang dari 5 rumah tangga menyetor") == 2
    assert "Rp 13.000" not in text and "4 kg" not in text


def test_switched_off_unknown_and_odd_codes_are_404(client, busy, net):
    net.unit_a.public_page_enabled = False
    db.session.commit()
    for path in ("/u/RW05", "/u/NOPE", "/u/%00", "/u/" + "x" * 21, "/u/a%20b"):
        assert _get(client, path).status_code == 404, path
    assert client.post("/u/RW07").status_code in (400, 405)


def test_english(client, busy):
    token = csrf_token(_get(client, "/u/RW05").get_data(as_text=True))
    assert client.post("/lang/en", data={"csrf_token": token, "next": "/u/RW05"}).status_code == 302
    text = _text(_get(client, "/u/RW05").get_data(as_text=True))
    assert "This month (November 2026)" in text
    assert "Plastic 20 kg" in text and "Cooking oil 1.5 L" in text and "Rp 75,000" in text


@pytest.fixture
def limited(net, database_url):
    db.session.commit()
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": database_url, "RATELIMIT_ENABLED": True,
                                 "PUBLIC_BASE_URL": "https://bank.example"})
    yield app
    with app.app_context():
        db.engine.dispose()


def _from(address: str) -> dict:
    return {"environ_base": {"REMOTE_ADDR": address}}


def test_rate_limited_like_the_resident_page(limited, net):
    assert (PUBLIC_LIMIT, UNKNOWN_TOKEN_LIMIT) == ("60 per minute", "10 per minute;50 per hour")
    db.session.close()
    client = limited.test_client()
    here = _from("203.0.113.40")
    assert [client.get("/u/RW05", **here).status_code for _ in range(60)] == [200] * 60
    refused = client.get("/u/RW05", **here)
    assert refused.status_code == 429 and "Terlalu banyak" in refused.get_data(as_text=True)
    assert client.get("/u/RW05", **_from("198.51.100.40")).status_code == 200
    # Guessing codes stops after ten; a live unit's page on the same address still opens.
    there = _from("203.0.113.41")
    assert [client.get(f"/u/X{i:03d}", **there).status_code for i in range(12)] == [404] * 10 + [429] * 2
    assert client.get("/u/RW07", **there).status_code == 200


def test_manager_sets_page_days_and_place_audited(client, login, net):
    login("mgr_a")
    page = client.get("/members/")
    html = page.get_data(as_text=True)
    assert "Tampilkan halaman publik unit" in html and "/u/RW05" in html
    token = csrf_token(html)
    response = client.post("/members/settings", data={
        "csrf_token": token, "collection_days": "  Sabtu 16.00–17.00 ", "collection_place": "Balai RW 05"})
    assert response.status_code == 302
    unit = db.session.get(Unit, net.unit_a.id)
    db.session.refresh(unit)
    assert (unit.public_page_enabled, unit.collection_days, unit.collection_place) == (
        False, "Sabtu 16.00–17.00", "Balai RW 05")
    row = db.session.scalar(db.select(AuditLog).where(AuditLog.action == "unit.public_page"))
    assert row is not None and row.object_id == "RW05" and '"public_page_enabled": false' in row.details
    assert client.get("/u/RW05").status_code == 404
    # Too long a place: a clear message, nothing changes.
    response = client.post("/members/settings", data={
        "csrf_token": token, "public_page_enabled": "y", "collection_place": "x" * 301}, follow_redirects=True)
    assert response.status_code == 200
    assert "300" in response.get_data(as_text=True)
    db.session.refresh(unit)
    assert unit.public_page_enabled is False and unit.collection_place == "Balai RW 05"
    # Switched on again: the page shows the new days and place; unchanged settings add no audit row.
    client.post("/members/settings", data={"csrf_token": token, "public_page_enabled": "y",
                                           "collection_days": "Sabtu 16.00–17.00", "collection_place": "Balai RW 05"})
    client.post("/members/settings", data={"csrf_token": token, "public_page_enabled": "y",
                                           "collection_days": "Sabtu 16.00–17.00", "collection_place": "Balai RW 05"})
    assert db.session.scalar(db.select(db.func.count()).select_from(AuditLog)
                             .where(AuditLog.action == "unit.public_page")) == 2
    text = _text(client.get("/u/RW05").get_data(as_text=True))
    assert "Sabtu 16.00–17.00" in text and "Balai RW 05" in text


def test_operator_cannot_change_the_settings(client, login, net):
    login("op_a")
    page = client.get("/counter/").get_data(as_text=True)
    response = client.post("/members/settings", data={"csrf_token": csrf_token(page), "collection_place": "X"})
    assert response.status_code == 403
    db.session.refresh(net.unit_a)
    assert net.unit_a.collection_place == ""
