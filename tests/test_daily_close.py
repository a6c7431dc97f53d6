"""The daily close never blocks the counter with an error (issue 8 item 5, field case C17).

Only the posting day is closed (docs/rules.md §daily-close (I12)): a deposit captured offline on a
day closed since is posted today and keeps its capture time, which places it in that day and month
in every document (docs/rules.md §periods). While today is closed, a new deposit or withdrawal is
refused with 409 ``day_closed`` and a clear message, writing nothing; a manager can reopen today's
close with a reason (audited), and the same idempotency key then goes through.
"""
from __future__ import annotations

import io
import json
import re
import uuid
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from wastebank.auth.tokens import create_token
from wastebank.extensions import db
from wastebank.models import (AuditLog, DayClose, Deposit, IdempotencyRecord, JournalEntry, Posting, User,
                              Withdrawal, clock_at)
from wastebank.reports.members import member_movements, member_statement
from wastebank.reports.statements import aggregator_statement, find_aggregator
from wastebank.reports.unit import daily_summary
from wastebank.services.cashbook import cash_book, close_day, late_arrivals, reopen_day
from wastebank.services.deposits import LineInput, record_deposit
from wastebank.services.errors import Conflict, Forbidden, PeriodClosed, ValidationFailed
from wastebank.services.ledger import system_account, verify_ledger
from wastebank.services.transaction import run_in_transaction
from wastebank.services.withdrawals import WithdrawalInput, record_withdrawal
from wastebank.timeutil import local_month_bounds

from .conftest import csrf_token
from .factories import PASSWORD

WIB = ZoneInfo("Asia/Jakarta")
# A working afternoon: "today" in the tests that close and reopen today.
TODAY = datetime(2025, 4, 10, 15, 0, tzinfo=WIB)


def _user(net, name) -> User:
    return db.session.get(User, net.users[name].id)


def _counts() -> dict:
    counts = {m.__tablename__: db.session.scalar(select(func.count(m.id)))
              for m in (Deposit, Withdrawal, JournalEntry, Posting, IdempotencyRecord, DayClose)}
    db.session.rollback()  # end the read transaction (SQLite takes the write lock on BEGIN)
    return counts


def _deposit(net, member, qty, key, code="CARDBOARD"):
    """CARDBOARD is Rp 2.000/kg at RW05 (no fee)."""
    return run_in_transaction(lambda: record_deposit(net.unit_a, member, [LineInput(code, qty)],
                                                     operator_id=net.users["op_a"].id, idempotency_key=key))


def _api_deposit(client, token, member_no, key, recorded_at=None):
    body = {"member": member_no, "lines": [{"category": "PET-CLEAN", "quantity": "1,5"}]}
    if recorded_at:
        body["recorded_at"] = recorded_at
    return client.post("/api/v1/deposits", data=json.dumps(body), content_type="application/json",
                       headers={"Authorization": f"Bearer {token}", "Idempotency-Key": key})


def _deposit_form(client, member_no):
    html = client.get(f"/counter/member/{member_no}/deposit").get_data(as_text=True)
    key = re.search(r'id="idempotency_key" name="idempotency_key" type="hidden" value="([0-9a-f]+)"', html).group(1)
    return csrf_token(html), key


def _post_deposit(client, member_no, token, key, action="save"):
    return client.post(f"/counter/member/{member_no}/deposit",
                       data={"csrf_token": token, "idempotency_key": key, "action": action,
                             "lines-0-category": "PET-CLEAN", "lines-0-quantity": "1,5"})


def _audit(action):
    return db.session.scalars(select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id)).all()


# --- C17 ---------------------------------------------------------------------------------------


