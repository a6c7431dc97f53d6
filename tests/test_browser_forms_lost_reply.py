"""The manager's forms on a flaky Wi-Fi (forms/resilient.js): a unit manager at 800×1280 and
1280×800 saves a sale, a new member and a stock adjustment while the answer is lost after the
server saved (``route.fetch()`` then ``route.abort()``), the server answers 500 once, the answer
stalls after the server saved, and the session has ended (cookies cleared). Each time the page
stays with everything typed, says in Indonesian that it may or may not have been saved and that
tapping again is safe, and the second tap records exactly one sale / member / adjustment (rows
counted in the database); the page fits the screen and its targets are at least 44×44 px.

Service workers are blocked (``sized_context``): Playwright's ``page.route`` does not see the
requests of a page the worker at /sw.js controls. Screenshots: ``test-artifacts/forms-*.png``.
"""
from __future__ import annotations

import contextlib

import pytest
from sqlalchemy import func, select

from wastebank.extensions import db
from wastebank.models import JournalEntry, Member, Sale, User
from wastebank.services.deposits import LineInput, record_deposit
from wastebank.services.sales import create_offtaker
from wastebank.services.transaction import run_in_transaction

from .factories import PASSWORD
from .test_browser import browser, log_in, sized_context, sync_api  # noqa: F401  (browser is a fixture)
from .test_browser_screens import _check as check_page

pytestmark = pytest.mark.browser
expect = sync_api.expect

SIZES = [(800, 1280), (1280, 800)]
IDS = ["portrait", "landscape"]
MAYBE = "Mungkin sudah tersimpan, mungkin belum. Semua isian Anda masih di sini."
SAFE = "aman, tidak akan tercatat dua kali."


@pytest.fixture
def stocked(net):
    """RW05 with cardboard in stock (a deposit of 20 kg) and the off-taker "Pengepul Koran"."""
    mgr = db.session.get(User, net.users["mgr_a"].id)
    run_in_transaction(lambda: record_deposit(net.unit_a, net.members_a[0], [LineInput("CARDBOARD", "20")],
                                              operator_id=mgr.id, idempotency_key="lost-reply-dep-001"))
    run_in_transaction(lambda: create_offtaker(net.unit_a, "Pengepul Koran", user=mgr))
    db.session.commit()
    return net


def _count(model, *where) -> int:
    db.session.rollback()
    count = db.session.scalar(select(func.count()).select_from(model).where(*where))
    db.session.close()  # SQLite: no read transaction left open under the live server's writes
    return count


def _faults(*script):
    """A route handler for a form's POSTs: the n-th POST gets ``script[n]`` — "lost" (the server
    saves, the answer is lost), "500" (a server error, nothing reaches the server), "stall" (the
    server saves, the answer never comes) — every later one and every GET pass. Returns the
    handler and the routes held by "stall"."""
    posts, held = [], []

    def handle(route):
        if route.request.method != "POST":
            route.continue_()
            return
        posts.append(route.request.url)
        step = script[len(posts) - 1] if len(posts) <= len(script) else "pass"
        if step == "lost":
            route.fetch()            # the server records it …
            route.abort("failed")    # … and the answer never reaches the tablet
        elif step == "500":
            route.fulfill(status=500, body="Internal Server Error")
        elif step == "stall":
            route.fetch()
            held.append(route)       # never answered: the page gives up after its timeout
        else:
            route.continue_()

    return handle, held


def _manager(browser, live_server, size):
    context = sized_context(browser, live_server, *size)
    page = context.new_page()
    log_in(page, "mgr_a")
    return context, page


def _note(page):
    return page.locator(".resilient-note[role=alert]")


def _fits(page, name, size) -> list[str]:
    return check_page(page, name, size[0], size[1], prefix="forms")


