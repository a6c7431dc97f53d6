"""A card counts as printed only when the manager says so (docs/rules.md §cards).

The card sheet screen (``GET /members/cards``) and its PDF (``GET /members/cards.pdf``) change
nothing, however often they are opened; ``POST /members/cards/printed`` marks exactly the cards
of the signed sheet it names: of the user's unit, live, not yet marked, with one set-based
UPDATE filtered by ``unit_id``, one audit row, in one transaction. A second confirmation
changes nothing and says so.
"""
from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import func, select

from wastebank.extensions import db
from wastebank.members.documents import sheet_token
from wastebank.models import AuditLog, Member, MemberCard
from wastebank.services.members import live_card, revoke_card

from .conftest import csrf_token
from .test_tenant_keys import _logged, _unfiltered


def _screen(client, query) -> str:
    page = client.get("/members/cards", query_string=query)
    assert page.status_code == 200, page.status_code
    return page.get_data(as_text=True)


def _sheet(html: str) -> str:
    return re.search(r'name="sheet" value="([^"]+)"', html).group(1)


def _pdf_link(html: str) -> str:
    return re.search(r'id="sheet-download" href="([^"]+)"', html).group(1).replace("&amp;", "&")


def _confirm(client, html: str, sheet: str | None = None):
    return client.post("/members/cards/printed", data={"csrf_token": csrf_token(html),
                                                       "sheet": sheet if sheet is not None else _sheet(html)})


def _printed(members) -> list[bool]:
    db.session.rollback()
    return [db.session.scalar(select(MemberCard.printed_at).where(
        MemberCard.unit_id == m.unit_id, MemberCard.member_id == m.id, MemberCard.revoked_at.is_(None))) is not None
        for m in members]


def _confirm_audits() -> list[AuditLog]:
    db.session.rollback()
    return list(db.session.scalars(select(AuditLog).where(AuditLog.action == "card.print_confirm")
                                   .order_by(AuditLog.id)))


def _ids(members) -> list[str]:
    return [str(m.id) for m in members]


def test_opening_the_screen_and_downloading_the_pdf_marks_nothing(client, login, net):
    login("mgr_a")
    for _ in range(2):
        html = _screen(client, {"scope": "unprinted"})
        pdf = client.get(_pdf_link(html))
        assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
        assert pdf.headers["Cache-Control"] == "no-store"
    # The screen names the cards by member number and name, not by id.
    for member in net.members_a:
        assert member.member_no in html and member.name in html
    assert "3 kartu di lembar ini, urut nomor nasabah; 3 belum ditandai dicetak." in html
    assert "Tandai kartu ini sudah dicetak (3 kartu)" in html
    assert _printed(net.members_a) == [False, False, False]
    assert _confirm_audits() == []
    # The sheet's PDF is a GET: a POST is not how it is made any more.
    assert client.post(_pdf_link(html)).status_code == 405


def test_confirm_marks_exactly_the_sheets_cards_in_one_filtered_update(client, login, net):
    login("mgr_a")
    chosen = net.members_a[:2]
    html = _screen(client, {"member_id": _ids(chosen)})
    assert "Tandai kartu ini sudah dicetak (2 kartu)" in html
    assert client.get(_pdf_link(html)).status_code == 200
    with _logged() as statements:
        done = _confirm(client, html)
    assert done.status_code == 302 and "/members/cards?sheet=" in done.headers["Location"]
    assert _printed(net.members_a) == [True, True, False]
    assert _printed(net.members_b) == [False] * len(net.members_b)
    updates = [sql for sql in statements if sql.upper().startswith("UPDATE MEMBER_CARD")]
    assert len(updates) == 1 and "unit_id" in updates[0]  # one set-based statement
    assert _unfiltered(statements) == [], "\n".join(_unfiltered(statements))
    [row] = _confirm_audits()
    cards = {live_card(m).id for m in chosen}
    assert row.unit_id == net.unit_a.id and row.user_id == net.users["mgr_a"].id
    assert set(json.loads(row.details)["card_ids"]) == cards
    after = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "2 kartu ditandai sudah dicetak." in after
    assert "Semua kartu di lembar ini sudah ditandai dicetak." in after
    assert after.count("dicetak ") >= 2 and "belum dicetak</td>" not in after


