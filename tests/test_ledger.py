"""The ledger's invariants (docs/rules.md §ledger (I1, I3, I7, I9, I10)) and `flask ledger verify`."""
import pytest
from sqlalchemy import select, text, update
from sqlalchemy.exc import DatabaseError, IntegrityError

from wastebank.extensions import db
from wastebank.models import Account, JournalEntry, Posting
from wastebank.services.deposits import LineInput, record_deposit
from wastebank.services.errors import LedgerError
from wastebank.services.ledger import Leg, member_savings_account, post_journal, system_account, verify_ledger
from wastebank.services.transaction import run_in_transaction


def _deposit(net, member, qty="1,5", key="k-0000001", code="PET-CLEAN"):
    return run_in_transaction(lambda: record_deposit(
        net.unit_a, member, [LineInput(code, qty)], operator_id=net.users["op_a"].id, idempotency_key=key))


def test_deposit_entry_balances_and_verify_passes(net):
    member = net.members_a[0]
    outcome = _deposit(net, member)
    entry = db.session.scalar(select(JournalEntry).where(JournalEntry.kind == "deposit"))
    amounts = sorted(p.amount for p in entry.postings)
    assert amounts == [-4875, 4875]
    assert sum(amounts) == 0
    assert member_savings_account(member).balance == 4875
    assert outcome.body["balance_idr"] == 4875
    report = verify_ledger()
    assert report.ok, report.faults
    assert report.entries == 1


def test_post_journal_refuses_unbalanced_and_cross_unit(net):
    cash_a = system_account(net.unit_a.id, "cash")
    fee_a = system_account(net.unit_a.id, "fee_income")
    cash_b = system_account(net.unit_b.id, "cash")
    with pytest.raises(LedgerError):
        post_journal(net.unit_a.id, "test", [Leg(cash_a, 100), Leg(fee_a, -99)], created_by_id=None)
    with pytest.raises(LedgerError):
        post_journal(net.unit_a.id, "test", [Leg(cash_a, 100), Leg(cash_b, -100)], created_by_id=None)
    with pytest.raises(LedgerError):
        post_journal(net.unit_a.id, "test", [Leg(cash_a, 0), Leg(fee_a, 0)], created_by_id=None)
    with pytest.raises(LedgerError):
        post_journal(net.unit_a.id, "test", [Leg(cash_a, 1.5), Leg(fee_a, -1.5)], created_by_id=None)
    db.session.rollback()
    assert db.session.scalar(select(JournalEntry.id)) is None


def _raw_entry(entry_id, unit_id, postings):
    for account_id, amount in postings:
        db.session.execute(text(
            "INSERT INTO posting (entry_id, unit_id, account_id, amount) VALUES (:e, :u, :a, :m)"),
            {"e": entry_id, "u": unit_id, "a": account_id, "m": amount})
    db.session.execute(text(
        "INSERT INTO journal_entry (id, unit_id, kind, memo, posted_at, recorded_at, reason) "
        "VALUES (:e, :u, 'raw', '', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, '')"), {"e": entry_id, "u": unit_id})
    db.session.flush()


def test_raw_sql_unbalanced_entry_is_refused_by_the_database(net):
    cash = system_account(net.unit_a.id, "cash")
    fee = system_account(net.unit_a.id, "fee_income")
    db.session.commit()
    with pytest.raises(DatabaseError, match="unbalanced"):
        _raw_entry(9001, net.unit_a.id, [(cash.id, 1000), (fee.id, -999)])
    db.session.rollback()
    with pytest.raises(DatabaseError, match="unbalanced"):
        _raw_entry(9002, net.unit_a.id, [(cash.id, 1000)])
    db.session.rollback()
    # A posting whose entry never appears fails the deferred foreign key at commit.
    with pytest.raises(IntegrityError):
        db.session.execute(text("INSERT INTO posting (entry_id, unit_id, account_id, amount) "
                                "VALUES (9003, :u, :a, 5)"), {"u": net.unit_a.id, "a": cash.id})
        db.session.commit()
    db.session.rollback()
    assert db.session.scalar(text("SELECT count(*) FROM posting")) == 0


def test_raw_sql_cannot_add_postings_to_a_written_entry_or_cross_units(net):
    cash = system_account(net.unit_a.id, "cash")
    fee = system_account(net.unit_a.id, "fee_income")
    cash_b = system_account(net.unit_b.id, "cash")
    db.session.commit()
    _raw_entry(9100, net.unit_a.id, [(cash.id, 10), (fee.id, -10)])  # balanced: accepted
    db.session.commit()
    with pytest.raises(DatabaseError, match="already written"):
        db.session.execute(text("INSERT INTO posting (entry_id, unit_id, account_id, amount) "
                                "VALUES (9100, :u, :a, 5)"), {"u": net.unit_a.id, "a": cash.id})
    db.session.rollback()
    with pytest.raises(DatabaseError, match="different units"):
        _raw_entry(9101, net.unit_a.id, [(cash.id, 10), (cash_b.id, -10)])
    db.session.rollback()


