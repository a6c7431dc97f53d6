"""What a resident (no login) and staff read on the public pages' refusals (a tester's findings
on /c/<token>, /r/…, /u/<code>):

1. A bad or revoked card link, a receipt check that fails and an unknown unit page say what
   happened and what to do, keep their status (404, 410) and link to nothing that leads to the
   operator login; logged-in staff get the way back that fits their role (operator: the counter;
   unit manager: the manager's menu; admin, aggregator staff, collaborator: their home page).
2. A statement date that cannot be used (01-01-1900) shows the card page again, the message
   under the date field and the dates as typed.
3. The PIN screen: a wrong numeric PIN says how many tries are left; an empty or non-numeric
   PIN is refused without counting a try; the lockout (every fifth wrong try, growing) is
   unchanged and its screen says until when, under its own heading, with no input box.
4. The receipt checks say they are a deposit or a withdrawal, and what a void means.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

import pytest

from wastebank.counter.receipts import verify_url, withdrawal_verify_url
from wastebank.extensions import db
from wastebank.models import clock_at, utcnow
from wastebank.services.members import PIN_MAX_TRIES, issue_card, live_card, set_pin

from .conftest import csrf_token
from .report_helpers import deposit, void, withdraw

WIB = timezone(timedelta(hours=7))
CARD_TEXT = "Tautan kartu ini tidak berlaku lagi. Minta kartu baru di unit bank sampah Anda."
RECEIPT_TEXT = ("Struk ini tidak dikenal. Periksa kembali kode pada struk; jika tetap tidak cocok, struk ini "
                "mungkin bukan dari bank sampah kami — tanyakan ke petugas.")
NOT_NUMERIC = "PIN hanya angka, 4–6 angka."
LOCKED_HEADING = "PIN dikunci sementara"


def _links(html: str) -> list[str]:
    """Every link a person can follow (``<a href>``) and every form's action."""
    return re.findall(r'<a [^>]*href="([^"]*)"', html) + re.findall(r'<form [^>]*action="([^"]*)"', html)


def _assert_no_way_to_the_login(html: str) -> None:
    for target in _links(html):
        assert target.startswith("/lang/"), target  # the ID/EN switch only
    for text in ("Kembali ke loket", "Silakan masuk", 'href="/"', "/login"):
        assert text not in html


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def _receipt_path(url: str) -> str:
    return urlsplit(url).path


@pytest.fixture
def card_token(net) -> str:
    card = live_card(net.members_a[0]) or issue_card(net.members_a[0])
    db.session.commit()
    return card.token


# --- 1. error pages ---------------------------------------------------------------------------


def test_public_refusals_say_what_happened_keep_their_status_and_avoid_the_login(client, net, card_token):
    member = net.members_a[0]
    pages = {
        "/c/not-a-real-token-at-all-xxxxxxxx": (404, "Tautan kartu tidak berlaku", CARD_TEXT),
        "/c/not-a-real-token/statement.pdf": (404, "Tautan kartu tidak berlaku", CARD_TEXT),
        "/r/RW05-2026-000001/0000000000000000": (404, "Struk tidak dikenal", RECEIPT_TEXT),
        "/r/w/RW05-W-2026-000001/abc": (404, "Struk tidak dikenal", RECEIPT_TEXT),
        "/r/only-one-part": (404, "Struk tidak dikenal", RECEIPT_TEXT),
        "/u/NO-SUCH-UNIT": (404, "Halaman unit tidak ditemukan",
                            "Periksa kembali alamatnya, atau tanyakan ke unit bank sampah Anda."),
    }
    for path, (status, heading, message) in pages.items():
        response = client.get(path)
        html = response.get_data(as_text=True)
        assert response.status_code == status, path
        text = _text(html)
        assert heading in text and message in text and "Kode kesalahan: 404" in text, (path, text)
        _assert_no_way_to_the_login(html)
    # A revoked card: 410, what happened and what to do.
    issue_card(member)
    db.session.commit()
    for path in (f"/c/{card_token}", f"/c/{card_token}/statement.pdf"):
        response = client.get(path)
        html = response.get_data(as_text=True)
        assert response.status_code == 410
        assert "Kartu tidak berlaku." in html
        assert ("Kartu ini sudah diganti atau dibatalkan. Pakai kartu terbaru Anda, atau minta kartu baru "
                "di unit bank sampah Anda.") in html
        _assert_no_way_to_the_login(html)


def test_a_card_pages_other_refusal_links_back_to_the_card_page(client, net, card_token):
    # An expired form (the CSRF token) on "stop messages": the card page, not the login.
    response = client.post(f"/c/{card_token}/messages/stop", data={})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Formulir sudah kedaluwarsa; silakan coba lagi." in html
    assert f'href="/c/{card_token}"' in html and "Kembali ke halaman kartu Anda" in html
    assert "Kembali ke loket" not in html and "/login" not in html


