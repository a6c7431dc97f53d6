"""Containers and tare (issue 12 item 5, docs/tare.md): gross − tare = net, the net is priced
and credited; tare ≥ gross, non-kg lines and another unit's containers are refused."""
import pytest
from sqlalchemy import func, select

from wastebank.extensions import db
from wastebank.models import AuditLog, Container, Deposit, DepositLine, IdempotencyRecord
from wastebank.services.containers import add_container, find_container, update_container
from wastebank.services.deposits import LineInput, record_deposit
from wastebank.services.errors import Conflict, IdempotencyConflict, ValidationFailed
from wastebank.services.ledger import member_savings_account
from wastebank.services.transaction import run_in_transaction


def _containers(net):
    def make():
        sack = add_container(net.unit_a.id, "Karung", "200", user_id=net.users["mgr_a"].id)
        basket = add_container(net.unit_a.id, "Keranjang", "1,25 kg", user_id=net.users["mgr_a"].id)
        other = add_container(net.unit_b.id, "Karung B", "300", user_id=None)
        return sack.id, basket.id, other.id
    return run_in_transaction(make)


def _record(net, lines, key, member=None):
    return run_in_transaction(lambda: record_deposit(
        net.unit_a, member or net.members_a[0], lines, operator_id=net.users["op_a"].id, idempotency_key=key))


def _count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def test_gross_tare_net_stored_and_net_credited(net):
    sack, _basket, _other = _containers(net)
    outcome = _record(net, [LineInput("PET-CLEAN", None, container="karung", gross="1,700"),
                            LineInput("CARDBOARD", "2")], "tare-key-0001")
    assert outcome.body["credited_idr"] == 4875 + 4000
    first, second = outcome.body["lines"]
    assert (first["gross_milli"], first["tare_milli"], first["quantity_milli"], first["container"],
            first["amount_idr"]) == (1700, 200, 1500, "Karung", 4875)
    assert (second["gross_milli"], second["tare_milli"], second["quantity_milli"], second["container"]) == (
        2000, 0, 2000, None)
    rows = list(db.session.scalars(select(DepositLine).order_by(DepositLine.id)))
    assert [(r.gross_milli, r.tare_milli, r.quantity_milli, r.container_id, r.container_name) for r in rows] == [
        (1700, 200, 1500, sack, "Karung"), (2000, 0, 2000, None, None)]
    assert member_savings_account(net.members_a[0]).balance == 8875


def test_container_by_id_and_replay_with_same_key(net):
    sack, _basket, _other = _containers(net)
    first = _record(net, [LineInput("PET-CLEAN", None, container=sack, gross="1.7")], "tare-key-0002")
    again = _record(net, [LineInput("PET-CLEAN", None, container="Karung", gross="1,700 kg")], "tare-key-0002")
    assert again.replayed and again.body == first.body
    assert _count(Deposit) == 1
    # Same key, another container or another gross: another request.
    with pytest.raises(IdempotencyConflict):
        _record(net, [LineInput("PET-CLEAN", None, container="Keranjang", gross="1,7")], "tare-key-0002")
    with pytest.raises(IdempotencyConflict):
        _record(net, [LineInput("PET-CLEAN", "1,7")], "tare-key-0002")
    assert _count(Deposit) == 1 and member_savings_account(net.members_a[0]).balance == 4875


@pytest.mark.parametrize("gross", ["0,2", "0,150", "200 g"])
def test_tare_not_less_than_gross_is_refused_and_nothing_written(net, gross):
    _containers(net)
    with pytest.raises(ValidationFailed) as err:
        _record(net, [LineInput("PET-CLEAN", None, container="Karung", gross=gross)], "tare-key-0003")
    code, message = err.value.errors["lines.0.gross"]
    assert code == "tare_not_less"
    assert "Karung" in str(message) and "0,2 kg" in str(message)
    assert (_count(Deposit), _count(DepositLine), _count(IdempotencyRecord)) == (0, 0, 0)
    assert member_savings_account(net.members_a[0]).balance == 0


def test_other_units_or_inactive_container_is_refused(net):
    sack, _basket, other = _containers(net)
    for i, ref in enumerate((other, "Karung B", "Ember")):
        with pytest.raises(ValidationFailed) as err:
            _record(net, [LineInput("PET-CLEAN", None, container=ref, gross="2")], f"tare-key-other-{i}")
        assert err.value.errors["lines.0.container"][0] == "unknown_container"
    container = db.session.get(Container, sack)
    run_in_transaction(lambda: update_container(container, "Karung", "200", False, user_id=None))
    assert find_container(net.unit_a.id, "karung") is None
    with pytest.raises(ValidationFailed):
        _record(net, [LineInput("PET-CLEAN", None, container=sack, gross="2")], "tare-key-0004")
    assert _count(Deposit) == 0


