"""A tester: the closed-day banner said "setoran dan penarikan disimpan di tablet ini sampai pengurus
membuka kembali hari ini", but a withdrawal is refused by the ledger at once while today is closed
(services/ledger ``PeriodClosed``, 409 ``day_closed``; the outbox leaves it "perlu diperbaiki"),
and "Simpan penarikan" stayed enabled. Now the banner says what happens — deposits wait on the
tablet, withdrawals cannot be made until the reopen — and the withdrawal screens offer no check
and no save while today is closed, with the reason beside the button, before anyone counts out
the cash; the check step refuses on the server too. A check opened before the close is disabled
as soon as the tablet learns of it (a kept deposit answered ``day_closed``) and comes back once
the day is reopened, when the withdrawal is paid once.

Chromium through Playwright at 800x1280 and 1280x800, screenshots
``test-artifacts/withdraw-closed-*-<w>x<h>.png``: no sideways scroll, every target >= 44x44 px.
"""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from wastebank.extensions import db
from wastebank.models import Deposit, Unit, User, Withdrawal

from .test_browser import browser, operator_tablet, sync_api  # noqa: F401  (browser is a fixture)
from .test_browser_outbox import _capture, _open_deposit, _seed_savings
from .test_browser_screens import _check

pytestmark = pytest.mark.browser
expect = sync_api.expect
expect.set_options(timeout=10_000)

SIZES = [(800, 1280), (1280, 800)]
BANNER = ("Pembukuan hari ini sudah ditutup: setoran disimpan di tablet ini dan dikirim otomatis setelah pengurus "
          "unit membuka kembali hari ini (Kelola → Buku kas). Penarikan tidak dapat dilakukan sampai saat itu.")
REASON = ("Penarikan tidak dapat dilakukan sekarang: pembukuan hari ini sudah ditutup. Pengurus unit harus membuka "
          "kembali hari ini dulu (Kelola → Buku kas). Jangan siapkan uangnya.")


def _close_today() -> None:
    from wastebank.services.cashbook import close_day
    from wastebank.services.transaction import run_in_transaction
    from wastebank.timeutil import local_today

    unit = db.session.scalars(select(Unit).where(Unit.code == "RW05")).one()
    manager = db.session.scalars(select(User).where(User.username == "mgr_a")).one()
    run_in_transaction(lambda: close_day(unit, local_today(), "0", manager))
    db.session.close()


def _reopen_today() -> None:
    from wastebank.services.cashbook import reopen_day
    from wastebank.services.transaction import run_in_transaction
    from wastebank.timeutil import local_today

    unit = db.session.scalars(select(Unit).where(Unit.code == "RW05")).one()
    manager = db.session.scalars(select(User).where(User.username == "mgr_a")).one()
    run_in_transaction(lambda: reopen_day(unit, local_today(), "penarikan nasabah", manager))
    db.session.close()


def _withdrawals() -> list[tuple[str, int, str]]:
    rows = [(w.member.member_no, w.amount_idr, w.status) for w in db.session.scalars(select(Withdrawal))]
    db.session.close()
    return rows


def _beside(page, first: str, second: str) -> bool:
    """The reason's box ends just above the button's (nothing between them)."""
    a, b = page.locator(first).bounding_box(), page.locator(second).bounding_box()
    return 0 <= b["y"] - (a["y"] + a["height"]) <= 40