@pytest.mark.parametrize("username, label, target", [
    ("op_a", "Kembali ke loket", "/counter"),
    ("mgr_a", "Kembali ke beranda", "/manager/"),
    ("admin", "Kembali ke beranda", "/"),
    ("agg", "Kembali ke beranda", "/"),
    ("collab", "Kembali ke beranda", "/"),
])
def test_staff_error_page_links_where_their_role_starts(client, login, net, username, label, target):
    login(username)
    for path in ("/no-such-page", "/c/not-a-real-token-at-all-xxxxxxxx"):
        response = client.get(path)
        html = response.get_data(as_text=True)
        assert response.status_code == 404
        assert f'<a class="button primary" href="{target}">{label}</a>' in html, (username, path)
    if username != "op_a":
        assert "Kembali ke loket" not in html


def test_nobody_logged_in_on_a_staff_page_is_offered_the_login(client, net):
    response = client.get("/no-such-page")
    html = response.get_data(as_text=True)
    assert response.status_code == 404 and "Tidak ditemukan." in html
    assert '<a class="button primary" href="/login">Masuk</a>' in html and "Kembali ke loket" not in html


# --- 2. statement dates -------------------------------------------------------------------------


def test_a_statement_date_that_cannot_be_used_shows_the_card_page_with_the_message(client, net, card_token):
    member = net.members_a[0]
    joined = member.created_at.astimezone(WIB).strftime("%d-%m-%Y")
    response = client.get(f"/c/{card_token}/statement.pdf?start=1900-01-01&end=2026-01-31")
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and response.mimetype == "text/html"
    assert response.headers["Cache-Control"] == "no-store"
    assert 'id="balance"' in html and "Siti" in html  # the card page itself
    message = f"Tanggal ini tidak bisa dipakai. Pilih tanggal sejak Anda terdaftar ({joined}) sampai hari ini."
    assert f'<p class="error" role="alert" id="start-error">{message}</p>' in html
    assert re.search(r'<input[^>]*aria-invalid="true"[^>]*id="start"[^>]*value="1900-01-01"', html) \
        or re.search(r'<input[^>]*id="start"[^>]*value="1900-01-01"', html)
    assert 'value="2026-01-31"' in html and 'id="end-error"' not in html
    assert "TTTT-BB-HH" not in html
    # Both dates bad: both say so.
    both = client.get(f"/c/{card_token}/statement.pdf?start=0001-01-01&end=9999-12-31").get_data(as_text=True)
    assert 'id="start-error"' in both and 'id="end-error"' in both
    # A good period is still the PDF.
    good = client.get(f"/c/{card_token}/statement.pdf?start=2026-01-01&end=2026-01-31")
    assert good.status_code == 200 and good.mimetype == "application/pdf"


# --- 3. the PIN ---------------------------------------------------------------------------------


def _require_pin(net, member, pin="4321"):
    net.unit_a.require_pin = True
    set_pin(member, pin)
    db.session.commit()


def _post_pin(client, url, pin):
    token = csrf_token(client.get(url).get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, "pin": pin})


def _failed(member) -> int:
    db.session.expire_all()
    return member.pin_failed_count or 0


def test_wrong_pin_says_the_tries_left_and_a_non_numeric_pin_counts_no_try(client, net, card_token):
    member = net.members_a[0]
    _require_pin(net, member)
    url = f"/c/{card_token}"
    first = client.get(url).get_data(as_text=True)
    assert "Masukkan PIN Anda" in first and "4–6 angka" in first
    for pin in ("abcd", "", "   ", "12", "1234567", "12a4"):
        refused = _post_pin(client, url, pin)
        html = refused.get_data(as_text=True)
        assert refused.status_code == 400, pin
        assert NOT_NUMERIC in html and 'name="pin"' in html and "PIN salah" not in html, pin
        assert _failed(member) == 0, pin
    for left in range(PIN_MAX_TRIES - 1, 0, -1):
        wrong = _post_pin(client, url, "0000")
        assert wrong.status_code == 401
        assert (f"PIN salah. Sisa percobaan sebelum halaman ini dikunci sementara: {left} kali."
                in wrong.get_data(as_text=True))
    assert _failed(member) == PIN_MAX_TRIES - 1
    locked = _post_pin(client, url, "0000")
    html = locked.get_data(as_text=True)
    assert locked.status_code == 429
    assert f'<h1 id="pin-heading">{LOCKED_HEADING}</h1>' in html and 'name="pin"' not in html
    assert "Masukkan PIN Anda" not in html
    db.session.expire_all()
    until = member.pin_locked_until.astimezone(WIB)
    # Locked past local midnight (a run after 23.45 WIB), the page names the day too.
    shown = f"{until:%H.%M}" if until.date() == datetime.now(WIB).date() else f"{until:%d-%m-%Y %H.%M}"
    assert (f"Terlalu sering salah PIN, jadi halaman ini dikunci sampai {shown} WIB. Setelah itu "
            "Anda bisa mencoba lagi") in html
    # While locked: the page opens on the locked screen; a PIN posted from an old page is
    # refused (the right one too) and counts nothing.
    reopened = client.get(url)
    assert reopened.status_code == 200 and LOCKED_HEADING in reopened.get_data(as_text=True)
    assert 'name="pin"' not in reopened.get_data(as_text=True)
    for pin in ("abcd", "4321", "0000"):
        late = client.post(url, data={"csrf_token": csrf_token(first), "pin": pin})
        assert late.status_code == 429 and LOCKED_HEADING in late.get_data(as_text=True)
    assert _failed(member) == PIN_MAX_TRIES