def test_c17_offline_capture_on_a_day_closed_since_lands_once_in_that_day(net, app, client, login):
    member, unit = net.members_a[0], net.unit_a
    tablet = app.test_client()  # the tablet's API calls; ``client`` is the manager's browser
    mgr = _user(net, "mgr_a")
    with clock_at(datetime(2025, 7, 31, 17, 30, tzinfo=WIB)):
        # A cash sale of nothing yet: the box is empty in the books and counted empty.
        close = run_in_transaction(lambda: close_day(unit, date(2025, 7, 31), "0", mgr))
        assert (close.expected_cash_idr, close.difference_idr, close.entry_id) == (0, 0, None)
    # 31 Jul 20:00 WIB the tablet, offline, captures 1,5 kg PET-CLEAN (Rp 4.875) for the member;
    # it syncs on 1 Aug at 08:00 WIB.
    with clock_at(datetime(2025, 8, 1, 8, 0, tzinfo=WIB)):
        token = create_token(_user(net, "op_a"), "tablet")
        db.session.commit()
        key = str(uuid.uuid4())
        first = _api_deposit(tablet, token, member.member_no, key, "2025-07-31T20:00:00+07:00")
        assert first.status_code == 201, first.get_data(as_text=True)
        body = first.get_json()
        assert datetime.fromisoformat(body["recorded_at"]) == datetime(2025, 7, 31, 13, 0, tzinfo=timezone.utc)
        assert datetime.fromisoformat(body["posted_at"]) == datetime(2025, 8, 1, 1, 0, tzinfo=timezone.utc)
        assert body["credited_idr"] == 4875
        # The tablet never heard the answer and resends: the same receipt, nothing moves.
        again = _api_deposit(tablet, token, member.member_no, key, "2025-07-31T20:00:00+07:00")
        assert again.status_code == 201 and again.get_json()["receipt_no"] == body["receipt_no"]
        assert again.headers.get("Idempotent-Replayed") == "true"

        login("mgr_a")
        page = client.get("/manager/cashbook?day=2025-07-31")
        html = page.get_data(as_text=True)
        assert page.status_code == 200
        assert 'id="day-closed"' in html and 'id="late-arrivals"' in html
        row = html[html.index('id="late-arrivals"'):]
        assert body["receipt_no"] in row and member.member_no in row and "Rp 4.875" in row
        assert "31-07-2025 20.00 WIB" in row and "01-08-2025 08.00 WIB" in row
        # 1 August itself has no late arrivals.
        assert "late-arrivals-empty" in client.get("/manager/cashbook?day=2025-08-01").get_data(as_text=True)

    deposits = db.session.scalars(select(Deposit)).all()
    assert len(deposits) == 1 and deposits[0].receipt_no == body["receipt_no"]
    dep = deposits[0]
    assert dep.recorded_at == datetime(2025, 7, 31, 13, 0, tzinfo=timezone.utc)
    assert dep.posted_at == datetime(2025, 8, 1, 1, 0, tzinfo=timezone.utc)

    # The aggregator's July statement has it; August's does not.
    jkt = find_aggregator("JKT")
    jul = next(u for u in aggregator_statement(jkt, 2025, 7).units if u.code == "RW05")
    aug = next(u for u in aggregator_statement(jkt, 2025, 8).units if u.code == "RW05")
    assert (jul.deposits, jul.deposit_value_idr, jul.credited_idr) == (1, 4875, 4875)
    assert (aug.deposits, aug.deposit_value_idr) == (0, 0)
    # The unit report of 31 July has it; 1 August's does not.
    day31, _cats = daily_summary(unit, date(2025, 7, 31))
    aug1, _cats = daily_summary(unit, date(2025, 8, 1))
    assert (day31.deposits, day31.deposit_value_idr) == (1, 4875)
    assert (aug1.deposits, aug1.deposit_value_idr) == (0, 0)
    # The member's July passbook has it, with its capture time and the posting time beside it.
    july = member_statement(member, *local_month_bounds(2025, 7))
    august = member_statement(member, *local_month_bounds(2025, 8))
    assert [(m.reference, m.amount_idr, m.balance_idr) for m in july.movements] == [(dep.receipt_no, 4875, 4875)]
    assert (july.opening_idr, july.closing_idr) == (0, 4875)
    assert july.movements[0].recorded_at == dep.recorded_at and july.movements[0].posted_later
    assert august.movements == [] and (august.opening_idr, august.closing_idr) == (4875, 4875)
    assert [m.reference for m in member_movements(member)] == [dep.receipt_no]
    assert [a.receipt_no for a in late_arrivals(unit, date(2025, 7, 31))] == [dep.receipt_no]
    assert late_arrivals(unit, date(2025, 8, 1)) == []

    # The passbook PDF (staff screen, the manager still logged in) of July lists it on
    # 31-07-2025 with its posting time; August's PDF has no movement.
    pdf = client.get(f"/members/{member.member_no}/statement.pdf?start=2025-07-01&end=2025-07-31")
    assert pdf.status_code == 200
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages).split())
    assert dep.receipt_no in text and "31-07-2025" in text and "dibukukan 01-08-2025 08.00 WIB" in text
    pdf_aug = client.get(f"/members/{member.member_no}/statement.pdf?start=2025-08-01&end=2025-08-31")
    text_aug = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf_aug.data)).pages)
    assert dep.receipt_no not in text_aug

    # The closed day's cash count still holds: the deposit moved no cash.
    book = cash_book(unit, date(2025, 7, 31))
    assert book.close is not None and book.movements == [] and book.closing_idr == book.close.counted_cash_idr == 0
    assert system_account(unit.id, "cash").balance == 0
    assert verify_ledger().ok, verify_ledger().faults


