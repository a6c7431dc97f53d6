"""Price list editor (issue 9 item 1): the set_price rules, the bulk update, the screens, scope
and audit, and that the counter uses a new price from its first day and not before."""
import json
import re
import uuid
from datetime import datetime, time, timedelta

import pytest
from sqlalchemy import func, select

from wastebank.extensions import db
from wastebank.models import AuditLog, Deposit, Price, clock_at
from wastebank.services.catalog import (PriceChange, current_prices, price_history, set_price, set_prices,
                                        unit_start_day)
from wastebank.services.deposits import LineInput, record_deposit
from wastebank.services.errors import ValidationFailed
from wastebank.services.org import create_unit
from wastebank.services.transaction import run_in_transaction
from wastebank.timeutil import local_today, local_zone

from .conftest import bearer, csrf_token


def _deposit(net, qty="2", code="PET-CLEAN", member=None, key=None):
    return run_in_transaction(lambda: record_deposit(net.unit_a, member or net.members_a[0], [LineInput(code, qty)],
                                                     operator_id=None, idempotency_key=key or uuid.uuid4().hex))


def _prices_rows(unit_id, code_id):
    return [(p.effective_from, p.buy_price_idr, p.sell_price_idr) for p in price_history(unit_id, code_id)]


# ------------------------------------------------------------------------------------ service

def test_price_from_today_is_used_today_and_saved_lines_keep_theirs(net):
    pet = net.categories["PET-CLEAN"]
    first = _deposit(net)  # 2 kg at Rp 3.250 = Rp 6.500
    assert first.body["total_idr"] == 6500
    run_in_transaction(lambda: set_price(net.unit_a.id, pet, 3600, 4800, None, net.users["mgr_a"].id))
    assert current_prices(net.unit_a.id)[pet.id].buy_price_idr == 3600
    second = _deposit(net)
    assert second.body["total_idr"] == 7200 and second.body["lines"][0]["unit_price_idr"] == 3600
    deposits = db.session.scalars(select(Deposit).order_by(Deposit.id)).all()
    assert [d.lines[0].unit_price_idr for d in deposits] == [3250, 3600]  # C04: the first line unchanged
    assert [d.total_idr for d in deposits] == [6500, 7200]


def test_future_price_is_not_used_before_its_day(net):
    pet = net.categories["PET-CLEAN"]
    today = local_today()
    run_in_transaction(lambda: set_price(net.unit_a.id, pet, 4000, 5000, today + timedelta(days=3),
                                         net.users["mgr_a"].id))
    assert current_prices(net.unit_a.id)[pet.id].buy_price_idr == 3250
    assert _deposit(net).body["total_idr"] == 6500
    later = datetime.combine(today + timedelta(days=3), time(9, 0), tzinfo=local_zone())
    assert current_prices(net.unit_a.id, later.date())[pet.id].buy_price_idr == 4000
    with clock_at(later):
        assert _deposit(net).body["total_idr"] == 8000


def test_past_start_is_refused_when_deposits_were_saved_from_it(net):
    pet = net.categories["PET-CLEAN"]
    yesterday = local_today() - timedelta(days=1)
    with clock_at(datetime.combine(yesterday, time(10, 0), tzinfo=local_zone())):
        _deposit(net)
    before = _prices_rows(net.unit_a.id, pet.id)
    audits = db.session.scalar(select(func.count(AuditLog.id)))
    with pytest.raises(ValidationFailed) as refused:
        run_in_transaction(lambda: set_price(net.unit_a.id, pet, 3900, 4800, yesterday - timedelta(days=2)))
    assert refused.value.code == "price_rewrites_history" and refused.value.field == "effective_from"
    assert "pilih hari ini atau tanggal sesudahnya" in str(refused.value.message)
    assert _prices_rows(net.unit_a.id, pet.id) == before
    assert db.session.scalar(select(func.count(AuditLog.id))) == audits
    # A past start with no deposit of that category from it is accepted (nothing to rewrite).
    cardboard = net.categories["CARDBOARD"]
    run_in_transaction(lambda: set_price(net.unit_a.id, cardboard, 2100, 2700, yesterday))
    assert current_prices(net.unit_a.id, yesterday)[cardboard.id].buy_price_idr == 2100


