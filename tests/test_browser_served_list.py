"""A tester: "Dilayani hari ini" on the find page kept saying "belum terkirim" for a deposit the
server had already recorded and confirmed; only a reload changed it. The list is now drawn again
whenever the tablet's queue changes (static/counter/find.js with served-core.js): "belum
terkirim" while the request is held, "terkirim · <receipt number>" the moment the server's
answer arrives, "perlu diperbaiki" when the server refuses it — without a reload — and the
ledger holds the deposit once.

Chromium through Playwright at 800x1280 and 1280x800; the API is held with ``page.route``
(the first attempt dropped on the deposit screen, the retry from the find page stalled and then
let through); screenshots ``test-artifacts/served-*-<w>x<h>.png``.
"""
from __future__ import annotations

import contextlib
import re

import pytest
from sqlalchemy import select

from wastebank.extensions import db
from wastebank.models import Deposit

from .test_browser import ARTIFACTS, browser, operator_tablet, sync_api  # noqa: F401  (browser is a fixture)
from .test_browser_outbox import _open_deposit
from .test_browser_screens import _check

pytestmark = pytest.mark.browser
expect = sync_api.expect
expect.set_options(timeout=10_000)

SIZES = [(800, 1280), (1280, 800)]
API = "**/api/v1/deposits"


def _held_api(page) -> dict:
    """Hold the deposits API: ``mode`` "drop" (the request dies), "stall" (kept unanswered in
    ``stalled`` until let through), "refuse" (the server's 409 refusal), "pass"."""
    state = {"mode": "drop", "stalled": [], "seen": 0}

    def handle(route):
        state["seen"] += 1
        if state["mode"] == "drop":
            route.abort("connectionreset")
        elif state["mode"] == "stall":
            state["stalled"].append(route)
        elif state["mode"] == "refuse":
            route.fulfill(status=409, content_type="application/json", json={"error": {
                "code": "quote_changed", "field": None,
                "message": "Harga berubah sejak ditampilkan: periksa lagi dengan nasabah."}})
        else:
            route.continue_()

    page.route(API, handle)
    return state


def _let_through(page, state: dict) -> None:
    """Answer the held requests with the real server (and every later one)."""
    state["mode"] = "pass"
    for route in state["stalled"]:
        with contextlib.suppress(Exception):   # the tablet gave up on it at 10 s and sent again
            route.continue_()
    state["stalled"].clear()


def _save_deposit(page, member_no: str) -> None:
    """Weigh 1,5 kg PET for ``member_no`` and save it while the API drops every request: kept
    on this tablet; then to the find page with "Nasabah berikutnya"."""
    _open_deposit(page, member_no)
    page.locator("button.tile[data-code='PET-CLEAN']").click()
    page.keyboard.type("1,5")
    page.click("#review")
    page.click("#save")
    expect(page.locator("#result-panel h2")).to_have_text("Tersimpan di tablet ini")
    page.click("#result-next")
    page.wait_for_url("**/counter")
    expect(page.locator("html[data-counter-ready='1']")).to_be_attached()


def _deposits_of(member_no: str) -> list[tuple[str, int]]:
    rows = [(d.receipt_no, d.credited_idr) for d in db.session.scalars(select(Deposit).order_by(Deposit.id))
            if d.member.member_no == member_no]
    db.session.close()
    return rows


def test_a_held_deposit_turns_to_sent_in_the_served_list_without_a_reload(browser, live_server, net):
    problems: list[str] = []
    for index, (width, height) in enumerate(SIZES):
        member_no = net.members_a[index].member_no
        context, page = operator_tablet(browser, live_server, width, height)
        state = _held_api(page)
        _save_deposit(page, member_no)
        # The find page tries again at once: that request is held on the link.
        state["mode"] = "stall"
        page.evaluate("() => { window.notReloaded = true; window.wastebankCounter.sync.kick(0); }")
        entry = page.locator(f"#served-today a.result[data-member-no='{member_no}']")
        expect(entry).to_have_count(1)
        expect(entry.locator(".served-mark")).to_have_text("belum terkirim")
        expect(page.locator(".outbox-item.sending, .outbox-item.queued")).to_have_count(1)
        assert _deposits_of(member_no) == []
        problems += _check(page, "held", width, height, prefix="served")

        _let_through(page, state)
        expect(page.locator(".outbox-item.synced")).to_have_count(1, timeout=20_000)
        [(receipt_no, credited)] = _deposits_of(member_no)
        assert credited == 4875
        assert re.fullmatch(r"RW05-\d{4}-\d{6}", receipt_no), receipt_no
        # The same entry, in the same place, now says it was sent, with the receipt number the
        # queue shows; the page was not reloaded.
        expect(entry.locator(".served-mark")).to_have_text(f"terkirim · {receipt_no}")
        expect(entry).not_to_contain_text("belum terkirim")
        expect(page.locator("#outbox-panel .outbox-item.synced .state")).to_have_text(f"terkirim · {receipt_no}")
        assert page.evaluate("() => window.notReloaded === true")
        assert page.evaluate("() => document.querySelector('#served-today a.result').dataset.memberNo") == member_no
        expect(page.locator("#served-today .unsent")).to_have_count(0)
        problems += _check(page, "sent", width, height, prefix="served")

        # After a reload the server lists it: once, still "terkirim" with its receipt.
        page.reload()
        expect(page.locator("html[data-counter-ready='1']")).to_be_attached()
        expect(entry).to_have_count(1)
        expect(entry.locator(".served-mark")).to_have_text(f"terkirim · {receipt_no}")
        assert _deposits_of(member_no) == [(receipt_no, 4875)]   # recorded once, nothing sent twice
        context.close()
    assert problems == [], "\n".join(problems)


def test_a_refused_deposit_turns_to_needs_correcting_without_a_reload(browser, live_server, net):
    member_no = net.members_a[2].member_no
    context, page = operator_tablet(browser, live_server, 800, 1280)
    state = _held_api(page)
    _save_deposit(page, member_no)
    entry = page.locator(f"#served-today a.result[data-member-no='{member_no}']")
    expect(entry.locator(".served-mark")).to_have_text("belum terkirim")
    page.evaluate("() => { window.notReloaded = true; }")
    state["mode"] = "refuse"
    page.evaluate("() => window.wastebankCounter.sync.kick(0)")
    expect(page.locator(".outbox-item.fix")).to_have_count(1)
    expect(entry.locator(".served-mark")).to_have_text("perlu diperbaiki")
    expect(entry.locator(".served-mark.unsent.fix")).to_have_count(1)   # the queue's red
    assert page.evaluate("() => window.notReloaded === true")
    assert _deposits_of(member_no) == []   # refused: nothing in the ledger
    page.screenshot(path=str(ARTIFACTS / "served-refused-800x1280.png"), full_page=True)
    context.close()
