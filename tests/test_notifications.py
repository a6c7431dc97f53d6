"""Notifications (issue 12 item 1): queued in the money's transaction, drained by a sender with
claims, retries, backoff and a per-member rate limit; the HTTP sender against a local server."""
from __future__ import annotations

import json
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest
from sqlalchemy import func, select

from wastebank.extensions import db
from wastebank.models import Deposit, Notification, Withdrawal, clock_at, utcnow
from wastebank.notifications.drain import backoff, outbox_counts, send_pending
from wastebank.notifications.senders import HttpSender, LogSender, SendError, fill_template, sender_from_config
from wastebank.services.deposits import LineInput, record_deposit
from wastebank.services.notifications import (queue_for_deposit, queue_for_void, queue_for_withdrawal,
                                              set_member_consent, set_unit_notifications)
from wastebank.services.receipt_links import receipt_verify_url
from wastebank.services.transaction import run_in_transaction
from wastebank.services.withdrawals import WithdrawalInput, record_withdrawal, void_withdrawal

PHONE = "+6281234567890"


def _count(status: str | None = None) -> int:
    query = select(func.count()).select_from(Notification)
    if status:
        query = query.where(Notification.status == status)
    return db.session.scalar(query)


def _opt_in(net, member=None):
    member = member or net.members_a[0]
    net.unit_a.notify_enabled = True
    member.phone, member.notify_consent = PHONE, True
    db.session.commit()
    return member


def _deposit(net, member, key="tablet-n-0001", quantity="1,5"):
    return run_in_transaction(lambda: record_deposit(
        net.unit_a, member, [LineInput("PET-CLEAN", quantity)], operator_id=net.users["op_a"].id,
        idempotency_key=key))


def _deposit_row(outcome) -> Deposit:
    return db.session.scalar(select(Deposit).where(Deposit.receipt_no == outcome.body["receipt_no"]))


def _queued_for(deposit: Deposit) -> list[Notification]:
    return list(db.session.scalars(select(Notification).where(
        Notification.source_type == "deposit", Notification.source_id == deposit.id)))


# --- queueing ---------------------------------------------------------------------------------


def test_deposit_message_text_is_indonesian_with_amount_balance_and_verify_url(net):
    member = _opt_in(net)
    deposit = _deposit_row(_deposit(net, member))
    note = queue_for_deposit(deposit) or _queued_for(deposit)[0]
    db.session.commit()
    assert (note.unit_id, note.member_id, note.event, note.phone, note.status, note.attempts) == (
        net.unit_a.id, member.id, "deposit", PHONE, "queued", 0)
    url = receipt_verify_url("deposit", deposit.receipt_no)
    assert note.body == (f"Bank Sampah Melati RW 05: setoran {deposit.receipt_no} dicatat, Rp 4.875 masuk ke "
                         f"tabungan Anda. Saldo baru: Rp 4.875. Periksa bukti: {url}")
    assert note.next_attempt_at <= utcnow() and note.sent_at is None


def test_verify_url_is_the_receipts_own(net):
    from wastebank.counter.receipts import verify_url, withdrawal_verify_url

    assert receipt_verify_url("deposit", "RW05-2026-000001") == verify_url("RW05-2026-000001")
    assert receipt_verify_url("withdrawal", "RW05-2026-000002") == withdrawal_verify_url("RW05-2026-000002")
    assert receipt_verify_url("deposit", "RW05-2026-000001").startswith("https://bank.example/r/RW05-2026-000001/")


def test_queue_twice_for_one_deposit_keeps_one_message(net):
    member = _opt_in(net)
    deposit = _deposit_row(_deposit(net, member))
    first = queue_for_deposit(deposit)
    again = queue_for_deposit(deposit)
    db.session.commit()
    assert again.id == first.id and len(_queued_for(deposit)) == 1


