"""The counter, the camera scan, the service worker and the offline counter work under the
Content-Security-Policy (wastebank/security.py): a real Chromium with a fake camera walks the
screens and no ``securitypolicyviolation`` event fires and no console error is logged.

A control first proves the listener would see one: an inline script added to the page is
refused and reported. Service worker console output is not visible to Playwright, so the
worker is proven by what it does under the policy: it installs, takes control, fills its cache
and serves the find screen and the deposit shell with the network off.
"""
from __future__ import annotations

import re
import uuid

import pytest

from wastebank.services.deposits import LineInput, record_deposit
from wastebank.services.members import card_url, live_card
from wastebank.services.transaction import run_in_transaction

from .factories import PASSWORD
from .test_browser import CHROMIUM, CHROMIUM_ARGS, TABLET, sync_api
from .test_browser_outbox import _controlled, _device_ready, _until
from .test_browser_scan import PHONE, _release_db, card_video

pytestmark = pytest.mark.browser
expect = sync_api.expect

# Installed before any page script: every violation of every page is sent to the test.
REPORTER = """
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolation({page: location.pathname, directive: e.violatedDirective,
                         blocked: e.blockedURI, sample: e.sample || ""});
});
"""


class Watch:
    """The CSP violations and console errors a browser context saw, by page."""

    def __init__(self, context):
        self.violations: list[dict] = []
        self.errors: list[str] = []
        self.offline = False
        context.expose_binding("__cspViolation", lambda source, v: self.violations.append(v))
        context.add_init_script(REPORTER)

    def page(self, context):
        page = context.new_page()
        page.on("console", lambda m: m.type == "error" and self._error(page, m.text))
        page.on("pageerror", lambda e: self.errors.append(f"{page.url}: uncaught {e}"))
        return page

    def _error(self, page, text: str) -> None:
        # With the network off, the counter's own failed fetches are expected; a policy
        # refusal never is.
        if self.offline and "Content Security Policy" not in text and "Refused" not in text:
            return
        self.errors.append(f"{page.url}: {text}")

    def clean(self) -> None:
        assert self.violations == [], self.violations
        assert self.errors == [], self.errors


