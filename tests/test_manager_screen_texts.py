"""What the stock, sale and cash-book screens say (issue 9 item 3): names, not codes; labels,
not method codes; a negative expected cash shown as a warning; empty tables say "belum ada"."""
from __future__ import annotations

import re

from wastebank.extensions import db
from wastebank.models import User
from wastebank.services.deposits import LineInput, record_deposit
from wastebank.services.sales import create_offtaker
from wastebank.services.transaction import run_in_transaction
from wastebank.services.withdrawals import WithdrawalInput, record_withdrawal

from .conftest import csrf_token


def test_empty_unit_says_belum_ada(net, client, login):
    login("mgr_a")
    assert "Belum ada stok." in client.get("/manager/stock").get_data(as_text=True)
    assert "Belum ada stok: belum ada yang bisa dijual." in client.get("/manager/sales/new").get_data(as_text=True)
    assert "Belum ada penjualan." in client.get("/manager/sales").get_data(as_text=True)
    book = client.get("/manager/cashbook").get_data(as_text=True)
    assert "Belum ada uang kas masuk atau keluar pada hari ini." in book
    assert "Belum ada setoran susulan." in book


def test_stock_sale_and_cash_book_use_names_and_labels(net, client, login):
    mgr = db.session.get(User, net.users["mgr_a"].id)
    member = net.members_a[0]
    run_in_transaction(lambda: record_deposit(net.unit_a, member, [LineInput("CARDBOARD", "434,5")],
                                              operator_id=mgr.id, idempotency_key="texts-dep-01"))
    run_in_transaction(lambda: create_offtaker(net.unit_a, "CV Maju Daur", user=mgr))
    run_in_transaction(lambda: record_withdrawal(net.unit_a, member, WithdrawalInput("cash", "5.000"), user=mgr,
                                                 idempotency_key="texts-wd-01"))
    login("mgr_a")
    stock = client.get("/manager/stock").get_data(as_text=True)
    assert re.search(r'<td class="num quantity">434,5 kg</td>', stock)

    # A bad weight is named by its category, and its row is marked.
    form = client.get("/manager/sales/new").get_data(as_text=True)
    key = re.search(r'name="idempotency_key" type="hidden" value="([0-9a-f]+)"', form).group(1)
    offtaker = re.search(r'<option value="(\d+)"', form).group(1)
    refused = client.post("/manager/sales/new", data={
        "csrf_token": csrf_token(form), "idempotency_key": key, "offtaker": offtaker, "payment": "cash",
        "action": "review", "w-CARDBOARD": "banyak", "a-CARDBOARD": "", "p-CARDBOARD": "2600"})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert re.search(r'<p class="error" role="alert">Kardus, ditimbang: ', page)
    assert "lines.0" not in page and 'class="sale-line has-error" data-code="CARDBOARD"' in page
    too_much = client.post("/manager/sales/new", data={
        "csrf_token": csrf_token(form), "idempotency_key": key, "offtaker": offtaker, "payment": "cash",
        "action": "review", "w-CARDBOARD": "450", "a-CARDBOARD": "", "p-CARDBOARD": "2600"})
    assert "Stok Kardus tidak cukup" in too_much.get_data(as_text=True)

    # The cash book: the withdrawal by its label and the member's name; the cash is negative.
    book = client.get("/manager/cashbook").get_data(as_text=True)
    # As read: the numbers are kept whole by <span class="nowrap"> (ae2726d), the words are the same.
    shown = re.sub(r"<[^>]+>", "", book)
    assert "Penarikan tunai · " in shown and f"{member.member_no} Siti Aminah" in shown
    assert f'<span class="nowrap">{member.member_no}</span>' in book
    assert "Penarikan cash" not in book
    assert 'id="expected-cash" class="negative">-Rp 5.000<' in book
    assert 'id="expected-negative"' in book and "kas bernilai negatif" in book