@pytest.mark.parametrize("what", ["unit_off", "no_consent", "no_phone"])
def test_nothing_is_queued_without_unit_switch_consent_or_phone(net, what):
    member = _opt_in(net)
    if what == "unit_off":
        net.unit_a.notify_enabled = False
    elif what == "no_consent":
        member.notify_consent = False
    else:
        member.phone = ""
    db.session.commit()
    deposit = _deposit_row(_deposit(net, member))
    assert queue_for_deposit(deposit) is None
    db.session.commit()
    assert _count() == 0


def test_defaults_are_off(net):
    assert net.unit_a.notify_enabled is False and net.members_a[0].notify_consent is False


def test_withdrawal_and_void_messages(net):
    member = _opt_in(net)
    deposit = _deposit_row(_deposit(net, member, quantity="10"))  # Rp 32.500
    outcome = run_in_transaction(lambda: record_withdrawal(
        net.unit_a, member, WithdrawalInput("cash", "10000"), user=net.users["op_a"], idempotency_key="wd-n-000001"))
    withdrawal = db.session.get(Withdrawal, outcome.body["id"])
    note = run_in_transaction(lambda: queue_for_withdrawal(withdrawal)) or db.session.scalar(
        select(Notification).where(Notification.event == "withdrawal"))
    url = receipt_verify_url("withdrawal", withdrawal.receipt_no)
    assert note.body == (f"Bank Sampah Melati RW 05: penarikan {withdrawal.receipt_no} dibayar, Rp 10.000. "
                         f"Saldo baru: Rp 22.500. Periksa bukti: {url}")
    assert "/r/w/" in url
    run_in_transaction(lambda: void_withdrawal(withdrawal, user=net.users["mgr_a"], reason="salah ketik",
                                               idempotency_key="void-n-000001"))
    run_in_transaction(lambda: queue_for_void(withdrawal))
    void = db.session.scalar(select(Notification).where(Notification.event == "void"))
    assert (void.source_type, void.source_id, void.status) == ("withdrawal", withdrawal.id, "queued")
    assert void.body == (f"Bank Sampah Melati RW 05: penarikan {withdrawal.receipt_no} (Rp 10.000) dibatalkan. "
                         f"Saldo baru: Rp 32.500. Periksa bukti: {url}")
    assert deposit.credited_idr == 32500


def test_pending_withdrawal_queues_nothing(net):
    member = _opt_in(net)
    _deposit(net, member, quantity="10")
    net.unit_a.approval_threshold_idr = 5000
    db.session.commit()
    outcome = run_in_transaction(lambda: record_withdrawal(
        net.unit_a, member, WithdrawalInput("cash", "10000"), user=net.users["op_a"], idempotency_key="wd-n-000002"))
    assert outcome.status == 202
    assert queue_for_withdrawal(db.session.get(Withdrawal, outcome.body["id"])) is None


def test_settings_are_audited(net):
    from wastebank.models import AuditLog
    from wastebank.services.audit import ACTION_LABELS

    member = net.members_a[0]
    assert run_in_transaction(lambda: set_unit_notifications(net.unit_a, True, user_id=net.users["mgr_a"].id))
    assert not run_in_transaction(lambda: set_unit_notifications(net.unit_a, True, user_id=None))
    assert run_in_transaction(lambda: set_member_consent(member, True, user_id=net.users["op_a"].id))
    assert run_in_transaction(lambda: set_member_consent(member, False, user_id=None, by_resident=True))
    actions = [row.action for row in db.session.scalars(select(AuditLog).order_by(AuditLog.id))]
    assert actions[-3:] == ["unit.notify", "member.notify_consent", "member.notify_consent"]
    assert {"unit.notify", "member.notify_consent"} <= set(ACTION_LABELS)
    last = json.loads(db.session.scalars(select(AuditLog).order_by(AuditLog.id.desc())).first().details)
    assert last["by_resident"] is True and last["after"] == {"notify_consent": False}


# --- the drainer ------------------------------------------------------------------------------


