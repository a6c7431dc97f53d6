"""The card sheet at scale (issue 13 item 6): the cards come with their members in one
statement (not one lazy load per card), and "every unprinted card" prints at most
``MAX_SHEET_CARDS`` per sheet, so 5,000 unprinted cards answer with the first sheet instead of
running past gunicorn's timeout; printing again gives the next sheet."""
from __future__ import annotations

import re
import secrets

import pytest
from contextlib import contextmanager

from pypdf import PdfReader
from io import BytesIO
from sqlalchemy import event, insert, select

from wastebank.extensions import db
from wastebank.members.documents import card_sheet_pdf
from wastebank.members.views import MAX_SHEET_CARDS
from wastebank.models import Member, MemberCard
from wastebank.services.members import cards_to_print

from .conftest import csrf_token
from .test_browser import browser, expect, log_in, sized_context  # noqa: F401  (fixture)
from .test_browser_screens import _check


def _bulk_cards(unit, count: int, prefix: str = "BULK") -> None:
    """``count`` active members of ``unit`` with a live, never printed card: two INSERTs."""
    db.session.execute(insert(Member), [
        {"unit_id": unit.id, "member_no": f"{prefix}-{i:05d}", "name": f"Warga Uji {i}"} for i in range(count)])
    ids = db.session.scalars(select(Member.id).where(Member.unit_id == unit.id,
                                                     Member.member_no.like(f"{prefix}-%"))).all()
    db.session.execute(insert(MemberCard), [
        {"unit_id": unit.id, "member_id": member_id, "token": secrets.token_urlsafe(18)} for member_id in ids])
    db.session.commit()


@contextmanager
def _statements():
    """Count the SQL statements sent while the block runs: ``with _statements() as seen: ...``,
    then ``len(seen)``."""
    seen: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_card_sheet_loads_cards_and_members_in_a_bounded_number_of_statements(app, net):
    _bulk_cards(net.unit_a, 60)
    unit_id = net.unit_a.id
    db.session.expunge_all()  # nothing already in the identity map helps
    with app.test_request_context(), _statements() as seen:
        cards = cards_to_print(unit_id, unprinted_only=True)
        pdf = card_sheet_pdf(cards)
    assert len(cards) == 63  # the 60 and unit A's three members
    # Cards with their members (one join), the unit (once): not 1 + 60 + 1.
    assert len(seen) <= 2, seen
    assert len(PdfReader(BytesIO(pdf)).pages) == 7


def test_5000_unprinted_cards_print_in_sheets_of_the_cap(client, login, net):
    """5,000 unprinted cards: the sheet screen and its PDF hold the first 500 by number and mark
    nothing; the confirmation marks those 500 in one UPDATE; then the next sheet starts at 500."""
    _bulk_cards(net.unit_a, 5000)
    total = 5000 + len(net.members_a)
    login("op_a")
    page = client.get("/members")
    html = page.get_data(as_text=True)
    assert f"dari {total} kartu yang belum dicetak" in html
    assert f"({-(-total // MAX_SHEET_CARDS)} lembar seluruhnya)" in html
    screen = client.get("/members/cards?scope=unprinted").get_data(as_text=True)
    assert f"{MAX_SHEET_CARDS} kartu di lembar ini" in screen
    assert f"{total - MAX_SHEET_CARDS} kartu lain belum dicetak" in screen
    link = re.search(r'id="sheet-download" href="([^"]+)"', screen).group(1)
    assert len(link) < 2000  # the 500 ids, signed, fit a URL
    response = client.get(link)
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert len(PdfReader(BytesIO(response.data)).pages) == MAX_SHEET_CARDS // 10

    def printed():
        db.session.rollback()
        return db.session.scalars(select(Member.member_no).join(MemberCard, MemberCard.member_id == Member.id)
                                  .where(Member.unit_id == net.unit_a.id, MemberCard.printed_at.is_not(None))
                                  .order_by(Member.member_no)).all()

    assert printed() == []  # the PDF marked nothing
    sheet = re.search(r'name="sheet" value="([^"]+)"', screen).group(1)
    with _statements() as seen:
        done = client.post("/members/cards/printed", data={"csrf_token": csrf_token(screen), "sheet": sheet})
    assert done.status_code == 302
    updates = [sql for sql in seen if sql.lstrip().upper().startswith("UPDATE MEMBER_CARD")]
    assert len(updates) == 1, updates  # one set-based statement, not one per card
    marked = printed()
    assert len(marked) == MAX_SHEET_CARDS
    assert marked[0] == "BULK-00000" and marked[-1] == f"BULK-{MAX_SHEET_CARDS - 1:05d}"  # by number
    after = client.get(done.headers["Location"]).get_data(as_text=True)
    assert f"Lembar berikutnya: {total - MAX_SHEET_CARDS} kartu belum dicetak" in after
    following = client.get("/members/cards?scope=unprinted").get_data(as_text=True)
    assert re.search(r'<td class="no">([^<]+)</td>', following).group(1) == f"BULK-{MAX_SHEET_CARDS:05d}"


@pytest.mark.browser
def test_members_screen_with_more_unprinted_cards_than_a_sheet_fits(browser, live_server, net):  # noqa: F811
    """Over 500 unprinted cards: the button and its hint fit at 800×1280 and 1280×800 (no
    sideways scroll, 44×44 px taps); screenshots ``test-artifacts/cards-sheets-*.png``."""
    _bulk_cards(net.unit_a, 600)
    db.session.close()
    problems: list[str] = []
    for width, height in [(800, 1280), (1280, 800)]:
        context = sized_context(browser, live_server, width, height)
        page = context.new_page()
        log_in(page, "op_a")
        page.goto("/members/")
        expect(page.get_by_text("(2 lembar seluruhnya)")).to_be_visible()
        problems += _check(page, "sheets", width, height, prefix="cards")
        context.close()
    assert problems == [], problems
