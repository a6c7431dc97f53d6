"""One month rule everywhere (issue 9 item 6, docs/rules.md §periods, reports/period.py): a deposit
captured offline on 30 Nov 2025 at 23:40 WIB and posted on 2 Dec is November's in the member
passbook (PDF and screen), the resident page and its PDF, the unit report, the aggregator
statement (PDF, both CSVs), the active-member CSV and the impact statement; the posting date
is shown beside the capture time. Runs on SQLite and PostgreSQL (DATABASE_URL)."""
from __future__ import annotations

import csv
import io
import re
from datetime import date

import pytest

from wastebank.extensions import db
from wastebank.models import Collaborator, Sponsorship, User, clock_at
from wastebank.reports.impact import impact_pdf, impact_statement
from wastebank.reports.statements import aggregator_statement, find_aggregator
from wastebank.reports.unit import monthly_summary
from wastebank.services.members import create_member, issue_card

from .report_helpers import at, deposit, pdf_text

NOTE = "dicatat 30/11 23.40, dibukukan 02/12"
LATE_VALUE = 16125          # PET 2,5 kg × Rp 3.250 + cardboard 4 kg × Rp 2.000 (RW05)
NOV_VALUE = 3 * 3250 + LATE_VALUE + 4 * 3250
DEC_VALUE = 5 * 3250


@pytest.fixture
def late(net):
    """Siti deposits PET 1 kg on 3, 10 and 17 Nov and, offline on 30 Nov 23:40, PET 2,5 kg and
    cardboard 4 kg that reach the server on 2 Dec 08:00 (her 4th November deposit: active);
    four more members deposit 1 kg on 20 Nov; all five on 5 Dec. RW05 is sponsored."""
    a = net.unit_a
    collab = Collaborator(name="CSR Bulan")
    db.session.add(collab)
    db.session.flush()
    db.session.add(Sponsorship(collaborator_id=collab.id, unit_id=a.id, start_date=date(2025, 11, 1)))
    db.session.scalar(db.select(User).where(User.username == "collab")).collaborator_id = collab.id
    siti = net.members_a[0]
    with clock_at(at(2025, 10, 1)):
        extra = [create_member(a, f"Warga {i}") for i in range(2)]
    others = net.members_a[1:] + extra
    for day in (3, 10, 17):
        deposit(a, siti, [("PET-CLEAN", "1")], at(2025, 11, day))
    for m in others:
        deposit(a, m, [("PET-CLEAN", "1")], at(2025, 11, 20))
    offline = deposit(a, siti, [("PET-CLEAN", "2,5"), ("CARDBOARD", "4")], at(2025, 12, 2, 8, 0),
                      recorded_at=at(2025, 11, 30, 23, 40))
    for m in [siti] + others:
        deposit(a, m, [("PET-CLEAN", "1")], at(2025, 12, 5))
    card = issue_card(siti)
    db.session.commit()
    return {"siti": siti, "offline": offline, "token": card.token, "collab": collab,
            "receipt": offline.receipt_no}


def _flat(data: bytes) -> str:
    return " ".join(pdf_text(data)[0].split())


def test_services_put_it_in_november(late, net):
    assert late["offline"].credited_idr == LATE_VALUE
    nov = {u.code: u for u in aggregator_statement(find_aggregator("JKT"), 2025, 11).units}["RW05"]
    dec = {u.code: u for u in aggregator_statement(find_aggregator("JKT"), 2025, 12).units}["RW05"]
    assert (nov.deposits, nov.deposit_value_idr, nov.active_members) == (8, NOV_VALUE, 1)
    assert (dec.deposits, dec.deposit_value_idr, dec.active_members) == (5, DEC_VALUE, 0)
    assert monthly_summary(net.unit_a, 2025, 11)[0].deposit_value_idr == NOV_VALUE
    assert monthly_summary(net.unit_a, 2025, 12)[0].deposit_value_idr == DEC_VALUE
    st = impact_statement(late["collab"], (2025, 11), (2025, 12))
    nov_i, dec_i = st.months
    assert not nov_i.suppressed and not dec_i.suppressed
    assert nov_i.weight_milli == 3000 + 2500 + 4000 + 4000 and dec_i.weight_milli == 5000
    assert nov_i.returned_idr == NOV_VALUE and dec_i.returned_idr == DEC_VALUE
    assert "13,5 kg" in _flat(impact_pdf(st, "id"))


