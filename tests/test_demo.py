"""The demo data makes sense (issue 9 item 8): members join before their first deposit, so the
aggregator statement's member counts are internally consistent in every month of the demo."""
from datetime import timedelta

from sqlalchemy import func, select

from wastebank.demo import load_demo
from wastebank.extensions import db
from wastebank.models import Aggregator, Deposit, Member, Price, Unit
from wastebank.reports.statements import aggregator_statement
from wastebank.services.catalog import unit_start_day
from wastebank.timeutil import local_today, to_local


def _months(first, last):
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        yield year, month
        year, month = year + (month == 12), month % 12 + 1


def test_demo_statement_figures_are_consistent(app):
    days = 45
    load_demo(members=60, days=days, echo=lambda *_: None)
    agg = db.session.scalars(select(Aggregator)).one()
    # Every member joined before their first deposit.
    first_deposit = dict(db.session.execute(select(Deposit.member_id, func.min(Deposit.recorded_at))
                                            .group_by(Deposit.member_id)).all())
    members = db.session.scalars(select(Member)).all()
    assert len(members) == 60 and len(first_deposit) > 30
    for member in members:
        if member.id in first_deposit:
            assert member.created_at < first_deposit[member.id], member.member_no
    # The units opened before the history, with their first prices from that day.
    for unit in db.session.scalars(select(Unit)):
        assert unit_start_day(unit.id) < local_today() - timedelta(days=days)
        first_price = db.session.scalar(select(func.min(Price.effective_from)).where(Price.unit_id == unit.id))
        assert first_price == unit_start_day(unit.id)
    joined_in_history = 0
    for year, month in _months(local_today() - timedelta(days=days), local_today()):
        st = aggregator_statement(agg, year, month)
        assert len(st.units) == 4
        for fig in st.units + [st.total]:
            where = (year, month, fig.code)
            assert fig.members > 0, where
            assert 0 <= fig.new_members <= fig.members, (where, fig.new_members, fig.members)
            assert 0 <= fig.active_members <= fig.members, (where, fig.active_members, fig.members)
            assert fig.households <= fig.members, (where, fig.households, fig.members)
            assert fig.active_members <= fig.households, where
        assert st.total.members == sum(f.members for f in st.units)
        assert st.total.deposits > 0
        joined_in_history += st.total.new_members
    # About a quarter of the members join during the history; the rest were there before it.
    first_month = (local_today() - timedelta(days=days)).replace(day=1)
    expected_new = sum(1 for m in members if to_local(m.created_at).date() >= first_month)
    assert joined_in_history == expected_new
    assert 0 < joined_in_history < 60
