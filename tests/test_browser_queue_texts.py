"""The counter queue's texts, checked as the person at the tablet sees them (a tablet tester's
round); screens at 800×1280 and 1280×800, screenshots ``test-artifacts/queue-texts-<item>-<w>x<h>.png``:

1. the deposit screen's note "… belum terkirim: jangan ditimbang ulang." follows the queue: it
   goes once this member's queued deposit is sent (it stayed, computed once at page load);
2. an ended session (the API answers 401): the result card and the queue item say to log in
   again before it can be sent (they said "once the server takes it");
3. while a request is in flight the summary says "1 sedang dikirim…", as the item ("mengirim");
4. a sent item's member number never breaks across lines at 800 px.

A second round (screenshots ``test-artifacts/queue-fix2-<item>-<w>x<h>.png``):

5. a deposit the server refused (422) counts in the deposit screen's note, with its own words
   (it was hidden: the member was weighed again, and paid twice once someone tapped
   "Perbaiki"), and "Dilayani hari ini" marks it "perlu diperbaiki" (it said "belum terkirim");
6. while the session has ended (401) the queue offers no "Kirim sekarang", only "Masuk lagi";
   after the login it is back while something waits;
7. another operator's unsent items are named by that person's full name (stored with the item;
   the login name for items stored before), with what to do if they are not coming back.
"""
from __future__ import annotations

import contextlib
import re

import pytest
from sqlalchemy import func, select

from wastebank.extensions import db
from wastebank.models import Deposit, Member

from .factories import PASSWORD
from .test_browser import ARTIFACTS, browser, operator_tablet, sync_api  # noqa: F401  (browser is a fixture)
from .test_browser_outbox import _capture, _device_ready, _end_sessions, _log_in, _open_deposit, _until
from .test_browser_screens import _check

pytestmark = pytest.mark.browser
expect = sync_api.expect
expect.set_options(timeout=10_000)

SIZES = [(800, 1280), (1280, 800)]
API = "**/api/v1/deposits"
UNAUTHORIZED = '{"error": {"code": "unauthorized", "message": "Silakan masuk.", "field": null}}'


def _save_after_the_session_ended(page, member_no: str) -> None:
    """Open ``member_no``'s deposit screen, end op_a's sessions and device tokens (no new token
    can be had: only a login sends again), then capture and save a deposit."""
    _open_deposit(page, member_no)
    _device_ready(page)
    _end_sessions("op_a")
    _capture(page)


def _deposit_count(member_no: str) -> int:
    """How many deposits the ledger holds for ``member_no``."""
    count = db.session.scalar(select(func.count(Deposit.id)).join(Member, Deposit.member_id == Member.id)
                              .where(Member.member_no == member_no))
    db.session.close()
    return count


def _shown_deposits(page, member_no: str) -> int:
    """The deposit rows the counter's member page lists (what the operator sees)."""
    page.goto(f"/counter/member/{member_no}")
    return page.locator("table.list tbody tr", has=page.locator("a[href^='/counter/receipt/']")).count()


# 1 ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("size", SIZES, ids=["portrait", "landscape"])
def test_pending_note_goes_once_the_queue_sent_the_deposit(browser, live_server, net, size):
    """The first request reaches the server but its answer is held back; the operator reloads
    the member's deposit screen: the note says the deposit waits on the tablet while it is
    resent, and goes once the queue shows it sent; the ledger has exactly one more deposit."""
    width, height = size
    member_no = net.members_a[0].member_no
    context, page = operator_tablet(browser, live_server, width, height)
    before_ledger = _deposit_count(member_no)
    before_shown = _shown_deposits(page, member_no)
    held, keys = [], []

    def handle(route):
        keys.append(route.request.headers.get("idempotency-key"))
        if len(keys) == 1:
            route.fetch()        # the server records it …
        held.append(route)       # … and its answer (or the resend) is held back for now

    page.route(API, handle)
    _open_deposit(page, member_no)
    _device_ready(page)
    note = page.locator("#deposit-pending")
    expect(note).to_be_hidden()
    _capture(page)
    _until(page, "async () => (await window.wastebankCounter.store.allItems()).some((i) => i.state === 'sending')")
    expect(note).to_be_hidden()            # the deposit saved here is the result panel's to report
    page.wait_for_timeout(1500)
    page.reload()
    expect(page.locator("#deposit-form[data-ready='1']")).to_be_attached()
    # The resend is on its way (held): the note says the deposit waits; nobody weighs it again.
    expect(note).to_have_text(
        "1 setoran nasabah ini (Rp 4.875) tersimpan di tablet dan belum terkirim: jangan ditimbang ulang.")
    page.screenshot(path=str(ARTIFACTS / f"queue-texts-1-waiting-{width}x{height}.png"))
    for _ in range(200):               # the tablet resends by itself: wait for it at the route
        if len(held) >= 2:
            break
        page.wait_for_timeout(100)
    assert len(held) == 2, keys
    held[1].continue_()                # now the server answers the resend (its stored answer)
    sent = page.locator(".outbox-item.synced")
    expect(sent).to_have_count(1, timeout=20_000)
    receipt = page.evaluate("async () => (await window.wastebankCounter.store.allItems())[0].response.receipt_no")
    expect(sent).to_contain_text(receipt)
    expect(note).to_be_hidden()
    expect(note).to_have_text("")
    page.screenshot(path=str(ARTIFACTS / f"queue-texts-1-sent-{width}x{height}.png"))
    problems = _check(page, "1-full", width, height, prefix="queue-texts")
    assert len(keys) == 2 and keys[0] == keys[1], keys   # the same deposit, resent once
    for route in held[:1]:
        with contextlib.suppress(Exception):  # the reload gave up on it already
            route.abort()
    assert _deposit_count(member_no) == before_ledger + 1
    assert _shown_deposits(page, member_no) == before_shown + 1
    expect(page.locator("table.list")).to_contain_text(receipt)
    context.close()
    assert problems == [], "\n".join(problems)


