"""What a tester found on the withdrawal screens when the network or the day changes (2026-12-07):

W1. "Periksa sebelum simpan" tapped offline opened the browser's own error page (English, the
    amount gone): the form stays, with the amount, and says the check needs the connection.
W2. The check page reloaded offline (a POST's answer) opened the same error page: with the
    service worker it is the counter's offline page, with the queue; once the connection is
    back that page says so, with a link to the page (it kept saying "Tidak ada koneksi").
W3. Back from the receipt of a paid withdrawal showed the old check with "Simpan penarikan"
    enabled and the balance before it: it says it was saved before, with the receipt, and never
    orders the cash handed over again.
W4. A withdrawal refused while today was closed still said "sudah ditutup" after the tablet
    learnt the reopen (the banner gone): the queue and the check say the day is open again and
    what "Kirim ulang" does.
W5. The counter's closed-day banner ("… disimpan di tablet ini …") showed on the manager's own
    Kelola pages: only on counter pages.

Chromium through Playwright at 800x1280 and 1280x800; screenshots
``test-artifacts/withdraw-offline-*-<w>x<h>.png``, no sideways scroll, targets >= 44 px.
"""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from wastebank.extensions import db
from wastebank.models import JournalEntry, Withdrawal

from .test_browser import browser, sync_api  # noqa: F401  (browser is a fixture)
from .test_browser_outbox import _controlled, _seed_savings, _tablet
from .test_browser_screens import _check
from .test_browser_withdraw_day_closed import _close_today, _reopen_today

pytestmark = pytest.mark.browser
expect = sync_api.expect
SIZES = [(800, 1280), (1280, 800)]


def _withdrawals() -> tuple[list[tuple], int]:
    rows = [(w.amount_idr, w.status, w.member.member_no) for w in db.session.scalars(select(Withdrawal))]
    entries = db.session.scalar(select(func.count(JournalEntry.id)).where(JournalEntry.kind == "withdrawal"))
    db.session.close()
    return rows, entries


def _ready(page) -> None:
    page.wait_for_function("() => document.documentElement.dataset.counterReady === '1'")


def _to_check(page, member_no: str, amount: str) -> None:
    page.goto(f"/counter/member/{member_no}/withdraw")
    _ready(page)
    page.fill("#amount", amount)
    page.click("#review")
    _ready(page)
    expect(page.locator("#save")).to_be_enabled()


def _text(page, selector: str) -> str:
    return page.locator(selector).inner_text().replace("\u00a0", " ")


@pytest.mark.parametrize("size", SIZES, ids=["portrait", "landscape"])
def test_the_check_asked_for_offline_keeps_the_form_and_says_why(browser, live_server, net, size):
    width, height = size
    member_no = net.members_a[0].member_no
    _seed_savings(member_no, "4", "seed-w1-offline-check")   # Rp 13.000
    context, page = _tablet(browser, live_server, viewport={"width": width, "height": height})
    page.goto(f"/counter/member/{member_no}/withdraw")
    _ready(page)
    at = page.url
    page.fill("#amount", "5.000")
    context.set_offline(True)
    page.click("#review")
    note = page.locator("#withdraw-check-offline")
    expect(note).to_have_text("Tidak ada koneksi: memeriksa penarikan perlu koneksi (saldo diperiksa di server). "
                              "Tunggu sampai tablet tersambung lagi; jumlah yang diketik tetap di sini.")
    expect(note).to_be_in_viewport()
    assert page.url == at
    expect(page.locator("#amount")).to_have_value("5.000")
    problems = _check(page, "check-offline", width, height, prefix="withdraw-offline")
    context.set_offline(False)
    page.evaluate("() => window.dispatchEvent(new Event('online'))")
    expect(note).to_be_hidden()
    page.click("#review")
    expect(page.locator("#save")).to_be_enabled()
    assert _text(page, "main").count("Rp 5.000") >= 1
    assert _withdrawals() == ([], 0)   # a check only: nothing is booked
    context.close()
    assert problems == [], "\n".join(problems)


