"""Period balances (issue 13 item 4): ``account_period`` kept by the journal-entry trigger equals
the postings per account and UTC month; month-end balances read from it equal the full scan;
``ledger verify`` reports a tampered row (docs/rules.md §periods, §ledger)."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select, text

from wastebank.extensions import db
from wastebank.models import Account, AccountPeriod, JournalEntry, Posting
from wastebank.reports.statements import aggregator_statement, find_aggregator
from wastebank.services.ledger import verify_ledger
from wastebank.services.period_balances import balances_at, month_key, period_faults
from wastebank.timeutil import local_month_bounds

from .report_helpers import at, deposit, void, withdraw


def _business(net):
    """Deposits, a withdrawal and voids over January–March 2025, some in the hours where the UTC
    and the WIB month differ (1 Feb 02:00 WIB is 31 Jan 19:00 UTC)."""
    m0, m1 = net.members_a[0], net.members_a[1]
    d1 = deposit(net.unit_a, m0, [("PET-CLEAN", "2"), ("CARDBOARD", "3")], at(2025, 1, 10))
    deposit(net.unit_a, m1, [("PET-CLEAN", "1,5")], at(2025, 1, 31, 23, 30))
    d3 = deposit(net.unit_a, m1, [("PET-CLEAN", "4")], at(2025, 2, 1, 2, 0))
    deposit(net.unit_b, net.members_b[0], [("CARDBOARD", "5")], at(2025, 2, 3))
    withdraw(net.unit_a, m1, 3000, at(2025, 2, 5), net.users["mgr_a"])
    void(d3, at(2025, 2, 1, 3, 0), net.users["mgr_a"])          # same (local and UTC) month
    void(d1, at(2025, 3, 1, 1, 0), net.users["mgr_a"])          # March in WIB, February in UTC
    deposit(net.unit_a, m0, [("CARDBOARD", "1")], at(2025, 3, 2), recorded_at=at(2025, 2, 28, 23, 0))
    db.session.commit()


def _posting_sums():
    month = month_key(JournalEntry.recorded_at)
    rows = db.session.execute(
        select(Posting.account_id, month, func.sum(Posting.amount), func.coalesce(func.sum(Posting.quantity_milli), 0))
        .join(JournalEntry, JournalEntry.id == Posting.entry_id).group_by(Posting.account_id, month))
    return {(a, p): (int(x), int(q)) for a, p, x, q in rows}


def _scan(unit_ids, end):
    """The old way: every posting recorded before ``end``, by unit and kind."""
    rows = db.session.execute(
        select(Posting.unit_id, Account.kind, func.sum(Posting.amount),
               func.coalesce(func.sum(Posting.quantity_milli), 0))
        .join(Account, Account.id == Posting.account_id).join(JournalEntry, JournalEntry.id == Posting.entry_id)
        .where(Posting.unit_id.in_(unit_ids), Account.kind.in_(("member_savings", "stock")),
               JournalEntry.recorded_at < end)
        .group_by(Posting.unit_id, Account.kind))
    return {(u, k): (int(x), int(q)) for u, k, x, q in rows}


def test_period_rows_equal_posting_sums_after_deposits_withdrawals_voids(net):
    _business(net)
    stored = {(r.account_id, r.period): (r.amount, r.quantity_milli) for r in db.session.scalars(select(AccountPeriod))}
    assert stored == _posting_sums()
    assert {p for _, p in stored} == {"2025-01", "2025-02"}   # 1 Mar 01:00 WIB is 28 Feb 18:00 UTC
    pet = db.session.scalar(select(Account).where(Account.unit_id == net.unit_a.id, Account.kind == "stock",
                                                  Account.key.like("stock:%"), Account.quantity_milli > 0)
                            .order_by(Account.id))
    assert sum(q for (a, _), (_, q) in stored.items() if a == pet.id) == pet.quantity_milli
    report = verify_ledger()
    assert report.ok, report.faults


def _nonzero(figures):
    return {k: v for k, v in figures.items() if v != (0, 0)}


@pytest.mark.parametrize("month", [(2024, 12), (2025, 1), (2025, 2), (2025, 3), (2025, 4)])
def test_month_end_balances_equal_the_full_scan(net, month):
    _business(net)
    ids = [net.unit_a.id, net.unit_b.id]
    _, end = local_month_bounds(*month)
    got = balances_at(ids, ("member_savings", "stock"), end)
    assert _nonzero(got) == _nonzero(_scan(ids, end))
    assert (month < (2025, 1)) == (not _nonzero(got))


def test_statement_closing_balances_equal_the_scan(net):
    _business(net)
    jkt = find_aggregator("JKT")
    for month in ((2025, 1), (2025, 2), (2025, 3)):
        _, end = local_month_bounds(*month)
        scan = _scan([net.unit_a.id, net.unit_b.id], end)
        for unit in aggregator_statement(jkt, *month).units:
            savings = scan.get((unit.unit_id, "member_savings"), (0, 0))[0]
            stock = scan.get((unit.unit_id, "stock"), (0, 0))
            assert (unit.savings_owed_idr, unit.stock_idr, unit.stock_milli) == (-savings, stock[0], stock[1])
    rw05 = {m: next(u for u in aggregator_statement(jkt, 2025, m).units if u.code == "RW05") for m in (1, 2, 3)}
    # RW05 takes no fee and sold nothing: what it owes at a month end before the withdrawal is its stock.
    assert rw05[1].savings_owed_idr == rw05[1].stock_idr > 0
    assert rw05[2].savings_owed_idr == rw05[2].stock_idr - 3000


def test_western_zone_takes_the_other_edge(net, app):
    """West of UTC the local month ends early in the next UTC month; the same figures come out."""
    _business(net)
    app.config["TIMEZONE"] = "America/Lima"
    ids = [net.unit_a.id, net.unit_b.id]
    for month in ((2025, 1), (2025, 2)):
        _, end = local_month_bounds(*month)
        assert end.hour == 5
        got = balances_at(ids, ("member_savings", "stock"), end)
        assert _nonzero(got) == _nonzero(_scan(ids, end))


def _tamper(sql, **params):
    """Change ``account_period`` behind the trigger's back (no guard protects it; verify does)."""
    db.session.execute(text(sql), params)
    db.session.commit()