def test_tare_only_for_kg_and_gross_needed(net):
    _containers(net)
    with pytest.raises(ValidationFailed) as err:
        _record(net, [LineInput("UCO", None, container="Karung", gross="3")], "tare-key-0005")
    assert err.value.errors["lines.0.container"][0] == "tare_not_kg"
    with pytest.raises(ValidationFailed) as err:
        _record(net, [LineInput("PET-CLEAN", "2", container="Karung")], "tare-key-0006")
    assert err.value.errors["lines.0.gross"][0] == "gross_required"
    with pytest.raises(ValidationFailed) as err:
        _record(net, [LineInput("PET-CLEAN", "2", container="Karung", gross="2")], "tare-key-0007")
    assert err.value.errors["lines.0.gross"][0] == "quantity_and_gross"
    assert _count(Deposit) == 0


def test_gross_without_container_is_the_quantity(net):
    first = _record(net, [LineInput("PET-CLEAN", None, gross="1,5")], "tare-key-0008")
    again = _record(net, [LineInput("PET-CLEAN", "1.5")], "tare-key-0008")
    assert again.replayed
    line = first.body["lines"][0]
    got = (line["gross_milli"], line["tare_milli"], line["quantity_milli"], line["amount_idr"])
    assert got == (1500, 0, 1500, 4875)


def test_container_rules_and_audit(net):
    _containers(net)
    with pytest.raises(Conflict):
        run_in_transaction(lambda: add_container(net.unit_a.id, "karung", "100", user_id=None))
    for bad in ("", "0", "-5", "51 kg", "abc"):
        with pytest.raises(ValidationFailed) as err:
            run_in_transaction(lambda bad=bad: add_container(net.unit_a.id, "Ember", bad, user_id=None))
        assert "tare_g" in err.value.errors
    # the unit B "Karung B" is not a duplicate for unit A's name space
    run_in_transaction(lambda: add_container(net.unit_a.id, "Karung B", "300", user_id=None))
    sack = find_container(net.unit_a.id, "KARUNG")
    assert sack.tare_g == 200 and find_container(net.unit_a.id, "keranjang").tare_g == 1250
    actions = list(db.session.scalars(select(AuditLog.action).where(AuditLog.object_type == "container")))
    assert actions.count("container.create") == 4


# --- the receipt, the counter screens and the API -------------------------------------------

import io  # noqa: E402

import pypdf  # noqa: E402

from .conftest import bearer, csrf_token  # noqa: E402


def _pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages)


def _tare_deposit(net):
    _containers(net)
    return _record(net, [LineInput("PET-CLEAN", None, container="Karung", gross="1,7"),
                         LineInput("CARDBOARD", "2")], "tare-receipt-1")


@pytest.mark.parametrize("size", ["roll", "A6"])
def test_receipt_pdf_shows_gross_tare_net(net, client, login, size):
    outcome = _tare_deposit(net)
    db.session.commit()
    login("op_a")
    response = client.get(f"/counter/receipt/{outcome.body['receipt_no']}.pdf?size={size}")
    assert response.status_code == 200
    text = " ".join(_pdf_text(response.data).split())
    assert "bruto 1,7 kg − Karung 0,2 kg = 1,5 kg" in text
    assert "1,5 kg × Rp 3.250/kg" in text and "Rp 4.875" in text
    assert "2 kg × Rp 2.000/kg" in text
    assert text.count("bruto") == 1  # the line without a container has no tare text


def test_receipt_page_and_the_58mm_roll(net, client, login):
    outcome = _tare_deposit(net)
    db.session.commit()
    login("op_a")
    page = client.get(f"/counter/receipt/{outcome.body['receipt_no']}").get_data(as_text=True)
    assert "bruto 1,7 kg − Karung 0,2 kg = 1,5 kg" in page
    assert "Rp 8.875" in page
    from wastebank.counter.views import receipt_data
    from wastebank.documents.receipt import render_receipt
    deposit = db.session.scalars(select(Deposit)).one()
    text = " ".join(_pdf_text(render_receipt(receipt_data(deposit, copy=False, locale="id"), "58")).split())
    assert "bruto 1,7 kg − Karung 0,2 kg = 1,5 kg" in text


def test_counter_form_with_a_container(net, client, login):
    sack, _basket, other = _containers(net)
    db.session.commit()
    login("op_a")
    member_no = net.members_a[0].member_no
    url = f"/counter/member/{member_no}/deposit"
    page = client.get(url).get_data(as_text=True)
    assert f'value="{sack}" data-tare="200"' in page and "Karung −0,2 kg" in page
    assert "Karung B" not in page  # another unit's container is not offered
    token = csrf_token(page)
    form = {"csrf_token": token, "idempotency_key": "form-tare-0001", "lines-0-category": "PET-CLEAN",
            "lines-0-quantity": "0,2", "lines-0-container": str(sack), "action": "review"}
    refused = client.post(url, data=form)
    assert refused.status_code == 422
    assert "Berat Karung 0,2 kg, sama dengan atau lebih dari bruto 0,2 kg" in refused.get_data(as_text=True)
    form["lines-0-container"] = str(other)
    assert "Wadah ini tidak dikenal di unit ini." in client.post(url, data=form).get_data(as_text=True)
    form.update({"lines-0-quantity": "1,7", "lines-0-container": str(sack)})
    review = client.post(url, data=form)
    assert review.status_code == 200
    html = review.get_data(as_text=True)
    assert "bruto 1,7 kg − Karung 0,2 kg = 1,5 kg" in html and "Rp 4.875" in html
    form.update({"action": "save", "expected_credited": "4875"})
    saved = client.post(url, data=form)
    assert saved.status_code == 302
    line = db.session.scalars(select(DepositLine)).one()
    assert (line.gross_milli, line.tare_milli, line.quantity_milli, line.amount_idr) == (1700, 200, 1500, 4875)
    assert member_savings_account(net.members_a[0]).balance == 4875