def _queue_one(net, member=None, key="tablet-n-0100", quantity="1,5") -> Notification:
    member = member or _opt_in(net)
    deposit = _deposit_row(_deposit(net, member, key=key, quantity=quantity))
    found = _queued_for(deposit)
    note = found[0] if found else run_in_transaction(lambda: queue_for_deposit(deposit))
    return note


def test_log_sender_sends_once_and_marks_sent(net, caplog):
    note = _queue_one(net)
    sender = LogSender()
    with caplog.at_level("INFO", logger="wastebank.notifications"):
        first = send_pending(sender=sender)
    again = send_pending(sender=sender)
    db.session.refresh(note)
    assert (first.sent, again.sent) == (1, 0)
    assert sender.sent == [(PHONE, note.body)]
    assert note.status == "sent" and note.attempts == 1 and note.sent_at is not None
    assert f"notification to {PHONE}" in caplog.text


class _Gateway:
    """A local HTTP gateway: answers the scripted ``(status, delay seconds)`` in turn (then 200)
    and records every request's path, headers and body."""

    def __init__(self, script=()):
        self.script = list(script)
        self.requests: list[dict] = []
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode()
                gateway.requests.append({"path": self.path, "headers": dict(self.headers), "body": raw})
                status, delay = gateway.script.pop(0) if gateway.script else (200, 0)
                if delay:
                    time.sleep(delay)
                payload = json.dumps({"status": status == 200, "detail": "server down" if status >= 500 else "ok"})
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.end_headers()
                    self.wfile.write(payload.encode())
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/send"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def gateway():
    made = []

    def make(script=()):
        made.append(_Gateway(script))
        return made[-1]

    yield make
    for g in made:
        g.close()


def _http(app, url, **overrides):
    config = {"NOTIFY_SENDER": "http", "NOTIFY_URL": url, "NOTIFY_TOKEN": "rahasia-gateway",
              "NOTIFY_TEMPLATE": '{"target": "{phone_digits}", "message": "{text}", "countryCode": "62"}',
              "NOTIFY_TIMEOUT_SECONDS": 2}
    config.update(overrides)
    app.config.update(config)
    return sender_from_config(app.config)


def test_http_sender_fills_the_template_and_sends_once(app, net, gateway):
    gw = gateway()
    note = _queue_one(net)
    sender = _http(app, gw.url)
    assert send_pending().sent == 1  # the configured (http) sender
    assert send_pending(sender=sender).sent == 0
    assert len(gw.requests) == 1
    request = gw.requests[0]
    assert request["path"] == "/send"
    assert request["headers"]["Authorization"] == "Bearer rahasia-gateway"
    assert json.loads(request["body"]) == {"target": "6281234567890", "message": note.body, "countryCode": "62"}
    db.session.refresh(note)
    assert (note.status, note.attempts, note.last_error) == ("sent", 1, "")


def test_form_body_and_bare_token_header(app, net, gateway):
    gw = gateway()
    note = _queue_one(net)
    _http(app, gw.url, NOTIFY_BODY_FORMAT="form", NOTIFY_TOKEN_PREFIX="")
    assert send_pending().sent == 1
    assert gw.requests[0]["headers"]["Authorization"] == "rahasia-gateway"
    assert parse_qs(gw.requests[0]["body"]) == {"target": ["6281234567890"], "message": [note.body],
                                                "countryCode": ["62"]}


def test_gateway_500_then_success_is_retried_with_backoff_and_sent_once(app, net, gateway):
    gw = gateway([(500, 0)])
    note = _queue_one(net)
    _http(app, gw.url)
    first = send_pending()
    db.session.refresh(note)
    assert (first.sent, first.retrying) == (0, 1)
    assert (note.status, note.attempts) == ("queued", 1)
    assert note.last_error == 'HTTP 500: {"status": false, "detail": "server down"}'
    assert timedelta(seconds=55) < note.next_attempt_at - utcnow() <= timedelta(seconds=60)
    assert send_pending().sent == 0  # not due yet: no second request
    assert len(gw.requests) == 1
    with clock_at(utcnow() + timedelta(seconds=61)):
        second = send_pending()
    db.session.refresh(note)
    assert second.sent == 1 and len(gw.requests) == 2
    assert (note.status, note.attempts) == ("sent", 2)
    assert note.last_error.startswith("HTTP 500")  # the last error stays visible after the retry
    with clock_at(utcnow() + timedelta(hours=1)):
        assert send_pending().sent == 0
    assert len(gw.requests) == 2