@pytest.mark.parametrize("size", SIZES, ids=IDS)
def test_sale_answer_lost_after_save_then_tapped_again_is_one_sale(browser, stocked, live_server, size):
    context, page = _manager(browser, live_server, size)
    # The check step, "Ubah" and the check again go through; the save's answer is lost.
    handler, _ = _faults("pass", "pass", "pass", "lost")
    page.route("**/manager/sales/new", handler)
    page.goto("/manager/sales/new")
    page.fill("input[name='w-CARDBOARD']", "7")
    page.fill("input[name='p-CARDBOARD']", "2600")
    page.fill("#note", "Koran dan kardus, dijemput Pak Udin")
    page.click("#review")
    expect(page.locator("#confirm-total")).to_have_text("Rp 18.200")
    # "Ubah": the form is back in place with what was typed, and its running total works again.
    page.click("#confirm-form button[value=edit]")
    expect(page.locator("#sale-form")).to_be_visible()
    assert page.locator("input[name='w-CARDBOARD']").input_value() == "7"
    page.fill("input[name='p-CARDBOARD']", "2500")
    expect(page.locator("#sale-estimate")).to_have_text("Rp 17.500")
    page.click("#review")
    expect(page.locator("#confirm-total")).to_have_text("Rp 17.500")
    assert page.url.endswith("/manager/sales/new")
    page.click("#save")
    note = _note(page)
    expect(note).to_contain_text("Sambungan terputus sebelum jawaban datang.")
    expect(note).to_contain_text(MAYBE)
    expect(note).to_contain_text("Ketuk “Simpan penjualan” lagi: " + SAFE)
    expect(page.locator("#save")).to_be_enabled()
    expect(page.locator("#save")).to_have_text("Simpan penjualan")
    # The same sale is still on the screen, with its hidden fields (and its key) as they were.
    assert page.locator("#confirm-form input[name='w-CARDBOARD']").input_value() == "7"
    assert page.locator("#confirm-form input[name='note']").input_value() == "Koran dan kardus, dijemput Pak Udin"
    assert _count(Sale) == 1  # the server did save it
    problems = _fits(page, "sale-lost", size)
    page.click("#save")
    expect(page.locator("main")).to_contain_text("Penjualan ini sudah tersimpan; ini datanya.")
    assert "/manager/sales/RW05-" in page.url
    assert _count(Sale) == 1
    problems += _fits(page, "sale-replayed", size)
    # Back: the form's page again (a fresh form), never "Confirm Form Resubmission".
    page.go_back()
    expect(page.locator("#sale-form")).to_be_visible()
    assert page.url.endswith("/manager/sales/new")
    assert page.locator("input[name='w-CARDBOARD']").input_value() == ""
    assert problems == []
    context.close()


@pytest.mark.parametrize("size", SIZES, ids=IDS)
def test_new_member_500_then_lost_answer_then_saved_is_one_member(browser, stocked, live_server, size):
    context, page = _manager(browser, live_server, size)
    handler, _ = _faults("500", "lost")
    page.route("**/members/new", handler)
    page.goto("/members/new")
    page.fill("#name", "Ibu Tes lost")
    page.fill("#phone", "0812-3456-7001")
    page.fill("#address", "Jl. Melati 5")
    page.fill("#rt", "03")
    page.click("main button[type=submit]")
    note = _note(page)
    expect(note).to_contain_text("Server sedang bermasalah. " + MAYBE)
    expect(note).to_contain_text("Ketuk “Simpan” lagi: " + SAFE)
    assert _count(Member, Member.name == "Ibu Tes lost") == 0
    page.click("main button[type=submit]")
    expect(note).to_contain_text("Sambungan terputus sebelum jawaban datang. " + MAYBE)
    for selector, value in (("#name", "Ibu Tes lost"), ("#phone", "0812-3456-7001"), ("#address", "Jl. Melati 5"),
                            ("#rt", "03")):
        assert page.locator(selector).input_value() == value, selector
    assert _count(Member, Member.name == "Ibu Tes lost") == 1
    problems = _fits(page, "member-lost", size)
    page.click("main button[type=submit]")
    expect(page.locator("main")).to_contain_text("Nasabah ini sudah terdaftar; ini datanya.")
    assert "/members/RW05-" in page.url
    assert _count(Member, Member.name == "Ibu Tes lost") == 1
    assert problems == []
    context.close()


