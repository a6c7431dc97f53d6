"""Layout defects a tester found (tester 4), in Chromium:

1. the day close's "Tutup hari" after a lost reply (``route.fetch()`` then ``route.abort()``): the
   resilient form's message sits on its own line above "Ubah" / "Tutup hari" (it was a narrow third
   column beside them, and the buttons were stretched to its height), at 800×1280 and 1280×800;
   the same in another form that is a button row itself (a member's PIN);
2. the cash book at 800×1280: receipt and member numbers and the times stay whole (they broke as
   "RW05-2026-" / "000562" and "06.07" / "WIB"), and the table fits without scrolling sideways;
3. the resident's card page at 390×844: each date of the statement period is whole ("07-12-" / "2026.");
4. the new sale at 1280×800: the category names get a wide column (they wrapped on 3–4 lines in
   ~820 px), and at 800×1280 the stacked lines are as before.

Every page fits the screen with 44×44 px targets. Screenshots: ``test-artifacts/tester4-*.png``.
"""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from wastebank.extensions import db
from wastebank.models import DayClose, Member, User
from wastebank.services.deposits import LineInput, record_deposit
from wastebank.services.members import issue_card
from wastebank.services.sales import SaleLineInput, create_offtaker, record_sale
from wastebank.services.transaction import run_in_transaction
from wastebank.services.withdrawals import WithdrawalInput, record_withdrawal

from .test_browser import browser, log_in, sized_context, sync_api  # noqa: F401  (browser is a fixture)
from .test_browser_screens import _check

pytestmark = pytest.mark.browser
expect = sync_api.expect

SIZES = [(800, 1280), (1280, 800)]
IDS = ["portrait", "landscape"]
NOTE = ".resilient-note[role=alert]"

# The number of line boxes of each element matched by a selector (its text's client rects by
# distinct top), for "this piece stays on one line".
LINES = """(selector) => Array.from(document.querySelectorAll(selector)).map((el) => {
  const range = document.createRange();
  range.selectNodeContents(el);
  const tops = new Set(Array.from(range.getClientRects()).filter((r) => r.width > 0)
                            .map((r) => Math.round(r.top)));
  return {text: el.textContent.trim(), lines: tops.size};
})"""


def _box(page, selector):
    return page.locator(selector).bounding_box()


def _one_line_each(page, selector) -> list[str]:
    pieces = page.evaluate(LINES, selector)
    assert pieces, f"nothing matches {selector}"
    return [f"{p['text']!r} on {p['lines']} lines" for p in pieces if p["lines"] != 1]


def _closes() -> int:
    db.session.rollback()
    count = db.session.scalar(select(func.count(DayClose.id)))
    db.session.close()  # SQLite: no read transaction left open under the live server's writes
    return count


@pytest.fixture
def busy_day(net):
    """RW05 today: a deposit of ten categories (stock for the sale form), cash withdrawals, a cash
    sale to an off-taker with a long name: a cash book of receipt numbers and names as the tester had it."""
    unit, mgr = net.unit_a, db.session.get(User, net.users["mgr_a"].id)
    members = net.members_a
    brought = [LineInput(code, "5") for code in ("PET-CLEAN", "PET-DIRTY", "CAP", "HDPE-RIGID", "FILM", "HVS",
                                                  "DUPLEX", "ALU-CAN", "TIN-CAN")]
    run_in_transaction(lambda: record_deposit(unit, members[0], [LineInput("CARDBOARD", "60"), *brought],
                                              operator_id=net.users["op_a"].id, idempotency_key="tester4-dep-1"))
    buyer = run_in_transaction(lambda: create_offtaker(unit, "UD Maju Jaya Rongsok", user=mgr))
    run_in_transaction(lambda: record_sale(unit, buyer, [SaleLineInput("CARDBOARD", "40", None, "3.000")], "cash",
                                           user=mgr, idempotency_key="tester4-sale-1"))
    db.session.commit()
    operator = db.session.get(User, net.users["op_a"].id)
    for n in range(5):
        member = db.session.get(Member, members[n % len(members)].id)
        run_in_transaction(lambda m=member, n=n: record_withdrawal(
            unit, m, WithdrawalInput("cash", 1_000), user=operator, idempotency_key=f"tester4-wd-{n}"))
    db.session.commit()
    db.session.close()
    return net