def test_on_a_closed_day_the_withdrawal_screen_offers_no_save_and_says_why(browser, live_server, net):
    member_no = net.members_a[0].member_no
    _seed_savings(member_no, "10", "seed-closed-withdraw-1")   # Rp 32.500 of savings
    _close_today()
    problems: list[str] = []
    for width, height in SIZES:
        context, page = operator_tablet(browser, live_server, width, height)
        page.goto(f"/counter/member/{member_no}/withdraw")
        expect(page.locator("html[data-counter-ready='1']")).to_be_attached()
        expect(page.locator("#outbox-day-closed")).to_have_text(BANNER)
        expect(page.locator("#withdraw-day-closed")).to_have_text(REASON)
        review = page.locator("#review")
        expect(review).to_be_disabled()
        expect(review).to_have_attribute("aria-describedby", "withdraw-day-closed")
        assert _beside(page, "#withdraw-day-closed", "#review")
        problems += _check(page, "entry", width, height, prefix="withdraw-closed")
        # Typed anyway and tapped: nothing happens (no check page, nothing on the tablet's queue).
        page.fill("#amount", "5.000")
        review.click(force=True)
        expect(page.locator("#confirm-form")).to_have_count(0)
        assert page.evaluate("async () => (await window.wastebankCounter.store.allItems()).length") == 0
        # A stale form posted anyway: the server refuses the check, with the same reason.
        answer = page.evaluate("""async () => {
            const form = document.getElementById('withdraw-form');
            const body = new URLSearchParams(new FormData(form));
            const r = await fetch(location.pathname, {method: 'POST', body: body});
            return {status: r.status, text: await r.text()};
        }""")
        assert answer["status"] == 409
        assert "Penarikan tidak dapat dilakukan sekarang: pembukuan hari ini sudah ditutup." in answer["text"]
        assert 'id="confirm-form"' not in answer["text"]
        # The find page's banner says the same.
        page.goto("/counter")
        expect(page.locator("#outbox-day-closed")).to_have_text(BANNER)
        problems += _check(page, "find", width, height, prefix="withdraw-closed")
        context.close()
    assert _withdrawals() == []
    assert problems == [], "\n".join(problems)


def test_a_check_opened_before_the_close_is_disabled_when_the_tablet_learns_it(browser, live_server, net):
    problems: list[str] = []
    for index, (width, height) in enumerate(SIZES):
        member_no = net.members_a[index].member_no
        _seed_savings(member_no, "10", f"seed-closed-withdraw-{width}")
        context, page = operator_tablet(browser, live_server, width, height)
        drop = {"on": True}
        page.route("**/api/v1/deposits",
                   lambda route: route.abort("connectionreset") if drop["on"] else route.continue_())
        _open_deposit(page, member_no)
        _capture(page)   # kept on the tablet: the link drops it
        expect(page.locator("#result-panel h2")).to_have_text("Tersimpan di tablet ini")
        page.goto(f"/counter/member/{member_no}/withdraw")
        expect(page.locator("#withdraw-day-closed")).to_have_count(0)
        page.fill("#amount", "5.000")
        page.click("#review")
        expect(page.locator("html[data-counter-ready='1']")).to_be_attached()
        save = page.locator("#save")
        expect(save).to_be_enabled()
        expect(page.locator("#withdraw-day-closed")).to_be_hidden()
        # The manager closes today; the kept deposit goes and is answered day_closed.
        _close_today()
        drop["on"] = False
        page.evaluate("() => window.wastebankCounter.sync.kick(0)")
        expect(page.locator("#outbox-day-closed")).to_have_text(BANNER)
        expect(save).to_be_disabled()
        expect(page.locator("#withdraw-day-closed")).to_have_text(REASON)
        expect(page.locator("#withdraw-day-closed")).to_be_visible()
        assert _beside(page, "#withdraw-day-closed", ".row.two")
        problems += _check(page, "check", width, height, prefix="withdraw-closed")
        save.click(force=True)
        expect(page.locator("#withdraw-result")).to_be_hidden()
        assert page.evaluate("async () => (await window.wastebankCounter.store.allItems())"
                             ".filter((i) => i.kind === 'withdrawal').length") == 0
        assert [w for w in _withdrawals() if w[0] == member_no] == []
        # Reopened: the kept deposit is recorded, the banner goes, the save is back and pays once.
        _reopen_today()
        page.evaluate("() => window.wastebankCounter.sync.kick(0)")
        expect(page.locator(".outbox-item.synced")).to_have_count(1, timeout=20_000)
        expect(page.locator("#outbox-day-closed")).to_have_count(0)
        expect(save).to_be_enabled()
        expect(page.locator("#withdraw-day-closed")).to_be_hidden()
        save.click()
        page.wait_for_url(re.compile(r"/counter/withdrawal/\d+"))
        assert [w for w in _withdrawals() if w[0] == member_no] == [(member_no, 5000, "paid")]
        deposits = [d for d in db.session.scalars(select(Deposit)) if d.member.member_no == member_no]
        assert len(deposits) == 2   # the seed and the kept one, once
        db.session.close()
        context.close()
    assert problems == [], "\n".join(problems)
