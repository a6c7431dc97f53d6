"""Resident self-service at /c/<token>: balance equal to the ledger, masked number, last 20
movements, statement PDF (header on every page, closing balance = ledger), revoked and unknown
cards, and the PIN with its lockout."""
from __future__ import annotations

import re
import uuid
from datetime import timedelta
from io import BytesIO

import pytest
from pypdf import PdfReader

from wastebank.extensions import db
from wastebank.models import utcnow
from wastebank.money import format_idr
from wastebank.public.views import mask_member_no
from wastebank.services.deposits import LineInput, record_deposit
from wastebank.services.ledger import member_savings_account
from wastebank.services.members import (PIN_MAX_TRIES, PinLocked, check_pin, issue_card, live_card,
                                        set_pin)
from wastebank.services.transaction import run_in_transaction

from .conftest import csrf_token


def deposit(net, member, quantity="1,5"):
    return run_in_transaction(lambda: record_deposit(
        net.unit_a, member, [LineInput("PET-CLEAN", quantity)], operator_id=net.users["op_a"].id,
        idempotency_key=uuid.uuid4().hex))


def test_mask_member_no():
    assert mask_member_no("RW05-0012") == "RW05-••12"
    assert mask_member_no("A-1") == "A-••"
    assert mask_member_no("12345") == "•••45"


def test_page_shows_first_name_masked_number_and_ledger_balance(client, net):
    member = net.members_a[0]
    for q in ("1,5", "2", "0,5"):
        deposit(net, member, q)
    token = live_card(member).token
    response = client.get(f"/c/{token}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    balance = member_savings_account(member).balance
    assert balance == 4875 + 6500 + 1625
    assert f'<strong id="balance">{format_idr(balance, "id")}</strong>' in html
    assert "Siti" in html and "Aminah" not in html
    assert "RW05-••01" in html and "RW05-0001" not in html
    assert net.unit_a.name in html
    assert html.count("<tr>") == 3


def test_only_the_last_20_movements(client, net):
    member = net.members_a[1]
    for _ in range(22):
        deposit(net, member, "1")
    html = client.get(f"/c/{live_card(member).token}").get_data(as_text=True)
    assert html.count("<tr>") == 20


def test_revoked_card_shows_kartu_tidak_berlaku_and_nothing_else(client, net):
    member = net.members_a[0]
    deposit(net, member)
    old = live_card(member).token
    issue_card(member)
    db.session.commit()
    response = client.get(f"/c/{old}")
    html = response.get_data(as_text=True)
    assert response.status_code == 410
    assert "kartu tidak berlaku" in html.lower()
    visible = re.sub(r'value="[^"]*"', "", html)  # random CSRF tokens may contain "Rp" by chance
    for secret in ("Siti", "RW05", "Rp", "4.875", net.unit_a.name):
        assert secret not in visible
    assert client.get(f"/c/{old}/statement.pdf").status_code == 410
    assert client.get("/c/not-a-real-token-at-all-xxxxxxxx").status_code == 404


def test_statement_pdf_header_repeats_and_closing_equals_ledger(client, net):
    member = net.members_a[0]
    for i in range(70):
        deposit(net, member, "1" if i % 2 else "0,5")
    balance = member_savings_account(member).balance
    token = live_card(member).token
    today = utcnow().date()
    with client.session_transaction() as session:
        session["lang"] = "en"  # labels are checked in the source language (translations come later)
    response = client.get(f"/c/{token}/statement.pdf", query_string={
        "start": (today - timedelta(days=2)).isoformat(), "end": (today + timedelta(days=1)).isoformat()})
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    reader = PdfReader(BytesIO(response.data))
    assert len(reader.pages) >= 2
    texts = [page.extract_text() for page in reader.pages]
    for text in texts:  # the header row repeats on every page
        assert "Date" in text and "Description" in text and "Balance" in text
    last = texts[-1]
    closing = re.search(r"Closing balance\s*(Rp [\d,]+)", last).group(1)
    assert closing == format_idr(balance, "en")
    assert re.search(r"Opening balance\s*Rp 0\b", texts[0])
    assert sum(text.count("RW05-2026-") for text in texts) == 70


def test_statement_of_an_earlier_period_opens_with_the_balance_before_it(client, net):
    member = net.members_a[0]
    deposit(net, member)
    token = live_card(member).token
    later = utcnow().date() + timedelta(days=5)
    with client.session_transaction() as session:
        session["lang"] = "en"
    response = client.get(f"/c/{token}/statement.pdf", query_string={"start": later.isoformat(),
                                                                       "end": later.isoformat()})
    text = PdfReader(BytesIO(response.data)).pages[0].extract_text()
    assert re.search(r"Opening balance\s*Rp 4,875", text) and re.search(r"Closing balance\s*Rp 4,875", text)


def _require_pin(net, member, pin="4321"):
    net.unit_a.require_pin = True
    set_pin(member, pin)
    db.session.commit()


def _post_pin(client, url, pin):
    token = csrf_token(client.get(url).get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, "pin": pin})


def test_pin_required_then_right_pin_opens_the_page(client, net):
    member = net.members_a[0]
    deposit(net, member)
    _require_pin(net, member)
    url = f"/c/{live_card(member).token}"
    first = client.get(url).get_data(as_text=True)
    assert 'name="pin"' in first and "Rp 4.875" not in first
    assert client.get(url + "/statement.pdf").status_code == 302
    wrong = _post_pin(client, url, "1111")
    assert wrong.status_code == 401 and "Rp 4.875" not in wrong.get_data(as_text=True)
    right = _post_pin(client, url, "4321")
    assert right.status_code == 302
    page = client.get(url).get_data(as_text=True)
    assert "Rp 4.875" in page
    db.session.expire_all()
    assert member.pin_failed_count == 0


