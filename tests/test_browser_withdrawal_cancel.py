"""A withdrawal cancelled on the tablet after a request that may have arrived (tester, money at
risk): the tablet asks the server (POST /api/v1/withdrawals/cancel) and keeps saying what it
holds. A lost reply: the server had booked it, so a notice names its receipt, the amount and the
member until tapped as seen, and the ledger holds it once. A stalled request: the server holds
nothing and is told never to, so the original landing after the cancel books nothing. The cancel
request carries the member number and rupiah the tablet holds, and the audit log names them.
Screenshots at 800x1280 and 1280x800 in test-artifacts/."""
from __future__ import annotations

import contextlib
import json
import time

import pytest
import requests
from sqlalchemy import func, select

from wastebank.extensions import db
from wastebank.models import AuditLog, JournalEntry, User, Withdrawal

from .test_browser import browser, sync_api  # noqa: F401  (browser is a fixture)
from .test_browser_outbox import _balance, _items, _save_withdrawal, _seed_savings, _tablet, _until
from .test_browser_screens import _check

pytestmark = pytest.mark.browser
expect = sync_api.expect
ORIGINAL = "**/api/v1/withdrawals"   # the glob does not match /api/v1/withdrawals/cancel
CANCEL = "/api/v1/withdrawals/cancel"


def _withdrawals() -> list[tuple]:
    rows = [(w.receipt_no, w.amount_idr, w.status, w.member.member_no) for w in db.session.scalars(select(Withdrawal))]
    entries = db.session.scalar(select(func.count(JournalEntry.id)).where(JournalEntry.kind == "withdrawal"))
    db.session.close()
    return rows, entries


def _cancel_audit() -> list[tuple]:
    """The audit log's cancel rows: (action, object type, object id, login, details)."""
    rows = [(r.action, r.object_type, r.object_id, db.session.get(User, r.user_id).username, json.loads(r.details))
            for r in db.session.scalars(select(AuditLog).where(AuditLog.action.like("withdrawal.cancel%"))
                                        .order_by(AuditLog.id))]
    db.session.close()
    return rows


def _cancel_bodies(page) -> list[dict]:
    """Collects the JSON body of every request the tablet posts to the cancel operation."""
    bodies: list[dict] = []
    page.on("request", lambda request: bodies.append(json.loads(request.post_data))
            if request.url.endswith(CANCEL) and request.method == "POST" else None)
    return bodies


def _cancel_from_the_queue(page) -> None:
    """Tap "Batalkan penarikan" while the withdrawal waits between two tries (the sender may take
    it just before the tap: then the tablet says it is too late and the next wait is tried)."""
    deadline = time.monotonic() + 60
    while True:
        assert time.monotonic() < deadline, "the withdrawal never waited in the queue to be cancelled"
        button = page.locator("#outbox-panel .outbox-item.queued button.cancel")
        with contextlib.suppress(sync_api.TimeoutError):
            button.click(timeout=15_000)
        with contextlib.suppress(sync_api.TimeoutError):
            expect(page.locator("#outbox-panel .outbox-item")).to_have_count(0, timeout=2_000)
            return


def _screens(page, name: str) -> None:
    for width, height in ((800, 1280), (1280, 800)):
        page.set_viewport_size({"width": width, "height": height})
        assert _check(page, name, width, height, prefix="withdrawal-cancel") == []
    page.set_viewport_size({"width": 800, "height": 1280})


