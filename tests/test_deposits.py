"""record_deposit: idempotency (C05, C06, I4, I5), gapless numbering, concurrency, fees."""
import threading
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from wastebank import create_app
from wastebank.extensions import db
from wastebank.models import Deposit, IdempotencyRecord, JournalEntry, Member, Unit, clock_at
from wastebank.services.deposits import LineInput, record_deposit
from wastebank.services.errors import DomainError, IdempotencyConflict, ValidationFailed
from wastebank.services.ledger import member_savings_account, system_account, verify_ledger
from wastebank.services.transaction import run_in_transaction


def _record(net, member, lines, key, **kwargs):
    return run_in_transaction(lambda: record_deposit(
        net.unit_a, member, [LineInput(c, q) for c, q in lines],
        operator_id=net.users["op_a"].id, idempotency_key=key, **kwargs))


def _count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def test_c06_retry_with_same_key_returns_first_result(net):
    member = net.members_a[0]
    first = _record(net, member, [("PET-CLEAN", "1,5")], "tablet-1-0001")
    retry = _record(net, member, [("PET-CLEAN", "1,5")], "tablet-1-0001")
    assert not first.replayed and retry.replayed
    assert retry.body == first.body
    assert first.body["receipt_no"].endswith("-000001")
    assert (_count(Deposit), _count(JournalEntry)) == (1, 1)
    assert member_savings_account(member).balance == 4875


def test_same_key_same_meaning_with_other_decimal_mark_is_a_replay(net):
    member = net.members_a[0]
    first = _record(net, member, [("PET-CLEAN", "1,5")], "tablet-1-0002")
    again = _record(net, member, [("pet-clean", "1.5")], "tablet-1-0002")
    assert again.replayed and again.body == first.body


def test_i5_same_key_different_request_is_refused_and_moves_nothing(net):
    member = net.members_a[0]
    _record(net, member, [("PET-CLEAN", "1,5")], "tablet-1-0003")
    with pytest.raises(IdempotencyConflict):
        _record(net, member, [("PET-CLEAN", "2")], "tablet-1-0003")
    with pytest.raises(IdempotencyConflict):
        _record(net, net.members_a[1], [("PET-CLEAN", "1,5")], "tablet-1-0003")
    assert _count(Deposit) == 1
    assert member_savings_account(member).balance == 4875


@pytest.mark.parametrize("key", ["", "short", "x" * 101, "kéy-with-accent", None])
def test_missing_or_bad_key_is_refused(net, key):
    with pytest.raises(DomainError) as err:
        _record(net, net.members_a[0], [("PET-CLEAN", "1")], key)
    assert err.value.code == "idempotency_key_required"
    assert _count(Deposit) == 0


def test_fee_is_withheld_half_up_and_posted_to_fee_income(net):
    net.unit_a.fee_bp = 250  # 2,5 %
    db.session.commit()
    member = net.members_a[0]
    outcome = _record(net, member, [("PET-CLEAN", "1,5")], "fee-000001")
    assert (outcome.body["total_idr"], outcome.body["fee_idr"], outcome.body["credited_idr"]) == (4875, 122, 4753)
    assert member_savings_account(member).balance == 4753
    assert system_account(net.unit_a.id, "fee_income").balance == 122
    assert verify_ledger().ok


def test_receipt_numbers_are_gapless_per_unit_and_year_even_after_refusals(net):
    a0, a1 = net.members_a[0], net.members_a[1]
    numbers = [_record(net, a0, [("PET-CLEAN", "1")], "gap-000001").body["receipt_no"]]
    with pytest.raises(ValidationFailed):
        _record(net, a0, [("PET-CLEAN", "-1")], "gap-000002")
    numbers.append(_record(net, a1, [("CARDBOARD", "2")], "gap-000003").body["receipt_no"])
    other = run_in_transaction(lambda: record_deposit(
        net.unit_b, net.members_b[0], [LineInput("PET-CLEAN", "1")], operator_id=None,
        idempotency_key="gap-000004"))
    year = datetime.now(timezone.utc).astimezone(timezone(timedelta(hours=7))).year
    assert numbers == [f"RW05-{year}-000001", f"RW05-{year}-000002"]
    assert other.body["receipt_no"] == f"RW07-{year}-000001"


def test_receipt_year_follows_jakarta_time(net):
    member = net.members_a[0]
    # 31 Dec 2025 18:30 UTC is already 1 Jan 2026 01:30 in Jakarta.
    with clock_at(datetime(2025, 12, 31, 18, 30, tzinfo=timezone.utc)):
        outcome = _record(net, member, [("PET-CLEAN", "1")], "year-000001")
    assert outcome.body["receipt_no"] == "RW05-2026-000001"


def test_offline_recorded_at_is_kept_beside_server_time(net):
    captured = datetime.now(timezone.utc) - timedelta(hours=5)
    outcome = _record(net, net.members_a[0], [("PET-CLEAN", "1")], "offline-0001", recorded_at=captured)
    deposit = db.session.get(Deposit, outcome.body["id"])
    assert deposit.recorded_at == captured.replace(microsecond=deposit.recorded_at.microsecond)
    assert deposit.posted_at > deposit.recorded_at
    with pytest.raises(ValidationFailed):
        _record(net, net.members_a[0], [("PET-CLEAN", "1")], "offline-0002",
                recorded_at=datetime.now(timezone.utc) + timedelta(hours=1))


