"""Manager screens through the test client: role × route matrix, scope, and the flows."""
import io
import re

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from wastebank.extensions import db
from wastebank.models import AuditLog, DayClose, JournalEntry, Offtaker, Sale
from wastebank.services.deposits import LineInput, record_deposit
from wastebank.services.ledger import system_account
from wastebank.services.org import create_user
from wastebank.services.transaction import run_in_transaction
from wastebank.timeutil import local_today

from .conftest import csrf_token
from .factories import PASSWORD

SAMPLE_ARGS = {"sale_no": "RW05-2025-000001", "code": "PET-CLEAN", "container_id": "1", "withdrawal_id": "1"}


def _manager_routes(app):
    """Every (method, url) of the manager blueprint, with sample arguments."""
    out = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("manager."):
            continue
        url = rule.rule
        for arg in rule.arguments:
            url = re.sub(rf"<(?:\w+:)?{arg}>", SAMPLE_ARGS[arg], url)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            out.append((method, url))
    return out


def _counts():
    return tuple(db.session.scalar(select(func.count(m.id))) for m in (JournalEntry, Sale, Offtaker, DayClose))


def _page_token(client):
    page = client.get("/", follow_redirects=True)
    return csrf_token(page.get_data(as_text=True))


def test_route_list_covers_the_screens(app):
    urls = {url for _m, url in _manager_routes(app)}
    assert {"/manager/", "/manager/stock", "/manager/stock/adjust", "/manager/offtakers", "/manager/sales",
            "/manager/sales/new", "/manager/sales/RW05-2025-000001", "/manager/sales/RW05-2025-000001.pdf",
            "/manager/cashbook", "/manager/cashbook/close", "/manager/audit"} <= urls


@pytest.mark.parametrize("username", ["op_a", "agg", "collab"])
def test_every_manager_route_answers_403_to_other_roles(net, app, client, login, username):
    login(username)
    token = _page_token(client)
    before = _counts()
    for method, url in _manager_routes(app):
        if method == "GET":
            response = client.get(url)
        else:
            response = client.post(url, data={"csrf_token": token, "name": "X", "offtaker": "1", "counted": "0",
                                              "business_date": local_today().isoformat(), "category": "PET-CLEAN",
                                              "quantity": "1", "reason": "coba", "w-PET-CLEAN": "1",
                                              "p-PET-CLEAN": "1", "action": "save",
                                              "idempotency_key": "matrix-key-01"})
        assert response.status_code == 403, (username, method, url, response.status_code)
    assert _counts() == before


def test_admin_sees_only_the_audit_log_and_anonymous_must_log_in(net, app, client, login):
    for method, url in _manager_routes(app):
        if method == "GET":
            response = client.get(url)
            assert response.status_code == 302 and "/login" in response.location, url
    login("admin")
    for method, url in _manager_routes(app):
        if method != "GET":
            continue
        response = client.get(url)
        if url == "/manager/":
            assert response.status_code == 302 and response.location.endswith("/manager/audit")
        # admins: any unit's prices
        elif url in ("/manager/audit", "/manager/audit.csv") or url.startswith("/manager/prices"):
            assert response.status_code == 200, url
        else:
            assert response.status_code == 403, url
    page = client.get("/manager/audit").get_data(as_text=True)
    assert "RW05" in page and "RW07" in page and 'data-action="user.create"' in page
    only_b = client.get("/manager/audit?unit=RW07").get_data(as_text=True)
    assert "mgr_a" not in only_b
    assert client.get("/manager/audit?unit=NOPE").status_code == 404


def _stock_up(net):
    """PET-CLEAN 10 kg (Rp 32.500) and CARDBOARD 20 kg (Rp 40.000) at RW05."""
    for code, qty, key in (("PET-CLEAN", "10", "scr-dep-01"), ("CARDBOARD", "20", "scr-dep-02")):
        run_in_transaction(lambda: record_deposit(net.unit_a, net.members_a[0], [LineInput(code, qty)],
                                                  operator_id=None, idempotency_key=key))


def _key(html):
    return re.search(r'name="idempotency_key" type="hidden" value="([0-9a-f]+)"', html).group(1)