def test_lost_reply_then_cancel_keeps_a_notice_naming_the_receipt(browser, live_server, net):
    member = net.members_a[0]
    member_no, name = member.member_no, member.name
    _seed_savings(member_no, "4", "seed-cancel-lost-reply-01")   # Rp 13.000
    context, page = _tablet(browser, live_server)
    asked: list[str] = []
    page.on("dialog", lambda dialog: asked.append(dialog.message))   # _tablet's own listener accepts
    answers: list[int] = []

    def lose_reply(route):
        answers.append(route.fetch().status)   # every try reaches the server, which books it once …
        route.abort("failed")                  # … and every answer is lost on the way back

    page.route(ORIGINAL, lose_reply)
    bodies = _cancel_bodies(page)
    _save_withdrawal(page, member_no, "5.000")
    key = _items(page)[0]["key"]
    _cancel_from_the_queue(page)
    assert any("mungkin sudah sampai di server" in text for text in asked), asked
    rows, entries = _withdrawals()
    assert len(rows) == 1 and entries == 1
    receipt, amount, status, number = rows[0]
    assert (amount, status, number) == (5000, "paid", member_no) and receipt
    assert answers[0] == 201 and set(answers[1:]) <= {201}   # later tries were replays
    notice = (f"Tercatat di server sebagai {receipt} (Rp\u00a05.000, {name}) tetapi uang belum diserahkan: "
              "minta pengurus unit membatalkan penarikan ini.")
    item = page.locator("#outbox-cancelled .cancelled-item.recorded")
    expect(item.locator(".cancel-notice")).to_contain_text(f"Tercatat di server sebagai {receipt}", timeout=20_000)
    text = item.locator(".cancel-notice").inner_text().replace("\u00a0", " ")
    assert text == notice.replace("\u00a0", " "), text
    expect(item.locator(".state")).to_have_text("tercatat di server")
    expect(item.locator(".who-name")).to_have_text(name)
    # The withdrawal's own screen says the same.
    expect(page.locator("#withdraw-result")).to_contain_text(f"Tercatat di server sebagai {receipt}")
    expect(page.locator("#save")).to_be_hidden()
    # The cancel named the member and the amount; the audit log links the recorded withdrawal.
    assert bodies[0] == {"idempotency_key": key, "member_no": member_no, "amount_idr": 5000}, bodies
    [(action, object_type, object_id, login, details)] = _cancel_audit()
    withdrawal_id = db.session.scalar(select(Withdrawal.id))
    db.session.close()
    assert (action, object_type, object_id, login) == \
        ("withdrawal.cancel_reported", "withdrawal", str(withdrawal_id), "op_a")
    assert details == {"idempotency_key": key, "member_no": member_no, "method": "cash", "amount_idr": 5000,
                       "status": "paid", "receipt_no": receipt}
    _screens(page, "recorded")
    # It stays on every counter page, after a reload too, until tapped as seen.
    page.unroute(ORIGINAL)
    page.goto("/counter")
    expect(page.locator("#outbox-cancelled .cancelled-item.recorded .cancel-notice")).to_contain_text(receipt)
    expect(page.locator("#outbox-panel .outbox-item")).to_have_count(0)   # not in the queue, never sent again
    page.reload()
    item = page.locator("#outbox-cancelled .cancelled-item.recorded")
    expect(item).to_have_count(1)
    item.get_by_role("button", name="Sudah dibaca").click()
    expect(page.locator("#outbox-cancelled .cancelled-item")).to_have_count(0)
    page.reload()
    page.wait_for_function("() => document.documentElement.dataset.counterReady === '1'")
    expect(page.locator("#outbox-cancelled .cancelled-item")).to_have_count(0)
    rows, entries = _withdrawals()
    assert len(rows) == 1 and entries == 1   # exactly once in the ledger
    assert _balance(member_no) == 8000
    context.close()


def test_stalled_request_then_cancel_is_not_recorded_and_the_late_original_books_nothing(browser, live_server, net):
    member = net.members_a[0]
    member_no = member.member_no
    _seed_savings(member_no, "4", "seed-cancel-stalled-01")   # Rp 13.000
    context, page = _tablet(browser, live_server)
    stalled = []
    page.route(ORIGINAL, lambda route: stalled.append(route))   # never answered: the tablet gives up at 10 s
    bodies = _cancel_bodies(page)
    page.goto(f"/counter/member/{member_no}/withdraw")
    page.fill("#amount", "5.000")
    page.click("#review")
    page.wait_for_function("() => document.documentElement.dataset.counterReady === '1'")
    page.click("#save")
    expect(page.locator("#withdraw-result")).to_contain_text("Jangan serahkan uang", timeout=25_000)
    _until(page, "async () => (await window.wastebankCounter.store.allItems()).some((i) => i.maybe_arrived)",
           timeout=30)
    _cancel_from_the_queue(page)
    item = page.locator("#outbox-cancelled .cancelled-item")
    expect(item.locator(".cancel-notice")).to_have_text("Dibatalkan: tidak tercatat di server. Jangan serahkan uang.",
                                                        timeout=20_000)
    expect(item.locator(".state")).to_have_text("dibatalkan")
    expect(page.locator("#withdraw-result")).to_have_text("Dibatalkan: tidak tercatat di server. Jangan serahkan uang.")
    assert _items(page) == []
    # The cancel carried the member number and the rupiah the tablet held: the audit log names them.
    [record] = page.evaluate("async () => (await window.wastebankCounter.sync.cancelledRecords())")
    key = record["key"]
    assert bodies and bodies[0] == {"idempotency_key": key, "member_no": member_no, "amount_idr": 5000}, bodies
    assert _cancel_audit() == [("withdrawal.cancel_unsent", "withdrawal_key", key, "op_a",
                                {"idempotency_key": key, "member_no": member_no, "amount_idr": 5000})]
    _screens(page, "not-recorded")
    # The stall ends: every request the tablet had sent lands on the server now, after the cancel.
    assert stalled
    late = []
    for route in stalled:
        request = route.request
        try:
            late.append(route.fetch().status)
        except Exception:   # the page gave up on it: the same bytes, sent as they were
            headers = {k: v for k, v in request.headers.items() if k.lower() in
                       ("authorization", "idempotency-key", "content-type", "accept-language")}
            late.append(requests.post(request.url, data=request.post_data, headers=headers, timeout=30).status_code)
        with contextlib.suppress(Exception):
            route.abort("failed")
    assert late and set(late) == {409}, late
    rows, entries = _withdrawals()
    assert rows == [] and entries == 0   # not booked
    assert _balance(member_no) == 13000
    # The notice may be closed; nothing was sent again.
    item.get_by_role("button", name="Tutup").click()
    expect(page.locator("#outbox-cancelled .cancelled-item")).to_have_count(0)
    page.unroute(ORIGINAL)
    page.evaluate("() => window.wastebankCounter.sync.kick(0)")
    page.goto("/counter")
    expect(page.locator("#outbox-panel .outbox-item")).to_have_count(0)
    expect(page.locator("#outbox-cancelled .cancelled-item")).to_have_count(0)
    record = page.evaluate("async () => (await window.wastebankCounter.sync.cancelledRecords())")
    assert [(r["check"], r["done"]) for r in record] == [("not_recorded", True)], json.dumps(record)
    assert _withdrawals() == ([], 0)
    context.close()


