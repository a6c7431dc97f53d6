"""The export downloads on the statements screen and the unit report fit the tablet and the
laptop (issue 12 items 2, 3): no sideways scroll, 44×44 px targets, screenshots in
``test-artifacts/`` (exports-*.png)."""
from __future__ import annotations

import pytest

from .test_browser import browser, log_in, sized_context, sync_api  # noqa: F401  (browser is a fixture)
from .test_browser_screens import _check
from .test_exports import levy_month, november  # noqa: F401  (fixtures)

pytestmark = pytest.mark.browser
expect = sync_api.expect


def test_export_links_fit_and_have_big_targets(browser, levy_month, november, live_server):
    problems: list[str] = []
    for width, height in [(800, 1280), (1280, 800)]:
        context = sized_context(browser, live_server, width, height)
        page = context.new_page()
        log_in(page, "agg")
        page.goto("/statements?aggregator=JKT&month=2026-11")
        expect(page.locator("#sipsn-downloads a")).to_have_count(2)
        expect(page.locator("#levy-downloads a")).to_have_count(2)
        expect(page.locator("main")).to_contain_text("Ekspor untuk pemerintah")
        problems += _check(page, "statements", width, height, prefix="exports")
        context.close()
        context = sized_context(browser, live_server, width, height)
        page = context.new_page()
        log_in(page, "mgr_a")
        page.goto("/reports/unit?unit=RW05&month=2026-11")
        expect(page.locator("#levy-download")).to_contain_text("Daftar pembebasan retribusi (CSV)")
        page.locator("#levy-download").scroll_into_view_if_needed()
        problems += _check(page, "unit-report", width, height, prefix="exports")
        context.close()
    assert problems == []