# 2 ------------------------------------------------------------------------------------------

KEPT_AUTH = ("Belum terkirim (Rp 4.875): sesi sudah berakhir. Masuk lagi, lalu setoran ini dikirim otomatis. "
             "Anda bisa melayani nasabah berikutnya.")
REASON_AUTH = "Sesi sudah berakhir; masuk lagi, lalu dikirim otomatis."


@pytest.mark.parametrize("size", SIZES, ids=["portrait", "landscape"])
def test_ended_session_says_to_log_in_again_and_sends_once_after(browser, live_server, net, size):
    """The session ends (logged out elsewhere) and the API answers 401: the result card and the
    queue item say the operator must log in again (not "once the server takes it"); after
    "Masuk lagi" and the login the deposit is sent once, with the same key."""
    width, height = size
    member_no = net.members_a[0].member_no
    context, page = operator_tablet(browser, live_server, width, height)
    before = _deposit_count(member_no)
    mode = {"refuse": True}
    refused, passed = [], []

    def handle(route):
        if mode["refuse"]:
            refused.append(route.request.headers.get("idempotency-key"))
            route.fulfill(status=401, content_type="application/json", body=UNAUTHORIZED)
        else:
            passed.append(route.request.headers.get("idempotency-key"))
            route.continue_()

    page.route(API, handle)
    _save_after_the_session_ended(page, member_no)
    panel = page.locator("#result-panel")
    expect(panel.locator("h2")).to_have_text("Tersimpan di tablet ini", timeout=20_000)
    expect(page.locator("#outbox-auth")).to_contain_text("Sesi sudah berakhir")
    expect(panel.locator("p.what")).to_have_text(KEPT_AUTH)
    item = page.locator(".outbox-item.queued")
    expect(item).to_have_count(1)
    expect(item.locator(".reason")).to_have_text(REASON_AUTH)
    expect(page.locator("#outbox-panel")).not_to_contain_text("Server belum bisa mencatatnya")
    page.screenshot(path=str(ARTIFACTS / f"queue-texts-2-ended-{width}x{height}.png"))
    problems = _check(page, "2-full", width, height, prefix="queue-texts")
    assert _deposit_count(member_no) == before
    key = page.evaluate("async () => (await window.wastebankCounter.store.allItems())[0].key")
    assert refused and set(refused) == {key}, refused

    mode["refuse"] = False
    page.locator("#outbox-auth a", has_text="Masuk lagi").click()
    page.fill("#username", "op_a")
    page.fill("#password", PASSWORD)
    page.click("main button[type=submit]")
    sent = page.locator(".outbox-item.synced")
    expect(sent).to_have_count(1, timeout=20_000)
    expect(page.locator("#outbox-auth")).to_have_count(0)
    expect(page.locator(".outbox-item .reason")).to_have_count(0)
    page.screenshot(path=str(ARTIFACTS / f"queue-texts-2-sent-{width}x{height}.png"))
    page.wait_for_timeout(500)   # nothing else goes out after it
    assert passed == [key], passed
    assert _deposit_count(member_no) == before + 1
    context.close()
    assert problems == [], "\n".join(problems)


# 3 ------------------------------------------------------------------------------------------

