"""The counter in a real browser at 10" tablet size: find a member, enter a two-line deposit
with live line values, review, double-tap save (one deposit), receipt and its 80 mm PDF, member
balance; and the English switch. Drives Debian's Chromium through Playwright's sync API.

Run: ``pytest tests/test_browser.py`` (``-m browser`` selects these). The screenshot of the
deposit screen goes to ``test-artifacts/counter-tablet.png`` (git-ignored).
"""
from __future__ import annotations

import re
import time
from io import BytesIO
from pathlib import Path
from urllib.parse import urljoin

import pytest
from sqlalchemy import func, select

from wastebank.extensions import db
from wastebank.models import Deposit, JournalEntry, Member, Posting
from wastebank.services.ledger import member_savings_account

from .factories import PASSWORD

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip("Debian's Chromium (/usr/bin/chromium) is not installed: apt-get install -y chromium",
                allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
expect = sync_api.expect

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
TABLET = {"viewport": {"width": 800, "height": 1280}, "device_scale_factor": 1,
          "has_touch": True, "is_mobile": False}


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium for the module (launching costs about a second)."""
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def sized_context(browser, base_url: str, width: int, height: int, timeout_ms: int = 20_000):
    """A browser context of ``width``×``height`` px with touch, Indonesian, in Jakarta time, with
    service workers blocked (Playwright cannot route what a worker fetches), for the page checks
    at tablet and laptop sizes."""
    context = browser.new_context(base_url=base_url, locale="id-ID", timezone_id="Asia/Jakarta",
                                  viewport={"width": width, "height": height}, has_touch=True,
                                  service_workers="block")
    context.set_default_timeout(timeout_ms)
    return context


def operator_tablet(browser, base_url: str, width: int, height: int, username: str = "op_a"):
    """``(context, page)``: ``username`` logged in on a :func:`sized_context` of ``width``×``height``
    px, on the counter's start page; dialogs (the void's confirm) are accepted."""
    context = sized_context(browser, base_url, width, height)
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    log_in(page, username)
    page.wait_for_url("**/counter")
    return context, page


def log_in(page, username: str, password: str = PASSWORD) -> None:
    """Log ``username`` in through the login form and wait for the page it lands on."""
    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("main button[type=submit]")
    page.wait_for_load_state()


@pytest.fixture
def tablet(browser, live_server):
    """A fresh browser context at 800×1280 portrait with touch, pointed at the live server."""
    # Service workers blocked: Playwright cannot route requests a service worker makes
    # (the offline tests in test_browser_outbox.py run with it).
    context = browser.new_context(base_url=live_server, locale="id-ID", service_workers="block", **TABLET)
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


@pytest.fixture
def slow_save(monkeypatch):
    """Make saving a deposit take 1 s more on the server (a busy counter, a slow link), so that
    the second tap of a double tap surely lands while the first is still in flight, even on a
    loaded CI machine."""
    from wastebank.api import views
    real = views.record_deposit

    def slowly(*args, **kwargs):
        time.sleep(1.0)
        return real(*args, **kwargs)

    monkeypatch.setattr(views, "record_deposit", slowly)


def _member(name: str) -> Member:
    """Read a member in the test's own session (the fixtures' objects are detached by now)."""
    return db.session.scalars(select(Member).where(Member.name == name)).one()


def _release_db() -> None:
    """End the test's transaction: on SQLite, once it wrote, it holds the writer lock."""
    db.session.commit()
    db.session.close()


def _log_in(page, username: str = "op_a") -> None:
    page.goto("/login")
    page.locator("#username").fill(username)
    page.locator("#password").fill(PASSWORD)
    page.locator("form button[type=submit].primary").tap()
    page.wait_for_url("**/counter")


def _open_member_by_name(page, typed: str, full_name: str) -> None:
    search = page.locator("#q")
    expect(search).to_be_focused()  # autofocus: the operator can type at once
    search.press_sequentially(typed)
    page.get_by_role("button", name="Cari", exact=True).tap()
    result = page.locator("a.result", has_text=full_name)
    expect(result).to_have_count(1)
    result.tap()
    page.wait_for_url("**/counter/member/*")