@pytest.mark.parametrize("size", SIZES, ids=IDS)
def test_adjustment_stalled_after_save_then_tapped_again_posts_once(browser, stocked, live_server, size):
    context, page = _manager(browser, live_server, size)
    handler, held = _faults("pass", "stall")
    page.route("**/manager/stock/adjust", handler)
    page.goto("/manager/stock/adjust")
    page.select_option("#category", "CARDBOARD")
    page.fill("#quantity", "1,5")
    # Without a reason: the server's refusal is shown in place, with what was typed.
    page.click("main button[type=submit]")
    expect(page.locator("main p.error[role=alert]").first).to_be_visible()
    assert page.locator("#quantity").input_value() == "1,5"
    page.fill("#reason", "basah kena hujan")
    page.evaluate("() => { document.querySelector('main form[data-resilient]').dataset.resilientTimeout = '3000'; }")
    before = _count(JournalEntry)
    save = page.locator("main button[type=submit]")
    save.click()
    expect(save).to_have_text("Menyimpan…")
    expect(save).to_be_disabled()
    note = _note(page)
    expect(note).to_contain_text("Server terlalu lama menjawab. " + MAYBE, timeout=10_000)
    expect(note).to_contain_text("Ketuk “Simpan penyesuaian” lagi: " + SAFE)
    expect(save).to_be_enabled()
    assert page.locator("#quantity").input_value() == "1,5"
    assert page.locator("#reason").input_value() == "basah kena hujan"
    assert page.locator("#category").input_value() == "CARDBOARD"
    assert _count(JournalEntry) == before + 1
    problems = _fits(page, "adjust-stalled", size)
    save.click()
    expect(page.locator("main")).to_contain_text("Stok disesuaikan")
    assert page.url.endswith("/manager/stock")
    assert _count(JournalEntry) == before + 1
    for route in held:
        with contextlib.suppress(Exception):  # the page gave up on it already
            route.abort()
    assert problems == []
    context.close()


@pytest.mark.parametrize("size", SIZES, ids=IDS)
def test_session_ended_keeps_the_input_and_saves_once_after_login(browser, stocked, live_server, size):
    context, page = _manager(browser, live_server, size)
    page.goto("/members/new")
    page.fill("#name", "Pak Sesi Habis")
    page.fill("#phone", "0813-1111-2222")
    context.clear_cookies()  # the session is gone (cookies cleared, or it ended elsewhere)
    page.click("main button[type=submit]")
    note = _note(page)
    expect(note).to_contain_text("Sesi Anda sudah berakhir (Anda sudah keluar). Semua isian Anda masih di sini.")
    expect(note).to_contain_text("Masuk lagi di tab baru, kembali ke tab ini, lalu ketuk “Simpan” lagi.")
    assert page.url.endswith("/members/new")
    assert page.locator("#name").input_value() == "Pak Sesi Habis"
    assert page.locator("#phone").input_value() == "0813-1111-2222"
    problems = _fits(page, "member-session", size)
    # Tapped again before logging in: still the same sentence, nothing saved, nothing lost.
    page.click("main button[type=submit]")
    expect(note).to_contain_text("Sesi Anda sudah berakhir")
    assert page.locator("#name").input_value() == "Pak Sesi Habis"
    login = note.get_by_role("link", name="Masuk lagi (tab baru)")
    with context.expect_page() as opened:
        login.click()
    tab = opened.value
    tab.wait_for_load_state()
    tab.fill("#username", "mgr_a")
    tab.fill("#password", PASSWORD)
    tab.click("main button[type=submit]")
    tab.wait_for_load_state()
    tab.close()
    page.bring_to_front()
    page.click("main button[type=submit]")
    expect(page.locator("main")).to_contain_text("Nasabah RW05-")
    assert "/members/RW05-" in page.url
    assert _count(Member, Member.name == "Pak Sesi Habis") == 1
    assert problems == []
    context.close()


def _abort_first_post():
    """A route handler: the first POST dies on the way (the Wi-Fi drops it), later ones pass."""
    posts = []

    def handle(route):
        if route.request.method == "POST" and not posts:
            posts.append(route.request.url)
            route.abort("connectionreset")
        else:
            route.continue_()

    return handle


# (name, url, fields to type, the button's label, what the page says once it went through)
FORMS = [
    ("offtaker", "/manager/offtakers", {"#name": "CV Lapak Sejahtera", "#phone": "0812 9999 1111"},
     "Daftarkan", "CV Lapak Sejahtera"),
    ("price", "/manager/prices/CARDBOARD", {"#buy": "2100", "#sell": "2800"}, "Simpan harga baru ini", "2.800"),
    ("prices", "/manager/prices", {"#buy-CARDBOARD": "2200"}, "Simpan harga baru", "2.200"),
    ("close-check", "/manager/cashbook", {"#counted": "0"}, "Periksa hitungan", "Periksa angkanya, lalu tutup hari."),
]


