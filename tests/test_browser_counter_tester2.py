"""A second tester's round on the counter tablet (800×1280 and 1280×800), fixed and checked here;
screenshots ``test-artifacts/fix-<letter>-<w>x<h>.png``; nothing wider than the screen, every
control at least 44×44 px:

C. a field error under the last deposit line is fully visible, above the total bar;
D. the queue never mentions a zero count; amber only while something waits: a queue that says
   everything was sent is calm, and a deposit sent later turns the result panel green;
H. on the find page the search comes first: the queue panel is below it, the search box stays
   where it is without a queue;
E. a member served from the tablet's queue (saved offline, not sent yet) is in "Dilayani hari
   ini", marked "belum terkirim", and once sent listed once, without the mark;
F. the provisional slip shows a short "Kode slip" (not the 32-character key), the same code is
   in the queue item, and stays there beside the receipt number once sent;
I. the members list (manager) uses the width of a landscape tablet: "belum dicetak" on one line;
J. at 1280x800 tiles and lines side by side: after each tile tap the tiles and the new line are
   both on screen (portrait keeps one column);
G. buttons, inputs and selects use the page's font (not Arial), and the tiles' names still wrap
   between words inside their tile;
"""
from __future__ import annotations

import re

import pytest

from .test_browser import ARTIFACTS, browser, log_in, operator_tablet, sized_context, sync_api  # noqa: F401  (browser is a fixture)
from .test_browser_outbox import _open_deposit
from .test_browser_screens import _check

pytestmark = pytest.mark.browser
expect = sync_api.expect
expect.set_options(timeout=10_000)

SIZES = [(800, 1280), (1280, 800)]
API = "**/api/v1/deposits"
AMBER, GREEN, LINE = "rgb(201, 162, 39)", "rgb(27, 122, 67)", "rgb(213, 221, 216)"


def _shot(page, letter: str, width: int, height: int, problems: list[str], full_page: bool = True) -> None:
    """``test-artifacts/fix-<letter>-<w>x<h>.png`` and the page's layout problems."""
    problems += _check(page, letter, width, height, prefix="fix")
    if not full_page:  # what the person sees on the screen, over the full page of _check
        page.screenshot(path=str(ARTIFACTS / f"fix-{letter}-{width}x{height}.png"))



# The error's box, its text's last line box, the row it is in and the sticky total bar.
ERROR_BOXES = """(p) => {
  const range = document.createRange(); range.selectNodeContents(p);
  const rects = Array.from(range.getClientRects());
  const row = p.closest('tr').getBoundingClientRect();
  const bar = document.querySelector('.action-bar').getBoundingClientRect();
  return {text_bottom: Math.max(...rects.map((r) => r.bottom)), p_bottom: p.getBoundingClientRect().bottom,
          row_bottom: row.bottom, bar_top: bar.top, lines: new Set(rects.map((r) => Math.round(r.top))).size,
          scroll: p.scrollHeight, client: p.clientHeight};
}"""


def test_error_under_the_last_line_is_fully_visible(browser, live_server, net):
    member_no = net.members_a[0].member_no
    problems: list[str] = []
    for width, height in SIZES:
        context, page = operator_tablet(browser, live_server, width, height)
        _open_deposit(page, member_no)
        for code, weight in (("PET-CLEAN", "1,5"), ("CARDBOARD", "2"), ("PET-DIRTY", "")):
            page.locator(f"button.tile[data-code='{code}']").click()
            page.keyboard.type(weight)
        # As the tester had it: the last line's box just above the sticky total bar (the page not
        # scrolled to its end), then a weight over the line's limit typed into it.
        page.evaluate("""() => {
            const box = document.querySelector('#lines tr.line:last-child input.quantity').getBoundingClientRect();
            const bar = document.querySelector('.action-bar').getBoundingClientRect();
            window.scrollBy(0, box.bottom - (window.innerHeight - bar.height) + 4);
        }""")
        page.keyboard.insert_text("600")
        error = page.locator("#lines tr.line").last.locator("p.error.live")
        expect(error).to_have_text("Terlalu banyak untuk satu baris: paling banyak 500 kg.")
        boxes = error.evaluate(ERROR_BOXES)
        # Inside its row (not under the next divider) and above the sticky total bar.
        assert boxes["text_bottom"] <= boxes["row_bottom"] + 0.5, boxes
        assert boxes["text_bottom"] <= boxes["bar_top"] + 0.5, boxes
        assert boxes["scroll"] <= boxes["client"] + 1, boxes
        _shot(page, "c", width, height, problems, full_page=False)
        context.close()
    assert problems == [], "\n".join(problems)


