"""Counter screens for withdrawals and voids (issue 4 items 1–2): entry → review → save,
approvals and pay-out, voids by unit managers, refusals that change nothing, C13, the role ×
route matrix and unit scope. Exact rupiah throughout (CARDBOARD is Rp 2.000/kg at RW05)."""
from __future__ import annotations

import io
import re

import pypdf
import pytest
from sqlalchemy import func, select

from wastebank.extensions import db
from wastebank.models import Deposit, JournalEntry, Posting, Withdrawal
from wastebank.services.deposits import LineInput, record_deposit
from wastebank.services.ledger import member_savings_account, system_account, verify_ledger
from wastebank.services.org import create_user
from wastebank.services.transaction import run_in_transaction
from wastebank.services.withdrawals import WithdrawalInput, record_withdrawal

from .conftest import csrf_token
from .factories import PASSWORD


# --- helpers ---------------------------------------------------------------------------------


def deposit(net, member, kilos: str, key: str, unit=None):
    """Record a CARDBOARD deposit through the service: at RW05, 5 kg → Rp 10.000."""
    unit = unit or net.unit_a
    outcome = run_in_transaction(lambda: record_deposit(unit, member, [LineInput("CARDBOARD", kilos)],
                                                        operator_id=None, idempotency_key=key))
    return db.session.get(Deposit, outcome.body["id"])


def withdraw_service(net, member, amount, key, user="op_a"):
    outcome = run_in_transaction(lambda: record_withdrawal(
        net.unit_a, member, WithdrawalInput("cash", amount), user=net.users[user], idempotency_key=key))
    return outcome


def counts() -> dict:
    """Rows in every table a withdrawal or void writes, and the member savings total."""
    result = {
        "withdrawal": db.session.scalar(select(func.count(Withdrawal.id))),
        "entry": db.session.scalar(select(func.count(JournalEntry.id))),
        "posting": db.session.scalar(select(func.count(Posting.id))),
        "voided_deposits": db.session.scalar(select(func.count(Deposit.id)).where(Deposit.void_entry_id.is_not(None))),
        "paid": db.session.scalar(select(func.count(Withdrawal.id)).where(Withdrawal.status == "paid")),
    }
    db.session.rollback()
    return result


def balance(member) -> tuple[int, int]:
    db.session.expire_all()
    account = member_savings_account(member)
    value = (account.balance, account.held)
    db.session.rollback()
    return value


def form_page(client, url):
    page = client.get(url)
    assert page.status_code == 200, page.get_data(as_text=True)[:500]
    html = page.get_data(as_text=True)
    match = re.search(r'id="idempotency_key" name="idempotency_key" type="hidden" value="([0-9a-f]+)"', html)
    return csrf_token(html), (match.group(1) if match else None), html


def post_withdraw(client, member_no, token, key, action, amount, method="cash", **extra):
    data = {"csrf_token": token, "idempotency_key": key, "action": action, "method": method, "amount": amount}
    data.update(extra)
    return client.post(f"/counter/member/{member_no}/withdraw", data=data)


def english(client):
    client.post("/lang/en", data={"csrf_token": any_token(client)})


def pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages)


def any_token(client) -> str:
    """A CSRF token of the logged-in session, from a page every role can open."""
    return csrf_token(client.get("/", follow_redirects=True).get_data(as_text=True))


# --- withdrawal entry ------------------------------------------------------------------------


