"""The manager's cash book, price page, stock adjustment and unit report in Chromium at 800×1280
and 1280×800 (found by a tester, cashbook fixes 1–6):

* a cash withdrawal paid between "Periksa hitungan" and "Tutup hari" closes nothing: the check
  comes again with the new expected cash and the message; closing then posts the new figure;
* "Tampilkan" on the cash book rendered at /manager/cashbook/close shows the cash book (no 405);
* the price page names and marks the refused field; the adjustment names each empty field in
  Indonesian; the unit report heads its month "Bulan Desember 2026".

Every page fits the screen with 44×44 px targets. Screenshots: ``test-artifacts/cashfix-*.png``.
"""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from wastebank.extensions import db
from wastebank.models import DayClose, Member, Unit, User
from wastebank.services.deposits import LineInput, record_deposit
from wastebank.services.ledger import verify_ledger
from wastebank.services.sales import SaleLineInput, create_offtaker, record_sale
from wastebank.services.transaction import run_in_transaction
from wastebank.services.withdrawals import WithdrawalInput, record_withdrawal
from wastebank.timeutil import local_today

from .test_browser import browser, log_in, sized_context, sync_api  # noqa: F401  (browser is a fixture)
from .test_browser_screens import _check

pytestmark = pytest.mark.browser
expect = sync_api.expect

SIZES = [(800, 1280), (1280, 800)]


def _closes() -> int:
    count = db.session.scalar(select(func.count(DayClose.id)))
    db.session.rollback()
    db.session.close()  # the live server writes to the same database (SQLite's lock)
    return count


@pytest.fixture
def cash_in_the_box(net):
    """RW05 today: 10 kg of cardboard deposited, sold for Rp 30.000 cash."""
    unit, mgr = net.unit_a, db.session.get(User, net.users["mgr_a"].id)
    run_in_transaction(lambda: record_deposit(unit, net.members_a[0], [LineInput("CARDBOARD", "10")],
                                              operator_id=net.users["op_a"].id, idempotency_key="cashfix-dep-1"))
    buyer = run_in_transaction(lambda: create_offtaker(unit, "CV Maju Daur", user=mgr))
    run_in_transaction(lambda: record_sale(unit, buyer, [SaleLineInput("CARDBOARD", "10", None, "3.000")], "cash",
                                           user=mgr, idempotency_key="cashfix-sale-1"))
    db.session.commit()
    return net


@pytest.mark.parametrize("width,height", SIZES)
def test_a_withdrawal_between_check_and_close_and_the_day_picker(browser, live_server, cash_in_the_box,
                                                                 width, height):
    net, problems = cash_in_the_box, []
    unit_id, member_id, operator_id = net.unit_a.id, net.members_a[0].id, net.users["op_a"].id
    context = sized_context(browser, live_server, width, height)
    page = context.new_page()
    log_in(page, "mgr_a")
    page.goto("/manager/cashbook")
    page.fill("#counted", "10.000")
    page.click("#check-close")
    expect(page.locator("#confirm-expected")).to_have_text("Rp 30.000")
    expect(page.locator("#confirm-difference")).to_contain_text("-Rp 20.000")
    problems += _check(page, "cashbook-check", width, height, prefix="cashfix")

    # An operator pays Rp 5.000 in cash while the manager reads the figures.
    run_in_transaction(lambda: record_withdrawal(
        db.session.get(Unit, unit_id), db.session.get(Member, member_id), WithdrawalInput("cash", 5_000),
        user=db.session.get(User, operator_id), idempotency_key="cashfix-wd-1"))
    db.session.close()
    page.click("#confirm-close")
    expect(page.get_by_role("alert")).to_contain_text(
        "Catatan kas berubah sejak diperiksa: kas seharusnya sekarang Rp 25.000, saat diperiksa Rp 30.000. "
        "Periksa lagi lalu tutup.")
    expect(page.locator("#confirm-expected")).to_have_text("Rp 25.000")
    expect(page.locator("#confirm-difference")).to_contain_text("-Rp 15.000")
    assert _closes() == 0
    problems += _check(page, "cashbook-moved", width, height, prefix="cashfix")

    # "Tampilkan" from this page (the answer to the POST to /manager/cashbook/close) shows the
    # cash book; the form's action no longer depends on the URL the page was served at.
    page.get_by_role("button", name="Tampilkan").click()
    page.wait_for_url(f"**/manager/cashbook?day={local_today().isoformat()}")
    expect(page.locator("h1")).to_contain_text("Buku kas")
    expect(page.locator("#cashbook")).to_contain_text("Rp 5.000")

    page.fill("#counted", "10.000")
    page.click("#check-close")
    expect(page.locator("#confirm-expected")).to_have_text("Rp 25.000")
    page.click("#confirm-close")
    expect(page.locator("#day-closed")).to_contain_text("-Rp 15.000")
    problems += _check(page, "cashbook-closed", width, height, prefix="cashfix")
    context.close()
    close = db.session.scalar(select(DayClose))
    assert (close.expected_cash_idr, close.counted_cash_idr, close.difference_idr) == (25_000, 10_000, -15_000)
    assert verify_ledger().ok
    db.session.rollback()
    db.session.close()
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize("width,height", SIZES)
def test_price_adjust_and_report_texts(browser, live_server, net, width, height):
    problems = []
    context = sized_context(browser, live_server, width, height)
    page = context.new_page()
    log_in(page, "mgr_a")

    page.goto("/manager/prices/PET-CLEAN")
    page.fill("#buy", "3400")
    page.fill("#sell", "4.500,5")
    page.click("form.price-one button[type=submit]")
    expect(page.get_by_role("alert")).to_have_text("Harga jual: Hanya rupiah bulat, mis. 3.250.")
    expect(page.locator("#sell")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#sell-error")).to_have_text("Hanya rupiah bulat, mis. 3.250.")
    assert page.locator("#buy").get_attribute("aria-invalid") is None
    problems += _check(page, "price-refused", width, height, prefix="cashfix")
    page.fill("#sell", "")
    page.click("form.price-one button[type=submit]")
    expect(page.locator(".flash.ok")).to_contain_text("beli Rp 3.400 per kg, harga jual belum diisi")
    expect(page.locator("#in-force")).to_have_text("Berlaku: beli Rp 3.400 per kg, harga jual belum diisi")
    problems += _check(page, "price-no-sell", width, height, prefix="cashfix")

    page.goto("/manager/stock/adjust")
    page.select_option("#category", "PET-CLEAN")
    page.fill("#quantity", "1")
    page.click("form button[type=submit].primary")
    alerts = page.get_by_role("alert")
    expect(alerts).to_have_text(["Tuliskan alasan penyesuaian stok."])
    expect(page.locator("#reason")).to_have_attribute("aria-invalid", "true")
    assert "This field is required" not in page.content()
    problems += _check(page, "adjust-empty-reason", width, height, prefix="cashfix")

    page.goto("/reports/unit?month=2026-12")
    expect(page.locator("#month-heading")).to_have_text("Bulan Desember 2026")
    assert date(2026, 12, 1).isoformat()[:7] == page.locator("input[name=month]").input_value()
    problems += _check(page, "unit-report-month", width, height, prefix="cashfix")
    context.close()
    assert problems == [], "\n".join(problems)
