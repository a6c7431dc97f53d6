"""A deposit's time where the resident and the operator see it (docs/rules.md §time, §periods).

1. A capture weighed offline and booked later (an offline capture synced the next day): the
   receipt PDF and the counter's member page show the weighing time (``recorded_at``) as the
   deposit's time, and the manager page's note "dicatat 02/12 13.14, dibukukan 03/12"
   (``reports.period.capture_note``, shown under the rule ``period.posted_later``); a deposit
   saved online shows its one time and no note.
2. A deposit's void reads "Pembatalan setoran <receipt>" on both member pages (one msgid).
3. The receipt page, the public check page ``/r/<receipt>/<code>`` and the WhatsApp share text
   show the date the PDF prints: the weighing time and, when booked later, the same note (the
   macro ``_capture_time.html``); an online deposit its one time and no note. A withdrawal has
   one time (never captured offline: ``recorded_at = posted_at``).

Screenshots ``test-artifacts/capture-time-<page>-<w>x<h>.png`` (member pages, receipt page,
public check page also at 390x844) and the receipt's page
``test-artifacts/capture-time-receipt.png`` (pypdfium2; no pdftoppm on this machine).
"""
from __future__ import annotations

import io
import json
import re
import uuid
from datetime import datetime, timedelta, timezone
from urllib.parse import unquote, urlsplit

import pypdf
import pypdfium2
import pytest

from sqlalchemy import select

from wastebank.extensions import db
from wastebank.counter.receipts import verify_url
from wastebank.models import Deposit, JournalEntry, User, Withdrawal
from wastebank.services.transaction import run_in_transaction
from wastebank.services.withdrawals import void_deposit
from wastebank.timeutil import format_local, to_local

from .conftest import bearer
from .test_browser import ARTIFACTS, browser, log_in, sized_context  # noqa: F401  (browser is a fixture)


def _post_deposit(client, token, member_no, recorded_at: datetime | None = None) -> dict:
    """POST /api/v1/deposits (1,5 kg PET-CLEAN), with ``recorded_at`` as the tablet sends it
    (local time with its offset) when given; the 201 body."""
    body = {"member": member_no, "lines": [{"category": "PET-CLEAN", "quantity": "1,5"}]}
    if recorded_at is not None:
        body["recorded_at"] = recorded_at.astimezone(timezone(timedelta(hours=7))).isoformat()
    headers = {**bearer(token), "Idempotency-Key": str(uuid.uuid4())}
    response = client.post("/api/v1/deposits", data=json.dumps(body), headers=headers,
                           content_type="application/json")
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


def _expected_note(recorded: datetime, posted: datetime) -> str:
    """The note the manager page shows for a booking on a later local day, written out."""
    rec, post = to_local(recorded), to_local(posted)
    day = post.strftime("%d/%m/%Y") if post.year != rec.year else post.strftime("%d/%m")
    return f"dicatat {rec:%d/%m %H.%M}, dibukukan {day}"


def _pdf_text(data: bytes) -> str:
    """The receipt's text as the receipt tests read it (pypdf), spaces normalised (the PDF keeps
    no-break spaces inside times and amounts)."""
    text = "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages)
    return " ".join(text.replace("\xa0", " ").split())


def _rows(html: str, marker: str) -> list[str]:
    """The text of each body row of the movements table that starts at ``marker``."""
    table = html[html.index(marker):]
    table = table[table.index("<tbody>"):table.index("</table>")]
    return [" ".join(re.sub(r"<[^>]+>", " ", row).split()) for row in re.findall(r"<tr>(.*?)</tr>", table, re.S)]


@pytest.fixture
def offline(net, client, tokens):
    """Two deposits of RW05's first member: one captured offline 25 hours before it was booked
    (a day earlier, local time), one saved online. ``(member_no, late, online)`` with each
    ``{"receipt_no", "recorded_at", "posted_at"}`` (aware UTC)."""
    member_no = net.members_a[0].member_no
    captured = (datetime.now(timezone.utc) - timedelta(hours=25)).replace(second=0, microsecond=0)
    late = _post_deposit(client, tokens["op_a"], member_no, captured)
    online = _post_deposit(client, tokens["op_a"], member_no)
    db.session.commit()

    def times(body):
        return {"receipt_no": body["receipt_no"], "recorded_at": datetime.fromisoformat(body["recorded_at"]),
                "posted_at": datetime.fromisoformat(body["posted_at"])}

    late, online = times(late), times(online)
    assert late["recorded_at"] == captured and late["posted_at"] - captured >= timedelta(hours=24)
    return member_no, late, online