def test_cash_withdrawal_review_shows_before_and_after_then_saves(net, client, login):
    member = net.members_a[0]
    deposit(net, member, "5", "dep-scr-0001")  # Rp 10.000
    login("op_a")
    member_page = client.get(f"/counter/member/{member.member_no}").get_data(as_text=True)
    assert f"/counter/member/{member.member_no}/withdraw" in member_page
    token, key, html = form_page(client, f"/counter/member/{member.member_no}/withdraw")
    assert 'id="balance">Rp 10.000<' in html
    review = post_withdraw(client, member.member_no, token, key, "review", "3.500")
    text = review.get_data(as_text=True)
    assert review.status_code == 200
    assert 'id="confirm-balance-before">Rp 10.000<' in text
    assert 'id="confirm-amount">−Rp 3.500<' in text
    assert 'id="confirm-balance">Rp 6.500<' in text
    assert f'value="{key}"' in text  # the key travels to the save step
    assert counts()["withdrawal"] == 0, "review must not write"
    before = counts()
    saved = post_withdraw(client, member.member_no, token, key, "save", "3.500")
    assert saved.status_code == 302, saved.get_data(as_text=True)[:500]
    withdrawal = db.session.scalars(select(Withdrawal)).one()
    assert saved.location.endswith(f"/counter/withdrawal/{withdrawal.id}?new=1")
    assert (withdrawal.amount_idr, withdrawal.method, withdrawal.status) == (3500, "cash", "paid")
    assert withdrawal.receipt_no.endswith("-000002")  # one series with the deposit
    after = counts()
    assert (after["withdrawal"], after["entry"], after["posting"]) == (1, before["entry"] + 1, before["posting"] + 2)
    assert balance(member) == (6500, 0)
    assert system_account(net.unit_a.id, "cash").balance == -3500
    page = client.get(saved.location).get_data(as_text=True)
    assert 'id="withdrawal-amount">Rp 3.500<' in page
    assert 'id="withdrawal-balance-after">Rp 6.500<' in page
    assert withdrawal.receipt_no in page
    assert verify_ledger().ok


def test_double_submit_records_one_withdrawal(net, client, login):
    member = net.members_a[1]
    deposit(net, member, "5", "dep-scr-0002")
    login("op_a")
    token, key, _ = form_page(client, f"/counter/member/{member.member_no}/withdraw")
    first = post_withdraw(client, member.member_no, token, key, "save", "4000")
    second = post_withdraw(client, member.member_no, token, key, "save", "4000")
    assert first.status_code == second.status_code == 302
    assert first.location.split("?")[0] == second.location.split("?")[0]
    assert counts()["withdrawal"] == 1
    assert balance(member) == (6000, 0)
    # The same key with another amount is refused and records nothing.
    third = post_withdraw(client, member.member_no, token, key, "save", "1000")
    assert third.status_code == 409
    assert counts()["withdrawal"] == 1 and balance(member) == (6000, 0)


def test_insufficient_savings_is_refused_and_changes_nothing(net, client, login):
    member = net.members_a[0]
    deposit(net, member, "5", "dep-scr-0003")  # Rp 10.000
    login("op_a")
    english(client)
    token, key, _ = form_page(client, f"/counter/member/{member.member_no}/withdraw")
    before = counts()
    review = post_withdraw(client, member.member_no, token, key, "review", "10.001")
    assert review.status_code == 409
    assert "Rp 10,000" in review.get_data(as_text=True)  # what can be withdrawn
    # Posting the save step by hand is refused by the service too.
    saved = post_withdraw(client, member.member_no, token, key, "save", "10.001")
    assert saved.status_code == 409
    # The save step's refusal says the balance as it is now and what can be withdrawn.
    assert "(now Rp 10,000)" in saved.get_data(as_text=True)
    assert "Rp 10,000 can be withdrawn" in saved.get_data(as_text=True)
    assert counts() == before
    assert balance(member) == (10000, 0)
    # The exact balance can be withdrawn.
    token, key, _ = form_page(client, f"/counter/member/{member.member_no}/withdraw")
    assert post_withdraw(client, member.member_no, token, key, "save", "10000").status_code == 302
    assert balance(member) == (0, 0)


@pytest.mark.parametrize("amount, extra, field_message", [
    ("abc", {}, "Whole rupiah only"),
    ("0", {}, "more than zero"),
    ("1.000", {"method": "transfer"}, "transfer reference"),
    ("1.000", {"method": "donation"}, "receives the donation"),
    ("1.000", {"method": "goods"}, "List the goods"),
])
def test_bad_input_is_shown_and_writes_nothing(net, client, login, amount, extra, field_message):
    member = net.members_a[0]
    deposit(net, member, "5", "dep-scr-0004")
    login("op_a")
    english(client)
    token, key, _ = form_page(client, f"/counter/member/{member.member_no}/withdraw")
    before = counts()
    response = post_withdraw(client, member.member_no, token, key, "save", amount, **extra)
    assert response.status_code == 422
    assert field_message in response.get_data(as_text=True)
    assert counts() == before


