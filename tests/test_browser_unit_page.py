"""The public unit page ``/u/<code>`` and the manager's settings for it in Chromium (issue 12
item 7, docs/public-page.md): at 390×844, 800×1280 and 1280×800 nothing scrolls sideways and
every tap target is at least 44×44 px; no console error or CSP violation; screenshots
``test-artifacts/public-unit-*.png`` and ``manager-public-settings-*.png``."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from wastebank.extensions import db
from wastebank.services.members import create_member

from .report_helpers import deposit
from .test_browser import browser, expect, log_in, sized_context  # noqa: F401  (fixture)
from .test_browser_screens import _check

pytestmark = pytest.mark.browser

WIB = timezone(timedelta(hours=7))


@pytest.fixture
def with_figures(live_server, net):
    """Six households at RW05 this month, so that the page shows its figures."""
    now = datetime.now(WIB)
    members = [create_member(net.unit_a, f"Warga Layar {i}", phone=f"08129999{i:04d}") for i in range(6)]
    for i, m in enumerate(members):
        deposit(net.unit_a, m, [("PET-CLEAN", "1,5"), ("CARDBOARD", "2")], now - timedelta(minutes=10 + i))
    deposit(net.unit_a, members[0], [("UCO", "1")], now - timedelta(minutes=5))
    from wastebank.models import Unit
    unit = db.session.get(Unit, net.unit_a.id)
    unit.collection_days = "Minggu pagi, 08.00–10.00 WIB (kecuali hari libur nasional)"
    unit.collection_place = "Pos RW 05, Jl. Melati No. 5, Cempaka Putih Barat"
    db.session.commit()
    db.session.close()
    return live_server


def _watch(page) -> list:
    problems = []
    page.on("console", lambda msg: problems.append(f"console {msg.type}: {msg.text}") if msg.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    return problems


def test_public_page_fits_phone_tablet_and_laptop(browser, with_figures):
    problems: list[str] = []
    for width, height in [(390, 844), (800, 1280), (1280, 800)]:
        context = sized_context(browser, with_figures, width, height)
        page = context.new_page()
        errors = _watch(page)
        page.goto("/u/RW05")
        expect(page.locator("#unit-name")).to_have_text("Bank Sampah Melati RW 05")
        month = page.locator("#month")
        expect(month.locator(".kg")).to_have_text("21 kg")
        expect(month.locator(".returned")).to_have_text("Rp 57.250")  # 6 × (1,5 × 3.250 + 2 × 2.000) + 4.000
        expect(month.locator(".households")).to_have_text("6")
        expect(month.locator(".active")).to_have_text("0")  # one deposit each: none active yet
        expect(month.locator("tr.group-oil")).to_contain_text("1 L")
        expect(page.locator("#prices")).to_contain_text("Botol PET bening bersih")
        problems += _check(page, "unit", width, height, prefix="public")
        problems += errors
        context.close()
    assert problems == [], problems


def test_manager_settings_fit(browser, with_figures):
    problems: list[str] = []
    for width, height in [(800, 1280), (1280, 800)]:
        context = sized_context(browser, with_figures, width, height)
        page = context.new_page()
        errors = _watch(page)
        log_in(page, "mgr_a")
        page.goto("/members/")
        expect(page.locator("#public-page-link")).to_contain_text("/u/RW05")
        page.locator("#collection_days").scroll_into_view_if_needed()
        problems += _check(page, "public-settings", width, height, prefix="manager")
        problems += errors
        context.close()
    assert problems == [], problems
