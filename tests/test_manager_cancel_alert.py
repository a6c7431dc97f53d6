"""A tester (F3): a withdrawal the server had recorded and the operator then cancelled on the
tablet (POST /api/v1/withdrawals/cancel → audit ``withdrawal.cancel_reported``) debited the
savings but the cash was not handed over; the manager learnt it only from the audit log. Now
the manager's home page lists every such withdrawal of the unit not voided yet (receipt, member
name and number, amount, when, which operator, a button to the void form) until it is voided;
the manager's withdrawal page says "Tablet melaporkan: uang belum diserahkan" with the same
button; the cash book marks the line and says how much more cash the box holds. Another unit's
case never shows. Server side, SQLite or PostgreSQL per DATABASE_URL; the browser side is in
tests/test_receipt_original_manager.py."""
from __future__ import annotations

import html
import re

from sqlalchemy import select

from wastebank.extensions import db
from wastebank.models import Withdrawal
from wastebank.services.withdrawals import cancel_reported_open

from .conftest import csrf_token
from .factories import PASSWORD, create_user
from .test_api_money_out import deposit, new_key, this_year, withdraw
from .test_cancel_audit import cancel


def text(html: str) -> str:
    """The page as read: tags removed, spaces collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def alert_items(html: str) -> list[str]:
    """The alert's rows as read, in order ([] when there is no alert)."""
    if 'id="cancel-alert"' not in html:
        return []
    block = html[html.index('id="cancel-alert"'):]
    block = block[:block.index("</ul>")]
    return [text(item) for item in re.findall(r'<li class="cancel-report"[^>]*>(.*?)</li>', block, re.S)]


def recorded_then_cancelled(client, token, member_no, amount, cancel_token=None) -> int:
    """A cash withdrawal recorded over the API, then cancelled on the tablet: its id."""
    key = new_key()
    paid = withdraw(client, token, member_no, amount, key)
    assert paid.status_code == 201, paid.get_data(as_text=True)
    answer = cancel(client, cancel_token or token, key)
    assert answer.status_code == 200 and answer.get_json()["recorded"] is True
    return paid.get_json()["id"]