def test_transfer_donation_and_goods_through_the_form(net, client, login):
    member = net.members_a[0]
    deposit(net, member, "10", "dep-scr-0005")  # Rp 20.000
    login("op_a")
    url = f"/counter/member/{member.member_no}/withdraw"
    token, key, _ = form_page(client, url)
    assert post_withdraw(client, member.member_no, token, key, "save", "1.000", "transfer",
                         reference="BCA 1234567890").status_code == 302
    token, key, _ = form_page(client, url)
    assert post_withdraw(client, member.member_no, token, key, "save", "2.000", "donation",
                         beneficiary="Masjid Al-Ikhlas").status_code == 302
    token, key, _ = form_page(client, url)
    goods = {"items-0-name": "Beras 5 kg", "items-0-quantity": "1", "items-0-value": "15.000",
             "items-1-name": "Minyak 1 L", "items-1-quantity": "1", "items-1-value": "2.000"}
    review = post_withdraw(client, member.member_no, token, key, "review", "17.000", "goods", **goods)
    assert review.status_code == 200 and 'id="confirm-balance">Rp 0<' in review.get_data(as_text=True)
    # The goods' values must add up to the amount: 17.000 ≠ 16.000 is refused.
    bad = post_withdraw(client, member.member_no, token, key, "save", "16.000", "goods", **goods)
    assert bad.status_code == 422
    assert post_withdraw(client, member.member_no, token, key, "save", "17.000", "goods", **goods).status_code == 302
    rows = {w.method: w for w in db.session.scalars(select(Withdrawal))}
    assert rows["transfer"].reference == "BCA 1234567890" and rows["transfer"].amount_idr == 1000
    assert rows["donation"].beneficiary == "Masjid Al-Ikhlas" and rows["donation"].amount_idr == 2000
    assert rows["goods"].amount_idr == 17000 and "Beras 5 kg" in rows["goods"].items
    assert balance(member) == (0, 0)
    assert system_account(net.unit_a.id, "bank").balance == -1000
    assert system_account(net.unit_a.id, "cash").balance == -19000


# --- approvals and pay-out -------------------------------------------------------------------


def test_approval_then_pay_out(net, client, login):
    net.unit_a.approval_threshold_idr = 5000
    db.session.commit()
    member = net.members_a[0]
    deposit(net, member, "5", "dep-scr-0006")  # Rp 10.000
    login("op_a")
    token, key, _ = form_page(client, f"/counter/member/{member.member_no}/withdraw")
    review = post_withdraw(client, member.member_no, token, key, "review", "8.000")
    assert 'id="needs-approval"' in review.get_data(as_text=True)
    saved = post_withdraw(client, member.member_no, token, key, "save", "8.000")
    assert saved.status_code == 302
    withdrawal = db.session.scalars(select(Withdrawal)).one()
    assert withdrawal.status == "pending" and withdrawal.receipt_no is None
    assert balance(member) == (10000, 0)
    listing = client.get("/counter/withdrawals").get_data(as_text=True)
    assert f'data-id="{withdrawal.id}"' in listing and "Rp 8.000" in listing
    # The operator may not approve (403) and nothing changes.
    assert client.post(f"/counter/withdrawal/{withdrawal.id}/approve",
                       data={"csrf_token": token}).status_code == 403
    refused = client.post(f"/counter/withdrawal/{withdrawal.id}/pay", data={"csrf_token": token})
    # Not approved yet: back on the withdrawal page with the message (no URL ending in /pay).
    assert refused.status_code == 302 and refused.location.endswith(f"/counter/withdrawal/{withdrawal.id}")
    db.session.expire_all()
    assert db.session.get(Withdrawal, withdrawal.id).status == "pending"
    assert balance(member) == (10000, 0)
    client.post("/logout", data={"csrf_token": token})

    login("mgr_a")
    mgr_token = any_token(client)
    approved = client.post(f"/counter/withdrawal/{withdrawal.id}/approve",
                           data={"csrf_token": mgr_token, "next": "list"})
    assert approved.status_code == 302 and approved.location.endswith("/counter/withdrawals")
    assert balance(member) == (10000, 8000)
    # The held money cannot be withdrawn twice.
    assert withdraw_service(net, member, 3000, "wd-scr-held1", user="mgr_a").status == 409
    paid = client.post(f"/counter/withdrawal/{withdrawal.id}/pay", data={"csrf_token": mgr_token})
    assert paid.status_code == 302
    db.session.expire_all()
    withdrawal = db.session.get(Withdrawal, withdrawal.id)
    assert withdrawal.status == "paid" and withdrawal.receipt_no.endswith("-000002")
    assert balance(member) == (2000, 0)
    assert client.get(f"/counter/withdrawal/{withdrawal.id}.pdf").status_code == 200
    assert f'data-id="{withdrawal.id}"' not in client.get("/counter/withdrawals").get_data(as_text=True)
    assert verify_ledger().ok


