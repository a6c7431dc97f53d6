"""Issue 8 item 7: receipts as operators expect.

Only the first view of a receipt, right after saving, is the original (the server records it
in ``receipt_shown_at``); every later view, reload and PDF prints SALINAN; a withdrawal slip
ends with signature lines for the member and the operator; a WhatsApp share link; a warning
when the public base URL is a loopback address outside development.
"""
from __future__ import annotations

import io
import logging
import re
import threading
from datetime import timedelta
from urllib.parse import parse_qs, unquote, urlsplit

import pypdf
import pytest

from wastebank import create_app, is_loopback_url
from wastebank.counter.views import original_token, verify_url, whatsapp_share_url
from wastebank.counter.withdrawals import withdrawal_verify_url
from wastebank.extensions import db
from wastebank.models import Deposit, Withdrawal
from wastebank.models.types import clock_at, utcnow
from wastebank.services.deposits import LineInput, record_deposit
from wastebank.services.transaction import run_in_transaction
from wastebank.services.withdrawals import WithdrawalInput, record_withdrawal

from .conftest import RequestIsolatingClient, csrf_token
from .factories import PASSWORD


# --- helpers ---------------------------------------------------------------------------------


def make_deposit(net, member, kilos="5", key="orig-dep-1") -> Deposit:
    """A CARDBOARD deposit through the service (RW05: 5 kg → Rp 10.000), not yet shown."""
    outcome = run_in_transaction(lambda: record_deposit(net.unit_a, member, [LineInput("CARDBOARD", kilos)],
                                                        operator_id=net.users["op_a"].id, idempotency_key=key))
    return db.session.get(Deposit, outcome.body["id"])


def make_withdrawal(net, member, amount="4000", key="orig-wd-1") -> Withdrawal:
    outcome = run_in_transaction(lambda: record_withdrawal(
        net.unit_a, member, WithdrawalInput("cash", amount), user=net.users["op_a"], idempotency_key=key))
    assert outcome.status == 201, outcome.body
    return db.session.get(Withdrawal, outcome.body["id"])


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages)


def kind(html: str) -> str:
    match = re.search(r'id="receipt-kind" data-kind="(\w+)"', html)
    assert match, html[:2000]
    return match.group(1)


def link(html: str, element_id: str) -> str:
    match = re.search(rf'id="{element_id}"[^>]*href="([^"]+)"', html)
    assert match, f"no #{element_id}"
    return match.group(1).replace("&amp;", "&")


def shown_at(model, record_id):
    db.session.expire_all()
    return db.session.get(model, record_id).receipt_shown_at


# --- deposit: original once, then SALINAN ----------------------------------------------------


def test_deposit_first_view_is_original_then_every_view_and_pdf_is_salinan(net, client, login):
    member = net.members_a[0]
    dep = make_deposit(net, member)
    assert dep.receipt_shown_at is None
    login("op_a")
    first = client.get(f"/counter/receipt/{dep.receipt_no}?new=1")
    html = first.get_data(as_text=True)
    assert first.status_code == 200 and first.headers["Cache-Control"] == "no-store"
    assert kind(html) == "original" and "<strong>Asli</strong>" in html
    assert shown_at(Deposit, dep.id) is not None
    roll, a6 = link(html, "print-roll"), link(html, "print-a6")
    assert "t=" in roll and "t=" in a6
    # The first view's print links print the original, as often as the printer needs.
    for url in (roll, roll, a6):
        text = pdf_text(client.get(url).data)
        assert dep.receipt_no in text and "Rp 10.000" in text and "SALINAN" not in text
    # A reload (even with new=1 again) is a copy, and so are its print links.
    again = client.get(f"/counter/receipt/{dep.receipt_no}?new=1").get_data(as_text=True)
    assert kind(again) == "copy" and "<strong>SALINAN</strong>" in again and "Asli" not in again
    assert "Tersimpan. Rp 10.000 masuk tabungan." in html and "Tersimpan. Rp" not in again
    assert "t=" not in link(again, "print-roll")
    assert "SALINAN" in pdf_text(client.get(link(again, "print-roll")).data)
    assert "SALINAN" in pdf_text(client.get(link(again, "print-a6")).data)
    # Any PDF without the first view's token, or with copy=1, is SALINAN.
    assert "SALINAN" in pdf_text(client.get(f"/counter/receipt/{dep.receipt_no}.pdf").data)
    assert "SALINAN" in pdf_text(client.get(f"/counter/receipt/{dep.receipt_no}.pdf?size=A6").data)
    assert "SALINAN" in pdf_text(client.get(roll + "&copy=1").data)
    assert "SALINAN" in pdf_text(client.get(f"/counter/receipt/{dep.receipt_no}.pdf?t=forged").data)


