"""Six rough edges a tester found on a tablet, fixed and checked at 800×1280 and 1280×800
(screenshots ``test-artifacts/ui-edge-<n>-<w>x<h>.png``; nothing wider than the screen, every
control at least 44×44 px):

1. after a deposit is saved (kept on the tablet, sent, or refused) "← Batal" is gone and
   "Nasabah berikutnya" is the next step;
2. the members list's "Cetak kartu nasabah yang dipilih" stays on screen while the list scrolls,
   with how many are ticked;
3. a member number never wraps in the members table;
4. links on the members list and in a member's movements are the app's green, not the browser's
   blue, and 44×44 px tap targets;
5. a long category name is readable in full in a deposit line's category select;
6. the queue shows a capture time as the printed receipt does ("29-11-2026 14.05 WIB", in the
   unit's zone whatever the tablet's own zone is).
"""
from __future__ import annotations

import re
from datetime import datetime

import pytest
from sqlalchemy import select

from wastebank.extensions import db
from wastebank.models import Deposit, User
from wastebank.services.deposits import LineInput, record_deposit
from wastebank.services.members import create_member
from wastebank.services.transaction import run_in_transaction
from wastebank.timeutil import format_local

from .test_browser import ARTIFACTS, browser, log_in, sized_context, sync_api  # noqa: F401  (browser is a fixture)
from .test_browser_screens import _check

pytestmark = pytest.mark.browser
expect = sync_api.expect
expect.set_options(timeout=10_000)

SIZES = [(800, 1280), (1280, 800)]
API = "**/api/v1/deposits"
RECEIPT_TIME = re.compile(r"\d{2}-\d{2}-\d{4} \d{2}\.\d{2} WIB")   # the Indonesian clock: 14.05
DEFAULT_LINK_BLUE = "rgb(0, 0, 238)"


def _shot(page, n: int | str, width: int, height: int, problems: list[str]) -> None:
    """``test-artifacts/ui-edge-<n>-<w>x<h>.png`` and the page's layout problems."""
    problems += _check(page, str(n), width, height, prefix="ui-edge")


def _link_style(locator) -> dict:
    return locator.evaluate("""(a) => { const s = getComputedStyle(a); const r = a.getBoundingClientRect();
        return {color: s.color, decoration: s.textDecorationLine, w: r.width, h: r.height}; }""")


def _assert_app_link(locator) -> None:
    style = _link_style(locator)
    assert style["color"] != DEFAULT_LINK_BLUE and style["decoration"] == "none", style
    assert style["color"] == "rgb(18, 90, 49)", style  # var(--green-dark)
    assert style["w"] >= 44 and style["h"] >= 44, style


# A select shows its chosen option in full when the text is no wider than the box inside its
# padding and the drop-down arrow (Chromium draws the arrow in about 20 px at the end).
SELECT_FITS = """(select) => {
  const s = getComputedStyle(select);
  const canvas = document.createElement('canvas').getContext('2d');
  canvas.font = s.fontWeight + ' ' + s.fontSize + ' ' + s.fontFamily;
  const text = select.options[select.selectedIndex].text;
  const room = select.clientWidth - parseFloat(s.paddingLeft) - parseFloat(s.paddingRight) - 24;
  return {text: text, need: Math.ceil(canvas.measureText(text).width), room: Math.floor(room)};
}"""