def test_reject_releases_the_hold(net, client, login):
    net.unit_a.approval_threshold_idr = 1000
    db.session.commit()
    member = net.members_a[0]
    deposit(net, member, "5", "dep-scr-0007")
    pending = withdraw_service(net, member, 4000, "wd-scr-rej01")
    assert pending.status == 202
    login("mgr_a")
    token = any_token(client)
    client.post(f"/counter/withdrawal/{pending.body['id']}/approve", data={"csrf_token": token})
    assert balance(member) == (10000, 4000)
    rejected = client.post(f"/counter/withdrawal/{pending.body['id']}/reject", data={"csrf_token": token})
    assert rejected.status_code == 302
    assert balance(member) == (10000, 0)
    db.session.expire_all()
    assert db.session.get(Withdrawal, pending.body["id"]).status == "rejected"
    # A rejected withdrawal cannot be paid.
    refused = client.post(f"/counter/withdrawal/{pending.body['id']}/pay", data={"csrf_token": token})
    assert refused.status_code == 302 and refused.location.endswith(f"/counter/withdrawal/{pending.body['id']}")
    assert balance(member) == (10000, 0) and counts()["paid"] == 0


# --- voids -----------------------------------------------------------------------------------


def test_manager_voids_a_deposit_and_the_receipt_prints_batal(net, client, login):
    member = net.members_a[0]
    dep = deposit(net, member, "5", "dep-scr-0008")
    login("mgr_a")
    english(client)
    receipt = client.get(f"/counter/receipt/{dep.receipt_no}").get_data(as_text=True)
    assert f"/counter/receipt/{dep.receipt_no}/void" in receipt
    token, key, html = form_page(client, f"/counter/receipt/{dep.receipt_no}/void")
    assert 'id="void-balance-before">Rp 10,000<' in html and 'id="void-balance-after">Rp 0<' in html
    before = counts()
    # A void needs a reason.
    assert client.post(f"/counter/receipt/{dep.receipt_no}/void",
                       data={"csrf_token": token, "idempotency_key": key, "reason": ""}).status_code == 422
    assert counts() == before
    done = client.post(f"/counter/receipt/{dep.receipt_no}/void",
                       data={"csrf_token": token, "idempotency_key": key, "reason": "salah timbang"})
    assert done.status_code == 302 and done.location.endswith(f"/counter/receipt/{dep.receipt_no}")
    after = counts()
    assert after["entry"] == before["entry"] + 1 and after["voided_deposits"] == 1
    assert balance(member) == (0, 0)
    db.session.expire_all()
    reversal = db.session.get(JournalEntry, db.session.get(Deposit, dep.id).void_entry_id)
    assert reversal.reverses_id == dep.entry_id and reversal.reason == "salah timbang"
    assert reversal.created_by_id == net.users["mgr_a"].id
    page = client.get(f"/counter/receipt/{dep.receipt_no}").get_data(as_text=True)
    assert "VOID" in page and f"/counter/receipt/{dep.receipt_no}/void" not in page
    pdf = client.get(f"/counter/receipt/{dep.receipt_no}.pdf?copy=1")
    assert "BATAL" in pdf_text(pdf.data) and dep.receipt_no in pdf_text(pdf.data)
    # The member page shows the voided deposit and the void.
    member_page = client.get(f"/counter/member/{member.member_no}").get_data(as_text=True)
    assert f"Void of deposit {dep.receipt_no}</a>" in member_page
    assert f"Deposit {dep.receipt_no}</a> <strong class=\"error\">VOID</strong>" in member_page
    # A repeat of the same form replays; a second void is refused and changes nothing.
    again = client.post(f"/counter/receipt/{dep.receipt_no}/void",
                        data={"csrf_token": token, "idempotency_key": key, "reason": "salah timbang"})
    assert again.status_code == 409 and "already voided" in again.get_data(as_text=True)
    assert counts() == after
    assert verify_ledger().ok


