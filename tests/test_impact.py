"""Collaborator impact statement (issue 5): figures, CO₂e, small-group suppression, and that a
collaborator reaches no per-member data through any page, PDF, CSV or API call."""
from __future__ import annotations

from datetime import date

import pytest

from wastebank.extensions import db
from wastebank.models import Collaborator, Sponsorship, User
from wastebank.reports.impact import MIN_GROUP, co2e_grams, impact_pdf, impact_statement
from wastebank.services.members import create_member

from .report_helpers import at, deposit, pdf_text

SECRET = "Rahasia"


@pytest.fixture
def sponsored(net):
    """Collaborator "CSR Hijau" sponsors RW05 from 2025-01-01 (user ``collab``). January: six
    households at RW05 (five of them active), PET by six, cardboard by five, aluminium by two;
    February: two households. RW07 (not sponsored) also deposits."""
    collab = Collaborator(name="CSR Hijau Nusantara")
    db.session.add(collab)
    db.session.flush()
    db.session.add(Sponsorship(collaborator_id=collab.id, unit_id=net.unit_a.id, start_date=date(2025, 1, 1)))
    user = db.session.scalar(db.select(User).where(User.username == "collab"))
    user.collaborator_id = collab.id
    a = net.unit_a
    members = [create_member(a, f"Nasabah {SECRET} {i}") for i in range(6)]
    for i, m in enumerate(members[:5]):
        for day in (2, 9, 16, 23):
            deposit(a, m, [("PET-CLEAN", "1")], at(2025, 1, day, 9, i))
        deposit(a, m, [("CARDBOARD", "0,5")], at(2025, 1, 24, 9, i))
    deposit(a, members[5], [("PET-CLEAN", "1")], at(2025, 1, 25))
    for m in members[:2]:
        deposit(a, m, [("ALU-CAN", "0,5")], at(2025, 1, 26))
        deposit(a, m, [("PET-CLEAN", "1")], at(2025, 2, 3))
    for m in net.members_b:
        deposit(net.unit_b, m, [("PET-CLEAN", "50")], at(2025, 1, 5))
    db.session.commit()
    return collab, members


def test_impact_figures_co2e_and_suppression(sponsored, net):
    collab, _members = sponsored
    st = impact_statement(collab, (2025, 1), (2025, 2))
    assert not st.suppressed and st.unit_names == ["Bank Sampah Melati RW 05"]
    assert st.households == 6
    jan, feb = st.months
    assert (jan.households, jan.active_members) == (6, 5)
    assert feb.suppressed and feb.households is None and feb.weight_milli is None
    # PET 23 kg × 1.15, cardboard 2.5 kg × 3.46, aluminium 1 kg × 10.06 → grams.
    assert co2e_grams(23_000, 1150) == 26_450
    assert st.co2e_g == 26_450 + 8_650 + 10_060
    assert st.weight_milli == 23_000 + 2_500 + 1_000
    assert jan.weight_milli == 21_000 + 2_500 + 1_000 and jan.co2e_g == 24_150 + 8_650 + 10_060
    # Rupiah returned = credited: PET 3.250/kg at RW05, cardboard 2.000/kg, aluminium at the catalogue price.
    assert st.returned_idr == 23 * 3250 + 2500 * 2000 // 1000 + 9000
    # Aluminium (2 members) never stands alone; it is merged with the smallest group.
    shown = [c.category.code for c in st.categories if c.category is not None]
    other = [c for c in st.categories if c.category is None]
    assert "ALU-CAN" not in shown and shown == ["PET-CLEAN"]
    assert {c.code for c in other[0].merged} == {"ALU-CAN", "CARDBOARD"}
    assert {f.code for f in st.factors} == {"PET-CLEAN", "CARDBOARD", "ALU-CAN"}


def test_impact_counts_only_sponsored_months(sponsored, net):
    collab, _ = sponsored
    sponsorship = db.session.scalar(db.select(Sponsorship))
    sponsorship.start_date = date(2025, 2, 1)
    db.session.commit()
    st = impact_statement(collab, (2025, 1), (2025, 2))
    assert st.suppressed  # only February counts, with two households
    assert st.households is None and st.months == []