def test_token_is_only_for_its_receipt_and_expires_after_15_minutes(net, client, login, monkeypatch):
    member = net.members_a[0]
    first, second = make_deposit(net, member, key="orig-first"), make_deposit(net, member, key="orig-second")
    login("op_a")
    html = client.get(f"/counter/receipt/{first.receipt_no}?new=1").get_data(as_text=True)
    token = parse_qs(urlsplit(link(html, "print-roll")).query)["t"][0]
    # The token of the first receipt does not print the second one as an original ...
    assert "SALINAN" in pdf_text(client.get(f"/counter/receipt/{second.receipt_no}.pdf?t={token}").data)
    # ... nor a withdrawal with the same number, nor the deposit itself 16 minutes later.
    assert token != original_token("w", first.receipt_no)
    assert "SALINAN" not in pdf_text(client.get(f"/counter/receipt/{first.receipt_no}.pdf?t={token}").data)
    import itsdangerous.timed

    later = itsdangerous.timed.time.time() + 16 * 60
    monkeypatch.setattr(itsdangerous.timed.time, "time", lambda: later)
    assert "SALINAN" in pdf_text(client.get(f"/counter/receipt/{first.receipt_no}.pdf?t={token}").data)


def test_receipt_first_opened_later_from_the_member_page_is_salinan(net, client, login):
    member = net.members_a[0]
    with clock_at(utcnow() - timedelta(minutes=20)):  # saved 20 minutes ago, e.g. by the outbox
        dep = make_deposit(net, member, key="orig-late")
    login("op_a")
    member_page = client.get(f"/counter/member/{member.member_no}").get_data(as_text=True)
    assert f"/counter/receipt/{dep.receipt_no}" in member_page
    html = client.get(f"/counter/receipt/{dep.receipt_no}").get_data(as_text=True)
    assert kind(html) == "copy" and "t=" not in link(html, "print-roll")
    assert shown_at(Deposit, dep.id) is not None
    assert "SALINAN" in pdf_text(client.get(link(html, "print-roll")).data)


def test_voided_receipt_prints_batal(net, client, login):
    member = net.members_a[0]
    dep = make_deposit(net, member, key="orig-void")
    login("mgr_a")
    html = client.get(f"/counter/receipt/{dep.receipt_no}?new=1").get_data(as_text=True)
    roll = link(html, "print-roll")
    page = client.get(f"/counter/receipt/{dep.receipt_no}/void").get_data(as_text=True)
    key = re.search(r'name="idempotency_key" type="hidden" value="([0-9a-f]+)"', page).group(1)
    done = client.post(f"/counter/receipt/{dep.receipt_no}/void",
                       data={"csrf_token": csrf_token(page), "idempotency_key": key, "reason": "salah timbang"})
    assert done.status_code == 302
    # Even the original's own link now prints BATAL; a reprint is BATAL and SALINAN.
    assert "BATAL" in pdf_text(client.get(roll).data)
    after = client.get(f"/counter/receipt/{dep.receipt_no}").get_data(as_text=True)
    assert 'id="void-mark"' in after and kind(after) == "copy" and 'id="share-whatsapp"' not in after
    text = pdf_text(client.get(link(after, "print-roll")).data)
    assert "BATAL" in text and "SALINAN" in text


