"""The category breakdown by period (issue 13 item 4, migration 0018, docs/periods.md): each deposit
line carries its deposit's capture time, and the figures read from the lines by ``(unit_id,
recorded_at)`` equal the old join of the period's deposit events to their lines, across a void
that crosses a month end and the hours where the WIB and the UTC month differ. Runs on SQLite and
PostgreSQL (DATABASE_URL)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import DBAPIError

from wastebank.extensions import db
from wastebank.models import Deposit, DepositLine, WasteCategory
from wastebank.reports.figures import Scope, category_households, deposit_events, period_figures, periods_figures
from wastebank.timeutil import local_day_bounds, local_month_bounds

from .report_helpers import at, deposit, void


def _business(net):
    """RW05 (no fee; PET Rp 3.250/kg, cardboard Rp 2.000/kg; RW07 cardboard Rp 1.500/kg):

    * d1 m0 PET 2 + cardboard 3 on 10 Jan;
    * d2 m1 PET 1,5 on 31 Jan 23:30 WIB (January in both WIB and UTC), voided on 1 Feb 01:00 WIB
      (February in WIB, still 31 Jan 18:00 in UTC): the void crosses the month end;
    * d3 m1 PET 4 on 1 Feb 02:00 WIB (31 Jan 19:00 UTC: February's, not January's);
    * d4 m0 cardboard 2 captured offline on 31 Jan 23:50 WIB, posted 2 Feb; voided on 1 Mar 01:00
      WIB (28 Feb 18:00 UTC);
    * RW07 m0 cardboard 5 on 3 Feb (another unit in the same scope)."""
    m0, m1 = net.members_a[0], net.members_a[1]
    d1 = deposit(net.unit_a, m0, [("PET-CLEAN", "2"), ("CARDBOARD", "3")], at(2025, 1, 10))
    d2 = deposit(net.unit_a, m1, [("PET-CLEAN", "1,5")], at(2025, 1, 31, 23, 30))
    d3 = deposit(net.unit_a, m1, [("PET-CLEAN", "4")], at(2025, 2, 1, 2, 0))
    d4 = deposit(net.unit_a, m0, [("CARDBOARD", "2")], at(2025, 2, 2, 8, 0), recorded_at=at(2025, 1, 31, 23, 50))
    deposit(net.unit_b, net.members_b[0], [("CARDBOARD", "5")], at(2025, 2, 3))
    void(d2, at(2025, 2, 1, 1, 0), net.users["mgr_a"])
    void(d4, at(2025, 3, 1, 1, 0), net.users["mgr_a"])
    db.session.commit()
    return d1, d2, d3, d4


def _codes():
    return dict(db.session.execute(select(WasteCategory.id, WasteCategory.code)).all())


def _categories(units, start, end):
    """{(unit code, category code): (quantity_milli, value_idr)} from ``period_figures``."""
    codes = _codes()
    figures = period_figures([u.id for u in units], start, end)
    return {(fig.code, codes[c]): (cf.quantity_milli, cf.value_idr)
            for fig in figures.values() for c, cf in fig.categories.items()}


def _joined(units, start, end):
    """The same figures the way they were computed before migration 0018: the period's deposit
    events joined to every line of their deposits by ``deposit_id``."""
    codes = _codes()
    by_id = {u.id: u.code for u in units}
    ev = deposit_events([Scope(tuple(by_id), start, end)])
    rows = db.session.execute(
        select(ev.c.unit_id, DepositLine.category_id, func.sum(ev.c.sign * DepositLine.quantity_milli),
               func.sum(ev.c.sign * DepositLine.amount_idr))
        .join(DepositLine, DepositLine.deposit_id == ev.c.deposit_id).group_by(ev.c.unit_id, DepositLine.category_id))
    return {(by_id[u], codes[c]): (int(q), int(v)) for u, c, q, v in rows if q or v}


def test_lines_carry_their_deposits_capture_time(net):
    d1, _, _, d4 = _business(net)
    pairs = db.session.execute(select(DepositLine.recorded_at, Deposit.recorded_at)
                               .join(Deposit, Deposit.id == DepositLine.deposit_id)).all()
    assert len(pairs) == 6 and all(line == dep for line, dep in pairs)
    assert d4.lines[0].recorded_at == at(2025, 1, 31, 23, 50) and d4.posted_at == at(2025, 2, 2, 8, 0)
    assert d1.lines[1].recorded_at == at(2025, 1, 10)


def test_category_figures_across_a_void_over_the_month_end(net):
    _business(net)
    units = [net.unit_a, net.unit_b]
    jan, feb, mar = (local_month_bounds(2025, m) for m in (1, 2, 3))
    expected = {
        jan: {("RW05", "PET-CLEAN"): (3500, 6500 + 4875), ("RW05", "CARDBOARD"): (5000, 6000 + 4000)},
        # d3 in, d2's void out (1 Feb 01:00 WIB is January in UTC but February here)
        feb: {("RW05", "PET-CLEAN"): (4000 - 1500, 13000 - 4875), ("RW07", "CARDBOARD"): (5000, 7500)},
        mar: {("RW05", "CARDBOARD"): (-2000, -4000)},                # d4's void only
        local_day_bounds(at(2025, 2, 1).date()): {("RW05", "PET-CLEAN"): (2500, 8125)},
        local_day_bounds(at(2025, 1, 31).date()): {("RW05", "PET-CLEAN"): (1500, 4875),
                                                   ("RW05", "CARDBOARD"): (2000, 4000)},
        (jan[0], mar[1]): {("RW05", "PET-CLEAN"): (6000, 19500), ("RW05", "CARDBOARD"): (3000, 6000),
                           ("RW07", "CARDBOARD"): (5000, 7500)},
    }
    for (start, end), want in expected.items():
        assert _categories(units, start, end) == want == _joined(units, start, end), (start, end)
    # An instant-exact boundary: one microsecond before d3 (1 Feb 02:00 WIB) leaves it out.
    d3_at = at(2025, 2, 1, 2, 0)
    assert _categories(units, feb[0], d3_at) == {("RW05", "PET-CLEAN"): (-1500, -4875)}
    assert _categories(units, d3_at, d3_at + timedelta(microseconds=1)) == {("RW05", "PET-CLEAN"): (4000, 13000)}


def test_category_households_across_the_void(net):
    _business(net)
    codes = _codes()
    feb = Scope((net.unit_a.id, net.unit_b.id), *local_month_bounds(2025, 2))
    jan = Scope((net.unit_a.id, net.unit_b.id), *local_month_bounds(2025, 1))
    # February: m1's PET nets 4 − 1,5 > 0; RW07's member brought cardboard.
    assert {codes[c]: n for c, n in category_households([feb]).items()} == {"PET-CLEAN": 1, "CARDBOARD": 1}
    # January and February together: m0 and m1 PET (m1 nets 1,5 + 4 − 1,5), m0 and RW07 cardboard.
    assert {codes[c]: n for c, n in category_households([jan, feb]).items()} == {"PET-CLEAN": 2, "CARDBOARD": 2}


def test_a_line_with_another_capture_time_or_unit_is_refused(net):
    d1, *_ = _business(net)
    row = dict(deposit_id=d1.id, unit_id=d1.unit_id, category_id=d1.lines[0].category_id, quantity_milli=1000,
               gross_milli=1000, tare_milli=0, unit_price_idr=3250, amount_idr=3250)
    for bad in ({"recorded_at": d1.recorded_at + timedelta(seconds=1)}, {"unit_id": net.unit_b.id}):
        with pytest.raises(DBAPIError, match="carries its deposit"), db.session.begin_nested():
            db.session.execute(insert(DepositLine.__table__).values({**row, "recorded_at": d1.recorded_at,
                                                                     **bad}))
    for table, key in ((DepositLine.__table__, d1.lines[0].id), (Deposit.__table__, d1.id)):
        with pytest.raises(DBAPIError, match="cannot change"), db.session.begin_nested():
            db.session.execute(update(table).where(table.c.id == key)
                               .values(recorded_at=d1.recorded_at + timedelta(days=40)))
    db.session.rollback()


def test_all_months_at_once_equal_month_by_month(net):
    """``periods_figures`` (the impact statement's one set of queries for all months, each event
    put in its month by its time) gives what ``period_figures`` gives month by month, also with
    other units in another month and the voids across the month ends."""
    _business(net)
    both, only_a = (net.unit_a.id, net.unit_b.id), (net.unit_a.id,)
    scopes = [Scope(both, *local_month_bounds(2025, 1)), Scope(both, *local_month_bounds(2025, 2)),
              Scope(only_a, *local_month_bounds(2025, 3))]
    at_once = periods_figures(scopes)
    assert at_once == [period_figures(list(s.unit_ids), s.start, s.end, money_out=False) for s in scopes]
    feb = at_once[1][net.unit_a.id]
    # m1: d3 in, d2's void out: net 0 deposits, so no household this month
    assert (feb.deposits, feb.voided_deposits, feb.households) == (0, 1, 0)
    assert set(at_once[2]) == {net.unit_a.id} and at_once[2][net.unit_a.id].voided_deposits == 1
    with pytest.raises(ValueError):
        periods_figures([scopes[1], scopes[0]])