def test_summary_says_being_sent_while_the_request_hangs(browser, live_server, net):
    """A stalled request: the summary and the item agree ("1 sedang dikirim…" / "mengirim");
    once the answer comes, everything was sent."""
    member_no = net.members_a[1].member_no
    context, page = operator_tablet(browser, live_server, 800, 1280)
    held, hold = [], {"on": True}

    def handle(route):
        if hold["on"]:
            held.append(route)   # a stall: no answer until the test lets it through
        else:
            route.continue_()

    page.route(API, handle)
    _open_deposit(page, member_no)
    _capture(page)
    item = page.locator(".outbox-item.sending")
    expect(item.locator(".state")).to_have_text("mengirim")
    expect(page.locator("#outbox-summary")).to_have_text("1 sedang dikirim…")
    page.screenshot(path=str(ARTIFACTS / "queue-texts-3-800x1280.png"))
    hold["on"] = False
    held[0].continue_()
    expect(page.locator(".outbox-item.synced")).to_have_count(1, timeout=20_000)
    expect(page.locator("#outbox-summary")).to_have_text("Semua yang disimpan di tablet ini sudah terkirim.")
    context.close()


# 4 ------------------------------------------------------------------------------------------

# Where the member number sits in the queue item's header, measured on its text: one line box
# per line it spans (a Range's client rects), and the element's own rects and height.
NUMBER_LINES = """(memberNo) => {
  const who = document.querySelector('.outbox-item.synced .who');
  const walker = document.createTreeWalker(who, NodeFilter.SHOW_TEXT);
  let node = null;
  while (walker.nextNode()) { if (walker.currentNode.data.includes(memberNo)) { node = walker.currentNode; break; } }
  if (!node) { return { found: false }; }
  const range = document.createRange();
  const start = node.data.indexOf(memberNo);
  range.setStart(node, start);
  range.setEnd(node, start + memberNo.length);
  const lines = new Set(Array.from(range.getClientRects()).filter((r) => r.width > 0).map((r) => Math.round(r.top)));
  const element = who.querySelector('.who-no');
  const lineHeight = parseFloat(getComputedStyle(who).lineHeight) || 24;
  const box = element ? element.getBoundingClientRect() : null;
  const item = who.closest('.outbox-item').getBoundingClientRect();
  return { found: true, lines: lines.size, rects: element ? element.getClientRects().length : null,
           height: box ? box.height : null, lineHeight: lineHeight, text: element ? element.textContent : null,
           inside: who.getBoundingClientRect().right <= item.right + 1 };
}"""


def test_member_number_never_breaks_in_a_sent_items_header(browser, live_server, net):
    """A long name beside a sent item's state ("terkirim · RW05-2026-000001"): the name wraps,
    the member number stays on one line, whatever the name's length, at 800×1280 and 1280×800."""
    member = net.members_a[0]
    member_no = member.member_no
    long_name = "Dra. Hj. Siti Aminah Kusumawardhani Wahyuningtyas, S.Kom"
    row = db.session.get(Member, member.id)
    row.name = long_name
    db.session.commit()
    db.session.close()
    problems: list[str] = []
    for width, height in SIZES:
        context, page = operator_tablet(browser, live_server, width, height)
        _open_deposit(page, member_no)
        _capture(page)
        page.wait_for_url(re.compile(r".*/counter/receipt/.*"))
        page.goto("/counter")
        sent = page.locator(".outbox-item.synced").first
        expect(sent).to_be_visible()
        expect(sent.locator(".who")).to_have_text(f"{long_name} · {member_no}")
        measured = page.evaluate(NUMBER_LINES, member_no)
        page.locator("#outbox-panel").screenshot(path=str(ARTIFACTS / f"queue-texts-4-{width}x{height}.png"))
        problems += _check(page, "4-full", width, height, prefix="queue-texts")
        assert measured["found"] and measured["lines"] == 1, (width, measured)
        assert measured["rects"] == 1 and measured["text"] == member_no, (width, measured)
        assert measured["height"] < 1.5 * measured["lineHeight"], (width, measured)
        assert measured["inside"], (width, measured)
        # Every length of name: the name wraps where it must, the number never does.
        key = page.evaluate("async () => (await window.wastebankCounter.store.allItems())"
                            ".find((i) => i.state === 'synced').key")
        for extra in range(0, 30):
            name = "Dra. Hj. Siti Aminah " + "W" * extra + " Kusumawardhani, S.Kom"
            page.evaluate("""async ([key, name]) => {
                await window.wastebankCounter.store.updateItem(
                    key, (item) => Object.assign(item, { member_name: name }));
                window.wastebankCounter.sync.kick(0);
            }""", [key, name])
            expect(sent.locator(".who")).to_have_text(f"{name} · {member_no}")
            measured = page.evaluate(NUMBER_LINES, member_no)
            assert measured["lines"] == 1 and measured["rects"] == 1, (width, name, measured)
            assert measured["inside"], (width, name, measured)
            if extra == 21:   # the length that split "RW05-" / "0001" at 800 px before
                shot = ARTIFACTS / f"queue-texts-4-long-{width}x{height}.png"
                page.locator("#outbox-panel").screenshot(path=str(shot))
        context.close()
    assert problems == [], "\n".join(problems)


