"""The withdrawal screens must not tell the operator two opposite things about cash (a tester).

F1. A check open in tab B is refused (409 day_closed) after the manager closed the day; the manager
    reopens, tab A taps "Kirim ulang" and the withdrawal is booked and paid. Tab B follows its own
    outbox item by key: the refusal "Penarikan ditolak … tidak ada yang tersimpan" is replaced by
    the paid result (receipt, "Serahkan Rp … kepada … sekarang"), and the red closed-day banner
    goes. A refused item removed from the queue is said to be removed.
F2. After a lost reply, "Batalkan penarikan" on a withdrawal the server had recorded: the cancelled
    key is never used again. "Ubah" reopens the form as a new operation (new key, ?after=<key>),
    "Periksa sebelum simpan" shows a new check (not "Sudah tersimpan … Serahkan uangnya sekali
    saja") and both screens name the earlier receipt, to be voided by a unit manager; nothing is
    booked until the operator confirms the new withdrawal.
F3. After the reopen the tablet learns it without a reload (sync.js asks every 20 s while it
    believes the day closed): "Periksa sebelum simpan" is enabled again, the banner goes.

Chromium through Playwright; screenshots ``test-artifacts/withdraw-follow-*-<w>x<h>.png`` at
800x1280 and 1280x800, no sideways scroll, targets >= 44 px.
"""
from __future__ import annotations

import re
import time

import pytest
from sqlalchemy import func, select

from wastebank.extensions import db
from wastebank.models import JournalEntry, Withdrawal

from .test_browser import browser, sync_api  # noqa: F401  (browser is a fixture)
from .test_browser_outbox import _items, _save_withdrawal, _seed_savings, _tablet
from .test_browser_screens import _check
from .test_browser_withdraw_day_closed import BANNER, REASON, _close_today, _reopen_today
from .test_browser_withdrawal_cancel import ORIGINAL, _cancel_from_the_queue

pytestmark = pytest.mark.browser
expect = sync_api.expect
SIZES = [(800, 1280), (1280, 800)]


def _withdrawals() -> tuple[list[tuple], int]:
    rows = [(w.receipt_no, w.amount_idr, w.status, w.member.member_no)
            for w in db.session.scalars(select(Withdrawal).order_by(Withdrawal.id))]
    entries = db.session.scalar(select(func.count(JournalEntry.id)).where(JournalEntry.kind == "withdrawal"))
    db.session.close()
    return rows, entries


def _text(page, selector: str) -> str:
    return page.locator(selector).inner_text().replace("\u00a0", " ")


def _screens(page, name: str) -> list[str]:
    problems: list[str] = []
    for width, height in SIZES:
        page.set_viewport_size({"width": width, "height": height})
        problems += _check(page, name, width, height, prefix="withdraw-follow")
    page.set_viewport_size({"width": 800, "height": 1280})
    return problems


def _open_check(page, member_no: str, amount: str) -> None:
    page.goto(f"/counter/member/{member_no}/withdraw")
    page.fill("#amount", amount)
    page.click("#review")
    page.wait_for_function("() => document.documentElement.dataset.counterReady === '1'")
    expect(page.locator("#save")).to_be_enabled()