def test_receipt_pdf_shows_the_weighing_time_and_the_booking_note(client, login, offline):
    _member_no, late, online = offline
    login("op_a")
    pdf = client.get(f"/counter/receipt/{late['receipt_no']}.pdf").data
    text = _pdf_text(pdf)
    weighed, booked = format_local(late["recorded_at"]), format_local(late["posted_at"])
    assert f"Tanggal {weighed}" in text, text
    assert _expected_note(late["recorded_at"], late["posted_at"]) in text, text
    assert booked not in text, text  # the booking's day is in the note, not as the deposit's time
    # On the 80 mm roll the note wraps between its parts only: "dibukukan" keeps its day.
    lines = [" ".join(line.replace("\xa0", " ").split())
             for page in pypdf.PdfReader(io.BytesIO(pdf)).pages for line in page.extract_text().splitlines()]
    posted_part = _expected_note(late["recorded_at"], late["posted_at"]).split(", ")[1]
    assert any(posted_part in line for line in lines), lines
    for size in ("A6",):
        assert _expected_note(late["recorded_at"], late["posted_at"]) in _pdf_text(
            client.get(f"/counter/receipt/{late['receipt_no']}.pdf?size={size}").data)
    # Saved online: its one time, no note.
    plain = _pdf_text(client.get(f"/counter/receipt/{online['receipt_no']}.pdf").data)
    assert f"Tanggal {format_local(online['posted_at'])}" in plain
    assert "dicatat" not in plain and "dibukukan" not in plain
    # The page as an image, to look at (pypdfium2, as tests/test_receipt_pdf.py renders).
    ARTIFACTS.mkdir(exist_ok=True)
    pypdfium2.PdfDocument(pdf)[0].render(scale=200 / 72).to_pil().save(ARTIFACTS / "capture-time-receipt.png")


def test_counter_member_page_shows_the_weighing_time_and_the_managers_note(client, login, offline):
    member_no, late, online = offline
    note = _expected_note(late["recorded_at"], late["posted_at"])
    login("mgr_a")
    manager = _rows(client.get(f"/members/{member_no}").get_data(as_text=True), 'id="member-movements"')
    counter = _rows(client.get(f"/counter/member/{member_no}").get_data(as_text=True), 'class="list"')
    late_row = next(row for row in counter if late["receipt_no"] in row)
    assert late_row.startswith(f"{format_local(late['recorded_at'])} {note} "), late_row
    assert format_local(late["posted_at"]) not in late_row
    online_row = next(row for row in counter if online["receipt_no"] in row)
    assert online_row.startswith(format_local(online["posted_at"]) + " "), online_row
    assert "dicatat" not in online_row and "dibukukan" not in online_row
    # The same time cell, word for word, as the manager's member page, in the same order.
    manager_late = next(row for row in manager if late["receipt_no"] in row)
    assert manager_late.startswith(f"{format_local(late['recorded_at'])} {note} "), manager_late
    assert [row.split(" Setoran ")[0] for row in counter] == [row.split(" Setoran ")[0] for row in manager]


def test_a_void_reads_the_same_on_both_member_pages(net, client, login, offline):
    member_no, late, _online = offline
    mgr = db.session.get(User, net.users["mgr_a"].id)
    deposit = db.session.scalar(select(Deposit).where(Deposit.receipt_no == late["receipt_no"]))
    outcome = run_in_transaction(lambda: void_deposit(deposit, user=mgr, reason="salah timbang",
                                                      idempotency_key="capture-void-0"))
    assert outcome.status == 200, outcome.body
    db.session.commit()
    wording = f"Pembatalan setoran {late['receipt_no']}"
    login("mgr_a")
    manager = client.get(f"/members/{member_no}").get_data(as_text=True)
    counter = client.get(f"/counter/member/{member_no}").get_data(as_text=True)
    for html, marker in ((manager, 'id="member-movements"'), (counter, 'class="list"')):
        rows = _rows(html, marker)
        assert sum(wording in row for row in rows) == 1, rows
        assert "Setoran dibatalkan" not in html
    # The void row itself (the first row: newest capture) reads the same on both pages.
    void_manager = next(row for row in _rows(manager, 'id="member-movements"') if wording in row)
    void_counter = next(row for row in _rows(counter, 'class="list"') if wording in row)
    assert void_manager == void_counter, (void_manager, void_counter)