def test_every_manager_form_keeps_the_input_when_the_network_drops(browser, stocked, live_server):
    """Off-takers, one price, the weekly prices, the cash count: the browser's own error page
    never shows; the words, the typed values, then the same tap goes through."""
    problems = []
    for size in SIZES:
        context, page = _manager(browser, live_server, size)
        page.route("**/manager/**", _abort_first_post())
        for name, url, fields, button, done in FORMS:
            if name == "offtaker" and size != SIZES[0]:
                fields = {**fields, "#name": fields["#name"] + " 2"}
            page.goto(url)
            form = page.locator("main form[data-resilient]").first
            for selector, value in fields.items():
                page.fill(selector, value)
            page.unroute("**/manager/**")
            page.route("**/manager/**", _abort_first_post())
            form.locator("button[type=submit]").first.click()
            note = _note(page)
            expect(note).to_contain_text("Sambungan terputus sebelum jawaban datang. " + MAYBE)
            expect(note).to_contain_text(f"Ketuk “{button}” lagi: " + SAFE)
            assert page.url.endswith(url), name
            for selector, value in fields.items():
                assert page.locator(selector).input_value() == value, (name, selector)
            problems += _fits(page, f"{name}-dropped", size)
            form.locator("button[type=submit]").first.click()
            expect(page.locator("main")).to_contain_text(done)
            expect(_note(page)).to_have_count(0)
        context.close()
    assert problems == []


def test_day_close_answer_lost_then_tapped_again_closes_once(browser, stocked, live_server):
    from wastebank.models import DayClose

    context, page = _manager(browser, live_server, SIZES[0])
    page.goto("/manager/cashbook")
    page.fill("#counted", "0")
    page.click("#check-close")
    expect(page.locator("#confirm-close")).to_be_visible()
    handler, _ = _faults("lost")
    page.route("**/manager/cashbook/close", handler)
    page.click("#confirm-close")
    expect(_note(page)).to_contain_text("Ketuk “Tutup hari” lagi: " + SAFE)
    assert _count(DayClose) == 1
    page.click("#confirm-close")
    # The second tap closes nothing more: the day is shown closed, said as done, one close row.
    expect(page.locator("#confirm-close")).to_have_count(0)
    expect(page.locator("p.flash.ok")).to_contain_text("sudah ditutup: Anda menutupnya pukul")
    assert _count(DayClose) == 1
    _fits(page, "close-retried", SIZES[0])
    # The page shown in place brings its counter context: the tablet knows today is closed, and
    # learns the reopen on this page (a tester saw the banner stay above "Hari ini dibuka
    # kembali"). The counter's banner itself is for counter pages only, not this Kelola page.
    assert page.evaluate("() => window.wastebankCounter.context.dayClosed") is True
    expect(page.locator("#outbox-day-closed")).to_have_count(0)
    page.unroute("**/manager/cashbook/close")
    page.fill("#reason", "setoran terlambat")
    page.click("#reopen")
    expect(page.locator("p.flash.ok")).to_contain_text("dibuka kembali")
    assert page.evaluate("() => window.wastebankCounter.context.dayClosed") is False
    assert _count(DayClose) == 0
    context.close()


def test_expired_form_token_while_logged_in_is_renewed_and_saved_once(browser, stocked, live_server):
    """A form left open past its token's lifetime (8 h) while still logged in: the page takes
    the new token, keeps the input and asks for the same tap again."""
    context, page = _manager(browser, live_server, SIZES[1])
    page.goto("/manager/offtakers")
    page.fill("#name", "UD Token Lama")
    page.evaluate("() => { document.querySelector('main form input[name=csrf_token]').value = 'expired.token'; }")
    page.click("main form[data-resilient] button[type=submit]")
    expect(_note(page)).to_contain_text("Formulir ini sudah kedaluwarsa. Semua isian Anda masih di sini; "
                                        "ketuk “Daftarkan” lagi.")
    assert page.locator("#name").input_value() == "UD Token Lama"
    page.click("main form[data-resilient] button[type=submit]")
    expect(page.locator("main")).to_contain_text("UD Token Lama")
    from wastebank.models import Offtaker
    assert _count(Offtaker, Offtaker.name == "UD Token Lama") == 1
    context.close()