def test_a_refused_check_in_another_tab_shows_the_payment_made_after_the_reopen(browser, live_server, net):
    member = net.members_a[0]
    member_no, name = member.member_no, member.name
    _seed_savings(member_no, "10", "seed-follow-f1")   # Rp 32.500
    context, tab_a = _tablet(browser, live_server)
    tab_b = context.new_page()
    tab_b.on("dialog", lambda dialog: dialog.accept())
    _open_check(tab_b, member_no, "5.000")
    tab_a.goto("/counter")
    tab_a.wait_for_function("() => document.documentElement.dataset.counterReady === '1'")
    _close_today()
    tab_b.click("#save")
    refusal = tab_b.locator("#withdraw-result")
    expect(refusal).to_contain_text("Penarikan ditolak:")
    expect(tab_b.locator("#outbox-day-closed")).to_have_text(BANNER)
    assert _withdrawals() == ([], 0)
    # Tab A offers "Kirim ulang" on it.
    resend = tab_a.locator("#outbox-panel .outbox-item.fix button.resend")
    expect(resend).to_have_count(1)
    _reopen_today()
    resend.click()
    expect(tab_a.locator("#outbox-panel .outbox-item.synced")).to_have_count(1, timeout=20_000)
    rows, entries = _withdrawals()
    assert entries == 1 and len(rows) == 1
    receipt, amount, status, number = rows[0]
    assert (amount, status, number) == (5000, "paid", member_no) and re.fullmatch(r"RW05-\d{4}-\d{6}", receipt)
    expect(tab_a.locator("#outbox-panel .hand-over")).to_contain_text(f"serahkan Rp\u00a05.000 kepada {name} sekarang")
    # Tab B: the refusal is gone, the paid result is in its place; the closed-day banner is gone.
    expect(refusal).to_contain_text(f"Akhirnya terkirim: tercatat dibayar ({receipt}).")
    assert _text(tab_b, "#withdraw-result") == (
        f"Akhirnya terkirim: tercatat dibayar ({receipt}). Serahkan Rp 5.000 kepada {name} sekarang, satu kali saja. "
        "Jika nasabah sudah pulang, minta pengurus unit membatalkannya. Struk")
    assert "ditolak" not in _text(tab_b, "#withdraw-result")
    assert "tidak ada yang tersimpan" not in _text(tab_b, "main")
    withdrawal_id = db.session.scalar(select(Withdrawal.id))
    db.session.close()
    expect(tab_b.locator("#withdraw-result-receipt")).to_have_attribute("href", f"/counter/withdrawal/{withdrawal_id}")
    expect(tab_b.locator("#outbox-day-closed")).to_have_count(0)
    expect(tab_a.locator("#outbox-day-closed")).to_have_count(0)
    expect(tab_b.locator("#save")).to_be_hidden()
    expect(tab_b.locator('#confirm-form button[value="edit"]')).to_be_hidden()   # booked: nothing to change
    assert tab_b.url.endswith(f"/counter/member/{member_no}/withdraw")   # it did not move by itself
    problems = _screens(tab_b, "paid-in-other-tab")
    # Tab B's receipt link opens the one withdrawal; still one in the ledger.
    tab_b.click("#withdraw-result-receipt")
    expect(tab_b.locator("#receipt-no")).to_have_text(receipt)
    assert _withdrawals()[1] == 1
    assert problems == [], "\n".join(problems)
    context.close()


def test_a_refused_check_whose_item_is_removed_says_so(browser, live_server, net):
    member_no = net.members_a[1].member_no
    _seed_savings(member_no, "10", "seed-follow-removed")
    context, tab_a = _tablet(browser, live_server)
    tab_b = context.new_page()
    tab_b.on("dialog", lambda dialog: dialog.accept())
    _open_check(tab_b, member_no, "5.000")
    _close_today()
    tab_b.click("#save")
    expect(tab_b.locator("#withdraw-result")).to_contain_text("Penarikan ditolak:")
    tab_a.goto("/counter")
    tab_a.locator("#outbox-panel .outbox-item.fix button.dismiss").click()   # confirm accepted
    expect(tab_a.locator("#outbox-panel .outbox-item")).to_have_count(0)
    expect(tab_b.locator("#withdraw-result")).to_have_text(
        "Dihapus dari antrean tablet ini: penarikan ini tidak tercatat di server dan tidak akan dikirim. "
        "Jangan serahkan uangnya.")
    expect(tab_b.locator("#save")).to_be_hidden()
    assert _withdrawals() == ([], 0)
    _reopen_today()
    context.close()