def test_member_of_another_unit_or_inactive_is_refused(net):
    with pytest.raises(DomainError) as err:
        _record(net, net.members_b[0], [("PET-CLEAN", "1")], "scope-00001")
    assert err.value.code == "wrong_unit"
    net.members_a[0].active = False
    db.session.commit()
    with pytest.raises(DomainError) as err:
        _record(net, net.members_a[0], [("PET-CLEAN", "1")], "scope-00002")
    assert err.value.code == "member_inactive"
    assert _count(Deposit) == 0


def _in_threads(app_config_url, n, work):
    """Run ``work(app, i)`` in ``n`` threads at once, each with its own app and session."""
    barrier = threading.Barrier(n, timeout=60)
    results, errors = [None] * n, []
    apps = [create_app("testing", {"SQLALCHEMY_DATABASE_URI": app_config_url}) for _ in range(n)]

    def run(i):
        with apps[i].app_context():
            try:
                barrier.wait()
                results[i] = work(i)
            except Exception as exc:  # collected and asserted on below
                errors.append(exc)
            finally:
                db.session.remove()
                db.engine.dispose()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return results, errors


def test_i4_ten_concurrent_identical_requests_make_one_entry(net, database_url):
    member_id, unit_id = net.members_a[0].id, net.unit_a.id
    db.session.commit()
    db.session.close()

    def work(_):
        unit, member = db.session.get(Unit, unit_id), db.session.get(Member, member_id)
        return run_in_transaction(lambda: record_deposit(
            unit, member, [LineInput("PET-CLEAN", "1,5")], operator_id=None,
            idempotency_key="same-key-ten-times")).body

    results, errors = _in_threads(database_url, 10, work)
    assert errors == []
    assert all(body == results[0] for body in results)
    assert (_count(Deposit), _count(JournalEntry), _count(IdempotencyRecord)) == (1, 1, 1)
    assert member_savings_account(db.session.get(Member, member_id)).balance == 4875


def test_concurrent_deposits_lose_nothing_and_number_gaplessly(net, database_url):
    member_ids = [m.id for m in net.members_a]
    unit_id = net.unit_a.id
    db.session.commit()
    db.session.close()

    def work(i):
        unit = db.session.get(Unit, unit_id)
        numbers = []
        for j in range(10):
            member = db.session.get(Member, member_ids[(i + j) % len(member_ids)])
            outcome = run_in_transaction(lambda: record_deposit(
                unit, member, [LineInput("CARDBOARD", "0,5")], operator_id=None,
                idempotency_key=f"thread-{i}-deposit-{j}"))
            numbers.append(outcome.body["receipt_no"])
        return numbers

    results, errors = _in_threads(database_url, 6, work)
    assert errors == []
    numbers = sorted(int(n.rsplit("-", 1)[1]) for batch in results for n in batch)
    assert numbers == list(range(1, 61))
    total = sum(member_savings_account(db.session.get(Member, m)).balance for m in member_ids)
    assert total == 60 * 1000
    assert verify_ledger().ok


def test_the_cached_category_row_has_exactly_the_tables_columns():
    """CategoryRow is built with ``CategoryRow(**row)`` from ``select(waste_category)``: a column
    added to the table without the field would fail every deposit, a field without a column
    would carry a stale value. Names and order both match."""
    from dataclasses import fields

    from wastebank.models import CategoryRow, WasteCategory
    assert [f.name for f in fields(CategoryRow)] == [c.name for c in WasteCategory.__table__.columns]


def test_the_deposit_answer_and_message_come_from_the_rows_written(net):
    """The answer is built from what was inserted (no read-back): every figure of the body
    equals the stored deposit and its lines, and the queued message names the same receipt."""
    from wastebank.models import DepositLine
    member = net.members_a[0]
    body = _record(net, member, [("PET-CLEAN", "1,5"), ("CARDBOARD", "2")], "tablet-1-body").body
    deposit = db.session.scalars(select(Deposit).where(Deposit.receipt_no == body["receipt_no"])).one()
    assert (body["id"], body["total_idr"], body["fee_idr"], body["credited_idr"], body["balance_idr"]) == (
        deposit.id, deposit.total_idr, deposit.fee_idr, deposit.credited_idr, deposit.balance_after_idr)
    assert body["member_no"] == member.member_no
    lines = db.session.scalars(select(DepositLine).where(DepositLine.deposit_id == deposit.id)
                               .order_by(DepositLine.id)).all()
    assert [(l["category"], l["unit"], l["quantity_milli"], l["unit_price_idr"], l["amount_idr"])
            for l in body["lines"]] == [(line.category.code, line.category.unit, line.quantity_milli,
                                         line.unit_price_idr, line.amount_idr) for line in lines]
    assert [l["quantity_milli"] for l in body["lines"]] == [1500, 2000]
    assert body["posted_at"] == deposit.posted_at.isoformat()
