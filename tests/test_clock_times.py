"""Clock times as people read them (docs/rules.md §time): in Indonesian hours and minutes are
separated by a period (PUEBI: "05.39"), in English by a colon ("05:39"); dates keep their form
and machine formats (ISO in JSON, the HTML ``datetime`` attribute, the audit CSV for machines)
never change. One deposit weighed and booked at 05.39 WIB on 2 March 2026 (22.39 UTC on
1 March) is read on the cash book, the receipt (page, PDF, WhatsApp text), the counter's
"Dilayani hari ini", the audit screen and its CSVs, the notification outbox and the member's
statement PDF. The formatting rule itself is checked against tests/vectors/money.json ``clock``
(tests/test_money_vectors.py, tests/js/money.test.mjs).

Screenshots at 800x1280: ``test-artifacts/clock-<page>-800x1280.png`` (cash book, receipt,
the counter's served list, the tablet's queue in Indonesian and in English).
"""
from __future__ import annotations

import io
import json
import re
import uuid
from datetime import datetime, timedelta, timezone
from urllib.parse import unquote
from zoneinfo import ZoneInfo

import pypdf
import pytest
from flask_babel import force_locale
from playwright.sync_api import expect

from sqlalchemy import select

from wastebank.extensions import db
from wastebank.models import Deposit, Notification, clock_at
from wastebank.services.deposits import LineInput, record_deposit
from wastebank.reports.period import capture_note
from wastebank.services.withdrawals import WithdrawalInput, record_withdrawal
from wastebank.timeutil import clock_pattern, format_clock, format_local, local_text

from .conftest import bearer, csrf_token
from .test_browser import ARTIFACTS, browser, log_in, sized_context  # noqa: F401  (browser is a fixture)

WIB = ZoneInfo("Asia/Jakarta")
AT = datetime(2026, 3, 2, 5, 39, tzinfo=WIB)           # 05.39 WIB, 22.39 UTC on 1 March
ISO_UTC = "2026-03-01T22:39:00+00:00"
PHONE = "081234567890"


def _plain(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).replace("\xa0", " ").split())


def _pdf_text(data: bytes) -> str:
    text = "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages)
    return " ".join(text.replace("\xa0", " ").split())


def _english(client, path: str) -> None:
    client.post("/lang/en", data={"csrf_token": csrf_token(client.get(path).get_data(as_text=True))})


@pytest.fixture
def morning(net, client, tokens):
    """At 05.39 WIB a tablet sends Siti's 1,5 kg of PET (Rp 4.875) through the API, weighed
    the same minute, and she takes Rp 2.000 in cash (the cash book's one line); the unit sends
    messages and she consented. The API's answer for the deposit."""
    member = net.members_a[0]
    net.unit_a.notify_enabled = True
    member.phone, member.notify_consent = PHONE, True
    db.session.commit()
    body = {"member": member.member_no, "lines": [{"category": "PET-CLEAN", "quantity": "1,5"}],
            "recorded_at": AT.isoformat()}
    with clock_at(AT):
        response = client.post("/api/v1/deposits", data=json.dumps(body), content_type="application/json",
                               headers={**bearer(tokens["op_a"]), "Idempotency-Key": str(uuid.uuid4())})
        assert response.status_code == 201, response.get_data(as_text=True)
        db.session.commit()
        paid = record_withdrawal(net.unit_a, member, WithdrawalInput("cash", 2000), user=net.users["op_a"],
                                 idempotency_key=str(uuid.uuid4()))
        db.session.commit()
    assert paid.status == 201, paid.body
    return response.get_json()


def test_the_api_keeps_iso_times(morning):
    """Machines read ISO 8601 with a colon, whatever people read."""
    assert morning["recorded_at"] == ISO_UTC and morning["posted_at"] == ISO_UTC
    assert morning["credited_idr"] == 4875


def test_the_cash_book_reads_05_39(client, login, morning):
    with clock_at(AT + timedelta(minutes=5)):
        login("mgr_a")
        html = client.get("/manager/cashbook").get_data(as_text=True)
        times = re.findall(r'<td class="time">([^<]*)</td>', html)
        assert times == ["05.39 WIB"], times
        assert "05:39" not in html
        _english(client, "/manager/cashbook")
        english = client.get("/manager/cashbook").get_data(as_text=True)
    assert re.findall(r'<td class="time">([^<]*)</td>', english) == ["05:39 WIB"]


