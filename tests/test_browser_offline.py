"""Offline at the counter (SPEC §6): a deposit entered while the tablet has no connection waits
in the tablet's outbox and is replayed through the API when the connection returns; a replay
never records it twice. Debian's Chromium through Playwright, as in test_browser.py."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from wastebank.extensions import db
from wastebank.models import Deposit, Member
from wastebank.services.ledger import member_savings_account

from .factories import PASSWORD
from .test_browser import TABLET, browser, sync_api  # noqa: F401  (browser is a fixture)

pytestmark = pytest.mark.browser
expect = sync_api.expect


def _offline_ready_deposit_page(browser, live_server, member_no):
    """A tablet logged in as op_a on a member's deposit screen, holding its device token."""
    context = browser.new_context(base_url=live_server, locale="id-ID", **TABLET)
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto("/login")
    page.fill("#username", "op_a")
    page.fill("#password", PASSWORD)
    page.click("main button[type=submit]")
    page.goto(f"/counter/member/{member_no}/deposit")
    page.wait_for_function("() => localStorage.getItem('wastebank.device') !== null")
    return context, page


def _counts():
    n = db.session.scalar(select(func.count(Deposit.id)))
    db.session.close()
    return n


def test_deposit_taken_offline_is_sent_once_when_back_online(browser, live_server, net):
    member_no, name = net.members_a[0].member_no, net.members_a[0].name
    context, page = _offline_ready_deposit_page(browser, live_server, member_no)

    context.set_offline(True)
    page.click("button.tile[data-code='PET-CLEAN']")
    page.fill("#lines-0-quantity", "1,5")
    expect(page.locator("#total")).to_have_text("Rp 4.875")
    before = datetime.now(timezone.utc)
    page.click("#review")
    panel = page.locator("#outbox-panel")
    expect(panel).to_contain_text("menunggu koneksi")
    expect(panel).to_contain_text(name)
    expect(page.locator("#lines-0-quantity")).to_have_value("")  # ready for the next member
    assert _counts() == 0

    context.set_offline(False)
    page.evaluate("() => window.dispatchEvent(new Event('online'))")
    expect(panel).to_contain_text("terkirim", timeout=15_000)
    receipt = panel.locator(".outbox-item.synced strong").inner_text()
    deposit = db.session.scalars(select(Deposit)).one()
    assert deposit.receipt_no in receipt
    assert deposit.total_idr == 4875 and deposit.lines[0].quantity_milli == 1500
    # Captured offline: recorded_at is the tablet's time, posted_at the server's, later.
    assert before - timedelta(seconds=5) <= deposit.recorded_at <= deposit.posted_at
    member_id = db.session.scalars(select(Member.id).where(Member.member_no == member_no)).one()
    assert member_savings_account(db.session.get(Member, member_id)).balance == 4875
    db.session.close()

    # A replay of the same queue entry (a second tablet sync, a reload) moves nothing.
    page.evaluate("""() => { const items = JSON.parse(localStorage.getItem('wastebank.outbox'));
                             items.forEach(i => i.state = 'queued');
                             localStorage.setItem('wastebank.outbox', JSON.stringify(items)); }""")
    page.reload()
    expect(page.locator("#outbox-panel")).to_contain_text(deposit.receipt_no, timeout=15_000)
    assert _counts() == 1
    context.close()


def test_refused_offline_deposit_is_shown_not_dropped(browser, live_server, net):
    member_no = net.members_a[1].member_no
    context, page = _offline_ready_deposit_page(browser, live_server, member_no)
    context.set_offline(True)
    page.click("button.tile[data-code='PET-CLEAN']")
    page.fill("#lines-0-quantity", "600")  # over the 500 kg line limit: the server refuses it
    page.click("#review")
    expect(page.locator("#outbox-panel")).to_contain_text("menunggu koneksi")
    context.set_offline(False)
    page.evaluate("() => window.dispatchEvent(new Event('online'))")
    item = page.locator(".outbox-item.failed")
    expect(item).to_contain_text("ditolak", timeout=15_000)
    expect(item).to_contain_text("500 kg")
    assert _counts() == 0
    page.reload()  # still listed after a reload until the operator removes it
    expect(page.locator(".outbox-item.failed")).to_have_count(1)
    page.click(".outbox-item.failed .dismiss")
    expect(page.locator(".outbox-item")).to_have_count(0)
    context.close()
