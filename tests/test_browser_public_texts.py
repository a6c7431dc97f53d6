"""The public pages' texts in Chromium on a resident's phone (390×844) and a tablet (800×1280)
(tests/test_public_pages_texts.py has the rules): a bad card link, a revoked card, a failed
receipt check, the receipt checks (voided), the PIN screens (wrong, non-numeric, locked), a
statement date that cannot be used and the unit page's figures. On every screen: the
Indonesian text, no link to the operator login, nothing scrolling sideways, tap targets of at
least 44×44 px. Screenshots ``test-artifacts/public-texts-<screen>-<w>x<h>.png``."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from wastebank.counter.receipts import verify_url, withdrawal_verify_url
from wastebank.extensions import db
from wastebank.models import Member
from wastebank.services.members import issue_card, live_card, set_pin

from .report_helpers import deposit, void, withdraw
from .test_browser import browser, expect, sized_context  # noqa: F401  (browser is a fixture)
from .test_browser_screens import _check
from .test_browser_unit_page import with_figures  # noqa: F401  (fixture)

pytestmark = pytest.mark.browser

WIB = timezone(timedelta(hours=7))
SIZES = [(390, 844), (800, 1280)]


def _no_login_link(page) -> list[str]:
    """Links on the page that lead to the operator login (``/``, ``/login``, ``/counter``)."""
    hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))")
    return [f"{page.url}: link {h}" for h in hrefs if h in ("/", "/login", "/counter") or h.startswith("/login")]


def _pin_rule(member_id: int, required: bool, pin: str) -> None:
    """The unit's PIN rule and the member's PIN (an empty one clears it and any lockout)."""
    member = db.session.get(Member, member_id)
    member.unit.require_pin = required
    set_pin(member, pin)
    db.session.commit()


def test_public_texts_fit_a_phone_and_a_tablet(browser, with_figures, net):
    member, other, manager = net.members_a[0], net.members_a[1], net.users["mgr_a"]
    now = datetime.now(WIB)
    dep = deposit(net.unit_a, member, [("PET-CLEAN", "2")], now - timedelta(minutes=40))
    out = withdraw(net.unit_a, member, 1000, now - timedelta(minutes=30), manager)
    void(out, now - timedelta(minutes=20), manager)
    void(dep, now - timedelta(minutes=10), manager)
    revoked = (live_card(other) or issue_card(other)).token
    issue_card(other)
    token = (live_card(member) or issue_card(member)).token
    member_id = member.id
    db.session.commit()
    deposit_check = verify_url(dep.receipt_no).split("://", 1)[1].split("/", 1)[1]
    withdrawal_check = withdrawal_verify_url(out.receipt_no).split("://", 1)[1].split("/", 1)[1]

    problems: list[str] = []
    for width, height in SIZES:
        context = sized_context(browser, with_figures, width, height)
        page = context.new_page()

        def screen(name: str, path: str | None, status: int | None, *texts: str) -> None:
            if path is not None:
                response = page.goto(path)
                assert response.status == status, (path, response.status)
            for text in texts:
                expect(page.get_by_text(text, exact=False).first).to_be_visible()
            problems.extend(_check(page, name, width, height, prefix="public-texts"))
            problems.extend(_no_login_link(page))

        screen("card-unknown", "/c/not-a-real-token-at-all-xxxxxxxx", 404, "Tautan kartu tidak berlaku",
               "Tautan kartu ini tidak berlaku lagi. Minta kartu baru di unit bank sampah Anda.")
        screen("card-revoked", f"/c/{revoked}", 410, "Kartu tidak berlaku.",
               "Pakai kartu terbaru Anda, atau minta kartu baru di unit bank sampah Anda.")
        screen("receipt-unknown", f"/r/{dep.receipt_no}/0000000000000000", 404, "Struk tidak dikenal",
               "Periksa kembali kode pada struk; jika tetap tidak cocok, struk ini mungkin bukan dari "
               "bank sampah kami — tanyakan ke petugas.")
        screen("receipt-deposit-void", f"/{deposit_check}", 200, "Setoran tercatat di bank sampah kami.",
               "Setoran ini sudah dibatalkan; nilainya ditarik kembali dari tabungan.", "Total setoran")
        screen("receipt-withdrawal-void", f"/{withdrawal_check}", 200, "Penarikan tercatat di bank sampah kami.",
               "Penarikan ini sudah dibatalkan; uangnya dikembalikan ke tabungan.", "Jumlah ditarik")

        # The statement: 01-01-1900 typed into "Dari" → the card page, the message under it.
        page.goto(f"/c/{token}")
        page.fill("#start", "1900-01-01")
        page.fill("#end", "2026-01-31")
        page.click("form[action$='statement.pdf'] button[type=submit]")
        expect(page.locator("#start-error")).to_contain_text("Tanggal ini tidak bisa dipakai. Pilih tanggal sejak "
                                                             "Anda terdaftar")
        expect(page.locator("#start")).to_have_value("1900-01-01")
        expect(page.locator("#end")).to_have_value("2026-01-31")
        expect(page.locator("#balance")).to_be_visible()
        screen("statement-bad-day", None, None)

        # The PIN screens (this size's own lockout: reset first).
        _pin_rule(member_id, True, "4321")
        page.goto(f"/c/{token}")
        page.fill("#pin", "abcd")
        page.click("main button[type=submit]")
        screen("pin-not-numeric", None, None, "PIN hanya angka, 4–6 angka.")
        for left in (4, 3, 2, 1):
            page.fill("#pin", "0000")
            page.click("main button[type=submit]")
            expect(page.locator("#pin-error")).to_have_text(
                f"PIN salah. Sisa percobaan sebelum halaman ini dikunci sementara: {left} kali.")
        screen("pin-wrong", None, None)
        page.fill("#pin", "0000")
        page.click("main button[type=submit]")
        expect(page.locator("#pin-heading")).to_have_text("PIN dikunci sementara")
        expect(page.locator("#pin-error")).to_contain_text("Terlalu sering salah PIN, jadi halaman ini dikunci sampai")
        expect(page.locator("#pin")).to_have_count(0)
        screen("pin-locked", None, None)
        _pin_rule(member_id, False, "")  # clears the lockout for the next size

        # The unit page: each figure on one line, at this size and with a long one.
        page.goto("/u/RW05")
        figures = page.locator("#month .unit-figure strong")
        expect(page.locator("#month .returned")).to_have_text("Rp 57.250")
        page.evaluate("""() => { const y = document.querySelector('#year .returned');
                                 y.textContent = 'Rp 99.999.999'; }""")
        lines = page.evaluate("""() => [...document.querySelectorAll('.unit-figure strong')].map(e => {
            const range = document.createRange(); range.selectNodeContents(e);
            const rects = [...range.getClientRects()].filter(r => r.width > 0);
            const box = e.parentElement.getBoundingClientRect(), own = e.getBoundingClientRect();
            return [e.textContent, new Set(rects.map(r => Math.round(r.top))).size,
                    own.right <= box.right + 0.5 && own.left >= box.left - 0.5]; })""")
        for text, line_count, inside in lines:
            assert line_count == 1 and inside, (width, text, line_count, inside)
        assert figures.count() >= 4
        screen("unit", None, None)
        context.close()
    assert problems == [], "\n".join(problems)