def test_timeout_counts_as_an_error(app, net, gateway):
    gw = gateway([(200, 1.5)])
    note = _queue_one(net)
    _http(app, gw.url, NOTIFY_TIMEOUT_SECONDS=0.5)
    assert send_pending().retrying == 1
    db.session.refresh(note)
    assert (note.status, note.attempts, note.last_error) == ("queued", 1, "timeout after 0.5 s")


def test_connection_refused_is_an_error_with_reason(app, net, gateway):
    gw = gateway()
    url = gw.url
    gw.close()
    note = _queue_one(net)
    _http(app, url)
    assert send_pending().retrying == 1
    db.session.refresh(note)
    assert note.last_error.startswith("connection error: ConnectionError")


def test_after_max_attempts_the_message_fails(app, net, gateway):
    gw = gateway([(500, 0)] * 3)
    note = _queue_one(net)
    _http(app, gw.url, NOTIFY_MAX_ATTEMPTS=3, NOTIFY_RETRY_SECONDS=10)
    counts = []
    for minutes in (0, 1, 3, 10):
        with clock_at(utcnow() + timedelta(minutes=minutes)):
            result = send_pending()
        counts.append((result.retrying, result.failed))
    db.session.refresh(note)
    assert counts == [(1, 0), (1, 0), (0, 1), (0, 0)]
    assert (note.status, note.attempts) == ("failed", 3) and len(gw.requests) == 3
    assert outbox_counts(net.unit_a.id) == {"queued": 0, "sent": 0, "failed": 1}


def test_backoff_doubles_and_is_capped():
    assert [backoff(n, 60).total_seconds() for n in (1, 2, 3, 4)] == [60, 120, 240, 480]
    assert backoff(30, 60) == timedelta(hours=6)


def test_rate_limit_per_member_holds_the_rest(app, net):
    member = _opt_in(net)
    other = _opt_in(net, net.members_a[1])
    app.config["NOTIFY_MEMBER_PER_HOUR"] = 2
    notes = [_queue_one(net, member, key=f"tablet-r-{i:04d}") for i in range(3)]
    other_note = _queue_one(net, other, key="tablet-r-0099")
    sender = LogSender()
    result = send_pending(sender=sender)
    assert (result.sent, result.waiting) == (3, 1)
    assert [phone for phone, _text in sender.sent].count(PHONE) == 3  # 2 for member, 1 for the other
    for note in notes + [other_note]:
        db.session.refresh(note)
    assert [n.status for n in notes] == ["sent", "sent", "queued"]
    held = notes[2]
    assert held.attempts == 0 and held.last_error == ""
    assert timedelta(minutes=59) < held.next_attempt_at - utcnow() <= timedelta(hours=1)
    with clock_at(utcnow() + timedelta(minutes=30)):
        assert send_pending(sender=sender).sent == 0
    with clock_at(utcnow() + timedelta(minutes=61)):
        assert send_pending(sender=sender).sent == 1
    db.session.refresh(held)
    assert held.status == "sent"