# 5 ------------------------------------------------------------------------------------------

REFUSED_NOTE = ("1 setoran nasabah ini (Rp 4.875) ditolak server dan menunggu diperbaiki: perbaiki atau hapus "
                "di antrean sebelum menimbang ulang.")
BOTH_NOTE = ("1 setoran nasabah ini (Rp 6.500) tersimpan di tablet dan belum terkirim, dan 1 (Rp 4.875) ditolak "
             "server dan menunggu diperbaiki: jangan ditimbang ulang; perbaiki atau hapus yang ditolak di antrean.")
REFUSED_BODY = ('{"error": {"code": "unknown_category", "message": "Kategori tidak dikenal.", '
                '"field": "lines.0.category"}}')


@pytest.mark.parametrize("size", SIZES, ids=["portrait", "landscape"])
def test_refused_deposit_counts_in_the_members_note(browser, live_server, net, size):
    """The server refuses the deposit (422, the API's error shape): back on the member's deposit
    screen the note says one of theirs was refused and waits to be corrected; with another one
    kept (no connection) one sentence names both; "Dilayani hari ini" says "perlu diperbaiki"."""
    width, height = size
    member_no = net.members_a[0].member_no
    context, page = operator_tablet(browser, live_server, width, height)
    before = _deposit_count(member_no)
    mode = {"now": "refuse"}

    def handle(route):
        if mode["now"] == "refuse":
            mode["now"] = "pass"      # once
            route.fulfill(status=422, content_type="application/json", body=REFUSED_BODY)
        elif mode["now"] == "down":
            route.abort("connectionrefused")
        else:
            route.continue_()

    page.route(API, handle)
    _open_deposit(page, member_no)
    _device_ready(page)
    _capture(page)
    item = page.locator(".outbox-item.fix")
    expect(item).to_have_count(1, timeout=20_000)
    expect(item.locator(".state")).to_have_text("perlu diperbaiki")
    expect(item.locator("a.fix")).to_have_text("Perbaiki")

    _open_deposit(page, member_no)       # the operator comes back to the same member
    note = page.locator("#deposit-pending")
    expect(note).to_be_visible()
    expect(note).to_have_text(REFUSED_NOTE)
    problems = _check(page, "5-refused", width, height, prefix="queue-fix2")

    page.goto("/counter")
    served = page.locator(f"#served-today a.result[data-member-no='{member_no}']")
    expect(served).to_have_count(1)
    expect(served.locator(".unsent")).to_have_text("perlu diperbaiki")
    # In the queue's red, not the amber of "belum terkirim".
    assert served.locator(".unsent").evaluate("e => getComputedStyle(e).color") == page.locator(
        ".outbox-item.fix .state").evaluate("e => getComputedStyle(e).color")
    expect(served).not_to_contain_text("belum terkirim")
    problems += _check(page, "5-served", width, height, prefix="queue-fix2")

    # Another deposit of theirs is kept (no answer): one sentence for both.
    mode["now"] = "down"
    _open_deposit(page, member_no)
    _capture(page, lines=(("PET-CLEAN", "2"),))
    expect(page.locator(".outbox-item.queued")).to_have_count(1, timeout=20_000)
    _open_deposit(page, member_no)
    expect(note).to_have_text(BOTH_NOTE)
    problems += _check(page, "5-both", width, height, prefix="queue-fix2")
    page.goto("/counter")
    expect(served.locator(".unsent")).to_have_text("perlu diperbaiki")   # the refused one first
    assert _deposit_count(member_no) == before
    context.close()
    assert problems == [], "\n".join(problems)


