"""The withdrawal pages in Chromium at 800×1280 and 1280×800, as the tester walked them
(operator op_a and unit manager mgr_a at RW05): an open request named on the entry and review
pages, the pending page saying what to do, the approvals list marking the member and its two
buttons one width, a refused approval landing on the withdrawal page with what is held, a
reload of the receipt saying it was recorded once, a save refused after another tablet paid
saying the balance now, and a void's who/when/why. No sideways scroll, targets >= 44 px;
screenshots ``test-artifacts/withdrawal-pages-*``. Rows counted in the database."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from wastebank.extensions import db
from wastebank.models import Member, Unit, Withdrawal
from wastebank.services.deposits import LineInput, record_deposit
from wastebank.services.ledger import member_savings_account
from wastebank.services.transaction import run_in_transaction
from wastebank.services.withdrawals import WithdrawalInput, record_withdrawal

from .test_browser import browser, operator_tablet, sync_api  # noqa: F401  (browser is a fixture)
from .test_browser_screens import _check

pytestmark = pytest.mark.browser
expect = sync_api.expect

SIZES = [(800, 1280), (1280, 800)]


def _unit() -> Unit:
    return db.session.scalars(select(Unit).where(Unit.code == "RW05")).one()


def _member(member_no: str) -> Member:
    return db.session.scalars(select(Member).where(Member.member_no == member_no)).one()


def _deposit(member_no: str, kilos: str, key: str) -> None:
    """CARDBOARD at Rp 2.000/kg."""
    unit, member = _unit(), _member(member_no)
    run_in_transaction(lambda: record_deposit(unit, member, [LineInput("CARDBOARD", kilos)],
                                              operator_id=None, idempotency_key=key))
    db.session.close()


def _withdraw(net, member_no: str, amount: int, key: str) -> dict:
    """What another tablet saves meanwhile (op_a through the service)."""
    unit, member = _unit(), _member(member_no)
    outcome = run_in_transaction(lambda: record_withdrawal(unit, member, WithdrawalInput("cash", amount),
                                                           user=net.users["op_a"], idempotency_key=key))
    db.session.close()
    return {**outcome.body, "http": outcome.status}


def _savings(member_no: str) -> tuple[int, int]:
    account = member_savings_account(_member(member_no))
    value = (account.balance, account.held)
    db.session.close()
    return value


def _rows(member_no: str) -> list[tuple[int, str]]:
    member = _member(member_no)
    rows = [(w.amount_idr, w.status) for w in db.session.scalars(
        select(Withdrawal).where(Withdrawal.member_id == member.id).order_by(Withdrawal.id))]
    db.session.close()
    return rows


def _widths(page, row_id: int) -> list[float]:
    return page.evaluate("""(id) => [...document.querySelectorAll(`tr[data-id="${id}"] .actions-grid button`)]
                              .map((b) => b.getBoundingClientRect().width)""", row_id)


def test_withdrawal_pages_on_the_tablet(browser, live_server, net):
    unit = _unit()
    unit.approval_threshold_idr = 5000  # above it an operator's request waits for a unit manager
    db.session.commit()
    db.session.close()
    problems: list[str] = []
    for index, (width, height) in enumerate(SIZES):
        shot = f"{width}x{height}"
        member_no = net.members_a[index].member_no
        _deposit(member_no, "10", f"dep-wdpb-{index}")  # Rp 20.000
        first = _withdraw(net, member_no, 15000, f"wd-wdpb-p1-{index}")
        assert first["http"] == 202

        # The operator asks 15.000 again: the entry and the review name the open request.
        context, page = operator_tablet(browser, live_server, width, height)
        page.goto(f"/counter/member/{member_no}/withdraw")
        expect(page.locator("#open-requests")).to_contain_text(
            "Nasabah ini sudah punya permintaan penarikan lain yang belum dibayar (1, seluruhnya Rp 15.000)")
        page.fill("#amount", "15.000")
        page.click("#review")
        expect(page.locator("#open-requests li")).to_contain_text("Rp 15.000 · Menunggu persetujuan")
        expect(page.locator("#open-requests-short")).to_contain_text(
            "Tidak cukup untuk semuanya: tabungan kurang Rp 10.000 untuk membayar semua permintaan itu dan yang ini.")
        expect(page.locator("table.confirm")).to_contain_text("Saldo saat diperiksa")
        problems += _check(page, "review-open-request", width, height, prefix="withdrawal-pages")
        page.wait_for_function("() => document.documentElement.dataset.counterReady === '1'")
        page.click("#save")
        page.wait_for_url(re.compile(r"/counter/withdrawal/\d+$"), timeout=20_000)
        second_id = int(page.url.rsplit("/", 1)[1])
        expect(page.locator("#next-step")).to_contain_text("Jangan serahkan uang dulu.")
        expect(page.locator("#next-step")).to_contain_text("Minta pengurus unit menyetujui penarikan ini.")
        problems += _check(page, "pending", width, height, prefix="withdrawal-pages")
        assert _rows(member_no) == [(15000, "pending"), (15000, "pending")]
        context.close()

        # The manager: both rows marked; Setujui and Tolak one width; the second approval refused.
        context, page = operator_tablet(browser, live_server, width, height, username="mgr_a")
        page.goto("/counter/withdrawals")
        marks = page.locator(f".several[data-member='{member_no}']")
        expect(marks).to_have_count(2)
        expect(marks.first).to_contain_text("2 permintaan terbuka nasabah ini, seluruhnya Rp 30.000")
        for row_id in (first["id"], second_id):
            approve, reject = _widths(page, row_id)
            assert abs(approve - reject) < 1, (shot, approve, reject)
        problems += _check(page, "list-two-requests", width, height, prefix="withdrawal-pages")
        page.locator(f"tr[data-id='{first['id']}'] button", has_text="Setujui").click()
        page.wait_for_url("**/counter/withdrawals")
        page.locator(f"tr[data-id='{second_id}'] button", has_text="Setujui").click()
        page.wait_for_url(re.compile(rf"/counter/withdrawal/{second_id}$"))
        expect(page.locator("p.flash.error")).to_have_text(
            "Tabungan tidak cukup: saldo Rp 20.000, dan Rp 15.000 sudah ditahan untuk penarikan lain; "
            "yang dapat ditarik Rp 5.000.")
        expect(page.locator("#withdrawal-available")).to_have_text("Rp 5.000")
        problems += _check(page, "approve-refused", width, height, prefix="withdrawal-pages")
        page.click("#reject")
        page.wait_for_url(re.compile(rf"/counter/withdrawal/{second_id}$"))
        page.goto(f"/counter/withdrawal/{first['id']}")
        expect(page.locator("#next-step")).to_contain_text('Tekan "Bayarkan" di sini')
        page.click("#pay")
        page.wait_for_url(re.compile(rf"/counter/withdrawal/{first['id']}$"))
        assert _savings(member_no) == (5000, 0)
        context.close()

        # The operator pays 2.000; reloading the receipt says it was recorded once.
        context, page = operator_tablet(browser, live_server, width, height)
        page.goto(f"/counter/member/{member_no}/withdraw")
        page.fill("#amount", "2.000")
        page.click("#review")
        page.wait_for_function("() => document.documentElement.dataset.counterReady === '1'")
        page.click("#save")
        page.wait_for_url(re.compile(r"/counter/withdrawal/\d+\?new=1$"), timeout=20_000)
        expect(page.locator("#already-saved")).to_have_count(0)
        page.reload()
        expect(page.locator("#already-saved")).to_contain_text(
            "Sudah tersimpan. Penarikan ini sudah tercatat sekali, pada")
        expect(page.locator("#already-saved")).to_contain_text(
            "tidak disimpan lagi. Serahkan uangnya sekali saja: jika sudah diserahkan, jangan serahkan lagi.")
        problems += _check(page, "already-saved", width, height, prefix="withdrawal-pages")

        # The full balance reviewed, another tablet pays it, then Save: the balance now.
        page.goto(f"/counter/member/{member_no}/withdraw")
        page.fill("#amount", "3.000")  # under the threshold: paid at once
        page.click("#review")
        expect(page.locator("#confirm-balance-before")).to_have_text("Rp 3.000")
        assert _withdraw(net, member_no, 3000, f"wd-wdpb-other-{index}")["http"] == 201
        page.wait_for_function("() => document.documentElement.dataset.counterReady === '1'")
        page.click("#save")
        expect(page.locator("#withdraw-result")).to_contain_text(
            "Saldo sudah berubah (sekarang Rp 0) karena penarikan lain atau pembatalan", timeout=20_000)
        problems += _check(page, "save-refused-balance-changed", width, height, prefix="withdrawal-pages")
        context.close()
        assert _savings(member_no) == (0, 0)
        assert _rows(member_no) == [(15000, "paid"), (15000, "rejected"), (2000, "paid"), (3000, "paid")]

        # The manager voids the 2.000; the page and the void page opened again say who, when, why.
        context, page = operator_tablet(browser, live_server, width, height, username="mgr_a")
        paid_id = db.session.scalar(select(func.max(Withdrawal.id)).where(
            Withdrawal.member_id == _member(member_no).id, Withdrawal.amount_idr == 2000))
        db.session.close()
        page.goto(f"/counter/withdrawal/{paid_id}/void")
        page.fill("#reason", "salah nasabah")
        page.click("#confirm-void")
        page.wait_for_url(re.compile(rf"/counter/withdrawal/{paid_id}$"))
        expect(page.locator("#void-mark")).to_contain_text("BATAL · Dibatalkan oleh")
        expect(page.locator("#void-mark")).to_contain_text("WIB. Alasan: salah nasabah")
        expect(page.locator("#status")).to_have_text("Sudah dibayar, lalu dibatalkan")
        problems += _check(page, "voided", width, height, prefix="withdrawal-pages")
        page.goto(f"/counter/withdrawal/{paid_id}/void")
        expect(page.get_by_text("Ini sudah dibatalkan.")).to_be_visible()
        expect(page.locator("#void-reason")).to_have_text("salah nasabah")
        expect(page.locator("#void-at")).to_contain_text("WIB")
        expect(page.locator("#void-amount")).to_have_count(0)
        problems += _check(page, "void-again", width, height, prefix="withdrawal-pages")
        context.close()
        assert _savings(member_no) == (2000, 0)
    assert problems == [], "\n".join(problems)