def test_passbook_orders_by_capture_time(net):
    """An offline capture synced after a later online deposit comes first in the passbook."""
    member = net.members_a[0]
    with clock_at(datetime(2025, 5, 2, 9, 0, tzinfo=WIB)):
        online = _deposit(net, member, "1", "order-online-1")  # Rp 2.000 at 09:00
        offline = run_in_transaction(lambda: record_deposit(
            net.unit_a, member, [LineInput("CARDBOARD", "2")], operator_id=None, idempotency_key="order-offline-1",
            recorded_at=datetime(2025, 5, 2, 8, 0, tzinfo=WIB)))  # Rp 4.000 captured 08:00
    statement = member_statement(member, *local_month_bounds(2025, 5))
    assert [(m.reference, m.balance_idr) for m in statement.movements] == [
        (offline.body["receipt_no"], 4000), (online.body["receipt_no"], 6000)]
    assert [m.posted_later for m in statement.movements] == [True, False]
    assert [m.reference for m in member_movements(member)] == [online.body["receipt_no"], offline.body["receipt_no"]]


# --- today closed: refused with a clear message, nothing written --------------------------------


def test_deposit_after_todays_close_via_api_is_409_and_the_key_works_after_reopen(net, client):
    member, unit, mgr = net.members_a[0], net.unit_a, _user(net, "mgr_a")
    with clock_at(TODAY):
        token = create_token(_user(net, "op_a"), "tablet")
        db.session.commit()
        run_in_transaction(lambda: close_day(unit, TODAY.date(), "0", mgr))
        before = _counts()
        key = str(uuid.uuid4())
        refused = _api_deposit(client, token, member.member_no, key)
        assert refused.status_code == 409, refused.get_data(as_text=True)
        error = refused.get_json()["error"]
        assert error["code"] == "day_closed"
        assert "10-04-2025" in error["message"] and "Kelola → Buku kas" in error["message"]
        assert _counts() == before  # nothing written, the key not consumed
        # A capture time earlier today does not help: the posting day is closed.
        late = _api_deposit(client, token, member.member_no, str(uuid.uuid4()), "2025-04-10T10:00:00+07:00")
        assert late.status_code == 409 and late.get_json()["error"]["code"] == "day_closed"
        assert _counts() == before

        run_in_transaction(lambda: reopen_day(unit, TODAY.date(), "setoran susulan Bu Siti", mgr))
        saved = _api_deposit(client, token, member.member_no, key)
        assert saved.status_code == 201, saved.get_data(as_text=True)
        assert saved.get_json()["credited_idr"] == 4875
        assert _counts()["deposit"] == before["deposit"] + 1
    assert verify_ledger().ok


def test_deposit_and_withdrawal_after_todays_close_via_counter_forms(net, client, login):
    member, unit, mgr = net.members_a[0], net.unit_a, _user(net, "mgr_a")
    with clock_at(TODAY):
        _deposit(net, member, "10", "form-dep-01")  # Rp 20.000 of savings to withdraw from
        login("op_a")
        csrf, key = _deposit_form(client, member.member_no)
        assert _post_deposit(client, member.member_no, csrf, key, "review").status_code == 200
        run_in_transaction(lambda: close_day(unit, TODAY.date(), "0", mgr))
        before = _counts()

        refused = _post_deposit(client, member.member_no, csrf, key)
        html = refused.get_data(as_text=True)
        assert refused.status_code == 422  # the form again, with the message; never a 5xx
        assert "Hari ini (10-04-2025) sudah ditutup" in html and "Kelola → Buku kas" in html
        assert 'value="1,5"' in html  # the lines are still on the form
        assert _counts() == before

        page = client.get(f"/counter/member/{member.member_no}/withdraw").get_data(as_text=True)
        wd_key = re.search(r'id="idempotency_key" name="idempotency_key" type="hidden" value="([0-9a-f]+)"',
                           page).group(1)
        wd = client.post(f"/counter/member/{member.member_no}/withdraw",
                         data={"csrf_token": csrf_token(page), "idempotency_key": wd_key, "action": "save",
                               "method": "cash", "amount": "5.000"})
        assert wd.status_code == 409 and "sudah ditutup" in wd.get_data(as_text=True)
        assert _counts() == before
        with pytest.raises(PeriodClosed):
            run_in_transaction(lambda: record_withdrawal(unit, member, WithdrawalInput("cash", 5000),
                                                         user=_user(net, "op_a"), idempotency_key="svc-wd-0001"))

        # The manager reopens; the same form, resent, saves the deposit once.
        run_in_transaction(lambda: reopen_day(unit, TODAY.date(), "masih ada antrean", mgr))
        saved = _post_deposit(client, member.member_no, csrf, key)
        assert saved.status_code == 302 and "/counter/receipt/" in saved.location
        assert _post_deposit(client, member.member_no, csrf, key).status_code == 302  # replay
    assert _counts()["deposit"] == before["deposit"] + 1
    assert verify_ledger().ok