def test_two_drainers_at_once_send_each_message_once(app, net, gateway, database_url):
    from wastebank import create_app

    gw = gateway([(200, 0.2)] * 6)
    member = _opt_in(net)
    app.config["NOTIFY_MEMBER_PER_HOUR"] = 100
    for i in range(6):
        _queue_one(net, member, key=f"tablet-c-{i:04d}")
    db.session.close()
    results = []
    # Two apps made here, not in the threads: building an app registers blueprints on shared objects.
    apps = [create_app("testing", {"SQLALCHEMY_DATABASE_URI": database_url, "PUBLIC_BASE_URL": "https://bank.example",
                                   "NOTIFY_SENDER": "http", "NOTIFY_URL": gw.url, "NOTIFY_MEMBER_PER_HOUR": 100})
            for _ in range(2)]

    def drain(other):
        with other.app_context():
            results.append(send_pending().sent)
            db.session.remove()
            db.engine.dispose()

    threads = [threading.Thread(target=drain, args=(other,)) for other in apps]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sum(results) == 6
    bodies = [json.loads(r["body"])["message"] for r in gw.requests]
    assert len(bodies) == 6 and len(set(bodies)) == 6
    assert _count("sent") == 6


def test_fill_template_keeps_json_valid_whatever_the_text():
    filled = fill_template('{"to": "{phone}", "msg": "{text}", "n": 1}', "+62811", 'Saldo "Rp 1.000"\nbaris 2')
    assert filled == {"to": "+62811", "msg": 'Saldo "Rp 1.000"\nbaris 2', "n": 1}


def test_misconfigured_sender_is_refused_before_claiming(app, net):
    _queue_one(net)
    app.config.update(NOTIFY_SENDER="http", NOTIFY_URL="")
    with pytest.raises(ValueError, match="NOTIFY_URL"):
        send_pending()
    app.config.update(NOTIFY_SENDER="pigeon")
    with pytest.raises(ValueError, match="log or http"):
        send_pending()
    assert _count("queued") == 1
    with pytest.raises(ValueError):
        HttpSender("http://x", template="[1]")
    with pytest.raises(SendError):
        raise SendError("x")


# --- the commands -----------------------------------------------------------------------------


def test_cli_send_and_list(app, net, gateway):
    gw = gateway([(500, 0)])
    note = _queue_one(net)
    _http(app, gw.url)
    run = app.test_cli_runner().invoke
    first = run(args=["notify", "send"])
    assert first.exit_code == 0, first.output
    assert first.output.strip() == "sent 0, retrying 1, failed 0, waiting (rate limit) 0"
    listed = run(args=["notify", "list", "--status", "queued"])
    assert listed.exit_code == 0
    line = listed.output.splitlines()[0].split("\t")
    assert line[1:] == ["RW05", note.member.member_no, "deposit", "queued", "1",
                        'HTTP 500: {"status": false, "detail": "server down"}']
    assert line[0].endswith("WIB")
    assert listed.output.splitlines()[-1] == "1 messages"
    with clock_at(utcnow() + timedelta(minutes=2)):
        assert run(args=["notify", "send"]).output.strip() == "sent 1, retrying 0, failed 0, waiting (rate limit) 0"
    assert run(args=["notify", "list", "--status", "queued"]).output.strip() == "0 messages"
    assert "\tsent\t2\t" in run(args=["notify", "list", "--unit", "rw05"]).output
    bad = run(args=["notify", "list", "--status", "lost"])
    assert bad.exit_code == 2


def test_cli_unit_switch_and_bad_config(app, net):
    run = app.test_cli_runner().invoke
    assert run(args=["notify", "unit", "RW07", "on"]).output.strip() == "unit RW07: notifications on"
    assert run(args=["notify", "unit", "RW07", "on"]).output.strip() == "unit RW07: notifications on (unchanged)"
    db.session.refresh(net.unit_b)
    assert net.unit_b.notify_enabled is True
    missing = run(args=["notify", "unit", "NOPE", "on"])
    assert missing.exit_code == 1 and "no unit 'NOPE'" in missing.output
    app.config.update(NOTIFY_SENDER="http", NOTIFY_URL="")
    refused = run(args=["notify", "send"])
    assert refused.exit_code == 1 and "NOTIFY_URL is empty" in refused.output


# --- queued by the money services, in their transaction ---------------------------------------