def _fill_two_lines(page) -> None:
    page.locator(".tile[data-code=PET-CLEAN]").tap()
    page.keyboard.type("1,5")
    page.locator(".tile[data-code=CARDBOARD]").tap()
    page.keyboard.type("750 g")
    expect(page.locator("#total")).to_have_text("Rp 6.375")


def _double_tap_save(page) -> list:
    """Click "Simpan setoran" twice 50 ms apart; wait for the receipt page; return the save
    requests the page sent to the API (the outbox sends each deposit once)."""
    posts = []
    page.on("request", lambda r: posts.append(r)
            if r.method == "POST" and "/api/v1/deposits" in r.url else None)
    save = page.get_by_role("button", name="Simpan setoran")
    expect(save).to_be_enabled()
    box = save.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    started = time.monotonic()
    page.mouse.click(x, y)
    time.sleep(0.05)
    page.mouse.click(x, y)
    between = time.monotonic() - started
    # Both taps must land while the first save (held 1 s by slow_save) is still in flight.
    assert between < 0.8, f"the two clicks took {between * 1000:.0f} ms"
    # Not wait_for_url: when two submissions do go out, the first navigation is aborted.
    expect(page).to_have_url(re.compile(r"/counter/receipt/[^/?]+\?new=1$"))
    return posts


def test_counter_deposit_on_tablet(tablet, net, slow_save):
    page = tablet
    _log_in(page)
    _open_member_by_name(page, "Siti", "Siti Aminah")
    expect(page.locator("#balance")).to_have_text("Rp 0")
    page.get_by_role("link", name="Setoran baru").tap()
    page.wait_for_url("**/deposit")
    # The page's modules (deposit, tare, scale) have set up the form before the first tap.
    expect(page.locator("#deposit-form[data-ready='1']")).to_be_attached()

    # Line 1: tap the tile, the quantity box gets the focus, type the weight.
    page.locator(".tile[data-code=PET-CLEAN]").tap()
    row0 = page.locator("tr.line").nth(0)
    expect(row0.locator("select.cat")).to_have_value("PET-CLEAN")
    expect(row0.locator("input.quantity")).to_be_focused()
    page.keyboard.type("1,5")
    expect(row0.locator(".unit")).to_have_text("kg")
    expect(row0.locator(".price")).to_have_text("Rp 3.250/kg")
    expect(row0.locator(".amount")).to_have_text("Rp 4.875")
    expect(page.locator("#total")).to_have_text("Rp 4.875")

    # Line 2: a second tile adds a second row.
    page.locator(".tile[data-code=CARDBOARD]").tap()
    expect(page.locator("tr.line")).to_have_count(2)
    row1 = page.locator("tr.line").nth(1)
    expect(row1.locator("select.cat")).to_have_value("CARDBOARD")
    expect(row1.locator("input.quantity")).to_be_focused()
    page.keyboard.type("750 g")
    expect(row1.locator(".amount")).to_have_text("Rp 1.500")
    expect(page.locator("#total")).to_have_text("Rp 6.375")

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "counter-tablet.png"))
    # Tablet usability: the tiles and the main button are comfortable touch targets and
    # nothing scrolls sideways at 800 px.
    tile_box = page.locator(".tile[data-code=PET-CLEAN]").bounding_box()
    assert tile_box["height"] >= 60 and tile_box["width"] >= 140, tile_box
    assert page.locator("#review").bounding_box()["height"] >= 48
    assert page.evaluate("document.documentElement.scrollWidth") <= 800

    # Review: what will be credited, nothing written yet.
    page.get_by_role("button", name="Periksa sebelum simpan").tap()  # checked on the tablet
    expect(page.get_by_role("heading", name="Periksa bersama nasabah sebelum menyimpan")).to_be_visible()
    expect(page.locator("#confirm-total")).to_have_text("Rp 6.375")
    expect(page.locator("#confirm-credited")).to_have_text("Rp 6.375")
    expect(page.locator("#confirm-balance")).to_have_text("Rp 6.375")
    expect(page.locator("table.confirm")).to_contain_text("1,5 kg")
    expect(page.locator("table.confirm")).to_contain_text("0,75 kg")
    assert db.session.scalar(select(func.count(Deposit.id))) == 0, "review must not write"
    _release_db()

    # Double tap on "Simpan setoran": two clicks 50 ms apart, like a hurried thumb.
    save_posts = _double_tap_save(page)
    assert len(save_posts) == 1, f"the page sent {len(save_posts)} save requests for a double tap"
    expect(page.locator("p.flash.ok", has_text="Tersimpan")).to_contain_text("Rp 6.375")

    # Exactly one deposit, with the two lines and one journal entry.
    member = _member("Siti Aminah")
    deposits = db.session.scalars(select(Deposit)).all()
    assert len(deposits) == 1
    deposit = deposits[0]
    assert [(line.category.code, line.quantity_milli, line.amount_idr) for line in deposit.lines] == [
        ("PET-CLEAN", 1500, 4875), ("CARDBOARD", 750, 1500)]
    assert (deposit.member_id, deposit.total_idr, deposit.credited_idr, deposit.balance_after_idr) == (
        member.id, 6375, 6375, 6375)
    assert db.session.scalar(select(func.count(JournalEntry.id))) == 1
    receipt_no = deposit.receipt_no
    assert re.fullmatch(r"RW05-\d{4}-000001", receipt_no), receipt_no
    _release_db()

    # Receipt page.
    expect(page.locator("#receipt-no")).to_have_text(receipt_no)
    expect(page.locator("#receipt-credited")).to_have_text("Rp 6.375")
    expect(page.locator("#receipt-balance")).to_have_text("Rp 6.375")

    # The roll PDF behind the print button, fetched with the browser's session cookie.
    href = page.locator("#print-roll").get_attribute("href")
    assert "size=roll" in href
    pdf = page.request.get(urljoin(page.url, href))
    assert pdf.ok and pdf.headers["content-type"] == "application/pdf", (pdf.status, pdf.headers)
    from pypdf import PdfReader
    reader = PdfReader(BytesIO(pdf.body()))
    text = reader.pages[0].extract_text()
    assert receipt_no in text and "Rp 6.375" in text, text
    assert abs(float(reader.pages[0].mediabox.width) - 80 / 25.4 * 72) < 0.5  # RW05 prints 80 mm

    # Member page: the balance shown is the ledger's.
    page.get_by_role("link", name="Halaman nasabah").tap()
    page.wait_for_url("**/counter/member/*")
    expect(page.locator("#balance")).to_have_text("Rp 6.375")
    expect(page.get_by_role("link", name=f"Setoran {receipt_no}")).to_be_visible()
    member = _member("Siti Aminah")
    account = member_savings_account(member)
    assert account.balance == 6375
    posted = db.session.scalar(select(func.sum(Posting.amount)).where(Posting.account_id == account.id))
    assert posted == -6375  # credits are negative postings
    _release_db()


