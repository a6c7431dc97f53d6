"""Gold savings and bill payments as payout methods (issue 12 item 4; docs/payouts.md): the
service, the API, the counter form, approval above the threshold, replay with the same key,
refusals that change nothing, and the receipt, passbook and statement with their references.
Exact rupiah and milligrams throughout (CARDBOARD is Rp 2.000/kg at RW05)."""
from __future__ import annotations

import html as html_lib
import io
import json
import re
import uuid

import pypdf
import pytest
from flask_babel import force_locale
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from wastebank.extensions import db
from wastebank.models import JournalEntry, Posting, User, Withdrawal
from wastebank.reports.statements import aggregator_statement, statement_csv, statement_pdf
from wastebank.services.deposits import LineInput, record_deposit
from wastebank.services.errors import ValidationFailed
from wastebank.services.ledger import member_savings_account, system_account, verify_ledger
from wastebank.services.transaction import run_in_transaction
from wastebank.services.withdrawals import (WithdrawalInput, approve_withdrawal, pay_withdrawal,
                                            record_withdrawal)

from .conftest import csrf_token
from .test_api import bearer

TOKEN = "12345678901234567890"
GOLD = dict(provider="Pegadaian", account_no="1234 5678 9012 3456", gold_price="1.950.000", reference="PGD-778")
BILL = dict(bill_kind="electricity", provider="PLN", account_no="532110987654", reference="PLN-77812",
            token_no="1234 5678 9012 3456 7890")


def _deposit(net, member, kilos: str, key: str):
    """CARDBOARD at RW05: 1 kg = Rp 2.000; lines of 100 kg so no line limit applies."""
    whole, rest = divmod(int(kilos), 100)
    lines = [LineInput("CARDBOARD", "100")] * whole + ([LineInput("CARDBOARD", str(rest))] if rest else [])
    return run_in_transaction(lambda: record_deposit(net.unit_a, member, lines, operator_id=None,
                                                     idempotency_key=key))


def _withdraw(net, member, method, amount, key, user="op_a", **fields):
    return run_in_transaction(lambda: record_withdrawal(
        net.unit_a, member, WithdrawalInput(method, amount, **fields), user=net.users[user], idempotency_key=key))


def _counts() -> tuple[int, int, int]:
    result = tuple(db.session.scalar(select(func.count(column)))
                   for column in (Withdrawal.id, JournalEntry.id, Posting.id))
    db.session.rollback()
    return result


def _pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages)


def _flat(textual: str) -> str:
    """PDF text with line breaks and no-break spaces as plain spaces (wrapped cells join)."""
    return re.sub(r"\s+", " ", textual.replace("\u00a0", " "))


# --- the service -------------------------------------------------------------------------------


def test_gold_payout_converts_at_the_price_rounding_down(net):
    member = net.members_a[0]
    _deposit(net, member, "600", "dep-gold-0001")  # Rp 1.200.000
    outcome = _withdraw(net, member, "gold", "1.000.000", "wd-gold-0001", **GOLD)
    assert outcome.status == 201, outcome.body
    body = outcome.body
    # 1.000.000 × 1000 / 1.950.000 = 512,82… mg → 512 mg (never rounded up).
    assert (body["method"], body["amount_idr"], body["gold_price_idr"], body["gold_mg"]) == (
        "gold", 1_000_000, 1_950_000, 512)
    assert (body["provider"], body["account_no"], body["reference"]) == ("Pegadaian", "1234567890123456", "PGD-778")
    assert body["balance_idr"] == 200_000 and member_savings_account(member).balance == 200_000
    assert system_account(net.unit_a.id, "cash").balance == -1_000_000  # paid from the cash box
    row = db.session.get(Withdrawal, body["id"])
    assert (row.gold_mg, row.gold_price_idr, row.bill_kind, row.token_no) == (512, 1_950_000, "", "")
    assert verify_ledger().ok