def test_a_deposit_queues_exactly_one_message_inside_its_transaction(net):
    member = _opt_in(net)
    seen = []

    def operation():
        outcome = record_deposit(net.unit_a, member, [LineInput("PET-CLEAN", "1,5")],
                                 operator_id=net.users["op_a"].id, idempotency_key="tablet-h-0001")
        seen.append(_count())  # before the commit: the row is part of this transaction
        return outcome

    outcome = run_in_transaction(operation)
    assert seen == [1] and _count("queued") == 1
    note = db.session.scalar(select(Notification))
    assert (note.event, note.source_type, note.source_id) == ("deposit", "deposit", outcome.body["id"])
    assert outcome.body["receipt_no"] in note.body and "Saldo baru: Rp 4.875" in note.body


def test_a_replay_with_the_same_key_queues_nothing_more(net):
    member = _opt_in(net)
    first = _deposit(net, member, key="tablet-h-0002")
    again = _deposit(net, member, key="tablet-h-0002")
    assert again.replayed and again.body == first.body
    assert _count() == 1


def test_a_deposit_rolled_back_after_the_work_queues_nothing(net):
    member = _opt_in(net)

    def operation():
        record_deposit(net.unit_a, member, [LineInput("PET-CLEAN", "1,5")], operator_id=net.users["op_a"].id,
                       idempotency_key="tablet-h-0003")
        assert _count() == 1
        raise RuntimeError("printer on fire")

    with pytest.raises(RuntimeError):
        run_in_transaction(operation)
    assert _count() == 0 and db.session.scalar(select(func.count()).select_from(Deposit)) == 0


def test_a_deposit_refused_by_the_database_queues_nothing(net):
    from sqlalchemy import update

    from wastebank.models import Unit
    from wastebank.services.errors import DatabaseRefused

    member = _opt_in(net)

    def operation():
        record_deposit(net.unit_a, member, [LineInput("PET-CLEAN", "1,5")], operator_id=net.users["op_a"].id,
                       idempotency_key="tablet-h-0004")
        # A CHECK constraint refuses this in the same transaction (fee above 30 %).
        db.session.execute(update(Unit).where(Unit.id == net.unit_a.id).values(fee_bp=9000))
        db.session.flush()

    with pytest.raises(DatabaseRefused):
        run_in_transaction(operation)
    assert _count() == 0 and db.session.scalar(select(func.count()).select_from(Deposit)) == 0


def test_a_deposit_without_consent_queues_nothing(net):
    member = net.members_a[0]
    net.unit_a.notify_enabled, member.phone = True, PHONE
    db.session.commit()
    _deposit(net, member, key="tablet-h-0005")
    assert _count() == 0


def test_withdrawal_paid_later_and_void_queue_through_the_services(net):
    from wastebank.services.withdrawals import approve_withdrawal, pay_withdrawal

    member = _opt_in(net)
    _deposit(net, member, key="tablet-h-0006", quantity="10")  # Rp 32.500
    net.unit_a.approval_threshold_idr = 5000
    db.session.commit()
    outcome = run_in_transaction(lambda: record_withdrawal(
        net.unit_a, member, WithdrawalInput("cash", "10000"), user=net.users["op_a"], idempotency_key="wd-h-000001"))
    withdrawal = db.session.get(Withdrawal, outcome.body["id"])
    assert outcome.status == 202 and _count() == 1  # the deposit's only: pending is not paid
    run_in_transaction(lambda: approve_withdrawal(withdrawal, user=net.users["mgr_a"]))
    assert _count() == 1
    run_in_transaction(lambda: pay_withdrawal(withdrawal, user=net.users["op_a"]))
    paid = db.session.scalar(select(Notification).where(Notification.event == "withdrawal"))
    assert paid.source_id == withdrawal.id and "Rp 10.000. Saldo baru: Rp 22.500." in paid.body
    run_in_transaction(lambda: void_withdrawal(withdrawal, user=net.users["mgr_a"], reason="salah ketik",
                                               idempotency_key="void-h-000001"))
    run_in_transaction(lambda: void_withdrawal(withdrawal, user=net.users["mgr_a"], reason="salah ketik",
                                               idempotency_key="void-h-000001"))  # a replay
    voids = list(db.session.scalars(select(Notification).where(Notification.event == "void")))
    assert len(voids) == 1 and "dibatalkan. Saldo baru: Rp 32.500." in voids[0].body
    assert _count() == 3