def test_the_receipt_page_pdf_and_whatsapp_text_read_05_39(client, login, morning):
    receipt_no = morning["receipt_no"]
    login("op_a")
    html = client.get(f"/counter/receipt/{receipt_no}").get_data(as_text=True)
    assert re.search(r'id="receipt-time"[^>]*>\s*02-03-2026 05\.39 WIB\s*<', html), html
    href = re.search(r'id="share-whatsapp"[^>]*href="([^"]+)"|href="([^"]+)"[^>]*id="share-whatsapp"', html)
    lines = unquote((href.group(1) or href.group(2)).replace("&amp;", "&").partition("?text=")[2]).splitlines()
    assert lines[1:3] == [f"Bukti setoran {receipt_no}", "02-03-2026 05.39 WIB"], lines
    assert "05:39" not in html
    pdf = _pdf_text(client.get(f"/counter/receipt/{receipt_no}.pdf").data)
    assert "Tanggal 02-03-2026 05.39 WIB" in pdf and "05:39" not in pdf, pdf
    _english(client, f"/counter/receipt/{receipt_no}")
    english = client.get(f"/counter/receipt/{receipt_no}").get_data(as_text=True)
    assert re.search(r'id="receipt-time"[^>]*>\s*02-03-2026 05:39 WIB\s*<', english)
    assert "02-03-2026 05:39 WIB" in _pdf_text(client.get(f"/counter/receipt/{receipt_no}.pdf").data)


def test_the_counters_served_list_reads_05_39_and_keeps_the_iso_attribute(client, login, morning):
    with clock_at(AT + timedelta(minutes=5)):
        login("op_a")
        html = client.get("/counter").get_data(as_text=True)
    block = re.search(r'<ul class="results" id="served-today">(.*?)</ul>', html, re.S).group(1)
    stamps = re.findall(r'<time datetime="([^"]+)">([^<]+)</time>', block)
    assert stamps == [(ISO_UTC, "05.39 WIB")], stamps


def test_the_audit_screen_and_its_csvs(client, login, morning):
    login("mgr_a")
    html = client.get("/manager/audit?day=2026-03-02").get_data(as_text=True)
    whens = [_plain(cell) for cell in re.findall(r'<td class="when"[^>]*>(.*?)<br>', html, re.S)]
    assert whens and set(whens) == {"02-03-2026 05.39 WIB"}, whens
    people = client.get("/manager/audit.csv?day=2026-03-02").get_data(as_text=True)
    assert '"02-03-2026 05.39 WIB"' in people and "05:39" not in people, people
    machines = client.get("/manager/audit.csv?day=2026-03-02&format=codes").get_data(as_text=True)
    assert ISO_UTC in machines and "05.39" not in machines, machines


def test_the_notification_outbox_reads_05_39(client, login, morning):
    # The deposit's message failed once and waits for 05.45 WIB.
    note = db.session.scalar(select(Notification).where(Notification.event == "deposit"))
    note.attempts, note.next_attempt_at = 1, AT + timedelta(minutes=6)
    db.session.commit()
    login("mgr_a")
    html = client.get("/manager/notifications").get_data(as_text=True)
    cells = [_plain(cell) for cell in re.findall(r'<td data-label="Jam">(.*?)</td>', html, re.S)]
    assert cells == ["02-03-2026 05.39 WIB"] * 2, cells   # the withdrawal's and the deposit's
    statuses = [_plain(cell) for cell in re.findall(r'<td data-label="Status">(.*?)</td>', html, re.S)]
    assert statuses[1].endswith(" 05.45 WIB"), statuses
    assert "05:4" not in html and "05:39" not in html


def test_the_statement_pdf_reads_05_39(net, client, login, morning):
    member_no = net.members_a[0].member_no
    login("mgr_a")
    with clock_at(AT + timedelta(minutes=1)):
        pdf = _pdf_text(client.get(f"/members/{member_no}/statement.pdf?start=2026-03-01&end=2026-03-02").data)
    assert "Dicetak 02-03-2026 05.40 WIB" in pdf and "05:40" not in pdf, pdf
    assert morning["receipt_no"] in pdf and "02-03-2026" in pdf


def test_the_note_of_a_later_booking_and_the_sentences(app):
    """``capture_note``: weighed 05.00, booked 05.39 the same day; weighed 23.40 the day before."""
    same_day, day_before = AT - timedelta(minutes=39), datetime(2026, 3, 1, 23, 40, tzinfo=WIB)
    with force_locale("id"):
        assert capture_note(same_day, AT) == "dicatat 02/03 05.00, dibukukan 05.39"
        assert capture_note(day_before, AT) == "dicatat 01/03 23.40, dibukukan 02/03"
        assert format_clock(AT) == "05.39 WIB" and clock_pattern() == "%H.%M"
    with force_locale("en"):
        assert capture_note(same_day, AT) == "recorded 02/03 05:00, posted 05:39"
        assert format_clock(AT) == "05:39 WIB" and clock_pattern() == "%H:%M"
    assert capture_note(AT, AT) == ""


