"""A tester (F7): the operator tapped "Keluar" while two of their deposits were still unsent on
the tablet and saw only "Anda sudah keluar."; those items go out only when the same operator logs
in again on this tablet. Now "Keluar" asks first, in a dialog whose default is to stay
(static/counter/logout-guard.js, logout-guard-core.js):

  "Masih ada 1 setoran (Rp 4.875) yang belum terkirim dari tablet ini. Setelah keluar, baru
  terkirim saat Anda masuk lagi di tablet ini. Tetap keluar?"   [Batal]  [Tetap keluar]

"Batal" keeps the session, the item and the device token; "Tetap keluar" logs out, the item stays
on the tablet and goes out (once) at the next login. With nothing of one's own unsent there is no
question. Chromium through Playwright at 800x1280 and 1280x800; the deposits API is dropped with
``page.route``; screenshots ``test-artifacts/logout-guard-*-<w>x<h>.png``.
"""
from __future__ import annotations

import pytest
from sqlalchemy import select

from wastebank.extensions import db
from wastebank.models import Deposit

from .test_browser import ARTIFACTS, browser, log_in, operator_tablet, sized_context, sync_api  # noqa: F401
from .test_browser_screens import _check

pytestmark = pytest.mark.browser
expect = sync_api.expect
expect.set_options(timeout=10_000)

SIZES = [(800, 1280), (1280, 800)]
API = "**/api/v1/deposits"
QUESTION = ("Masih ada 1 setoran (Rp 4.875) yang belum terkirim dari tablet ini. Setelah keluar, baru "
            "terkirim saat Anda masuk lagi di tablet ini. Tetap keluar?")
# Every outbox item and the device tokens straight from IndexedDB (works on the login page too).
READ_STORE = """async () => {
  const open = indexedDB.open('wastebank');
  const database = await new Promise((ok, fail) => { open.onsuccess = () => ok(open.result); open.onerror = fail; });
  const all = (name) => new Promise((ok) => {
    const r = database.transaction(name).objectStore(name).getAll();
    r.onsuccess = () => ok(r.result);
  });
  const items = await all('outbox');
  const kv = await all('kv');
  database.close();
  return { items: items.map((i) => [i.username, i.kind, i.state, i.member_no]),
           tokens: kv.filter((row) => row.name.startsWith('token:')).map((row) => row.name) };
}"""


def _ready(page) -> None:
    expect(page.locator("html[data-counter-ready='1']")).to_be_attached()


def _save_offline_deposit(page, member_no: str) -> None:
    """Weigh 1,5 kg PET (Rp 4.875) for ``member_no`` while every request to the API dies:
    kept on the tablet; then back to the counter's start page."""
    page.route(API, lambda route: route.abort("internetdisconnected"))
    page.goto(f"/counter/member/{member_no}/deposit")
    expect(page.locator("#deposit-form[data-ready='1']")).to_be_attached()
    page.locator("button.tile[data-code='PET-CLEAN']").click()
    page.keyboard.type("1,5")
    page.click("#review")
    page.click("#save")
    expect(page.locator("#result-panel h2")).to_have_text("Tersimpan di tablet ini")
    page.goto("/counter")
    _ready(page)
    expect(page.locator("#outbox-panel .outbox-item.queued, #outbox-panel .outbox-item.sending")).to_have_count(1)


def _deposits_of(member_no: str) -> list[int]:
    rows = [d.credited_idr for d in db.session.scalars(select(Deposit).order_by(Deposit.id))
            if d.member.member_no == member_no]
    db.session.close()
    return rows


def test_logging_out_with_an_unsent_deposit_asks_first_and_cancel_stays(browser, live_server, net):
    problems: list[str] = []
    for index, (width, height) in enumerate(SIZES):
        member_no = net.members_a[index].member_no
        context, page = operator_tablet(browser, live_server, width, height)
        _ready(page)
        _save_offline_deposit(page, member_no)
        before = page.evaluate(READ_STORE)
        assert before["items"] == [["op_a", "deposit", "queued", member_no]]

        page.click("#logout-button")
        dialog = page.locator("dialog#logout-dialog")
        expect(dialog).to_be_visible()
        expect(dialog.locator("h2")).to_have_text("Belum terkirim")
        expect(dialog.locator("p")).to_have_text(QUESTION)
        expect(dialog.locator("#logout-stay")).to_have_text("Batal")
        expect(dialog.locator("#logout-leave")).to_have_text("Tetap keluar")
        expect(dialog.locator("#logout-stay")).to_be_focused()        # the safe default: stay
        for button in ("#logout-stay", "#logout-leave"):
            box = dialog.locator(button).bounding_box()
            assert box["width"] >= 44 and box["height"] >= 44, (button, box)
        problems += _check(page, "question", width, height, prefix="logout-guard")

        # "Batal": still logged in on the same page, the item and the device token kept.
        page.click("#logout-stay")
        expect(dialog).to_have_count(0)
        assert page.url.endswith("/counter")
        expect(page.locator(".topbar .who")).to_contain_text("Dewi Operator")
        after = page.evaluate(READ_STORE)
        assert after["items"] == before["items"]
        assert after["tokens"] == before["tokens"] == ["token:op_a"]
        page.reload()
        _ready(page)
        expect(page.locator("#logout-button")).to_be_visible()        # the session is still there
        expect(page.locator("#outbox-panel .outbox-item.queued, #outbox-panel .outbox-item.sending")).to_have_count(1)

        # Escape is staying too.
        page.click("#logout-button")
        expect(dialog).to_be_visible()
        page.keyboard.press("Escape")
        expect(dialog).to_have_count(0)
        assert page.url.endswith("/counter")
        assert _deposits_of(member_no) == []
        context.close()
    assert problems == [], "\n".join(problems)


