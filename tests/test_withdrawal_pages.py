"""The counter's withdrawal pages as a tester found them (operator and unit manager at RW05):
open requests named on the review, the page and the approvals list; a refused approval or a
save refused for a balance that changed says what is held, the balance now and what can be
withdrawn, and lands on the withdrawal page; a repeated save says it was recorded once; a
pending request says what to do; a void's who, when and why; a voided A6 receipt on one sheet.
Exact rupiah (CARDBOARD is Rp 2.000/kg at RW05); the texts in Indonesian, as the tablet shows them."""
from __future__ import annotations

import io
import re

import pypdf
from sqlalchemy import select

from wastebank.extensions import db
from wastebank.models import Withdrawal
from wastebank.services.ledger import verify_ledger
from wastebank.services.transaction import run_in_transaction
from wastebank.services.withdrawals import WithdrawalInput, record_withdrawal

from .test_withdrawal_screens import (any_token, balance, counts, deposit, form_page, post_withdraw,
                                      withdraw_service)


def text_of(response) -> str:
    """The page's text without tags (whitespace collapsed), for the sentences a person reads."""
    html = re.sub(r"<script.*?</script>|<style.*?</style>", " ", response.get_data(as_text=True), flags=re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", html).replace("&#34;", '"').split())


def approvals_needed(net, threshold: int = 5000) -> None:
    net.unit_a.approval_threshold_idr = threshold
    db.session.commit()


def test_two_pending_requests_are_named_and_the_second_approval_says_what_is_held(net, client, login):
    approvals_needed(net)
    member = net.members_a[0]
    deposit(net, member, "10", "dep-wdp-0001")  # Rp 20.000
    login("op_a")
    url = f"/counter/member/{member.member_no}/withdraw"
    token, key, _ = form_page(client, url)
    first_review = text_of(post_withdraw(client, member.member_no, token, key, "review", "15.000"))
    assert "permintaan penarikan lain" not in first_review  # nothing open yet
    assert post_withdraw(client, member.member_no, token, key, "save", "15.000").status_code == 302

    # The same amount asked again: the review names the open request and its amount.
    token, key, entry = form_page(client, url)
    assert "Nasabah ini sudah punya permintaan penarikan lain yang belum dibayar (1, seluruhnya Rp 15.000)" \
        in text_of(client.get(url))
    review = post_withdraw(client, member.member_no, token, key, "review", "15.000")
    page = text_of(review)
    assert review.status_code == 200
    assert "Nasabah ini sudah punya permintaan penarikan lain yang belum dibayar (1, seluruhnya Rp 15.000)" in page
    assert "Rp 15.000 · Menunggu persetujuan" in page
    assert "Tidak cukup untuk semuanya: tabungan kurang Rp 10.000 untuk membayar semua permintaan itu dan yang ini" \
        in page
    assert post_withdraw(client, member.member_no, token, key, "save", "15.000").status_code == 302
    first, second = db.session.scalars(select(Withdrawal).order_by(Withdrawal.id)).all()
    assert (first.status, second.status) == ("pending", "pending")
    db.session.rollback()

    # The operator's page of a pending request: what to do, and the other request.
    pending = text_of(client.get(f"/counter/withdrawal/{second.id}"))
    assert "Menunggu persetujuan" in pending
    assert "Jangan serahkan uang dulu." in pending
    assert "Minta pengurus unit menyetujui penarikan ini. Setelah disetujui, bayarkan di halaman ini" in pending
    assert "(1, seluruhnya Rp 15.000)" in pending
    client.post("/logout", data={"csrf_token": token})

    login("mgr_a")
    mgr_token = any_token(client)
    listing = client.get("/counter/withdrawals")
    marks = re.findall(r'<span class="several short" data-member="([^"]+)">([^<]+)', listing.get_data(as_text=True))
    assert [m for m, _ in marks] == [member.member_no] * 2  # both rows marked
    assert "2 permintaan terbuka nasabah ini, seluruhnya Rp 30.000; dapat ditarik sekarang: Rp 20.000." in marks[0][1]
    assert "Tidak cukup untuk semuanya." in text_of(listing)

    assert client.post(f"/counter/withdrawal/{first.id}/approve",
                       data={"csrf_token": mgr_token, "next": "list"}).status_code == 302
    assert balance(member) == (20000, 15000)
    before = counts()
    refused = client.post(f"/counter/withdrawal/{second.id}/approve", data={"csrf_token": mgr_token, "next": "list"})
    # Back on the withdrawal page (a reload there posts nothing), with what is held and what is left.
    assert refused.status_code == 302
    assert refused.location.endswith(f"/counter/withdrawal/{second.id}")
    page = text_of(client.get(refused.location))
    assert ("Tabungan tidak cukup: saldo Rp 20.000, dan Rp 15.000 sudah ditahan untuk penarikan lain; "
            "yang dapat ditarik Rp 5.000.") in page
    assert "Dapat ditarik sekarang Rp 5.000" in page
    assert "Ditahan untuk penarikan yang sudah disetujui Rp 15.000" in page
    assert counts() == before and balance(member) == (20000, 15000)
    db.session.expire_all()
    assert db.session.get(Withdrawal, second.id).status == "pending"
    assert verify_ledger().ok


def test_a_save_refused_after_another_tablet_paid_shows_the_balance_now(net, client, login):
    member = net.members_a[1]
    deposit(net, member, "5", "dep-wdp-0002")  # Rp 10.000
    login("op_a")
    url = f"/counter/member/{member.member_no}/withdraw"
    token, key_one, _ = form_page(client, url)
    _, key_two, _ = form_page(client, url)
    for key in (key_one, key_two):  # two tablets review the full balance
        assert 'id="confirm-balance-before">Rp 10.000<' in post_withdraw(
            client, member.member_no, token, key, "review", "10.000").get_data(as_text=True)
    assert post_withdraw(client, member.member_no, token, key_one, "save", "10.000").status_code == 302
    refused = post_withdraw(client, member.member_no, token, key_two, "save", "10.000")
    assert refused.status_code == 409
    page = text_of(refused)
    assert ("Saldo sudah berubah (sekarang Rp 0) karena penarikan lain atau pembatalan: tabungan tidak cukup "
            "untuk penarikan ini; yang dapat ditarik Rp 0.") in page
    assert 'id="balance">Rp 0<' in refused.get_data(as_text=True)  # the page's balance is the one now
    assert counts()["withdrawal"] == 1 and balance(member) == (0, 0)


def test_the_outbox_gets_the_balance_now_in_its_refusal(net, client, login):
    """The tablet's outbox saves through the API: the refusal it shows names the balance now."""
    member = net.members_a[1]
    deposit(net, member, "5", "dep-wdp-0003")
    login("op_a")  # a request context's language: Indonesian
    client.get("/")
    assert withdraw_service(net, member, 10000, "wd-wdp-first").status == 201
    with client.application.test_request_context("/"):
        outcome = run_in_transaction(lambda: record_withdrawal(
            net.unit_a, member, WithdrawalInput("cash", 10000), user=net.users["op_a"],
            idempotency_key="wd-wdp-second"))
    assert outcome.status == 409
    assert outcome.body["error"]["code"] == "insufficient_balance"
    assert outcome.body["error"]["message"].startswith("Saldo sudah berubah (sekarang Rp 0)")


def test_a_repeated_save_says_it_was_recorded_once(net, client, login):
    member = net.members_a[0]
    deposit(net, member, "5", "dep-wdp-0004")  # Rp 10.000
    login("op_a")
    token, key, _ = form_page(client, f"/counter/member/{member.member_no}/withdraw")
    saved = post_withdraw(client, member.member_no, token, key, "save", "4.000")
    first_view = text_of(client.get(saved.location))
    assert "Sudah tersimpan." not in first_view and "Asli" in first_view
    # Save tapped again (a reload while saving): the same withdrawal, said to be recorded once.
    again = post_withdraw(client, member.member_no, token, key, "save", "4.000")
    assert again.status_code == 302 and again.location.endswith("again=1")
    page = text_of(client.get(again.location))
    assert "Sudah tersimpan. Penarikan ini sudah tercatat sekali, pada" in page
    assert "tidak disimpan lagi. Serahkan uangnya sekali saja: jika sudah diserahkan, jangan serahkan lagi." in page
    assert "SALINAN" in page
    # The review page of that form opened again: no second review, the withdrawal.
    review = post_withdraw(client, member.member_no, token, key, "review", "4.000")
    assert review.status_code == 302 and review.location == again.location
    # The outbox opens ?new=1 again after a repeat: recorded once, not again.
    assert "Sudah tersimpan." in text_of(client.get(saved.location))
    assert counts()["withdrawal"] == 1 and balance(member) == (6000, 0)


def test_a_repeated_request_for_approval_says_it_was_recorded_once(net, client, login):
    approvals_needed(net)
    member = net.members_a[0]
    deposit(net, member, "5", "dep-wdp-0005")
    login("op_a")
    token, key, _ = form_page(client, f"/counter/member/{member.member_no}/withdraw")
    first = post_withdraw(client, member.member_no, token, key, "save", "8.000")
    assert "Sudah tersimpan." not in text_of(client.get(first.location))
    again = post_withdraw(client, member.member_no, token, key, "save", "8.000")
    page = text_of(client.get(again.location))
    assert "Sudah tersimpan. Penarikan ini sudah tercatat sekali" in page
    assert "Serahkan uangnya sekali saja" not in page  # nothing is paid yet
    assert "Jangan serahkan uang dulu." in page
    assert counts()["withdrawal"] == 1


def test_an_approved_request_says_pay_it_out_here(net, client, login):
    approvals_needed(net)
    member = net.members_a[0]
    deposit(net, member, "5", "dep-wdp-0006")
    pending = withdraw_service(net, member, 8000, "wd-wdp-appr1")
    login("mgr_a")
    token = any_token(client)
    manager_view = text_of(client.get(f"/counter/withdrawal/{pending.body['id']}"))
    assert "Belum dibayar. Setujui agar Rp 8.000 ditahan di tabungan" in manager_view
    client.post(f"/counter/withdrawal/{pending.body['id']}/approve", data={"csrf_token": token})
    page = text_of(client.get(f"/counter/withdrawal/{pending.body['id']}"))
    assert 'Rp 8.000 ditahan di tabungan. Tekan "Bayarkan" di sini, lalu serahkan uangnya.' in page


def test_a_void_opened_again_shows_who_when_and_why(net, client, login):
    member = net.members_a[0]
    deposit(net, member, "5", "dep-wdp-0007")
    wd = withdraw_service(net, member, 4000, "wd-wdp-void1")
    login("mgr_a")
    url = f"/counter/withdrawal/{wd.body['id']}/void"
    token, key, _ = form_page(client, url)
    assert client.post(url, data={"csrf_token": token, "idempotency_key": key,
                                  "reason": "dobel bayar"}).status_code == 302
    name = net.users["mgr_a"].display_name
    again = client.get(url)
    html, page = again.get_data(as_text=True), text_of(again)
    assert "Ini sudah dibatalkan." in page
    assert 'id="void-amount"' not in html and "Saldo setelah pembatalan" not in page  # no preview of a done void
    assert f'id="void-by">{name}<' in html and 'id="void-reason">dobel bayar<' in html
    assert re.search(r'id="void-at">\d\d-\d\d-\d{4} \d\d\.\d\d WIB<', html)
    assert 'id="confirm-void"' not in html
    withdrawal_page = client.get(f"/counter/withdrawal/{wd.body['id']}")
    page = text_of(withdrawal_page)
    assert "Sudah dibayar, lalu dibatalkan" in page and "Sudah dibayar " not in page.replace("Sudah dibayar,", "")
    assert re.search(rf"BATAL · Dibatalkan oleh {re.escape(name)}, \d\d-\d\d-\d{{4}} \d\d\.\d\d WIB\. "
                     r"Alasan: dobel bayar", page)
    assert balance(member) == (10000, 0)


def test_a_voided_withdrawal_prints_on_one_a6_sheet(net, client, login):
    member = net.members_a[0]
    deposit(net, member, "5", "dep-wdp-0008")
    wd = withdraw_service(net, member, 4000, "wd-wdp-void2")
    login("mgr_a")
    url = f"/counter/withdrawal/{wd.body['id']}/void"
    token, key, _ = form_page(client, url)
    client.post(url, data={"csrf_token": token, "idempotency_key": key, "reason": "salah nasabah"})
    for query in ("size=A6", "size=A6&copy=1"):
        reader = pypdf.PdfReader(io.BytesIO(client.get(f"/counter/withdrawal/{wd.body['id']}.pdf?{query}").data))
        assert len(reader.pages) == 1, query
        text = reader.pages[0].extract_text()
        assert "BATAL" in text and wd.body["receipt_no"] in text
    # The roll keeps the banner at both ends.
    roll = pypdf.PdfReader(io.BytesIO(client.get(f"/counter/withdrawal/{wd.body['id']}.pdf").data))
    assert len(roll.pages) == 1 and roll.pages[0].extract_text().count("BATAL") == 2


def test_the_list_puts_both_buttons_in_one_grid(net, client, login):
    approvals_needed(net)
    member = net.members_a[0]
    deposit(net, member, "5", "dep-wdp-0009")
    withdraw_service(net, member, 6000, "wd-wdp-list1")
    login("mgr_a")
    html = client.get("/counter/withdrawals").get_data(as_text=True)
    cell = re.search(r'<div class="actions-grid">(.*?)</div></td>', html, flags=re.S).group(1)
    assert cell.count("<button") == 2 and "Setujui" in cell and "Tolak" in cell
    assert 'class="several' not in html  # one request: no mark