@pytest.mark.browser
def test_capture_time_screens(browser, live_server, offline):
    """Screenshots of both member pages at the two tablet sizes; no horizontal overflow; the
    note is visible in the row of the late deposit."""
    member_no, late, _online = offline
    note = _expected_note(late["recorded_at"], late["posted_at"])
    ARTIFACTS.mkdir(exist_ok=True)
    for width, height in [(800, 1280), (1280, 800)]:
        for user, path, name in (("op_a", f"/counter/member/{member_no}", "counter"),
                                 ("mgr_a", f"/members/{member_no}", "manager")):
            context = sized_context(browser, live_server, width, height)
            page = context.new_page()
            log_in(page, user)
            page.goto(path)
            row = page.locator("tr", has_text=late["receipt_no"]).first
            assert note in " ".join(row.inner_text().split())
            assert row.locator(".posted-note").is_visible()
            row.scroll_into_view_if_needed()
            page.screenshot(path=str(ARTIFACTS / f"capture-time-{name}-{width}x{height}.png"), full_page=True)
            assert page.evaluate("() => document.documentElement.scrollWidth") <= width
            context.close()


def _text(html: str, element_id: str) -> str:
    """The text of the element with ``id="element_id"`` (no nested element of the same tag)."""
    match = re.search(rf'<(\w+)[^>]*\bid="{element_id}"[^>]*>(.*?)</\1>', html, re.S)
    assert match, element_id
    return " ".join(re.sub(r"<[^>]+>", " ", match.group(2)).split())


def _share_lines(html: str) -> list[str]:
    """The lines of the WhatsApp share text of a receipt page."""
    href = re.search(r'id="share-whatsapp"[^>]*href="([^"]+)"|href="([^"]+)"[^>]*id="share-whatsapp"', html)
    assert href, "no share link"
    link = (href.group(1) or href.group(2)).replace("&amp;", "&")
    return unquote(link.partition("?text=")[2]).splitlines()


def test_receipt_page_shows_the_pdfs_date_and_note(client, login, offline):
    member_no, late, online = offline
    note = _expected_note(late["recorded_at"], late["posted_at"])
    login("op_a")
    html = client.get(f"/counter/receipt/{late['receipt_no']}").get_data(as_text=True)
    assert _text(html, "receipt-time") == f"{format_local(late['recorded_at'])} {note}", html
    line = " ".join(re.sub(r"<[^>]+>", " ", re.search(r'<p class="muted">(.*?)</p>', html, re.S).group(1)).split())
    assert line.endswith(f" · {member_no} · {format_local(late['recorded_at'])} {note}"), line
    assert format_local(late["posted_at"]) not in html
    assert '<small class="muted posted-note">' in html  # the member pages' macro
    # The same date and note as the PDF prints.
    pdf = _pdf_text(client.get(f"/counter/receipt/{late['receipt_no']}.pdf").data)
    assert f"Tanggal {format_local(late['recorded_at'])} {note}" in pdf, pdf
    # Saved online: its one time, no note.
    plain = client.get(f"/counter/receipt/{online['receipt_no']}").get_data(as_text=True)
    assert _text(plain, "receipt-time") == format_local(online["posted_at"]), plain
    assert "dicatat" not in plain and "dibukukan" not in plain and "posted-note" not in plain


