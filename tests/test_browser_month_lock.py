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
from .test_browser import ARTIFACTS, browser, log_in, sized_context, sync_api  # noqa: F401  (browser is a fixture)
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


def test_offline_capture_replayed_into_a_locked_month_waits_in_the_outbox(browser, live_server, net):
    """A deposit weighed offline on the last evening of last month reaches the server after the
    aggregator closed that month's books: refused with the month named, kept in "perlu
    diperbaiki" (also after a reload) with "Kirim ulang"; once an admin unlocks the month, the
    resend records it once, in last month."""
    from datetime import datetime, time, timedelta, timezone

    from sqlalchemy import select

    from wastebank.models import Aggregator, Deposit, User
    from wastebank.services.month_close import lock_month, units_of, unlock_month
    from wastebank.services.transaction import run_in_transaction
    from wastebank.timeutil import local_zone

    from .test_browser_outbox import _capture, _deposits, _device_ready, _items, _open_deposit, _tablet

    first = _last_month()
    today = local_today()
    this_month = date(today.year, today.month, 1)
    # 20:00 on the last day of last month
    captured = datetime.combine(this_month, time(0, 0), tzinfo=local_zone()) - timedelta(hours=4)
    label = month_label(first)
    member_no = net.members_a[0].member_no
    context, page = _tablet(browser, live_server, service_worker=True)
    _open_deposit(page, member_no)
    _device_ready(page)
    page.clock.install(time=captured.astimezone(timezone.utc))
    context.set_offline(True)
    _capture(page)
    expect(page.locator("#result-panel")).to_be_visible()

    jkt = db.session.scalars(select(Aggregator).where(Aggregator.code == "JKT")).one()
    staff = db.session.scalars(select(User).where(User.username == "agg")).one()
    assert len(run_in_transaction(lambda: lock_month(units_of(jkt), first.year, first.month, staff))) == 2
    db.session.close()

    page.clock.set_system_time(datetime.now(timezone.utc))
    context.set_offline(False)
    page.evaluate("() => { window.dispatchEvent(new Event('online')); }")
    item = page.locator(".outbox-item.fix")
    expect(item).to_contain_text("perlu diperbaiki", timeout=30_000)
    expect(item).to_contain_text(f"Bulan {label} sudah ditutup buku")
    expect(item.locator("button.resend")).to_be_visible()
    [stored] = _items(page)
    assert stored["state"] == "fix" and stored["error"]["code"] == "month_locked"
    assert _deposits() == []
    page.reload()
    expect(page.locator(".outbox-item.fix")).to_have_count(1)
    page.screenshot(path=str(ARTIFACTS / "monthlock-outbox-refused-800x1280.png"), full_page=True)

    jkt = db.session.scalars(select(Aggregator).where(Aggregator.code == "JKT")).one()
    admin = db.session.scalars(select(User).where(User.username == "admin")).one()
    run_in_transaction(lambda: unlock_month(units_of(jkt), first.year, first.month, admin,
                                            "Setoran offline akhir bulan tertinggal"))
    db.session.close()
    page.locator(".outbox-item.fix button.resend").click()
    expect(page.locator(".outbox-item.synced")).to_have_count(1, timeout=20_000)
    assert _deposits() == [(member_no, 4875, 4875, [("PET-CLEAN", 1500, 4875)])]
    deposit = db.session.scalars(select(Deposit)).one()
    assert abs((deposit.recorded_at - captured).total_seconds()) < 5, deposit.recorded_at
    db.session.close()
    context.close()