def test_manager_sells_closes_the_day_and_reads_the_audit_log(net, client, login):
    _stock_up(net)
    login("mgr_a")
    assert client.get("/manager/").status_code == 200
    stock = client.get("/manager/stock").get_data(as_text=True)
    assert "10 kg" in stock and "Rp 32.500" in stock and 'id="stock-total">Rp 72.500<' in stock
    assert "Rp 3.250/kg" in stock

    # Register an off-taker.
    page = client.get("/manager/offtakers").get_data(as_text=True)
    saved = client.post("/manager/offtakers", data={"csrf_token": csrf_token(page), "name": "CV Maju Daur",
                                                    "kind": "pengepul", "phone": "0812", "address": "Jl. A"},
                        headers={"User-Agent": "TabletPengurus/1.0"})
    assert saved.status_code == 302
    buyer = db.session.scalars(select(Offtaker)).one()

    # New sale: review (nothing written) → save → sale page.
    form = client.get("/manager/sales/new").get_data(as_text=True)
    assert 'name="p-PET-CLEAN"' in form and 'value="4500"' in form  # sell price prefilled
    token, key = csrf_token(form), _key(form)
    data = {"csrf_token": token, "idempotency_key": key, "offtaker": str(buyer.id), "payment": "cash",
            "w-PET-CLEAN": "10", "a-PET-CLEAN": "9,5", "p-PET-CLEAN": "4.500",
            "w-CARDBOARD": "", "a-CARDBOARD": "", "p-CARDBOARD": "2600", "note": ""}
    review = client.post("/manager/sales/new", data={**data, "action": "review"})
    text = review.get_data(as_text=True)
    assert review.status_code == 200
    # 9,5 kg × 4.500 = 42.750; cost of 10 kg = 32.500 (all of it); shrinkage 0,5 kg = 1.625;
    # margin = 42.750 − (32.500 − 1.625) = 11.875
    assert 'id="confirm-total">Rp 42.750<' in text and 'id="confirm-shrinkage">Rp 1.625<' in text
    assert 'id="confirm-margin">Rp 11.875<' in text
    assert db.session.scalar(select(func.count(Sale.id))) == 0
    first = client.post("/manager/sales/new", data={**data, "action": "save"})
    second = client.post("/manager/sales/new", data={**data, "action": "save"})  # double tap
    assert first.status_code == second.status_code == 302 and first.location == second.location
    assert db.session.scalar(select(func.count(Sale.id))) == 1
    sale = db.session.scalars(select(Sale)).one()
    page = client.get(first.location).get_data(as_text=True)
    assert 'id="sale-margin">Rp 11.875<' in page and "0,5 kg" in page
    pdf = client.get(f"/manager/sales/{sale.sale_no}.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    note = PdfReader(io.BytesIO(pdf.data)).pages[0].extract_text()
    assert sale.sale_no in note and "CV Maju Daur" in note and "Rp 42.750" in note and "9,5 kg" in note
    assert "Rp 42.750" in client.get("/manager/sales").get_data(as_text=True)

    # Selling more than in stock is refused on screen and writes nothing.
    form = client.get("/manager/sales/new").get_data(as_text=True)
    over = client.post("/manager/sales/new", data={"csrf_token": csrf_token(form), "idempotency_key": _key(form),
                                                   "offtaker": str(buyer.id), "payment": "cash",
                                                   "w-CARDBOARD": "20,5", "p-CARDBOARD": "2600", "action": "save"})
    assert over.status_code == 409 and "20,5 kg" in over.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Sale.id))) == 1

    # Stock adjustment: write off 1 kg of cardboard at 2.000/kg.
    adjust = client.get("/manager/stock/adjust?category=CARDBOARD").get_data(as_text=True)
    done = client.post("/manager/stock/adjust", data={"csrf_token": csrf_token(adjust), "idempotency_key": _key(adjust),
                                                      "category": "CARDBOARD", "direction": "out", "quantity": "1",
                                                      "reason": "basah kena hujan"})
    assert done.status_code == 302
    too_much = client.post("/manager/stock/adjust", data={"csrf_token": csrf_token(adjust),
                                                          "idempotency_key": "another-key-01", "category": "CARDBOARD",
                                                          "direction": "out", "quantity": "50", "reason": "hilang"})
    assert too_much.status_code == 422 and "19 kg" in too_much.get_data(as_text=True)
    assert system_account(net.unit_a.id, "stock_writeoff").balance == 1625 + 2000

    # Cash book and close: expected Rp 42.750, counted Rp 42.000 → −750.
    book = client.get("/manager/cashbook").get_data(as_text=True)
    assert 'id="expected-cash">Rp 42.750<' in book and "Rp 42.750" in book
    closed = client.post("/manager/cashbook/close", data={"csrf_token": csrf_token(book), "counted": "42.000",
                                                          "business_date": local_today().isoformat()})
    assert closed.status_code == 302
    after = client.get(closed.location).get_data(as_text=True)
    assert 'id="day-closed"' in after and "-Rp 750" in after
    # The same close again (her second tap after a lost reply): said as done, nothing written.
    again = client.post("/manager/cashbook/close", data={"csrf_token": csrf_token(book), "counted": "42.000",
                                                         "business_date": local_today().isoformat()})
    assert again.status_code == 302
    assert "sudah ditutup: Anda menutupnya pukul" in client.get(again.location).get_data(as_text=True)
    other = client.post("/manager/cashbook/close", data={"csrf_token": csrf_token(book), "counted": "41.000",
                                                         "business_date": local_today().isoformat()})
    assert other.status_code == 409 and 'role="alert"' in other.get_data(as_text=True)
    assert db.session.scalar(select(func.count(DayClose.id))) == 1
    assert system_account(net.unit_a.id, "cash").balance == 42000

    # The audit log shows the unit's rows with the device of the request, not other units'.
    audit = client.get("/manager/audit").get_data(as_text=True)
    assert all(f'data-action="{a}"' in audit for a in ("sale.record", "day.close", "stock.adjust"))
    row = db.session.scalars(select(AuditLog).where(AuditLog.action == "offtaker.create")).one()
    assert row.device == "TabletPengurus/1.0 @ 127.0.0.1"
    assert "op_b" not in audit