def test_counter_scan_service_worker_and_offline_under_the_csp(live_server, net, tmp_path):
    member = net.members_a[1]
    member_no, token = member.member_no, live_card(member).token
    resident_token = live_card(net.members_a[0]).token
    receipt_no = run_in_transaction(lambda: record_deposit(
        net.unit_a, member, [LineInput("PET-CLEAN", "2")], operator_id=net.users["op_a"].id,
        idempotency_key=uuid.uuid4().hex)).body["receipt_no"]
    video = card_video(card_url(token), tmp_path / "card.y4m")
    _release_db()
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS + [
            "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-video-capture={video}"])
        try:
            context = browser.new_context(base_url=live_server, locale="id-ID", timezone_id="Asia/Jakarta",
                                          service_workers="allow", **TABLET)
            context.grant_permissions(["camera"], origin=live_server)
            context.set_default_timeout(20_000)
            watch = Watch(context)
            page = watch.page(context)
            page.goto("/login")
            assert "script-src 'self'" in page.evaluate(
                "async () => (await fetch('/login')).headers.get('content-security-policy')")

            # Control: the policy is enforced and the listener reports it.
            page.evaluate("""() => { const s = document.createElement("script");
                                     s.textContent = "window.__inlineRan = 1"; document.body.append(s); }""")
            _until(page, "() => true")
            page.wait_for_timeout(200)
            assert page.evaluate("() => window.__inlineRan") is None
            assert [v["directive"] for v in watch.violations] == ["script-src-elem"], watch.violations
            assert any("Content Security Policy" in e for e in watch.errors), watch.errors
            watch.violations.clear()
            watch.errors.clear()

            page.fill("#username", "op_a")
            page.fill("#password", PASSWORD)
            page.click("main button[type=submit]")
            page.wait_for_url(re.compile(r".*/counter$"))

            # The service worker installs, fills its cache and takes control under the policy.
            _device_ready(page)
            _until(page, "async () => (await caches.keys()).length > 0 && "
                         "!!(await (await caches.open((await caches.keys())[0])).match('/counter/shell/deposit'))")
            _controlled(page)

            # Camera scan: jsQR decodes the fake camera's card and opens the member.
            page.locator("#scan-button").click()
            page.wait_for_url(f"**/counter/member/{member_no}/deposit")
            expect(page.locator("#deposit-form[data-ready='1']")).to_be_attached()
            page.locator("button.tile[data-code='PET-CLEAN']").click()
            page.keyboard.type("1,5")
            page.click("#review")
            expect(page.locator("#confirm-panel")).to_be_visible()

            # The withdrawal form's method tiles (a script file, formerly inline).
            page.goto(f"/counter/member/{member_no}/withdraw")
            expect(page.locator(".detail[data-for='transfer']")).to_be_hidden()
            page.locator("label.tile[data-method='transfer']").click()
            expect(page.locator(".detail[data-for='transfer']")).to_be_visible()

            # Offline: the worker serves the find screen and the deposit shell from its cache.
            watch.offline = True
            context.set_offline(True)
            page.goto("/counter")
            page.fill("#q", str(int(member_no.split("-")[1])))
            page.click("#find-form button[type=submit]")
            page.wait_for_url(f"**/counter/member/{member_no}/deposit")
            expect(page.locator("#deposit-form[data-ready='1']")).to_be_attached()
            page.goto("/counter/nowhere-cached")
            expect(page.locator("a[data-history-back]")).to_be_visible()
            context.set_offline(False)
            watch.offline = False

            # A receipt PDF opens in Chromium's viewer under the policy (object-src 'none' and
            # frame-ancestors 'none' concern the page, not the browser's own viewer).
            pdf = context.new_page()
            pdf_errors = []
            pdf.on("console", lambda m: pdf_errors.append(m.text))
            response = pdf.goto(f"/counter/receipt/{receipt_no}.pdf?size=A6")
            assert response.status == 200 and response.headers["content-type"] == "application/pdf"
            _until(pdf, "() => true")
            deadline = 50
            while not any(f.url.startswith("chrome-extension://") for f in pdf.frames) and deadline:
                pdf.wait_for_timeout(100)
                deadline -= 1
            assert any(f.url.startswith("chrome-extension://") for f in pdf.frames), [f.url for f in pdf.frames]
            assert not [e for e in pdf_errors if "Content Security Policy" in e or "Refused" in e], pdf_errors
            context.close()

            # The resident's page on a phone.
            phone_context = browser.new_context(base_url=live_server, locale="id-ID", **PHONE)
            phone_watch = Watch(phone_context)
            phone = phone_watch.page(phone_context)
            phone.goto(f"/c/{resident_token}")
            expect(phone.locator("#balance")).to_be_visible()
            phone_context.close()
        finally:
            browser.close()
    watch.clean()
    phone_watch.clean()


def test_manager_and_report_pages_under_the_csp(live_server, net):
    """The unit manager's screens (charts included) run no inline script and break no rule."""
    _release_db()
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(base_url=live_server, locale="id-ID", timezone_id="Asia/Jakarta",
                                          service_workers="block", **TABLET)
            context.set_default_timeout(20_000)
            watch = Watch(context)
            page = watch.page(context)
            page.goto("/login")
            page.fill("#username", "mgr_a")
            page.fill("#password", PASSWORD)
            page.click("main button[type=submit]")
            page.wait_for_url(re.compile(r".*/counter$"))
            for path in ("/manager/", "/manager/cashbook", "/manager/stock", "/manager/sales", "/manager/audit",
                         "/reports/unit", "/members/", "/members/new", "/members/import"):
                response = page.goto(path)
                assert response.status == 200, path
                page.wait_for_load_state("load")
            context.close()
        finally:
            browser.close()
    watch.clean()
