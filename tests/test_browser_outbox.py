"""The counter on a bad network (issue 8, CASES C15–C19): every confirmed deposit goes through
the tablet's outbox (IndexedDB) to the JSON API, and whatever the network does — an aborted
request, a 500 once, a stall, an ended session, a refusal, no connection at all — the
ledger holds each deposit exactly once with the right amount, and the operator sees where it is.

Debian's Chromium through Playwright, as in test_browser.py. Faults are injected with
``page.route`` (service workers blocked there, since Playwright cannot route a worker's
requests) and ``context.set_offline`` (service worker on, for the offline find and shell).
"""
from __future__ import annotations

import contextlib

import re
import time
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select, update

from wastebank.extensions import db
from wastebank.models import Deposit, Member, WasteCategory
from wastebank.services.ledger import member_savings_account

from .factories import PASSWORD
from .test_browser import TABLET, browser, sync_api  # noqa: F401  (browser is a fixture)

pytestmark = pytest.mark.browser
expect = sync_api.expect
expect.set_options(timeout=10_000)  # a loaded CI machine: what the operator sees may take a moment
API = "**/api/v1/deposits"


def _deposits() -> list[tuple[str, int, int, list]]:
    """Every deposit as (member_no, total, credited, [(code, milli, amount)]), in id order."""
    rows = [(d.member.member_no, d.total_idr, d.credited_idr,
             [(line.category.code, line.quantity_milli, line.amount_idr) for line in d.lines])
            for d in db.session.scalars(select(Deposit).order_by(Deposit.id))]
    db.session.close()
    return rows


def _balance(member_no: str) -> int:
    member = db.session.scalars(select(Member).where(Member.member_no == member_no)).one()
    balance = member_savings_account(member).balance
    db.session.close()
    return balance


def _tablet(browser, live_server, *, service_worker: bool = False, username: str = "op_a", **extra):
    """A logged-in 800×1280 tablet. Without the service worker unless asked (page.route
    cannot see a worker's requests)."""
    options = dict(TABLET, **extra)
    context = browser.new_context(base_url=live_server, locale="id-ID", timezone_id="Asia/Jakarta",
                                  service_workers="allow" if service_worker else "block", **options)
    context.set_default_timeout(20_000)
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    _log_in(page, username)
    return context, page


def _log_in(page, username: str = "op_a") -> None:
    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r".*/counter.*"))


def _open_deposit(page, member_no: str) -> None:
    page.goto(f"/counter/member/{member_no}/deposit")
    expect(page.locator("#deposit-form[data-ready='1']")).to_be_attached()


def _end_sessions(username: str) -> None:
    """End every session and bearer token of ``username`` (logged out elsewhere): the tablet's
    next send gets 401 and no new device token can be had, so only a login sends again."""
    from wastebank.auth.tokens import end_all_sessions
    from wastebank.models import User

    end_all_sessions(db.session.scalars(select(User).where(User.username == username)).one())
    db.session.commit()
    db.session.close()


def _capture(page, lines=(("PET-CLEAN", "1,5"),)) -> None:
    """Tap each tile, type its weight, check the confirmation and tap "Simpan setoran"."""
    for code, weight in lines:
        page.locator(f"button.tile[data-code='{code}']").click()
        page.keyboard.type(weight)
    page.click("#review")
    expect(page.locator("#confirm-panel")).to_be_visible()
    page.click("#save")


def _seed_savings(member_no: str, kg: str, key: str) -> None:
    from wastebank.models import Unit
    from wastebank.services.deposits import LineInput, record_deposit
    from wastebank.services.transaction import run_in_transaction

    unit = db.session.scalars(select(Unit).where(Unit.code == "RW05")).one()
    member = db.session.scalars(select(Member).where(Member.member_no == member_no)).one()
    run_in_transaction(lambda: record_deposit(unit, member, [LineInput("PET-CLEAN", kg)], operator_id=None,
                                              idempotency_key=key))
    db.session.close()


def _save_withdrawal(page, member_no: str, amount: str) -> None:
    """Open the member's withdrawal, type ``amount`` ("5.000"), check it and tap "Simpan
    penarikan" once the counter's code runs; the operator is told not to hand out the money
    until it is sent."""
    page.goto(f"/counter/member/{member_no}/withdraw")
    page.fill("#amount", amount)
    page.click("#review")
    page.wait_for_function("() => document.documentElement.dataset.counterReady === '1'")
    page.click("#save")
    expect(page.locator("#withdraw-result")).to_contain_text("Jangan serahkan uang")


def _until(page, script: str, timeout: float = 20.0) -> None:
    """Poll the async ``script`` in the page until it is truthy (wait_for_function does not
    await a promise)."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(script):
        assert time.monotonic() < deadline, f"timed out waiting for {script}"
        time.sleep(0.1)


def _controlled(page) -> None:
    """Reload until the service worker controls the page (its first install can still be
    activating on a loaded machine)."""
    for _ in range(3):
        page.reload()
        try:
            page.wait_for_function("() => navigator.serviceWorker.controller !== null", timeout=10_000)
            return
        except sync_api.TimeoutError:
            _until(page, "async () => { const r = await navigator.serviceWorker.getRegistration();"
                         " return !!(r && r.active && r.active.state === 'activated'); }", timeout=20)
    raise AssertionError("the service worker never took control")


def _device_ready(page) -> None:
    """Wait until the tablet holds its device token and the unit's snapshot."""
    _until(page, """async () => {
        const s = window.wastebankCounter && window.wastebankCounter.store;
        if (!s) return false;
        const ctx = window.wastebankCounter.context;
        return !!(await s.getValue('token:' + ctx.username)) && !!(await s.getValue('snapshot:' + ctx.unit));
    }""")


def _items(page) -> list[dict]:
    return page.evaluate("() => window.wastebankCounter.store.allItems()")


def _panel(page):
    return page.locator("#outbox-panel")


def _faults(*script):
    """A route handler that answers the n-th request with ``script[n]`` — "abort" (the network
    drops it), "500" (a server error), "lost" (the server records it, the answer is lost),
    "stall" (never answered) — and lets every later one through. Returns (handler, keys seen,
    stalled routes)."""
    keys, stalled = [], []

    def handle(route):
        keys.append(route.request.headers.get("idempotency-key"))
        step = script[len(keys) - 1] if len(keys) <= len(script) else "pass"
        if step == "abort":
            route.abort("connectionreset")  # Wi-Fi "connected" but the request dies
        elif step == "500":
            route.fulfill(status=500, body="Internal Server Error")
        elif step == "lost":
            route.fetch()           # the server records it …
            route.abort("failed")   # … and the answer never reaches the tablet
        elif step == "stall":
            stalled.append(route)   # a 30 s stall on a bad link: the tablet gives up at 10 s
        else:
            route.continue_()

    return handle, keys, stalled