def test_electricity_token_payout_records_the_slip(net):
    member = net.members_a[0]
    _deposit(net, member, "100", "dep-bill-0001")  # Rp 200.000
    outcome = _withdraw(net, member, "bill", 100_000, "wd-bill-0001", **BILL)
    assert outcome.status == 201, outcome.body
    row = db.session.get(Withdrawal, outcome.body["id"])
    assert (row.method, row.bill_kind, row.provider, row.account_no, row.reference, row.token_no) == (
        "bill", "electricity", "PLN", "532110987654", "PLN-77812", TOKEN)
    assert (row.gold_mg, row.gold_price_idr) == (None, None)
    assert member_savings_account(member).balance == 100_000


def test_water_and_bpjs_need_no_token(net):
    member = net.members_a[0]
    _deposit(net, member, "100", "dep-bill-0002")
    for i, kind in enumerate(("water", "bpjs")):
        outcome = _withdraw(net, member, "bill", 20_000, f"wd-bill-kind-{i}", bill_kind=kind, provider="PDAM Jaya",
                            account_no="0001-2345", reference=f"REF-{i}")
        assert outcome.status == 201, outcome.body
        assert db.session.get(Withdrawal, outcome.body["id"]).token_no == ""


@pytest.mark.parametrize(("method", "fields", "expected"), [
    ("gold", {**GOLD, "gold_price": "0"}, {"gold_price_idr": "not_positive"}),
    ("gold", {**GOLD, "gold_price": "-1.950.000"}, {"gold_price_idr": "not_positive"}),
    ("gold", {**GOLD, "gold_price": ""}, {"gold_price_idr": "required"}),
    ("gold", {**GOLD, "gold_price": "1950000,5"}, {"gold_price_idr": "not_a_number"}),
    ("gold", {**GOLD, "provider": " ", "account_no": ""}, {"provider": "required", "account_no": "required"}),
    ("gold", {**GOLD, "gold_price": "20.000.000"}, {"amount_idr": "too_small"}),  # Rp 10.000 buys 0,5 mg
    ("bill", {**BILL, "token_no": "1234 5678 9012 3456 789"}, {"token_no": "invalid"}),
    ("bill", {**BILL, "token_no": "1234 5678 9012 3456 78901"}, {"token_no": "invalid"}),
    ("bill", {**BILL, "token_no": "1234 5678 9012 3456 789O"}, {"token_no": "invalid"}),
    ("bill", {**BILL, "token_no": ""}, {"token_no": "required"}),
    ("bill", {**BILL, "account_no": ""}, {"account_no": "required"}),
    ("bill", {**BILL, "account_no": "12"}, {"account_no": "invalid"}),
    ("bill", {**BILL, "reference": ""}, {"reference": "required"}),
    ("bill", {**BILL, "bill_kind": "gas"}, {"bill_kind": "invalid"}),
])
def test_invalid_inputs_are_refused_and_change_nothing(net, method, fields, expected):
    member = net.members_a[0]
    _deposit(net, member, "100", "dep-bad-0001")
    before = _counts()
    with pytest.raises(ValidationFailed) as refused:
        _withdraw(net, member, method, 10_000, f"wd-bad-{uuid.uuid4().hex[:8]}", **fields)
    assert {field: code for field, (code, _message) in refused.value.errors.items()} == expected
    assert _counts() == before and member_savings_account(member).balance == 200_000


def test_refusals_read_in_indonesian(net):
    member = net.members_a[0]
    _deposit(net, member, "100", "dep-bad-0002")
    with pytest.raises(ValidationFailed) as refused:
        _withdraw(net, member, "bill", 10_000, "wd-bad-id-01", **{**BILL, "token_no": "123", "account_no": ""})
    with force_locale("id"):
        messages = {field: str(message) for field, (_code, message) in refused.value.errors.items()}
    assert messages == {"token_no": "Token listrik harus tepat 20 digit.", "account_no": "Isi ID pelanggan."}
    with pytest.raises(ValidationFailed) as refused:
        _withdraw(net, member, "gold", 10_000, "wd-bad-id-02", **{**GOLD, "gold_price": "0"})
    with force_locale("id"):
        assert str(refused.value.errors["gold_price_idr"][1]) == "Isi harga emas per gram dalam rupiah, lebih dari nol."