# 6 ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("size", SIZES, ids=["portrait", "landscape"])
def test_no_send_now_while_the_session_has_ended(browser, live_server, net, size):
    """The API answers 401 and no new device token can be had: the queue shows "Masuk lagi"
    and no "Kirim sekarang" (it cannot send); after the login, with the server busy (503) the
    deposit waits again and "Kirim sekarang" is back and sends it, once."""
    width, height = size
    member_no = net.members_a[1].member_no
    context, page = operator_tablet(browser, live_server, width, height)
    before = _deposit_count(member_no)
    mode = {"now": "401"}
    passed = []

    def handle(route):
        if mode["now"] == "401":
            route.fulfill(status=401, content_type="application/json", body=UNAUTHORIZED)
        elif mode["now"] == "busy":
            route.fulfill(status=503, content_type="application/json",
                          body='{"error": {"code": "server_busy", "message": "Server sibuk.", "field": null}}')
        else:
            passed.append(route.request.headers.get("idempotency-key"))
            route.continue_()

    page.route(API, handle)
    _save_after_the_session_ended(page, member_no)
    auth = page.locator("#outbox-auth")
    expect(auth).to_contain_text("Sesi sudah berakhir", timeout=20_000)
    expect(auth.locator("a", has_text="Masuk lagi")).to_be_visible()
    expect(page.locator(".outbox-item.queued")).to_have_count(1)
    expect(page.locator("#outbox-sync")).to_have_count(0)
    expect(page.locator("#outbox-panel")).not_to_contain_text("Kirim sekarang")
    problems = _check(page, "6-ended", width, height, prefix="queue-fix2")

    mode["now"] = "busy"
    auth.locator("a", has_text="Masuk lagi").click()
    page.fill("#username", "op_a")
    page.fill("#password", PASSWORD)
    page.click("main button[type=submit]")
    expect(page.locator(".outbox-item.queued .reason")).to_have_text(
        "Server belum bisa mencatatnya saat ini; dicoba lagi otomatis.", timeout=20_000)
    expect(auth).to_have_count(0)
    send = page.locator("#outbox-sync")
    expect(send).to_have_text("Kirim sekarang")
    problems += _check(page, "6-after-login", width, height, prefix="queue-fix2")
    mode["now"] = "pass"
    send.click()
    expect(page.locator(".outbox-item.synced")).to_have_count(1, timeout=20_000)
    expect(page.locator("#outbox-sync")).to_have_count(0)
    page.wait_for_timeout(500)
    assert len(passed) == 1, passed
    assert _deposit_count(member_no) == before + 1
    context.close()
    assert problems == [], "\n".join(problems)


# 7 ------------------------------------------------------------------------------------------

# As the unit manager reads it: only that operator can send them (tests/test_counter_others_notice.py).
OTHERS = ("1 catatan yang disimpan {name} di tablet ini belum terkirim, dan hanya {name} yang dapat mengirimnya: "
          "minta {name} masuk lagi di tablet ini, lalu catatan itu dikirim otomatis. Dengan akun Anda, catatan itu "
          "tidak dapat dikirim atau dihapus.")


@pytest.mark.parametrize("size", SIZES, ids=["portrait", "landscape"])
def test_another_operators_items_name_the_person(browser, live_server, net, size):
    """Op A's deposit is kept (no connection) and A logs out; the manager who logs in on the
    tablet reads A's full name ("Dewi Operator", not "op_a") and that only A can send it: to have
    A log in here again; an item stored before the name was (no operator_name) falls back to the
    login name."""
    width, height = size
    member_no = net.members_a[0].member_no
    context, page = operator_tablet(browser, live_server, width, height)
    context.route(API, lambda route: route.abort("connectionrefused"))
    _open_deposit(page, member_no)
    _capture(page)
    expect(page.locator("#result-panel h2")).to_have_text("Tersimpan di tablet ini", timeout=20_000)
    stored = page.evaluate("async () => (await window.wastebankCounter.store.allItems())[0]")
    assert stored["username"] == "op_a" and stored["operator_name"] == "Dewi Operator", stored
    page.locator("form[action$='/logout'] button").click()
    # Their own unsent item: the tablet asks first (c2a8085); they log out anyway.
    expect(page.locator("#logout-leave")).to_have_text("Tetap keluar")
    page.locator("#logout-leave").click()
    expect(page.locator(".flash")).to_have_text("Anda sudah keluar.")
    _log_in(page, "mgr_a")
    others = page.locator("#outbox-others")
    expect(others).to_have_text(OTHERS.format(name="Dewi Operator"))
    expect(others).not_to_contain_text("op_a")
    problems = _check(page, "7-others", width, height, prefix="queue-fix2")
    # An item saved by the earlier version of the tablet's code: only the login name.
    page.evaluate("""async () => {
        const store = window.wastebankCounter.store;
        const item = (await store.allItems())[0];
        await store.updateItem(item.key, (current) => { delete current.operator_name; return current; });
    }""")
    page.reload()
    expect(others).to_have_text(OTHERS.format(name="op_a"))
    context.close()
    assert problems == [], "\n".join(problems)