def test_logged_out_elsewhere_keeps_the_input(browser, stocked, live_server):
    """The session ended on the server (logged out on another device): the POST is sent to the
    login page; the page stays with the input and says the session ended."""
    from .test_browser_outbox import _end_sessions

    context, page = _manager(browser, live_server, SIZES[0])
    page.goto("/manager/stock/adjust")
    page.select_option("#category", "CARDBOARD")
    page.fill("#quantity", "2")
    page.fill("#reason", "hilang di gudang")
    _end_sessions("mgr_a")
    before = _count(JournalEntry)
    page.click("main form[data-resilient] button[type=submit]")
    expect(_note(page)).to_contain_text("Sesi Anda sudah berakhir")
    assert page.url.endswith("/manager/stock/adjust")
    assert page.locator("#reason").input_value() == "hilang di gudang"
    assert _count(JournalEntry) == before
    context.close()


def test_offline_says_nothing_was_saved_and_a_reload_mid_save_asks_first(browser, stocked, live_server):
    """Tester, second round: plainly offline, the note said "mungkin sudah tersimpan" — it says
    nothing was sent; and a reload (pull-to-refresh) while a save waited dropped the input and the
    form's key, so the next save was a second record — the browser now asks first."""
    from wastebank.models import Offtaker

    context, page = _manager(browser, live_server, SIZES[0])
    page.goto("/manager/offtakers")
    page.fill("#name", "CV Tanpa Sinyal")
    context.set_offline(True)
    page.click("main form[data-resilient] button[type=submit]")
    expect(_note(page)).to_have_text(
        "Tablet ini tidak tersambung: belum ada yang terkirim, belum ada yang tersimpan. "
        "Semua isian Anda masih di sini; ketuk “Daftarkan” lagi setelah tablet tersambung.")
    assert page.locator("#name").input_value() == "CV Tanpa Sinyal"
    context.set_offline(False)
    handler, held = _faults("stall")
    page.route("**/manager/offtakers", handler)
    asked = []
    page.on("dialog", lambda dialog: (asked.append(dialog.type), dialog.dismiss()))
    save = page.locator("main form[data-resilient] button[type=submit]")
    save.click()
    expect(save).to_have_text("Menyimpan…")
    page.evaluate("() => { setTimeout(() => location.reload(), 0); }")
    page.wait_for_timeout(1000)
    assert asked == ["beforeunload"]
    assert page.locator("#name").input_value() == "CV Tanpa Sinyal"   # stayed: nothing lost
    for route in held:
        with contextlib.suppress(Exception):
            route.abort()
    assert _count(Offtaker, Offtaker.name == "CV Tanpa Sinyal") == 1   # the stalled one reached the server
    context.close()