def test_a_cancel_whose_record_lacks_the_amount_is_settled_all_the_same(browser, live_server, net):
    """A record the tablet holds without a usable amount or member number (an older version's,
    a fraction, an over-long number): the cancel sends null for it, the server takes it, the
    tablet settles it and the audit row holds what was known — never a 422 asked for ever."""
    member_no = net.members_a[0].member_no
    context, page = _tablet(browser, live_server)
    bodies = _cancel_bodies(page)
    page.wait_for_function("() => document.documentElement.dataset.counterReady === '1'")
    records = {"cancel-old-record-0001": {"member_no": member_no, "amount_idr": 5000.5},
               "cancel-old-record-0002": {"member_no": "R" * 31, "amount_idr": 2000},
               "cancel-old-record-0003": {}}
    page.evaluate("""async (records) => {
        const c = window.wastebankCounter;
        let at = 1;
        for (const [key, extra] of Object.entries(records)) {
            await c.store.setValue("cancelled:" + key, Object.assign({ key: key, maybe_arrived: true, at: at++,
                check: "checking", done: false, username: "op_a", member_name: "Nasabah lama", attempts: 0,
                last_code: "", result: null }, extra));
        }
    }""", records)
    page.reload()   # the sender asks the server about every record still checking as it starts
    items = page.locator("#outbox-cancelled .cancelled-item.not_recorded")
    expect(items).to_have_count(3, timeout=20_000)
    expect(items.first.locator(".cancel-notice")).to_have_text(
        "Dibatalkan: tidak tercatat di server. Jangan serahkan uang.")
    # Each is listed; one without a whole amount shows none instead of blanking the list.
    amounts = [text.replace("\u00a0", " ") for text in items.locator(".amount").all_inner_texts()]
    assert amounts == ["", "Rp 2.000", ""], amounts
    assert sorted(bodies, key=lambda b: b["idempotency_key"]) == [
        {"idempotency_key": "cancel-old-record-0001", "member_no": member_no, "amount_idr": None},
        {"idempotency_key": "cancel-old-record-0002", "member_no": None, "amount_idr": 2000},
        {"idempotency_key": "cancel-old-record-0003", "member_no": None, "amount_idr": None}], bodies
    assert sorted(_cancel_audit(), key=lambda row: row[2]) == [
        ("withdrawal.cancel_unsent", "withdrawal_key", "cancel-old-record-0001", "op_a",
         {"idempotency_key": "cancel-old-record-0001", "member_no": member_no}),
        ("withdrawal.cancel_unsent", "withdrawal_key", "cancel-old-record-0002", "op_a",
         {"idempotency_key": "cancel-old-record-0002", "amount_idr": 2000}),
        ("withdrawal.cancel_unsent", "withdrawal_key", "cancel-old-record-0003", "op_a",
         {"idempotency_key": "cancel-old-record-0003"})]
    assert _withdrawals() == ([], 0)
    context.close()