def _border(locator) -> str:
    return locator.evaluate("(node) => getComputedStyle(node).borderTopColor")


def test_queue_wording_and_colours(browser, live_server, net):
    member_no = net.members_a[0].member_no
    problems: list[str] = []
    for width, height in SIZES:
        context, page = operator_tablet(browser, live_server, width, height)
        hold = {"on": True}  # the link drops every request until released
        _keep_on_tablet(page, member_no, hold)
        result, panel = page.locator("#result-panel"), page.locator("#outbox-panel")
        # Kept on the tablet: amber.
        assert _border(result) == AMBER
        summary = page.locator("#outbox-summary")
        expect(summary).to_have_text("1 menunggu dikirim.")
        assert _border(panel) == AMBER
        page.screenshot(path=str(ARTIFACTS / f"fix-d-kept-{width}x{height}.png"), full_page=True)
        hold["on"] = False
        page.evaluate("() => window.wastebankCounter.sync.kick(0)")
        # Sent: the result is a success (green); the queue that says all was sent is calm.
        expect(result.locator("h2")).to_have_text(re.compile(r"^Terkirim: struk "), timeout=20_000)
        assert _border(result) == GREEN
        expect(summary).to_have_text("Semua yang disimpan di tablet ini sudah terkirim.")
        expect(panel).not_to_contain_text("0 perlu diperbaiki")
        assert _border(panel) == LINE
        _shot(page, "d", width, height, problems)
        page.goto("/counter")
        expect(summary).to_have_text("Semua yang disimpan di tablet ini sudah terkirim.")
        assert _border(panel) == LINE
        context.close()
    assert problems == [], "\n".join(problems)


def test_queue_summary_names_only_what_is_there(browser, live_server, net):
    """One refused and none waiting: "1 perlu diperbaiki.", not "0 menunggu dikirim, …"."""
    member_no = net.members_a[0].member_no
    context, page = operator_tablet(browser, live_server, 800, 1280)
    page.route(API, lambda route: route.fulfill(
        status=422, content_type="application/json",
        body='{"error": {"code": "over_limit", "message": "Terlalu banyak", "field": "lines.0.quantity"}}'))
    _open_deposit(page, member_no)
    page.locator("button.tile[data-code='PET-CLEAN']").click()
    page.keyboard.type("1,5")
    page.click("#review")
    page.click("#save")
    expect(page.locator("#result-panel h2")).to_have_text("Server menolak setoran ini")
    expect(page.locator("#outbox-summary")).to_have_text("1 perlu diperbaiki.")
    assert _border(page.locator("#outbox-panel")) == AMBER
    context.close()


FONTS = """() => {
  const body = getComputedStyle(document.body).fontFamily;
  const controls = Array.from(document.querySelectorAll('main button, main input, main select, main textarea'))
    .filter((node) => node.type !== 'hidden')
    .map((node) => [node.tagName + (node.id ? '#' + node.id : '.' + node.className),
                    getComputedStyle(node).fontFamily]);
  // A tile's name: inside its tile, and no word wider than the tile (nothing overflows).
  const tiles = Array.from(document.querySelectorAll('button.tile')).map((tile) => {
    const name = tile.querySelector('.tname');
    const t = tile.getBoundingClientRect(), n = name.getBoundingClientRect();
    return {name: name.textContent,
            inside: n.left >= t.left - 0.5 && n.right <= t.right + 0.5 && n.bottom <= t.bottom + 0.5,
            overflow: name.scrollWidth > name.clientWidth + 1};
  });
  return {body: body, odd: controls.filter((c) => c[1] !== body), tiles: tiles};
}"""


def test_controls_use_the_page_font_and_tiles_wrap(browser, live_server, net):
    member_no = net.members_a[0].member_no
    problems: list[str] = []
    for width, height in SIZES:
        context, page = operator_tablet(browser, live_server, width, height)
        _open_deposit(page, member_no)
        page.locator("button.tile[data-code='HDPE-RIGID']").click()
        page.keyboard.type("2")
        fonts = page.evaluate(FONTS)
        assert "system-ui" in fonts["body"], fonts["body"]
        assert fonts["odd"] == [], fonts["odd"]
        assert len(fonts["tiles"]) >= 20
        bad = [t for t in fonts["tiles"] if not t["inside"] or t["overflow"]]
        assert bad == [], bad
        _shot(page, "g", width, height, problems)
        context.close()
    assert problems == [], "\n".join(problems)