def test_home_lists_each_unvoided_cancel_report_of_the_unit_only(client, net, tokens, login):
    siti, joko = net.members_a[0], net.members_a[1]
    rina = net.members_b[0]
    deposit(client, tokens["op_a"], siti.member_no, "5")  # Rp 10.000 (receipt 000001)
    deposit(client, tokens["op_a"], joko.member_no, "5")  # 000002
    deposit(client, tokens["op_b"], rina.member_no, "5")
    first = recorded_then_cancelled(client, tokens["op_a"], siti.member_no, 4000)  # 000003
    second = recorded_then_cancelled(client, tokens["op_a"], joko.member_no, 2500, tokens["mgr_a"])  # 000004
    other = recorded_then_cancelled(client, tokens["op_b"], rina.member_no, 3000)  # RW07's
    # A paid withdrawal nobody cancelled is no alert.
    assert withdraw(client, tokens["op_a"], siti.member_no, 1000).status_code == 201
    year = this_year()
    login("mgr_a")
    page = client.get("/manager/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert ("Uang belum diserahkan: penarikan dibatalkan di tablet padahal sudah tercatat") in text(html)
    assert "Tabungan nasabah sudah dikurangi, tetapi petugas tidak menyerahkan uangnya." in text(html)
    items = alert_items(html)
    assert len(items) == 2
    assert items[0].startswith(f"RW05-{year}-000003 · Siti Aminah ( {siti.member_no} ) · Rp 4.000 "
                               "Dibatalkan di tablet ")
    assert items[0].endswith("oleh Dewi Operator. Batalkan penarikan ini Rincian")
    assert items[1].startswith(f"RW05-{year}-000004 · Joko Susilo ( {joko.member_no} ) · Rp 2.500 ")
    assert "oleh Budi Pengurus." in items[1]
    assert f'href="/counter/withdrawal/{first}/void"' in html and f'href="/manager/withdrawals/{first}"' in html
    assert f'href="/counter/withdrawal/{second}/void"' in html
    # Another unit's case never shows, by number, member or link.
    assert "RW07" not in html and rina.name not in html and f"/withdrawal/{other}/" not in html
    # RW07's manager sees RW07's case only.
    create_user("mgr_b", "unit_manager", PASSWORD, unit=net.unit_b, full_name="Wati Pengurus")
    db.session.commit()
    client.post("/logout", data={"csrf_token": csrf_token(html)})
    login("mgr_b")
    [only] = alert_items(client.get("/manager/").get_data(as_text=True))
    assert only.startswith(f"RW07-{year}-") and "Rina Wati" in only and "Rp 3.000" in only and "Sari Operator" in only


def test_the_alert_goes_once_the_withdrawal_is_voided(client, net, tokens, login):
    siti = net.members_a[0]
    deposit(client, tokens["op_a"], siti.member_no, "5")
    withdrawal_id = recorded_then_cancelled(client, tokens["op_a"], siti.member_no, 4000)
    login("mgr_a")
    assert len(alert_items(client.get("/manager/").get_data(as_text=True))) == 1
    # The alert's button: the void form; voiding without a reason is refused and the alert stays.
    form = client.get(f"/counter/withdrawal/{withdrawal_id}/void").get_data(as_text=True)
    key = re.search(r'name="idempotency_key"[^>]*value="([^"]+)"', form) or \
        re.search(r'value="([^"]+)"[^>]*name="idempotency_key"', form)
    refused = client.post(f"/counter/withdrawal/{withdrawal_id}/void",
                          data={"csrf_token": csrf_token(form), "idempotency_key": key.group(1), "reason": ""})
    assert refused.status_code in (400, 422)
    assert len(alert_items(client.get("/manager/").get_data(as_text=True))) == 1
    done = client.post(f"/counter/withdrawal/{withdrawal_id}/void",
                       data={"csrf_token": csrf_token(form), "idempotency_key": key.group(1),
                             "reason": "uang belum diserahkan, dibatalkan di tablet"})
    assert done.status_code == 302, done.get_data(as_text=True)[:800]
    home = client.get("/manager/").get_data(as_text=True)
    assert alert_items(home) == [] and 'id="cancel-alert"' not in home
    db.session.rollback()
    assert db.session.get(Withdrawal, withdrawal_id).void_entry_id is not None
    assert cancel_reported_open(net.unit_a.id) == []
    assert [r.withdrawal.id for r in cancel_reported_open(net.unit_a.id, include_voided=True)] == [withdrawal_id]
    # The withdrawal's page no longer asks for a void; the cash book marks the line as voided.
    page = client.get(f"/manager/withdrawals/{withdrawal_id}").get_data(as_text=True)
    assert 'id="cancel-note"' not in page and "BATAL" in text(page)
    book = client.get("/manager/cashbook").get_data(as_text=True)
    assert "Tablet: uang belum diserahkan; sudah dibatalkan, uang kembali ke tabungan" in text(book)
    assert 'id="cashbook-cancel-note"' not in book


def test_the_withdrawal_page_and_the_cash_book_say_the_cash_was_not_handed_over(client, net, tokens, login):
    siti = net.members_a[0]
    deposit(client, tokens["op_a"], siti.member_no, "5")
    withdrawal_id = recorded_then_cancelled(client, tokens["op_a"], siti.member_no, 4000)
    plain = withdraw(client, tokens["op_a"], siti.member_no, 1000)
    assert plain.status_code == 201
    login("mgr_a")
    page = client.get(f"/manager/withdrawals/{withdrawal_id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    start = html.index(">", html.index('id="cancel-note"')) + 1
    note = text(html[start:html.index("</div>", start)])
    assert note.startswith("Tablet melaporkan: uang belum diserahkan Dewi Operator membatalkan penarikan ini di "
                           "tablet ")
    assert ("padahal server sudah mencatatnya. Tabungan sudah dikurangi Rp 4.000, tetapi nasabah tidak menerima "
            "uangnya.") in note
    assert note.endswith("Batalkan penarikan ini")
    assert f'id="cancel-void" href="/counter/withdrawal/{withdrawal_id}/void"' in html
    # A withdrawal nobody cancelled has no such note.
    other = client.get(f"/manager/withdrawals/{plain.get_json()['id']}").get_data(as_text=True)
    assert 'id="cancel-note"' not in other and "Tablet melaporkan" not in other
    # The cash book: the line marked and linked, the difference said above the table.
    book = client.get("/manager/cashbook").get_data(as_text=True)
    rows = re.findall(r'<tr class="cancel-reported"[^>]*>(.*?)</tr>', book, re.S)
    assert len(rows) == 1
    row = text(rows[0])
    assert (f"Penarikan tunai · RW05-{this_year()}-000002 · {siti.member_no} Siti Aminah "
            "Tablet: uang belum diserahkan; belum dibatalkan Rp 4.000") in row
    assert f'href="/manager/withdrawals/{withdrawal_id}"' in rows[0]
    assert ("Kas berisi Rp 4.000 lebih banyak daripada buku ini: tablet melaporkan uang penarikan yang ditandai "
            "belum diserahkan.") in text(book)
    # English.
    client.post("/lang/en", data={"csrf_token": csrf_token(book)})
    english = text(client.get(f"/manager/withdrawals/{withdrawal_id}").get_data(as_text=True))
    assert "The tablet reported: the cash was not handed over" in english
    assert "Cash not handed over: withdrawals cancelled on the tablet after they were recorded" in text(
        client.get("/manager/").get_data(as_text=True))


def test_another_units_withdrawal_page_is_404_and_operators_are_refused(client, net, tokens, login):
    rina = net.members_b[0]
    deposit(client, tokens["op_b"], rina.member_no, "5")
    other = recorded_then_cancelled(client, tokens["op_b"], rina.member_no, 3000)
    assert [r.withdrawal.id for r in cancel_reported_open(net.unit_b.id)] == [other]
    assert cancel_reported_open(net.unit_a.id) == []
    assert cancel_reported_open(net.unit_a.id, [other]) == []
    login("mgr_a")
    assert client.get(f"/manager/withdrawals/{other}").status_code == 404
    book = client.get("/manager/cashbook").get_data(as_text=True)
    assert "cancel-reported" not in book and "Tablet: uang" not in book
    client.post("/logout", data={"csrf_token": csrf_token(book)})
    login("op_b")
    assert client.get(f"/manager/withdrawals/{other}").status_code == 403
    assert db.session.scalar(select(Withdrawal.receipt_shown_at).where(Withdrawal.id == other)) is None


def test_the_counter_withdrawal_page_says_it_too_until_voided(client, net, tokens, login):
    """The counter's own page of that withdrawal (linked from the tablet's queue) carries the same
    red note with the void button; an ordinary withdrawal's page has none."""
    deposit(client, tokens["op_a"], net.members_a[0].member_no, "5")  # Rp 10.000
    reported = recorded_then_cancelled(client, tokens["op_a"], net.members_a[0].member_no, 5000)
    plain = withdraw(client, tokens["op_a"], net.members_a[0].member_no, 1000).get_json()["id"]
    login("mgr_a")
    page = text(client.get(f"/counter/withdrawal/{reported}").get_data(as_text=True))
    assert "Tablet melaporkan: uang belum diserahkan" in page
    assert "Batalkan penarikan ini" in page
    assert "Tablet melaporkan" not in text(client.get(f"/counter/withdrawal/{plain}").get_data(as_text=True))


def test_the_day_cannot_be_closed_while_such_a_withdrawal_is_not_voided(client, net, tokens, login):
    """The cash book said "void it first, then count", and the close went through anyway (a
    tester): the difference posted as a cash adjustment would then be counted twice once the
    withdrawal is voided. The check step and the close refuse (409) naming the receipt and the
    rupiah, and nothing is written; voided, the day closes with the cash matching."""
    from wastebank.models import DayClose, JournalEntry
    from wastebank.timeutil import local_today

    day = local_today().isoformat()

    siti = net.members_a[0]
    deposit(client, tokens["op_a"], siti.member_no, "5")
    withdrawal_id = recorded_then_cancelled(client, tokens["op_a"], siti.member_no, 4000)
    receipt = db.session.get(Withdrawal, withdrawal_id).receipt_no
    db.session.rollback()
    login("mgr_a")
    page = client.get("/manager/cashbook").get_data(as_text=True)
    refusal = (f"Hari ini belum dapat ditutup: penarikan {receipt} dibatalkan di tablet setelah tercatat, dan uangnya "
               "belum diserahkan, sehingga hitungan kas akan selisih Rp\u00a04.000. Batalkan penarikan itu dulu "
               '(Kelola → "Batalkan penarikan ini"), lalu hitung kas.')
    for step in ({"step": "check"}, {}):   # the check, and a close posted without it
        answer = client.post("/manager/cashbook/close", data={"csrf_token": csrf_token(page), "counted": "4.000",
                                                                    "business_date": day, **step})
        assert answer.status_code == 409, (step, answer.status_code)
        shown = html.unescape(text(answer.get_data(as_text=True))).replace("\u00a0", " ")
        assert refusal.replace("\u00a0", " ") in shown
    db.session.rollback()
    assert db.session.scalars(select(DayClose)).all() == []
    assert db.session.scalars(select(JournalEntry).where(JournalEntry.kind == "cash_count")).all() == []
    form = client.get(f"/counter/withdrawal/{withdrawal_id}/void").get_data(as_text=True)
    key = re.search(r'name="idempotency_key"[^>]*value="([^"]+)"', form) or \
        re.search(r'value="([^"]+)"[^>]*name="idempotency_key"', form)
    voided = client.post(f"/counter/withdrawal/{withdrawal_id}/void",
                         data={"csrf_token": csrf_token(form), "idempotency_key": key.group(1),
                               "reason": "uang belum diserahkan, dibatalkan di tablet"})
    assert voided.status_code == 302
    page = client.get("/manager/cashbook").get_data(as_text=True)
    closed = client.post("/manager/cashbook/close", data={"csrf_token": csrf_token(page), "counted": "0",
                                                                "business_date": day})
    assert closed.status_code == 302, closed.get_data(as_text=True)[:600]
    db.session.rollback()
    (close,) = db.session.scalars(select(DayClose)).all()
    assert (close.expected_cash_idr, close.counted_cash_idr, close.difference_idr) == (0, 0, 0)