@pytest.mark.parametrize("size", SIZES, ids=IDS)
def test_close_lost_reply_message_above_the_buttons_and_cashbook_pieces_whole(browser, live_server, busy_day,
                                                                             size):
    width, height = size
    context = sized_context(browser, live_server, width, height)
    page = context.new_page()
    log_in(page, "mgr_a")
    page.goto("/manager/cashbook")

    # 2. The cash book: numbers with hyphens and the times on one line each; no sideways scroll.
    problems = _one_line_each(page, "#cashbook td.memo .nowrap") + _one_line_each(page, "#cashbook td.time")
    memos = page.locator("#cashbook td.memo").all_inner_texts()  # the text itself unchanged
    assert memos[0].startswith("Penjualan RW05-2026-") and memos[0].endswith(" · UD Maju Jaya Rongsok"), memos
    assert memos[-1].startswith("Penarikan tunai · RW05-2026-"), memos
    assert page.locator("#cashbook td.memo .nowrap").first.inner_text().startswith("RW05-")
    assert page.evaluate("() => { const s = document.querySelector('#cashbook').closest('.table-scroll');"
                         " return s.scrollWidth <= s.clientWidth; }"), "the cash book scrolls sideways"

    page.fill("#counted", "50.000")
    page.click("#check-close")
    expect(page.locator("#confirm-counted")).to_have_text("Rp 50.000")

    # 1. "Tutup hari": the server closes the day, the answer is lost.
    def lost(route):
        if route.request.method == "POST":
            route.fetch()
            route.abort("failed")
        else:
            route.continue_()

    page.route("**/manager/cashbook/close", lost)
    page.click("#confirm-close")
    note = page.locator(f"#close-confirm form {NOTE}")
    expect(note).to_contain_text("Sambungan terputus sebelum jawaban datang.")
    expect(note).to_contain_text("Ketuk “Tutup hari” lagi")
    form, box = _box(page, "#close-confirm form"), _box(page, f"#close-confirm form {NOTE}")
    change, close = _box(page, "#close-confirm form a.button"), _box(page, "#confirm-close")
    # The message spans the form's width, above both buttons; the buttons keep their height.
    assert abs(box["width"] - form["width"]) <= 1, (box, form)
    for button in (change, close):
        assert button["y"] >= box["y"] + box["height"], (box, button)
        assert button["height"] < 80, button
    assert abs(change["y"] - close["y"]) <= 1 and change["x"] < close["x"], (change, close)
    problems += _check(page, "close-lost", width, height, prefix="tester4")

    # Tapped again: said as done, one close.
    page.unroute("**/manager/cashbook/close")
    page.click("#confirm-close")
    expect(page.locator("#day-closed")).to_contain_text("-Rp")
    assert _closes() == 1
    problems += _one_line_each(page, "#cashbook td.memo .nowrap") + _one_line_each(page, "#cashbook td.time")
    problems += _check(page, "cashbook-closed", width, height, prefix="tester4")
    context.close()
    assert problems == [], "\n".join(problems)


def test_pin_row_form_lost_reply_message_above_the_row(browser, live_server, net):
    """The same rule in another form that is a button row itself: a member's PIN at 800×1280."""
    member_no = net.members_a[1].member_no
    context = sized_context(browser, live_server, 800, 1280)
    page = context.new_page()
    log_in(page, "mgr_a")
    page.goto(f"/members/{member_no}")
    form = page.locator(f"form[action$='/{member_no}/pin']")
    page.route(f"**/members/{member_no}/pin",
               lambda route: (route.fetch(), route.abort("failed")) if route.request.method == "POST"
               else route.continue_())
    form.locator("input[name=pin]").fill("4321")
    form.locator("button[value=save]").click()
    note = form.locator(NOTE)
    expect(note).to_contain_text("Sambungan terputus sebelum jawaban datang.")
    box, row = note.bounding_box(), form.bounding_box()
    pin, save = form.locator("input[name=pin]").bounding_box(), form.locator("button[value=save]").bounding_box()
    assert abs(box["width"] - row["width"]) <= 1, (box, row)
    for piece in (pin, save):
        assert piece["y"] >= box["y"] + box["height"], (box, piece)
        assert piece["height"] < 80, piece
    problems = _check(page, "pin-lost", 800, 1280, prefix="tester4")
    context.close()
    assert problems == [], "\n".join(problems)


def test_card_page_period_dates_whole_on_a_phone(browser, live_server, net):
    token = issue_card(net.members_a[0]).token
    db.session.commit()
    db.session.close()
    context = sized_context(browser, live_server, 390, 844)
    page = context.new_page()
    page.goto(f"/c/{token}")
    hint = page.locator("#period-hint")
    expect(hint).to_contain_text("Kosongkan kedua tanggal untuk bulan ini sampai hari ini: ")
    dates = hint.locator("time")
    expect(dates).to_have_count(2)
    assert dates.nth(0).inner_text().startswith("01-"), dates.nth(0).inner_text()
    problems = _one_line_each(page, "#period-hint time")
    problems += _check(page, "card", 390, 844, prefix="tester4")
    context.close()
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize("size", SIZES, ids=IDS)
def test_sale_form_names_have_room_at_1280(browser, live_server, busy_day, size):
    width, height = size
    context = sized_context(browser, live_server, width, height)
    page = context.new_page()
    log_in(page, "mgr_a")
    page.goto("/manager/sales/new")
    main = _box(page, "main")
    names = page.evaluate(LINES, "#sale-lines td.cat")
    assert names, "no sale lines"
    if width == 1280:
        assert main["width"] > 1100, main
        cat = page.locator("#sale-lines td.cat").first.bounding_box()
        assert cat["width"] >= 240, cat
        long = [n for n in names if n["lines"] > 2]
        assert long == [], long
        # "Kaleng besi / kaleng susu" on one line.
        assert all(n["lines"] == 1 for n in names if n["text"].startswith("Kaleng besi")), names
    else:
        assert main["width"] <= 800, main
        # Portrait: the stacked lines as before (the name above its figures, no table header).
        expect(page.locator("#sale-lines thead")).to_be_hidden()
        first = page.locator("#sale-lines tr.sale-line").first
        name, weighed = first.locator("td.cat").bounding_box(), first.locator("input.weighed").bounding_box()
        assert weighed["y"] >= name["y"] + name["height"], (name, weighed)
    problems = _check(page, "sale-form", width, height, prefix="tester4")
    context.close()
    assert problems == [], "\n".join(problems)
