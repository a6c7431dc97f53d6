"""The deposit screen's "Timbang" button in Chromium with a stubbed ``navigator.serial``
(issue 12 item 5, docs/scale.md): the stub's port sends unstable readings, then a stable
1.500 kg; the tap puts "1,5" into the focused line, typed entry still works beside it, and the
saved deposit credits PET-CLEAN at RW05's Rp 3.250/kg → Rp 4.875. Without Web Serial the
button is not shown. Screenshots and the page checks at 800×1280 and 1280×800."""
from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import select

from wastebank.extensions import db
from wastebank.models import Deposit

from .test_browser import ARTIFACTS, browser, expect, log_in, sized_context  # noqa: F401  (fixture)
from .test_browser_screens import _check

pytestmark = pytest.mark.browser

# What the stubbed scale sends: the sack still swinging (unstable, one line cut across chunks),
# then stable 1.500 kg, repeated as a scale in continuous mode does.
STREAM = ["US,GS,+  0.8", "20kg\r\nUS,GS,+  1.4", "80kg\r", "\nUS,GS,+  1.510kg\r\n", "ST,GS,+  1.500kg\r\n"]

SERIAL_STUB = """
(() => {
  const chunks = %s;
  const encoder = new TextEncoder();
  const log = window.__scale = { opens: 0, closes: 0, requested: 0, baud: null };
  const stream = () => {
    let i = 0;
    return new ReadableStream({
      async pull(controller) {
        await new Promise((resolve) => setTimeout(resolve, 40));
        // Continuous output: after the recorded chunks, the last line again and again.
        controller.enqueue(encoder.encode(chunks[Math.min(i, chunks.length - 1)]));
        i += 1;
      },
    });
  };
  const port = {
    readable: null,
    async open(options) { log.opens += 1; log.baud = options.baudRate; this.readable = stream(); },
    async close() { log.closes += 1; this.readable = null; },
    getInfo() { return { usbVendorId: 0x1a86, usbProductId: 0x7523 }; },
  };
  let allowed = [];
  const serial = {
    async getPorts() { return allowed; },
    async requestPort() { log.requested += 1; allowed = [port]; return port; },
    addEventListener() {}, removeEventListener() {},
  };
  Object.defineProperty(Navigator.prototype, "serial", { get() { return serial; }, configurable: true });
})();
""" % json.dumps(STREAM)

NO_SERIAL = 'Object.defineProperty(Navigator.prototype, "serial", { get() { return undefined; }, configurable: true });'


def _deposit_page(browser, live_server, member_no: str, script: str, width=800, height=1280):
    context = sized_context(browser, live_server, width, height)
    context.add_init_script(script=script)
    page = context.new_page()
    log_in(page, "op_a")
    page.goto(f"/counter/member/{member_no}/deposit")
    expect(page.locator("#deposit-form[data-ready='1']")).to_be_attached()
    return context, page


def test_timbang_takes_the_stable_weight_into_the_focused_line(browser, live_server, net):
    member_no = net.members_a[0].member_no
    context, page = _deposit_page(browser, live_server, member_no, SERIAL_STUB)
    try:
        button = page.locator("#scale-read")
        expect(button).to_be_visible()
        expect(button).to_have_text("⚖ Timbang")
        # A tap before any line: the operator is told to pick a category first.
        button.tap()
        expect(page.locator("#scale-status")).to_have_text("Pilih jenis sampah dulu, lalu timbang.")
        page.locator(".tile[data-code=PET-CLEAN]").tap()
        row0 = page.locator("tr.line").nth(0)
        expect(row0.locator("input.quantity")).to_be_focused()
        button.tap()
        expect(row0.locator("input.quantity")).to_have_value("1,5")
        expect(page.locator("#scale-status")).to_have_text("1,5 kg diambil dari timbangan.")
        expect(row0.locator(".unit")).to_have_text("kg")
        expect(row0.locator(".amount")).to_have_text("Rp 4.875")
        log = page.evaluate("window.__scale")
        assert log == {"opens": 1, "closes": 1, "requested": 1, "baud": 9600}, log
        # Typed entry stays: a second line typed by hand.
        page.locator(".tile[data-code=CARDBOARD]").tap()
        page.keyboard.type("750 g")
        expect(page.locator("#total")).to_have_text("Rp 6.375")
        # A line counted in litres takes no weight from the scale.
        page.locator(".tile[data-code=UCO]").tap()
        button.tap()
        expect(page.locator("#scale-status")).to_have_text("Baris ini dihitung dalam L; timbangan memberi kilogram.")
        expect(page.locator("tr.line").nth(2).locator("input.quantity")).to_have_value("")
        page.locator("tr.line").nth(2).locator("button.remove").tap()
        problems = _check(page, "deposit-scale", 800, 1280)
        assert problems == [], problems

        page.get_by_role("button", name="Periksa sebelum simpan").tap()
        expect(page.locator("#confirm-credited")).to_have_text("Rp 6.375")
        expect(page.locator("table.confirm")).to_contain_text("1,5 kg")
        page.get_by_role("button", name="Simpan setoran").tap()
        expect(page).to_have_url(re.compile(r"/counter/receipt/[^/?]+\?new=1$"))
        deposit = db.session.scalars(select(Deposit)).one()
        assert [(line.category.code, line.quantity_milli, line.amount_idr) for line in deposit.lines] == [
            ("PET-CLEAN", 1500, 4875), ("CARDBOARD", 750, 1500)]
        assert deposit.credited_idr == 6375
        db.session.commit()
        db.session.close()
    finally:
        context.close()


def test_second_tap_reuses_the_allowed_port_and_the_wide_screen_fits(browser, live_server, net):
    member_no = net.members_a[1].member_no
    context, page = _deposit_page(browser, live_server, member_no, SERIAL_STUB, 1280, 800)
    try:
        page.locator(".tile[data-code=PET-CLEAN]").tap()
        page.locator("#scale-read").tap()
        expect(page.locator("tr.line").nth(0).locator("input.quantity")).to_have_value("1,5")
        # The operator types over the weight; then weighs again into the same, focused line.
        page.locator("tr.line").nth(0).locator("input.quantity").fill("2")
        expect(page.locator("#total")).to_have_text("Rp 6.500")
        page.locator("tr.line").nth(0).locator("input.quantity").focus()
        page.locator("#scale-read").tap()
        expect(page.locator("tr.line").nth(0).locator("input.quantity")).to_have_value("1,5")
        expect(page.locator("#total")).to_have_text("Rp 4.875")
        log = page.evaluate("window.__scale")
        assert (log["requested"], log["opens"], log["closes"]) == (1, 2, 2), log
        problems = _check(page, "deposit-scale", 1280, 800)
        assert problems == [], problems
    finally:
        context.close()


def test_no_web_serial_no_button(browser, live_server, net):
    context, page = _deposit_page(browser, live_server, net.members_a[0].member_no, NO_SERIAL)
    try:
        expect(page.locator("#scale-bar")).to_be_hidden()
        page.locator(".tile[data-code=PET-CLEAN]").tap()
        page.keyboard.type("1,5")
        expect(page.locator("#total")).to_have_text("Rp 4.875")
    finally:
        context.close()