def test_a_paid_withdrawal_queues_one_message(net):
    member = _opt_in(net)
    _deposit(net, member, key="tablet-h-0007", quantity="10")
    for _ in range(2):
        run_in_transaction(lambda: record_withdrawal(
            net.unit_a, member, WithdrawalInput("cash", "5000"), user=net.users["op_a"], idempotency_key="wd-h-000002"))
    notes = list(db.session.scalars(select(Notification).where(Notification.event == "withdrawal")))
    assert len(notes) == 1 and "Saldo baru: Rp 27.500." in notes[0].body


# --- the manager's screen ---------------------------------------------------------------------


def test_manager_page_lists_status_and_reason_and_switches_the_unit(app, net, client, login, gateway):
    from .conftest import csrf_token

    gw = gateway([(500, 0)])
    note = _queue_one(net)
    _http(app, gw.url)
    send_pending()
    login("mgr_a")
    page = client.get("/manager/notifications")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Pesan ke nasabah" in html and "Aktif" in html and "Matikan pesan" in html
    assert "Menunggu: <strong>1</strong> · Terkirim: <strong>0</strong> · Gagal: <strong>0</strong>" in html
    assert note.member.member_no in html and "gateway menjawab 500: {&#34;status&#34;: false" in html
    assert "dicoba lagi" in html
    assert "Nasabah yang setuju menerima pesan (1)" in html and PHONE in html
    sent_only = client.get("/manager/notifications?status=sent").get_data(as_text=True)
    assert "Belum ada pesan." in sent_only
    assert client.get("/manager/notifications?status=lost").status_code == 400
    off = client.post("/manager/notifications/settings", data={"enabled": "0", "csrf_token": csrf_token(html)})
    assert off.status_code == 302
    db.session.refresh(net.unit_a)
    assert net.unit_a.notify_enabled is False
    assert "Aktifkan pesan" in client.get("/manager/notifications").get_data(as_text=True)
    assert client.post("/manager/notifications/settings", data={"enabled": "1"}).status_code == 400


@pytest.mark.parametrize("username", ["op_a", "op_b", "agg", "collab"])
def test_manager_page_is_for_unit_managers(net, client, login, username):
    login(username)
    assert client.get("/manager/notifications").status_code == 403


def test_manager_sees_only_own_unit(net, client, login):
    member_b = net.members_b[0]
    net.unit_b.notify_enabled = True
    member_b.phone, member_b.notify_consent = PHONE, True
    db.session.commit()
    run_in_transaction(lambda: record_deposit(net.unit_b, member_b, [LineInput("PET-CLEAN", "1")],
                                              operator_id=net.users["op_b"].id, idempotency_key="tablet-b-0001"))
    assert _count() == 1
    login("mgr_a")
    html = client.get("/manager/notifications").get_data(as_text=True)
    assert member_b.member_no not in html and "Belum ada pesan." in html


# --- consent: at the counter, and the resident's own page -------------------------------------