def test_the_helpers_outside_a_request_write_indonesian_and_leave_dates_alone(app):
    """A CLI or a scheduled job has no request: the app's default locale, Indonesian."""
    assert format_local(AT) == "02-03-2026 05.39 WIB"
    assert format_local(AT, "%d-%m-%Y") == "02-03-2026 WIB"
    assert local_text(AT, "%d/%m %H:%M") == "02/03 05.39"
    assert local_text(AT, "%d/%m %H:%M", locale="en") == "02/03 05:39"
    assert format_local(AT.astimezone(timezone.utc), locale="en") == "02-03-2026 05:39 WIB"


@pytest.mark.browser
def test_clock_screens(browser, live_server, net, morning):
    """Cash book, receipt and the counter's served list at 800x1280: the times read 05.39, the
    page does not scroll sideways. The live server's clock is real, so the served list (today's
    deposits) shows one more deposit made now, its time in the same form."""
    ARTIFACTS.mkdir(exist_ok=True)
    context = sized_context(browser, live_server, 800, 1280)
    page = context.new_page()
    log_in(page, "mgr_a")
    page.goto("/manager/cashbook?day=2026-03-02")
    assert page.locator("td.time").all_inner_texts() == ["05.39 WIB"]
    page.screenshot(path=str(ARTIFACTS / "clock-cashbook-800x1280.png"), full_page=True)
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 800
    context.close()
    context = sized_context(browser, live_server, 800, 1280)
    page = context.new_page()
    log_in(page, "op_a")
    page.goto(f"/counter/receipt/{morning['receipt_no']}")
    assert page.locator("#receipt-time").inner_text().strip() == "02-03-2026 05.39 WIB"
    page.screenshot(path=str(ARTIFACTS / "clock-receipt-800x1280.png"), full_page=True)
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 800
    context.close()
    made = record_deposit(net.unit_a, net.members_a[1], [LineInput("PET-CLEAN", "2")], operator_id=net.users["op_a"].id,
                          idempotency_key=str(uuid.uuid4()))
    db.session.commit()
    assert made.status == 201, made.body
    recorded = db.session.scalar(select(Deposit.recorded_at).where(Deposit.receipt_no == made.body["receipt_no"]))
    db.session.close()
    context = sized_context(browser, live_server, 800, 1280)
    page = context.new_page()
    log_in(page, "op_a")
    page.goto("/counter")
    stamp = page.locator("#served-today time").first
    assert stamp.inner_text() == f"{recorded.astimezone(WIB):%H.%M} WIB"
    assert datetime.fromisoformat(stamp.get_attribute("datetime")) == recorded   # ISO, as stored
    page.screenshot(path=str(ARTIFACTS / "clock-served-800x1280.png"), full_page=True)
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 800
    # The tablet's queue (panel.js, the page's locale): a deposit saved on this tablet now.
    page.goto(f"/counter/member/{net.members_a[2].member_no}/deposit")
    expect(page.locator("#deposit-form[data-ready='1']")).to_be_attached()
    page.locator("button.tile[data-code='PET-CLEAN']").click()
    page.keyboard.type("1,5")
    page.click("#review")
    page.click("#save")
    page.wait_for_url(re.compile(r"/counter/receipt/.*\?new=1"), timeout=20_000)   # answered at once
    item = page.evaluate("() => window.wastebankCounter.store.allItems()")[0]
    captured = datetime.fromisoformat(item["captured_at"].replace("Z", "+00:00")).astimezone(WIB)
    page.goto("/counter")
    row = page.locator(".outbox-item.synced")
    expect(row).to_contain_text(f"{captured:%d-%m-%Y %H.%M} WIB")
    page.screenshot(path=str(ARTIFACTS / "clock-queue-800x1280.png"), full_page=True)
    page.locator("button.lang", has_text="EN").click()
    page.wait_for_load_state()
    expect(page.locator(".outbox-item.synced")).to_contain_text(f"{captured:%d-%m-%Y %H:%M} WIB")
    expect(page.locator("#served-today time").first).to_have_text(f"{captured:%H:%M} WIB")
    page.screenshot(path=str(ARTIFACTS / "clock-queue-en-800x1280.png"), full_page=True)
    context.close()