def test_english_switch(tablet, net):
    page = tablet
    _log_in(page)
    _open_member_by_name(page, "Siti", "Siti Aminah")
    expect(page.get_by_role("link", name="Setoran baru")).to_be_visible()
    page.locator("button.lang", has_text="EN").tap()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    assert "/counter/member/" in page.url  # the switch comes back to the same page
    expect(page.locator("button.lang.on")).to_have_text("EN")
    page.get_by_role("link", name="New deposit").tap()
    page.wait_for_url("**/deposit")
    # The page's modules (deposit, tare, scale) have set up the form before the first tap.
    expect(page.locator("#deposit-form[data-ready='1']")).to_be_attached()
    expect(page.get_by_role("heading", name="Tap a category, then type the weight")).to_be_visible()
    page.locator(".tile[data-code=PET-CLEAN]").tap()
    page.keyboard.type("1.5")
    row0 = page.locator("tr.line").nth(0)
    expect(row0.locator(".price")).to_have_text("Rp 3,250/kg")
    expect(row0.locator(".amount")).to_have_text("Rp 4,875")
    expect(page.locator("#total")).to_have_text("Rp 4,875")
    page.get_by_role("button", name="Check before saving").tap()
    expect(page.locator("#confirm-credited")).to_have_text("Rp 4,875")
    expect(page.locator("table.confirm")).to_contain_text("1.5 kg")
    expect(page.get_by_role("button", name="Save deposit")).to_be_visible()
