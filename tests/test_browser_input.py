"""Issue 10 items 5–7 on screen: a refused input shows its translated message, the page fits
the tablet (800×1280, 1280×800) and the phone (390×844) and keeps 44 px targets. Screenshots in
``test-artifacts/input-*.png``."""
from __future__ import annotations

import pytest

from .test_browser import browser, log_in, sized_context, sync_api  # noqa: F401  (browser is a fixture)
from .test_browser_screens import SIZES, _check

pytestmark = pytest.mark.browser
expect = sync_api.expect


def test_refused_inputs_show_their_message_and_fit(browser, live_server, net):
    problems: list[str] = []
    for width, height in SIZES:
        context = sized_context(browser, live_server, width, height)
        page = context.new_page()
        log_in(page, "mgr_a")
        page.wait_for_url("**/counter")

        response = page.goto("/counter?q=%E2%80%8B%E2%80%8B")  # zero-width only
        assert response.status == 400
        expect(page.get_by_text("Isian ini memuat karakter yang tidak diizinkan.")).to_be_visible()
        problems += _check(page, "find-bad-characters", width, height, prefix="input")

        response = page.goto("/manager/cashbook?day=9999-12-31")
        assert response.status == 400
        expect(page.get_by_text(
            "Isi tanggal dengan format TTTT-BB-HH antara 1970-01-01 dan 9000-12-31.")).to_be_visible()
        problems += _check(page, "cashbook-bad-day", width, height, prefix="input")

        page.goto("/members/new")
        page.fill("#name", "\u202eBudi")
        page.click("main button[type=submit]")
        expect(page.get_by_text("Isian ini memuat karakter yang tidak diizinkan.").first).to_be_visible()
        problems += _check(page, "member-bad-name", width, height, prefix="input")
        context.close()
    assert not problems, "\n".join(problems)