def test_replay_with_the_same_key_pays_once_and_other_details_conflict(net):
    member = net.members_a[0]
    _deposit(net, member, "600", "dep-replay-01")
    first = _withdraw(net, member, "gold", "1.000.000", "wd-replay-0001", **GOLD)
    again = _withdraw(net, member, "gold", "1.000.000", "wd-replay-0001", **GOLD)
    assert again.replayed and again.body == first.body
    assert _counts()[0] == 1 and member_savings_account(member).balance == 200_000
    # The canonical request holds the gold fields: another price under the same key is refused.
    from wastebank.services.errors import IdempotencyConflict
    with pytest.raises(IdempotencyConflict):
        _withdraw(net, member, "gold", "1.000.000", "wd-replay-0001", **{**GOLD, "gold_price": "1.900.000"})
    bill = _withdraw(net, member, "bill", 50_000, "wd-replay-0002", **BILL)
    with pytest.raises(IdempotencyConflict):
        _withdraw(net, member, "bill", 50_000, "wd-replay-0002", **{**BILL, "token_no": "9" * 20})
    assert _withdraw(net, member, "bill", 50_000, "wd-replay-0002", **BILL).body == bill.body


def test_above_the_threshold_gold_waits_for_approval_and_holds(net):
    net.unit_a.approval_threshold_idr = 500_000
    db.session.commit()
    member = net.members_a[0]
    _deposit(net, member, "600", "dep-appr-0001")  # Rp 1.200.000
    pending = _withdraw(net, member, "gold", "1.000.000", "wd-appr-gold1", **GOLD)
    assert pending.status == 202 and pending.body["status"] == "pending" and pending.body["receipt_no"] is None
    assert pending.body["gold_mg"] == 512
    run_in_transaction(lambda: approve_withdrawal(db.session.get(Withdrawal, pending.body["id"]),
                                                  user=db.session.get(User, net.users["mgr_a"].id)))
    account = member_savings_account(member)
    assert (account.balance, account.held) == (1_200_000, 1_000_000)
    paid = run_in_transaction(lambda: pay_withdrawal(db.session.get(Withdrawal, pending.body["id"]),
                                                     user=db.session.get(User, net.users["op_a"].id)))
    assert paid.status == "paid" and paid.receipt_no and paid.gold_mg == 512
    account = member_savings_account(member)
    assert (account.balance, account.held) == (200_000, 0)


def test_the_database_refuses_a_gold_row_without_its_figures(net):
    """The CHECK constraints of migration 0014, on SQLite and PostgreSQL alike."""
    member = net.members_a[0]
    insert = text("INSERT INTO withdrawal (unit_id, member_id, method, amount_idr, reference, beneficiary, items,"
                  " status, provider, account_no, bill_kind, token_no, gold_price_idr, gold_mg, requested_at)"
                  " VALUES (:u, :m, :method, 1000, '', '', '', 'pending', '', '', :kind, '', :price, :mg,"
                  " CURRENT_TIMESTAMP)")
    values = {"u": net.unit_a.id, "m": member.id}
    for method, kind, price, mg in (("gold", "", None, None), ("gold", "", 0, 0), ("cash", "", 1950000, 1),
                                    ("bill", "gas", None, None), ("crypto", "", None, None)):
        with pytest.raises(IntegrityError):
            db.session.execute(insert, {**values, "method": method, "kind": kind, "price": price, "mg": mg})
        db.session.rollback()
    db.session.execute(insert, {**values, "method": "gold", "kind": "", "price": 1950000, "mg": 512})
    db.session.execute(insert, {**values, "method": "bill", "kind": "water", "price": None, "mg": None})
    db.session.rollback()


# --- the API -----------------------------------------------------------------------------------


def _api(client, token, body, key=None):
    headers = {**bearer(token), "Idempotency-Key": key or str(uuid.uuid4())}
    return client.post("/api/v1/withdrawals", data=json.dumps(body), headers=headers, content_type="application/json")


