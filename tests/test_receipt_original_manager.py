"""A tester (F9): a unit manager opened a withdrawal receipt from the audit log and saw "Asli ·
Cetak sekarang"; the operator's copy afterwards read "SALINAN · Pertama ditampilkan …": the
manager's look used up the member's original (docs: the first view is the original). Now only
the counter's view shown to the member marks a receipt as shown (``receipt_shown_at``, still the
one ``UPDATE … WHERE receipt_shown_at IS NULL``): the audit log links a withdrawal to the
manager's own page (``/manager/withdrawals/<id>``), which marks nothing and says whether the
member's original was shown yet; a unit manager opening a receipt of someone else's operation at
the counter sees a copy and marks nothing either; the operator's first view is the original.

Also the browser test of F3 (tests/test_manager_cancel_alert.py): the manager's home alert, the
withdrawal page's note, the cash book's mark and the void that ends them, in Chromium at
800x1280 and 1280x800 (screenshots ``test-artifacts/manager-cancel-*-<w>x<h>.png``; no sideways
scroll, targets >= 44 px)."""
from __future__ import annotations

import re

import pytest
import requests
from sqlalchemy import select

from wastebank.auth.tokens import create_token
from wastebank.counter.receipts import claim_original
from wastebank.extensions import db
from wastebank.models import Deposit, Member, User, Withdrawal

from .test_api import bearer
from .test_browser import browser, log_in, sized_context, sync_api  # noqa: F401  (browser is a fixture)
from .test_browser_screens import _check
from .test_api_money_out import deposit, new_key, this_year, withdraw
from .test_manager_cancel_alert import text

NOT_SHOWN = ("Struk asli nasabah belum ditampilkan: loket akan menampilkannya sebagai asli. Melihatnya di sini "
             "tidak memakainya.")


def shown_at(model, record_id):
    db.session.rollback()
    value = db.session.scalar(select(model.receipt_shown_at).where(model.id == record_id))
    db.session.rollback()
    return value


def kind(html: str) -> str:
    return re.search(r'id="receipt-kind" data-kind="(\w+)"', html).group(1)


def test_the_managers_look_from_the_audit_log_leaves_the_original_to_the_operator(client, net, tokens, login):
    member = net.members_a[0]
    deposit(client, tokens["op_a"], member.member_no, "5")
    paid = withdraw(client, tokens["op_a"], member.member_no, 4000)
    assert paid.status_code == 201
    withdrawal_id = paid.get_json()["id"]
    login("mgr_a")
    audit = client.get("/manager/audit").get_data(as_text=True)
    link = f'href="/manager/withdrawals/{withdrawal_id}"'
    assert link in audit and f'href="/counter/withdrawal/{withdrawal_id}"' not in audit
    page = client.get(f"/manager/withdrawals/{withdrawal_id}")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    html = page.get_data(as_text=True)
    assert 'data-shown="no"' in html and NOT_SHOWN in text(html)
    assert "Asli" not in text(html) and 'id="print-roll"' not in html
    assert f'href="/counter/withdrawal/{withdrawal_id}.pdf?size=A6&amp;copy=1"' in html
    assert shown_at(Withdrawal, withdrawal_id) is None
    # Looked at again, and at the counter's page by the manager (someone else's pay-out): a copy,
    # nothing marked.
    client.get(f"/manager/withdrawals/{withdrawal_id}")
    counter = client.get(f"/counter/withdrawal/{withdrawal_id}").get_data(as_text=True)
    assert kind(counter) == "copy" and "Pertama ditampilkan" not in counter
    assert shown_at(Withdrawal, withdrawal_id) is None
    # The operator's first view is still the original, and marks it; the next is a copy.
    client.post("/logout", data={"csrf_token": re.search(r'name="csrf_token"[^>]*value="([^"]+)"', counter).group(1)})
    login("op_a")
    first = client.get(f"/counter/withdrawal/{withdrawal_id}?new=1").get_data(as_text=True)
    assert kind(first) == "original" and "Cetak sekarang" in text(first)
    marked = shown_at(Withdrawal, withdrawal_id)
    assert marked is not None
    again = client.get(f"/counter/withdrawal/{withdrawal_id}").get_data(as_text=True)
    assert kind(again) == "copy" and "Pertama ditampilkan" in text(again)
    assert shown_at(Withdrawal, withdrawal_id) == marked
    # The manager is now told the original was shown.
    client.post("/logout", data={"csrf_token": re.search(r'name="csrf_token"[^>]*value="([^"]+)"', again).group(1)})
    login("mgr_a")
    after = client.get(f"/manager/withdrawals/{withdrawal_id}").get_data(as_text=True)
    assert 'data-shown="yes"' in after and NOT_SHOWN not in text(after)
    assert "Struk asli nasabah sudah ditampilkan " in text(after)
    assert "setiap cetakan sesudahnya adalah SALINAN." in text(after)