@pytest.mark.parametrize("size", SIZES, ids=IDS)
def test_offtaker_prices_and_reopen_answer_lost_then_tapped_again_say_done_and_write_once(
        browser, stocked, live_server, size):
    """The reply to an off-taker, the weekly prices and the reopen of a closed day is lost after
    the server saved; the second tap (the same key) said "Pembeli ini sudah terdaftar." / "Hari
    … belum ditutup" in red, or "Tidak ada harga yang berubah." Now it says, as done, what the
    first tap saved; the rows are there once."""
    import re

    from wastebank.models import AuditLog, DayClose, Offtaker, Price
    from wastebank.services.cashbook import close_day
    from wastebank.timeutil import local_today

    at = r"pukul \d\d\.\d\d WIB"
    today = local_today()
    context, page = _manager(browser, live_server, size)
    flash = page.locator("main p.flash.ok")
    problems = []

    # An off-taker.
    page.route("**/manager/offtakers", _faults("lost")[0])
    page.goto("/manager/offtakers")
    page.fill("#name", "CV Lapak Sejahtera")
    page.fill("#phone", "0812 9999 1111")
    register = page.locator("main form[data-resilient] button[type=submit]")
    register.click()
    expect(_note(page)).to_contain_text("Ketuk “Daftarkan” lagi: " + SAFE)
    assert _count(Offtaker, Offtaker.name == "CV Lapak Sejahtera") == 1
    register.click()
    expect(flash).to_have_text(re.compile(
        rf"^Pembeli CV Lapak Sejahtera sudah terdaftar: Anda mendaftarkannya {at}\. Tidak didaftarkan dua kali\.$"))
    expect(page.locator("main p.error")).to_have_count(0)
    expect(page.locator("#offtakers")).to_contain_text("0812 9999 1111")
    assert _count(Offtaker, Offtaker.name == "CV Lapak Sejahtera") == 1
    problems += _fits(page, "offtaker-retried", size)

    # The weekly prices.
    page.route("**/manager/prices", _faults("lost")[0])
    page.goto("/manager/prices")
    page.fill("#buy-CARDBOARD", "2200")
    save = page.locator("#bulk form button[type=submit]")
    save.click()
    expect(_note(page)).to_contain_text("Ketuk “Simpan harga baru” lagi: " + SAFE)
    assert page.locator("#buy-CARDBOARD").input_value() == "2200"
    cardboard = (Price.unit_id == stocked.unit_a.id, Price.category_id == stocked.categories["CARDBOARD"].id,
                 Price.effective_from == today)
    assert _count(Price, *cardboard) == 1
    audits = _count(AuditLog, AuditLog.action == "price.set")
    save.click()
    expect(flash).to_have_text(re.compile(
        rf"^Harga ini sudah tersimpan {at}: 1 harga, berlaku mulai {today:%d-%m-%Y}\. Tidak disimpan lagi\.$"))
    expect(page.locator("main p.error")).to_have_count(0)
    assert page.locator("#buy-CARDBOARD").input_value() == "2200"
    assert _count(Price, *cardboard) == 1
    assert _count(AuditLog, AuditLog.action == "price.set") == audits
    problems += _fits(page, "prices-retried", size)

    # The reopen of today's close.
    mgr = db.session.get(User, stocked.users["mgr_a"].id)
    run_in_transaction(lambda: close_day(stocked.unit_a, today, "0", mgr))
    db.session.commit()
    page.route("**/manager/cashbook/reopen", _faults("lost")[0])
    page.goto("/manager/cashbook")
    page.fill("#reason", "setoran terlambat")
    page.click("#reopen")
    expect(_note(page)).to_contain_text("Ketuk “Buka kembali hari ini” lagi: " + SAFE)
    assert _count(DayClose) == 0
    page.click("#reopen")
    expect(flash).to_have_text(re.compile(
        rf"^Hari {today:%d-%m-%Y} sudah dibuka kembali: Anda membukanya {at} dengan alasan “setoran terlambat”\. "
        r"Tidak ada yang diubah\.$"))
    expect(page.locator("main p.error")).to_have_count(0)
    expect(page.locator("#check-close")).to_be_visible()  # the day is open
    assert _count(DayClose) == 0
    assert _count(AuditLog, AuditLog.action == "day.reopen") == 1
    problems += _fits(page, "reopen-retried", size)
    assert problems == []
    context.close()


@pytest.mark.parametrize("size", SIZES, ids=IDS)
def test_change_on_the_check_step_shows_the_other_lines_priced(browser, stocked, live_server, size):
    """"Ubah" on the check step: the line typed comes back as typed, the other line in stock with
    the price a fresh form shows (PET-CLEAN Rp 4.500 at RW05; it came back blank)."""
    run_in_transaction(lambda: record_deposit(stocked.unit_a, stocked.members_a[0], [LineInput("PET-CLEAN", "5")],
                                              operator_id=None, idempotency_key="lost-reply-dep-002"))
    db.session.commit()
    context, page = _manager(browser, live_server, size)
    page.goto("/manager/sales/new")
    assert page.locator("input[name='p-PET-CLEAN']").input_value() == "4500"
    page.fill("input[name='w-CARDBOARD']", "7")
    page.fill("input[name='p-CARDBOARD']", "2500")
    page.click("#review")
    expect(page.locator("#confirm-total")).to_have_text("Rp 17.500")
    page.click("#confirm-form button[value=edit]")
    expect(page.locator("#sale-form")).to_be_visible()
    assert page.locator("input[name='w-CARDBOARD']").input_value() == "7"
    assert page.locator("input[name='p-CARDBOARD']").input_value() == "2500"
    assert page.locator("input[name='w-PET-CLEAN']").input_value() == ""
    assert page.locator("input[name='p-PET-CLEAN']").input_value() == "4500"
    # The line filled in now is priced at once, as on a fresh form.
    page.fill("input[name='w-PET-CLEAN']", "2")
    expect(page.locator("#sale-estimate")).to_have_text("Rp 26.500")
    problems = _fits(page, "sale-changed", size)
    assert _count(Sale) == 0
    assert problems == []
    context.close()


#: Each date in the page's messages as line boxes: one each when no date breaks at a hyphen.
DATE_LINES = """() => Array.from(document.querySelectorAll('main p.flash time, main p.error time'))
  .map((el) => [el.textContent, el.getClientRects().length])"""


