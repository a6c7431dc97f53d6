"""The tokens page and the screens issue 10 items 3-4 touched, in Chromium at 800×1280 and
1280×800 (staff pages; the phone size is for public pages): nothing wider than the screen, every
target at least 44×44 px, a revoke tap works; the import preview shows the row-numbered
member-number refusal. Screenshots land in ``test-artifacts/``."""
from __future__ import annotations

import pytest

from wastebank.auth.tokens import create_token
from wastebank.extensions import db

from .test_browser import browser, log_in, sized_context, sync_api  # noqa: F401  (browser is a fixture)
from .test_browser_screens import _check

pytestmark = pytest.mark.browser
expect = sync_api.expect

SIZES = [(800, 1280), (1280, 800)]
LONG_AGENT = ("device: Mozilla/5.0 (Linux; Android 13; SM-X200 Build/TP1A.220624.014; wv) "
              "AppleWebKit/537.36 (KHTML, like Gecko)")


@pytest.fixture
def issued(net):
    create_token(net.users["admin"], "skrip laporan")
    create_token(net.users["op_a"], LONG_AGENT[:100])
    create_token(net.users["mgr_a"], "device: Chrome 120")
    db.session.commit()


def _login(context, username):
    page = context.new_page()
    log_in(page, username)
    return page


def test_tokens_page_fits_and_revokes(browser, net, issued, live_server, tmp_path):
    problems: list[str] = []
    for width, height in SIZES:
        context = sized_context(browser, live_server, width, height)
        page = _login(context, "admin")
        page.goto("/password")
        problems += _check(page, "password", width, height)
        page.goto("/account/tokens")
        expect(page.locator("h1")).to_have_text("Perangkat dan token")
        problems += _check(page, "tokens-admin", width, height)
        if (width, height) == SIZES[0]:
            expect(page.locator("ul.tokens li")).to_have_count(3)
            page.locator("ul.tokens li", has_text="Chrome 120").get_by_role("button", name="Cabut").click()
            expect(page.locator(".flash")).to_contain_text("Token milik mgr_a dicabut.")
            expect(page.locator("ul.tokens li")).to_have_count(2)
        context.close()
        context = sized_context(browser, live_server, width, height)
        page = _login(context, "op_a")
        page.goto("/account/tokens")
        # Hers from the fixture, and the device token her counter page just asked for.
        expect(page.locator("ul.tokens li", has_text="SM-X200")).to_have_count(1)
        expect(page.locator("ul.tokens li", has_text="device: Mozilla")).not_to_have_count(0)
        expect(page.locator("body")).not_to_contain_text("Token pengguna lain")
        problems += _check(page, "tokens-operator", width, height)
        context.close()
    # The import preview with a refused member number.
    csv = tmp_path / "buku.csv"
    csv.write_text("nama,no nasabah\nSari Dewi,XS-0098\nTono Wijaya,XS/0099\n", encoding="utf-8")
    for width, height in SIZES:
        context = sized_context(browser, live_server, width, height)
        page = _login(context, "mgr_a")
        page.goto("/members/import")
        page.set_input_files("input[type=file]", str(csv))
        page.locator("main form button[type=submit]").first.click()
        expect(page.locator("main")).to_contain_text("Baris 3:")
        expect(page.locator("main")).to_contain_text("hanya boleh berisi huruf")
        problems += _check(page, "import-bad-number", width, height)
        context.close()
    assert problems == [], "\n".join(problems)
