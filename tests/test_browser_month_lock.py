"""Month lock screens in Chromium (issue 12 item 6; docs/month-lock.md): the aggregator's staff
close the books of last month from the statement screen through the confirmation, an admin
sees the unlock form, a standalone unit's manager closes their own unit. At 800×1280 and
1280×800 nothing scrolls sideways and every control is at least 44×44 px. Screenshots:
``test-artifacts/monthlock-*.png``. Runs on the real clock: "last month" is the month shown.
"""
from __future__ import annotations

from datetime import date

import pytest

from wastebank.extensions import db
from wastebank.services.month_lock import month_label
from wastebank.services.org import create_unit, create_user
from wastebank.timeutil import local_today

from .factories import PASSWORD
from .test_browser import browser, log_in, sized_context, sync_api  # noqa: F401  (browser is a fixture)
from .test_browser_screens import _check as check_page

pytestmark = pytest.mark.browser
expect = sync_api.expect

SIZES = [(800, 1280), (1280, 800)]


def _last_month() -> date:
    today = local_today()
    return date(today.year - 1, 12, 1) if today.month == 1 else date(today.year, today.month - 1, 1)


@pytest.fixture
def standalone(net):
    unit = create_unit("RT01", "Bank Sampah Mandiri RT 01 Kelurahan Cempaka Putih Barat")
    create_user("mgr_alone", "unit_manager", PASSWORD, unit=unit, full_name="Rahmat Pengurus")
    db.session.commit()
    return unit


@pytest.mark.parametrize("width,height", SIZES)
def test_close_the_books_from_the_statement_screen(browser, standalone, live_server, width, height):
    label = month_label(_last_month())
    month = _last_month().strftime("%Y-%m")
    problems = []
    tag = f"{width}x{height}"
    with sized_context(browser, live_server, width, height) as context:
        page = context.new_page()
        log_in(page, "agg")
        page.goto(f"/statements?aggregator=JKT&month={month}")
        expect(page.locator("#month-lock-title")).to_have_text(f"Tutup buku · {label}")
        expect(page.locator("#month-lock-state")).to_contain_text(f"{label} masih terbuka")
        problems += check_page(page, "statement-open", width, height, prefix="monthlock")
        page.click("#month-lock-confirm summary")
        expect(page.locator("#month-lock-submit")).to_be_visible()
        expect(page.locator("#month-lock-confirm")).to_contain_text("Hanya admin yang dapat membuka kembali")
        problems += check_page(page, "statement-confirm", width, height, prefix="monthlock")
        page.click("#month-lock-submit")
        expect(page.locator(".flash.ok").first).to_contain_text(f"Tutup buku {label} selesai untuk 2 unit.")
        expect(page.locator("#month-lock-units")).to_contain_text("Ditutup")
        expect(page.locator("#month-lock-confirm")).to_have_count(0)
        problems += check_page(page, "statement-locked", width, height, prefix="monthlock")
        context.clear_cookies()

        log_in(page, "admin")
        page.goto(f"/statements?aggregator=JKT&month={month}")
        expect(page.locator("#month-unlock-form")).to_be_visible()
        problems += check_page(page, "statement-admin-unlock", width, height, prefix="monthlock")
        page.fill("#month-unlock-form input[name=reason]", "Setoran offline RW07 tertinggal")
        page.click("#month-unlock-form button[type=submit]")
        expect(page.locator(".flash.ok").first).to_contain_text(f"{label} dibuka kembali untuk 2 unit.")
        context.clear_cookies()

        log_in(page, "mgr_alone")
        page.goto("/manager/")
        page.click("a.tile[href=\"/month-lock\"]")
        expect(page.locator("#month-lock-title")).to_have_text(f"Tutup buku · {label}")
        problems += check_page(page, "standalone", width, height, prefix="monthlock")
        page.click("#month-lock-confirm summary")
        page.click("#month-lock-submit")
        expect(page.locator(".flash.ok").first).to_contain_text(f"Tutup buku {label} selesai untuk 1 unit.")
        problems += check_page(page, "standalone-locked", width, height, prefix="monthlock")
    assert problems == [], f"{tag}: {problems}"