def test_a_cancelled_recorded_withdrawal_is_never_reused_by_change(browser, live_server, net):
    member = net.members_a[0]
    member_no, name = member.member_no, member.name
    _seed_savings(member_no, "10", "seed-follow-f2")   # Rp 32.500
    context, page = _tablet(browser, live_server)

    def lose_reply(route):
        route.fetch()                # the server books it (later tries are replays) …
        route.abort("failed")        # … and the answer is lost

    page.route(ORIGINAL, lose_reply)
    _save_withdrawal(page, member_no, "10.000")
    key = _items(page)[0]["key"]
    _cancel_from_the_queue(page)
    rows, entries = _withdrawals()
    assert len(rows) == 1 and entries == 1
    receipt = rows[0][0]
    result = page.locator("#withdraw-result")
    expect(result).to_contain_text(f"Tercatat di server sebagai {receipt}", timeout=20_000)
    assert _text(page, "#withdraw-result") == (
        f"Tercatat di server sebagai {receipt} (Rp 10.000, {name}) tetapi uang belum diserahkan: minta pengurus unit "
        "membatalkan penarikan ini.")
    expect(page.locator("#withdraw-new-operation")).to_have_text(
        "“Ubah” memulai penarikan baru; itu tidak membatalkan penarikan ini, yang tetap tercatat sampai pengurus unit "
        "membatalkan atau menolaknya.")
    # The form is a new operation now: a new key, and the address names the cancelled one.
    new_key = page.locator('#confirm-form [name="idempotency_key"]').input_value()
    assert re.fullmatch(r"[0-9a-f]{32}", new_key) and new_key != key
    assert page.url.endswith(f"/counter/member/{member_no}/withdraw?after={key}")
    problems = _screens(page, "cancelled-recorded")
    page.unroute(ORIGINAL)
    # "Ubah": the entry form with the new key and the earlier receipt named.
    page.click('#confirm-form button[value="edit"]')
    expect(page.locator("#withdraw-form")).to_be_visible()
    earlier = (f"Penarikan sebelumnya {receipt} (Rp 10.000, {name}) tercatat di server sebagai dibayar, tetapi "
               "dibatalkan di tablet ini dan uangnya belum diserahkan: jangan serahkan uang apa pun untuk itu, dan "
               f"minta pengurus unit membatalkan {receipt}. Ini penarikan baru: menyimpannya mencatat penarikan kedua.")
    expect(page.locator("#withdraw-earlier")).to_be_visible()
    assert _text(page, "#withdraw-earlier") == earlier
    assert page.locator('#withdraw-form [name="idempotency_key"]').input_value() == new_key
    expect(page.locator("#amount")).to_have_value("10.000")
    problems += _screens(page, "change-after-cancel")
    # "Periksa sebelum simpan": a new check, not the booked receipt ("Sudah tersimpan").
    page.click("#review")
    expect(page.locator("#confirm-form")).to_be_visible()
    expect(page.locator("#already-saved")).to_have_count(0)
    assert "Sudah tersimpan" not in _text(page, "main")
    assert "/counter/withdrawal/" not in page.url
    assert _text(page, "#withdraw-earlier") == earlier
    expect(page.locator("#save")).to_be_enabled()
    assert page.locator('#confirm-form [name="idempotency_key"]').input_value() == new_key
    assert _withdrawals()[1] == 1   # still the one withdrawal
    problems += _screens(page, "check-after-cancel")
    # A stale form still carrying the cancelled key (no tablet code, a reload): the server starts a
    # new operation too — a new check with a new key, never the cancelled withdrawal's page.
    answer = page.evaluate("""async (key) => {
        const body = new URLSearchParams(new FormData(document.getElementById('confirm-form')));
        body.set('idempotency_key', key);
        body.set('action', 'review');
        const r = await fetch(location.pathname + location.search, {method: 'POST', body: body});
        return {status: r.status, url: r.url, text: await r.text()};
    }""", key)
    assert answer["status"] == 200 and "/counter/withdrawal/" not in answer["url"]
    assert 'id="confirm-form"' in answer["text"] and f'value="{key}"' not in answer["text"]
    assert 'id="already-saved"' not in answer["text"]   # not the recorded withdrawal's "Sudah tersimpan."
    assert _withdrawals()[1] == 1
    # Only when the operator confirms the new withdrawal is a second one recorded, once.
    page.click("#save")
    page.wait_for_url(re.compile(r"/counter/withdrawal/\d+\?new=1"))
    rows, entries = _withdrawals()
    assert entries == 2 and [r[1:] for r in rows] == [(10000, "paid", member_no)] * 2 and rows[1][0] != receipt
    assert problems == [], "\n".join(problems)
    context.close()


