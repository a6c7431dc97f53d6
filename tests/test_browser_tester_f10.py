"""A tester (F10): the audit screen's links (a receipt, a member) were the browser's default
blue; they now have the app's link style (static/app.css: green, bold, no underline until
hovered), like the links of the other tables. Chromium at 800x1280 and 1280x800; screenshots
``test-artifacts/f10-audit-<w>x<h>.png``.
"""
from __future__ import annotations

import pytest

from wastebank.extensions import db
from wastebank.models import User
from wastebank.services.deposits import LineInput, record_deposit
from wastebank.services.transaction import run_in_transaction

from .test_browser import ARTIFACTS, browser, log_in, sized_context, sync_api  # noqa: F401
from .test_browser_screens import _check

pytestmark = pytest.mark.browser
expect = sync_api.expect

GREEN_DARK = "rgb(18, 90, 49)"      # --green-dark in app.css
BROWSER_BLUE = "rgb(0, 0, 238)"


def test_audit_links_use_the_apps_link_style(browser, live_server, net):
    mgr = db.session.get(User, net.users["mgr_a"].id)
    run_in_transaction(lambda: record_deposit(net.unit_a, net.members_a[1], [LineInput("CARDBOARD", "5")],
                                              operator_id=mgr.id, idempotency_key="f10-audit-dep-1"))
    db.session.close()
    problems: list[str] = []
    for width, height in [(800, 1280), (1280, 800)]:
        context = sized_context(browser, live_server, width, height)
        page = context.new_page()
        log_in(page, "mgr_a")
        page.goto("/manager/audit")
        link = page.locator("#audit a.object").first
        expect(link).to_contain_text("Setoran RW05-")
        style = link.evaluate("(a) => { const s = getComputedStyle(a); "
                              "return [s.color, s.textDecorationLine, s.fontWeight]; }")
        assert style == [GREEN_DARK, "none", "600"], style
        # The same look as a plain link elsewhere (a member number in the members list).
        page.goto("/members")
        plain = page.locator("main table a:not([class])").first
        assert plain.evaluate("(a) => getComputedStyle(a).color") == GREEN_DARK
        page.goto("/manager/audit")
        assert page.locator("#audit a.object").first.evaluate("(a) => getComputedStyle(a).color") != BROWSER_BLUE
        problems += _check(page, "audit", width, height, prefix="f10")
        context.close()
    assert problems == [], "\n".join(problems)


def test_the_paid_withdrawals_button_names_the_list(browser, live_server, net):
    from .test_withdrawal_screens import deposit, withdraw_service

    member = net.members_a[0]
    deposit(net, member, "5", "f10-dep-wd-1")
    paid = withdraw_service(net, member, 4000, "f10-wd-paid-1")
    db.session.close()
    problems: list[str] = []
    for width, height in [(800, 1280), (1280, 800)]:
        context = sized_context(browser, live_server, width, height)
        page = context.new_page()
        log_in(page, "op_a")
        page.goto(f"/counter/withdrawal/{paid.body['id']}")
        button = page.locator("#open-withdrawals")
        expect(button).to_have_text("Daftar penarikan yang belum selesai")
        box = button.bounding_box()
        assert box["height"] >= 44 and box["width"] >= 44, box
        problems += _check(page, "paid-withdrawal", width, height, prefix="f10")
        button.click()
        page.wait_for_url("**/counter/withdrawals")
        expect(page.locator("main h1")).to_have_text("Penarikan belum selesai")
        context.close()
    assert problems == [], "\n".join(problems)