def test_a_manager_checking_a_deposit_marks_nothing_but_their_own_operation_is_the_original(
        client, net, tokens, login):
    member = net.members_a[0]
    theirs = deposit(client, tokens["op_a"], member.member_no, "5")
    own = deposit(client, tokens["mgr_a"], member.member_no, "5")
    paid = withdraw(client, tokens["mgr_a"], member.member_no, 1000)
    assert paid.status_code == 201
    login("mgr_a")
    html = client.get(f"/counter/receipt/{theirs['receipt_no']}").get_data(as_text=True)
    assert kind(html) == "copy"
    assert shown_at(Deposit, theirs["id"]) is None
    # What the manager did at the counter is shown to the member by the manager: the original.
    assert kind(client.get(f"/counter/receipt/{own['receipt_no']}?new=1").get_data(as_text=True)) == "original"
    assert shown_at(Deposit, own["id"]) is not None
    mine = client.get(f"/counter/withdrawal/{paid.get_json()['id']}?new=1").get_data(as_text=True)
    assert kind(mine) == "original" and shown_at(Withdrawal, paid.get_json()["id"]) is not None
    # The operator's deposit is still the operator's original.
    client.post("/logout", data={"csrf_token": re.search(r'name="csrf_token"[^>]*value="([^"]+)"', mine).group(1)})
    login("op_a")
    assert kind(client.get(f"/counter/receipt/{theirs['receipt_no']}?new=1").get_data(as_text=True)) == "original"
    assert shown_at(Deposit, theirs["id"]) is not None


def test_the_claim_is_still_once_for_the_counter(app, client, net, tokens):
    member = net.members_a[0]
    deposit(client, tokens["op_a"], member.member_no, "5")
    paid = withdraw(client, tokens["op_a"], member.member_no, 1000).get_json()
    with app.test_request_context("/"):
        from flask_login import login_user
        login_user(db.session.get(User, net.users["op_a"].id))
        saved = db.session.get(Withdrawal, paid["id"]).paid_at
        assert claim_original(Withdrawal, paid["id"], saved) is True
        assert claim_original(Withdrawal, paid["id"], saved) is False


def test_another_units_withdrawal_is_not_found_from_the_managers_page(client, net, tokens, login):
    rina = net.members_b[0]
    deposit(client, tokens["op_b"], rina.member_no, "5")
    paid = withdraw(client, tokens["op_b"], rina.member_no, 1000).get_json()
    login("mgr_a")
    assert client.get(f"/manager/withdrawals/{paid['id']}").status_code == 404
    assert client.get(f"/counter/withdrawal/{paid['id']}").status_code == 404
    assert shown_at(Withdrawal, paid["id"]) is None


# --- browser -------------------------------------------------------------------------------------