def _keep_on_tablet(page, member_no: str, hold: dict) -> None:
    """A deposit saved while every request is dropped (``hold["on"]``): kept on the tablet."""
    def network(route):
        if hold["on"]:
            route.abort("connectionreset")
        else:
            route.continue_()

    page.route(API, network)
    _open_deposit(page, member_no)
    page.locator("button.tile[data-code='PET-CLEAN']").click()
    page.keyboard.type("1,5")
    page.click("#review")
    page.click("#save")
    expect(page.locator("#result-panel h2")).to_have_text("Tersimpan di tablet ini")


def test_find_page_puts_the_search_first(browser, live_server, net):
    member_no = net.members_a[0].member_no
    problems: list[str] = []
    for width, height in SIZES:
        context, page = operator_tablet(browser, live_server, width, height)
        page.goto("/counter")
        expect(page.locator("html[data-counter-ready='1']")).to_be_attached()
        alone = page.locator("#q").bounding_box()
        _keep_on_tablet(page, member_no, {"on": True})
        page.click("#result-next")
        page.wait_for_url("**/counter")
        panel = page.locator("#outbox-panel")
        expect(panel.locator(".outbox-item.queued")).to_have_count(1)
        search = page.locator("#q").bounding_box()
        assert abs(search["y"] - alone["y"]) < 1, (alone, search)
        assert search["y"] + search["height"] <= height / 3, search
        form = page.locator("#find-form").bounding_box()
        assert panel.bounding_box()["y"] > form["y"] + form["height"], (panel.bounding_box(), form)
        _shot(page, "h", width, height, problems)
        context.close()
    assert problems == [], "\n".join(problems)


def test_served_today_includes_the_tablets_queue(browser, live_server, net):
    first, second = net.members_a[0].member_no, net.members_a[1].member_no
    numbers = "() => Array.from(document.querySelectorAll('#served-today a.result'), (a) => a.dataset.memberNo)"
    problems: list[str] = []
    for width, height in SIZES:  # at 1280x800 both members were served (and sent) at 800x1280 already
        context, page = operator_tablet(browser, live_server, width, height)
        hold = {"on": True}
        _keep_on_tablet(page, first, hold)
        page.click("#result-next")
        page.wait_for_url("**/counter")
        expect(page.locator("html[data-counter-ready='1']")).to_be_attached()
        served = page.locator("#served-today a.result")
        expect(served.first).to_have_attribute("data-member-no", first)
        expect(served.first).to_contain_text("belum terkirim")
        expect(page.locator("#served-today .unsent")).to_have_count(1)
        listed = page.evaluate(numbers)
        assert len(listed) == len(set(listed)), listed
        expect(page.locator("#served-today-empty")).to_be_hidden()
        _shot(page, "e", width, height, problems)
        # Sent: the server lists the member, once, without the mark; a second member kept on the
        # tablet comes on top, marked.
        hold["on"] = False
        page.evaluate("() => window.wastebankCounter.sync.kick(0)")
        expect(page.locator(".outbox-item.synced")).to_have_count(1, timeout=20_000)
        hold["on"] = True
        _keep_on_tablet(page, second, hold)
        page.click("#result-next")
        page.wait_for_url("**/counter")
        expect(page.locator("html[data-counter-ready='1']")).to_be_attached()
        assert page.evaluate(numbers)[:2] == [second, first], page.evaluate(numbers)
        expect(served.nth(0)).to_contain_text("belum terkirim")
        expect(served.nth(1)).not_to_contain_text("belum terkirim")
        listed = page.evaluate(numbers)
        assert len(listed) == len(set(listed)), listed
        page.screenshot(path=str(ARTIFACTS / f"fix-e-sent-{width}x{height}.png"), full_page=True)
        hold["on"] = False
        page.evaluate("() => window.wastebankCounter.sync.kick(0)")
        expect(page.locator(".outbox-item.synced")).to_have_count(2, timeout=20_000)
        page.reload()
        expect(page.locator("html[data-counter-ready='1']")).to_be_attached()
        assert page.evaluate(numbers)[:2] == [second, first], page.evaluate(numbers)
        expect(page.locator("#served-today .unsent")).to_have_count(0)
        context.close()
    assert problems == [], "\n".join(problems)