def test_bad_figures_are_refused(net):
    pet = net.categories["PET-CLEAN"]
    for buy, sell, field in ((0, 10, "buy_price_idr"), (-5, 10, "buy_price_idr"), (100, -1, "sell_price_idr")):
        with pytest.raises(ValidationFailed) as refused:
            set_price(net.unit_a.id, pet, buy, sell)
        assert refused.value.field == field


def test_audit_row_has_before_and_after(net):
    pet = net.categories["PET-CLEAN"]
    mgr = net.users["mgr_a"]
    run_in_transaction(lambda: set_price(net.unit_a.id, pet, 3600, 4800, None, mgr.id))
    row = db.session.scalars(select(AuditLog).where(AuditLog.action == "price.set")
                             .order_by(AuditLog.id.desc())).first()
    details = json.loads(row.details)
    assert (row.unit_id, row.user_id, row.object_id) == (net.unit_a.id, mgr.id, "PET-CLEAN")
    assert details["buy_price_idr"] == 3600 and details["sell_price_idr"] == 4800
    assert details["previous_buy_price_idr"] == 3250 and details["previous_sell_price_idr"] == 4500
    assert details["effective_from"] == local_today().isoformat()


def test_bulk_update_writes_only_changed_rows_all_or_nothing(net):
    pet, cardboard, hvs = (net.categories[c] for c in ("PET-CLEAN", "CARDBOARD", "HVS"))
    hvs_now = current_prices(net.unit_a.id)[hvs.id]
    rows_before = db.session.scalar(select(func.count(Price.id)))
    written = run_in_transaction(lambda: set_prices(net.unit_a.id, [
        PriceChange(pet, 3400, 4600), PriceChange(cardboard, 2000, 2600),  # cardboard unchanged
        PriceChange(hvs, hvs_now.buy_price_idr, hvs_now.sell_price_idr)], None, net.users["mgr_a"].id))
    assert [p.category_id for p in written] == [pet.id]
    assert db.session.scalar(select(func.count(Price.id))) == rows_before + 1
    # One bad row: nothing written.
    with pytest.raises(ValidationFailed) as refused:
        run_in_transaction(lambda: set_prices(net.unit_a.id, [PriceChange(cardboard, 2200, 2800),
                                                              PriceChange(pet, 0, 1)], None))
    assert "PET-CLEAN.buy_price_idr" in refused.value.errors
    assert current_prices(net.unit_a.id)[cardboard.id].buy_price_idr == 2000


def test_first_price_applies_from_the_unit_start(net):
    """An offline capture from before the prices were typed (yesterday, and this morning) finds
    the unit's first price list."""
    today = local_today()
    zone = local_zone()
    with clock_at(datetime.combine(today - timedelta(days=1), time(7, 0), tzinfo=zone)):
        unit = create_unit("RW09", "Bank Sampah Baru RW 09", rw="09")
        from wastebank.services.members import create_member
        member = create_member(unit, "Wati Baru")
    db.session.commit()
    pet = net.categories["PET-CLEAN"]
    with clock_at(datetime.combine(today, time(15, 0), tzinfo=zone)):
        price = run_in_transaction(lambda: set_price(unit.id, pet, 3000, 4000))  # typed this afternoon
    assert unit_start_day(unit.id) == today - timedelta(days=1)
    assert price.effective_from == today - timedelta(days=1)
    audit = json.loads(db.session.scalars(select(AuditLog).where(AuditLog.action == "price.set",
                                                                 AuditLog.unit_id == unit.id)).one().details)
    assert audit["requested_from"] == today.isoformat()
    with clock_at(datetime.combine(today, time(16, 0), tzinfo=zone)):
        for captured in (datetime.combine(today - timedelta(days=1), time(9, 30), tzinfo=zone),
                         datetime.combine(today, time(8, 15), tzinfo=zone)):
            outcome = run_in_transaction(lambda: record_deposit(unit, member, [LineInput("PET-CLEAN", "1,5")],
                                                                operator_id=None, idempotency_key=uuid.uuid4().hex,
                                                                recorded_at=captured))
            assert outcome.body["total_idr"] == 4500
    # The second price is an ordinary one: from the day it says.
    second = run_in_transaction(lambda: set_price(unit.id, pet, 3200, 4000, today + timedelta(days=1)))
    assert second.effective_from == today + timedelta(days=1)
    # A first price dated in the future stays in the future.
    uco = net.categories["UCO"]
    future = run_in_transaction(lambda: set_price(unit.id, uco, 5000, 6000, today + timedelta(days=5)))
    assert future.effective_from == today + timedelta(days=5)
    assert uco.id not in current_prices(unit.id)