@pytest.mark.parametrize("size", SIZES, ids=IDS)
def test_category_price_answer_lost_then_tapped_again_says_saved_and_writes_once(
        browser, stocked, live_server, size):
    """One category's price form (/manager/prices/<CODE>) had no key: the second tap after a
    lost reply replaced the same day's price and wrote a second ``price.set`` audit row. Now it
    says, as done, what the first tap saved ("pukul 05.39 WIB"), and the date in the message
    stays on one line (at 800 px it broke as "07-" / "12-2026")."""
    import re

    from wastebank.models import AuditLog, Price
    from wastebank.timeutil import local_today

    today = local_today()
    day = today.strftime("%d-%m-%Y")
    at = r"pukul \d\d\.\d\d WIB"
    pet = (Price.unit_id == stocked.unit_a.id, Price.category_id == stocked.categories["PET-CLEAN"].id,
           Price.effective_from == today)
    context, page = _manager(browser, live_server, size)
    flash = page.locator("main p.flash.ok")
    save = page.locator("form.price-one button[type=submit]")
    problems = []

    # A first save that goes through: the confirmation, its date on one line.
    page.goto("/manager/prices/PET-CLEAN")
    page.fill("#buy", "3.600")
    page.fill("#sell", "4.800")
    save.click()
    expect(flash).to_have_text(f"Harga baru Botol PET bening bersih disimpan: beli Rp 3.600, jual Rp 4.800 per kg, "
                               f"mulai {day}.")
    assert page.evaluate(DATE_LINES) == [[day, 1]]
    problems += _fits(page, "price-saved", size)

    # The next one's answer is lost after the server saved it; tapped again.
    page.route("**/manager/prices/PET-CLEAN", _faults("lost")[0])
    page.fill("#buy", "3.700")
    page.fill("#sell", "4.900")
    audits = _count(AuditLog, AuditLog.action == "price.set")
    save.click()
    expect(_note(page)).to_contain_text("Ketuk “Simpan harga baru ini” lagi: " + SAFE)
    assert page.locator("#buy").input_value() == "3.700"
    assert _count(Price, *pet) == 1
    assert _count(AuditLog, AuditLog.action == "price.set") == audits + 1
    save.click()
    expect(flash).to_have_text(re.compile(
        rf"^Harga baru Botol PET bening bersih sudah tersimpan {at}: beli Rp 3\.700, jual Rp 4\.900 per kg, "
        rf"mulai {day}\. Tidak disimpan lagi\.$"))
    expect(page.locator("main p.error")).to_have_count(0)
    expect(page.locator("#in-force")).to_have_text("Berlaku sekarang: beli Rp 3.700, jual Rp 4.900 per kg")
    assert page.evaluate(DATE_LINES) == [[day, 1]]
    assert _count(Price, *pet) == 1
    assert _count(AuditLog, AuditLog.action == "price.set") == audits + 1
    problems += _fits(page, "price-retried", size)

    # Lost again, then a figure corrected before tapping again: named, refused, nothing written.
    page.unroute("**/manager/prices/PET-CLEAN")
    page.route("**/manager/prices/PET-CLEAN", _faults("lost")[0])
    page.fill("#buy", "3.750")
    save.click()
    expect(_note(page)).to_contain_text("Ketuk “Simpan harga baru ini” lagi: " + SAFE)
    page.fill("#buy", "3.800")
    save.click()
    expect(page.locator("main p.error[role=alert]").first).to_have_text(re.compile(
        rf"^Harga dari formulir ini sudah tersimpan {at} sebelum koneksi putus \(Botol PET bening bersih: beli "
        rf"Rp 3\.750, jual Rp 4\.900 per kg, mulai {day}\), dengan isi sebelumnya\. Tidak disimpan lagi: periksa "
        r"riwayat harga di bawah, lalu buka halaman ini lagi untuk perubahan lain\.$"))
    assert page.locator("#buy").input_value() == "3.800"
    assert page.evaluate(DATE_LINES) == [[day, 1]]
    assert _count(AuditLog, AuditLog.action == "price.set") == audits + 2
    problems += _fits(page, "price-corrected", size)
    db.session.rollback()
    assert [tuple(r) for r in db.session.execute(select(Price.buy_price_idr, Price.sell_price_idr).where(*pet))] \
        == [(3750, 4900)]
    db.session.close()
    assert problems == []
    context.close()
