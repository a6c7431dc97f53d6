"""The daily close on the cash book screen (found by a tester, cashbook fix 1):

* the close posts the difference the manager confirmed: the confirmation carries the expected
  cash she saw; a withdrawal paid between the check and "Tutup hari" makes the close refuse
  (nothing written) and show the check again with the new figures and the message;
* the day picker shows the cash book from every rendering of the page (after a check or an
  error the page lives at /manager/cashbook/close or /reopen, which take POST only);
* an empty cash box is counted as 0; a negative count says it cannot be less than zero.
"""
from __future__ import annotations

import json
import re
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from wastebank.extensions import db
from wastebank.models import AuditLog, DayClose, JournalEntry, User, clock_at
from wastebank.services.cashbook import CashMoved, close_day
from wastebank.services.deposits import LineInput, record_deposit
from wastebank.services.ledger import system_account, verify_ledger
from wastebank.services.sales import SaleLineInput, create_offtaker, record_sale
from wastebank.services.transaction import run_in_transaction
from wastebank.services.withdrawals import WithdrawalInput, record_withdrawal

from .conftest import csrf_token

WIB = ZoneInfo("Asia/Jakarta")
TODAY = datetime(2025, 4, 10, 15, 0, tzinfo=WIB)
DAY = "2025-04-10"


def _user(net, name) -> User:
    return db.session.get(User, net.users[name].id)


def _closes() -> int:
    count = db.session.scalar(select(func.count(DayClose.id)))
    db.session.rollback()  # end the read (SQLite takes the write lock on BEGIN)
    return count


def _cash_day(net) -> None:
    """RW05 today: 10 kg of cardboard deposited (Rp 20.000 savings), sold for Rp 30.000 cash:
    Rp 30.000 in the cash box."""
    unit, member, mgr = net.unit_a, net.members_a[0], _user(net, "mgr_a")
    run_in_transaction(lambda: record_deposit(unit, member, [LineInput("CARDBOARD", "10")],
                                              operator_id=net.users["op_a"].id, idempotency_key="cb-check-dep-1"))
    buyer = run_in_transaction(lambda: create_offtaker(unit, "CV Maju Daur", user=mgr))
    run_in_transaction(lambda: record_sale(unit, buyer, [SaleLineInput("CARDBOARD", "10", None, "3.000")], "cash",
                                           user=mgr, idempotency_key="cb-check-sale-1"))
    assert system_account(unit.id, "cash").balance == 30_000
    db.session.commit()


def _withdraw(net, amount: int, key: str) -> None:
    run_in_transaction(lambda: record_withdrawal(net.unit_a, net.members_a[0], WithdrawalInput("cash", amount),
                                                 user=_user(net, "op_a"), idempotency_key=key))


def _check(client, page: str, counted: str):
    return client.post("/manager/cashbook/close", data={"csrf_token": csrf_token(page), "step": "check",
                                                        "counted": counted, "business_date": DAY})


