"""Every counter page fits the tablet and the phone (issue 8 item 6): at 800×1280, 1280×800 and
390×844 nothing is wider than the screen and every interactive element is at least 44×44 px.
Screenshots of each page at each size land in ``test-artifacts/`` to be looked at.
"""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from wastebank.extensions import db
from wastebank.models import Deposit

from .factories import PASSWORD
from .test_browser import ARTIFACTS, browser, sync_api  # noqa: F401  (browser is a fixture)

pytestmark = pytest.mark.browser
expect = sync_api.expect

SIZES = [(800, 1280), (1280, 800), (390, 844)]

# Interactive elements smaller than 44×44 px, and whether the page scrolls sideways.
CHECK = """() => {
  const small = Array.from(document.querySelectorAll(
      'a[href], button, input:not([type=hidden]), select, textarea, [role=button], summary'))
    .filter((el) => {
      const r = el.getBoundingClientRect();
      const style = getComputedStyle(el);
      return r.width > 0 && r.height > 0 && style.visibility !== 'hidden' && !el.closest('[hidden]');
    })
    .map((el) => {
      const r = el.getBoundingClientRect();
      // A check box or radio inside its label is tapped through the label.
      const label = el.closest('label');
      const box = (el.type === 'checkbox' || el.type === 'radio') && label ? label.getBoundingClientRect() : r;
      const text = (el.innerText || el.value || el.getAttribute('aria-label') || '').trim().slice(0, 40);
      return {tag: el.tagName, id: el.id, text, w: Math.round(box.width), h: Math.round(box.height)};
    })
    .filter((x) => x.w < 44 || x.h < 44);
  return {small: small, scroll: document.documentElement.scrollWidth, width: window.innerWidth};
}"""


def _check(page, name: str, width: int, height: int, prefix: str = "counter") -> list:
    """Screenshot ``test-artifacts/<prefix>-<name>-<w>x<h>.png`` and the problems: the page
    scrolling sideways, interactive elements under 44×44 px."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{prefix}-{name}-{width}x{height}.png"), full_page=True)
    result = page.evaluate(CHECK)
    problems = []
    if result["scroll"] > result["width"]:
        problems.append(f"{name} at {width}x{height}: {result['scroll']} px wide")
    for element in result["small"]:
        problems.append(f"{name} at {width}x{height}: {element}")
    return problems


def test_counter_pages_fit_and_have_big_targets(browser, live_server, net):
    member_no = net.members_a[0].member_no
    problems: list[str] = []
    for width, height in SIZES:
        context = browser.new_context(base_url=live_server, locale="id-ID", timezone_id="Asia/Jakarta",
                                      viewport={"width": width, "height": height}, has_touch=True,
                                      service_workers="block")
        context.set_default_timeout(20_000)
        page = context.new_page()
        page.on("dialog", lambda dialog: dialog.accept())
        page.goto("/login")
        problems += _check(page, "login", width, height)
        page.fill("#username", "op_a")
        page.fill("#password", PASSWORD)
        page.click("main button[type=submit]")
        page.wait_for_url("**/counter")
        problems += _check(page, "find", width, height)
        page.goto("/counter?q=a")
        problems += _check(page, "find-results", width, height)
        page.goto(f"/counter/member/{member_no}/deposit")
        expect(page.locator("#deposit-form[data-ready='1']")).to_be_attached()
        # Every tile is on the page, none hidden in a scroll box.
        tiles = page.locator("button.tile")
        assert tiles.count() >= 20
        assert page.evaluate("() => document.querySelector('.tiles').scrollHeight <= "
                             "document.querySelector('.tiles').clientHeight + 1")
        page.locator("button.tile[data-code='PET-CLEAN']").click()
        page.keyboard.type("1,5")
        page.locator("button.tile[data-code='CARDBOARD']").click()
        page.keyboard.type("750 g")
        problems += _check(page, "deposit", width, height)
        # In landscape the total and the check button stay on screen while tiles scroll by.
        review = page.locator("#review").bounding_box()
        assert review["y"] + review["height"] <= height + 1, (width, height, review)
        page.click("#review")
        problems += _check(page, "confirm", width, height)
        page.click("#save")
        page.wait_for_url(re.compile(r"/counter/receipt/"))
        problems += _check(page, "receipt", width, height)
        page.goto(f"/counter/member/{member_no}")
        problems += _check(page, "member", width, height)
        page.goto(f"/counter/member/{member_no}/withdraw")
        problems += _check(page, "withdraw", width, height)
        page.goto("/counter/withdrawals")
        problems += _check(page, "withdrawals", width, height)
        page.goto("/counter")
        expect(page.locator(".outbox-item.synced")).to_have_count(1)
        problems += _check(page, "find-with-outbox", width, height)
        context.close()
    receipts = db.session.scalars(select(Deposit.receipt_no)).all()
    db.session.close()
    assert len(receipts) == len(SIZES)
    (ARTIFACTS / "counter-screens-problems.txt").write_text("\n".join(problems) + "\n")
    assert problems == [], "\n".join(problems)