@pytest.mark.parametrize("statement", [
    "UPDATE posting SET amount = amount * 2",
    "DELETE FROM posting",
    "UPDATE journal_entry SET memo = 'edited'",
    "DELETE FROM journal_entry",
])
def test_postings_and_entries_are_append_only_in_sql(net, statement):
    _deposit(net, net.members_a[0])
    with pytest.raises(DatabaseError, match="append-only"):
        db.session.execute(text(statement))
        db.session.flush()
    db.session.rollback()
    assert db.session.scalar(text("SELECT sum(abs(amount)) FROM posting")) == 2 * 4875


def test_orm_update_of_a_posting_is_refused(net):
    _deposit(net, net.members_a[0])
    posting = db.session.scalars(select(Posting)).first()
    posting.amount = 1
    with pytest.raises(DatabaseError, match="append-only"):
        db.session.commit()
    db.session.rollback()


def test_savings_check_constraint_refuses_negative_balance(net):
    account = member_savings_account(net.members_a[0])
    db.session.commit()
    with pytest.raises(IntegrityError):
        db.session.execute(update(Account).where(Account.id == account.id).values(balance=-1))
        db.session.flush()
    db.session.rollback()


def test_verify_fails_on_tampered_cached_balance(net, app):
    member = net.members_a[0]
    _deposit(net, member)
    runner = app.test_cli_runner()
    ok = runner.invoke(args=["ledger", "verify"])
    assert ok.exit_code == 0, ok.output
    assert "OK" in ok.output
    account = member_savings_account(member)
    db.session.execute(update(Account).where(Account.id == account.id).values(balance=account.balance + 1000))
    db.session.commit()
    bad = runner.invoke(args=["ledger", "verify"])
    assert bad.exit_code == 1
    assert "cached balance 5875 but postings give 4875" in bad.output


def test_legs_by_account_ref_keep_the_sessions_loaded_account_current(net):
    """A leg may name its account by AccountRef (the hot path builds no ORM instance). When
    the transaction has that Account loaded, post_journal gives it the balance the UPDATE
    returned, so a later read in the same transaction is not stale; cross-unit refs are refused
    as Accounts are."""
    from wastebank.services.ledger import AccountRef
    cash = system_account(net.unit_a.id, "cash")
    cash_balance = cash.balance
    cash_ref = system_account(net.unit_a.id, "cash", ref=True)
    fee_ref = system_account(net.unit_a.id, "fee_income", ref=True)
    assert isinstance(cash_ref, AccountRef) and (cash_ref.id, cash_ref.kind, cash_ref.normal_side) == (
        cash.id, "cash", cash.normal_side)
    balances = {}
    post_journal(net.unit_a.id, "test", [Leg(cash_ref, 700), Leg(fee_ref, -700)], created_by_id=None,
                 balances=balances)
    assert cash.balance == cash_balance + 700 == balances[cash.id]
    assert "balance" in inspect_loaded(cash)  # set as loaded, not expired for a re-read
    db.session.commit()
    assert db.session.scalar(select(Account.balance).where(Account.id == fee_ref.id)) == balances[fee_ref.id]
    with pytest.raises(LedgerError):
        post_journal(net.unit_a.id, "test", [Leg(cash_ref, 100),
                                             Leg(system_account(net.unit_b.id, "cash", ref=True), -100)],
                     created_by_id=None)


def inspect_loaded(instance):
    from sqlalchemy import inspect
    return set(instance.__dict__) - inspect(instance).expired_attributes


def test_the_posted_entry_has_exactly_the_journal_entrys_columns():
    """post_journal answers with PostedEntry(**values inserted): its fields are the table's
    columns, in order, so a column added to journal_entry cannot be silently left out."""
    from dataclasses import fields

    from wastebank.services.ledger import PostedEntry
    assert [f.name for f in fields(PostedEntry)] == [c.name for c in JournalEntry.__table__.columns]


def test_a_plan_is_posted_at_the_time_it_is_written(net, monkeypatch):
    """plan_journal lays an entry out before its first write (the deposit then takes its receipt
    number); the posting moment is the time of writing, not of planning: a deposit that waited
    for the writer lock behind a day's close at midnight is posted in the new day."""
    from datetime import datetime, timezone

    from wastebank.services import ledger

    legs = [Leg(system_account(net.unit_a.id, "cash", ref=True), 250),
            Leg(system_account(net.unit_a.id, "fee_income", ref=True), -250)]
    plan = ledger.plan_journal(net.unit_a.id, "test", legs, created_by_id=None)
    written = datetime(2026, 12, 3, 17, 0, 0, 5000, tzinfo=timezone.utc)  # 00:00:00.005 WIB on 4 December
    monkeypatch.setattr(ledger, "utcnow", lambda: written)
    entry = plan.post("planned before midnight")
    assert (entry.posted_at, entry.recorded_at) == (written, written)
    stored = db.session.get(JournalEntry, entry.id)
    assert stored.posted_at == written and stored.memo == "planned before midnight"