def _inputs(html: str, prefix: str) -> dict[str, str]:
    """The values of the sale form's ``<prefix>-<CODE>`` inputs: code → value."""
    return dict(re.findall(rf'name="{prefix}-([^"]+)"[^>]*?value="([^"]*)"', html))


def test_change_on_the_check_step_shows_the_empty_lines_priced_like_a_fresh_form(net, client, login):
    """"Ubah" on the check step: the line typed comes back as typed, and every other line in
    stock shows the category's price in force, as a fresh form does (they came back blank)."""
    from wastebank.services.catalog import set_price
    from wastebank.services.sales import create_offtaker

    _stock_up(net)
    # Today's sell price of cardboard (from Rp 2.600): the form shows the price in force.
    run_in_transaction(lambda: set_price(net.unit_a.id, net.categories["CARDBOARD"], 2000, 2700, local_today(),
                                         net.users["mgr_a"].id))
    buyer = run_in_transaction(lambda: create_offtaker(net.unit_a, "CV Maju Daur"))
    db.session.commit()
    login("mgr_a")
    fresh = client.get("/manager/sales/new").get_data(as_text=True)
    assert _inputs(fresh, "p") == {"PET-CLEAN": "4500", "CARDBOARD": "2700"}
    data = {"csrf_token": csrf_token(fresh), "idempotency_key": _key(fresh), "offtaker": str(buyer.id),
            "payment": "cash", "note": "", "w-PET-CLEAN": "10", "a-PET-CLEAN": "9,5", "p-PET-CLEAN": "4.400",
            "w-CARDBOARD": "", "a-CARDBOARD": "", "p-CARDBOARD": "2700", "action": "review"}
    check = client.post("/manager/sales/new", data=data).get_data(as_text=True)
    assert 'id="confirm-total">Rp 41.800<' in check  # 9,5 kg × 4.400
    # What the check page's form posts with "Ubah": its own hidden fields (the typed line only).
    confirm = check[check.index('id="confirm-form"'):check.index("</form>", check.index('id="confirm-form"'))]
    posted = {}
    for tag in re.findall(r"<input [^>]*>", confirm):
        name, value = re.search(r'name="([^"]+)"', tag), re.search(r'value="([^"]*)"', tag)
        posted[name.group(1)] = value.group(1) if value else ""
    assert "p-CARDBOARD" not in posted and posted["p-PET-CLEAN"] == "4.400"
    assert posted["idempotency_key"] == data["idempotency_key"]
    edit = client.post("/manager/sales/new", data={**posted, "action": "edit"})
    text = edit.get_data(as_text=True)
    assert edit.status_code == 200 and 'id="sale-form"' in text
    assert _inputs(text, "p") == {"PET-CLEAN": "4.400", "CARDBOARD": "2700"}
    assert _inputs(text, "w") == {"PET-CLEAN": "10", "CARDBOARD": ""}
    assert _inputs(text, "a") == {"PET-CLEAN": "9,5", "CARDBOARD": ""}
    assert _key(text) == data["idempotency_key"]
    assert db.session.scalar(select(func.count(Sale.id))) == 0


def test_unit_b_manager_gets_404_for_unit_a_sale(net, client, login):
    _stock_up(net)
    from wastebank.models import User
    from wastebank.services.sales import SaleLineInput, create_offtaker, record_sale
    mgr = db.session.get(User, net.users["mgr_a"].id)
    buyer = run_in_transaction(lambda: create_offtaker(net.unit_a, "CV Maju Daur"))
    sale = run_in_transaction(lambda: record_sale(net.unit_a, buyer, [SaleLineInput("PET-CLEAN", "1", "", "4500")],
                                                  "cash", user=mgr, idempotency_key="b404-sale-01"))
    run_in_transaction(lambda: create_user("mgr_b", "unit_manager", PASSWORD, unit=net.unit_b))
    login("mgr_b")
    sale_no = sale.body["sale_no"]
    assert client.get(f"/manager/sales/{sale_no}").status_code == 404
    assert client.get(f"/manager/sales/{sale_no}.pdf").status_code == 404
    assert sale_no not in client.get("/manager/sales").get_data(as_text=True)
    assert "CV Maju Daur" not in client.get("/manager/offtakers").get_data(as_text=True)
    assert 'data-action="sale.record"' not in client.get("/manager/audit").get_data(as_text=True)
    # Unit A's off-taker cannot be used for a unit B sale.
    form = client.get("/manager/sales/new").get_data(as_text=True)
    refused = client.post("/manager/sales/new", data={"csrf_token": csrf_token(form), "idempotency_key": _key(form),
                                                      "offtaker": str(buyer.id), "payment": "cash", "action": "save"})
    assert refused.status_code == 404
    assert db.session.scalar(select(func.count(Sale.id))) == 1