# --- reopen -------------------------------------------------------------------------------------


def test_reopen_reverses_the_difference_is_audited_and_the_day_can_close_again(net):
    unit, mgr = net.unit_a, _user(net, "mgr_a")
    with clock_at(TODAY):
        # Expected Rp 0, counted Rp 1.500: Rp 1.500 over, posted Dr cash / Cr cash adjustments.
        close = run_in_transaction(lambda: close_day(unit, TODAY.date(), "1.500", mgr))
        assert close.difference_idr == 1500 and system_account(unit.id, "cash").balance == 1500
        close_id, entry_id, closed_at = close.id, close.entry_id, close.closed_at

        before = _counts()
        with pytest.raises(ValidationFailed) as err:
            run_in_transaction(lambda: reopen_day(unit, TODAY.date(), "   ", mgr))
        assert err.value.field == "reason"
        with pytest.raises(Forbidden):
            run_in_transaction(lambda: reopen_day(unit, TODAY.date(), "coba", _user(net, "op_a")))
        with pytest.raises(Forbidden):  # a manager of another unit's day: not theirs
            run_in_transaction(lambda: reopen_day(net.unit_b, TODAY.date(), "coba", mgr))
        assert _counts() == before and not _audit("day.reopen")

        reversal = run_in_transaction(lambda: reopen_day(unit, TODAY.date(), "uang  kembalian lupa dihitung", mgr))
        assert reversal.reverses_id == entry_id and reversal.reason.endswith("uang kembalian lupa dihitung")
        assert sorted(p.amount for p in db.session.get(JournalEntry, reversal.id).postings) == [-1500, 1500]
        assert db.session.get(DayClose, close_id) is None
        assert system_account(unit.id, "cash").balance == 0
        assert system_account(unit.id, "cash_adjustment").balance == 0
        (row,) = _audit("day.reopen")
        details = json.loads(row.details)
        assert (row.user_id, row.object_id) == (mgr.id, "2025-04-10")
        assert details["reason"] == "uang kembalian lupa dihitung"
        assert (details["expected_cash_idr"], details["counted_cash_idr"], details["difference_idr"]) == (0, 1500, 1500)
        assert (details["entry_id"], details["reversal_entry_id"]) == (entry_id, reversal.id)
        assert datetime.fromisoformat(details["closed_at"]) == closed_at

        # Open again: a deposit goes in; then the day closes again with the new count.
        assert _deposit(net, net.members_a[0], "1", "reopen-dep-01").status == 201
        again = run_in_transaction(lambda: close_day(unit, TODAY.date(), "0", mgr))
        assert (again.expected_cash_idr, again.difference_idr) == (0, 0)
        # A second reopen needs a close to undo.
        run_in_transaction(lambda: reopen_day(unit, TODAY.date(), "sekali lagi", mgr))
        with pytest.raises(Conflict) as err:
            run_in_transaction(lambda: reopen_day(unit, TODAY.date(), "lagi", mgr))
        assert err.value.code == "not_closed"
    assert verify_ledger().ok


