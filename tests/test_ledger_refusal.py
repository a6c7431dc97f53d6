"""A ledger trigger's refusal is one domain error at the first attempt (issue 11 item 2).

On PostgreSQL the guard functions raise SQLSTATE WB001 (migration 0009); on SQLite their
RAISE(ABORT) is a constraint failure. Either way ``run_in_transaction`` answers
DatabaseRefused (409 ``refused_by_database``) without a second attempt, and nothing changes.
"""
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from tests.conftest import IS_POSTGRES
from wastebank.extensions import db
from wastebank.services.deposits import LineInput, record_deposit
from wastebank.services.errors import DatabaseRefused
from wastebank.services.ledger import system_account, verify_ledger
from wastebank.services.transaction import LEDGER_REFUSED, run_in_transaction

WRITTEN = "SELECT min(id) FROM journal_entry"


def _raw_entry(entry_id, unit_id, postings):
    for account_id, amount in postings:
        db.session.execute(text(
            "INSERT INTO posting (entry_id, unit_id, account_id, amount) VALUES (:e, :u, :a, :m)"),
            {"e": entry_id, "u": unit_id, "a": account_id, "m": amount})
    db.session.execute(text(
        "INSERT INTO journal_entry (id, unit_id, kind, memo, posted_at, recorded_at, reason) "
        "VALUES (:e, :u, 'raw', '', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, '')"), {"e": entry_id, "u": unit_id})
    db.session.flush()


def _tamper_update_posting(net):
    db.session.execute(text("UPDATE posting SET amount = amount * 2"))


def _tamper_delete_entry(net):
    db.session.execute(text("DELETE FROM journal_entry"))


def _tamper_update_audit(net):
    db.session.execute(text("UPDATE audit_log SET action = 'edited'"))


def _tamper_add_posting(net):
    entry_id = db.session.scalar(text(WRITTEN))
    db.session.execute(text("INSERT INTO posting (entry_id, unit_id, account_id, amount) VALUES (:e, :u, :a, 5)"),
                       {"e": entry_id, "u": net.unit_a.id, "a": system_account(net.unit_a.id, "cash").id})


def _tamper_unbalanced(net):
    cash, fee = system_account(net.unit_a.id, "cash"), system_account(net.unit_a.id, "fee_income")
    _raw_entry(9001, net.unit_a.id, [(cash.id, 1000), (fee.id, -999)])


def _tamper_cross_unit(net):
    cash, cash_b = system_account(net.unit_a.id, "cash"), system_account(net.unit_b.id, "cash")
    _raw_entry(9002, net.unit_a.id, [(cash.id, 10), (cash_b.id, -10)])


def _tamper_truncate(net):
    db.session.execute(text("TRUNCATE posting CASCADE"))


TAMPERS = [_tamper_update_posting, _tamper_delete_entry, _tamper_update_audit, _tamper_add_posting,
           _tamper_unbalanced, _tamper_cross_unit]
if IS_POSTGRES:
    TAMPERS.append(_tamper_truncate)


@pytest.mark.parametrize("tamper", TAMPERS, ids=lambda f: f.__name__.removeprefix("_tamper_"))
def test_a_trigger_refusal_is_database_refused_at_the_first_attempt(net, tamper):
    run_in_transaction(lambda: record_deposit(net.unit_a, net.members_a[0], [LineInput("PET-CLEAN", "1")],
                                              operator_id=None, idempotency_key="refusal-test-0001"))
    for unit_id, key in ((net.unit_a.id, "cash"), (net.unit_a.id, "fee_income"), (net.unit_b.id, "cash")):
        system_account(unit_id, key)  # created now, so that the tampering is all the operation writes
    db.session.commit()
    before = db.session.execute(text("SELECT count(*), sum(abs(amount)) FROM posting")).one()
    attempts = []

    def operation():
        attempts.append(1)
        tamper(net)

    with pytest.raises(DatabaseRefused) as refused:
        run_in_transaction(operation)
    assert len(attempts) == 1
    assert refused.value.status == 409 and refused.value.code == "refused_by_database"
    cause = refused.value.__cause__
    if IS_POSTGRES:
        assert cause.orig.sqlstate == LEDGER_REFUSED == "WB001"
    else:
        assert isinstance(cause, IntegrityError)
    assert tuple(db.session.execute(text("SELECT count(*), sum(abs(amount)) FROM posting")).one()) == (2, 2 * 3250)
    assert tuple(before) == (2, 2 * 3250)
    assert verify_ledger().ok