def test_aborted_save_is_kept_and_sent_once(browser, live_server, net):
    member_no = net.members_a[0].member_no
    context, page = _tablet(browser, live_server)
    handler, calls, _ = _faults("abort")
    page.route(API, handler)
    _open_deposit(page, member_no)
    _capture(page)
    # The operator is told the deposit is safe on the tablet, never an error page.
    expect(page.locator("#result-panel")).to_be_visible()
    expect(page.locator("#result-panel h2")).to_have_text("Tersimpan di tablet ini")
    expect(_panel(page)).to_contain_text("Rp 4.875")
    # The outbox retries by itself and the deposit lands once.
    expect(page.locator(".outbox-item.synced")).to_have_count(1, timeout=20_000)
    assert len(calls) == 2 and calls[0] == calls[1], calls  # the same key both times
    assert _deposits() == [(member_no, 4875, 4875, [("PET-CLEAN", 1500, 4875)])]
    receipt = db.session.scalar(select(Deposit.receipt_no))
    db.session.close()
    expect(page.locator(".outbox-item.synced")).to_contain_text(receipt)
    expect(page.locator(".outbox-item.synced a.receipt-link")).to_have_attribute("href", f"/counter/receipt/{receipt}")
    # The screen that said "kept on the tablet" now says it was sent, with its receipt.
    expect(page.locator("#result-panel h2")).to_have_text(f"Terkirim: struk {receipt}")
    expect(page.locator("#result-receipt")).to_have_attribute("href", f"/counter/receipt/{receipt}")
    expect(page.locator("#result-slip")).to_be_hidden()
    expect(page.locator("#result-fix")).to_be_hidden()
    # Back on this member's screen, nothing is pending any more.
    _open_deposit(page, member_no)
    expect(page.locator("#deposit-pending")).to_be_hidden()
    context.close()


def test_server_error_once_then_lost_answer_record_one_deposit(browser, live_server, net):
    """A 500 once (C15), then the server commits but its answer is lost (C06): the same key is
    resent and the server's stored answer comes back."""
    member_no = net.members_a[0].member_no
    context, page = _tablet(browser, live_server)
    handler, seen, _ = _faults("500", "lost")
    page.route(API, handler)
    _open_deposit(page, member_no)
    _capture(page, [("PET-CLEAN", "1,5"), ("CARDBOARD", "750 g")])
    expect(page.locator(".outbox-item.synced")).to_have_count(1, timeout=30_000)
    assert len(seen) == 3 and len(set(seen)) == 1, seen
    assert _deposits() == [(member_no, 6375, 6375, [("PET-CLEAN", 1500, 4875), ("CARDBOARD", 750, 1500)])]
    assert _balance(member_no) == 6375
    context.close()


def test_a_server_error_is_not_called_a_lost_connection(browser, live_server, net):
    """Two 500s in a row: the queue says the server could not record it yet (not "no answer",
    not "when the connection works"), keeps retrying with the same key, and the deposit lands once."""
    member_no = net.members_a[0].member_no
    context, page = _tablet(browser, live_server)
    handler, seen, _ = _faults("500", "500")
    page.route(API, handler)
    _open_deposit(page, member_no)
    _capture(page)
    expect(_panel(page)).to_contain_text("Server belum bisa mencatatnya saat ini; dicoba lagi otomatis.",
                                         timeout=10_000)
    expect(_panel(page)).not_to_contain_text("Server belum menjawab")
    expect(page.locator("#result-panel")).to_contain_text("dikirim otomatis begitu server menerimanya")
    page.screenshot(path="test-artifacts/outbox-server-error-800x1280.png", full_page=True)
    expect(page.locator(".outbox-item.synced")).to_have_count(1, timeout=30_000)
    assert len(seen) == 3 and len(set(seen)) == 1, seen
    assert _deposits() == [(member_no, 4875, 4875, [("PET-CLEAN", 1500, 4875)])]
    context.close()


def test_saved_offline_the_queue_says_the_tablet_has_no_connection(browser, live_server, net):
    """The tablet goes offline before the save (tester item 4): the banner and the queue item
    both say there is no connection, never that the server did not answer; back online, it goes."""
    member_no = net.members_a[0].member_no
    context, page = _tablet(browser, live_server)
    _open_deposit(page, member_no)
    _device_ready(page)
    context.set_offline(True)
    _capture(page)
    expect(page.locator("#result-panel h2")).to_have_text("Tersimpan di tablet ini")
    expect(page.locator("#outbox-offline")).to_contain_text("Tidak ada koneksi")
    item = page.locator(".outbox-item.queued")
    expect(item.locator(".reason")).to_have_text(
        "Tablet ini tidak ada koneksi; dikirim otomatis begitu koneksi kembali.")
    expect(_panel(page)).not_to_contain_text("Server belum menjawab")
    expect(page.locator("#outbox-sync")).to_have_count(0)   # "Kirim sekarang" did nothing offline (a tester)
    for w, h in ((800, 1280), (1280, 800)):
        page.set_viewport_size({"width": w, "height": h})
        page.screenshot(path=f"test-artifacts/fix-a-{w}x{h}.png", full_page=True)
    context.set_offline(False)
    page.evaluate("() => window.dispatchEvent(new Event('online'))")
    expect(page.locator(".outbox-item.synced")).to_have_count(1, timeout=30_000)
    assert _deposits() == [(member_no, 4875, 4875, [("PET-CLEAN", 1500, 4875)])]
    context.close()


@pytest.mark.parametrize("size", [(800, 1280), (1280, 800)], ids=["portrait", "landscape"])
def test_stalled_request_times_out_and_is_resent(browser, live_server, net, size):
    member_no = net.members_a[1].member_no
    context, page = _tablet(browser, live_server, viewport={"width": size[0], "height": size[1]})
    handler, _, held = _faults("stall")
    page.route(API, handler)
    _open_deposit(page, member_no)
    _capture(page)
    # While the request hangs the card itself says it is saving (tester item 5), then that the
    # server is slow; never only two greyed buttons.
    status = page.locator("#confirm-panel #save-status")
    expect(status).to_be_visible()
    expect(status).to_contain_text("Menyimpan…")
    expect(page.locator("#save")).to_have_text("Menyimpan…")
    expect(page.locator("#save")).to_be_disabled()
    expect(status).to_contain_text("Server lambat menjawab", timeout=6_000)
    expect(status).to_be_in_viewport()
    page.screenshot(path=f"test-artifacts/fix-b-{size[0]}x{size[1]}.png")
    expect(page.locator("#result-panel")).to_be_visible(timeout=20_000)
    expect(status).to_be_hidden()
    expect(page.locator(".outbox-item.synced")).to_have_count(1, timeout=30_000)
    assert _deposits() == [(member_no, 4875, 4875, [("PET-CLEAN", 1500, 4875)])]
    for route in held:
        with contextlib.suppress(Exception):  # the page gave up on it already
            route.abort()
    context.close()