def test_the_check_reloaded_offline_shows_the_counters_offline_page(browser, live_server, net):
    member_no = net.members_a[1].member_no
    _seed_savings(member_no, "4", "seed-w2-offline-reload")
    context, page = _tablet(browser, live_server, service_worker=True)
    page.goto("/counter")
    _controlled(page)
    _to_check(page, member_no, "4.000")
    context.set_offline(True)
    page.reload()
    expect(page.locator("main h1")).to_have_text("Tidak ada koneksi")
    expect(page.locator("main")).to_contain_text("Halaman ini tidak tersedia tanpa koneksi.")
    assert not page.url.startswith("chrome-error")
    expect(page.locator("#offline-back-online")).to_be_hidden()
    problems = _check(page, "check-reloaded-offline", 800, 1280, prefix="withdraw-offline")
    context.set_offline(False)
    page.evaluate("() => window.dispatchEvent(new Event('online'))")
    # Back online it says so (it kept "Tidak ada koneksi": a tester) and opens the page by GET.
    back = page.locator("#offline-back-online")
    expect(back).to_have_text("Koneksi sudah kembali. Buka lagi halaman ini")
    problems += _check(page, "offline-page-back-online", 800, 1280, prefix="withdraw-offline")
    back.locator("a").click()
    expect(page.locator("#amount")).to_be_visible()      # the entry form again, nothing sent twice
    assert page.url.endswith(f"/counter/member/{member_no}/withdraw")
    assert _withdrawals() == ([], 0)
    context.close()
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize("size,worker", [((800, 1280), False), ((1280, 800), False), ((800, 1280), True)],
                         ids=["portrait", "landscape", "service-worker"])
def test_back_from_the_receipt_of_a_paid_withdrawal_says_it_was_saved(browser, live_server, net, size, worker):
    """With the service worker too, as on a real tablet: Back asks the browser's cache only, and
    the worker answered it with "Tidak ada koneksi" while online (a tester)."""
    width, height = size
    member_no = net.members_a[2].member_no
    _seed_savings(member_no, "4", "seed-w3-back")
    context, page = _tablet(browser, live_server, viewport={"width": width, "height": height}, service_worker=worker)
    if worker:
        page.goto("/counter")
        _controlled(page)
    _to_check(page, member_no, "1.500")
    page.click("#save")
    page.wait_for_url(re.compile(r"/counter/withdrawal/\d+\?new=1$"), timeout=20_000)
    receipt = page.locator("#receipt-no").inner_text()
    page.go_back()
    _ready(page)
    result = page.locator("#withdraw-result")
    expect(result).to_contain_text("Sudah tersimpan sebelumnya")
    assert _text(page, "#withdraw-result") == (
        f"Sudah tersimpan sebelumnya: tercatat dibayar ({receipt}, Rp 1.500). Jika uangnya sudah diserahkan, "
        "jangan serahkan lagi. Struk")
    expect(page.locator("#save")).to_be_hidden()
    expect(page.locator('#confirm-form button[value="edit"]')).to_be_hidden()
    expect(result).to_be_in_viewport()
    expect(page.locator("main h1")).not_to_have_text("Tidak ada koneksi")
    problems = _check(page, f"back-after-paid{'-sw' if worker else ''}", width, height, prefix="withdraw-offline")
    page.click("#withdraw-result-receipt")
    expect(page.locator("#receipt-no")).to_have_text(receipt)
    assert _withdrawals() == ([(1500, "paid", member_no)], 1)
    context.close()
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize("size", SIZES, ids=["portrait", "landscape"])
def test_a_withdrawal_refused_on_a_closed_day_says_so_once_the_day_is_reopened(browser, live_server, net, size):
    width, height = size
    member_no = net.members_a[0].member_no
    _seed_savings(member_no, "4", "seed-w4-reopened")
    context, page = _tablet(browser, live_server, viewport={"width": width, "height": height})
    _to_check(page, member_no, "2.500")
    _close_today()
    page.click("#save")
    result = page.locator("#withdraw-result")
    expect(result).to_contain_text("Penarikan ditolak:")
    item = page.locator("#outbox-panel .outbox-item.fix")
    expect(item.locator(".reason")).to_contain_text("sudah ditutup")
    _reopen_today()
    # The tablet learns the reopen (it asks every 20 s while it believes today closed; at once
    # when the connection comes back).
    page.evaluate("() => window.dispatchEvent(new Event('online'))")
    expect(page.locator("#outbox-day-closed")).to_have_count(0)
    expect(item.locator(".reason")).to_have_text(
        'Hari ini sudah dibuka kembali; penarikan ini belum tercatat. Ketuk "Kirim ulang" hanya jika nasabah masih '
        "di sini untuk menerima uangnya; jika sudah pulang, hapus.")
    expect(result).to_have_text(
        'Ditolak saat hari ini ditutup; hari ini sudah dibuka kembali. Belum ada yang tercatat: jika nasabah masih '
        'di sini, ketuk "Kirim ulang" di antrean di atas; jika sudah pulang, hapus di sana. Jangan serahkan uang '
        "sebelum tertulis terkirim.")
    expect(item.locator("button.resend")).to_be_visible()
    problems = _check(page, "refused-then-reopened", width, height, prefix="withdraw-offline")
    assert _withdrawals() == ([], 0)
    context.close()
    assert problems == [], "\n".join(problems)