def test_second_confirm_changes_nothing_and_says_so(client, login, net):
    login("op_a")
    html = _screen(client, {"scope": "unprinted"})
    assert _confirm(client, html).status_code == 302
    first = db.session.scalars(select(MemberCard.printed_at).where(
        MemberCard.unit_id == net.unit_a.id).order_by(MemberCard.id)).all()
    again = _confirm(client, html)  # the same form sent again (a double tap, the back button)
    assert again.status_code == 302
    db.session.rollback()
    assert db.session.scalars(select(MemberCard.printed_at).where(
        MemberCard.unit_id == net.unit_a.id).order_by(MemberCard.id)).all() == first
    assert len(_confirm_audits()) == 1
    text = client.get(again.headers["Location"]).get_data(as_text=True)
    assert "Tidak ada yang berubah: kartu di lembar ini sudah ditandai dicetak sebelumnya." in text


def test_another_units_cards_are_never_marked(client, login, net, app):
    login("op_b")
    sheet_b = _sheet(_screen(client, {"scope": "unprinted"}))
    client.post("/logout", data={"csrf_token": csrf_token(client.get("/members").get_data(as_text=True))})
    login("op_a")
    html = _screen(client, {"scope": "unprinted"})
    # Unit B's own (signed) sheet, sent by unit A: refused, nothing marked.
    refused = _confirm(client, html, sheet=sheet_b)
    assert refused.status_code == 400
    assert "Lembar kartu ini tidak berlaku di sini." in refused.get_data(as_text=True)
    assert client.get("/members/cards", query_string={"sheet": sheet_b}).status_code == 400
    assert client.get("/members/cards.pdf", query_string={"sheet": sheet_b}).status_code == 400
    # A tampered sheet: refused.
    assert _confirm(client, html, sheet=_sheet(html)[:-3] + "AAA").status_code == 400
    # A sheet of unit A that names unit B's cards (as if the list were forged): they are ignored.
    b_cards = [live_card(m).id for m in net.members_b]
    with app.test_request_context():
        mixed = sheet_token(net.unit_a.id, [*b_cards, live_card(net.members_a[0]).id])
    assert _confirm(client, html, sheet=mixed).status_code == 302
    assert _printed(net.members_b) == [False] * len(net.members_b)
    assert _printed(net.members_a) == [True, False, False]
    # Another unit's member ids in a selection are ignored too.
    selection = _screen(client, {"member_id": _ids(net.members_b) + _ids(net.members_a[1:2])})
    assert "Tandai kartu ini sudah dicetak (1 kartu)" in selection
    assert net.members_b[0].member_no not in selection


def test_a_card_revoked_after_the_sheet_was_opened_is_not_marked(client, login, net):
    login("mgr_a")
    html = _screen(client, {"scope": "unprinted"})
    lost = net.members_a[1]
    old_card = live_card(lost).id
    revoke_card(db.session.get(Member, lost.id))
    db.session.commit()
    done = _confirm(client, html)
    assert done.status_code == 302
    assert db.session.get(MemberCard, old_card).printed_at is None
    assert _printed([net.members_a[0], net.members_a[2]]) == [True, True]
    text = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "2 kartu ditandai sudah dicetak; 1 kartu lain di lembar ini" in text
    assert json.loads(_confirm_audits()[0].details)["sheet_cards"] == 3


@pytest.mark.parametrize("username", ["agg", "collab"])
def test_users_without_the_permission_get_403(client, login, net, app, username):
    with app.test_request_context():
        sheet = sheet_token(net.unit_a.id, [live_card(m).id for m in net.members_a])
    login(username)
    token = csrf_token(client.get("/", follow_redirects=True).get_data(as_text=True))
    assert client.get("/members/cards", query_string={"scope": "unprinted"}).status_code == 403
    assert client.get("/members/cards.pdf", query_string={"sheet": sheet}).status_code == 403
    response = client.post("/members/cards/printed", data={"csrf_token": token, "sheet": sheet})
    assert response.status_code == 403
    assert _printed(net.members_a) == [False, False, False]
    assert db.session.scalar(select(func.count()).select_from(AuditLog)
                             .where(AuditLog.action == "card.print_confirm")) == 0


def test_anonymous_is_sent_to_log_in_and_nothing_is_marked(client, net):
    response = client.post("/members/cards/printed", data={"sheet": "x"})
    assert response.status_code in (302, 400)
    assert _printed(net.members_a) == [False, False, False]
