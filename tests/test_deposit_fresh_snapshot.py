"""SQLite: a deposit writes at a fresh snapshot instead of retrying a stale one
(issue 13 item 2, docs/rules.md §concurrency, ``db_setup.fresh_snapshot_for_writes``).

Before, with two workers recording deposits, the other worker had nearly always committed
between a deposit's first read and its first write, so the write failed stale and the whole
deposit ran again under the lock (about 180 retries a second at 200 deposits a second). Now
the deposit's first write ends its read transaction and begins ``IMMEDIATE`` under the writer
lock. These tests hold what that may not break: a day closed or a twin of the same key
committed between the reads and the writes is still seen, and nothing is retried.
"""
from __future__ import annotations

import json
import logging
import threading
import time
import uuid

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import OperationalError

from tests.conftest import IS_POSTGRES, bearer
from tests.interleave import after_quote
from wastebank import db_setup
from wastebank.extensions import db
from wastebank.models import Deposit, User

pytestmark = pytest.mark.skipif(IS_POSTGRES, reason="SQLite snapshots only")

_BODY = {"lines": [{"category": "PET-CLEAN", "quantity": "1,5"}, {"category": "CARDBOARD", "quantity": "2"}]}
_TOTAL = 4875 + 4000  # PET-CLEAN 3,250/kg × 1.5 + CARDBOARD 2,000/kg × 2 (RW05, fee 0)




def test_the_first_write_sees_what_committed_after_the_reads(lock_engine):
    with lock_engine.connect() as late, lock_engine.connect() as other:
        with db_setup.fresh_snapshot_for_writes():
            late.begin()
            assert late.execute(text("SELECT x FROM t")).scalar() == 0
            with other.begin():
                other.execute(text("UPDATE t SET x = 1 WHERE id = 1"))
            late.execute(text("UPDATE t SET x = x + 100 WHERE id = 1"))  # not refused as stale
            assert late.connection.info[db_setup._KEY].held
            late.commit()
        assert not late.connection.info[db_setup._KEY].held
        assert other.execute(text("SELECT x FROM t")).scalar() == 101


def test_outside_the_block_or_after_a_savepoint_a_stale_write_is_still_refused(lock_engine):
    with lock_engine.connect() as late, lock_engine.connect() as other:
        for fresh in (False, True):
            with db_setup.fresh_snapshot_for_writes() if fresh else _nothing():
                late.begin()
                if fresh:
                    late.exec_driver_sql("SAVEPOINT s1")
                late.execute(text("SELECT x FROM t")).scalar()
                with other.begin():
                    other.execute(text("UPDATE t SET x = x + 1 WHERE id = 1"))
                with pytest.raises(OperationalError) as caught:
                    late.execute(text("UPDATE t SET x = 100 WHERE id = 1"))
                assert caught.value.orig.sqlite_errorname == "SQLITE_BUSY_SNAPSHOT"
                late.rollback()
        assert other.execute(text("SELECT x FROM t")).scalar() == 2


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def _deposit(client, token, member_no, key):
    return client.post("/api/v1/deposits", data=json.dumps({"member": member_no, **_BODY}),
                       content_type="application/json", headers={**bearer(token), "Idempotency-Key": key})


def test_a_day_closed_between_the_reads_and_the_writes_refuses_the_deposit(app, net, client, tokens,
                                                                           monkeypatch, caplog):
    from wastebank.services.cashbook import close_day, expected_cash
    from wastebank.timeutil import local_today

    member_no, unit_id = net.members_a[0].member_no, net.unit_a.id
    db.session.rollback()

    def close_today():
        with app.app_context():
            unit = db.session.get(type(net.unit_a), unit_id)
            manager = db.session.scalar(select(User).where(User.username == "mgr_a"))
            close_day(unit, local_today(), str(expected_cash(unit, local_today())), manager)
            db.session.commit()
            db.session.remove()

    calls = after_quote(monkeypatch, close_today)
    with caplog.at_level(logging.INFO, logger="wastebank.services.transaction"):
        answer = _deposit(client, tokens["op_a"], member_no, str(uuid.uuid4()))
    assert answer.status_code == 409, answer.get_data(as_text=True)
    assert answer.get_json()["error"]["code"] == "day_closed"
    assert calls == [1]  # refused at its fresh write, not after a retry
    assert "transient conflict" not in caplog.text
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Deposit).where(Deposit.unit_id == unit_id)) == 0


def test_a_twin_committed_between_the_reads_and_the_writes_is_answered_as_its_replay(app, net, client, tokens,
                                                                                    monkeypatch):
    """The same key, sent twice at once (a tablet retrying over a slow link): the twin commits
    after this request checked the key and before it writes. Its key row then collides, the
    request runs again and answers the twin's receipt; the ledger holds the deposit once."""
    member_no, unit_id, key = net.members_a[0].member_no, net.unit_a.id, str(uuid.uuid4())
    db.session.rollback()
    twin: list = []

    def send_twin():
        with app.test_client() as own:
            twin.append(_deposit(own, tokens["op_a"], member_no, key))

    after_quote(monkeypatch, send_twin)
    answer = _deposit(client, tokens["op_a"], member_no, key)
    assert twin[0].status_code == 201, twin[0].get_data(as_text=True)
    assert answer.status_code == 201, answer.get_data(as_text=True)
    assert answer.headers.get("Idempotent-Replayed") == "true"
    assert answer.get_json()["receipt_no"] == twin[0].get_json()["receipt_no"]
    assert answer.get_json()["total_idr"] == _TOTAL
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Deposit).where(Deposit.unit_id == unit_id)) == 1


def test_two_workers_recording_at_once_never_retry_and_each_deposit_lands_once(app, net, tokens, caplog):
    """Two threads of one process (the write lock's in-process half) and the same database,
    each recording deposits back to back through the API: no stale-write retry, each once."""
    member_no = net.members_a[0].member_no
    db.session.rollback()
    keys = [[f"fresh-{side}-{i}-{uuid.uuid4().hex[:8]}" for i in range(15)] for side in range(2)]
    answers: list[tuple[str, int, str]] = []
    errors: list[BaseException] = []
    start = threading.Barrier(2, timeout=10)

    def worker(side: int) -> None:
        try:
            with app.test_client() as own:
                start.wait()
                for key in keys[side]:
                    answer = _deposit(own, tokens["op_a"], member_no, key)
                    answers.append((key, answer.status_code, answer.get_json().get("receipt_no", "")))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    with caplog.at_level(logging.INFO, logger="wastebank.services.transaction"):
        threads = [threading.Thread(target=worker, args=(side,)) for side in range(2)]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
    assert errors == [] and time.monotonic() - started < 120
    assert sorted(status for _key, status, _no in answers) == [201] * 30
    assert "transient conflict" not in caplog.text
    db.session.rollback()
    stored = db.session.scalars(select(Deposit).where(Deposit.unit_id == net.unit_a.id)).all()
    assert len(stored) == 30 and len({d.receipt_no for d in stored}) == 30
    assert {no for _key, _status, no in answers} == {d.receipt_no for d in stored}
    assert sum(d.total_idr for d in stored) == 30 * _TOTAL