# ------------------------------------------------------------------------------------ screens

def _bulk_data(page: str, **changes) -> dict:
    """The bulk form as the browser would send it, with ``changes`` ({"buy-PET-CLEAN": "3.400"})."""
    data = {"csrf_token": csrf_token(page)}
    for name, value in re.findall(r'name="((?:was|buy|sell)-[A-Z0-9-]+)"[^>]*?value="([^"]*)"', page):
        data[name] = value
    for name, value in re.findall(r'name="((?:buy|sell)-[A-Z0-9-]+)" id="[^"]+"[^>]*?\s+value="([^"]*)"', page,
                                  flags=re.S):
        data[name] = value
    data["effective_from"] = local_today().isoformat()
    data.update(changes)
    return data


def test_manager_sees_and_changes_prices_and_the_counter_uses_them(net, client, login, tokens):
    login("mgr_a")
    home = client.get("/manager/").get_data(as_text=True)
    assert 'href="/manager/prices"' in home
    page = client.get("/manager/prices").get_data(as_text=True)
    row = re.search(r'<tr id="price-PET-CLEAN">(.*?)</tr>', page, re.S).group(1)
    assert "Rp 3.250/kg" in row and "Rp 4.500/kg" in row and "01-01-2024" in row and "sistem" in row
    data = _bulk_data(page, **{"buy-PET-CLEAN": "3.400", "sell-PET-CLEAN": "4.600"})
    assert data["was-PET-CLEAN"] == "3250:4500" and data["buy-CARDBOARD"] == "2000"
    rows_before = db.session.scalar(select(func.count(Price.id)))
    saved = client.post("/manager/prices", data=data)
    assert saved.status_code == 302, saved.get_data(as_text=True)[:2000]
    assert db.session.scalar(select(func.count(Price.id))) == rows_before + 1  # only the changed row
    listed = client.get("/manager/prices").get_data(as_text=True)
    assert "1 harga disimpan" in listed
    row = re.search(r'<tr id="price-PET-CLEAN">(.*?)</tr>', listed, re.S).group(1)
    assert "Rp 3.400/kg" in row and local_today().strftime("%d-%m-%Y") in row and "Budi Pengurus" in row
    audit = db.session.scalars(select(AuditLog).where(AuditLog.action == "price.set")
                               .order_by(AuditLog.id.desc())).first()
    assert audit.user_id == net.users["mgr_a"].id and json.loads(audit.details)["buy_price_idr"] == 3400
    # The counter's snapshot and the API deposit use it.
    snap = client.get("/api/v1/counter/snapshot", headers=bearer(tokens["op_a"])).get_json()
    pet = next(p for p in snap["prices"] if p["category"] == "PET-CLEAN")
    assert pet["buy_price_idr"] == 3400
    made = client.post("/api/v1/deposits", json={"member": net.members_a[0].member_no,
                                                 "lines": [{"category": "PET-CLEAN", "quantity": "1,5"}]},
                       headers={**bearer(tokens["op_a"]), "Idempotency-Key": "price-screen-01"})
    assert made.status_code == 201 and made.get_json()["total_idr"] == 5100  # 1,5 × 3.400