def test_aggregator_statement_pdf_and_csvs(late, client, login):
    login("agg")
    assert f"Rp {NOV_VALUE:,}".replace(",", ".") in _flat(client.get("/statements/aggregator/JKT/2025-11.pdf").data)
    dec_pdf = _flat(client.get("/statements/aggregator/JKT/2025-12.pdf").data)
    assert "Rp 16.250" in dec_pdf and f"Rp {NOV_VALUE:,}".replace(",", ".") not in dec_pdf
    for month, value, pet, cardboard in (("2025-11", NOV_VALUE, "9,5", "4"), ("2025-12", DEC_VALUE, "5", None)):
        body = client.get(f"/statements/aggregator/JKT/{month}.csv").data.decode("utf-8-sig")
        rows = list(csv.reader(io.StringIO(body), delimiter=";"))
        head, rw05 = rows[0], next(r for r in rows if r[1] == "RW05")
        assert int(rw05[head.index("Nilai setoran (Rp)")]) == value
        assert rw05[head.index("Botol PET bening bersih (kg)")] == pet
        if cardboard is None:
            assert "Kardus (kg)" not in head  # no cardboard in December: the late deposit is November's
        else:
            assert rw05[head.index("Kardus (kg)")] == cardboard
        codes = list(csv.reader(io.StringIO(
            client.get(f"/statements/aggregator/JKT/{month}.csv?format=codes").data.decode("utf-8-sig"))))
        row = next(r for r in codes if r[1] == "RW05")
        assert int(row[codes[0].index("deposit_value_idr")]) == value


def test_unit_report_and_active_csv(late, client, login):
    login("mgr_a")
    nov = client.get("/reports/unit?month=2025-11&day=2025-11-30").get_data(as_text=True)
    assert f"Rp {NOV_VALUE:,}".replace(",", ".") in nov
    assert "Rp 16.125" in nov  # the day 30 Nov holds the late deposit
    assert 'id="late-postings"' in nov and late["receipt"] in nov and NOTE in nov
    dec = client.get("/reports/unit?month=2025-12&day=2025-12-02").get_data(as_text=True)
    assert "Rp 16.250" in dec and 'id="late-postings"' not in dec and late["receipt"] not in dec
    siti = late["siti"].member_no
    rows = list(csv.reader(io.StringIO(client.get("/reports/unit/active.csv?month=2025-11").data.decode("utf-8-sig")),
                           delimiter=";"))
    assert [r[2:] for r in rows[1:]] == [[siti, late["siti"].name, "4"]]
    rows = list(csv.reader(io.StringIO(client.get("/reports/unit/active.csv?month=2025-12").data.decode("utf-8-sig")),
                           delimiter=";"))
    assert rows[1:] == []


def test_member_passbook_pdf_and_screen(late, client, login):
    login("op_a")
    no = late["siti"].member_no
    nov = _flat(client.get(f"/members/{no}/statement.pdf?start=2025-11-01&end=2025-11-30").data)
    assert late["receipt"] in nov and "Rp 16.125" in nov and "30-11-2025" in nov and "dibukukan" in nov
    assert "Rp 25.875" in nov  # closing balance: 3 × 3.250 + 16.125
    dec = _flat(client.get(f"/members/{no}/statement.pdf?start=2025-12-01&end=2025-12-31").data)
    assert late["receipt"] not in dec and "Rp 29.125" in dec
    page = client.get(f"/members/{no}").get_data(as_text=True)
    assert NOTE in page


def test_resident_page_and_its_pdf(late, client):
    page = re.sub(r"<[^>]+>", "", client.get(f"/c/{late['token']}").get_data(as_text=True))
    assert NOTE in page
    assert "Kardus: 4 kg" in page and "Botol PET bening bersih: 2,5 kg" in page
    assert "Total diselamatkan" in page and "10,5 kg" in page  # 3 + 6,5 + 1 kg
    assert "Kosongkan kedua tanggal untuk bulan ini sampai hari ini" in page
    nov = _flat(client.get(f"/c/{late['token']}/statement.pdf?start=2025-11-01&end=2025-11-30").data)
    assert late["receipt"] in nov and "Rp 16.125" in nov
    dec = _flat(client.get(f"/c/{late['token']}/statement.pdf?start=2025-12-01&end=2025-12-31").data)
    assert late["receipt"] not in dec


def test_void_shows_its_lines_negated_and_leaves_the_total(late, net):
    from wastebank.reports.members import member_diverted, member_movements

    from .report_helpers import void

    siti = late["siti"]
    assert member_diverted(siti) == {"kg": 3000 + 6500 + 1000, "L": 0, "pcs": 0}
    void(late["offline"], at(2025, 12, 6), net.users["mgr_a"])
    db.session.commit()
    assert member_diverted(siti)["kg"] == 4000
    latest = member_movements(siti, 2, with_lines=True)[0]
    assert latest.amount_idr == -LATE_VALUE
    assert [(line.code, line.quantity_milli) for line in latest.lines] == [("PET-CLEAN", -2500), ("CARDBOARD", -4000)]