def test_reopen_is_refused_for_a_past_day(net):
    unit, mgr = net.unit_a, _user(net, "mgr_a")
    with clock_at(datetime(2025, 4, 9, 17, 0, tzinfo=WIB)):
        run_in_transaction(lambda: close_day(unit, date(2025, 4, 9), "500", mgr))
    with clock_at(TODAY):
        before = _counts()
        with pytest.raises(Conflict) as err:
            run_in_transaction(lambda: reopen_day(unit, date(2025, 4, 9), "terlambat", mgr))
        assert err.value.code == "reopen_not_today" and "09-04-2025" in str(err.value.message)
        assert _counts() == before and not _audit("day.reopen")


# --- the manager's screens ----------------------------------------------------------------------


def test_close_has_a_confirmation_step_then_reopen_from_the_page(net, client, login):
    unit = net.unit_a
    with clock_at(TODAY):
        login("mgr_a")
        page = client.get("/manager/cashbook").get_data(as_text=True)
        assert 'id="check-close"' in page and 'id="late-arrivals-empty"' in page
        assert "Belum ada setoran susulan." in page
        token = csrf_token(page)
        check = client.post("/manager/cashbook/close", data={"csrf_token": token, "step": "check",
                                                             "counted": "2.000", "business_date": "2025-04-10"})
        html = check.get_data(as_text=True)
        assert check.status_code == 200 and 'id="close-confirm"' in html
        assert 'id="confirm-expected">Rp 0<' in html and 'id="confirm-counted">Rp 2.000<' in html
        assert re.search(r'id="confirm-difference"><strong>Rp 2.000</strong>', html)
        assert "Tutup hari" in html and 'name="confirm" value="1"' in html
        assert db.session.scalar(select(func.count(DayClose.id))) == 0  # nothing closed yet
        bad = client.post("/manager/cashbook/close", data={"csrf_token": token, "step": "check",
                                                           "counted": "dua ribu", "business_date": "2025-04-10"})
        assert bad.status_code == 422 and 'role="alert"' in bad.get_data(as_text=True)

        done = client.post("/manager/cashbook/close", data={"csrf_token": csrf_token(html), "confirm": "1",
                                                            "counted": "2.000", "business_date": "2025-04-10"})
        assert done.status_code == 302
        closed = client.get(done.location).get_data(as_text=True)
        assert 'id="day-closed"' in closed and 'id="reopen-form"' in closed
        assert db.session.scalar(select(func.count(DayClose.id))) == 1

        empty = client.post("/manager/cashbook/reopen", data={"csrf_token": csrf_token(closed),
                                                              "business_date": "2025-04-10", "reason": ""})
        assert empty.status_code == 422 and "Isi alasan membuka kembali" in empty.get_data(as_text=True)
        reopened = client.post("/manager/cashbook/reopen", data={"csrf_token": csrf_token(closed),
                                                                 "business_date": "2025-04-10",
                                                                 "reason": "salah hitung"})
        assert reopened.status_code == 302
        open_again = client.get(reopened.location).get_data(as_text=True)
        assert 'id="check-close"' in open_again and 'id="day-closed"' not in open_again
        assert db.session.scalar(select(func.count(DayClose.id))) == 0
        assert system_account(unit.id, "cash").balance == 0
        assert json.loads(_audit("day.reopen")[0].details)["reason"] == "salah hitung"

        # An operator may not reopen (403), nor reach the cash book.
        run_in_transaction(lambda: close_day(unit, TODAY.date(), "0", _user(net, "mgr_a")))
        client.post("/logout", data={"csrf_token": csrf_token(open_again)})
        login("op_a")
        op_token = csrf_token(client.get("/", follow_redirects=True).get_data(as_text=True))
        refused = client.post("/manager/cashbook/reopen", data={"csrf_token": op_token,
                                                                "business_date": "2025-04-10", "reason": "coba"})
        assert refused.status_code == 403
        assert db.session.scalar(select(func.count(DayClose.id))) == 1


def test_past_days_close_shows_no_reopen_form_and_a_posted_reopen_is_409(net, client, login):
    with clock_at(datetime(2025, 4, 9, 17, 0, tzinfo=WIB)):
        run_in_transaction(lambda: close_day(net.unit_a, date(2025, 4, 9), "0", _user(net, "mgr_a")))
    with clock_at(TODAY):
        login("mgr_a")
        page = client.get("/manager/cashbook?day=2025-04-09").get_data(as_text=True)
        assert 'id="day-closed"' in page and 'id="reopen-form"' not in page
        response = client.post("/manager/cashbook/reopen", data={"csrf_token": csrf_token(page),
                                                                 "business_date": "2025-04-09", "reason": "coba"})
        assert response.status_code == 409 and "09-04-2025 tetap ditutup" in response.get_data(as_text=True)
        assert db.session.scalar(select(func.count(DayClose.id))) == 1