def test_counter_cancel_category_select_and_queue_times(browser, live_server, net):
    member_no = net.members_a[0].member_no
    problems: list[str] = []
    for width, height in SIZES:
        # 1280×800 in UTC: the queue still says Jakarta time, as the receipt does.
        zone = "Asia/Jakarta" if width == 800 else "UTC"
        context = browser.new_context(base_url=live_server, locale="id-ID", timezone_id=zone,
                                      viewport={"width": width, "height": height}, has_touch=True,
                                      service_workers="block")
        context.set_default_timeout(20_000)
        page = context.new_page()
        log_in(page, "op_a")
        page.wait_for_url("**/counter")

        # 5. The longest catalogue names, in Indonesian and in English, fit their line's select.
        for locale in ("id", "en"):
            if locale == "en":
                page.goto("/counter")
                page.locator("button.lang", has_text="EN").click()
                page.wait_for_load_state()
            page.goto(f"/counter/member/{member_no}/deposit")
            expect(page.locator("#deposit-form[data-ready='1']")).to_be_attached()
            for code in ("HDPE-RIGID", "PET-DIRTY", "TIN-CAN", "FILM"):
                page.locator(f"button.tile[data-code='{code}']").click()
                page.keyboard.type("2")
            for box in page.locator("#lines select.cat").all():
                fit = box.evaluate(SELECT_FITS)
                assert fit["need"] <= fit["room"], (width, locale, fit)
            if locale == "en":
                _shot(page, 5, width, height, problems)
        page.goto("/counter")
        page.locator("button.lang", has_text="ID").click()
        page.wait_for_load_state()

        # 1. The save is kept on the tablet (the request dies): "Batal" is gone, the next member
        # is the way on; once it is sent later, still no "Batal".
        dropped = {"n": 0}

        def drop_first(route):
            dropped["n"] += 1
            if dropped["n"] == 1:
                route.abort("connectionreset")
            else:
                route.continue_()

        page.route(API, drop_first)
        page.goto(f"/counter/member/{member_no}/deposit")
        expect(page.locator("#deposit-form[data-ready='1']")).to_be_attached()
        back = page.locator("#deposit-back")
        expect(back).to_be_visible()
        page.locator("button.tile[data-code='PET-CLEAN']").click()
        page.keyboard.type("1,5")
        page.click("#review")
        expect(back).to_be_visible()   # checking with the member: nothing saved yet, cancel still possible
        page.click("#save")
        expect(page.locator("#result-panel h2")).to_have_text("Tersimpan di tablet ini")
        expect(back).to_be_hidden()
        expect(page.locator("main >> text=Batal >> visible=true")).to_have_count(0)
        expect(page.locator("#result-next")).to_be_visible()
        expect(page.locator("#result-next")).to_have_text("Nasabah berikutnya")
        _shot(page, "1-kept", width, height, problems)
        expect(page.locator("#result-panel h2")).to_have_text(re.compile(r"^Terkirim: struk "), timeout=20_000)
        expect(back).to_be_hidden()
        _shot(page, 1, width, height, problems)
        page.unroute(API)

        # 6. The queue's time reads as the receipt's, in the unit's zone (not the tablet's).
        items = page.evaluate("() => window.wastebankCounter.store.allItems()")
        synced = [item for item in items if item["state"] == "synced"]
        assert len(synced) == 1, items
        captured = datetime.fromisoformat(synced[0]["captured_at"].replace("Z", "+00:00"))
        receipt_no = synced[0]["response"]["receipt_no"]
        page.goto("/counter")
        row = page.locator(".outbox-item.synced")
        expect(row).to_have_count(1)
        row_time = RECEIPT_TIME.search(row.inner_text())
        assert row_time, row.inner_text()
        assert row_time.group(0) == format_local(captured), (row.inner_text(), captured)
        assert not re.search(r"\d{2}/\d{2}/\d{4}", row.inner_text()), row.inner_text()
        _shot(page, 6, width, height, problems)
        page.goto(f"/counter/receipt/{receipt_no}")
        receipt_time = RECEIPT_TIME.search(page.locator("main p.muted").first.inner_text())
        assert receipt_time, page.locator("main p.muted").first.inner_text()
        # The receipt's time is the capture time (docs/rules.md §documents), the queue's.
        weighed = db.session.scalar(select(Deposit.recorded_at).where(Deposit.receipt_no == receipt_no))
        db.session.close()
        assert receipt_time.group(0) == format_local(weighed) == format_local(captured)

        # 1 again. A save the server answers at once opens the receipt: no "Batal" there either.
        page.goto(f"/counter/member/{member_no}/deposit")
        expect(page.locator("#deposit-form[data-ready='1']")).to_be_attached()
        page.locator("button.tile[data-code='CARDBOARD']").click()
        page.keyboard.type("2")
        page.click("#review")
        page.click("#save")
        page.wait_for_url(re.compile(r"/counter/receipt/.*\?new=1"))
        expect(page.locator("main >> text=Batal >> visible=true")).to_have_count(0)
        expect(page.get_by_role("link", name="Nasabah berikutnya")).to_be_visible()

        # 4. The member's movements (mutasi): receipt links in the app's green, big enough to tap.
        page.goto(f"/counter/member/{member_no}")
        links = page.locator("table.list td a")
        assert links.count() >= 2
        for i in range(links.count()):
            _assert_app_link(links.nth(i))
        _shot(page, 4, width, height, problems)
        context.close()
    assert problems == [], "\n".join(problems)