def test_pin_lockout_after_five_wrong_tries_for_fifteen_minutes(client, net):
    member = net.members_a[0]
    _require_pin(net, member)
    url = f"/c/{live_card(member).token}"
    for _ in range(PIN_MAX_TRIES - 1):
        assert _post_pin(client, url, "0000").status_code == 401
    locked = _post_pin(client, url, "0000")
    assert locked.status_code == 429
    db.session.expire_all()
    assert member.pin_locked_until is not None
    assert timedelta(minutes=14) < member.pin_locked_until - utcnow() <= timedelta(minutes=15)
    # Even the right PIN is refused while locked, from any browser.
    other_browser = client.application.test_client()
    assert _post_pin(other_browser, url, "4321").status_code == 429
    # The lockout is per member: another member's page still works.
    other = net.members_a[1]
    set_pin(other, "9999")
    db.session.commit()
    assert _post_pin(client, f"/c/{live_card(other).token}", "9999").status_code == 302


def test_check_pin_service_lock_expires(app, net):
    member = net.members_a[0]
    set_pin(member, "123456")
    for _ in range(PIN_MAX_TRIES - 1):
        assert check_pin(member, "000000") is False
    with pytest.raises(PinLocked):
        check_pin(member, "000000")
    with pytest.raises(PinLocked):
        check_pin(member, "123456")
    member.pin_locked_until = utcnow() - timedelta(seconds=1)
    db.session.flush()
    assert check_pin(member, "123456") is True


def test_set_pin_validates_and_hashes(app, net):
    member = net.members_a[0]
    from wastebank.services.errors import DomainError
    for bad in ("123", "1234567", "12a4", "١٢٣٤", "１２３４"):   # Arabic-Indic, full-width
        with pytest.raises(DomainError):
            set_pin(member, bad)
    set_pin(member, "2468")
    assert member.pin_hash and "2468" not in member.pin_hash and member.pin_hash.startswith("$argon2")
    set_pin(member, "")
    assert member.pin_hash is None


def test_operator_sets_pin_on_member_page(client, login, net):
    member = net.members_a[0]
    login("op_a")
    url = f"/members/{member.member_no}"
    token = csrf_token(client.get(url).get_data(as_text=True))
    assert client.post(url + "/pin", data={"csrf_token": token, "pin": "12"}).status_code == 302
    db.session.expire_all()
    assert member.pin_hash is None
    assert client.post(url + "/pin", data={"csrf_token": token, "pin": "5678"}).status_code == 302
    db.session.expire_all()
    assert member.pin_hash is not None


def test_an_empty_save_pin_removes_nothing_and_remove_pin_removes_it(client, login, net):
    """A tester removed a PIN by tapping "Simpan PIN" with the box empty ("PIN dihapus."): an
    empty save now says what to type and changes nothing; "Hapus PIN" removes it."""
    member = net.members_a[0]
    login("op_a")
    url = f"/members/{member.member_no}"
    token = csrf_token(client.get(url).get_data(as_text=True))
    assert client.post(url + "/pin", data={"csrf_token": token, "pin": "5678", "action": "save"}).status_code == 302
    db.session.expire_all()
    assert member.pin_hash is not None
    client.post(url + "/pin", data={"csrf_token": token, "pin": "", "action": "save"})
    page = client.get(url).get_data(as_text=True)
    assert "Ketik PIN baru (4–6 angka). Untuk menghapus PIN, ketuk &#34;Hapus PIN&#34;." in page
    db.session.expire_all()
    assert member.pin_hash is not None
    assert "Hapus PIN" in page and "Hapus PIN %s? Halaman kartunya lalu terbuka tanpa PIN." % member.name in \
        page.replace("&#39;", "'")
    client.post(url + "/pin", data={"csrf_token": token, "pin": "9999", "action": "remove"})
    db.session.expire_all()
    assert member.pin_hash is None
    assert "PIN dihapus." in client.get(url).get_data(as_text=True)


def test_staff_statement_pdf(client, login, net):
    member = net.members_a[2]
    deposit(net, member)
    login("mgr_a")
    response = client.get(f"/members/{member.member_no}/statement.pdf")
    assert response.status_code == 200
    text = PdfReader(BytesIO(response.data)).pages[0].extract_text()
    assert "Ñoño Đặng Łukasz" in text and "Rp 4.875" in text


def test_staff_statement_of_another_unit_is_404(client, login, net):
    login("op_b")
    assert client.get(f"/members/{net.members_a[0].member_no}/statement.pdf").status_code == 404


def test_pin_lockouts_grow_so_guessing_cannot_outlast_them(app, net):
    """Every fifth wrong PIN in a row locks again, each time twice as long (15, 30, 60 min…)."""
    from datetime import datetime, timedelta, timezone

    from wastebank.models import clock_at
    from wastebank.services.members import PinLocked, check_pin, set_pin

    member = net.members_a[0]
    set_pin(member, "4321")
    db.session.commit()
    moment = datetime(2026, 3, 1, 8, 0, tzinfo=timezone.utc)
    for expected_minutes in (15, 30, 60):
        with clock_at(moment):
            for _ in range(4):
                assert check_pin(member, "0000") is False
            with pytest.raises(PinLocked):
                check_pin(member, "0000")
        db.session.commit()
        assert member.pin_locked_until == moment + timedelta(minutes=expected_minutes)
        moment = member.pin_locked_until + timedelta(seconds=1)
    with clock_at(moment):
        assert check_pin(member, "4321") is True
    assert member.pin_failed_count == 0