def test_void_of_a_spent_deposit_is_refused(net, client, login):
    member = net.members_a[0]
    dep = deposit(net, member, "5", "dep-scr-0009")  # Rp 10.000
    withdraw_service(net, member, 8000, "wd-scr-spent")  # Rp 2.000 left
    login("mgr_a")
    english(client)
    token, key, html = form_page(client, f"/counter/receipt/{dep.receipt_no}/void")
    assert "already spent this money" in html and 'id="void-form"' not in html
    before = counts()
    response = client.post(f"/counter/receipt/{dep.receipt_no}/void",
                           data={"csrf_token": token, "idempotency_key": "k" * 32, "reason": "salah"})
    assert response.status_code == 409
    assert "already spent this money" in response.get_data(as_text=True)
    assert counts() == before
    assert balance(member) == (2000, 0)
    db.session.expire_all()
    assert db.session.get(Deposit, dep.id).void_entry_id is None


def test_manager_voids_a_withdrawal_and_the_reprint_shows_batal(net, client, login):
    member = net.members_a[0]
    deposit(net, member, "5", "dep-scr-0010")
    wd = withdraw_service(net, member, 4000, "wd-scr-void1")
    login("mgr_a")
    english(client)
    pdf = client.get(f"/counter/withdrawal/{wd.body['id']}.pdf?size=A6")
    text = pdf_text(pdf.data)
    assert pdf.status_code == 200 and "WITHDRAWAL RECEIPT" in text and "BATAL" not in text
    assert "Rp 4,000" in text and "Rp 6,000" in text and wd.body["receipt_no"] in text
    token, key, html = form_page(client, f"/counter/withdrawal/{wd.body['id']}/void")
    assert 'id="void-balance-before">Rp 6,000<' in html and 'id="void-balance-after">Rp 10,000<' in html
    done = client.post(f"/counter/withdrawal/{wd.body['id']}/void",
                       data={"csrf_token": token, "idempotency_key": key, "reason": "dobel bayar"})
    assert done.status_code == 302
    assert balance(member) == (10000, 0)
    assert system_account(net.unit_a.id, "cash").balance == 0
    reprint = pdf_text(client.get(f"/counter/withdrawal/{wd.body['id']}.pdf?copy=1").data)
    assert "BATAL" in reprint and "SALINAN" in reprint
    member_page = client.get(f"/counter/member/{member.member_no}").get_data(as_text=True)
    assert "Void of withdrawal" in member_page and "VOID" in member_page
    assert verify_ledger().ok


def test_c13_operator_opens_or_posts_the_void_url_by_hand(net, client, login):
    member = net.members_a[0]
    dep = deposit(net, member, "5", "dep-scr-0011")
    wd = withdraw_service(net, member, 1000, "wd-scr-c1301")
    login("op_a")
    receipt = client.get(f"/counter/receipt/{dep.receipt_no}").get_data(as_text=True)
    assert "/void" not in receipt  # not offered in the menu
    token = any_token(client)
    before = counts()
    for url in (f"/counter/receipt/{dep.receipt_no}/void", f"/counter/withdrawal/{wd.body['id']}/void"):
        assert client.get(url).status_code == 403
        response = client.post(url, data={"csrf_token": token, "idempotency_key": "c13-key-0001",
                                          "reason": "operator tries"})
        assert response.status_code == 403
    assert counts() == before
    assert balance(member) == (9000, 0)
    db.session.expire_all()
    assert db.session.get(Deposit, dep.id).void_entry_id is None
    assert db.session.get(Withdrawal, wd.body["id"]).void_entry_id is None


# --- role × route matrix and scope -----------------------------------------------------------

ROLES = ("op_a", "mgr_a", "admin", "agg", "collab")


def _routes(net, dep, pending_id, approved_id, paid_id):
    member_no = net.members_a[0].member_no
    return [
        # (method, url, roles allowed)
        ("GET", f"/counter/member/{member_no}/withdraw", {"op_a", "mgr_a"}),
        ("POST", f"/counter/member/{member_no}/withdraw", {"op_a", "mgr_a"}),
        ("GET", "/counter/withdrawals", {"op_a", "mgr_a"}),
        ("GET", f"/counter/withdrawal/{paid_id}", {"op_a", "mgr_a"}),
        ("GET", f"/counter/withdrawal/{paid_id}.pdf", {"op_a", "mgr_a"}),
        ("POST", f"/counter/withdrawal/{pending_id}/approve", {"mgr_a"}),
        ("POST", f"/counter/withdrawal/{pending_id}/reject", {"mgr_a"}),
        ("POST", f"/counter/withdrawal/{approved_id}/pay", {"op_a", "mgr_a"}),
        ("GET", f"/counter/withdrawal/{paid_id}/void", {"mgr_a"}),
        ("POST", f"/counter/withdrawal/{paid_id}/void", {"mgr_a"}),
        ("GET", f"/counter/receipt/{dep.receipt_no}/void", {"mgr_a"}),
        ("POST", f"/counter/receipt/{dep.receipt_no}/void", {"mgr_a"}),
    ]