@pytest.fixture
def many_members(net):
    """RW05 with 40 more members (each with a live card), one long-named, and a deposit for the
    first so the member page has movements."""
    mgr = db.session.get(User, net.users["mgr_a"].id)
    names = [f"Nasabah Uji {i:02d}" for i in range(40)]
    names[3] = "Raden Ajeng Siti Nurhaliza Kusumawardhani Prawiranegara"
    for i, name in enumerate(names):
        run_in_transaction(lambda: create_member(net.unit_a, name, phone=f"08123456{i:04d}", rt="03", rw="05",
                                                 user_id=mgr.id))
    run_in_transaction(lambda: record_deposit(net.unit_a, net.members_a[0], [LineInput("PET-CLEAN", "2")],
                                              operator_id=mgr.id, idempotency_key="ui-edges-dep-01"))
    db.session.commit()


def test_members_list_bar_numbers_and_links(browser, many_members, live_server, net):
    problems: list[str] = []
    for width, height in SIZES:
        context = sized_context(browser, live_server, width, height)
        page = context.new_page()
        log_in(page, "mgr_a")
        page.goto("/members/")
        count = page.locator("#selection-count")
        expect(count).to_have_text("Belum ada nasabah yang dipilih")
        boxes = page.locator("#members input[name=member_id]")
        assert boxes.count() >= 40
        bar_button = page.get_by_role("button", name="Cetak kartu nasabah yang dipilih")

        def in_view() -> bool:
            box = bar_button.bounding_box()
            return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= height

        # 2. At the top of the page the print button is on screen (the list runs past the bottom) ...
        page.evaluate("() => window.scrollTo(0, 0)")
        assert page.evaluate("() => document.documentElement.scrollHeight") > height + 400
        assert in_view(), bar_button.bounding_box()
        boxes.nth(0).check()
        boxes.nth(1).check()
        expect(count).to_have_text("2 nasabah dipilih")
        _shot(page, 2, width, height, problems)
        # ... and in the middle of the list and at its last row, without scrolling to find it.
        boxes.nth(20).scroll_into_view_if_needed()
        boxes.nth(20).check()
        expect(count).to_have_text("3 nasabah dipilih")
        assert in_view(), bar_button.bounding_box()
        page.screenshot(path=str(ARTIFACTS / f"ui-edge-2-scrolled-{width}x{height}.png"))  # the screen, not the page
        boxes.last.scroll_into_view_if_needed()
        assert in_view(), bar_button.bounding_box()
        # The bar covers no row: the last box is above it, and tapping through works.
        last, bar = boxes.last.bounding_box(), page.locator("#selection-bar").bounding_box()
        assert last["y"] + last["height"] <= bar["y"] + 1, (last, bar)
        boxes.last.check()
        expect(count).to_have_text("4 nasabah dipilih")
        page.evaluate("() => window.scrollTo(0, 0)")
        assert in_view(), bar_button.bounding_box()
        bar_button.click()
        page.wait_for_url("**/members/cards?**")
        expect(page.locator("#sheet-summary")).to_contain_text("4 kartu di lembar ini")
        page.go_back()
        page.wait_for_load_state()

        # 3. Every member number is one line, and the page still fits.
        page.goto("/members/")
        lines = page.locator("#members td.no a").evaluate_all("""(links) => links.map((a) => {
            const range = document.createRange(); range.selectNodeContents(a);
            const tops = new Set(Array.from(range.getClientRects()).map((r) => Math.round(r.top)));
            return {no: a.textContent.trim(), lines: tops.size,
                    wrap: getComputedStyle(a.closest('td')).whiteSpace}; })""")
        assert len(lines) >= 40
        assert all(x["lines"] == 1 and x["wrap"] == "nowrap" for x in lines), [x for x in lines if x["lines"] != 1]
        # 4. ... and is a link in the app's green, not the browser's blue, 44×44 px.
        for i in (0, 3, 39):
            _assert_app_link(page.locator("#members td.no a").nth(i))
        page.evaluate("() => window.scrollTo(0, 0)")
        _shot(page, 3, width, height, problems)

        # 4. The member page's way back is a button like the rest of the app's.
        member_no = net.members_a[0].member_no
        page.goto(f"/members/{member_no}")
        back = page.get_by_role("link", name="← Semua nasabah")
        expect(back).to_have_class(re.compile(r"\bbutton\b"))
        assert page.locator("main a:not([class])").evaluate_all(
            "(links) => links.filter((a) => getComputedStyle(a).color === 'rgb(0, 0, 238)').length") == 0
        problems += _check(page, "4-member", width, height, prefix="ui-edge")
        context.close()

    # The members list on a phone too: the bar and the stacked rows fit.
    context = sized_context(browser, live_server, 390, 844)
    page = context.new_page()
    log_in(page, "mgr_a")
    page.goto("/members/")
    problems += _check(page, "2-phone", 390, 844, prefix="ui-edge")
    context.close()
    assert problems == [], "\n".join(problems)