def test_the_counters_closed_day_banner_is_not_on_the_managers_pages(browser, live_server, net):
    context, page = _tablet(browser, live_server, username="mgr_a")
    _close_today()
    page.goto("/manager/cashbook")
    _ready(page)
    expect(page.locator("main")).to_contain_text("Ditutup pada")    # the cash book says it, for the manager
    expect(page.locator("#outbox-day-closed")).to_have_count(0)
    page.goto("/counter")
    _ready(page)
    expect(page.locator("#outbox-day-closed")).to_contain_text("Pembukuan hari ini sudah ditutup")
    _reopen_today()
    context.close()


def test_another_operators_unchecked_cancel_tells_the_manager_who_can_check_it(browser, live_server, net):
    """W6. A withdrawal op A cancelled after a lost reply waits for the server's answer, which only
    op A's login here asks. The unit manager on that tablet read "memeriksa server … dicoba lagi
    otomatis" though nothing was being asked (a tester)."""
    context, page = _tablet(browser, live_server, username="mgr_a")
    _ready(page)
    page.evaluate("""() => window.wastebankCounter.store.setValue('cancelled:w6cancelother000000000000000001', {
        key: 'w6cancelother000000000000000001', maybe_arrived: true, at: Date.now(), check: 'checking', done: false,
        username: 'op_a', operator_name: 'Dewi Operator', member_no: 'RW05-0001', member_name: 'Siti Aminah',
        amount_idr: 4000, captured_at: new Date().toISOString(), attempts: 1, last_code: 'network', result: null })""")
    page.reload()
    _ready(page)
    item = page.locator("#outbox-cancelled .cancelled-item")
    expect(item.locator(".state")).to_have_text("dibatalkan — belum diperiksa")
    expect(item.locator(".cancel-notice")).to_have_text(
        "Hanya Dewi Operator yang dapat menanyakan ke server apakah penarikan ini tercatat: minta Dewi Operator "
        "masuk lagi di tablet ini. Penarikan ini mungkin sudah tercatat: jangan serahkan uangnya.")
    expect(page.locator("#outbox-cancelled")).not_to_contain_text("dicoba lagi")
    problems = _check(page, "others-cancel-unchecked", 800, 1280, prefix="withdraw-offline")
    context.close()
    assert problems == [], "\n".join(problems)
