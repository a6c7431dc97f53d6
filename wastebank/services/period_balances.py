"""Balances at a period's end from ``account_period`` (issue 13 item 4; docs/rules.md §periods).

``account_period`` holds each account's net movement per **UTC** month of the entry's capture
time ``recorded_at`` (written by the trigger of migration 0016). A balance at the end of a
local month, the instant ``end``, is then

    Σ postings recorded before ``end``
      = cached total − Σ movement of UTC months after the one containing ``end``
                     − Σ postings recorded in [``end``, start of the next UTC month)

or, when ``end`` lies in the first half of its UTC month (zones west of UTC),

      = cached total − Σ movement of UTC months from the one containing ``end``
                     + Σ postings recorded in [start of that UTC month, ``end``).

The cached total is the account's ``balance`` (on its normal side, I3) and ``quantity_milli``.
So the cost is the accounts of the units, the months after the asked one, and at most half a
month of postings (7 hours in WIB) — flat in the length of the history for recent months, and
exact for any month. Everything is read in one statement, so it sees one snapshot.
"""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import String, bindparam, case, func, literal, select, union_all
from sqlalchemy.orm import aliased

from ..extensions import db
from ..models import Account, AccountPeriod, JournalEntry, Posting


def utc_month(moment: datetime) -> tuple[str, datetime, datetime]:
    """``('YYYY-MM', start, next_start)`` of the UTC month containing ``moment`` (aware)."""
    moment = moment.astimezone(timezone.utc)
    start = moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    if start.month == 12:
        following = start.replace(year=start.year + 1, month=1)
    else:
        following = start.replace(month=start.month + 1)
    return f"{start.year:04d}-{start.month:02d}", start, following


def month_key(recorded_at):
    """SQL expression: the UTC ``'YYYY-MM'`` of a ``recorded_at`` column, as the trigger computes it."""
    if db.engine.dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", recorded_at), "YYYY-MM", type_=String)
    return func.substr(recorded_at, 1, 7, type_=String)


def balances_at(unit_ids: list[int], kinds: tuple[str, ...], end: datetime) -> dict[tuple[int, str], tuple[int, int]]:
    """``(unit id, account kind) → (Σ amount, Σ quantity_milli)`` of the postings recorded before
    ``end`` on the accounts of ``kinds`` in ``unit_ids`` — signed as postings (debit +, credit
    −), rupiah and thousandths. Pairs without accounts are absent. One query, built once per
    process for each direction and set of kinds (``prepared``; the units, month and instants
    are bind parameters)."""
    from .transaction import prepared, run_core

    key, start, following = utc_month(end)
    forward = (following - end) <= (end - start)
    window = (end, following) if forward else (start, end)
    stmt = prepared(f"period_balances.at:{'forward' if forward else 'back'}:{','.join(kinds)}",
                    _balances_select(tuple(kinds), forward))
    params = dict(units=list(unit_ids) or [-1], period=key, since=window[0], until=window[1])
    return {(int(unit_id), kind): (int(amount), int(qty))
            for unit_id, kind, amount, qty in run_core(stmt, params).all()}


def _balances_select(kinds: tuple[str, ...], forward: bool):
    """The statement of :func:`balances_at` for ``kinds`` and the direction: bind parameters
    ``units`` (list of ids), ``period`` ('YYYY-MM' of ``end``'s UTC month), ``since`` and
    ``until`` (the window of postings to add or take off)."""
    def build(dialect: str):
        from ..models.types import UTCDateTime
        from ..reports.figures import bound_id_set

        within = bound_id_set(dialect, "units")
        since, until = bindparam("since", type_=UTCDateTime()), bindparam("until", type_=UTCDateTime())
        period = bindparam("period", type_=String)
        acc = aliased(Account)
        cached = (select(Account.unit_id.label("unit_id"), Account.kind.label("kind"),
                         case((Account.normal_side == "D", Account.balance), else_=-Account.balance).label("amount"),
                         Account.quantity_milli.label("qty"))
                  .where(within(Account.unit_id), Account.kind.in_(kinds)))
        later = (select(AccountPeriod.unit_id, acc.kind, -AccountPeriod.amount, -AccountPeriod.quantity_milli)
                 .join(acc, acc.id == AccountPeriod.account_id)
                 .where(within(AccountPeriod.unit_id), acc.kind.in_(kinds),
                        AccountPeriod.period > period if forward else AccountPeriod.period >= period))
        sign = -1 if forward else 1
        edge = (select(Posting.unit_id, acc.kind, literal(sign) * Posting.amount,
                       literal(sign) * func.coalesce(Posting.quantity_milli, 0))
                .join(JournalEntry, JournalEntry.id == Posting.entry_id)
                .join(acc, acc.id == Posting.account_id)
                .where(within(JournalEntry.unit_id), JournalEntry.recorded_at >= since,
                       JournalEntry.recorded_at < until, acc.kind.in_(kinds)))
        rows = union_all(cached, later, edge).subquery("bal")
        return (select(rows.c.unit_id, rows.c.kind, func.coalesce(func.sum(rows.c.amount), 0),
                       func.coalesce(func.sum(rows.c.qty), 0)).group_by(rows.c.unit_id, rows.c.kind))
    return build


def period_faults(unit_id: int | None = None) -> list[str]:
    """``ledger verify``: every ``account_period`` row equals the sums of its account's postings
    in that UTC month, and every (account, month) with postings has its row. ``unit_id`` limits
    the check to one unit. Read-only."""
    month = month_key(JournalEntry.recorded_at)
    sums = (select(Posting.account_id, month, func.sum(Posting.amount),
                   func.coalesce(func.sum(Posting.quantity_milli), 0))
            .join(JournalEntry, JournalEntry.id == Posting.entry_id)
            .group_by(Posting.account_id, month))
    stored = select(AccountPeriod.account_id, AccountPeriod.period, AccountPeriod.amount, AccountPeriod.quantity_milli)
    if unit_id is not None:
        sums = sums.where(Posting.unit_id == unit_id)
        stored = stored.where(AccountPeriod.unit_id == unit_id)
    expected = {(a, p): (int(x), int(q)) for a, p, x, q in db.session.execute(sums)}
    faults = []
    for account_id, period, amount, qty in db.session.execute(stored):
        want = expected.pop((account_id, period), (0, 0))
        if (int(amount), int(qty)) != want:
            faults.append(f"account {account_id}, month {period}: period row says {amount} / {qty} "
                          f"but postings give {want[0]} / {want[1]}")
    for (account_id, period), (amount, qty) in sorted(expected.items()):
        faults.append(f"account {account_id}, month {period}: no period row for postings {amount} / {qty}")
    return faults
