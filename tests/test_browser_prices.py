"""The price list editor in Chromium (issue 9 item 1): /manager/prices and a category's history
fit 800×1280 and 1280×800 with 44 px targets; a price set in the weekly form is what the next
counter deposit pays. Screenshots: ``test-artifacts/prices-*.png``.
"""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from wastebank.extensions import db
from wastebank.models import Deposit

from .test_browser import ARTIFACTS, browser, log_in, sized_context, sync_api  # noqa: F401  (browser is a fixture)
from .test_browser_screens import CHECK

pytestmark = pytest.mark.browser
expect = sync_api.expect

SIZES = [(800, 1280), (1280, 800)]


def _check(page, name: str, width: int, height: int) -> list[str]:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"prices-{name}-{width}x{height}.png"), full_page=True)
    result = page.evaluate(CHECK)
    problems = [f"{name} at {width}x{height}: {result['scroll']} px wide"] if result["scroll"] > result["width"] else []
    return problems + [f"{name} at {width}x{height}: {element}" for element in result["small"]]


def test_price_screens_fit_and_a_new_price_reaches_the_counter(browser, live_server, net):
    member_no = net.members_a[0].member_no
    problems: list[str] = []
    # Buy price typed at each size, and what 2 kg of PET-CLEAN then pays at the counter.
    typed = {800: ("3.600", "Rp 7.200", 3600), 1280: ("3.750", "Rp 7.500", 3750)}
    for width, height in SIZES:
        context = sized_context(browser, live_server, width, height)
        page = context.new_page()
        log_in(page, "mgr_a")
        page.goto("/manager/")
        page.get_by_role("link", name="Daftar harga").click()
        page.wait_for_url("**/manager/prices")
        expect(page.locator("#price-PET-CLEAN")).to_contain_text("Rp 3.250/kg" if width == 800 else "Rp 3.600/kg")
        problems += _check(page, "list", width, height)

        buy, rupiah, price = typed[width]
        page.fill("#buy-PET-CLEAN", buy)
        page.click("#bulk button[type=submit]")
        expect(page.locator(".flash.ok")).to_contain_text("1 harga disimpan")
        expect(page.locator("#price-PET-CLEAN")).to_contain_text(f"Rp {buy}/kg")
        expect(page.locator("#price-PET-CLEAN")).to_contain_text("Budi Pengurus")
        problems += _check(page, "saved", width, height)

        page.locator("#price-PET-CLEAN a").click()
        page.wait_for_url("**/manager/prices/PET-CLEAN")
        expect(page.locator("#price-history")).to_contain_text(f"Rp {buy}")
        expect(page.locator("#price-history")).to_contain_text("Rp 3.250")
        problems += _check(page, "history", width, height)

        # The counter: 2 kg of PET-CLEAN at the new price.
        page.goto(f"/counter/member/{member_no}/deposit")
        expect(page.locator("#deposit-form[data-ready='1']")).to_be_attached()
        expect(page.locator("button.tile[data-code='PET-CLEAN']")).to_contain_text(buy)
        page.locator("button.tile[data-code='PET-CLEAN']").click()
        page.keyboard.type("2")
        page.click("#review")
        page.click("#save")
        page.wait_for_url(re.compile(r"/counter/receipt/"))
        expect(page.locator("main")).to_contain_text(rupiah)
        context.close()
        line = db.session.scalars(select(Deposit).order_by(Deposit.id.desc())).first().lines[0]
        assert (line.unit_price_idr, line.amount_idr) == (price, 2 * price)
        db.session.close()
    (ARTIFACTS / "prices-screens-problems.txt").write_text("\n".join(problems) + "\n")
    assert problems == [], "\n".join(problems)
