"""Member registry screens: create, edit, deactivate/reactivate, search (name, number, phone),
phone normalisation, scope (another unit's members are never found), and a revoked card at the
counter and in the API."""
from __future__ import annotations

import json
import uuid

import pytest
from sqlalchemy import func, select

from wastebank.auth.tokens import create_token
from wastebank.extensions import db
from wastebank.models import Deposit, Member
from wastebank.services.errors import DomainError
from wastebank.services.members import (card_url, issue_card, live_card, normalise_phone, search_registry,
                                        update_member)

from .conftest import csrf_token


@pytest.mark.parametrize("typed", ["0812-3456-7890", "+62 812 3456 7890", "6281234567890",
                                   "(0812) 3456 7890", "81234567890"])
def test_phone_normalised_to_e164(app, typed):
    assert normalise_phone(typed) == "+6281234567890"


@pytest.mark.parametrize("typed", ["12345", "abc", "+1 415 555 0100", "0812-3456-7890-1234"])
def test_bad_phone_refused(app, typed):
    with pytest.raises(DomainError) as caught:
        normalise_phone(typed)
    assert caught.value.field == "phone" and caught.value.code == "invalid_phone"


def test_empty_phone_is_allowed(app):
    assert normalise_phone("  ") == ""


def _form(client, url):
    return csrf_token(client.get(url).get_data(as_text=True))


def test_create_member_through_the_screen(client, login, net):
    login("op_a")
    token = _form(client, "/members/new")
    bad = client.post("/members/new", data={"csrf_token": token, "name": "Ani", "kind": "household",
                                            "phone": "12345"})
    assert bad.status_code == 422
    # The UI is Indonesian by default: "Not a valid Indonesian phone number, e.g. 0812-3456-7890."
    assert "Bukan nomor telepon Indonesia yang valid" in bad.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Member.id)).where(Member.name == "Ani")) == 0
    empty = client.post("/members/new", data={"csrf_token": token, "name": "  ", "kind": "person"})
    assert empty.status_code == 422
    ok = client.post("/members/new", data={"csrf_token": token, "name": " Ani  Lestari ", "kind": "household",
                                           "phone": "0812 1111 2222", "address": "Jl. Melati 9", "rt": "003",
                                           "rw": "05"})
    assert ok.status_code == 302
    member = db.session.scalars(select(Member).where(Member.name == "Ani Lestari")).one()
    assert member.unit_id == net.unit_a.id and member.kind == "household"
    assert member.phone == "+6281211112222" and member.member_no == "RW05-0004"
    assert live_card(member) is not None
    page = client.get(ok.headers["Location"])
    assert page.status_code == 200 and "Ani Lestari" in page.get_data(as_text=True)


def test_edit_deactivate_reactivate_never_deletes(client, login, net):
    member = net.members_a[1]
    login("mgr_a")
    url = f"/members/{member.member_no}"
    token = _form(client, url + "/edit")
    response = client.post(url + "/edit", data={"csrf_token": token, "name": "Joko Susilo Widodo",
                                                 "kind": "person", "phone": "+62 811 222 3333"})
    assert response.status_code == 302
    db.session.expire_all()
    assert member.name == "Joko Susilo Widodo" and member.phone == "+628112223333"
    assert client.post(url + "/active", data={"csrf_token": token, "active": "0"}).status_code == 302
    db.session.expire_all()
    assert member.active is False
    assert db.session.get(Member, member.id) is not None
    # The counter refuses a deposit for a deactivated member, with the clear message.
    find = client.get("/counter", query_string={"q": member.member_no})
    # UI in Indonesian: "This member is deactivated; reactivate them first."
    assert "Nasabah ini nonaktif" in find.get_data(as_text=True)
    assert client.post(url + "/active", data={"csrf_token": token, "active": "1"}).status_code == 302
    db.session.expire_all()
    assert member.active is True


def test_update_member_refuses_bad_kind(app, net):
    with pytest.raises(DomainError):
        update_member(net.members_a[0], name="Siti", kind="robot")


def test_search_by_name_number_and_phone(app, net):
    member = net.members_a[0]
    update_member(member, name=member.name, phone="0812-9999-0001")
    db.session.commit()
    unit = net.unit_a.id
    assert [m.id for m in search_registry(unit, "aminah")] == [member.id]
    assert [m.id for m in search_registry(unit, member.member_no.lower())] == [member.id]
    assert [m.id for m in search_registry(unit, "0812 9999")] == [member.id]
    assert [m.id for m in search_registry(unit, "+62812-9999-0001")] == [member.id]
    assert search_registry(unit, "Rina") == []  # unit B's member
    assert len(search_registry(unit, "")) == 3


def test_list_page_searches_and_stays_in_unit(client, login, net):
    login("op_a")
    page = client.get("/members", query_string={"q": "a"}).get_data(as_text=True)
    assert "Siti Aminah" in page and "Rina Wati" not in page and "Agus Salim" not in page


@pytest.mark.parametrize("user,status", [("op_a", 200), ("mgr_a", 200), ("op_b", 404), ("agg", 403),
                                         ("collab", 403), ("admin", 403)])
def test_member_page_scope(client, login, net, user, status):
    member_no = net.members_a[0].member_no
    login(user)
    assert client.get(f"/members/{member_no}").status_code == status


def test_anonymous_is_sent_to_login(client, net):
    response = client.get("/members")
    assert response.status_code in (302, 401)


def test_import_and_settings_are_for_managers_only(client, login, net):
    login("op_a")
    assert client.get("/members/import").status_code == 403
    token = _form(client, "/members")
    assert client.post("/members/settings", data={"csrf_token": token, "require_pin": "y"}).status_code == 403
    db.session.expire_all()
    assert net.unit_a.require_pin is False


def test_member_of_unit_a_is_never_found_from_unit_b_counter(client, login, net):
    member = net.members_a[0]
    url = card_url(live_card(member).token)
    login("op_b")
    for query in (member.member_no, live_card(member).token, url, "Siti"):
        response = client.get("/counter", query_string={"q": query})
        assert response.status_code == 200, query  # no redirect to a deposit screen
        assert "Siti Aminah" not in response.get_data(as_text=True)
    assert client.get(f"/counter/member/{member.member_no}/deposit").status_code == 404


def test_scanned_card_url_opens_the_deposit_screen_and_revoked_card_is_refused(client, login, net):
    member = net.members_a[0]
    old_url = card_url(live_card(member).token)
    login("op_a")
    response = client.get("/counter", query_string={"q": old_url})
    assert response.status_code == 302 and response.headers["Location"].endswith(
        f"/counter/member/{member.member_no}/deposit")
    issue_card(member)
    db.session.commit()
    refused = client.get("/counter", query_string={"q": old_url})
    assert refused.status_code == 200
    assert "kartu tidak berlaku" in refused.get_data(as_text=True).lower()


def test_revoked_token_cannot_be_used_in_the_api(client, net):
    member = net.members_a[0]
    old = live_card(member).token
    issue_card(member)
    bearer = create_token(net.users["op_a"], "test")
    db.session.commit()
    response = client.post("/api/v1/deposits", data=json.dumps(
        {"member": old, "lines": [{"category": "PET-CLEAN", "quantity": "1"}]}),
        headers={"Authorization": f"Bearer {bearer}", "Idempotency-Key": str(uuid.uuid4())},
        content_type="application/json")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "card_revoked"
    assert db.session.scalar(select(func.count(Deposit.id))) == 0