def test_bulk_form_refuses_bad_rows_and_saves_nothing(net, client, login):
    login("mgr_a")
    page = client.get("/manager/prices").get_data(as_text=True)
    rows_before = db.session.scalar(select(func.count(Price.id)))
    bad = client.post("/manager/prices", data=_bulk_data(page, **{"buy-PET-CLEAN": "3.400", "buy-CARDBOARD": "dua"}))
    text = bad.get_data(as_text=True)
    assert bad.status_code == 422 and "Tidak ada yang disimpan" in text
    assert 'value="dua"' in text and 'value="3.400"' in text  # what was typed is kept
    emptied = client.post("/manager/prices", data=_bulk_data(page, **{"buy-PET-CLEAN": ""}))
    assert emptied.status_code == 422
    bad_day = client.post("/manager/prices", data=_bulk_data(page, **{"buy-PET-CLEAN": "3400",
                                                                      "effective_from": "2026-02-30"}))
    assert bad_day.status_code == 422
    assert db.session.scalar(select(func.count(Price.id))) == rows_before


def test_history_page_sets_future_and_refuses_a_rewriting_past_date(net, client, login):
    _deposit(net)  # saved today
    login("mgr_a")
    page = client.get("/manager/prices/PET-CLEAN").get_data(as_text=True)
    assert 'value="3250"' in page and "Berlaku" in page
    future = local_today() + timedelta(days=7)
    saved = client.post("/manager/prices/PET-CLEAN", data={
        "csrf_token": csrf_token(page), "buy": "3.700", "sell": "4.900", "effective_from": future.isoformat()})
    assert saved.status_code == 302
    history = client.get("/manager/prices/PET-CLEAN").get_data(as_text=True)
    table = history.split('id="price-history"')[1]
    assert future.strftime("%d-%m-%Y") in table and "Rp 3.700" in table and "Akan berlaku" in table
    assert current_prices(net.unit_a.id)[net.categories["PET-CLEAN"].id].buy_price_idr == 3250
    past = local_today() - timedelta(days=3)
    refused = client.post("/manager/prices/PET-CLEAN", data={
        "csrf_token": csrf_token(page), "buy": "3000", "sell": "4000", "effective_from": past.isoformat()})
    assert refused.status_code == 422
    assert "Setoran Botol PET bening bersih sudah tersimpan" in refused.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Price.id)).where(Price.effective_from == past)) == 0
    client.post("/lang/en", data={"csrf_token": csrf_token(page)})
    english = client.post("/manager/prices/PET-CLEAN", data={
        "csrf_token": csrf_token(page), "buy": "3000", "sell": "4000", "effective_from": past.isoformat()})
    assert "choose today or a later date" in english.get_data(as_text=True)


def test_scope_other_units_and_roles(net, client, login):
    login("mgr_a")
    token = csrf_token(client.get("/manager/prices").get_data(as_text=True))
    assert client.get("/manager/prices?unit=RW07").status_code == 404
    assert client.get("/manager/prices/PET-CLEAN?unit=RW07").status_code == 404
    pet = net.categories["PET-CLEAN"]
    b_before = _prices_rows(net.unit_b.id, pet.id)
    assert client.post("/manager/prices?unit=RW07", data={"csrf_token": token, "buy-PET-CLEAN": "9999",
                                                          "was-PET-CLEAN": ""}).status_code == 404
    assert client.post("/manager/prices/PET-CLEAN?unit=RW07",
                       data={"csrf_token": token, "buy": "9999"}).status_code == 404
    assert client.get("/manager/prices/NOPE").status_code == 404
    assert _prices_rows(net.unit_b.id, pet.id) == b_before
    for username in ("op_a", "op_b", "agg", "collab"):
        client.post("/logout", data={"csrf_token": token})
        login(username)
        token = csrf_token(client.get("/", follow_redirects=True).get_data(as_text=True))
        assert client.get("/manager/prices").status_code == 403, username
        assert client.post("/manager/prices/PET-CLEAN", data={"csrf_token": token, "buy": "1"}).status_code == 403
    assert current_prices(net.unit_a.id)[pet.id].buy_price_idr == 3250