@pytest.mark.parametrize("username", ROLES)
def test_role_route_matrix(net, client, login, username):
    net.unit_a.approval_threshold_idr = 5000
    db.session.commit()
    member = net.members_a[0]
    deposit(net, member, "10", "dep-scr-0012")  # Rp 20.000
    dep = deposit(net, net.members_a[1], "1", "dep-scr-0112")  # voided by the manager's row
    pending = withdraw_service(net, member, 6000, "wd-scr-mx-p1")
    approved = withdraw_service(net, member, 6000, "wd-scr-mx-a1")
    from wastebank.services.withdrawals import approve_withdrawal
    run_in_transaction(lambda: approve_withdrawal(db.session.get(Withdrawal, approved.body["id"]),
                                                  user=db.session.get(type(net.users["mgr_a"]), net.users["mgr_a"].id)))
    paid = withdraw_service(net, member, 1000, "wd-scr-mx-d1")
    assert (pending.status, approved.status, paid.status) == (202, 202, 201)
    routes = _routes(net, dep, pending.body["id"], approved.body["id"], paid.body["id"])
    login(username)
    token = any_token(client)
    before, money = counts(), balance(member)
    for index, (method, url, allowed) in enumerate(routes):
        if method == "GET":
            response = client.get(url)
        else:
            response = client.post(url, data={"csrf_token": token, "idempotency_key": f"mx-{username}-{index:04d}",
                                              "reason": "matrix", "amount": "1000", "method": "cash",
                                              "action": "review"})
        if username in allowed:
            assert response.status_code in (200, 302), (method, url, response.status_code)
        else:
            assert response.status_code == 403, (method, url, response.status_code)
    if username not in ("op_a", "mgr_a"):
        assert counts() == before and balance(member) == money


def test_unit_b_staff_cannot_see_or_void_unit_a_records(net, client, login):
    member = net.members_a[0]
    dep = deposit(net, member, "5", "dep-scr-0013")
    wd = withdraw_service(net, member, 2000, "wd-scr-scope")
    create_user("mgr_b", "unit_manager", PASSWORD, unit=net.unit_b, full_name="Manajer B")
    db.session.commit()
    before, money = counts(), balance(member)
    for username in ("op_b", "mgr_b"):
        login(username)
        token = any_token(client)
        for url in (f"/counter/withdrawal/{wd.body['id']}", f"/counter/withdrawal/{wd.body['id']}.pdf",
                    f"/counter/member/{member.member_no}/withdraw"):
            assert client.get(url).status_code == 404, (username, url)
        assert client.post(f"/counter/member/{member.member_no}/withdraw",
                           data={"csrf_token": token, "idempotency_key": "scope-b-0001", "action": "save",
                                 "method": "cash", "amount": "1000"}).status_code == 404
        listing = client.get("/counter/withdrawals").get_data(as_text=True)
        assert member.name not in listing
        client.post("/logout", data={"csrf_token": token})
    login("mgr_b")
    token = any_token(client)
    for url in (f"/counter/receipt/{dep.receipt_no}/void", f"/counter/withdrawal/{wd.body['id']}/void"):
        assert client.get(url).status_code == 404
        assert client.post(url, data={"csrf_token": token, "idempotency_key": "scope-b-0002",
                                      "reason": "not mine"}).status_code == 404
    assert counts() == before and balance(member) == money


def test_withdrawal_receipt_qr_verifies_publicly(net, client, login):
    member = net.members_a[0]
    deposit(net, member, "5", "dep-scr-0014")
    wd = withdraw_service(net, member, 2500, "wd-scr-qr001")
    from wastebank.counter.views import verification_code
    with client.application.test_request_context():
        code = verification_code(wd.body["receipt_no"])
    page = client.get(f"/r/w/{wd.body['receipt_no']}/{code}")
    assert page.status_code == 200 and "Rp 2.500" in page.get_data(as_text=True)
    assert member.name not in page.get_data(as_text=True)
    assert client.get(f"/r/w/{wd.body['receipt_no']}/{'0' * 16}").status_code == 404