def test_log_out_anyway_logs_out_and_the_item_goes_at_the_next_login(browser, live_server, net):
    member_no = net.members_a[2].member_no
    context, page = operator_tablet(browser, live_server, 800, 1280)
    _ready(page)
    _save_offline_deposit(page, member_no)
    page.click("#logout-button")
    expect(page.locator("dialog#logout-dialog p")).to_have_text(QUESTION)
    page.click("#logout-leave")
    page.wait_for_url("**/login")
    expect(page.locator(".flash")).to_have_text("Anda sudah keluar.")
    expect(page.locator("#logout-button")).to_have_count(0)
    stored = page.evaluate(READ_STORE)
    assert stored["items"] == [["op_a", "deposit", "queued", member_no]]   # still on the tablet
    assert stored["tokens"] == []                                            # app.js forgot the token
    assert _deposits_of(member_no) == []
    # The server ended the session: the counter is not reachable without a new login.
    page.goto("/counter")
    assert "/login" in page.url

    # The same operator logs in again, online: the deposit goes out, once.
    page.unroute(API)
    log_in(page, "op_a")
    page.wait_for_url("**/counter")
    expect(page.locator("#outbox-panel .outbox-item.synced")).to_have_count(1, timeout=20_000)
    assert _deposits_of(member_no) == [4875]
    # Sent now: logging out asks nothing.
    page.click("#logout-button")
    page.wait_for_url("**/login")
    expect(page.locator("dialog#logout-dialog")).to_have_count(0)
    assert _deposits_of(member_no) == [4875]
    context.close()


def test_no_question_with_an_empty_queue_or_only_another_persons_items(browser, live_server, net):
    problems: list[str] = []
    for width, height in SIZES:
        context, page = operator_tablet(browser, live_server, width, height)
        _ready(page)
        assert page.evaluate(READ_STORE)["items"] == []
        page.click("#logout-button")
        page.wait_for_url("**/login")
        expect(page.locator(".flash")).to_have_text("Anda sudah keluar.")
        expect(page.locator("dialog#logout-dialog")).to_have_count(0)
        problems += _check(page, "empty-logged-out", width, height, prefix="logout-guard")
        context.close()

    # op_a leaves a deposit unsent (and logs out anyway); the unit manager on the same tablet
    # cannot send it, so their own logout asks nothing about it.
    member_no = net.members_a[0].member_no
    context, page = operator_tablet(browser, live_server, 800, 1280)
    _ready(page)
    _save_offline_deposit(page, member_no)
    page.click("#logout-button")
    page.click("#logout-leave")
    page.wait_for_url("**/login")
    log_in(page, "mgr_a")
    page.goto("/counter")
    _ready(page)
    assert page.evaluate(READ_STORE)["items"] == [["op_a", "deposit", "queued", member_no]]
    page.click("#logout-button")
    page.wait_for_url("**/login")
    expect(page.locator("dialog#logout-dialog")).to_have_count(0)
    expect(page.locator(".flash")).to_have_text("Anda sudah keluar.")
    context.close()
    assert problems == [], "\n".join(problems)


def test_without_javascript_logout_works_as_before(browser, live_server, net):
    context = browser.new_context(base_url=live_server, locale="id-ID", java_script_enabled=False,
                                  viewport={"width": 800, "height": 1280})
    page = context.new_page()
    log_in(page, "op_a")
    page.wait_for_url("**/counter")
    page.click("#logout-button")
    page.wait_for_url("**/login")
    expect(page.locator(".flash")).to_have_text("Anda sudah keluar.")
    context.close()


def test_a_cancelled_withdrawal_still_checked_with_the_server_asks_too(browser, live_server, net):
    """A withdrawal cancelled after a lost reply stays "dibatalkan — memeriksa server…" until the
    server says whether it recorded it; logging out stops that question until the operator logs
    in again here (a tester: "Keluar" asked nothing then). The queue is empty: it asks anyway."""
    context, page = operator_tablet(browser, live_server, 800, 1280)
    _ready(page)
    page.route("**/api/v1/withdrawals/cancel", lambda route: route.abort("internetdisconnected"))
    page.evaluate("""() => window.wastebankCounter.store.setValue('cancelled:c16cancelcheck0000000000000001', {
        key: 'c16cancelcheck0000000000000001', maybe_arrived: true, at: Date.now(), check: 'checking', done: false,
        username: 'op_a', member_no: 'RW05-0001', member_name: 'Siti Aminah', amount_idr: 5000,
        captured_at: new Date().toISOString(), attempts: 0, last_code: '', result: null })""")
    page.reload()
    _ready(page)
    expect(page.locator("#outbox-cancelled")).to_contain_text("Siti Aminah")
    page.click("#logout-button")
    dialog = page.locator("dialog#logout-dialog")
    expect(dialog.locator("h2")).to_have_text("Belum dijawab server")
    expect(dialog.locator("p")).to_have_text(
        "1 penarikan yang dibatalkan (Rp\u00a05.000) masih diperiksa ke server. Sebelum server menjawab, belum "
        "diketahui apakah penarikan itu tercatat. Setelah keluar, server baru ditanya lagi saat Anda masuk lagi "
        "di tablet ini. Tetap keluar?")
    problems = _check(page, "checking", 800, 1280, prefix="logout-guard")
    page.click("#logout-stay")
    expect(dialog).to_have_count(0)
    expect(page.locator("#logout-button")).to_be_visible()
    context.close()
    assert problems == [], "\n".join(problems)