def test_consent_at_registration_and_edit_and_visible_to_staff(net, client, login):
    from wastebank.models import Member

    from .conftest import csrf_token

    login("op_a")
    form = client.get("/members/new").get_data(as_text=True)
    assert "Setuju menerima pesan (WhatsApp/SMS) setiap setoran dan penarikan" in form
    response = client.post("/members/new", data={
        "name": "Rina Setuju", "kind": "person", "phone": "0812-3456-7890", "notify_consent": "y",
        "csrf_token": csrf_token(form)})
    assert response.status_code == 302
    member = db.session.scalar(select(Member).where(Member.name == "Rina Setuju"))
    assert (member.notify_consent, member.phone) == (True, "+6281234567890")
    show = client.get(f"/members/{member.member_no}").get_data(as_text=True)
    assert "Setuju menerima pesan di nomor ini" in show
    edit = client.get(f"/members/{member.member_no}/edit").get_data(as_text=True)
    assert 'checked id="notify_consent"' in edit
    response = client.post(f"/members/{member.member_no}/edit", data={
        "name": "Rina Setuju", "kind": "person", "phone": "0812-3456-7890", "csrf_token": csrf_token(edit)})
    assert response.status_code == 302
    db.session.refresh(member)
    assert member.notify_consent is False
    assert "Tidak menerima pesan (belum setuju)" in client.get(f"/members/{member.member_no}").get_data(as_text=True)
    # Registered without the box: no consent (opt-in, never opt-out by default).
    form = client.get("/members/new").get_data(as_text=True)
    client.post("/members/new", data={"name": "Budi Diam", "kind": "person", "phone": "0812-3456-7891",
                                      "csrf_token": csrf_token(form)})
    assert db.session.scalar(select(Member).where(Member.name == "Budi Diam")).notify_consent is False


def test_resident_stops_messages_on_their_page(net, client):
    from wastebank.models import AuditLog
    from wastebank.services.members import live_card

    from .conftest import csrf_token

    member = _opt_in(net)
    token = live_card(member).token
    db.session.commit()
    page = client.get(f"/c/{token}").get_data(as_text=True)
    assert "Anda menerima pesan di ponsel setiap setoran dan penarikan." in page and "Hentikan pesan" in page
    assert client.post(f"/c/{token}/messages/stop").status_code == 400  # no CSRF token: nothing changes
    db.session.refresh(member)
    assert member.notify_consent is True
    response = client.post(f"/c/{token}/messages/stop", data={"csrf_token": csrf_token(page)})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/c/{token}?messages=stopped")
    db.session.refresh(member)
    assert member.notify_consent is False
    after = client.get(f"/c/{token}?messages=stopped").get_data(as_text=True)
    assert "Pesan dihentikan. Minta ke petugas jika ingin menerimanya lagi." in after
    assert "Hentikan pesan" not in client.get(f"/c/{token}").get_data(as_text=True)
    row = db.session.scalars(select(AuditLog).where(AuditLog.action == "member.notify_consent")).all()[-1]
    assert json.loads(row.details)["by_resident"] is True and row.user_id is None
    _deposit(net, member, key="tablet-o-0001")
    assert _count() == 0
    assert client.post("/c/not-a-real-token-at-all-xxxxxxxx/messages/stop",
                       data={"csrf_token": csrf_token(page)}).status_code == 404


def test_stop_messages_behind_the_pin(net, client):
    from wastebank.services.members import live_card

    from .conftest import csrf_token

    member = _opt_in(net)
    net.unit_a.require_pin = True
    token = live_card(member).token
    db.session.commit()
    page = client.get(f"/c/{token}").get_data(as_text=True)
    response = client.post(f"/c/{token}/messages/stop", data={"csrf_token": csrf_token(page)})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/c/{token}")
    db.session.refresh(member)
    assert member.notify_consent is True


def test_a_message_queued_before_the_resident_opted_out_is_not_sent(net):
    note = _queue_one(net, key="tablet-n-0900")
    member = db.session.get(type(net.members_a[0]), note.member_id)
    member.notify_consent = False
    db.session.commit()
    sender = LogSender()
    result = send_pending(sender=sender)
    db.session.refresh(note)
    assert (result.sent, sender.sent) == (0, [])
    assert (note.status, note.last_error, note.attempts) == ("failed", "member opted out", 0)


def test_a_message_queued_before_the_unit_switched_messages_off_is_not_sent(net):
    note = _queue_one(net, key="tablet-n-0901")
    net.unit_a.notify_enabled = False
    db.session.commit()
    sender = LogSender()
    send_pending(sender=sender)
    db.session.refresh(note)
    assert sender.sent == []
    assert (note.status, note.last_error) == ("failed", "unit switched messages off")