def test_api_gold_and_token_payouts(client, net, tokens):
    member = net.members_a[0]
    _deposit(net, member, "600", "dep-api-0001")
    gold = {"member": member.member_no, "method": "gold", "amount_idr": 1_000_000, "gold_price_idr": 1_950_000,
            "provider": "Pegadaian", "account_no": "1234567890123456"}
    key = str(uuid.uuid4())
    first = _api(client, tokens["op_a"], gold, key)
    assert first.status_code == 201, first.get_data(as_text=True)
    assert (first.get_json()["gold_mg"], first.get_json()["balance_idr"]) == (512, 200_000)
    replay = _api(client, tokens["op_a"], gold, key)
    assert replay.status_code == 201 and replay.get_json() == first.get_json()
    assert _api(client, tokens["op_a"], {**gold, "gold_price_idr": 1_900_000}, key).status_code == 409
    bill = {"member": member.member_no, "method": "bill", "amount_idr": 100_000, "bill_kind": "electricity",
            "provider": "PLN", "account_no": "532110987654", "reference": "PLN-77812", "token_no": TOKEN}
    answer = _api(client, tokens["op_a"], bill)
    assert answer.status_code == 201, answer.get_data(as_text=True)
    assert (answer.get_json()["token_no"], answer.get_json()["balance_idr"]) == (TOKEN, 100_000)
    db.session.rollback()
    assert _counts()[0] == 2


@pytest.mark.parametrize(("change", "field", "code"), [
    ({"gold_price_idr": 0}, "gold_price_idr", "out_of_range"),
    ({"gold_price_idr": -1_950_000}, "gold_price_idr", "out_of_range"),
    ({"gold_price_idr": 1950000.5}, "gold_price_idr", "not_a_number"),
    ({"gold_price_idr": None}, "gold_price_idr", "required"),
    ({"method": "bill", "bill_kind": "electricity", "reference": "R1", "account_no": "532110987654",
      "token_no": "1234"}, "token_no", "invalid"),
    ({"method": "bill", "bill_kind": "water", "reference": "R1", "account_no": ""}, "account_no", "required"),
])
def test_api_refusals_name_the_field_and_write_nothing(client, net, tokens, change, field, code):
    member = net.members_a[0]
    _deposit(net, member, "100", "dep-api-bad1")
    body = {"member": member.member_no, "method": "gold", "amount_idr": 10_000, "gold_price_idr": 1_950_000,
            "provider": "Pegadaian", "account_no": "1234567890123456", **change}
    if body.get("gold_price_idr") is None:
        body.pop("gold_price_idr")
    before = _counts()
    response = _api(client, tokens["op_a"], body)
    assert response.status_code == 422, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert field in json.dumps(error) and code in json.dumps(error), error
    assert _counts() == before


# --- the counter form, receipt, passbook and statement -----------------------------------------


def _form(client, member_no):
    html = client.get(f"/counter/member/{member_no}/withdraw").get_data(as_text=True)
    key = re.search(r'name="idempotency_key" type="hidden" value="([0-9a-f]+)"', html).group(1)
    return csrf_token(html), key, html


def _post(client, member_no, token, key, action, data):
    return client.post(f"/counter/member/{member_no}/withdraw",
                       data={"csrf_token": token, "idempotency_key": key, "action": action, **data})


GOLD_FORM = {"method": "gold", "amount": "1.000.000", "gold_price": "1.950.000", "gold_provider": "Pegadaian",
             "gold_account": "1234567890123456", "gold_reference": "PGD-778"}
BILL_FORM = {"method": "bill", "amount": "100.000", "bill_kind": "electricity", "bill_provider": "PLN",
             "bill_customer": "532110987654", "bill_reference": "PLN-77812", "token_no": "1234 5678 9012 3456 7890"}