class _HttpsClient(RequestIsolatingClient):
    """Requests over HTTPS: production answers plain HTTP with a redirect (docs/security.md),
    and Flask-WTF's CSRF check over HTTPS wants a same-origin Referer, as a browser sends."""

    def open(self, *args, **kwargs):
        kwargs.setdefault("base_url", "https://localhost")
        kwargs.setdefault("headers", {}).setdefault("Referer", "https://localhost/")
        return super().open(*args, **kwargs)


def _logged_in_client(app, username="op_a"):
    app.test_client_class = _HttpsClient if app.config.get("FORCE_HTTPS") else RequestIsolatingClient
    other = app.test_client()
    page = other.get("/login")
    response = other.post("/login", data={"username": username, "password": PASSWORD,
                                          "csrf_token": csrf_token(page.get_data(as_text=True))})
    assert response.status_code == 302
    return other


@pytest.mark.parametrize("what", ["deposit", "withdrawal"])
def test_two_concurrent_first_views_get_one_original(app, net, what):
    member = net.members_a[0]
    if what == "deposit":
        record = make_deposit(net, member, key="orig-race")
        url = f"/counter/receipt/{record.receipt_no}?new=1"
    else:
        make_deposit(net, member, key="orig-race-dep")
        record = make_withdrawal(net, member, key="orig-race-wd")
        url = f"/counter/withdrawal/{record.id}?new=1"
    tabs = [_logged_in_client(app), _logged_in_client(app)]
    db.session.commit()
    db.session.close()  # SQLite: hold no lock while the two requests race
    barrier = threading.Barrier(len(tabs))
    kinds: list[str] = []
    errors: list[BaseException] = []

    def view(tab):
        try:
            barrier.wait(timeout=10)
            response = tab.get(url)
            assert response.status_code == 200, response.status_code
            kinds.append(kind(response.get_data(as_text=True)))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=view, args=(tab,)) for tab in tabs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors
    assert sorted(kinds) == ["copy", "original"]


# --- withdrawal: original once, signature lines ----------------------------------------------


def test_withdrawal_first_view_original_then_salinan(net, client, login):
    member = net.members_a[0]
    make_deposit(net, member, key="orig-wd-dep")
    wd = make_withdrawal(net, member)
    login("op_a")
    first = client.get(f"/counter/withdrawal/{wd.id}?new=1")
    html = first.get_data(as_text=True)
    assert first.headers["Cache-Control"] == "no-store"
    assert kind(html) == "original" and "<strong>Asli</strong>" in html
    assert "SALINAN" not in pdf_text(client.get(link(html, "print-roll")).data)
    assert "SALINAN" not in pdf_text(client.get(link(html, "print-a6")).data)
    again = client.get(f"/counter/withdrawal/{wd.id}?new=1").get_data(as_text=True)
    assert kind(again) == "copy" and "<strong>SALINAN</strong>" in again
    # "Pay out Rp 4.000" only once: a reload must not look like a second payment to make.
    assert "Tersimpan. Bayarkan Rp 4.000." in html and "Tersimpan. Bayarkan" not in again
    assert "SALINAN" in pdf_text(client.get(link(again, "print-roll")).data)
    assert "SALINAN" in pdf_text(client.get(f"/counter/withdrawal/{wd.id}.pdf?size=A6").data)


def test_pending_withdrawal_page_claims_nothing(net, client, login):
    member = net.members_a[0]
    make_deposit(net, member, "50", key="orig-big-dep")  # Rp 100.000
    net.unit_a.approval_threshold_idr = 50000
    db.session.commit()
    outcome = run_in_transaction(lambda: record_withdrawal(
        net.unit_a, member, WithdrawalInput("cash", "60000"), user=net.users["op_a"], idempotency_key="orig-pend"))
    assert outcome.status == 202
    login("op_a")
    html = client.get(f"/counter/withdrawal/{outcome.body['id']}").get_data(as_text=True)
    assert 'id="receipt-kind"' not in html and 'id="share-whatsapp"' not in html
    assert shown_at(Withdrawal, outcome.body["id"]) is None