def test_api_deposit_with_container_and_snapshot(net, client, tokens):
    sack, _basket, other = _containers(net)
    db.session.commit()
    snap = client.get("/api/v1/counter/snapshot", headers=bearer(tokens["op_a"])).get_json()
    assert snap["containers"] == [{"id": sack, "name": "Karung", "tare_g": 200},
                                  {"id": _basket, "name": "Keranjang", "tare_g": 1250}]
    member_no = net.members_a[0].member_no
    body = {"member": member_no, "lines": [{"category": "PET-CLEAN", "gross": "1,7", "container": "karung"}]}
    headers = {**bearer(tokens["op_a"]), "Idempotency-Key": "api-tare-0001"}
    first = client.post("/api/v1/deposits", json=body, headers=headers)
    assert first.status_code == 201, first.get_json()
    line = first.get_json()["lines"][0]
    assert (line["gross_milli"], line["tare_milli"], line["quantity_milli"], line["container"], line["amount_idr"]) == (
        1700, 200, 1500, "Karung", 4875)
    assert first.get_json()["credited_idr"] == 4875
    # The same key, the container by id and the gross as a number: a replay.
    again = client.post("/api/v1/deposits", headers=headers,
                        json={"member": member_no,
                              "lines": [{"category": "PET-CLEAN", "gross": 1.7, "container": sack}]})
    assert again.status_code == 201 and again.get_json() == first.get_json()
    assert again.headers.get("Idempotent-Replayed") == "true"
    # Another unit's container; tare ≥ gross; quantity and gross both: 422, nothing written.
    cases = [({"category": "PET-CLEAN", "gross": "2", "container": other}, "unknown_container", "lines.0.container"),
             ({"category": "PET-CLEAN", "gross": "0,2", "container": sack}, "tare_not_less", "lines.0.gross"),
             ({"category": "PET-CLEAN", "gross": "2", "quantity": "2", "container": sack}, "quantity_and_gross",
              "lines.0.gross"),
             ({"category": "UCO", "gross": "2", "container": sack}, "tare_not_kg", "lines.0.container")]
    for i, (line_body, code, field) in enumerate(cases):
        response = client.post("/api/v1/deposits", json={"member": member_no, "lines": [line_body]},
                               headers={**bearer(tokens["op_a"]), "Idempotency-Key": f"api-tare-bad-{i}"})
        assert response.status_code == 422, response.get_json()
        error = response.get_json()["error"]
        assert (error["code"], error["field"]) == (code, field), error
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Deposit)) == 1
    assert member_savings_account(net.members_a[0]).balance == 4875


def test_manager_screen_adds_changes_and_scopes(net, client, login):
    _sack, _basket, other = _containers(net)
    db.session.commit()
    login("mgr_a")
    page = client.get("/manager/containers")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Wadah (tara)" in html and "Karung" in html and "Karung B" not in html
    token = csrf_token(html)
    added = client.post("/manager/containers", data={"csrf_token": token, "name": "Ember", "tare": "0,45 kg",
                                                     "active": "y"})
    assert added.status_code == 302
    ember = find_container(net.unit_a.id, "ember")
    assert ember.tare_g == 450
    bad = client.post("/manager/containers", data={"csrf_token": token, "name": "Ember", "tare": "100", "active": "y"})
    assert bad.status_code == 422 and "Unit ini sudah punya wadah bernama “Ember”." in bad.get_data(as_text=True)
    bad = client.post("/manager/containers", data={"csrf_token": token, "name": "Drum", "tare": "abc", "active": "y"})
    assert bad.status_code == 422
    assert find_container(net.unit_a.id, "drum") is None
    # Take it out of use (checkbox unticked), and another unit's container is 404.
    saved = client.post(f"/manager/containers/{ember.id}", data={"csrf_token": token, "name": "Ember", "tare": "450"})
    assert saved.status_code == 302
    db.session.expire_all()
    assert find_container(net.unit_a.id, "ember") is None
    assert client.post(f"/manager/containers/{other}", data={"csrf_token": token, "name": "X", "tare": "1",
                                                             "active": "y"}).status_code == 404
    assert db.session.get(Container, other).name == "Karung B"
    actions = [a for a in db.session.scalars(select(AuditLog.action).where(AuditLog.object_type == "container"))]
    assert actions.count("container.update") == 1


def test_operators_do_not_manage_containers(net, client, login):
    login("op_a")
    assert client.get("/manager/containers").status_code == 403