def test_counter_form_receipt_passbook_and_statement(net, client, login):
    member = net.members_a[0]
    _deposit(net, member, "600", "dep-form-0001")  # Rp 1.200.000
    login("op_a")
    token, key, html = _form(client, member.member_no)
    assert 'value="gold"' in html and 'value="bill"' in html and 'name="token_no"' in html
    review = _post(client, member.member_no, token, key, "review", GOLD_FORM)
    page = review.get_data(as_text=True)
    assert review.status_code == 200, page[:800]
    assert "Tabungan emas · 0,512 g @ Rp 1.950.000/g · Pegadaian 1234567890123456" in page
    payout = json.loads(html_lib.unescape(re.search(r'data-payout="([^"]*)"', page).group(1)))
    assert payout == {"provider": "Pegadaian", "account_no": "1234567890123456", "gold_price_idr": 1_950_000,
                      "reference": "PGD-778"}  # what static/counter/withdraw.js adds to the outbox body
    assert _counts()[0] == 0, "review must not write"
    saved = _post(client, member.member_no, token, key, "save", GOLD_FORM)
    assert saved.status_code == 302, saved.get_data(as_text=True)[:800]
    again = _post(client, member.member_no, token, key, "save", GOLD_FORM)  # double tap
    # The same withdrawal, opened with the notice that it was recorded once (?again=1).
    assert again.status_code == 302 and again.location.split("?")[0] == saved.location.split("?")[0]
    assert again.location.endswith("?again=1")
    gold = db.session.scalars(select(Withdrawal).where(Withdrawal.method == "gold")).one()
    assert (gold.gold_mg, gold.reference) == (512, "PGD-778")

    token, key, _html = _form(client, member.member_no)
    bad = _post(client, member.member_no, token, key, "save", {**BILL_FORM, "token_no": "1234 5678"})
    assert bad.status_code == 422 and "Token listrik harus tepat 20 digit." in bad.get_data(as_text=True)
    missing = _post(client, member.member_no, token, key, "save", {**BILL_FORM, "bill_customer": ""})
    assert missing.status_code == 422 and "Isi ID pelanggan." in missing.get_data(as_text=True)
    assert _counts()[0] == 1
    assert _post(client, member.member_no, token, key, "save", BILL_FORM).status_code == 302
    bill = db.session.scalars(select(Withdrawal).where(Withdrawal.method == "bill")).one()
    assert (bill.token_no, bill.account_no) == (TOKEN, "532110987654")
    assert member_savings_account(member).balance == 100_000

    page = client.get(f"/counter/withdrawal/{bill.id}").get_data(as_text=True)
    assert "Token listrik 1234 5678 9012 3456 7890" in page
    # The receipts (80 mm roll and A6), read back with pypdf.
    for size in ("80", "A6"):
        receipt = _flat(_pdf_text(client.get(f"/counter/withdrawal/{gold.id}.pdf?size={size}&copy=1").data))
        assert "Tabungan emas · 0,512 g @ Rp 1.950.000/g · Pegadaian 1234567890123456" in receipt
        assert "No. ref. PGD-778" in receipt and "Rp 1.000.000" in receipt
        receipt = _flat(_pdf_text(client.get(f"/counter/withdrawal/{bill.id}.pdf?size={size}&copy=1").data))
        assert "Token listrik 1234 5678 9012 3456 7890" in receipt
        assert "Token listrik · PLN · ID pelanggan 532110987654" in receipt and "No. ref. PLN-77812" in receipt
    # The passbook (buku tabungan) of the member.
    passbook = _flat(_pdf_text(client.get(f"/members/{member.member_no}/statement.pdf").data))
    assert "Tabungan emas · 0,512 g @ Rp 1.950.000/g · Pegadaian 1234567890123456" in passbook
    assert "Token listrik 1234 5678 9012 3456 7890" in passbook
    assert gold.receipt_no in passbook and bill.receipt_no in passbook
    # The monthly statement: the methods' columns and each payout with its references.
    db.session.expire_all()
    paid = db.session.get(Withdrawal, gold.id).paid_at
    from wastebank.timeutil import to_local
    month = to_local(paid)
    st = aggregator_statement(net.unit_a.aggregator, month.year, month.month)
    rw05 = {u.code: u for u in st.units}["RW05"]
    assert (rw05.withdrawals_idr["gold"], rw05.withdrawals_idr["bill"]) == (1_000_000, 100_000)
    assert [(p.receipt_no, p.amount_idr) for p in st.payouts] == [(gold.receipt_no, 1_000_000),
                                                                (bill.receipt_no, 100_000)]
    with force_locale("id"):
        statement = _flat(_pdf_text(statement_pdf(st, "id")))
        csv = statement_csv(st).decode("utf-8")
    assert "Tabungan emas dan pembayaran tagihan" in statement
    assert "0,512 g @ Rp 1.950.000/g · Pegadaian 1234567890123456" in statement
    assert "1234 5678 9012 3456 7890" in statement and gold.receipt_no in statement
    assert "withdrawals_gold_idr" in csv and "withdrawals_bill_idr" in csv