def test_impact_pdf_has_charts_factors_and_no_personal_data(sponsored):
    collab, members = sponsored
    st = impact_statement(collab, (2025, 1), (2025, 2))
    data = impact_pdf(st, "en")
    body, pages = pdf_text(data)
    flat = " ".join(body.split())
    assert "CSR Hijau Nusantara" in flat and "EPA WARM v16 PET" in flat
    assert "45.16 kg" in flat  # CO₂e avoided in total (26.45 + 8.65 + 10.06)
    assert SECRET not in flat and not any(m.member_no in flat for m in members)
    # Built outside a request, the statement's labels are in the default language (Indonesian).
    # The merged group lists category names (issue 9), in the locale asked for.
    assert "(Corrugated cardboard, Aluminium cans)" in flat or "(Aluminium cans, Corrugated cardboard)" in flat
    assert "CARDBOARD" not in flat and "ALU-CAN" not in flat
    assert pages >= 1


def _urls(app, values):
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static" or rule.rule.endswith("openapi.json"):
            # (the API's documentation carries an example member number, RW05-0001)
            continue
        args = {}
        for name in rule.arguments:
            args[name] = values.get(name, "1")
        yield rule.build(args, append_unknown=False)[1]


def test_collaborator_reaches_no_per_member_data_anywhere(sponsored, net, client, login, app):
    collab, members = sponsored
    from wastebank.models import Deposit
    receipt_no = db.session.scalar(db.select(Deposit.receipt_no).limit(1))
    values = {"member_no": members[0].member_no, "receipt_no": receipt_no, "code": "JKT", "month": "2025-01",
              "token": "not-a-real-token-000000000000", "withdrawal_id": 1, "sale_no": "RW05-2025-000001"}
    login("collab")
    member_nos = [m.member_no for m in members] + [m.member_no for m in net.members_a + net.members_b]
    names = [SECRET, "Siti Aminah", "Rina Wati"]
    checked = 0
    for url in list(_urls(app, values)) + ["/impact?from=2025-01&to=2025-02", "/impact.pdf?from=2025-01&to=2025-02",
                                            "/reports/unit?unit=RW05", "/reports/unit/active.csv?unit=RW05",
                                            "/impact?collaborator=999", "/api/v1/members/" + members[0].member_no]:
        response = client.get(url)
        body = response.get_data()
        response.close()  # file responses (sw.js) hold their file open until closed
        text = pdf_text(body)[0] if body.startswith(b"%PDF") else body.decode("utf-8", "replace")
        text = text.replace(url.split("?")[0], "")  # pages echo the requested path (language switch)
        for secret in member_nos + names:
            assert secret not in text, (url, secret, response.status_code)
        checked += 1
    assert checked > 30
    ok = client.get("/impact?from=2025-01&to=2025-02")
    assert ok.status_code == 200 and b"<canvas id=\"chart-kg-month\"" in ok.data \
        and "CSR Hijau Nusantara" in ok.get_data(as_text=True)
    pdf = client.get("/impact.pdf?from=2025-01&to=2025-02")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    for url in ("/reports/unit?unit=RW05", "/reports/unit/active.csv?unit=RW05", "/statements",
                "/api/v1/statements/aggregator/JKT/2025-01"):
        assert client.get(url).status_code == 403, url


def test_collaborator_sees_only_own_sponsored_units(sponsored, net, client, login):
    other = Collaborator(name="Sponsor Lain")
    db.session.add(other)
    db.session.flush()
    db.session.add(Sponsorship(collaborator_id=other.id, unit_id=net.unit_b.id, start_date=date(2025, 1, 1)))
    db.session.commit()
    login("collab")
    page = client.get(f"/impact?from=2025-01&to=2025-01&collaborator={other.id}").get_data(as_text=True)
    assert "Melati" in page and "Mawar" not in page and "Sponsor Lain" not in page


def test_collaborator_without_sponsor_is_404_and_small_period_suppressed(net, client, login):
    login("collab")  # a sponsor that sponsors nothing (yet): no unit's figures at all
    page = client.get("/impact")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert net.unit_a.name not in text and net.unit_b.name not in text
    collab = Collaborator(name="Kecil")
    db.session.add(collab)
    db.session.flush()
    db.session.add(Sponsorship(collaborator_id=collab.id, unit_id=net.unit_b.id, start_date=date(2025, 1, 1)))
    deposit(net.unit_b, net.members_b[0], [("PET-CLEAN", "3")], at(2025, 1, 7))
    db.session.commit()
    st = impact_statement(collab, (2025, 1), (2025, 1))
    assert st.suppressed and st.households is None and MIN_GROUP == 5
    body, _ = pdf_text(impact_pdf(st, "en"))
    # Built outside a request, the labels are in the default language (Indonesian):
    # "Figures are not shown for fewer than 5 households" -> "… kurang dari 5 rumah tangga …".
    assert "Rina" not in body and "kurang dari 5" in body.lower()
