"""The one set of read-only queries behind the monthly aggregator statement, the collaborator
impact statement and the unit reports (issue 5). Every figure is aggregated in SQL; Python only
arranges the aggregated rows.

Definitions (docs/rules.md §periods, §time (I11)), the same everywhere:

* **When.** A ledger entry belongs to the local period containing its ``recorded_at`` (the
  capture time; equal to ``posted_at`` for online entries, earlier for offline replays). So a
  deposit captured on 31 Jan 2025 at 20:15 WIB is January's (C08) even if it synced in February.
  The rule lives in ``period.captured_in``; every query here filters through it.
* **Voids.** A voided deposit or withdrawal is *reversed*, not erased: it counts in the period
  it was recorded, and its reversing entry counts, negated, in the period the void was recorded
  (``deposit_events`` gives each deposit a +1 event and each void a −1 event). Within one
  period the two cancel; across periods every statement still equals its ledger movements, and
  a closed month's figures never change when something is voided later.
* **Active member**: net deposit events in the period ≥ ``ACTIVE_MEMBER_MIN_DEPOSITS`` (config,
  default 4; Jakarta's rule, docs/rules.md §active-members). **Household served**: net deposit
  events ≥ 1.
* **Categories** come from the period's deposit lines themselves: each line carries its
  deposit's ``recorded_at`` (migration 0018), so the lines of a period are a range of the index
  ``(unit_id, recorded_at)``, and a void's lines are reached from its reversing entries. The
  cost is the period's lines, not the history's (bench/README.md §statements at scale).
* **Balances at period end** (savings owed, stock at cost) equal the sums of postings of
  entries recorded before the end, so they hold for any past month; they are read from the
  monthly ``account_period`` rows (``services.period_balances``) rather than by a scan of
  the ledger.

Money is integer rupiah; quantities integer thousandths of the category's unit.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from flask import current_app
from typing import Callable

from sqlalchemy import ARRAY, Integer, any_, bindparam, case, func, literal, select, union_all
from sqlalchemy.orm import aliased

from ..extensions import db
from ..models import (WITHDRAWAL_METHODS, Deposit, DepositLine, JournalEntry, Member, Sale,
                      Withdrawal)
from ..models.types import UTCDateTime
from ..services.transaction import prepared, run_core
from .period import captured_in


@dataclass(frozen=True)
class Scope:
    """Units ``unit_ids`` over the UTC instants [``start``, ``end``)."""

    unit_ids: tuple[int, ...]
    start: datetime
    end: datetime


#: ``column → SQL condition`` that the column is one of a set of units.
Within = Callable[[object], object]


def unit_set(unit_ids) -> Within:
    """A function ``column → SQL condition`` that ``column`` is one of ``unit_ids`` (none: no
    row). On PostgreSQL one array parameter, ``= ANY(:ids)``, shared by every use: the query text
    stays short and the same whatever the number of units, so psycopg's and the server's caches
    keep it (an IN list of 68 units made each union a new, long text to convert); elsewhere an IN list."""
    ids = list(unit_ids) or [-1]
    if db.engine.dialect.name == "postgresql":
        param = bindparam(None, ids, type_=ARRAY(Integer))
        return lambda column: column == any_(param)
    return lambda column: column.in_(ids)


def bound_id_set(dialect: str, name: str) -> Within:
    """:func:`unit_set` for any integer ids, with the ids as the bind parameter ``name`` (a
    non-empty list of ints, given at execution; ``[-1]`` for none): ``= ANY(:name)`` on
    PostgreSQL, an expanding ``IN`` elsewhere. For statements built once per process
    (``services.transaction.prepared``)."""
    if dialect == "postgresql":
        param = bindparam(name, type_=ARRAY(Integer))
        return lambda column: column == any_(param)
    param = bindparam(name, expanding=True)
    return lambda column: column.in_(param)


def _at(name: str):
    """A bind parameter ``name`` for an aware UTC instant."""
    return bindparam(name, type_=UTCDateTime())


def _ids(unit_ids) -> list[int]:
    """The value of a unit-set parameter: the ids, or ``[-1]`` (no unit) for none."""
    return list(unit_ids) or [-1]


def merged(scopes: list[Scope]) -> list[Scope]:
    """``scopes`` with each run of back-to-back scopes of the same units (one's ``end`` the next
    one's ``start``) joined into one: the same instants, so the same events, read as one index
    range instead of one per month (the impact statement's twelve months of a sponsorship)."""
    out: list[Scope] = []
    for scope in sorted(scopes, key=lambda s: (s.unit_ids, s.start)):
        last = out[-1] if out else None
        if last is not None and last.unit_ids == scope.unit_ids and last.end == scope.start:
            out[-1] = Scope(last.unit_ids, last.start, scope.end)
        else:
            out.append(scope)
    return out


def active_threshold() -> int:
    """Deposits in a month that make a member active (``ACTIVE_MEMBER_MIN_DEPOSITS``, docs/rules.md §active-members)."""
    return int(current_app.config.get("ACTIVE_MEMBER_MIN_DEPOSITS", 4))


# A query over scopes is written once, over *bounds*: for each scope, the unit condition and the
# two instants, either as values (the public subqueries below, for callers composing their own
# queries) or as bind parameters (statements built once per process, ``prepared``).
Bounds = list[tuple[Within, object, object]]


def _value_bounds(scopes: list[Scope]) -> Bounds:
    return [(unit_set(s.unit_ids), s.start, s.end) for s in scopes]


def _bound_bounds(dialect: str, n: int, prefix: str = "") -> Bounds:
    """``n`` scopes as bind parameters ``{prefix}u{j}``, ``{prefix}s{j}``, ``{prefix}e{j}``."""
    return [(bound_id_set(dialect, f"{prefix}u{j}"), _at(f"{prefix}s{j}"), _at(f"{prefix}e{j}")) for j in range(n)]


def _bound_params(scopes: list[Scope], prefix: str = "") -> dict:
    """The values of :func:`_bound_bounds` for ``scopes``."""
    params: dict = {}
    for j, s in enumerate(scopes):
        params[f"{prefix}u{j}"], params[f"{prefix}s{j}"], params[f"{prefix}e{j}"] = _ids(s.unit_ids), s.start, s.end
    return params


def deposit_events(scopes: list[Scope]):
    """Subquery of signed deposit events inside ``scopes``: columns ``deposit_id``, ``unit_id``,
    ``member_id``, ``total_idr``, ``fee_idr``, ``credited_idr``, ``at`` (the event's capture
    time) and ``sign`` (+1 the deposit, by its ``recorded_at``; −1 its void, by the reversing
    entry's ``recorded_at``).

    A void is always a reversing entry (``ledger.reverse_entry`` sets ``reverses_id``); saying so
    lets the planner see the few voids among the period's entries and reach their deposits by
    ``void_entry_id`` instead of walking every voided deposit."""
    return _deposit_events(_value_bounds(merged(scopes)))


def _deposit_events(bounds: Bounds):
    void_entry = aliased(JournalEntry)
    parts = []
    for within, start, end in bounds:
        cols = (Deposit.id.label("deposit_id"), Deposit.unit_id.label("unit_id"),
                Deposit.member_id.label("member_id"), Deposit.total_idr.label("total_idr"),
                Deposit.fee_idr.label("fee_idr"), Deposit.credited_idr.label("credited_idr"))
        parts.append(select(*cols, Deposit.recorded_at.label("at"), literal(1).label("sign")).where(
            within(Deposit.unit_id), captured_in(Deposit.recorded_at, start, end)))
        parts.append(select(*cols, void_entry.recorded_at.label("at"), literal(-1).label("sign"))
                     .join(void_entry, void_entry.id == Deposit.void_entry_id)
                     .where(within(void_entry.unit_id), void_entry.reverses_id.is_not(None), within(Deposit.unit_id),
                            captured_in(void_entry.recorded_at, start, end)))
    return union_all(*parts).subquery("ev")


def line_events(scopes: list[Scope], *, with_member: bool = False):
    """Subquery of signed deposit-line events inside ``scopes``: columns ``unit_id``,
    ``category_id``, ``quantity_milli``, ``amount_idr``, ``at``, ``sign`` and, with ``with_member``,
    ``member_id``. The same events as :func:`deposit_events`, line by line: +1 for each line of
    a deposit recorded in the scope (found by the line's own copy of ``recorded_at``, index
    ``ix_deposit_line_unit_recorded``), −1 for each line of a deposit whose void was recorded
    in it. The copy equals the deposit's by a trigger (migration 0018), so the lines are
    exactly those of the scope's deposit events."""
    return _line_events(_value_bounds(merged(scopes)), with_member=with_member)


def _line_events(bounds: Bounds, *, with_member: bool = False):
    void_entry = aliased(JournalEntry)
    parts = []
    for within, start, end in bounds:
        cols = [DepositLine.unit_id.label("unit_id"), DepositLine.category_id.label("category_id"),
                DepositLine.quantity_milli.label("quantity_milli"), DepositLine.amount_idr.label("amount_idr")]
        member = [Deposit.member_id.label("member_id")] if with_member else []
        lines = (select(*cols, *member, DepositLine.recorded_at.label("at"), literal(1).label("sign"))
                 .where(within(DepositLine.unit_id), captured_in(DepositLine.recorded_at, start, end)))
        if with_member:
            # The deposit side is bounded the same way, so the join stays inside the period.
            lines = (lines.join(Deposit, Deposit.id == DepositLine.deposit_id)
                     .where(within(Deposit.unit_id), captured_in(Deposit.recorded_at, start, end)))
        parts.append(lines)
        parts.append(select(*cols, *member, void_entry.recorded_at.label("at"), literal(-1).label("sign"))
                     .select_from(void_entry)
                     .join(Deposit, Deposit.void_entry_id == void_entry.id)
                     .join(DepositLine, DepositLine.deposit_id == Deposit.id)
                     .where(within(void_entry.unit_id), void_entry.reverses_id.is_not(None), within(Deposit.unit_id),
                            captured_in(void_entry.recorded_at, start, end)))
    return union_all(*parts).subquery("lev")


def withdrawal_events(scopes: list[Scope]):
    """Subquery of signed paid-withdrawal events: ``unit_id``, ``member_id``, ``method``,
    ``amount_idr``, ``sign`` (+1 by the payment entry's ``recorded_at``, −1 by its void's)."""
    return _withdrawal_events(_value_bounds(scopes))


def _withdrawal_events(bounds: Bounds):
    paid_entry = aliased(JournalEntry)
    void_entry = aliased(JournalEntry)
    parts = []
    for within, start, end in bounds:
        cols = (Withdrawal.unit_id.label("unit_id"), Withdrawal.member_id.label("member_id"),
                Withdrawal.method.label("method"), Withdrawal.amount_idr.label("amount_idr"))
        parts.append(select(*cols, literal(1).label("sign"))
                     .join(paid_entry, paid_entry.id == Withdrawal.entry_id)
                     .where(within(paid_entry.unit_id), within(Withdrawal.unit_id),
                            captured_in(paid_entry.recorded_at, start, end)))
        parts.append(select(*cols, literal(-1).label("sign"))
                     .join(void_entry, void_entry.id == Withdrawal.void_entry_id)
                     .where(within(void_entry.unit_id), void_entry.reverses_id.is_not(None),
                            within(Withdrawal.unit_id),
                            captured_in(void_entry.recorded_at, start, end)))
    return union_all(*parts).subquery("wev")
@dataclass
class CategoryFigure:
    """Net quantity (thousandths) and value (rupiah) of one category's deposit lines."""

    category_id: int
    quantity_milli: int = 0
    value_idr: int = 0


@dataclass
class UnitFigures:
    """One unit's (or the total's, ``unit_id`` None) figures for a period; see module docstring.

    Rupiah: ``deposit_value_idr`` (Σ line amounts) = ``fee_idr`` + ``credited_idr``;
    ``withdrawals_idr`` by method; ``savings_owed_idr`` and ``stock_idr`` at period end;
    ``sales_idr`` accepted sale value, ``margin_idr`` trading margin booked by those sales.
    """

    unit_id: int | None
    code: str = ""
    name: str = ""
    members: int = 0
    new_members: int = 0
    active_members: int = 0
    households: int = 0
    deposits: int = 0
    voided_deposits: int = 0
    deposit_value_idr: int = 0
    fee_idr: int = 0
    credited_idr: int = 0
    categories: dict[int, CategoryFigure] = field(default_factory=dict)
    withdrawals_idr: dict[str, int] = field(default_factory=lambda: {m: 0 for m in WITHDRAWAL_METHODS})
    withdrawals: int = 0
    savings_owed_idr: int = 0
    stock_idr: int = 0
    stock_milli: int = 0
    sales: int = 0
    sales_idr: int = 0
    margin_idr: int = 0

    @property
    def withdrawals_total_idr(self) -> int:
        return sum(self.withdrawals_idr.values())

    SUMMED = ("members", "new_members", "active_members", "households", "deposits", "voided_deposits",
              "deposit_value_idr", "fee_idr", "credited_idr", "withdrawals", "savings_owed_idr", "stock_idr",
              "stock_milli", "sales", "sales_idr", "margin_idr")

    def add(self, other: "UnitFigures") -> None:
        """Add ``other`` into this total. Every figure is additive across units: a member
        belongs to exactly one unit."""
        totals, figures = self.__dict__, other.__dict__   # plain dataclass fields: no descriptors
        for name in self.SUMMED:
            totals[name] += figures[name]
        for method, amount in other.withdrawals_idr.items():
            self.withdrawals_idr[method] = self.withdrawals_idr.get(method, 0) + amount
        for cat_id, fig in other.categories.items():
            mine = self.categories.get(cat_id)
            if mine is None:
                mine = self.categories[cat_id] = CategoryFigure(cat_id)
            mine.quantity_milli += fig.quantity_milli
            mine.value_idr += fig.value_idr


def _sum(column):
    return func.coalesce(func.sum(column), 0)


def member_activity(scope: Scope, min_deposits: int | None = None):
    """Subquery ``(unit_id, member_id, deposits)`` of members with ≥ ``min_deposits`` (default
    1) net deposit events in ``scope``."""
    ev = deposit_events([scope])
    return (select(ev.c.unit_id, ev.c.member_id, func.sum(ev.c.sign).label("deposits"))
            .group_by(ev.c.unit_id, ev.c.member_id)
            .having(func.sum(ev.c.sign) >= (min_deposits or 1))
            .subquery("activity"))


def _period_of(at, ends: list):
    """SQL expression: the index in the periods (sorted, disjoint; ``ends`` their end instants)
    of the period containing the event time ``at``; every event given to it lies in one of them."""
    if len(ends) == 1:
        return literal(0)
    return case(*[(at < end, i) for i, end in enumerate(ends)], else_=-1)


def _shape_params(scopes: list[Scope], min_deposits: int | None = None) -> tuple[int, int, dict]:
    """``(m, p, params)`` for the statements over ``scopes`` built once: ``m`` merged scopes
    (:func:`merged`; parameters ``u{j}``, ``s{j}``, ``e{j}``), ``p`` periods (``pu{i}``,
    ``ps{i}``, ``pe{i}``) and ``threshold``. Every statement takes what it uses of ``params``."""
    ranges = merged(scopes)
    params = _bound_params(ranges) | _bound_params(scopes, "p")
    params["threshold"] = min_deposits or 1
    return len(ranges), len(scopes), params


# Each statement below is built once per process and shape (prepared, keyed by the counts of
# merged scopes and periods) with bind parameters, and run as Core (run_core): SQLAlchemy's
# construction of the unions (aliased entities, subquery column collections) cost about three
# times the statement's own SQL (bench/README.md §statements at 1 and 5 years).

def _members_select(p: int):
    def build(dialect: str):
        parts = [select(literal(i).label("period"), Member.unit_id, func.count(),
                        _sum(case((Member.created_at >= start, 1), else_=0)))
                 .where(within(Member.unit_id), Member.created_at < end).group_by(Member.unit_id)
                 for i, (within, start, end) in enumerate(_bound_bounds(dialect, p, "p"))]
        return union_all(*parts)
    return build


def _deposits_select(m: int, p: int):
    def build(dialect: str):
        raw = _deposit_events(_bound_bounds(dialect, m))
        # The period is computed in a subquery, so GROUP BY names a column, not a second copy of the CASE.
        ev = select(raw, _period_of(raw.c.at, [_at(f"pe{i}") for i in range(p)]).label("period")).subquery("pev")
        period = ev.c.period
        pm = (select(period, ev.c.unit_id, ev.c.member_id, func.sum(ev.c.sign).label("n"),
                     _sum(case((ev.c.sign < 0, 1), else_=0)).label("voided"),
                     func.sum(ev.c.sign * ev.c.total_idr).label("value"),
                     func.sum(ev.c.sign * ev.c.fee_idr).label("fee"),
                     func.sum(ev.c.sign * ev.c.credited_idr).label("credited"))
              .group_by(period, ev.c.unit_id, ev.c.member_id).subquery("per_member"))
        threshold = bindparam("threshold", type_=Integer)
        return (select(pm.c.period, pm.c.unit_id, _sum(pm.c.n), _sum(pm.c.voided), _sum(pm.c.value),
                       _sum(pm.c.fee), _sum(pm.c.credited), _sum(case((pm.c.n >= threshold, 1), else_=0)),
                       _sum(case((pm.c.n >= 1, 1), else_=0)))
                .group_by(pm.c.period, pm.c.unit_id))
    return build


def _categories_select(m: int, p: int):
    def build(dialect: str):
        raw = _line_events(_bound_bounds(dialect, m))
        lev = select(raw, _period_of(raw.c.at, [_at(f"pe{i}") for i in range(p)]).label("period")).subquery("plev")
        period = lev.c.period
        return (select(period, lev.c.unit_id, lev.c.category_id, _sum(lev.c.sign * lev.c.quantity_milli),
                       _sum(lev.c.sign * lev.c.amount_idr))
                .group_by(period, lev.c.unit_id, lev.c.category_id))
    return build


def _withdrawals_select(dialect: str):
    wev = _withdrawal_events(_bound_bounds(dialect, 1))
    return (select(wev.c.unit_id, wev.c.method, _sum(wev.c.sign), _sum(wev.c.sign * wev.c.amount_idr))
            .group_by(wev.c.unit_id, wev.c.method))


def _sales_select(dialect: str):
    ((within, start, end),) = _bound_bounds(dialect, 1)
    return (select(Sale.unit_id, func.count(), _sum(Sale.total_idr), _sum(Sale.margin_idr))
            .where(within(Sale.unit_id), captured_in(Sale.posted_at, start, end))
            .group_by(Sale.unit_id))


def _units_select(dialect: str):
    from ..models import Unit

    return select(Unit.id, Unit.code, Unit.name).where(bound_id_set(dialect, "units")(Unit.id))


def _add_members(outs: list[dict[int, UnitFigures]], p: int, params: dict) -> None:
    """Members registered by each period's end, and within the period."""
    for period, unit_id, total, new in run_core(prepared(f"figures.members:{p}", _members_select(p)), params).all():
        fig = outs[period][unit_id]
        fig.members, fig.new_members = int(total), int(new)


def _add_deposits(outs: list[dict[int, UnitFigures]], m: int, p: int, params: dict) -> None:
    """Deposits, net of voids (count, voided, value, fees, credited), active members (≥
    ``params["threshold"]`` net deposits) and households served (≥ 1): one pass over the periods'
    deposit events, summed per period and member and then per period and unit, so the events
    are read once."""
    for i, unit_id, count, voided, value, fee, credited, active, households in run_core(
            prepared(f"figures.deposits:{m}:{p}", _deposits_select(m, p)), params).all():
        fig = outs[i][unit_id]
        fig.deposits, fig.voided_deposits = int(count), int(voided)
        fig.deposit_value_idr, fig.fee_idr, fig.credited_idr = int(value), int(fee), int(credited)
        fig.active_members, fig.households = int(active), int(households)


def _add_categories(outs: list[dict[int, UnitFigures]], m: int, p: int, params: dict) -> None:
    """Quantity and value by period, unit and category, net of voids (:func:`line_events`)."""
    for i, unit_id, cat_id, qty, value in run_core(
            prepared(f"figures.categories:{m}:{p}", _categories_select(m, p)), params).all():
        if qty or value:
            outs[i][unit_id].categories[cat_id] = CategoryFigure(cat_id, int(qty), int(value))


def _add_withdrawals(out: dict[int, UnitFigures], params: dict) -> None:
    """Withdrawals paid, by method, net of voids (one scope: ``u0``, ``s0``, ``e0``)."""
    for unit_id, method, count, amount in run_core(prepared("figures.withdrawals", _withdrawals_select), params).all():
        fig = out[unit_id]
        fig.withdrawals_idr[method] = int(amount)
        fig.withdrawals += int(count)


def _add_balances(out: dict[int, UnitFigures], scope: Scope) -> None:
    """Savings owed and stock at cost at the end: postings recorded before the end, read from the
    period balances (``services.period_balances.balances_at``: the cached totals less the later
    months' movements), so the cost does not grow with the length of the history."""
    from ..services.period_balances import balances_at

    for (unit_id, kind), (amount, qty) in balances_at(list(scope.unit_ids), ("member_savings", "stock"),
                                                      scope.end).items():
        if kind == "member_savings":
            out[unit_id].savings_owed_idr = -amount
        else:
            out[unit_id].stock_idr, out[unit_id].stock_milli = amount, qty


def _add_sales(out: dict[int, UnitFigures], params: dict) -> None:
    """Sales to off-takers: a sale has no offline capture, its entry is recorded when posted."""
    for unit_id, count, total, margin in run_core(prepared("figures.sales", _sales_select), params).all():
        out[unit_id].sales, out[unit_id].sales_idr, out[unit_id].margin_idr = int(count), int(total), int(margin)


def period_figures(unit_ids: list[int], start: datetime, end: datetime,
                   min_deposits: int | None = None, *, money_out: bool = True,
                   units: list[tuple[int, str, str]] | None = None) -> dict[int, UnitFigures]:
    """Figures of each unit in ``unit_ids`` for [``start``, ``end``) (UTC instants), keyed by unit id;
    units without any activity still get a row of zeros. Seven queries in all (the deposit
    events are read once); ``money_out`` False skips withdrawals, balances at the end and sales
    (left at 0), which the impact statement does not show. ``units``: ``(id, code, name)`` of
    the units, when the caller holds them already (not read again)."""
    scope = Scope(tuple(unit_ids), start, end)
    out = periods_figures([scope], min_deposits, units=units)[0]
    if money_out:
        params = _bound_params([scope])
        _add_withdrawals(out, params)
        _add_balances(out, scope)
        _add_sales(out, params)
    return out


def periods_figures(scopes: list[Scope], min_deposits: int | None = None, *,
                    units: list[tuple[int, str, str]] | None = None) -> list[dict[int, UnitFigures]]:
    """The figures without money out (``period_figures(..., money_out=False)``) of each of
    ``scopes`` — disjoint periods, each with its own units, in time order — in four queries for
    all of them (three given ``units``, ``(id, code, name)`` of every unit of the scopes): each
    event is put in its period by its time. Raises ValueError for periods out of order or
    overlapping."""
    if any(a.end > b.start for a, b in zip(scopes, scopes[1:], strict=False)):
        raise ValueError("periods must be disjoint and in time order")
    if not scopes:
        return []
    db.session.flush()  # the statements below run as Core, without the session's autoflush
    m, p, params = _shape_params(scopes, min_deposits or active_threshold())
    if units is None:
        params["units"] = sorted({u for scope in scopes for u in scope.unit_ids}) or [-1]
        units = run_core(prepared("figures.units", _units_select), params).all()
    outs = []
    for scope in scopes:
        wanted = set(scope.unit_ids)
        outs.append({u_id: UnitFigures(u_id, code, name) for u_id, code, name in units if u_id in wanted})
    _add_members(outs, p, params)
    _add_deposits(outs, m, p, params)
    _add_categories(outs, m, p, params)
    return outs


def _households_select(m: int):
    def build(dialect: str):
        ev = _deposit_events(_bound_bounds(dialect, m))
        per_member = (select(ev.c.member_id).group_by(ev.c.member_id).having(func.sum(ev.c.sign) >= 1)
                      .subquery())
        return select(func.count()).select_from(per_member)
    return build


def households_served(scopes: list[Scope]) -> int:
    """Distinct members with at least one net deposit over ``scopes`` (disjoint units)."""
    ranges = merged(scopes)
    if not ranges:
        return 0
    stmt = prepared(f"figures.households:{len(ranges)}", _households_select(len(ranges)))
    return int(run_core(stmt, _bound_params(ranges)).scalar() or 0)


def _category_households_select(m: int):
    def build(dialect: str):
        lev = _line_events(_bound_bounds(dialect, m), with_member=True)
        per = (select(lev.c.category_id, lev.c.member_id)
               .group_by(lev.c.category_id, lev.c.member_id)
               .having(func.sum(lev.c.sign * lev.c.quantity_milli) > 0).subquery())
        return select(per.c.category_id, func.count()).group_by(per.c.category_id)
    return build


def category_households(scopes: list[Scope]) -> dict[int, int]:
    """category id → distinct members with net deposits of that category over ``scopes``."""
    ranges = merged(scopes)
    if not ranges:
        return {}
    stmt = prepared(f"figures.category_households:{len(ranges)}", _category_households_select(len(ranges)))
    return {int(c): int(n) for c, n in run_core(stmt, _bound_params(ranges)).all()}