def test_admin_chooses_a_unit(net, client, login):
    login("admin")
    first = client.get("/manager/prices").get_data(as_text=True)
    assert "Bank Sampah Melati RW 05" in first and '<option value="RW07"' in first
    page = client.get("/manager/prices?unit=RW07").get_data(as_text=True)
    assert "Bank Sampah Mawar RW 07" in page
    assert client.get("/manager/prices?unit=NOPE").status_code == 404
    saved = client.post("/manager/prices?unit=RW07", data=_bulk_data(page, **{"buy-PET-CLEAN": "3.900"}))
    assert saved.status_code == 302 and saved.location.endswith("/manager/prices?unit=RW07")
    pet = net.categories["PET-CLEAN"]
    assert current_prices(net.unit_b.id)[pet.id].buy_price_idr == 3900
    assert current_prices(net.unit_a.id)[pet.id].buy_price_idr == 3250
    row = db.session.scalars(select(AuditLog).where(AuditLog.action == "price.set")
                             .order_by(AuditLog.id.desc())).first()
    assert row.unit_id == net.unit_b.id and row.user_id == net.users["admin"].id


def test_cli_goes_through_the_same_rules(net, app):
    _deposit(net)
    runner = app.test_cli_runner()
    past = (local_today() - timedelta(days=2)).isoformat()
    refused = runner.invoke(args=["price", "set", "RW05", "PET-CLEAN", "3000", "--sell", "4000", "--from", past])
    assert refused.exit_code == 1 and "Setoran Botol PET bening bersih sudah tersimpan" in refused.output
    ok = runner.invoke(args=["price", "set", "RW05", "PET-CLEAN", "3.500", "--sell", "4.700"])
    assert ok.exit_code == 0, ok.output
    assert current_prices(net.unit_a.id)[net.categories["PET-CLEAN"].id].buy_price_idr == 3500
    audit = db.session.scalars(select(AuditLog).where(AuditLog.action == "price.set")
                               .order_by(AuditLog.id.desc())).first()
    assert audit.device == "cli" and json.loads(audit.details)["previous_buy_price_idr"] == 3250


def test_a_future_price_set_on_the_screen_waits_for_its_day_at_the_counter(net, client, login, tokens):
    login("mgr_a")
    page = client.get("/manager/prices").get_data(as_text=True)
    monday = local_today() + timedelta(days=2)
    saved = client.post("/manager/prices", data=_bulk_data(page, effective_from=monday.isoformat(),
                                                            **{"buy-PET-CLEAN": "3.900"}))
    assert saved.status_code == 302
    listed = client.get("/manager/prices").get_data(as_text=True)
    row = re.search(r'<tr id="price-PET-CLEAN">.*?</tr>\s*<tr class="upcoming">(.*?)</tr>', listed, re.S).group(1)
    assert monday.strftime("%d-%m-%Y") in row and "Rp 3.900" in row
    # Today the counter still pays Rp 3.250: the deposit page's tile, the snapshot, a deposit.
    deposit_page = client.get(f"/counter/member/{net.members_a[0].member_no}/deposit").get_data(as_text=True)
    tile = re.search(r'data-code="PET-CLEAN">(.*?)</button>', deposit_page, re.S).group(1)
    assert "Rp 3.250/kg" in tile
    snap = client.get("/api/v1/counter/snapshot", headers=bearer(tokens["op_a"])).get_json()
    assert next(p for p in snap["prices"] if p["category"] == "PET-CLEAN")["buy_price_idr"] == 3250
    upcoming = next(p for p in snap["upcoming_prices"] if p["category"] == "PET-CLEAN")
    assert (upcoming["buy_price_idr"], upcoming["effective_from"]) == (3900, monday.isoformat())
    made = client.post("/api/v1/deposits", json={"member": net.members_a[0].member_no,
                                                 "lines": [{"category": "PET-CLEAN", "quantity": "2"}]},
                       headers={**bearer(tokens["op_a"]), "Idempotency-Key": "price-future-01"})
    assert made.get_json()["total_idr"] == 6500
    # On that day (an offline capture from Monday morning) it pays Rp 3.900.
    captured = datetime.combine(monday, time(8, 30), tzinfo=local_zone())
    with clock_at(captured + timedelta(hours=1)):
        later = client.post("/api/v1/deposits", json={"member": net.members_a[0].member_no,
                                                      "lines": [{"category": "PET-CLEAN", "quantity": "2"}],
                                                      "recorded_at": captured.isoformat()},
                            headers={**bearer(tokens["op_a"]), "Idempotency-Key": "price-future-02"})
    assert later.status_code == 201, later.get_json()
    assert later.get_json()["total_idr"] == 7800
