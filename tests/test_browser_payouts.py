"""Gold savings and bill payments on the counter's withdrawal form, in Chromium (issue 12 item 4;
docs/payouts.md): per method only its own boxes, 44 px targets and no sideways scroll at 800×1280
and 1280×800 (screenshots ``test-artifacts/payouts-*``), the grams shown as typed (money.js, the
same rounding as the server), and the save going through the tablet's outbox with the gold and
bill fields in the JSON body.
"""
from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import select

from wastebank.extensions import db
from wastebank.models import Member, Unit, Withdrawal
from wastebank.services.deposits import LineInput, record_deposit
from wastebank.services.transaction import run_in_transaction

from .test_browser import browser, log_in, sized_context, sync_api  # noqa: F401  (browser is a fixture)
from .test_browser_screens import _check

pytestmark = pytest.mark.browser
expect = sync_api.expect

SIZES = [(800, 1280), (1280, 800)]


def _seed(member_no: str, kilos: int) -> None:
    """Rp 2.000 per kg of CARDBOARD at RW05, in lines of 100 kg."""
    unit = db.session.scalars(select(Unit).where(Unit.code == "RW05")).one()
    member = db.session.scalars(select(Member).where(Member.member_no == member_no)).one()
    run_in_transaction(lambda: record_deposit(unit, member, [LineInput("CARDBOARD", "100")] * (kilos // 100),
                                              operator_id=None, idempotency_key=f"seed-payouts-{member_no}"))
    db.session.close()


def _rows() -> list[tuple]:
    rows = [(w.method, w.amount_idr, w.status, w.gold_mg, w.bill_kind, w.token_no, w.account_no)
            for w in db.session.scalars(select(Withdrawal).order_by(Withdrawal.id))]
    db.session.close()
    return rows


def test_gold_and_token_payouts_on_the_tablet(browser, live_server, net):
    member_no = net.members_a[0].member_no
    _seed(member_no, 1400)  # Rp 2.800.000: two gold and two bill payouts
    problems: list[str] = []
    bodies: list[dict] = []
    for width, height in SIZES:
        context = sized_context(browser, live_server, width, height)
        page = context.new_page()
        page.on("dialog", lambda dialog: dialog.accept())
        page.on("request", lambda request: bodies.append(json.loads(request.post_data))
                if request.url.endswith("/api/v1/withdrawals") and request.method == "POST" else None)
        log_in(page, "op_a")
        page.goto(f"/counter/member/{member_no}/withdraw")
        expect(page.locator("label.tile[data-method='gold']")).to_contain_text("Tabungan emas")
        expect(page.locator("#gold_price")).to_be_hidden()
        page.locator("label.tile[data-method='gold']").click()
        expect(page.locator("#gold_price")).to_be_visible()
        expect(page.locator("#reference")).to_be_hidden()
        page.fill("#amount", "1.000.000")
        page.fill("#gold_price", "1.950.000")
        expect(page.locator("#gold-grams")).to_have_text("Nasabah mendapat 0,512 g")
        page.fill("#gold_provider", "Pegadaian")
        page.fill("#gold_account", "1234567890123456")
        page.fill("#gold_reference", "PGD-778")
        problems += _check(page, "withdraw-gold", width, height, prefix="payouts")
        page.click("#review")
        expect(page.locator("#confirm-method")).to_have_text("Tabungan emas")
        expect(page.locator(".payout-detail").first).to_have_text(
            "Tabungan emas · 0,512 g @ Rp 1.950.000/g · Pegadaian 1234567890123456")
        problems += _check(page, "withdraw-gold-confirm", width, height, prefix="payouts")
        page.wait_for_function("() => document.documentElement.dataset.counterReady === '1'")
        page.click("#save")
        page.wait_for_url(re.compile(r"/counter/withdrawal/\d+\?new=1$"), timeout=20_000)
        expect(page.locator(".payout-detail").first).to_contain_text("0,512 g")
        problems += _check(page, "withdrawal-gold", width, height, prefix="payouts")

        page.goto(f"/counter/member/{member_no}/withdraw")
        page.locator("label.tile[data-method='bill']").click()
        expect(page.locator("#token_no")).to_be_visible()
        expect(page.locator("#bill_provider")).to_have_attribute("placeholder", "PLN")
        page.locator("label.tile[data-kind='water']").click()
        expect(page.locator("#token_no")).to_be_hidden()
        expect(page.locator("#bill_provider")).to_have_attribute("placeholder", "PDAM")
        page.locator("label.tile[data-kind='electricity']").click()
        page.fill("#amount", "100.000")
        page.fill("#bill_provider", "PLN")
        page.fill("#bill_customer", "532110987654")
        page.fill("#bill_reference", "PLN-77812")
        page.fill("#token_no", "1234 5678 9012 3456 789")  # 19 digits: refused at review
        page.click("#review")
        expect(page.locator("p.error")).to_contain_text("Token listrik harus tepat 20 digit.")
        page.fill("#token_no", "1234 5678 9012 3456 7890")
        problems += _check(page, "withdraw-bill", width, height, prefix="payouts")
        page.click("#review")
        expect(page.locator(".payout-detail").last).to_have_text("Token listrik 1234 5678 9012 3456 7890")
        problems += _check(page, "withdraw-bill-confirm", width, height, prefix="payouts")
        page.wait_for_function("() => document.documentElement.dataset.counterReady === '1'")
        page.click("#save")
        page.wait_for_url(re.compile(r"/counter/withdrawal/\d+\?new=1$"), timeout=20_000)
        expect(page.locator(".payout-detail").last).to_have_text("Token listrik 1234 5678 9012 3456 7890")
        problems += _check(page, "withdrawal-bill", width, height, prefix="payouts")
        context.close()
    assert problems == [], "\n".join(problems)
    # The outbox sent the gold and bill fields in the API body, once per payout.
    gold = [b for b in bodies if b["method"] == "gold"]
    bill = [b for b in bodies if b["method"] == "bill"]
    assert len(gold) == len(bill) == len(SIZES)
    assert {k: gold[0][k] for k in ("amount_idr", "gold_price_idr", "provider", "account_no", "reference")} == {
        "amount_idr": 1_000_000, "gold_price_idr": 1_950_000, "provider": "Pegadaian",
        "account_no": "1234567890123456", "reference": "PGD-778"}
    assert {k: bill[0][k] for k in ("bill_kind", "provider", "account_no", "reference", "token_no")} == {
        "bill_kind": "electricity", "provider": "PLN", "account_no": "532110987654", "reference": "PLN-77812",
        "token_no": "1234 5678 9012 3456 7890"}
    gold_row = ("gold", 1_000_000, "paid", 512, "", "", "1234567890123456")
    bill_row = ("bill", 100_000, "paid", None, "electricity", "12345678901234567890", "532110987654")
    assert _rows() == [gold_row, bill_row] * len(SIZES)