def _confirm_data(html: str) -> dict:
    """What the confirmation form posts, read from the page (hidden fields included)."""
    form = html.split('id="close-confirm"')[1].split("</form>")[0]
    fields = dict(re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', form))
    fields.update({name: value for value, name in re.findall(r'<input[^>]*value="([^"]*)"[^>]*name="([^"]+)"',
                                                             form)})
    return fields


def test_a_withdrawal_between_check_and_close_closes_nothing_then_the_new_figure_closes(net, client, login):
    unit = net.unit_a
    with clock_at(TODAY):
        _cash_day(net)
        login("mgr_a")
        page = client.get("/manager/cashbook").get_data(as_text=True)
        check = _check(client, page, "10.000")
        html = check.get_data(as_text=True)
        assert check.status_code == 200
        assert 'id="confirm-expected">Rp 30.000<' in html
        assert re.search(r'id="confirm-difference"><strong>-Rp 20.000</strong>', html)
        confirm = _confirm_data(html)
        assert confirm["expected"] == "30000" and confirm["counted"] == "10.000" and "step" not in confirm

        _withdraw(net, 5_000, "cb-check-wd-1")  # an operator pays out while she reads the figures
        moved = client.post("/manager/cashbook/close", data=confirm)
        text = moved.get_data(as_text=True)
        assert moved.status_code == 409
        assert _closes() == 0  # nothing closed
        assert db.session.scalar(select(func.count(JournalEntry.id)).where(JournalEntry.kind == "cash_count")) == 0
        assert db.session.scalar(select(func.count(AuditLog.id)).where(AuditLog.action == "day.close")) == 0
        assert ("Catatan kas berubah sejak diperiksa: kas seharusnya sekarang Rp 25.000, saat diperiksa "
                "Rp 30.000. Periksa lagi lalu tutup.") in text
        assert 'role="alert"' in text
        # The check again, with the new figures, ready to close at them.
        assert 'id="confirm-expected">Rp 25.000<' in text and 'id="confirm-counted">Rp 10.000<' in text
        assert re.search(r'id="confirm-difference"><strong>-Rp 15.000</strong>', text)
        again = _confirm_data(text)
        assert again["expected"] == "25000"

        done = client.post("/manager/cashbook/close", data=again)
        assert done.status_code == 302
        close = db.session.scalar(select(DayClose))
        assert (close.expected_cash_idr, close.counted_cash_idr, close.difference_idr) == (25_000, 10_000, -15_000)
        assert system_account(unit.id, "cash").balance == 10_000
        details = json.loads(db.session.scalar(select(AuditLog.details).where(AuditLog.action == "day.close")))
        assert details["difference_idr"] == -15_000
        db.session.rollback()

        # A second tap of "Tutup hari" (a retry after a lost reply) closes nothing twice and says
        # it is done, not as a red refusal: her own close, the same count.
        twice = client.post("/manager/cashbook/close", data=again, follow_redirects=True)
        text = twice.get_data(as_text=True)
        assert twice.status_code == 200 and _closes() == 1
        assert re.search(r'<p class="flash ok" role="status">Hari \d\d-\d\d-\d{4} sudah ditutup: Anda menutupnya '
                         r'pukul \d\d\.\d\d WIB dengan kas dihitung Rp 10\.000\. Tidak ada yang diubah\.</p>', text)
        # Another count for the closed day is a refusal, as before.
        other = client.post("/manager/cashbook/close", data={**again, "counted": "12.000"})
        assert other.status_code == 409 and "sudah ditutup" in other.get_data(as_text=True)
        assert _closes() == 1
    assert verify_ledger().ok


def test_close_day_refuses_a_stale_expected_figure_and_accepts_the_current_one(net):
    with clock_at(TODAY):
        _cash_day(net)
        mgr = _user(net, "mgr_a")
        try:
            run_in_transaction(lambda: close_day(net.unit_a, TODAY.date(), "0", mgr, expected_seen_idr=29_999))
        except CashMoved as exc:
            assert exc.status == 409 and exc.code == "cash_moved"
            assert (exc.expected_cash_idr, exc.seen_cash_idr) == (30_000, 29_999)
        else:
            raise AssertionError("a stale expected figure closed the day")
        assert _closes() == 0
        close = run_in_transaction(lambda: close_day(net.unit_a, TODAY.date(), "0", mgr, expected_seen_idr=30_000))
        assert close.difference_idr == -30_000
    assert verify_ledger().ok


def test_the_day_picker_shows_the_cash_book_after_a_check_or_an_error(net, client, login):
    with clock_at(TODAY):
        login("mgr_a")
        page = client.get("/manager/cashbook").get_data(as_text=True)
        rendered = {
            "check": _check(client, page, "1.000"),
            "error": _check(client, page, "dua ribu"),
            "reopen": client.post("/manager/cashbook/reopen", data={"csrf_token": csrf_token(page),
                                                                    "business_date": DAY, "reason": "x"}),
        }
        for name, response in rendered.items():
            html = response.get_data(as_text=True)
            picker = re.search(r'<form method="get"[^>]*>', html).group(0)
            assert 'action="/manager/cashbook"' in picker, (name, picker)
        shown = client.get("/manager/cashbook?day=2025-04-09")
        assert shown.status_code == 200 and "Buku kas · 09-04-2025" in shown.get_data(as_text=True)


def test_an_empty_cash_box_counts_zero_and_a_negative_count_is_refused(net, client, login):
    with clock_at(TODAY):
        login("mgr_a")
        page = client.get("/manager/cashbook").get_data(as_text=True)
        for negative in ("-5", "-Rp 5.000", "- 10"):
            refused = _check(client, page, negative)
            html = refused.get_data(as_text=True)
            assert refused.status_code == 422, negative
            assert "Kas dihitung tidak boleh kurang dari nol" in html and "lebih dari nol" not in html
        for zero in ("0", "Rp 0", "0,00", "0.000"):
            check = _check(client, page, zero)
            assert check.status_code == 200, zero
            assert 'id="confirm-counted">Rp 0<' in check.get_data(as_text=True)
        done = client.post("/manager/cashbook/close", data=_confirm_data(_check(client, page, "0").get_data(
            as_text=True)))
        assert done.status_code == 302
        close = db.session.scalar(select(DayClose))
        assert (close.expected_cash_idr, close.counted_cash_idr, close.difference_idr) == (0, 0, 0)