def test_provisional_slip_has_a_short_code(browser, live_server, net):
    member_no = net.members_a[0].member_no
    problems: list[str] = []
    for width, height in SIZES:
        context, page = operator_tablet(browser, live_server, width, height)
        hold = {"on": True}
        _keep_on_tablet(page, member_no, hold)
        key = page.evaluate("async () => (await window.wastebankCounter.store.allItems())[0].key")
        code = (key[:4] + "-" + key[4:8]).upper()
        page.click("#result-slip")
        slip = page.locator("#provisional-slip")
        expect(slip.locator(".key")).to_have_text(f"Kode slip: {code}")
        expect(slip).not_to_contain_text(key)
        expect(slip).not_to_contain_text("Kunci")
        page.screenshot(path=str(ARTIFACTS / f"fix-f-{width}x{height}.png"))
        page.click("#slip-close")
        item = page.locator(".outbox-item.queued")
        expect(item.locator(".slip-code")).to_have_text(f"Kode slip {code}")
        hold["on"] = False
        page.evaluate("() => window.wastebankCounter.sync.kick(0)")
        sent = page.locator(".outbox-item.synced")
        expect(sent).to_have_count(1, timeout=20_000)
        expect(sent.locator(".slip-code")).to_have_text(f"Kode slip {code}")
        expect(sent.locator(".state")).to_contain_text("RW05-")
        problems += _check(page, "f-sent", width, height, prefix="fix")
        context.close()
    assert problems == [], "\n".join(problems)


def test_members_list_uses_the_width(browser, live_server, net):
    problems: list[str] = []
    for width, height in SIZES:
        context = sized_context(browser, live_server, width, height)
        page = context.new_page()
        log_in(page, "mgr_a")
        page.goto("/members/")
        table = page.locator("#members")
        expect(table).to_be_visible()
        box = table.bounding_box()
        if width == 1280:
            assert box["width"] > 1000, box
        cards = table.locator("tbody tr td:last-child").evaluate_all("""(cells) => cells.map((td) => {
            const range = document.createRange(); range.selectNodeContents(td);
            return {text: td.textContent.trim(),
                    lines: new Set(Array.from(range.getClientRects()).map((r) => Math.round(r.top))).size}; })""")
        assert cards and all(c["lines"] == 1 for c in cards), cards
        _shot(page, "i", width, height, problems)
        context.close()
    assert problems == [], "\n".join(problems)


def _on_screen(locator, height: int) -> bool:
    box = locator.bounding_box()
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= height


def test_landscape_tiles_and_lines_side_by_side(browser, live_server, net):
    member_no = net.members_a[0].member_no
    problems: list[str] = []
    codes = ["PET-CLEAN", "CARDBOARD", "PET-DIRTY", "HDPE-RIGID", "TIN-CAN", "FILM"]
    for width, height in SIZES:
        context, page = operator_tablet(browser, live_server, width, height)
        _open_deposit(page, member_no)
        tiles = page.locator(".tiles").bounding_box()
        lines = page.locator("table.lines").bounding_box()
        if width == 1280:
            assert lines["x"] >= tiles["x"] + tiles["width"], (tiles, lines)  # beside, not below
        else:
            assert lines["y"] >= tiles["y"] + tiles["height"], (tiles, lines)  # portrait: below
        for n, code in enumerate(codes, start=1):
            page.locator(f"button.tile[data-code='{code}']").click()
            page.keyboard.type("2")
            expect(page.locator("#lines tr.line")).to_have_count(n)
            if width == 1280:
                # The new line and the next tile to tap are on the screen together.
                assert _on_screen(page.locator("#lines tr.line").last.locator("input.quantity"), height)
                if n < len(codes):
                    assert _on_screen(page.locator(f"button.tile[data-code='{codes[n]}']"), height), (n, codes[n])
        assert page.locator("#total").inner_text() != "Rp 0"
        page.screenshot(path=str(ARTIFACTS / f"fix-j-screen-{width}x{height}.png"))
        _shot(page, "j", width, height, problems)
        context.close()
    assert problems == [], "\n".join(problems)