def test_verify_reports_a_tampered_period_row(net, app):
    _business(net)
    first = db.session.scalars(select(AccountPeriod).order_by(AccountPeriod.account_id)).first()
    row = type("Row", (), dict(account_id=first.account_id, period=first.period, unit_id=first.unit_id,
                               amount=first.amount, quantity_milli=first.quantity_milli))
    _tamper("UPDATE account_period SET amount = amount + 7 WHERE account_id = :a AND period = :p",
            a=row.account_id, p=row.period)
    faults = period_faults()
    assert len(faults) == 1 and f"account {row.account_id}, month {row.period}" in faults[0]
    bad = app.test_cli_runner().invoke(args=["ledger", "verify"])
    assert bad.exit_code == 1
    assert f"account {row.account_id}, month {row.period}: period row says" in bad.output
    _tamper("DELETE FROM account_period WHERE account_id = :a AND period = :p", a=row.account_id, p=row.period)
    assert period_faults() == [f"account {row.account_id}, month {row.period}: no period row for postings "
                               f"{row.amount} / {row.quantity_milli}"]
    assert period_faults(net.unit_b.id if row.unit_id == net.unit_a.id else net.unit_a.id) == []


def test_period_trigger_is_installed(app):
    if db.engine.dialect.name == "sqlite":
        sql = "SELECT name FROM sqlite_master WHERE type = 'trigger'"
    else:
        sql = "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"
    assert "journal_entry_period" in {row[0] for row in db.session.execute(text(sql))}
    db.session.rollback()
