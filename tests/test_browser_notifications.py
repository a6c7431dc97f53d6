"""The notification screens in Chromium (issue 12 item 1): the manager's outbox at 800×1280 and
1280×800 (no sideways scroll, 44×44 px targets, statuses and reasons in Indonesian), the switch.
Screenshots: ``test-artifacts/notify-*.png``."""
from __future__ import annotations

import pytest

from wastebank.extensions import db
from wastebank.notifications.drain import send_pending
from wastebank.notifications.senders import SendError
from wastebank.services.deposits import LineInput, record_deposit
from wastebank.services.transaction import run_in_transaction

from .test_browser import browser, log_in, sized_context, sync_api  # noqa: F401  (browser is a fixture)
from .test_browser_screens import _check as check_page

pytestmark = pytest.mark.browser
expect = sync_api.expect

SIZES = [(800, 1280), (1280, 800)]


class _ScriptedGateway:
    """Fails by phone: the first member's gateway answers 500, the second's times out."""

    def __init__(self, failing: dict[str, str]):
        self.failing = failing

    def send(self, phone, text):
        if phone in self.failing:
            raise SendError(self.failing[phone])


@pytest.fixture
def outbox(app, net):
    """RW05 sends messages; its three members agreed (with phones); two deposits each, drained
    once through a gateway that fails for the first two members (500, timeout)."""
    unit = net.unit_a
    unit.notify_enabled = True
    phones = ["+6281234567001", "+6281234567002", "+6281234567003"]
    for member, phone in zip(net.members_a, phones, strict=True):
        member.phone, member.notify_consent = phone, True
    db.session.commit()
    for i, member in enumerate(net.members_a * 2):
        run_in_transaction(lambda: record_deposit(unit, member, [LineInput("PET-CLEAN", f"{i + 1},5")],
                                                  operator_id=net.users["op_a"].id,
                                                  idempotency_key=f"notify-screen-{i:02d}"))
    send_pending(sender=_ScriptedGateway({phones[0]: 'HTTP 500: {"status": false, "reason": "device not connected"}',
                                          phones[1]: "timeout after 10 s"}))


def test_manager_outbox_fits_and_switches(browser, outbox, live_server, net):
    problems = []
    for width, height in SIZES:
        context = sized_context(browser, live_server, width, height)
        page = context.new_page()
        log_in(page, "mgr_a")
        page.goto("/manager/")
        page.get_by_role("link", name="Pesan ke nasabah").click()
        page.wait_for_url("**/manager/notifications")
        expect(page.locator("#notify-counts")).to_contain_text("Menunggu: 4 · Terkirim: 2 · Gagal: 0")
        table = page.locator("#notifications")
        expect(table).to_contain_text("gateway menjawab 500: {\"status\": false, \"reason\": \"device not connected\"}")
        expect(table).to_contain_text("tidak ada jawaban dalam 10 detik")
        expect(table).to_contain_text("Terkirim")
        expect(table).to_contain_text("Setoran")
        problems += check_page(page, "outbox", width, height, prefix="notify")
        page.get_by_role("link", name="Menunggu").click()
        expect(page.locator("#notifications tbody tr")).to_have_count(4)
        context.close()
    assert problems == []
    context = sized_context(browser, live_server, 800, 1280)
    page = context.new_page()
    log_in(page, "mgr_a")
    page.goto("/manager/notifications")
    page.get_by_role("button", name="Matikan pesan").click()
    expect(page.locator(".flash")).to_contain_text("Pesan ke nasabah dimatikan.")
    expect(page.locator("#notify-state")).to_contain_text("Mati")
    page.get_by_role("button", name="Aktifkan pesan").click()
    expect(page.locator("#notify-state")).to_contain_text("Aktif")
    context.close()


def test_resident_stops_messages_and_member_form_shows_consent(browser, outbox, live_server, net):
    from wastebank.services.members import live_card

    member_no = net.members_a[2].member_no
    token = live_card(net.members_a[2]).token
    db.session.close()
    problems = []
    for width, height in [(390, 844), *SIZES]:
        context = sized_context(browser, live_server, width, height)
        page = context.new_page()
        page.goto(f"/c/{token}")
        expect(page.locator("#stop-messages")).to_be_visible()
        problems += check_page(page, "resident", width, height, prefix="notify")
        context.close()
    context = sized_context(browser, live_server, 390, 844)
    page = context.new_page()
    page.goto(f"/c/{token}")
    page.get_by_role("button", name="Hentikan pesan").click()
    expect(page.locator("#messages-stopped")).to_contain_text("Pesan dihentikan.")
    problems += check_page(page, "resident-stopped", 390, 844, prefix="notify")
    context.close()
    for width, height in SIZES:
        context = sized_context(browser, live_server, width, height)
        page = context.new_page()
        log_in(page, "op_a")
        page.goto(f"/members/{member_no}")
        expect(page.locator("#notify-consent")).to_have_text("Tidak menerima pesan (belum setuju)")
        page.goto(f"/members/{member_no}/edit")
        expect(page.locator("#notify_consent")).not_to_be_checked()
        problems += check_page(page, "member-edit", width, height, prefix="notify")
        context.close()
    assert problems == []