@pytest.mark.browser
def test_browser_alert_note_cash_book_and_void(browser, live_server, app, net):
    with app.app_context():
        members = list(db.session.scalars(select(Member).where(Member.unit_id == net.unit_a.id).order_by(Member.id)))
        siti_no, siti_name = members[0].member_no, members[0].name
        token = create_token(db.session.scalar(select(User).where(User.username == "op_a")), "tablet")
        db.session.commit()
        db.session.close()
    headers = bearer(token)

    def post(path, body, key=None):
        return requests.post(f"{live_server}{path}", json=body, timeout=30,
                             headers={**headers, **({"Idempotency-Key": key} if key else {})})

    assert post("/api/v1/deposits", {"member": siti_no, "lines": [{"category": "CARDBOARD", "quantity": "5"}]},
                new_key()).status_code == 201
    key = new_key()
    paid = post("/api/v1/withdrawals", {"member": siti_no, "amount_idr": 4000, "method": "cash"}, key)
    assert paid.status_code == 201
    withdrawal_id = paid.json()["id"]
    receipt = paid.json()["receipt_no"]
    assert receipt == f"RW05-{this_year()}-000002"
    assert post("/api/v1/withdrawals/cancel", {"idempotency_key": key}).json()["recorded"] is True

    problems: list[str] = []
    for width, height in ((800, 1280), (1280, 800)):
        context = sized_context(browser, live_server, width, height)
        page = context.new_page()
        page.on("dialog", lambda dialog: dialog.accept())
        log_in(page, "mgr_a")
        page.goto("/manager/")
        alert = page.locator("#cancel-alert")
        sync_api.expect(alert).to_be_visible()
        sync_api.expect(alert.locator("h2")).to_have_text(
            "Uang belum diserahkan: penarikan dibatalkan di tablet padahal sudah tercatat")
        items = alert.locator("li.cancel-report")
        sync_api.expect(items).to_have_count(1)
        item = items.first.inner_text()
        assert f"{receipt} · {siti_name} ({siti_no}) · Rp 4.000" in item, item
        assert "oleh Dewi Operator." in item, item
        box = items.first.locator("a.void-link").bounding_box()
        assert box["height"] >= 44 and box["width"] >= 44
        problems += _check(page, "home", width, height, prefix="manager-cancel")
        items.first.locator("a.detail-link").click()
        page.wait_for_url(f"**/manager/withdrawals/{withdrawal_id}")
        sync_api.expect(page.locator("#cancel-note strong")).to_have_text(
            "Tablet melaporkan: uang belum diserahkan")
        sync_api.expect(page.locator("#original-state")).to_have_text(re.compile("belum ditampilkan"))
        problems += _check(page, "withdrawal", width, height, prefix="manager-cancel")
        page.goto("/manager/cashbook")
        sync_api.expect(page.locator("#cashbook tr.cancel-reported")).to_have_count(1)
        sync_api.expect(page.locator("#cashbook-cancel-note")).to_contain_text("Kas berisi Rp 4.000 lebih")
        problems += _check(page, "cashbook", width, height, prefix="manager-cancel")
        if width == 1280:  # the last size: void it from the alert, and the alert goes
            page.goto("/manager/")
            page.locator("#cancel-alert a.void-link").first.click()
            page.wait_for_url(f"**/counter/withdrawal/{withdrawal_id}/void")
            page.fill("textarea[name=reason]", "uang belum diserahkan, dibatalkan di tablet")
            page.click("#confirm-void")
            page.wait_for_url(f"**/counter/withdrawal/{withdrawal_id}")
            page.goto("/manager/")
            sync_api.expect(page.locator("#cancel-alert")).to_have_count(0)
            problems += _check(page, "home-after-void", width, height, prefix="manager-cancel")
            page.goto("/manager/cashbook")
            sync_api.expect(page.locator("#cashbook tr.cancel-reported.voided")).to_contain_text(
                "Tablet: uang belum diserahkan; sudah dibatalkan")
            sync_api.expect(page.locator("#cashbook-cancel-note")).to_have_count(0)
        context.close()
    with app.app_context():
        # The manager's looks (home, the withdrawal, the cash book, the void) left it unmarked.
        assert shown_at(Withdrawal, withdrawal_id) is None
        db.session.close()
    # The operator's first view at the counter is the original, and marks it.
    context = sized_context(browser, live_server, 800, 1280)
    page = context.new_page()
    log_in(page, "op_a")
    page.goto(f"/counter/withdrawal/{withdrawal_id}")
    sync_api.expect(page.locator("#receipt-kind")).to_have_attribute("data-kind", "original")
    context.close()
    with app.app_context():
        assert shown_at(Withdrawal, withdrawal_id) is not None
        db.session.close()
    assert problems == []
