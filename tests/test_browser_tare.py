"""Tare in Chromium (issue 12 item 5, docs/tare.md): a stubbed serial scale sends a stable
1.700 kg of PET-CLEAN in a sack (Karung, 200 g); the operator picks the sack, taps "Timbang",
and the line shows bruto 1,7 kg − Karung 0,2 kg = 1,5 kg; at RW05's Rp 3.250/kg the credited
value is the net's, Rp 4.875; the receipt shows gross, tare and net. The manager's container
screen and the deposit screen with containers fit 800×1280 and 1280×800 (screenshots)."""
from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import select

from wastebank.extensions import db
from wastebank.models import Deposit
from wastebank.services.containers import add_container
from wastebank.services.ledger import member_savings_account
from wastebank.services.transaction import run_in_transaction

from .test_browser import browser, expect, log_in, sized_context  # noqa: F401  (fixture)
from .test_browser_scale import SERIAL_STUB, STREAM
from .test_browser_screens import _check

pytestmark = pytest.mark.browser

# The sack swinging on the hook, then a stable 1.700 kg, repeated (continuous output).
SACK_STREAM = ["US,GS,+  1.6", "50kg\r\nUS,GS,+  1.720kg\r\n", "ST,GS,+  1.700kg\r\n"]
SACK_STUB = SERIAL_STUB.replace(json.dumps(STREAM), json.dumps(SACK_STREAM))
assert SACK_STUB != SERIAL_STUB


def _containers(net):
    def make():
        add_container(net.unit_a.id, "Karung", "200", user_id=net.users["mgr_a"].id)
        add_container(net.unit_a.id, "Keranjang", "1,25", user_id=net.users["mgr_a"].id)
        add_container(net.unit_b.id, "Ember RW07", "450", user_id=None)
    run_in_transaction(make)
    db.session.close()


@pytest.mark.parametrize("width,height", [(800, 1280), (1280, 800)])
def test_scale_weight_with_a_sack_tare_credits_the_net(browser, live_server, net, width, height):
    _containers(net)
    member = net.members_a[0]
    context = sized_context(browser, live_server, width, height)
    context.add_init_script(script=SACK_STUB)
    page = context.new_page()
    try:
        log_in(page, "op_a")
        page.goto(f"/counter/member/{member.member_no}/deposit")
        expect(page.locator("#deposit-form[data-ready='1']")).to_be_attached()
        page.locator(".tile[data-code=PET-CLEAN]").tap()
        row = page.locator("tr.line").nth(0)
        select_box = row.locator("select.container")
        expect(select_box).to_be_visible()
        options = select_box.locator("option").all_inner_texts()
        assert options == ["Tanpa wadah", "Karung −0,2 kg", "Keranjang −1,25 kg"], options  # not RW07's
        select_box.select_option(label="Karung −0,2 kg")
        row.locator("input.quantity").focus()
        page.locator("#scale-read").tap()
        expect(row.locator("input.quantity")).to_have_value("1,7")
        expect(page.locator("#scale-status")).to_have_text("1,7 kg diambil dari timbangan.")
        expect(row.locator("p.net")).to_have_text("bruto 1,7 kg − Karung 0,2 kg = 1,5 kg")
        expect(row.locator(".amount")).to_have_text("Rp 4.875")
        expect(page.locator("#total")).to_have_text("Rp 4.875")
        # A heavier container than the load: refused as the operator sees it, the server's words.
        select_box.select_option(label="Keranjang −1,25 kg")
        row.locator("input.quantity").fill("1,2")
        expect(row.locator("p.live")).to_have_text(
            "Berat Keranjang 1,25 kg, sama dengan atau lebih dari bruto 1,2 kg: timbang ulang atau pilih wadah lain.")
        select_box.select_option(label="Karung −0,2 kg")
        row.locator("input.quantity").fill("")
        row.locator("input.quantity").focus()
        page.locator("#scale-read").tap()
        expect(row.locator(".amount")).to_have_text("Rp 4.875")
        # A line in litres has no container to choose.
        page.locator(".tile[data-code=UCO]").tap()
        expect(page.locator("tr.line").nth(1).locator("select.container")).to_be_hidden()
        page.locator("tr.line").nth(1).locator("button.remove").tap()
        problems = _check(page, "deposit-tare", width, height)
        assert problems == [], problems

        page.get_by_role("button", name="Periksa sebelum simpan").tap()
        expect(page.locator("#confirm-panel table.confirm")).to_contain_text("bruto 1,7 kg − Karung 0,2 kg = 1,5 kg")
        expect(page.locator("#confirm-credited")).to_have_text("Rp 4.875")
        problems = _check(page, "deposit-tare-confirm", width, height)
        assert problems == [], problems
        page.get_by_role("button", name="Simpan setoran").tap()
        expect(page).to_have_url(re.compile(r"/counter/receipt/[^/?]+\?new=1$"))
        expect(page.locator("main")).to_contain_text("bruto 1,7 kg − Karung 0,2 kg = 1,5 kg")
        problems = _check(page, "receipt-tare", width, height)
        assert problems == [], problems
        deposit = db.session.scalars(select(Deposit)).one()
        assert [(l.category.code, l.gross_milli, l.tare_milli, l.quantity_milli, l.container_name, l.amount_idr)
                for l in deposit.lines] == [("PET-CLEAN", 1700, 200, 1500, "Karung", 4875)]
        assert deposit.credited_idr == 4875
        assert member_savings_account(member).balance == 4875
        db.session.commit()
        db.session.close()
    finally:
        context.close()


@pytest.mark.parametrize("width,height", [(800, 1280), (1280, 800)])
def test_manager_container_screen_fits(browser, live_server, net, width, height):
    _containers(net)
    context = sized_context(browser, live_server, width, height)
    page = context.new_page()
    try:
        log_in(page, "mgr_a")
        page.goto("/manager")
        page.get_by_role("link", name="Wadah (tara)").tap()
        expect(page.locator("h1")).to_have_text("Wadah (tara)")
        new = page.locator("#container-new")
        new.locator("input[name=name]").fill("Ember")
        new.locator("input[name=tare]").fill("0,45")
        new.get_by_role("button", name="Tambah").tap()
        expect(page.locator("main")).to_contain_text("Wadah “Ember” ditambahkan.")
        expect(page.locator("#containers")).to_contain_text("= 0,45 kg")
        expect(page.locator("#containers")).not_to_contain_text("Ember RW07")
        problems = _check(page, "containers", width, height, prefix="manager")
        assert problems == [], problems
    finally:
        context.close()