@pytest.mark.parametrize("width", [58, 80, "A6"])
def test_withdrawal_slip_ends_with_member_and_operator_signatures(net, client, login, width):
    member = net.members_a[0]
    make_deposit(net, member, key=f"orig-sig-dep-{width}")
    wd = make_withdrawal(net, member, key=f"orig-sig-wd-{width}")
    if width != "A6":
        net.unit_a.receipt_width_mm = width
        db.session.commit()
    login("op_a")
    size = "A6" if width == "A6" else "roll"
    data = client.get(f"/counter/withdrawal/{wd.id}.pdf?size={size}").data
    page = pypdf.PdfReader(io.BytesIO(data)).pages[0]
    expected = 105 if width == "A6" else width
    assert abs(float(page.mediabox.width) - expected / 25.4 * 72) < 0.5
    text = pdf_text(data)
    # After the QR's verification URL: the two signature blocks with the names under them.
    tail = text[text.index("Pindai kode QR"):]
    operator = net.users["op_a"].display_name
    assert "Nasabah" in tail and "Petugas" in tail
    assert tail.index("Nasabah") < tail.index("Petugas")
    flat = " ".join(tail.split())
    assert " ".join(member.name.split()) in flat and operator in flat
    assert flat.index("Petugas") < flat.index(operator)


def test_deposit_receipt_has_no_signature_lines(net, client, login):
    dep = make_deposit(net, net.members_a[0], key="orig-nosig")
    login("op_a")
    text = pdf_text(client.get(f"/counter/receipt/{dep.receipt_no}.pdf").data)
    assert "Nasabah" in text and "Nasabah" not in text[text.index("Pindai kode QR"):]


# --- WhatsApp --------------------------------------------------------------------------------


def test_whatsapp_share_url_text(app):
    with app.test_request_context("/"):
        url = whatsapp_share_url(title="Bukti setoran", unit_name="Bank Sampah Melati", receipt_no="RW05-2026-000007",
                                 when="29-11-2026 14.05 WIB",
                                 amounts=[("Total", 10500), ("Masuk tabungan", 9975), ("Saldo baru", 25000)],
                                 check_url="https://bank.example/r/RW05-2026-000007/0123456789abcdef")
        assert url.startswith("https://wa.me/?text=")
        assert unquote(url.split("?text=", 1)[1]) == (
            "Bank Sampah Melati\nBukti setoran RW05-2026-000007\n29-11-2026 14.05 WIB\n"
            "Total: Rp 10.500\nMasuk tabungan: Rp 9.975\nSaldo baru: Rp 25.000\n"
            "Periksa keaslian bukti: https://bank.example/r/RW05-2026-000007/0123456789abcdef")
        assert " " not in url and "\n" not in url
        with_phone = whatsapp_share_url(title="Bukti", unit_name="U", receipt_no="X", when="-", amounts=[],
                                        check_url="https://bank.example/r/X/y", phone="+6281234567890")
        assert with_phone.startswith("https://wa.me/6281234567890?text=")


def _share_text(html: str) -> tuple[str, str]:
    href = link(html, "share-whatsapp")
    target, _, text = href.partition("?text=")
    return target, unquote(text)


