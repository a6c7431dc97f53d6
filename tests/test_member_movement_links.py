"""The manager's member page (/members/<no>): under "Mutasi terakhir" each receipt number links
to its receipt, as on the counter's member page — a deposit (and its void) to
/counter/receipt/<no>, a withdrawal to /counter/withdrawal/<id> — in the app's link style.
Screenshots ``test-artifacts/fix-member-links-<w>x<h>.png``."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from wastebank.extensions import db
from wastebank.models import Deposit, User, Withdrawal
from wastebank.services.deposits import LineInput, record_deposit
from wastebank.services.transaction import run_in_transaction
from wastebank.services.withdrawals import WithdrawalInput, record_withdrawal, void_deposit

from .test_browser import ARTIFACTS, browser, log_in, sized_context, sync_api  # noqa: F401  (browser is a fixture)
from .test_browser_ui_edges import _assert_app_link


@pytest.fixture
def moved(net):
    """Two deposits (the second voided) and a cash withdrawal for the first member of RW05:
    ``(member_no, [deposit receipt nos], (withdrawal id, its receipt no))``."""
    mgr = db.session.get(User, net.users["mgr_a"].id)
    member = net.members_a[0]
    for i, qty in enumerate(("12", "3")):
        run_in_transaction(lambda: record_deposit(net.unit_a, member, [LineInput("PET-CLEAN", qty)],
                                                  operator_id=mgr.id, idempotency_key=f"links-dep-{i}"))
    run_in_transaction(lambda: record_withdrawal(net.unit_a, member, WithdrawalInput("cash", "5.000"), user=mgr,
                                                 idempotency_key="links-wd-0"))
    db.session.commit()
    receipts = list(db.session.scalars(select(Deposit.receipt_no).where(Deposit.member_id == member.id)
                                       .order_by(Deposit.id)))
    voided = db.session.scalar(select(Deposit).where(Deposit.receipt_no == receipts[1]))
    run_in_transaction(lambda: void_deposit(voided, user=mgr, reason="salah timbang", idempotency_key="links-void-0"))
    withdrawal = tuple(db.session.execute(select(Withdrawal.id, Withdrawal.receipt_no)
                                          .where(Withdrawal.member_id == member.id)).one())
    member_no = member.member_no
    db.session.commit()
    return member_no, receipts, withdrawal


def test_member_page_links_receipts_like_the_counter(client, login, moved):
    member_no, receipts, (withdrawal_id, withdrawal_no) = moved
    login("mgr_a")
    html = client.get(f"/members/{member_no}").get_data(as_text=True)
    table = html[html.index('id="member-movements"'):]
    table = table[:table.index("</table>")]
    hrefs = re.findall(r'<a href="([^"]+)">([^<]+)</a>', table)
    # The voided deposit appears twice (the deposit and its void), both opening its receipt.
    assert sorted(hrefs) == sorted([
        (f"/counter/receipt/{receipts[0]}", receipts[0]),
        (f"/counter/receipt/{receipts[1]}", receipts[1]),
        (f"/counter/receipt/{receipts[1]}", receipts[1]),
        (f"/counter/withdrawal/{withdrawal_id}", withdrawal_no),
    ])
    # The counter's member page links the same receipts to the same places.
    counter = client.get(f"/counter/member/{member_no}").get_data(as_text=True)
    for href, _text in hrefs:
        assert f'href="{href}"' in counter
    assert client.get(hrefs[0][0]).status_code == 200


@pytest.mark.browser
def test_member_page_receipt_links_in_the_browser(browser, moved, live_server):
    member_no, receipts, _withdrawal = moved
    for width, height in [(1280, 800), (800, 1280)]:
        context = sized_context(browser, live_server, width, height)
        page = context.new_page()
        log_in(page, "mgr_a")
        page.goto(f"/members/{member_no}")
        links = page.locator("#member-movements td.memo a")
        assert links.count() == 4
        for i in range(links.count()):
            _assert_app_link(links.nth(i))
        first = page.locator(f"#member-movements td.memo a[href='/counter/receipt/{receipts[0]}']")
        sync_api.expect(first).to_have_text(receipts[0])
        page.locator("#member-movements").scroll_into_view_if_needed()
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"fix-member-links-{width}x{height}.png"), full_page=True)
        assert page.evaluate("() => document.documentElement.scrollWidth") <= width
        first.click()
        page.wait_for_url(f"**/counter/receipt/{receipts[0]}")
        sync_api.expect(page.locator("#receipt-no")).to_have_text(receipts[0])
        context.close()