def test_session_ended_keeps_queue_until_login_again(browser, live_server, net):
    """C15 with 401: the operator's session and device token end (logged out elsewhere); the
    deposit stays queued and visible; after logging in again it goes out with the same key."""
    member_no = net.members_a[0].member_no
    context, page = _tablet(browser, live_server)
    _open_deposit(page, member_no)
    _device_ready(page)
    _end_sessions("op_a")
    _capture(page)
    expect(page.locator("#outbox-auth")).to_contain_text("Sesi sudah berakhir")
    expect(page.locator(".outbox-item.queued")).to_have_count(1)
    assert _deposits() == []
    key = _items(page)[0]["key"]
    page.locator("#outbox-auth a").click()
    page.fill("#username", "op_a")
    page.fill("#password", PASSWORD)
    page.click("main button[type=submit]")
    expect(page.locator(".outbox-item.synced")).to_have_count(1, timeout=20_000)
    assert [item["key"] for item in _items(page)] == [key]
    assert _deposits() == [(member_no, 4875, 4875, [("PET-CLEAN", 1500, 4875)])]
    context.close()


def test_refused_deposit_is_corrected_and_resent_with_a_new_key(browser, live_server, net):
    """A 422 moves the item to "perlu diperbaiki"; the operator corrects it; the correction
    is a new request (new key) and the refused one leaves the list. Nothing is dropped."""
    member_no = net.members_a[0].member_no
    context, page = _tablet(browser, live_server)
    _open_deposit(page, member_no)
    # The server's line limit drops after the tablet loaded its prices: 20 kg is now too much.
    db.session.execute(update(WasteCategory).where(WasteCategory.code == "PET-CLEAN").values(max_line_milli=10_000))
    db.session.commit()
    db.session.close()
    _capture(page, [("PET-CLEAN", "20")])
    item = page.locator(".outbox-item.fix")
    expect(item).to_contain_text("perlu diperbaiki")
    expect(item).to_contain_text("10 kg")
    expect(page.locator("#result-panel h2")).to_have_text("Server menolak setoran ini")
    old_key = _items(page)[0]["key"]
    assert _deposits() == []
    page.reload()  # still there after a reload
    expect(page.locator(".outbox-item.fix")).to_have_count(1)
    page.locator(".outbox-item.fix a.fix").click()
    expect(page.locator("#lines-0-quantity")).to_have_value("20")
    expect(page.locator("#deposit-error")).to_contain_text("10 kg")
    page.fill("#lines-0-quantity", "8")
    page.click("#review")
    expect(page.locator("#confirm-credited")).to_have_text("Rp 26.000")
    page.click("#save")
    page.wait_for_url(re.compile(r"/counter/receipt/[^/?]+\?new=1$"))
    assert _deposits() == [(member_no, 26000, 26000, [("PET-CLEAN", 8000, 26000)])]
    items = _items(page)
    assert [i["state"] for i in items] == ["synced"] and items[0]["key"] != old_key
    context.close()


def test_validation_as_you_type_uses_the_servers_messages(browser, live_server, net):
    context, page = _tablet(browser, live_server)
    _open_deposit(page, net.members_a[0].member_no)
    page.locator("button.tile[data-code='PET-CLEAN']").click()
    row = page.locator("tr.line").nth(0)
    for typed, message in [("abc", "Masukkan angka"), ("1.500,5", "satu tanda desimal"), ("0", "lebih dari nol"),
                           ("600", "500 kg")]:
        page.fill("#lines-0-quantity", typed)
        expect(row.locator("p.live")).to_contain_text(message)
    page.fill("#lines-0-quantity", "5 ons")
    expect(row.locator("p.live")).to_be_hidden()
    expect(row.locator(".amount")).to_have_text("Rp 1.625")
    # A tile whose category already has a line focuses that line instead of adding another.
    page.locator("button.tile[data-code='PET-CLEAN']").click()
    expect(page.locator("tr.line")).to_have_count(1)
    expect(page.locator("#lines-0-quantity")).to_be_focused()
    # A weight with no category is refused before the check step.
    page.locator("button.tile[data-code='CARDBOARD']").click()
    page.select_option("#lines-1-category", "")
    page.fill("#lines-1-quantity", "2")
    expect(page.locator("tr.line").nth(1).locator("p.live")).to_contain_text("Pilih jenis sampah")
    page.click("#review")
    expect(page.locator("#confirm-panel")).to_be_hidden()
    assert _deposits() == []
    context.close()