def test_receipt_pages_link_to_whatsapp(net, client, login):
    member, other = net.members_a[0], net.members_a[1]
    member.phone = "+6281234567890"
    other.phone = ""
    db.session.commit()
    dep = make_deposit(net, member, key="orig-wa-dep")
    plain = make_deposit(net, other, "1", key="orig-wa-plain")
    wd = make_withdrawal(net, member, key="orig-wa-wd")
    login("op_a")
    target, text = _share_text(client.get(f"/counter/receipt/{dep.receipt_no}").get_data(as_text=True))
    assert target == "https://wa.me/6281234567890"
    assert text.splitlines() == [net.unit_a.name, f"Bukti setoran {dep.receipt_no}",
                                 text.splitlines()[2], "Total: Rp 10.000", "Saldo baru: Rp 10.000",
                                 f"Periksa keaslian bukti: {verify_url(dep.receipt_no)}"]
    assert re.fullmatch(r"\d{2}-\d{2}-\d{4} \d{2}\.\d{2} \w+", text.splitlines()[2]), text
    target, text = _share_text(client.get(f"/counter/receipt/{plain.receipt_no}").get_data(as_text=True))
    assert target == "https://wa.me/" and f"Bukti setoran {plain.receipt_no}" in text
    target, text = _share_text(client.get(f"/counter/withdrawal/{wd.id}").get_data(as_text=True))
    assert target == "https://wa.me/6281234567890"
    assert text.splitlines()[1] == f"Bukti penarikan {wd.receipt_no}"
    assert "Nilai: Rp 4.000" in text.splitlines() and "Saldo baru: Rp 6.000" in text.splitlines()
    assert text.splitlines()[-1] == f"Periksa keaslian bukti: {withdrawal_verify_url(wd.receipt_no)}"


# --- public base URL on loopback -------------------------------------------------------------


@pytest.mark.parametrize("url, loopback", [
    ("http://127.0.0.1:5000", True), ("http://127.8.0.3", True), ("http://localhost:8000/", True),
    ("http://LOCALHOST", True), ("http://[::1]:5000", True), ("", True),
    ("https://bank.example", False), ("http://192.168.1.10:5000", False), ("https://128.0.0.1", False),
])
def test_is_loopback_url(url, loopback):
    assert is_loopback_url(url) is loopback


def _production(database_url, tmp_path, base_url):
    app = create_app("production", {"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "prod-test-key",
                                    "PUBLIC_BASE_URL": base_url, "SESSION_COOKIE_SECURE": False,
                                    "REMEMBER_COOKIE_SECURE": False, "RATELIMIT_ENABLED": False})
    app.instance_path = str(tmp_path / "instance-prod")
    return app


def test_loopback_public_url_warns_at_startup_and_on_admin_pages(net, database_url, tmp_path, caplog):
    db.session.commit()
    with caplog.at_level(logging.WARNING):
        prod = _production(database_url, tmp_path, "http://127.0.0.1:5000")
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING and "PUBLIC_BASE_URL" in r.getMessage()]
    assert len(warnings) == 1 and "127.0.0.1:5000" in warnings[0].getMessage()
    assert "point nowhere" in warnings[0].getMessage()
    assert prod.config["PUBLIC_BASE_URL_UNREACHABLE"] is True
    with prod.app_context():
        admin = _logged_in_client(prod, "admin")
        html = admin.get("/", follow_redirects=True).get_data(as_text=True)
        assert 'id="public-url-warning"' in html and "http://127.0.0.1:5000" in html
        assert "kode QR pada bukti dan kartu nasabah tidak akan mengarah ke mana pun" in html
        audit = admin.get("/manager/", follow_redirects=True).get_data(as_text=True)
        assert 'id="public-url-warning"' in audit
        operator = _logged_in_client(prod, "op_a")
        assert 'id="public-url-warning"' not in operator.get("/counter").get_data(as_text=True)
        db.session.remove()
        db.engine.dispose()