# --- the cash book page in a real browser: tablet landscape and portrait -----------------------

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = __import__("pathlib").Path(__file__).resolve().parents[1] / "test-artifacts"


def _overflow(page) -> int:
    """How many CSS pixels the page is wider than the screen (0 when it fits)."""
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


@pytest.mark.browser
@pytest.mark.parametrize("width,height", [(1280, 800), (800, 1280)])
def test_cashbook_page_in_the_browser(net, live_server, width, height):
    """Yesterday closed, then an offline capture of yesterday 20:00 synced now: listed as a late
    arrival. Today: check the count, confirm, the reopen form, reopen with a reason. The page
    never scrolls sideways; screenshots go to test-artifacts/."""
    import os
    from datetime import timedelta

    from wastebank.timeutil import local_today

    if not os.path.exists(CHROMIUM):
        pytest.skip("Debian's Chromium (/usr/bin/chromium) is not installed")
    sync_api = pytest.importorskip("playwright.sync_api")
    yesterday = local_today() - timedelta(days=1)
    with clock_at(datetime.combine(yesterday, datetime.min.time(), tzinfo=WIB).replace(hour=17)):
        run_in_transaction(lambda: close_day(db.session.get(type(net.unit_a), net.unit_a.id), yesterday, "0",
                                             _user(net, "mgr_a")))
    unit = db.session.get(type(net.unit_a), net.unit_a.id)
    member = db.session.get(type(net.members_a[2]), net.members_a[2].id)
    run_in_transaction(lambda: record_deposit(
        unit, member, [LineInput("PET-CLEAN", "2,5")], operator_id=None, idempotency_key="browser-late-01",
        recorded_at=datetime.combine(yesterday, datetime.min.time(), tzinfo=WIB).replace(hour=20)))
    member_no = member.member_no
    db.session.close()
    ARTIFACTS.mkdir(exist_ok=True)
    size = f"{width}x{height}"
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                    args=["--no-sandbox", "--disable-gpu", "--no-first-run"])
        try:
            context = browser.new_context(base_url=live_server, locale="id-ID", service_workers="block",
                                          viewport={"width": width, "height": height}, has_touch=True)
            context.set_default_timeout(10_000)
            page = context.new_page()
            page.goto("/login")
            page.locator("#username").fill("mgr_a")
            page.locator("#password").fill(PASSWORD)
            page.locator("form button[type=submit].primary").click()
            page.wait_for_load_state()

            page.goto(f"/manager/cashbook?day={yesterday.isoformat()}")
            sync_api.expect(page.locator("#late-arrivals")).to_contain_text("Rp 8.125")
            sync_api.expect(page.locator("#late-arrivals")).to_contain_text(member_no)
            assert page.locator("#reopen-form").count() == 0
            page.screenshot(path=str(ARTIFACTS / f"cashbook-late-{size}.png"), full_page=True)
            assert _overflow(page) <= 0

            page.goto("/manager/cashbook")
            page.locator("#counted").fill("1.000")
            page.locator("#check-close").click()
            sync_api.expect(page.locator("#close-confirm")).to_contain_text("Rp 1.000")
            page.screenshot(path=str(ARTIFACTS / f"cashbook-confirm-{size}.png"), full_page=True)
            assert _overflow(page) <= 0
            page.locator("#confirm-close").click()
            sync_api.expect(page.locator("#day-closed")).to_be_visible()
            page.locator("#reason").fill("uang kembalian belum dihitung")
            page.screenshot(path=str(ARTIFACTS / f"cashbook-reopen-{size}.png"), full_page=True)
            assert _overflow(page) <= 0
            page.locator("#reopen").click()
            sync_api.expect(page.locator("#check-close")).to_be_visible()
            assert _overflow(page) <= 0
            context.close()
        finally:
            browser.close()
    with live_server_session():
        assert db.session.scalar(select(func.count(DayClose.id))) == 1  # yesterday's only
        assert [json.loads(r.details)["reason"] for r in _audit("day.reopen")] == ["uang kembalian belum dihitung"]
        assert verify_ledger().ok


class live_server_session:
    """Read the database the live server wrote, then close the session again (SQLite lock)."""

    def __enter__(self):
        db.session.expire_all()

    def __exit__(self, *exc):
        db.session.rollback()
        db.session.close()