def test_public_check_page_shows_the_date_printed_on_the_receipt(client, offline):
    _member_no, late, online = offline
    note = _expected_note(late["recorded_at"], late["posted_at"])
    # No login: a resident or an auditor scanning the paper receipt's QR.
    html = client.get(urlsplit(verify_url(late["receipt_no"])).path).get_data(as_text=True)
    assert _text(html, "receipt-date") == f"{format_local(late['recorded_at'])} {note}", html
    assert format_local(late["posted_at"]) not in html
    plain = client.get(urlsplit(verify_url(online["receipt_no"])).path).get_data(as_text=True)
    assert _text(plain, "receipt-date") == format_local(online["posted_at"])
    assert "dicatat" not in plain and "dibukukan" not in plain


def test_whatsapp_text_has_the_receipts_date_and_note(client, login, offline):
    _member_no, late, online = offline
    note = _expected_note(late["recorded_at"], late["posted_at"])
    login("op_a")
    lines = _share_lines(client.get(f"/counter/receipt/{late['receipt_no']}").get_data(as_text=True))
    assert lines[1:4] == [f"Bukti setoran {late['receipt_no']}", format_local(late["recorded_at"]), note], lines
    assert not any(format_local(late["posted_at"]) in line for line in lines), lines
    lines = _share_lines(client.get(f"/counter/receipt/{online['receipt_no']}").get_data(as_text=True))
    assert lines[2] == format_local(online["posted_at"]) and lines[3].startswith("Total: "), lines
    assert not any("dicatat" in line for line in lines), lines


def test_a_withdrawal_has_one_time(client, tokens, offline):
    """Item 4: a withdrawal's body has no capture time (the API refuses ``recorded_at``) and its
    entry is booked when it is paid, so its receipt has nothing to note."""
    member_no, _late, _online = offline
    captured = datetime.now(timezone.utc) - timedelta(hours=25)
    body = {"member": member_no, "amount_idr": 1000, "method": "cash",
            "recorded_at": captured.astimezone(timezone(timedelta(hours=7))).isoformat()}
    headers = {**bearer(tokens["op_a"]), "Idempotency-Key": str(uuid.uuid4())}
    refused = client.post("/api/v1/withdrawals", data=json.dumps(body), headers=headers,
                          content_type="application/json")
    assert refused.status_code == 422, refused.get_data(as_text=True)
    del body["recorded_at"]
    headers["Idempotency-Key"] = str(uuid.uuid4())
    paid = client.post("/api/v1/withdrawals", data=json.dumps(body), headers=headers,
                       content_type="application/json")
    assert paid.status_code == 201, paid.get_data(as_text=True)
    withdrawal = db.session.get(Withdrawal, paid.get_json()["id"])
    entry = db.session.get(JournalEntry, withdrawal.entry_id)
    assert entry.recorded_at == entry.posted_at


@pytest.mark.browser
def test_receipt_and_check_page_screens(browser, live_server, offline):
    """Screenshots of the receipt page (tablet sizes) and the public check page (also a phone)
    of the deposit booked later: the note visible, no horizontal overflow."""
    _member_no, late, _online = offline
    note = _expected_note(late["recorded_at"], late["posted_at"])
    check_path = urlsplit(verify_url(late["receipt_no"])).path
    ARTIFACTS.mkdir(exist_ok=True)
    screens = [("receipt", f"/counter/receipt/{late['receipt_no']}", "#receipt-time", (800, 1280)),
               ("receipt", f"/counter/receipt/{late['receipt_no']}", "#receipt-time", (1280, 800)),
               ("verify", check_path, "#receipt-date", (800, 1280)),
               ("verify", check_path, "#receipt-date", (1280, 800)),
               ("verify", check_path, "#receipt-date", (390, 844))]
    for name, path, selector, (width, height) in screens:
        context = sized_context(browser, live_server, width, height)
        page = context.new_page()
        if name == "receipt":
            log_in(page, "op_a")
        page.goto(path)
        cell = page.locator(selector)
        assert note in " ".join(cell.inner_text().split())
        assert cell.locator(".posted-note").is_visible()
        box = cell.locator(".posted-note").bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= width
        page.screenshot(path=str(ARTIFACTS / f"capture-time-{name}-{width}x{height}.png"), full_page=True)
        assert page.evaluate("() => document.documentElement.scrollWidth") <= width
        context.close()