@pytest.mark.parametrize("config_name, base_url", [
    ("production", "https://bank.example"), ("development", "http://127.0.0.1:5000"),
    ("testing", "http://localhost:5000"),
])
def test_no_warning_for_a_public_url_or_in_development_and_testing(net, database_url, tmp_path, caplog,
                                                                    config_name, base_url):
    db.session.commit()
    overrides = {"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "k", "PUBLIC_BASE_URL": base_url,
                 "SESSION_COOKIE_SECURE": False, "REMEMBER_COOKIE_SECURE": False, "RATELIMIT_ENABLED": False}
    with caplog.at_level(logging.WARNING):
        other = create_app(config_name, overrides)
    assert not [r for r in caplog.records if "PUBLIC_BASE_URL" in r.getMessage()]
    assert other.config["PUBLIC_BASE_URL_UNREACHABLE"] is False
    with other.app_context():
        admin = _logged_in_client(other, "admin")
        assert 'id="public-url-warning"' not in admin.get("/", follow_redirects=True).get_data(as_text=True)
        db.session.remove()
        db.engine.dispose()


# --- in a real browser: tap targets, no overflow, screenshots --------------------------------


@pytest.mark.browser
def test_receipt_pages_in_the_browser(net, live_server):
    """The deposit and withdrawal receipt pages at 800×1280 (first view: Asli) and 1280×800
    (reload: SALINAN): nothing wider than the screen, every link and button in the page at
    least 44×44 px; screenshots in test-artifacts/receipt-*.png."""
    from pathlib import Path

    chromium = Path("/usr/bin/chromium")
    if not chromium.exists():
        pytest.skip("Debian's Chromium (/usr/bin/chromium) is not installed")
    sync_api = pytest.importorskip("playwright.sync_api")
    from wastebank.models import Member, Unit, User

    unit = db.session.get(Unit, net.unit_a.id)
    member = db.session.get(Member, net.members_a[0].id)
    member.phone = "+6281234567890"
    db.session.commit()
    lines = [LineInput("CARDBOARD", "5"), LineInput("PET-CLEAN", "1,5")]
    dep = run_in_transaction(lambda: record_deposit(unit, member, lines, operator_id=net.users["op_a"].id,
                                                    idempotency_key="orig-browser-dep"))
    wd = run_in_transaction(lambda: record_withdrawal(unit, member, WithdrawalInput("cash", "4000"),
                                                      user=db.session.get(User, net.users["op_a"].id),
                                                      idempotency_key="orig-browser-wd"))
    pages = {"deposit": f"/counter/receipt/{dep.body['receipt_no']}?new=1",
             "withdrawal": f"/counter/withdrawal/{wd.body['id']}?new=1"}
    db.session.commit()
    db.session.close()
    artifacts = Path(__file__).resolve().parents[1] / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run"]
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium), headless=True, args=args)
        try:
            context = browser.new_context(base_url=live_server, locale="id-ID", service_workers="block",
                                          viewport={"width": 800, "height": 1280}, has_touch=True)
            page = context.new_page()
            page.goto("/login")
            page.locator("#username").fill("op_a")
            page.locator("#password").fill(PASSWORD)
            page.locator("form button[type=submit].primary").click()
            page.wait_for_url("**/counter")
            for name, url in pages.items():
                for (width, height), expected in (((800, 1280), "Asli"), ((1280, 800), "SALINAN")):
                    page.set_viewport_size({"width": width, "height": height})
                    page.goto(url)
                    sync_api.expect(page.locator("#receipt-kind strong")).to_have_text(expected)
                    share = page.locator("#share-whatsapp")
                    sync_api.expect(share).to_have_text("Bagikan lewat WhatsApp")
                    assert share.get_attribute("href").startswith("https://wa.me/6281234567890?text=")
                    assert page.evaluate("document.documentElement.scrollWidth") <= width
                    small = page.evaluate("""() => [...document.querySelectorAll('main a, main button')]
                        .filter(e => e.offsetParent !== null)
                        .map(e => [e.id || e.textContent.trim(), e.getBoundingClientRect()])
                        .filter(([, r]) => r.width < 44 || r.height < 44)
                        .map(([what, r]) => `${what} ${Math.round(r.width)}x${Math.round(r.height)}`)""")
                    assert small == [], (name, width, small)
                    page.screenshot(path=str(artifacts / f"receipt-{name}-{width}x{height}.png"), full_page=True)
            context.close()
        finally:
            browser.close()