def test_queue_of_five_served_offline_then_synced(browser, live_server, net):
    """Offline from the first resident to the last: each is found by number as operators type
    it, weighed, saved to the tablet; when the connection returns all five go out, once each."""
    from wastebank.services.members import create_member

    for name in ("Warga Antre Empat", "Warga Antre Lima"):
        create_member(db.session.get(type(net.unit_a), net.unit_a.id), name)
    db.session.commit()
    numbers = sorted(db.session.scalars(select(Member.member_no).where(Member.unit_id == net.unit_a.id)))
    db.session.close()
    assert len(numbers) == 5
    context, page = _tablet(browser, live_server, service_worker=True)
    page.goto("/counter")
    _device_ready(page)
    _until(page, "async () => (await caches.keys()).length > 0 && "
                 "!!(await (await caches.open((await caches.keys())[0])).match('/counter/shell/deposit'))")
    _controlled(page)
    context.set_offline(True)
    for index, number in enumerate(numbers):
        page.goto("/counter")
        typed = str(int(number.split("-")[1]))  # "3" for RW05-0003
        page.fill("#q", typed)
        page.click("#find-form button[type=submit]")
        page.wait_for_url(f"**/counter/member/{number}/deposit")
        expect(page.locator("#deposit-form[data-ready='1']")).to_be_attached()
        expect(page.locator(".member-head h1")).not_to_be_empty()
        _capture(page, [("PET-CLEAN", f"{index + 1},5")])
        expect(page.locator("#result-panel h2")).to_have_text("Tersimpan di tablet ini")
        page.locator("#result-slip").click()
        expect(page.locator("#provisional-slip")).to_contain_text("SEMENTARA")
        page.locator("#slip-close").click()
    assert _deposits() == []
    expect(page.locator(".outbox-item.queued")).to_have_count(5)
    context.set_offline(False)
    page.evaluate("() => window.dispatchEvent(new Event('online'))")
    # The panel keeps the find box near the top: the latest three sent, the rest counted.
    expect(page.locator("#outbox-more")).to_have_text("dan 2 lagi sudah terkirim hari ini", timeout=30_000)
    expect(page.locator(".outbox-item.synced")).to_have_count(3)
    expect(page.locator(".outbox-item.queued")).to_have_count(0)
    recorded = _deposits()
    assert [(r[0], r[1]) for r in recorded] == [
        (number, (2 * (i * 1000 + 1500) * 3250 + 1000) // 2000) for i, number in enumerate(numbers)]
    context.close()


def test_two_tabs_draining_at_once_send_each_item_once(browser, live_server, net):
    """Wi-Fi that says "connected" but drops every request, three deposits queued, then two
    tabs of the same tablet both try to send: each item reaches the server once."""
    member_no = net.members_a[0].member_no
    context, page = _tablet(browser, live_server)
    down = {"on": True}
    sent = []

    def network(route):
        if down["on"]:
            route.abort("connectionrefused")
        else:
            sent.append(route.request.headers.get("idempotency-key"))
            route.continue_()

    context.route(API, network)
    _open_deposit(page, member_no)
    for weight in ("1", "2", "3"):
        _capture(page, [("PET-CLEAN", weight)])
        expect(page.locator("#result-panel h2")).to_have_text("Tersimpan di tablet ini")
        _open_deposit(page, member_no)
    second = context.new_page()
    second.goto(f"/counter/member/{member_no}/deposit")
    expect(second.locator(".outbox-item.queued")).to_have_count(3)
    down["on"] = False
    for tab in (page, second):
        tab.evaluate("() => { window.wastebankCounter.sync.kick(0); }")
    expect(page.locator(".outbox-item.synced")).to_have_count(3, timeout=30_000)
    expect(second.locator(".outbox-item.synced")).to_have_count(3, timeout=30_000)
    assert len(sent) == 3 and len(set(sent)) == 3, sent
    assert [r[1] for r in _deposits()] == [3250, 6500, 9750]  # in capture order
    context.close()


def test_reload_between_capture_and_sync_and_stale_warning(browser, live_server, net):
    """C16: a deposit captured offline 8 days ago on this tablet is still queued, with the
    warning, and goes out with its capture time."""
    member_no = net.members_a[1].member_no
    context, page = _tablet(browser, live_server, service_worker=True)
    _open_deposit(page, member_no)
    _device_ready(page)
    eight_days_ago = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(days=8)
    page.clock.install(time=eight_days_ago)
    context.set_offline(True)
    _capture(page)
    expect(page.locator("#result-panel")).to_be_visible()
    page.clock.set_system_time(datetime.now(timezone.utc))
    page.reload()
    day = (eight_days_ago + timedelta(hours=7)).strftime("%d-%m-%Y")  # as the queue's times: "03-12-2026 13.14 WIB"
    expect(page.locator("#outbox-stale")).to_have_text(
        re.compile(rf"1 catatan di tablet ini belum terkirim sejak {day} \d\d\.\d\d WIB"))
    expect(page.locator(".outbox-item.queued")).to_have_count(1)
    context.set_offline(False)
    page.evaluate("() => { window.dispatchEvent(new Event('online')); }")
    expect(page.locator(".outbox-item.synced")).to_have_count(1, timeout=30_000)
    deposit = db.session.scalars(select(Deposit)).one()
    assert abs((deposit.recorded_at - eight_days_ago).total_seconds()) < 5, deposit.recorded_at
    assert deposit.posted_at - deposit.recorded_at > timedelta(days=7)
    db.session.close()
    context.close()


def test_the_queue_goes_out_from_the_offline_page(browser, live_server, net):
    """The page the service worker shows for a page it does not hold ("Tidak ada koneksi",
    /counter/offline) holds the queue inside a card. Mounting the cancelled-withdrawals list there
    threw before the sender started, so a reload while offline that landed on it kept every
    queued deposit on the tablet (the C16 test failed about half the time)."""
    member_no = net.members_a[0].member_no
    context, page = _tablet(browser, live_server)
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: errors.append(message.text) if message.type == "error"
            and "Failed to load resource" not in message.text else None)
    page.route(API, lambda route: route.abort("internetdisconnected"))
    _open_deposit(page, member_no)
    _device_ready(page)
    _capture(page)
    expect(page.locator("#result-panel h2")).to_have_text("Tersimpan di tablet ini")
    expect(page.locator(".outbox-item.queued")).to_have_count(1)
    page.unroute(API)
    page.goto("/counter/offline")
    expect(page.locator("main h1")).to_have_text("Tidak ada koneksi")
    expect(page.locator(".outbox-item.synced")).to_have_count(1, timeout=20_000)
    before = page.evaluate("() => document.getElementById('outbox-cancelled').previousElementSibling.id")
    assert before == "outbox-panel"
    assert _deposits() == [(member_no, 4875, 4875, [("PET-CLEAN", 1500, 4875)])]
    assert errors == []
    context.close()


def test_no_device_token_and_no_answer_is_not_an_ended_session(browser, live_server, net):
    """A tablet without a stored device token whose request for one gets no answer (the Wi-Fi
    drops it) is offline, not logged out: the queue says it waits for the connection, offers
    "Kirim sekarang", and sends once the network answers. It said "Sesi sudah berakhir. Masuk
    lagi" and waited 30 s, though the session was fine."""
    member_no = net.members_a[0].member_no
    context, page = _tablet(browser, live_server)
    _open_deposit(page, member_no)
    _device_ready(page)
    page.evaluate("() => window.wastebankCounter.store.deleteValue('token:op_a')")
    page.route("**/counter/device-token", lambda route: route.abort("connectionreset"))
    _capture(page)
    expect(page.locator("#result-panel h2")).to_have_text("Tersimpan di tablet ini")
    expect(page.locator(".outbox-item.queued")).to_have_count(1)
    expect(page.locator("#outbox-sync")).to_be_visible()
    expect(page.locator("#outbox-auth")).to_have_count(0)
    expect(_panel(page)).not_to_contain_text("Sesi sudah berakhir")
    # The item says why it waits (it said only "menunggu": a tester); it never left the tablet.
    expect(page.locator(".outbox-item.queued .reason")).to_have_text("Server belum menjawab; dicoba lagi otomatis.")
    assert [item.get("maybe_arrived") for item in _items(page)] in ([False], [None])
    assert _deposits() == []
    page.unroute("**/counter/device-token")
    page.click("#outbox-sync")
    expect(page.locator(".outbox-item.synced")).to_have_count(1, timeout=10_000)
    expect(_panel(page)).not_to_contain_text("Sesi sudah berakhir")
    assert _deposits() == [(member_no, 4875, 4875, [("PET-CLEAN", 1500, 4875)])]
    context.close()


@pytest.mark.parametrize("size", [(800, 1280), (1280, 800)], ids=["portrait", "landscape"])
def test_saved_after_the_day_is_closed_waits_for_the_reopen(browser, live_server, net, size):
    """After the manager closes today a save is kept on the tablet, as the closed-day banner says
    (never "perlu diperbaiki" with "Hapus": a tester saw that under the banner, and removing it
    loses the member's deposit), and it goes by itself once the day is reopened: recorded once."""
    from wastebank.models import Unit, User
    from wastebank.services.cashbook import close_day, reopen_day
    from wastebank.services.transaction import run_in_transaction
    from wastebank.timeutil import local_today

    from .test_browser_screens import _check

    width, height = size
    member_no = net.members_a[0].member_no
    context, page = _tablet(browser, live_server, viewport={"width": width, "height": height})
    _open_deposit(page, member_no)
    unit = db.session.scalars(select(Unit).where(Unit.code == "RW05")).one()
    manager = db.session.scalars(select(User).where(User.username == "mgr_a")).one()
    unit_id, manager_id = unit.id, manager.id
    close = run_in_transaction(lambda: close_day(unit, local_today(), "0", manager))
    db.session.close()
    _capture(page)
    result = page.locator("#result-panel")
    expect(result.locator("h2")).to_have_text("Tersimpan di tablet ini")
    expect(result.locator("p.what")).to_have_text(
        "Belum terkirim (Rp 4.875): pembukuan hari ini sudah ditutup. Setoran ini disimpan di tablet dan dikirim "
        "otomatis setelah pengurus unit membuka kembali hari ini. Anda dapat melayani nasabah berikutnya.")
    expect(page.locator("#result-fix")).to_be_hidden()
    item = page.locator(".outbox-item.queued")
    expect(item.locator(".reason")).to_have_text(
        "Pembukuan hari ini sudah ditutup; disimpan di tablet ini dan dikirim otomatis setelah pengurus unit "
        "membuka kembali hari ini.")
    expect(item.locator("button.dismiss, a.fix")).to_have_count(0)   # nothing invites removing it
    assert _deposits() == []
    page.reload()  # every counter page now warns before anyone weighs; the deposit still waits
    expect(page.locator("#outbox-day-closed")).to_contain_text("Pembukuan hari ini sudah ditutup")
    expect(page.locator(".outbox-item.queued")).to_have_count(1)
    expect(page.locator(".outbox-item.fix")).to_have_count(0)
    assert _check(page, f"day-closed-kept-{width}", width, height, prefix="outbox") == []
    assert _deposits() == []
    unit = db.session.get(Unit, unit_id)
    manager = db.session.get(User, manager_id)
    run_in_transaction(lambda: reopen_day(unit, local_today(), "setoran antrean terakhir", manager))
    db.session.close()
    page.reload()  # reopened: the warning is gone and the kept deposit goes without a tap
    expect(page.locator("#outbox-day-closed")).to_have_count(0)
    expect(page.locator(".outbox-item.synced")).to_have_count(1, timeout=20_000)
    assert _deposits() == [(member_no, 4875, 4875, [("PET-CLEAN", 1500, 4875)])]
    assert close is not None
    context.close()


def test_items_of_the_old_version_are_sent_after_the_new_one_takes_over(browser, live_server, net, monkeypatch):
    """C18: version A controls the page and holds queued items (the first offline version kept
    them in localStorage); version B is deployed; after two reloads B runs and A's items went out."""
    from wastebank.counter import offline

    member_no = net.members_a[2].member_no
    context, page = _tablet(browser, live_server, service_worker=True)
    page.goto("/counter")
    _until(page, "async () => (await caches.keys()).length === 1")
    version_a = page.evaluate("async () => (await caches.keys()).join(',')")
    legacy = [{"key": "legacyc18key00000000000000000001", "username": "op_a", "member": member_no,
               "member_name": "Ñoño", "lines": [{"category": "PET-CLEAN", "quantity": "1,5"}],
               "recorded_at": (datetime.now(timezone.utc) - timedelta(hours=1)).isoformat(),
               "captured": "", "estimate": "Rp 4.875", "state": "queued"}]
    import json
    page.evaluate(f"() => localStorage.setItem('wastebank.outbox', {json.dumps(json.dumps(legacy))})")
    real = offline._static_manifest

    def version_b(folder):
        version, urls = real(folder)
        return "v2-" + version, urls  # never a hash of the files: surely another version

    monkeypatch.setattr(offline, "_static_manifest", version_b)
    page.reload()
    page.reload()
    _until(page, "async () => (await caches.keys()).some(k => k.startsWith('wastebank-v2-'))")
    settled = ("async () => { const r = await navigator.serviceWorker.getRegistration();"
               " return !!(r && r.active && !r.waiting && !r.installing); }")
    # B's cache exists from the start of its install; the install (the whole static precache)
    # can take seconds more on a loaded machine before B waits or runs.
    _until(page, "async () => { const r = await navigator.serviceWorker.getRegistration();"
                 " return !!(r && !r.installing); }", timeout=30)
    # B runs by itself after the two reloads, or, while it still waits (a busy machine), the
    # operator's one tap on "Versi baru tersedia" gives it: the other way the case allows.
    deadline, tapped = time.monotonic() + 60, False

    def b_runs() -> bool:
        try:
            return page.evaluate(settled)
        except sync_api.Error:  # the tap reloads the page under the evaluation
            return False

    while not b_runs():
        assert time.monotonic() < deadline, "version B neither ran nor offered the banner"
        banner = page.locator("#update-banner button")
        if not tapped and time.monotonic() > deadline - 50 and banner.count():
            # The tap reloads the page into version B: Playwright's click would wait for that
            # navigation (it timed out once in CI while B's install finished), so tap from the
            # page itself and let the loop watch B take over.
            with contextlib.suppress(sync_api.Error):
                page.evaluate("() => setTimeout(() => { const b = document.querySelector('#update-banner button');"
                              " if (b) { b.click(); } }, 0)")
            tapped = True
        time.sleep(0.2)
    assert version_a != page.evaluate("async () => (await caches.keys()).join(',')")
    expect(page.locator(".outbox-item.synced")).to_have_count(1, timeout=20_000)
    assert _deposits() == [(member_no, 4875, 4875, [("PET-CLEAN", 1500, 4875)])]
    assert page.evaluate("() => localStorage.getItem('wastebank.outbox')") is None
    context.close()


@pytest.fixture
def short_csrf(monkeypatch):
    """CSRF tokens that expire after four seconds (the counter default is a whole shift); long
    enough for the login form on a loaded machine."""
    from config import TestingConfig

    monkeypatch.setattr(TestingConfig, "WTF_CSRF_TIME_LIMIT", 4)


def test_expired_csrf_token_never_loses_the_deposit(browser, short_csrf, live_server, net):
    """C19: the confirmation left open longer than the CSRF lifetime, then "Simpan"."""
    member_no = net.members_a[0].member_no
    context, page = _tablet(browser, live_server)
    _open_deposit(page, member_no)
    page.evaluate("() => window.wastebankCounter.store.deleteValue('token:op_a')")  # no device token yet
    page.locator("button.tile[data-code='PET-CLEAN']").click()
    page.keyboard.type("1,5")
    page.click("#review")
    time.sleep(5)  # the page's CSRF token is now expired: the server refuses it
    refused = page.evaluate("""async () => (await fetch('/api/v1/deposits', {method: 'POST',
        headers: {'Content-Type': 'application/json', 'Idempotency-Key': 'csrf-probe-000000000001',
                  'X-CSRFToken': document.querySelector('meta[name=csrf-token]').content},
        body: JSON.stringify({member: 'x', lines: []})})).status""")
    assert refused == 400
    page.click("#save")
    page.wait_for_url(re.compile(r"/counter/receipt/[^/?]+\?new=1$"))
    assert _deposits() == [(member_no, 4875, 4875, [("PET-CLEAN", 1500, 4875)])]
    context.close()


def test_withdrawal_save_goes_through_the_outbox_once(browser, live_server, net):
    """A cash withdrawal whose save request dies on the network is kept, the operator is told
    not to hand out the money yet, and the outbox records it once with the form's key."""
    from wastebank.models import Withdrawal

    member_no = net.members_a[0].member_no
    _seed_savings(member_no, "4", "seed-withdrawal-test-0001")
    context, page = _tablet(browser, live_server)
    handler, calls, _ = _faults("abort")
    page.route("**/api/v1/withdrawals", handler)
    page.goto(f"/counter/member/{member_no}/withdraw")
    page.fill("#amount", "5.000")
    page.click("#review")
    expect(page.locator("#confirm-amount")).to_have_text("−Rp 5.000")
    page.wait_for_function("() => document.documentElement.dataset.counterReady === '1'")
    page.click("#save")
    expect(page.locator("#withdraw-result")).to_contain_text("Jangan serahkan uang")
    expect(page.locator(".outbox-item.synced")).to_have_count(1, timeout=20_000)
    assert len(calls) == 2 and calls[0] == calls[1]
    rows = [(w.amount_idr, w.method, w.status) for w in db.session.scalars(select(Withdrawal))]
    db.session.close()
    assert rows == [(5000, "cash", "paid")]
    assert _balance(member_no) == 13000 - 5000
    context.close()


def test_another_operator_sees_that_the_first_ones_queue_waits(browser, live_server, net):
    """Op A's deposit is queued (the network drops it) and A logs out; the manager who logs in
    on the same tablet is told it waits; when A logs in again it goes out, recorded as A's."""
    from wastebank.models import User

    member_no = net.members_a[0].member_no
    context, page = _tablet(browser, live_server)
    down = {"on": True}
    context.route(API, lambda route: route.abort("connectionrefused") if down["on"] else route.continue_())
    _open_deposit(page, member_no)
    _capture(page)
    expect(page.locator("#result-panel h2")).to_have_text("Tersimpan di tablet ini")
    page.locator("form[action$='/logout'] button").click()
    # Their own unsent item: the tablet asks first (c2a8085); they log out anyway.
    expect(page.locator("#logout-leave")).to_have_text("Tetap keluar")
    page.locator("#logout-leave").click()
    expect(page.locator(".flash")).to_have_text("Anda sudah keluar.")
    _log_in(page, "mgr_a")
    expect(page.locator("#outbox-others")).to_contain_text(
        "1 catatan yang disimpan Dewi Operator di tablet ini belum terkirim")   # op_a's full name
    down["on"] = False
    page.locator("form[action$='/logout'] button").click()
    # The logout goes after the tablet's check of the queue (c2a8085): wait for it to land.
    expect(page.locator(".flash")).to_have_text("Anda sudah keluar.")
    _log_in(page, "op_a")
    expect(page.locator(".outbox-item.synced")).to_have_count(1, timeout=20_000)
    deposit = db.session.scalars(select(Deposit)).one()
    assert deposit.operator_id == db.session.scalar(select(User.id).where(User.username == "op_a"))
    assert deposit.total_idr == 4875
    db.session.close()
    context.close()


def test_withdrawal_changed_while_unsent_records_what_the_screen_shows(browser, live_server, net):
    """Field test: a withdrawal kept on the tablet (network down), then "Ubah" to another
    amount and saved again — the ledger records the amount on screen, once."""
    from wastebank.models import Withdrawal

    member_no = net.members_a[1].member_no
    _seed_savings(member_no, "10", "seed-withdrawal-test-0002")
    context, page = _tablet(browser, live_server)
    down = {"on": True}
    context.route("**/api/v1/withdrawals",
                  lambda route: route.abort("connectionrefused") if down["on"] else route.continue_())
    _save_withdrawal(page, member_no, "10.000")
    page.get_by_role("button", name="Ubah").click()
    page.fill("#amount", "15.000")
    page.click("#review")
    expect(page.locator("#confirm-amount")).to_have_text("−Rp 15.000")
    page.wait_for_function("() => document.documentElement.dataset.counterReady === '1'")
    page.click("#save")
    expect(page.locator("#withdraw-result")).to_contain_text("Jangan serahkan uang")
    assert [i["body"]["amount_idr"] for i in _items(page)] == [15000]
    down["on"] = False
    page.evaluate("() => window.wastebankCounter.sync.kick(0)")
    page.wait_for_url(re.compile(r"/counter/withdrawal/\d+\?new=1$"), timeout=20_000)
    rows = [(w.amount_idr, w.status) for w in db.session.scalars(select(Withdrawal))]
    db.session.close()
    assert rows == [(15000, "paid")]
    assert _balance(member_no) == 32500 - 15000
    context.close()


def test_logout_forgets_the_offline_pages(browser, live_server, net):
    """After logout no counter page opens offline for whoever picks the tablet up next."""
    context, page = _tablet(browser, live_server, service_worker=True)
    page.goto("/counter")
    has_shell = ("async () => { const keys = await caches.keys(); if (!keys.length) return false;"
                 " return !!(await (await caches.open(keys[0])).match('/counter/shell/deposit')); }")
    _until(page, has_shell)
    _controlled(page)
    page.locator("form[action$='/logout'] button").click()
    page.wait_for_url("**/login**")
    _until(page, f"async () => !(await ({has_shell})())")
    assert page.evaluate("async () => (await window.caches.keys()).length") == 1  # the static files stay
    context.close()


@pytest.mark.parametrize("size", [(800, 1280), (1280, 800)], ids=["portrait", "landscape"])
def test_an_unsent_withdrawal_is_cancelled_when_the_member_leaves_without_the_cash(browser, live_server, net, size):
    """Tester: a withdrawal saved offline could not be cancelled and was booked as paid whenever
    the tablet was online again, though the member had gone home without the cash. Now the queue
    offers "Batalkan penarikan" while it is unsent; cancelled, it is never sent."""
    from wastebank.models import Withdrawal

    from .test_browser_screens import _check

    width, height = size
    member_no = net.members_a[0].member_no
    _seed_savings(member_no, "4", "seed-cancel-withdrawal-01")   # Rp 13.000
    context, page = _tablet(browser, live_server, viewport={"width": width, "height": height})
    asked = []
    page.on("dialog", lambda dialog: asked.append(dialog.message))   # _tablet's own listener accepts
    page.goto(f"/counter/member/{member_no}/withdraw")
    page.fill("#amount", "5.000")
    page.click("#review")
    page.wait_for_function("() => document.documentElement.dataset.counterReady === '1'")
    context.set_offline(True)
    page.click("#save")
    expect(page.locator("#withdraw-result")).to_contain_text("Jangan serahkan uang")
    item = page.locator(".outbox-item.queued")
    expect(item).to_contain_text("Penarikan")
    expect(page.locator("#outbox-offline")).to_have_text(
        "Tidak ada koneksi: setoran dan penarikan disimpan di tablet ini dan dikirim otomatis.")
    # In sight without scrolling, landscape too (the queue above pushed it below the fold: a tester).
    page.wait_for_timeout(400)   # the queue panel is redrawn at most every 150 ms
    expect(page.locator("#withdraw-result")).to_be_in_viewport(ratio=1)
    assert _check(page, f"withdrawal-unsent-{width}", width, height, prefix="outbox") == []
    at = page.url
    page.get_by_role("button", name="Ubah").click()   # offline: never the browser's error page
    expect(page.locator("#withdraw-result")).to_have_text(
        "Tidak ada koneksi: untuk mengubah penarikan perlu koneksi. Tunggu sampai tablet tersambung lagi.")
    assert page.url == at
    item.locator("button.cancel").click()
    expect(page.locator(".outbox-item")).to_have_count(0)
    assert asked == ["Batalkan penarikan Siti Aminah (Rp 5.000)? Penarikan ini belum sampai di server dan tidak "
                     "akan dikirim. Jangan serahkan uangnya."]
    expect(page.locator("#withdraw-result")).to_have_text(
        "Penarikan dibatalkan di tablet ini: tidak akan dikirim. Jangan serahkan uangnya.")
    expect(page.locator("#save")).to_be_hidden()
    context.set_offline(False)
    page.evaluate("() => { window.dispatchEvent(new Event('online')); window.wastebankCounter.sync.kick(0); }")
    page.goto("/counter")
    expect(page.locator(".outbox-item")).to_have_count(0)
    assert db.session.scalars(select(Withdrawal)).all() == []
    db.session.close()
    assert _balance(member_no) == 13000
    context.close()


def test_a_withdrawal_whose_reply_was_lost_warns_before_it_is_cancelled(browser, live_server, net):
    """The reply to the save was lost (the server recorded it) and the next try is not answered
    either: cancelling is allowed, but the question says it may already be recorded and who
    voids it; it is recorded once and not sent again."""
    from wastebank.models import Withdrawal

    member_no = net.members_a[0].member_no
    _seed_savings(member_no, "4", "seed-cancel-withdrawal-02")
    context, page = _tablet(browser, live_server)
    asked = []
    page.on("dialog", lambda dialog: asked.append(dialog.message))
    down = {"on": False}

    def lose_reply(route):
        if down["on"]:
            route.abort("connectionreset")
            return
        route.fetch()               # reaches the server, which records it …
        down["on"] = True
        route.abort("connectionreset")   # … and the answer is lost; later tries die on the way

    page.route("**/api/v1/withdrawals", lose_reply)
    _save_withdrawal(page, member_no, "5.000")
    page.locator(".outbox-item.queued button.cancel").click()
    expect(page.locator(".outbox-item")).to_have_count(0)
    assert len(asked) == 1 and "mungkin sudah sampai di server sebelum koneksi putus" in asked[0], asked
    assert "minta pengurus unit membatalkannya" in asked[0]
    down["on"] = False
    page.unroute("**/api/v1/withdrawals")
    page.evaluate("() => window.wastebankCounter.sync.kick(0)")
    page.goto("/counter")
    expect(page.locator(".outbox-item")).to_have_count(0)
    rows = [(w.amount_idr, w.status) for w in db.session.scalars(select(Withdrawal))]
    db.session.close()
    assert rows == [(5000, "paid")]          # the one the server had; not sent again
    context.close()


def test_a_withdrawal_sent_later_on_another_page_asks_to_hand_over_the_cash(browser, live_server, net):
    """Tester: a withdrawal kept on the tablet went out by itself on /counter once the network
    was back, and "terkirim" was the only sign. The queue now says it was recorded as paid and to
    hand the money over now (or have it voided) until the operator taps "Uang sudah diserahkan"."""
    from wastebank.models import Withdrawal

    from .test_browser_screens import _check

    member_no = net.members_a[0].member_no
    _seed_savings(member_no, "4", "seed-hand-over-withdrawal-01")
    context, page = _tablet(browser, live_server)
    down = {"on": True}
    context.route("**/api/v1/withdrawals",
                  lambda route: route.abort("connectionrefused") if down["on"] else route.continue_())
    _save_withdrawal(page, member_no, "5.000")
    page.goto("/counter")                       # the operator serves the next member
    down["on"] = False
    page.evaluate("() => window.wastebankCounter.sync.kick(0)")
    item = page.locator(".outbox-item.synced")
    expect(item.locator(".hand-over")).to_have_text(re.compile(
        r"^Tercatat dibayar \(RW05-\d{4}-\d{6}\) saat dikirim dari antrean: serahkan Rp 5\.000 kepada Siti Aminah "
        r"sekarang\. Jika nasabah sudah pulang, minta pengurus unit membatalkannya\.$"), timeout=20_000)
    assert _check(page, "withdrawal-hand-over", 800, 1280, prefix="outbox") == []
    item.locator("button.handed").click()
    expect(page.locator(".hand-over")).to_have_count(0)
    page.reload()
    expect(page.locator(".outbox-item.synced")).to_have_count(1)
    expect(page.locator(".hand-over")).to_have_count(0)
    rows = [(w.amount_idr, w.status) for w in db.session.scalars(select(Withdrawal))]
    db.session.close()
    assert rows == [(5000, "paid")]
    context.close()


def test_a_withdrawal_behind_a_held_deposit_is_refused_now_and_never_paid_by_itself(browser, live_server, net):
    """Tester: today closed, a deposit waits on the tablet, then a withdrawal is saved: it waited
    behind the deposit, was never refused, and after the reopen went out by itself, paid, the
    member long gone. Now it is refused at once (the member is at the counter), is not resent by
    the sender after the reopen, and the closed-day banner goes once a deposit is recorded."""
    from wastebank.models import Unit, User, Withdrawal
    from wastebank.services.cashbook import close_day, reopen_day
    from wastebank.services.transaction import run_in_transaction
    from wastebank.timeutil import local_today

    member_no = net.members_a[0].member_no
    _seed_savings(member_no, "4", "seed-held-withdrawal-01")
    unit = db.session.scalars(select(Unit).where(Unit.code == "RW05")).one()
    manager = db.session.scalars(select(User).where(User.username == "mgr_a")).one()
    unit_id, manager_id = unit.id, manager.id
    context, page = _tablet(browser, live_server)
    # The withdrawal's check is open in another tab since before the close: a withdrawal screen
    # drawn after it, or in a tab that learnt of it, offers no save at all
    # (tests/test_browser_withdraw_day_closed.py).
    check = context.new_page()
    check.goto(f"/counter/member/{member_no}/withdraw")
    check.fill("#amount", "5.000")
    check.click("#review")
    check.wait_for_function("() => document.documentElement.dataset.counterReady === '1'")
    _open_deposit(page, member_no)
    run_in_transaction(lambda: close_day(unit, local_today(), "0", manager))
    db.session.close()
    _capture(page)
    expect(page.locator(".outbox-item.queued .reason")).to_contain_text("Pembukuan hari ini sudah ditutup")
    check.click("#save")
    expect(check.locator("#withdraw-result")).to_contain_text("Penarikan ditolak")
    expect(check.locator("#withdraw-result")).to_contain_text("sudah ditutup")
    check.close()
    expect(page.locator(".outbox-item.fix")).to_have_count(1)
    run_in_transaction(lambda: reopen_day(db.session.get(Unit, unit_id), local_today(), "antrean",
                                          db.session.get(User, manager_id)))
    db.session.close()
    # The sender's own resend (every minute) as if the minute had passed: the deposit goes, the
    # withdrawal stays refused until the operator taps "Kirim ulang".
    page.evaluate("""async () => {
        const store = window.wastebankCounter.store;
        for (const item of await store.allItems()) {
            await store.updateItem(item.key, (it) => Object.assign(it, { last_try: '2000-01-01T00:00:00Z' }));
        }
        window.wastebankCounter.sync.kick(0);
    }""")
    expect(page.locator(".outbox-item.synced")).to_have_count(1, timeout=20_000)
    expect(page.locator("#outbox-day-closed")).to_have_count(0)   # recorded: today is open again
    page.evaluate("() => window.wastebankCounter.sync.kick(0)")
    time.sleep(1.5)
    expect(page.locator(".outbox-item.fix")).to_have_count(1)
    assert db.session.scalars(select(Withdrawal)).all() == []
    db.session.close()
    # The seed's 4 kg and the held deposit, once.
    assert _deposits()[1:] == [(member_no, 4875, 4875, [("PET-CLEAN", 1500, 4875)])]
    context.close()


def test_a_request_waiting_for_approval_is_named_so_in_the_queue_and_a_late_cancel_says_so(browser, live_server, net):
    """Tester: a withdrawal request above the approval limit showed as a green "terkirim ·" with
    nothing after the dot. It reads "menunggu persetujuan" with "Buka" to its page. And a cancel
    that comes after the sender took the item (another tab) deletes nothing."""
    from wastebank.models import Unit, Withdrawal

    member_no = net.members_a[0].member_no
    _seed_savings(member_no, "20", "seed-approval-withdrawal-01")   # Rp 65.000
    db.session.execute(update(Unit).where(Unit.code == "RW05").values(approval_threshold_idr=20_000))
    db.session.commit()
    context, page = _tablet(browser, live_server)
    page.goto(f"/counter/member/{member_no}/withdraw")
    page.fill("#amount", "30.000")
    page.click("#review")
    page.wait_for_function("() => document.documentElement.dataset.counterReady === '1'")
    page.click("#save")
    page.wait_for_url(re.compile(r"/counter/withdrawal/\d+$"), timeout=20_000)
    page.goto("/counter")
    item = page.locator(".outbox-item.synced")
    expect(item.locator(".state")).to_have_text("menunggu persetujuan")
    expect(item.locator("a.receipt-link")).to_have_text("Buka")
    assert re.search(r"/counter/withdrawal/\d+$", item.locator("a.receipt-link").get_attribute("href"))
    rows = [(w.amount_idr, w.status) for w in db.session.scalars(select(Withdrawal))]
    db.session.close()
    assert rows == [(30000, "pending")]
    # The sender took a queued withdrawal just before "Batalkan" went through: nothing is deleted.
    kept = page.evaluate("""async () => {
        const { store, sync } = window.wastebankCounter;
        await store.putItem({ key: 'latecancel0000000000000000000001', kind: 'withdrawal', username: 'op_a',
                              member_no: 'X', state: 'sending', body: { amount_idr: 1000 },
                              captured_at: new Date().toISOString() });
        const cancelled = await sync.cancel('latecancel0000000000000000000001');
        const still = await store.getItem('latecancel0000000000000000000001');
        await store.deleteItem('latecancel0000000000000000000001');
        return [cancelled, !!still];
    }""")
    assert kept == [False, True]
    context.close()
