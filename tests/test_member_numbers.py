"""Issue 10 item 3: one member-number alphabet (docs/member-numbers.md).

Numbers outside the rule are refused at import (row-numbered, translated) and at creation;
every route that takes a member number — found in the URL map, not listed by hand — reaches a
member whose number sits at the edges of the rule. SQLite and PostgreSQL (DATABASE_URL).
"""
from __future__ import annotations

import re

import pytest
from flask import url_for
from sqlalchemy import func, select

from wastebank.extensions import db
from wastebank.models import Member
from wastebank.services.errors import DomainError
from wastebank.services.members import clean_member_no, create_member, is_valid_member_no

from .conftest import bearer, csrf_token
from .test_import import upload

# The edges: shortest, one of each symbol next to the ends, longest, every character of the
# alphabet, and words that are route names elsewhere once they carry a digit.
EDGE_NUMBERS = ["0", "Z9", "A-0", "9.Z", "A.-.0", "0" * 30, "Z" * 29 + "9",
                "0123456789-.ABCDEFGHIJKLMNOPQR", "STUVWXYZ-1", "NEW1", "IMPORT.2", "CARDS.PDF3", "1.PDF"]
BAD_NUMBERS = ["XS/0099", "A B1", "A_1", "-A1", "A1-", ".1", "1.", "..", "NEW", "CARDS.PDF", "A?1", "A#1",
               "A%2F1", "Ä1", "１２", "0" * 31, "A1\u200b", "A\x001"]


@pytest.mark.parametrize("number", EDGE_NUMBERS)
def test_the_rule_accepts_the_edges(number):
    assert is_valid_member_no(number)
    assert clean_member_no(f"  {number.lower()} ") == number


@pytest.mark.parametrize("number", BAD_NUMBERS)
def test_the_rule_refuses_the_rest(app, number):
    assert not is_valid_member_no(number.upper())
    with pytest.raises(DomainError) as refused:
        clean_member_no(number)
    assert refused.value.code == "invalid_member_no" and refused.value.field == "member_no"


def test_creation_refuses_a_bad_number_and_writes_nothing(net):
    before = db.session.scalar(select(func.count(Member.id)))
    with pytest.raises(DomainError, match="hanya boleh berisi huruf"):
        create_member(net.unit_a, "Sari Dewi", member_no="XS/0099")
    db.session.rollback()
    assert db.session.scalar(select(func.count(Member.id))) == before


def test_import_refuses_a_slash_with_the_row_number_in_both_languages(client, login, net):
    csv = ("name,member_no\n"
           "Sari Dewi,XS-0098\n"
           "Tono Wijaya,XS/0099\n").encode()
    before = db.session.scalar(select(func.count(Member.id)))
    db.session.rollback()
    login("mgr_a")
    html = upload(client, csv, "buku.csv").get_data(as_text=True)
    assert re.search(r"Row 3: [^<]*XS/0099[^<]*may only have letters, digits", html), html[-3000:]
    assert "Row 2:" not in html
    assert "/members/import/confirm" not in html
    with client.session_transaction() as session:
        session["lang"] = "id"
    token = csrf_token(client.get("/members/import").get_data(as_text=True))
    html = client.post("/members/import", data={"csrf_token": token, "file": (__import__("io").BytesIO(csv), "b.csv")},
                       content_type="multipart/form-data").get_data(as_text=True)
    assert re.search(r"Baris 3: [^<]*XS/0099[^<]*hanya boleh", html), html[-3000:]
    assert db.session.scalar(select(func.count(Member.id))) == before


def _member_rules(app):
    return sorted((rule for rule in app.url_map.iter_rules() if "member_no" in rule.arguments),
                  key=lambda rule: rule.rule)


# What each route answers for an existing member when called bare (no or empty form): any of
# these, never 404 or 5xx.
FINE = {200, 302, 400, 422}


def test_every_route_taking_a_member_number_reaches_every_number_the_rule_allows(app, client, login, net, tokens):
    members = [create_member(net.unit_a, f"Tepi {i}", member_no=number) for i, number in enumerate(EDGE_NUMBERS)]
    db.session.commit()
    numbers = [m.member_no for m in members]
    assert numbers == EDGE_NUMBERS
    rules = _member_rules(app)
    # The routes this test knows it covers; a new one shows up here and must be looked at.
    assert {rule.endpoint for rule in rules} == {
        "api.get_member", "counter.member", "counter.deposit", "counter.withdraw",
        "members.show", "members.edit", "members.set_active", "members.card_revoke",
        "members.card_reissue", "members.pin", "members.statement"}
    login("mgr_a")
    token = csrf_token(client.get("/members/new").get_data(as_text=True))
    seen = set()
    for rule in rules:
        for number in numbers:
            with app.test_request_context():
                url = url_for(rule.endpoint, member_no=number)
            assert url.count("/") == rule.rule.count("/"), url  # one path segment
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                if rule.endpoint.startswith("api."):
                    response = client.open(url, method=method, headers=bearer(tokens["mgr_a"]))
                else:
                    response = client.open(url, method=method, data={"csrf_token": token} if method == "POST" else None)
                assert response.status_code in FINE, (rule.endpoint, method, number, response.status_code)
                if method == "GET" and response.status_code == 200:
                    body = response.get_data()
                    if response.mimetype == "application/json":
                        assert response.get_json()["member_no"] == number
                    elif response.mimetype == "text/html":
                        assert number.encode() in body, (rule.endpoint, number)
                seen.add((rule.endpoint, method))
    assert len(seen) == 14  # 11 routes, 3 of them with GET and POST


def test_a_member_imported_before_the_rule_is_listed_and_renumbered_back_into_reach(app, client, login, net):
    from wastebank.models import AuditLog
    from wastebank.services.members import live_card

    legacy = create_member(net.unit_a, "Warga Lama")
    legacy.member_no = "XS/0099"  # as an import before the rule stored it
    db.session.commit()
    card_token = live_card(legacy).token
    run = app.test_cli_runner().invoke
    listed = run(args=["member", "bad-numbers"])
    assert listed.exit_code == 0 and listed.output == "RW05\tXS/0099\tWarga Lama\n"
    taken = run(args=["member", "renumber", "RW05", "XS/0099", net.members_a[0].member_no])
    assert taken.exit_code == 1 and "sudah dipakai" in taken.output
    bad = run(args=["member", "renumber", "RW05", "XS/0099", "XS/0100"])
    assert bad.exit_code == 1 and "hanya boleh" in bad.output
    done = run(args=["member", "renumber", "RW05", "XS/0099", "xs-0099"])
    assert done.exit_code == 0 and done.output == "member XS/0099 is now XS-0099\n", done.output
    assert run(args=["member", "bad-numbers"]).output == ""
    row = db.session.scalars(select(AuditLog).where(AuditLog.action == "member.renumber")).one()
    assert "XS/0099" in row.details and "XS-0099" in row.details
    login("op_a")
    assert client.get("/members/XS-0099").status_code == 200
    assert client.get("/counter/member/XS-0099").status_code == 200
    # The printed card still finds the member.
    from wastebank.services.members import find_member
    assert find_member(net.unit_a.id, card_token).member_no == "XS-0099"