def test_the_reopen_is_learnt_without_a_reload(browser, live_server, net):
    member_no = net.members_a[2].member_no
    _seed_savings(member_no, "10", "seed-follow-f3")
    context, page = _tablet(browser, live_server)
    checks: list[float] = []
    page.on("request", lambda request: checks.append(time.monotonic())
            if request.url.endswith("/counter/offline") else None)
    _close_today()
    page.goto(f"/counter/member/{member_no}/withdraw")
    page.wait_for_function("() => document.documentElement.dataset.counterReady === '1'")
    review = page.locator("#review")
    expect(review).to_be_disabled()
    expect(page.locator("#withdraw-day-closed")).to_have_text(REASON)
    expect(page.locator("#outbox-day-closed")).to_have_text(BANNER)
    problems = _screens(page, "entry-closed")
    page.evaluate("() => { window.notReloaded = true; }")
    time.sleep(1)
    _reopen_today()
    reopened = time.monotonic()
    # Within the 20 s interval (and a margin): enabled, the reason and the banner gone, no reload.
    expect(review).to_be_enabled(timeout=30_000)
    assert time.monotonic() - reopened < 30
    expect(page.locator("#withdraw-day-closed")).to_be_hidden()
    expect(page.locator("#outbox-day-closed")).to_have_count(0)
    assert page.evaluate("() => window.notReloaded === true")
    problems += _screens(page, "entry-reopened")
    # No hammering: asked at most every 15 s, and no longer once the day is known open.
    assert checks and all(b - a >= 15 for a, b in zip(checks, checks[1:], strict=False)), checks
    asked = len(checks)
    time.sleep(2)
    assert len(checks) == asked
    page.fill("#amount", "5.000")
    review.click()
    expect(page.locator("#save")).to_be_enabled()
    assert _withdrawals() == ([], 0)
    assert problems == [], "\n".join(problems)
    context.close()


def test_kirim_ulang_on_a_refused_withdrawal_asks_whether_the_member_is_still_here(browser, live_server, net):
    """"Kirim ulang" on a withdrawal refused on a closed day books it, and the cash is due at
    once: it asks first whether the member is still at the counter (a tester: one tap paid a
    member who had gone home). "Batal" sends nothing; "OK" records it once."""
    member = net.members_a[2]
    member_no, name = member.member_no, member.name
    _seed_savings(member_no, "10", "seed-follow-resend")   # Rp 32.500
    context, _ = _tablet(browser, live_server)
    page = context.new_page()
    questions: list[str] = []
    answers = iter([False, True])

    def answer(dialog):
        questions.append(dialog.message)
        dialog.accept() if next(answers) else dialog.dismiss()

    page.on("dialog", answer)
    _open_check(page, member_no, "5.000")
    _close_today()
    page.click("#save")
    expect(page.locator("#withdraw-result")).to_contain_text("Penarikan ditolak:")
    _reopen_today()
    resend = page.locator("#outbox-panel .outbox-item.fix button.resend")
    resend.click()
    question = (f"Kirim ulang penarikan {name} (Rp 5.000)? Begitu tercatat, uangnya harus langsung diserahkan: "
                f"kirim hanya jika {name} masih di sini. Jika nasabah sudah pulang, hapus saja dari antrean.")
    # "Batal": nothing may go, now or by itself (Playwright answers the question meanwhile).
    page.wait_for_timeout(1500)
    assert [text.replace("\u00a0", " ") for text in questions] == [question]
    expect(page.locator("#outbox-panel .outbox-item.fix")).to_have_count(1)
    assert _withdrawals() == ([], 0)
    resend.click()
    expect(page.locator("#outbox-panel .outbox-item.synced")).to_have_count(1, timeout=20_000)
    assert len(questions) == 2
    rows, entries = _withdrawals()
    assert entries == 1
    assert [(amount, status, number) for _, amount, status, number in rows] == [(5000, "paid", member_no)]
    assert [item["state"] for item in _items(page)] == ["synced"]
    context.close()