def test_the_growing_lockout_is_unchanged_through_the_page(client, net, card_token):
    """Five numeric wrong PINs lock for 15 minutes, the next five for 30; a non-numeric PIN in
    between changes nothing; the right PIN afterwards opens the page and resets the count."""
    member = net.members_a[0]
    _require_pin(net, member)
    url = f"/c/{card_token}"
    moment = datetime(2026, 3, 1, 8, 0, tzinfo=timezone.utc)
    for minutes in (15, 30):
        with clock_at(moment):
            for i in range(PIN_MAX_TRIES):
                assert _post_pin(client, url, "abcd").status_code == 400
                assert _post_pin(client, url, "0000").status_code == (429 if i == PIN_MAX_TRIES - 1 else 401)
        db.session.expire_all()
        assert member.pin_locked_until == moment + timedelta(minutes=minutes)
        moment = member.pin_locked_until + timedelta(seconds=1)
    with clock_at(moment):
        assert _post_pin(client, url, "4321").status_code == 302
    assert _failed(member) == 0


def test_a_lockout_ending_on_a_later_day_names_the_day(client, net, card_token):
    member = net.members_a[0]
    _require_pin(net, member)
    member.pin_failed_count = PIN_MAX_TRIES * 8
    member.pin_locked_until = utcnow() + timedelta(days=1)
    db.session.commit()
    html = client.get(f"/c/{card_token}").get_data(as_text=True)
    until = member.pin_locked_until.astimezone(WIB)
    assert f"dikunci sampai {until:%d-%m-%Y %H.%M} WIB" in html


def test_no_pin_set_has_its_own_heading(client, net, card_token):
    net.unit_a.require_pin = True
    db.session.commit()
    html = client.get(f"/c/{card_token}").get_data(as_text=True)
    assert '<h1 id="pin-heading">PIN belum dibuat</h1>' in html and 'name="pin"' not in html


# --- 4. receipt checks --------------------------------------------------------------------------


def test_receipt_checks_say_deposit_or_withdrawal_and_what_a_void_means(client, net):
    member, manager = net.members_a[0], net.users["mgr_a"]
    now = datetime.now(WIB)
    dep = deposit(net.unit_a, member, [("PET-CLEAN", "2")], now - timedelta(minutes=30))
    out = withdraw(net.unit_a, member, 1000, now - timedelta(minutes=20), manager)
    db.session.commit()
    page = client.get(_receipt_path(verify_url(dep.receipt_no)))
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Struk asli" in html and "Setoran tercatat di bank sampah kami." in html
    assert "<dt>Total setoran</dt>" in html and "Rp 6.500" in html and "BATAL" not in html
    _assert_no_way_to_the_login(html)
    page = client.get(_receipt_path(withdrawal_verify_url(out.receipt_no)))
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Penarikan tercatat di bank sampah kami." in html
    assert "<dt>Jumlah ditarik</dt>" in html and "Rp 1.000" in html and "BATAL" not in html
    _assert_no_way_to_the_login(html)

    void(out, now - timedelta(minutes=10), manager)
    void(dep, now - timedelta(minutes=5), manager)
    db.session.commit()
    html = client.get(_receipt_path(withdrawal_verify_url(out.receipt_no))).get_data(as_text=True)
    assert "BATAL — Penarikan ini sudah dibatalkan; uangnya dikembalikan ke tabungan." in _text(html)
    html = client.get(_receipt_path(verify_url(dep.receipt_no))).get_data(as_text=True)
    assert "BATAL — Setoran ini sudah dibatalkan; nilainya ditarik kembali dari tabungan." in _text(html)
